//! Between a push source's listeners and [`Outputs::accept`]: a bounded queue and one task that accepts
//! whatever is waiting as one batch.
//!
//! Why: `accept` returns once Kafka acknowledged the batch (or, Kafka silent, once it is spooled). A
//! connection that waited for that before reading again got one batch per Kafka round trip, about 9,000
//! lines/s over one TCP connection whatever the sender could do, and a UDP socket overflowed behind it. With
//! the queue a connection reads on while the batch before is in flight; the next `accept` takes everything
//! that queued meanwhile, so the round trip is paid per many reads instead of per read.
//!
//! When Kafka is slower than the senders, what the queue does depends on whether they can wait
//! ([`WhenBehind`]):
//! - **Stream senders** (TCP, TLS) are held back: the queue holds [`QUEUED_BATCHES`] batches, and a handler
//!   whose batch does not fit waits, so the connection is not read and its sender's window closes.
//! - **Datagram senders** (syslog over UDP, SNMP traps) cannot be: a socket not read drops what arrives. The
//!   task takes every batch as it comes, and once more than [`SPILL_BYTES`] wait behind the batch in flight
//!   it spools them ([`Outputs::spill`]): the Kafka output's spool takes them at disk speed and sends them as
//!   fast as Kafka takes them, with every later record behind them. Memory is bounded
//!   ([`MAX_WAITING_BYTES`], for the seconds a batch may wait before Kafka is judged away); past that the
//!   socket is not read, and the kernel's drops are counted.
//!
//! Order is kept either way: one queue, one task, batches accepted or spooled in the order they were queued,
//! never two at once. What is queued is memory, as librdkafka's queue is: a graceful stop accepts all of it
//! first ([`AcceptQueue::finish`]); SIGKILL loses it (RELP, which must not lose, does not come through here:
//! its batches are published and acknowledged one by one).

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::bus::producer::MAX_BYTES_PER_SEND;
use crate::outputs::{Outputs, StdoutClosed};
use crate::record::EncodedRecord;

/// Batches (one per read or per burst of datagrams) that may wait behind the one being accepted.
const QUEUED_BATCHES: usize = 64;
/// Datagram queues: payload bytes waiting behind the batch in flight that show Kafka is not keeping up, and
/// are spooled rather than held: a burst a few seconds long waits in memory (as in librdkafka's queue, or
/// rsyslog's), longer goes to disk.
const SPILL_BYTES: usize = 32 * 1024 * 1024;
/// Datagram queues: the most held in memory while a batch is in flight (Kafka may take `spool_after_s` to be
/// judged away); past it the socket waits.
const MAX_WAITING_BYTES: usize = 64 * 1024 * 1024;

/// What a queue does when Kafka is slower than its senders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenBehind {
    /// Stream senders: hold them back (the queue fills, the connection is not read).
    HoldSenders,
    /// Datagram senders: spool what waits beyond [`SPILL_BYTES`], so the socket is read on.
    Spool,
}

/// The queue's sending side, shared by every connection of a source.
#[derive(Clone, Debug)]
pub struct AcceptQueue {
    batches: mpsc::Sender<Vec<EncodedRecord>>,
}

/// The task behind an [`AcceptQueue`]; [`AcceptQueue::finish`] waits for it. Dropped without that (the
/// source aborted at the end of the grace period), it aborts the task: a task left running would write to
/// outputs the pipeline is closing, and keep the Kafka producer alive past the embedded broker.
#[derive(Debug)]
pub struct AcceptTask(JoinHandle<()>);

impl Drop for AcceptTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl AcceptQueue {
    /// Starts the task that accepts what is queued to `topic`.
    pub fn start(outputs: Arc<Outputs>, topic: String, when_behind: WhenBehind) -> (Self, AcceptTask) {
        let (batches, queued) = mpsc::channel(QUEUED_BATCHES);
        // In the source's span, so what the outputs log while accepting names the source.
        let task = match when_behind {
            WhenBehind::HoldSenders => tokio::spawn(accept_queued(queued, outputs, topic).in_current_span()),
            WhenBehind::Spool => tokio::spawn(accept_or_spool(queued, outputs, topic).in_current_span()),
        };
        (Self { batches }, AcceptTask(task))
    }

    /// Queues a batch, waiting while the queue is full. False when the records will never be accepted: the
    /// task stopped because standard output was closed by its reader (the pipeline is stopping).
    pub async fn send(&self, records: Vec<EncodedRecord>) -> bool {
        records.is_empty() || self.batches.send(records).await.is_ok()
    }

    /// Once every `AcceptQueue` clone is dropped, waits until what was queued has been accepted.
    pub async fn finish(mut task: AcceptTask) {
        if let Err(error) = (&mut task.0).await {
            tracing::error!(%error, "The task accepting a push source's records failed; what it held is lost.");
        }
    }
}

