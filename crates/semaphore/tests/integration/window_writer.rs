//! The window writer's resume in process against the embedded broker (issue 10): a window journaled as in
//! flight (Kafka's end offsets taken before its first record was sent) and partly written to Kafka is resumed
//! by the next start's writer over the same watermark file: only the samples Kafka does not hold are sent,
//! each sample ends up in the topic once, the skipped ones are counted, and the watermark moves past the
//! window. A window an output cannot take, or whose write fails, stays in flight and the watermark does not
//! move.
//!
//! Time is real, not paused, as in `outputs.rs`: the writer waits on librdkafka's threads and the broker.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use semaphore::outputs::lines::{LinesOutput, LinesTarget};
use semaphore::outputs::{Output, OutputFailure, Outputs};
use semaphore::record::{EncodedRecord, KeyStrategy, UplinkRecord};
use semaphore::send_future::boxed;
use semaphore::sources::window::Window;
use semaphore::sources::window_writer::{WindowError, WindowWriter};
use semaphore::sources::windowed::RecordChunks;
use semaphore::telemetry::metrics::{RECORDS_DUPLICATE_SKIPPED, RECORDS_FAILED, RECORDS_PRODUCED};
use semaphore::watermark::{InFlight, Progress, WatermarkStore};

use crate::outputs::TempDirectory;
use crate::sink_runner::{Broker, bounded, eventually, uplink_record};

/// The source whose watermarks the tests keep, and the `source` label of its metrics.
const SOURCE: &str = "meraki_uplinks";
const ORGANIZATION: &str = "1";

/// Issue 10: a window journaled with Kafka's end offsets and partly written when the process died is resumed
/// by the next start's writer: only the samples Kafka does not hold are sent, each sample is in the topic
/// once, the skipped ones are counted, and the watermark moves past the window. Another organization's
/// sample with the same key, written to the topic meanwhile, is not taken for one of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_partly_written_before_a_crash_is_resumed_with_only_what_kafka_lacks() {
    bounded(async {
        let broker = Broker::start().await;
        let topic = "window-resume";
        let data = TempDirectory::new("window-resume");
        let earlier = window("10:00", "10:05");
        let interrupted = window("10:05", "10:10");

        // The run that died: an earlier window written whole, then the next one journaled and partly written.
        let before_crash = writer(&broker, topic, data.path(), vec![kafka(&broker)]);
        write_whole(&before_crash, earlier).await;
        let kafka_offsets = broker
            .output
            .end_offsets(topic)
            .await
            .expect("Kafka's end offsets");
        assert_eq!(kafka_offsets.values().sum::<i64>(), 4, "{kafka_offsets:?}");
        before_crash
            .store
            .begin(
                ORGANIZATION,
                InFlight {
                    t0: interrupted.t0,
                    t1: interrupted.t1,
                    kafka_offsets,
                },
            )
            .expect("the window is journaled");
        // Kafka acknowledged every other sample before the process died (a batch's sends are concurrent), and
        // another organization's writer sharing the topic wrote a sample keyed as one of those not sent.
        let window_samples = samples(ORGANIZATION, interrupted, 0..10);
        let mut written: Vec<EncodedRecord> = window_samples.iter().step_by(2).map(encode).collect();
        written.push(encode(&sample("2", interrupted, 1)));
        before_crash
            .outputs
            .publish(topic, &written)
            .await
            .expect("Kafka takes the records");
        drop(before_crash);

        // The next start: a new writer over the same watermark file finds the window in flight.
        let after_restart = writer(&broker, topic, data.path(), vec![kafka(&broker)]);
        assert_eq!(after_restart.in_flight(ORGANIZATION), Some(interrupted));
        assert_eq!(after_restart.watermark(ORGANIZATION), Some(earlier.t1));
        // Meraki answers the whole window again, in chunks, with a sample of the next window (left out).
        let mut answer = window_samples.clone();
        answer.push(sample(ORGANIZATION, window("10:10", "10:15"), 10));
        let sent = after_restart
            .write(ORGANIZATION, interrupted, chunks(answer, 4))
            .await
            .expect("the resumed window is written");
        assert_eq!(sent, 5, "only the samples Kafka did not hold are sent");
        assert_eq!(broker.telemetry.get(&RECORDS_DUPLICATE_SKIPPED, &[SOURCE]), 5.0);
        assert_eq!(after_restart.in_flight(ORGANIZATION), None);
        assert_eq!(
            persisted(data.path()),
            Progress {
                watermark: Some(interrupted.t1),
                in_flight: None,
            }
        );

        let mut expected = keys(&samples(ORGANIZATION, earlier, 0..4));
        expected.extend(keys(&window_samples));
        expected.sort();
        assert_eq!(
            samples_in_kafka(&broker, topic).await,
            expected,
            "each sample once"
        );
        assert_eq!(broker.records(topic).await, 4 + 10 + 1);
    })
    .await;
}

