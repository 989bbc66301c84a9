//! Between a push source's listeners and [`Outputs::accept`]: a bounded queue and one task that accepts
//! whatever is waiting as one batch.
//!
//! Why: `accept` returns once Kafka acknowledged the batch (or, Kafka silent, once it is spooled). A
//! connection that waited for that before reading again got one batch per Kafka round trip, about 9,000
//! lines/s over one TCP connection whatever the sender could do, and a UDP socket overflowed behind it. With
//! the queue a connection reads on while the batch before is in flight; the next `accept` takes everything
//! that queued meanwhile, so the round trip is paid per many reads instead of per read.
//!
//! Back-pressure is kept: the queue holds [`QUEUED_BATCHES`] batches, and a handler whose batch does not fit
//! waits, so a TCP connection is not read and its sender's window closes, as before. Order is kept: one
//! queue, one task, batches accepted in the order they were queued. What is queued is memory, as librdkafka's
//! queue is: a graceful stop accepts all of it first ([`AcceptQueue::finish`]); SIGKILL loses it (RELP, which
//! must not lose, does not come through here: its batches are published and acknowledged one by one).

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::outputs::Outputs;
use crate::record::EncodedRecord;

/// Batches (one per read or per burst of datagrams) that may wait behind the one being accepted.
const QUEUED_BATCHES: usize = 64;
/// A batch stops taking more once its payloads reach this: under librdkafka's `batch.size` (1 MB). More
/// than a full batch waiting behind the one in flight makes the idempotent producer's broker thread spin
/// (it sends one request at a time, and a full batch asks to be sent now): measured, 20,000 records per
/// `accept` cost 67 µs of CPU per line, mostly that spin, against 11 µs before the queue.
pub(crate) const MAX_BYTES_PER_ACCEPT: usize = 512 * 1024;

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
    pub fn start(outputs: Arc<Outputs>, topic: String) -> (Self, AcceptTask) {
        let (batches, queued) = mpsc::channel(QUEUED_BATCHES);
        // In the source's span, so what the outputs log while accepting names the source.
        let task = tokio::spawn(accept_queued(queued, outputs, topic).in_current_span());
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
        while bytes < MAX_BYTES_PER_ACCEPT {
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

fn payload_bytes(records: &[EncodedRecord]) -> usize {
    records.iter().map(|record| record.payload.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::outputs::Output;
    use crate::outputs::lines::{LinesOutput, LinesTarget};
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

    /// Every queued record reaches the output once, in the order queued, and `finish` waits for the last.
    #[tokio::test]
    async fn accepts_every_batch_in_order_and_finish_waits_for_them() {
        let directory = std::env::temp_dir().join(format!("accept-queue-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("records.jsonl");
        let file: Arc<dyn Output> = Arc::new(LinesOutput::new(LinesTarget::File(path.clone())));
        let outputs = Arc::new(Outputs::new(vec![file], Telemetry::new()));
        let (queue, task) = AcceptQueue::start(outputs, "topic".to_owned());
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
        assert_eq!(sequences, (0..2000).collect::<Vec<_>>());
    }
}