async fn accept_queued(mut queued: mpsc::Receiver<Vec<EncodedRecord>>, outputs: Arc<Outputs>, topic: String) {
    while let Some(mut batch) = queued.recv().await {
        let mut bytes = payload_bytes(&batch);
        while bytes < MAX_BYTES_PER_SEND {
            match queued.try_recv() {
                Ok(more) => {
                    bytes += payload_bytes(&more);
                    batch.extend(more);
                }
                Err(_) => break,
            }
        }
        // Err only when standard output was closed by its reader: nothing more can be delivered, and the
        // senders' next batches are refused by the closed queue.
        if outputs.accept(&topic, &batch).await.is_err() {
            return;
        }
    }
}

/// The datagram queue's task: takes every batch as it arrives, accepts what waits a batch at a time, and
/// spools what waits once it is more than Kafka keeps up with. Never two writes at once, so order is kept.
async fn accept_or_spool(
    mut queued: mpsc::Receiver<Vec<EncodedRecord>>,
    outputs: Arc<Outputs>,
    topic: String,
) {
    let mut waiting = Waiting::default();
    let mut in_flight: Option<BoxFuture<'static, Result<(), StdoutClosed>>> = None;
    let mut open = true;
    loop {
        if in_flight.is_none() {
            if waiting.bytes >= SPILL_BYTES {
                // Err only when standard output was closed by its reader, as in `accept_queued`.
                if outputs.spill(&topic, &waiting.take_all()).await.is_err() {
                    return;
                }
                continue;
            }
            if waiting.records.is_empty() && !open {
                return;
            }
            if !waiting.records.is_empty() {
                let (outputs, topic, batch) = (outputs.clone(), topic.clone(), waiting.take_batch());
                in_flight = Some(Box::pin(async move { outputs.accept(&topic, &batch).await }));
            }
        }
        tokio::select! {
            accepted = async { in_flight.as_mut().expect("guarded by the branch's condition").await }, if in_flight.is_some() => {
                in_flight = None;
                if accepted.is_err() {
                    return;
                }
            }
            batch = queued.recv(), if open && waiting.bytes < MAX_WAITING_BYTES => match batch {
                Some(batch) => waiting.push(batch),
                None => open = false,
            },
        }
    }
}

/// Records a datagram queue's task has taken from the queue and not yet handed on, oldest first.
#[derive(Default)]
struct Waiting {
    records: std::collections::VecDeque<EncodedRecord>,
    bytes: usize,
}

impl Waiting {
    fn push(&mut self, batch: Vec<EncodedRecord>) {
        self.bytes += payload_bytes(&batch);
        self.records.extend(batch);
    }

    /// The oldest records, up to [`MAX_BYTES_PER_SEND`] (at least one).
    fn take_batch(&mut self) -> Vec<EncodedRecord> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(record) = self.records.front() {
            if !batch.is_empty() && bytes + record.payload.len() > MAX_BYTES_PER_SEND {
                break;
            }
            bytes += record.payload.len();
            batch.extend(self.records.pop_front());
        }
        self.bytes -= bytes;
        batch
    }

    fn take_all(&mut self) -> Vec<EncodedRecord> {
        self.bytes = 0;
        self.records.drain(..).collect()
    }
}