/// Issue 10: while an output cannot take a window's records, the window stays in flight from the offsets
/// Kafka had before its first record and the watermark stays before it; stopped there, the next start
/// resumes it and sends Kafka only what it lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_an_output_cannot_take_stays_in_flight_until_resumed() {
    bounded(async {
        let broker = Broker::start().await;
        let topic = "window-blocked";
        let data = TempDirectory::new("window-blocked");
        let earlier = window("10:00", "10:05");
        let blocked = window("10:05", "10:10");
        write_whole(
            &writer(&broker, topic, data.path(), vec![kafka(&broker)]),
            earlier,
        )
        .await;
        let offsets_before = broker
            .output
            .end_offsets(topic)
            .await
            .expect("Kafka's end offsets");

        // A file output whose directory cannot be made: a file stands where it should be.
        let blocker = data.path().join("blocked");
        std::fs::write(&blocker, b"not a directory").expect("the blocking file is written");
        let path = blocker.join("records.jsonl");
        let file = || Arc::new(LinesOutput::new(LinesTarget::File(path.clone()))) as Arc<dyn Output>;
        let first_run = writer(&broker, topic, data.path(), vec![kafka(&broker), file()]);
        let window_samples = samples(ORGANIZATION, blocked, 0..10);
        let records = chunks(window_samples.clone(), 5);
        // Boxed: see `semaphore::send_future`.
        let writing =
            tokio::spawn(async move { boxed(first_run.write(ORGANIZATION, blocked, records)).await });
        eventually("the file output refused the first chunk", || {
            broker.metric(&RECORDS_FAILED, "lines") >= 5.0
        })
        .await;
        eventually("Kafka took the first chunk", || {
            broker.metric(&RECORDS_PRODUCED, "kafka") == 4.0 + 5.0
        })
        .await;
        assert!(
            !writing.is_finished(),
            "the window was done while the file had none of it"
        );
        assert_eq!(
            persisted(data.path()),
            Progress {
                watermark: Some(earlier.t1),
                in_flight: Some(InFlight {
                    t0: blocked.t0,
                    t1: blocked.t1,
                    kafka_offsets: offsets_before,
                }),
            },
            "in flight from Kafka's offsets before its first record, the watermark before it"
        );

        // Stopped while retrying (the pipeline aborts a source still writing at the end of the grace period).
        writing.abort();
        let stopped = writing.await.expect_err("the write was aborted");
        assert!(stopped.is_cancelled(), "{stopped}");
        std::fs::remove_file(&blocker).expect("the blocking file is removed");

        let next_run = writer(&broker, topic, data.path(), vec![kafka(&broker), file()]);
        assert_eq!(next_run.in_flight(ORGANIZATION), Some(blocked));
        let sent = next_run
            .write(ORGANIZATION, blocked, chunks(window_samples.clone(), 5))
            .await
            .expect("the resumed window is written");
        assert_eq!(sent, 5, "Kafka held the first chunk already");
        assert_eq!(broker.telemetry.get(&RECORDS_DUPLICATE_SKIPPED, &[SOURCE]), 5.0);
        assert_eq!(
            persisted(data.path()),
            Progress {
                watermark: Some(blocked.t1),
                in_flight: None,
            }
        );
        let mut expected = keys(&samples(ORGANIZATION, earlier, 0..4));
        expected.extend(keys(&window_samples));
        expected.sort();
        assert_eq!(
            samples_in_kafka(&broker, topic).await,
            expected,
            "each sample once"
        );

        // The file cannot be read back: it receives the whole window, including the first chunk Kafka took
        // while the file refused it (at least once for it, never missing).
        let lines = std::fs::read_to_string(&path).expect("the file output's file");
        assert_eq!(lines.lines().count(), 10, "the whole window:\n{lines}");
    })
    .await;
}

/// Issue 10: a window whose write fails (here standard output closed by its reader, which `publish` does not
/// retry) stays in flight from Kafka's offsets before its first record, and the watermark does not move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_whose_write_fails_stays_in_flight_and_the_watermark_does_not_move() {
    bounded(async {
        let broker = Broker::start().await;
        let topic = "window-failed";
        let data = TempDirectory::new("window-failed");
        let earlier = window("10:00", "10:05");
        let failed = window("10:05", "10:10");
        write_whole(
            &writer(&broker, topic, data.path(), vec![kafka(&broker)]),
            earlier,
        )
        .await;
        let offsets_before = broker
            .output
            .end_offsets(topic)
            .await
            .expect("Kafka's end offsets");

        let failing = writer(
            &broker,
            topic,
            data.path(),
            vec![kafka(&broker), Arc::new(ClosedStdout) as Arc<dyn Output>],
        );
        let error = failing
            .write(
                ORGANIZATION,
                failed,
                chunks(samples(ORGANIZATION, failed, 0..6), 3),
            )
            .await
            .expect_err("the write fails");
        assert!(matches!(error, WindowError::StdoutClosed(_)), "{error:?}");
        assert_eq!(failing.in_flight(ORGANIZATION), Some(failed));
        assert_eq!(failing.watermark(ORGANIZATION), Some(earlier.t1));
        assert_eq!(
            persisted(data.path()),
            Progress {
                watermark: Some(earlier.t1),
                in_flight: Some(InFlight {
                    t0: failed.t0,
                    t1: failed.t1,
                    kafka_offsets: offsets_before,
                }),
            }
        );
        // Outputs are written concurrently: Kafka took the first chunk, and nothing after it was sent.
        assert_eq!(broker.records(topic).await, 4 + 3);
        assert_eq!(broker.telemetry.get(&RECORDS_DUPLICATE_SKIPPED, &[SOURCE]), 0.0);
    })
    .await;
}

