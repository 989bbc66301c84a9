//! The catch-up loop of the windowed sources (`meraki_uplinks`, `meraki_device_history`): each cycle, every
//! organization reads window after window from its watermark up to what Meraki serves when the cycle starts,
//! each window written exactly once by the [`WindowWriter`].
//!
//! The sources differ only in what a window is made of and how it is read ([`WindowReader`]); everything else
//! happens here, the same for both: the stretch beyond Meraki's 60-day retention skipped with an ERROR and
//! counted, a window left in flight by a stop resumed first, a failed read left to the next interval (and
//! Meraki marked unreachable when it was not reached at all), the watermark lag, and back-fill windows counted
//! with their progress logged.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::stream::BoxStream;
use semaphore_meraki::MerakiError;
use tokio::time::Instant;

use crate::error_text::one_line;
use crate::record::UplinkRecord;
use crate::send_future::SendFuture;
use crate::shutdown::Stop;
use crate::sources::organizations;
use crate::sources::window::{self, Rules, Window};
use crate::sources::window_writer::{WindowError, WindowWriter};
use crate::telemetry::metrics::{BACKFILL_WINDOWS, LOST_SECONDS, POLL_ERRORS, WATERMARK_LAG_SECONDS};
use crate::watermark::WatermarkError;

/// How often back-fill progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// What a windowed source reads, for one organization.
pub trait WindowReader: Sync {
    /// What a read polls, as the warning names it when the read fails: "Polling {WHAT} failed; ...".
    const WHAT: &'static str;

    /// The shape of the windows: longest span, youngest end, step.
    fn rules(&self) -> Rules;

    /// How far back the first cycle reads when the organization has no watermark yet.
    fn initial_lookback(&self) -> TimeDelta;

    /// The organization's records of `window` (the writer drops any outside it), a chunk at a time, so a large
    /// organization's window is never held whole. Boxed: see `send_future`.
    fn fetch<'a>(
        &'a self,
        organization_id: &'a str,
        window: Window,
    ) -> SendFuture<'a, Result<RecordChunks<'a>, MerakiError>>;
}

/// A window's records, a chunk at a time as they are read; an error (an answer cut short) ends them and leaves
/// the window to the next interval.
pub type RecordChunks<'a> = BoxStream<'a, Result<Vec<UplinkRecord>, MerakiError>>;

/// Why an organization's catch-up stopped short: already logged, retried next interval, and failing `--once`.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    /// Meraki did not serve the window (unreachable, failing, or refusing).
    #[error("organization {organization_id}: cannot read the window")]
    Read {
        organization_id: String,
        #[source]
        source: MerakiError,
    },
    /// The window was read but not written: Kafka's offsets or its read-back, or the watermark file. Boxed:
    /// Kafka's error is large, and this error is returned on every organization's path.
    #[error("organization {organization_id}: cannot write the window")]
    Write {
        organization_id: String,
        #[source]
        source: Box<WindowError>,
    },
    /// The watermark cannot move past the samples beyond Meraki's retention.
    #[error("organization {organization_id}: cannot skip the samples beyond Meraki's retention")]
    SkipLost {
        organization_id: String,
        #[source]
        source: WatermarkError,
    },
}