fn payload_bytes(records: &[EncodedRecord]) -> usize {
    records.iter().map(|record| record.payload.len()).sum()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    use crate::outputs::lines::{LinesOutput, LinesTarget};
    use crate::outputs::{Output, OutputFailure};
    use crate::telemetry::Telemetry;

    fn record(sequence: u64) -> EncodedRecord {
        EncodedRecord {
            key: None,
            payload: format!("{{\"sequence\":{sequence}}}").into_bytes(),
            timestamp_ms: 0,
            schema: "semaphore.generated/1",
            source: "test".to_owned(),
        }
    }

    fn sequence(record: &EncodedRecord) -> u64 {
        serde_json::from_slice::<serde_json::Value>(&record.payload).unwrap()["sequence"]
            .as_u64()
            .unwrap()
    }

    /// Every queued record reaches the output once, in the order queued, and `finish` waits for the last,
    /// whatever the queue does when behind.
    #[tokio::test]
    async fn accepts_every_batch_in_order_and_finish_waits_for_them() {
        for when_behind in [WhenBehind::HoldSenders, WhenBehind::Spool] {
            let directory = std::env::temp_dir().join(format!("accept-queue-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&directory).unwrap();
            let path = directory.join("records.jsonl");
            let file: Arc<dyn Output> = Arc::new(LinesOutput::new(LinesTarget::File(path.clone())));
            let outputs = Arc::new(Outputs::new(vec![file], Telemetry::new()));
            let (queue, task) = AcceptQueue::start(outputs, "topic".to_owned(), when_behind);
            for batch in 0..200u64 {
                assert!(
                    queue
                        .send((batch * 10..batch * 10 + 10).map(record).collect())
                        .await
                );
            }
            drop(queue);
            AcceptQueue::finish(task).await;
            let written = std::fs::read_to_string(&path).unwrap();
            let sequences: Vec<u64> = written
                .lines()
                .map(|line| {
                    serde_json::from_str::<serde_json::Value>(line).unwrap()["sequence"]
                        .as_u64()
                        .unwrap()
                })
                .collect();
            assert_eq!(sequences, (0..2000).collect::<Vec<_>>(), "{when_behind:?}");
        }
    }

    /// A Kafka that takes nothing until the test opens it (a Kafka behind its senders); its spool takes at
    /// once. Remembers the sequences each way received, and every sequence in the order handed over.
    #[derive(Debug)]
    struct GatedKafka {
        open: tokio::sync::watch::Sender<bool>,
        accepted: Mutex<Vec<u64>>,
        spooled: Mutex<Vec<u64>>,
        handed: Mutex<Vec<u64>>,
    }

    impl GatedKafka {
        fn new() -> Self {
            Self {
                open: tokio::sync::watch::Sender::new(false),
                accepted: Mutex::default(),
                spooled: Mutex::default(),
                handed: Mutex::default(),
            }
        }

        fn take(&self, way: &Mutex<Vec<u64>>, records: &[EncodedRecord]) {
            let sequences: Vec<u64> = records.iter().map(sequence).collect();
            way.lock().unwrap().extend(&sequences);
            self.handed.lock().unwrap().extend(sequences);
        }
    }

    impl Output for GatedKafka {
        fn name(&self) -> String {
            "gated".to_owned()
        }

        fn label(&self) -> &'static str {
            "gated"
        }

        fn write<'a>(
            &'a self,
            _topic: &'a str,
            _records: &'a [EncodedRecord],
        ) -> BoxFuture<'a, Result<(), OutputFailure>> {
            unreachable!("a push source accepts or spools")
        }

        fn write_or_spool<'a>(
            &'a self,
            _topic: &'a str,
            records: &'a [EncodedRecord],
        ) -> BoxFuture<'a, Result<(), OutputFailure>> {
            Box::pin(async move {
                let _ = self.open.subscribe().wait_for(|open| *open).await;
                self.take(&self.accepted, records);
                Ok(())
            })
        }

        fn spool_now<'a>(
            &'a self,
            _topic: &'a str,
            records: &'a [EncodedRecord],
        ) -> BoxFuture<'a, Result<(), OutputFailure>> {
            Box::pin(async move {
                self.take(&self.spooled, records);
                Ok(())
            })
        }
    }

    fn large(sequence: u64) -> EncodedRecord {
        let mut record = record(sequence);
        // ~10 KB each: 5,000 of them are 50 MB, under MAX_WAITING_BYTES and over SPILL_BYTES.
        let pad = "x".repeat(10_000);
        record.payload = format!("{{\"sequence\":{sequence},\"pad\":\"{pad}\"}}").into_bytes();
        record
    }

    /// Issue 13: a datagram queue whose output is behind never makes its sender wait for the output; what
    /// backs up is spooled, in order with what was accepted, nothing lost or twice. A stream queue holds its
    /// sender back instead, and never spools.
    #[tokio::test]
    async fn a_datagram_queue_spools_what_backs_up_and_a_stream_queue_waits() {
        const RECORDS: u64 = 5_000;
        for when_behind in [WhenBehind::Spool, WhenBehind::HoldSenders] {
            let output = Arc::new(GatedKafka::new());
            let outputs = Arc::new(Outputs::new(vec![output.clone()], Telemetry::new()));
            let (queue, task) = AcceptQueue::start(outputs, "topic".to_owned(), when_behind);
            let sending = tokio::spawn(async move {
                for batch in 0..RECORDS / 10 {
                    assert!(
                        queue
                            .send((batch * 10..batch * 10 + 10).map(large).collect())
                            .await
                    );
                }
            });
            let sending = match when_behind {
                WhenBehind::Spool => {
                    // Kafka has taken nothing, yet every batch was queued.
                    sending.await.unwrap();
                    assert!(output.handed.lock().unwrap().is_empty());
                    None
                }
                WhenBehind::HoldSenders => {
                    // 64 batches queued, one in flight: the sender waits for Kafka (it never finishes).
                    let mut sending = sending;
                    let waited = tokio::time::timeout(Duration::from_millis(300), &mut sending).await;
                    assert!(
                        waited.is_err(),
                        "a stream sender is held back while Kafka is behind"
                    );
                    Some(sending)
                }
            };
            output.open.send_replace(true);
            if let Some(sending) = sending {
                sending.await.unwrap();
            }
            AcceptQueue::finish(task).await;
            let handed = output.handed.lock().unwrap().clone();
            assert_eq!(
                handed,
                (0..RECORDS).collect::<Vec<_>>(),
                "{when_behind:?}: each once, in order"
            );
            let spooled = output.spooled.lock().unwrap().len();
            match when_behind {
                // The first batch was in flight (≤ 512 KiB: 52 records); the rest backed up behind it.
                WhenBehind::Spool => assert!(spooled as u64 >= RECORDS - 100, "spooled {spooled}"),
                WhenBehind::HoldSenders => assert_eq!(spooled, 0),
            }
        }
    }
}