/// Standard output whose reader went away: every write fails, and `publish` does not retry it.
#[derive(Debug)]
struct ClosedStdout;

impl Output for ClosedStdout {
    fn name(&self) -> String {
        "stdout".to_owned()
    }

    fn label(&self) -> &'static str {
        "stdout"
    }

    fn write<'a>(
        &'a self,
        _topic: &'a str,
        _records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        Box::pin(async { Err(OutputFailure::StdoutClosed) })
    }
}

/// A window writer of [`SOURCE`] onto `topic`, its watermarks under `data` (a new store each time, as at a
/// start), writing to `outputs`.
fn writer(broker: &Broker, topic: &str, data: &Path, outputs: Vec<Arc<dyn Output>>) -> WindowWriter {
    WindowWriter {
        source: SOURCE.to_owned(),
        topic: topic.to_owned(),
        key: KeyStrategy::Serial,
        store: WatermarkStore::open(data, SOURCE).expect("the watermark store opens"),
        outputs: Arc::new(Outputs::new(outputs, broker.telemetry.clone())),
        telemetry: broker.telemetry.clone(),
    }
}

fn kafka(broker: &Broker) -> Arc<dyn Output> {
    broker.output.clone() as Arc<dyn Output>
}

/// Writes samples 0 to 3 of `window` in one chunk, the watermark moving past it.
async fn write_whole(writer: &WindowWriter, window: Window) {
    let sent = writer
        .write(
            ORGANIZATION,
            window,
            chunks(samples(ORGANIZATION, window, 0..4), 4),
        )
        .await
        .expect("the window is written");
    assert_eq!(sent, 4);
    assert_eq!(writer.watermark(ORGANIZATION), Some(window.t1));
}

/// The organization's progress as persisted in the watermark file.
fn persisted(data: &Path) -> Progress {
    WatermarkStore::open(data, SOURCE)
        .expect("the watermark store opens")
        .progress(ORGANIZATION)
}

/// The window from `t0` to `t1` on the test's day (`HH:MM`).
fn window(t0: &str, t1: &str) -> Window {
    Window {
        t0: at(t0),
        t1: at(t1),
    }
}

fn at(minute: &str) -> DateTime<Utc> {
    format!("2026-11-27T{minute}:00Z")
        .parse()
        .expect("an RFC 3339 time")
}

/// Samples `indexes` of `window`, each of its own appliance.
fn samples(organization_id: &str, window: Window, indexes: Range<i64>) -> Vec<UplinkRecord> {
    indexes
        .map(|index| sample(organization_id, window, index))
        .collect()
}

/// Appliance `index`'s sample at minute `index % 5` of `window` (5 minutes long).
fn sample(organization_id: &str, window: Window, index: i64) -> UplinkRecord {
    uplink_record(organization_id, index, window.t0 + TimeDelta::minutes(index % 5))
}

fn encode(record: &UplinkRecord) -> EncodedRecord {
    EncodedRecord::uplink(record, &KeyStrategy::Serial, SOURCE)
}

/// Meraki's answer for a window, `size` records at a time.
fn chunks(records: Vec<UplinkRecord>, size: usize) -> RecordChunks<'static> {
    let chunks: Vec<_> = records.chunks(size).map(|chunk| Ok(chunk.to_vec())).collect();
    futures::stream::iter(chunks).boxed()
}

/// Each sample as (serial, time).
fn keys(records: &[UplinkRecord]) -> Vec<(String, DateTime<Utc>)> {
    records
        .iter()
        .map(|record| (record.serial.clone(), record.ts))
        .collect()
}

/// [`ORGANIZATION`]'s samples in `topic` as (serial, time), sorted; a sample written twice is there twice.
async fn samples_in_kafka(broker: &Broker, topic: &str) -> Vec<(String, DateTime<Utc>)> {
    let count = broker.records(topic).await;
    let records: Vec<UplinkRecord> = broker
        .read(topic, usize::try_from(count).expect("a record count"))
        .await
        .iter()
        .map(|message| serde_json::from_slice(&message.payload).expect("an uplink record"))
        .collect();
    let mut keys: Vec<(String, DateTime<Utc>)> = records
        .into_iter()
        .filter(|record| record.organization_id == ORGANIZATION)
        .map(|record| (record.serial, record.ts))
        .collect();
    keys.sort();
    keys
}