/// Reads and writes `organization_id`'s windows until it is caught up with what Meraki serves at `now` (the
/// cycle's start: minutes that become available meanwhile are the next cycle's, so a cycle always ends), or
/// until stopped. `Err` says why it stopped short: already logged, retried next interval, and failing
/// `--once`.
pub async fn catch_up<R: WindowReader>(
    reader: &R,
    writer: &WindowWriter,
    organization_id: &str,
    now: DateTime<Utc>,
    stop: &Stop,
) -> Result<(), CatchUpError> {
    let source = writer.source.as_str();
    let telemetry = &writer.telemetry;
    let labels = [source, organization_id];
    let mut backfilled = 0u64;
    let mut last_progress = Instant::now();
    // Answers that broke off in a row, for the window being read.
    let mut broken = 0;
    while !stop.is_stopped() {
        let (window, behind) = match writer.in_flight(organization_id) {
            // First, whatever the plan says: its first attempt may be partly written already.
            Some(window) => (window, TimeDelta::zero()),
            None => {
                let plan = window::plan_with(
                    reader.rules(),
                    writer.watermark(organization_id),
                    now,
                    reader.initial_lookback(),
                );
                if let Some(lost) = plan.lost {
                    skip_lost(writer, organization_id, lost)?;
                }
                match plan.window {
                    Some(window) => (window, plan.behind),
                    None => break,
                }
            }
        };
        match read_and_write(reader, writer, organization_id, window, &mut broken).await? {
            Written::Window => broken = 0,
            Written::Again => continue,
            Written::StdoutClosed => return Ok(()),
        }
        telemetry.set(
            &WATERMARK_LAG_SECONDS,
            &labels,
            (Utc::now() - window.t1).num_milliseconds() as f64 / 1000.0,
        );
        if behind > TimeDelta::zero() {
            backfilled += 1;
            telemetry.add(&BACKFILL_WINDOWS, &labels, 1.0);
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                tracing::info!(organization = %organization_id, windows = backfilled,
                    reached = %window.t1, behind_minutes = behind.num_minutes(),
                    "Back-filling a gap.");
            }
        } else if backfilled > 0 {
            tracing::info!(organization = %organization_id, windows = backfilled, "Gap back-filled; caught up.");
            backfilled = 0;
        }
    }
    Ok(())
}

/// Answers that break off while being read, read again at once before the window is left to the next
/// interval: the client retries a request that fails before its body, not a body that breaks off.
const BROKEN_ANSWER_RETRIES: u32 = 2;

/// How one window's read and write ended, when not with an error to report.
enum Written {
    Window,
    /// Meraki's answer broke off: read the window again (resumed, if part of it was sent).
    Again,
    /// Standard output's reader went away: not a failure to report (see `Outputs::stdout_closed`).
    StdoutClosed,
}

/// Reads `window` and writes it; `Err` says why the organization stops short (already logged).
async fn read_and_write<R: WindowReader>(
    reader: &R,
    writer: &WindowWriter,
    organization_id: &str,
    window: Window,
    broken: &mut u32,
) -> Result<Written, CatchUpError> {
    let source = writer.source.as_str();
    let records = match reader.fetch(organization_id, window).await {
        Ok(records) => records,
        Err(error) => return Err(read_failed::<R>(writer, organization_id, error)),
    };
    writer.telemetry.meraki_reached(source);
    match writer.write(organization_id, window, records).await {
        Ok(_) => Ok(Written::Window),
        Err(WindowError::StdoutClosed(_)) => Ok(Written::StdoutClosed),
        Err(WindowError::Read(error)) if *broken < BROKEN_ANSWER_RETRIES => {
            *broken += 1;
            writer.telemetry.add(&POLL_ERRORS, &[source], 1.0);
            tracing::warn!(organization = %organization_id, %error, "Meraki's answer broke off; reading the window again.");
            Ok(Written::Again)
        }
        Err(WindowError::Read(error)) => Err(read_failed::<R>(writer, organization_id, error)),
        Err(error) => {
            // With its causes: a read-back error keeps Kafka's answer as its source.
            tracing::error!(organization = %organization_id, error = %one_line(&error), "Cannot write the window; retrying next interval.");
            Err(CatchUpError::Write {
                organization_id: organization_id.to_owned(),
                source: Box::new(error),
            })
        }
    }
}

/// A window Meraki did not answer, or whose answer broke off: counted, logged, and left to the next interval
/// (in flight when part of it was written, so that part is not written twice to Kafka).
fn read_failed<R: WindowReader>(
    writer: &WindowWriter,
    organization_id: &str,
    error: MerakiError,
) -> CatchUpError {
    let source = writer.source.as_str();
    writer.telemetry.add(&POLL_ERRORS, &[source], 1.0);
    if organizations::unreachable(&error) {
        writer.telemetry.meraki_not_reached(source, &error);
    }
    let what = R::WHAT;
    tracing::warn!(organization = %organization_id, %error, "Polling {what} failed; the window is retried next interval.");
    CatchUpError::Read {
        organization_id: organization_id.to_owned(),
        source: error,
    }
}

/// Moves the watermark past samples Meraki no longer serves: they are lost for good, which the operator must
/// know (an ERROR, and the seconds counted).
fn skip_lost(writer: &WindowWriter, organization_id: &str, lost: Window) -> Result<(), CatchUpError> {
    let seconds = (lost.t1 - lost.t0).num_seconds();
    writer.telemetry.add(
        &LOST_SECONDS,
        &[writer.source.as_str(), organization_id],
        seconds as f64,
    );
    tracing::error!(organization = %organization_id, from = %lost.t0, to = %lost.t1,
        "Samples older than Meraki's 60-day retention cannot be read any more; skipping them.");
    writer.store.advance(organization_id, lost.t1).map_err(|error| {
        tracing::error!(organization = %organization_id, %error, "Cannot persist the watermark.");
        CatchUpError::SkipLost {
            organization_id: organization_id.to_owned(),
            source: error,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::outputs::lines::{LinesOutput, LinesTarget};
    use crate::outputs::{Output, Outputs};
    use crate::record::KeyStrategy;
    use crate::send_future::boxed;
    use crate::shutdown::stop_pair;
    use crate::sources::log_capture::CapturedLogs;
    use crate::telemetry::Telemetry;
    use crate::watermark::{InFlight, WatermarkStore};
    use futures::StreamExt;

    const SOURCE: &str = "meraki_uplinks";
    const ORGANIZATION: &str = "123";

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Answers one record per window (at its start), or first the failures queued; notes every window asked.
    struct FakeReader {
        rules: Rules,
        asked: Mutex<Vec<Window>>,
        failures: Mutex<VecDeque<MerakiError>>,
        /// Answers still to break off after their record, as a body cut short does.
        breaking: Mutex<u32>,
    }

    impl FakeReader {
        fn new(rules: Rules) -> Self {
            Self {
                rules,
                asked: Mutex::new(Vec::new()),
                failures: Mutex::new(VecDeque::new()),
                breaking: Mutex::new(0),
            }
        }

        fn failing(rules: Rules, failures: impl IntoIterator<Item = MerakiError>) -> Self {
            let reader = Self::new(rules);
            reader.failures.lock().unwrap().extend(failures);
            reader
        }

        fn asked(&self) -> Vec<Window> {
            self.asked.lock().unwrap().clone()
        }
    }

    impl WindowReader for FakeReader {
        const WHAT: &'static str = "the fake series";

        fn rules(&self) -> Rules {
            self.rules
        }

        fn initial_lookback(&self) -> TimeDelta {
            TimeDelta::minutes(5)
        }

        fn fetch<'a>(
            &'a self,
            organization_id: &'a str,
            window: Window,
        ) -> SendFuture<'a, Result<RecordChunks<'a>, MerakiError>> {
            boxed(async move {
                self.asked.lock().unwrap().push(window);
                let failure = self.failures.lock().unwrap().pop_front();
                match failure {
                    Some(error) => Err(error),
                    None => {
                        let mut chunks = vec![Ok(vec![record(organization_id, window.t0)])];
                        let mut breaking = self.breaking.lock().unwrap();
                        if *breaking > 0 {
                            *breaking -= 1;
                            chunks.push(Err(cut_short()));
                        }
                        Ok(futures::stream::iter(chunks).boxed())
                    }
                }
            })
        }
    }

    fn cut_short() -> MerakiError {
        MerakiError::InvalidResponse {
            url: "http://meraki.test/".into(),
            attempts: 1,
            reason: "not the expected uplink series: the answer ends before its array is closed".into(),
        }
    }

    fn record(organization_id: &str, ts: DateTime<Utc>) -> UplinkRecord {
        UplinkRecord {
            organization_id: organization_id.to_owned(),
            network_id: "N_1".into(),
            network_name: None,
            serial: "Q2AA-BBBB-CCCC".into(),
            device_name: None,
            model: None,
            tags: Vec::new(),
            uplink: "wan1".into(),
            ip: "8.8.8.8".into(),
            ts,
            start_ts: None,
            end_ts: None,
            loss_percent: Some(0.0),
            latency_ms: Some(20.0),
            jitter: None,
            goodput: None,
            active_ddns_hostname: None,
            ddns_hostname_wan1: None,
            ddns_hostname_wan2: None,
        }
    }

    /// A window writer into a JSON-lines file, its watermarks in a fresh directory.
    struct Fixture {
        directory: PathBuf,
        telemetry: Arc<Telemetry>,
        writer: WindowWriter,
    }

    impl Fixture {
        fn new() -> Self {
            let directory = std::env::temp_dir().join(format!("semaphore-windowed-{}", uuid::Uuid::new_v4()));
            let telemetry = Telemetry::new();
            let output: Arc<dyn Output> = Arc::new(LinesOutput::new(LinesTarget::File(
                directory.join("records.jsonl"),
            )));
            let outputs = Arc::new(Outputs::new(vec![output], telemetry.clone()));
            let writer = WindowWriter {
                source: SOURCE.to_owned(),
                topic: "meraki.uplinks.loss_latency".to_owned(),
                key: KeyStrategy::Serial,
                store: WatermarkStore::open(&directory, SOURCE).unwrap(),
                outputs,
                telemetry: telemetry.clone(),
            };
            Self {
                directory,
                telemetry,
                writer,
            }
        }

        fn records_written(&self) -> usize {
            std::fs::read_to_string(self.directory.join("records.jsonl"))
                .map(|text| text.lines().count())
                .unwrap_or(0)
        }

        fn get(&self, metric: &crate::telemetry::metrics::Metric, labels: &[&str]) -> f64 {
            self.telemetry.get(metric, labels)
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.directory);
        }
    }

    fn between(t0: &str, t1: &str) -> Window {
        Window {
            t0: at(t0),
            t1: at(t1),
        }
    }

    #[tokio::test]
    async fn catches_up_window_after_window_then_stops() {
        let (captured, _guard) = CapturedLogs::plain();
        let fixture = Fixture::new();
        let (trigger, stop) = stop_pair();
        let reader = FakeReader::new(window::ORG_UPLINKS);
        fixture
            .writer
            .store
            .advance(ORGANIZATION, at("2026-11-27T09:45:00Z"))
            .unwrap();
        // Meraki serves up to 10:05 at 10:07:30: four 5-minute windows, the first three behind.
        let now = at("2026-11-27T10:07:30Z");
        catch_up(&reader, &fixture.writer, ORGANIZATION, now, &stop)
            .await
            .unwrap();
        assert_eq!(
            reader.asked(),
            vec![
                between("2026-11-27T09:45:00Z", "2026-11-27T09:50:00Z"),
                between("2026-11-27T09:50:00Z", "2026-11-27T09:55:00Z"),
                between("2026-11-27T09:55:00Z", "2026-11-27T10:00:00Z"),
                between("2026-11-27T10:00:00Z", "2026-11-27T10:05:00Z"),
            ]
        );
        assert_eq!(
            fixture.writer.watermark(ORGANIZATION),
            Some(at("2026-11-27T10:05:00Z"))
        );
        assert_eq!(fixture.writer.in_flight(ORGANIZATION), None);
        assert_eq!(fixture.records_written(), 4);
        assert_eq!(fixture.get(&BACKFILL_WINDOWS, &[SOURCE, ORGANIZATION]), 3.0);
        assert!(fixture.telemetry.readiness().is_ready());
        let text = captured.text();
        assert!(text.contains("Gap back-filled; caught up."), "{text}");
        assert!(text.contains("windows=3"), "{text}");

        // Caught up: nothing to read until a minute is old enough.
        catch_up(&reader, &fixture.writer, ORGANIZATION, now, &stop)
            .await
            .unwrap();
        assert_eq!(reader.asked().len(), 4);

        // Stopped: a new gap waits for the next start.
        trigger.trigger();
        let later = at("2026-11-27T11:00:00Z");
        catch_up(&reader, &fixture.writer, ORGANIZATION, later, &stop)
            .await
            .unwrap();
        assert_eq!(reader.asked().len(), 4);
        assert_eq!(
            fixture.writer.watermark(ORGANIZATION),
            Some(at("2026-11-27T10:05:00Z"))
        );
    }

    #[tokio::test]
    async fn samples_beyond_the_retention_are_logged_counted_and_skipped() {
        let (captured, _guard) = CapturedLogs::plain();
        let fixture = Fixture::new();
        let (_trigger, stop) = stop_pair();
        // The history source's shape: long windows on hour boundaries, so 60 days are two reads.
        let reader = FakeReader::new(Rules {
            max_span: TimeDelta::days(31),
            min_age: TimeDelta::minutes(2),
            step: TimeDelta::hours(1),
        });
        let now = at("2026-11-27T10:30:00Z");
        fixture
            .writer
            .store
            .advance(ORGANIZATION, now - TimeDelta::days(90))
            .unwrap();
        catch_up(&reader, &fixture.writer, ORGANIZATION, now, &stop)
            .await
            .unwrap();
        let asked = reader.asked();
        // The oldest hour Meraki still serves (with the 5-minute margin), then up to 10:00.
        assert_eq!(
            asked,
            vec![
                between("2026-09-28T11:00:00Z", "2026-10-29T11:00:00Z"),
                between("2026-10-29T11:00:00Z", "2026-11-27T10:00:00Z"),
            ]
        );
        assert_eq!(
            fixture.get(&LOST_SECONDS, &[SOURCE, ORGANIZATION]),
            (TimeDelta::days(30) + TimeDelta::minutes(30)).num_seconds() as f64
        );
        assert_eq!(
            fixture.writer.watermark(ORGANIZATION),
            Some(at("2026-11-27T10:00:00Z"))
        );
        let text = captured.text();
        let line = text
            .lines()
            .find(|line| line.contains("Samples older than Meraki's 60-day retention"))
            .unwrap_or_else(|| panic!("no retention error: {text}"));
        assert!(
            line.contains("ERROR") && line.contains("organization=123"),
            "{line}"
        );
    }

    #[tokio::test]
    async fn a_failed_read_returns_the_reason_and_leaves_the_watermark() {
        let (captured, _guard) = CapturedLogs::plain();
        let fixture = Fixture::new();
        let (_trigger, stop) = stop_pair();
        let url = "https://api.meraki.com/api/v1/organizations/123/devices/uplinksLossAndLatency";
        let reader = FakeReader::failing(
            window::ORG_UPLINKS,
            [
                MerakiError::Connection {
                    url: url.into(),
                    attempts: 3,
                    reason: "connection refused".into(),
                },
                MerakiError::Server {
                    url: url.into(),
                    status: 500,
                    attempts: 3,
                },
            ],
        );
        let watermark = at("2026-11-27T09:45:00Z");
        fixture.writer.store.advance(ORGANIZATION, watermark).unwrap();
        let now = at("2026-11-27T10:07:30Z");

        // Not reached at all: the reason with Meraki's error as its cause, the count, and Meraki marked
        // unreachable for `/readyz`.
        let error = catch_up(&reader, &fixture.writer, ORGANIZATION, now, &stop)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &error,
                CatchUpError::Read {
                    source: MerakiError::Connection { .. },
                    ..
                }
            ),
            "{error:?}"
        );
        let reason = one_line(&error);
        assert!(
            reason.starts_with("organization 123: ") && reason.contains("connection refused"),
            "{reason}"
        );
        assert_eq!(fixture.writer.watermark(ORGANIZATION), Some(watermark));
        assert_eq!(fixture.writer.in_flight(ORGANIZATION), None);
        assert_eq!(fixture.records_written(), 0);
        assert_eq!(fixture.get(&POLL_ERRORS, &[SOURCE]), 1.0);
        let report = fixture.telemetry.readiness().report();
        assert!(
            report.contains("source meraki_uplinks: Meraki not reached: cannot reach"),
            "{report}"
        );
        assert!(
            captured
                .text()
                .contains("Polling the fake series failed; the window is retried next interval."),
            "{}",
            captured.text()
        );

        // An answer, even a 500, means Meraki was reached: counted, but reachability stays as it was.
        fixture.telemetry.meraki_reached(SOURCE);
        let reason = one_line(
            &catch_up(&reader, &fixture.writer, ORGANIZATION, now, &stop)
                .await
                .unwrap_err(),
        );
        assert!(reason.contains("500"), "{reason}");
        assert_eq!(fixture.get(&POLL_ERRORS, &[SOURCE]), 2.0);
        assert!(fixture.telemetry.readiness().is_ready());
        assert_eq!(fixture.writer.watermark(ORGANIZATION), Some(watermark));

        // The next cycle reads the same window again.
        catch_up(&reader, &fixture.writer, ORGANIZATION, now, &stop)
            .await
            .unwrap();
        let asked = reader.asked();
        assert_eq!(asked[0], asked[1]);
        assert_eq!(asked[1], asked[2]);
        assert_eq!(asked[0].t0, watermark);
        assert_eq!(
            fixture.writer.watermark(ORGANIZATION),
            Some(at("2026-11-27T10:05:00Z"))
        );
    }

    #[tokio::test]
    async fn a_window_in_flight_is_resumed_before_planning() {
        let fixture = Fixture::new();
        let (_trigger, stop) = stop_pair();
        let reader = FakeReader::new(window::ORG_UPLINKS);
        // A stop interrupted a 2-minute window (planned at an earlier time) after the watermark 09:45.
        let store = &fixture.writer.store;
        store.advance(ORGANIZATION, at("2026-11-27T09:45:00Z")).unwrap();
        store
            .begin(
                ORGANIZATION,
                InFlight {
                    t0: at("2026-11-27T09:45:00Z"),
                    t1: at("2026-11-27T09:47:00Z"),
                    kafka_offsets: Default::default(),
                },
            )
            .unwrap();
        catch_up(
            &reader,
            &fixture.writer,
            ORGANIZATION,
            at("2026-11-27T10:07:30Z"),
            &stop,
        )
        .await
        .unwrap();
        assert_eq!(
            reader.asked(),
            vec![
                between("2026-11-27T09:45:00Z", "2026-11-27T09:47:00Z"),
                between("2026-11-27T09:47:00Z", "2026-11-27T09:52:00Z"),
                between("2026-11-27T09:52:00Z", "2026-11-27T09:57:00Z"),
                between("2026-11-27T09:57:00Z", "2026-11-27T10:02:00Z"),
                between("2026-11-27T10:02:00Z", "2026-11-27T10:05:00Z"),
            ]
        );
        assert_eq!(fixture.writer.in_flight(ORGANIZATION), None);
        assert_eq!(
            fixture.writer.watermark(ORGANIZATION),
            Some(at("2026-11-27T10:05:00Z"))
        );
        assert_eq!(fixture.records_written(), 5);
    }

    #[tokio::test]
    async fn an_answer_that_breaks_off_is_read_again_then_left_to_the_next_interval() {
        let fixture = Fixture::new();
        let (_trigger, stop) = stop_pair();
        let now = at("2026-11-27T10:07:30Z");
        fixture
            .writer
            .store
            .advance(ORGANIZATION, at("2026-11-27T10:00:00Z"))
            .unwrap();
        // Breaks off twice, then answers: the window is written in the same cycle, its watermark moved.
        let reader = FakeReader::new(window::ORG_UPLINKS);
        *reader.breaking.lock().unwrap() = 2;
        catch_up(&reader, &fixture.writer, ORGANIZATION, now, &stop)
            .await
            .unwrap();
        let window = between("2026-11-27T10:00:00Z", "2026-11-27T10:05:00Z");
        assert_eq!(reader.asked(), vec![window; 3]);
        assert_eq!(fixture.writer.watermark(ORGANIZATION), Some(window.t1));
        assert_eq!(fixture.writer.in_flight(ORGANIZATION), None);
        assert_eq!(fixture.get(&POLL_ERRORS, &[SOURCE]), 2.0);
        // A file cannot be read back: the record sent before each break is there again (at least once).
        assert_eq!(fixture.records_written(), 3);

        // Breaking off every time: after the retries the window stays in flight for the next interval.
        fixture
            .writer
            .store
            .advance(ORGANIZATION, at("2026-11-27T10:05:00Z"))
            .unwrap();
        let reader = FakeReader::new(window::ORG_UPLINKS);
        *reader.breaking.lock().unwrap() = 10;
        let error = catch_up(
            &reader,
            &fixture.writer,
            ORGANIZATION,
            at("2026-11-27T10:12:30Z"),
            &stop,
        )
        .await
        .unwrap_err();
        let error = one_line(&error);
        assert!(error.contains("ends before its array is closed"), "{error}");
        let next = between("2026-11-27T10:05:00Z", "2026-11-27T10:10:00Z");
        assert_eq!(reader.asked().len(), 1 + BROKEN_ANSWER_RETRIES as usize);
        assert_eq!(fixture.writer.in_flight(ORGANIZATION), Some(next));
        assert_eq!(fixture.writer.watermark(ORGANIZATION), Some(next.t0));
    }
}
