//! The loop every sink runs in: read a batch through the sink's consumer group, decode it (malformed
//! messages are counted, logged with their offset and dead-lettered), hand the rest to the sink, retry what
//! it cannot take yet, dead-letter what it rejects, and only then commit the batch's offsets. A crash at any
//! point re-reads from the last commit: at least once, never a gap. A sink that asks for an idle tick
//! ([`Deliver::idle_tick`]) is handed an empty batch when nothing arrived for that long.

use std::sync::Arc;
use std::time::Duration;

use semaphore_meraki::Backoff;

use crate::bus::admin::TopicAdminError;
use crate::bus::group_reader::{GroupReader, GroupReaderError, ReadStart};
use crate::bus::handle::{KafkaHandle, TopicCreation};
use crate::bus::producer::OutgoingRecord;
use crate::error_text::one_line;
use crate::shutdown::Stop;
use crate::sinks::component::Deliver;
use crate::sinks::message::{ConsumedMessage, decode};
use crate::sinks::sink::{Accepted, BoxError, SinkError};
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{SINK_DEAD_LETTERED, SINK_MALFORMED, SINK_RECORDS, SINK_RETRIES};

/// How a sink reads its topics.
#[derive(Clone, Debug)]
pub struct SinkReading {
    pub topics: Vec<String>,
    pub group: String,
    pub start: ReadStart,
    pub batch_size: usize,
    /// How long a batch waits for more records after the first.
    pub linger: Duration,
    pub dead_letter_topic: String,
}

pub struct SinkRunner {
    pub id: String,
    pub reading: SinkReading,
    pub kafka: Arc<KafkaHandle>,
    /// What becomes of a topic it reads or dead-letters to that the cluster does not have.
    pub topic_creation: TopicCreation,
    /// The kind (`[[sinks.KIND]]`), for the log.
    pub kind: &'static str,
    pub sink: Box<dyn Deliver>,
    pub telemetry: Arc<Telemetry>,
}

/// Why a sink could not start yet (retried until it can, or until the stop signal).
#[derive(Debug, thiserror::Error)]
pub enum SinkStartError {
    /// A topic it reads or dead-letters to could not be made sure of.
    #[error(transparent)]
    Topic(#[from] TopicAdminError),
    /// The sink's own start work ([`Deliver::prepare`]) failed.
    #[error(transparent)]
    Prepare(BoxError),
    #[error(transparent)]
    Reader(#[from] GroupReaderError),
}

/// Between attempts to start, deliver a batch or dead-letter a record: 0.5 s doubling to 30 s (README,
/// "Sinks").
const SINK_RETRY: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));

impl SinkRunner {
    pub async fn run(mut self, stop: Stop) {
        let Some(reader) = self.start(&stop).await else {
            return;
        };
        tracing::info!(kind = self.kind, topics = ?self.reading.topics, group = %self.reading.group, "Sink reading.");
        let (size, linger) = (self.reading.batch_size, self.reading.linger);
        let idle = self.sink.idle_tick();
        let mut last_delivered: Vec<ConsumedMessage> = Vec::new();
        loop {
            let batch = tokio::select! {
                batch = reader.next_batch_or_idle(size, linger, idle) => batch,
                () = stop.stopped() => break,
            };
            if !self.process(&batch, &stop).await {
                // Stopped before the batch was delivered: not committed, read again at the next start.
                break;
            }
            if batch.is_empty() {
                // The sink's idle tick: nothing was read, so nothing to commit.
                continue;
            }
            if let Err(error) = reader.commit(&batch, false) {
                tracing::warn!(error = %one_line(&error), "Cannot commit offsets; the records are read again after a restart (at least once).");
            }
            last_delivered = batch;
        }
        if let Err(error) = reader.commit(&last_delivered, true) {
            tracing::warn!(error = %one_line(&error), "Cannot commit the last offsets at stop; those records are read again at the next start.");
        }
        tracing::info!("Sink stopped.");
    }

    /// Topics exist, the sink's own start work is done (alert state), the reader has joined its group; retried
    /// until it works or the stop signal.
    async fn start(&mut self, stop: &Stop) -> Option<GroupReader> {
        let mut attempt = 0;
        loop {
            match self.try_start().await {
                Ok(reader) => return Some(reader),
                Err(error) => {
                    attempt += 1;
                    tracing::warn!(error = %one_line(&error), "Sink cannot start yet; retrying.");
                    if !stop.sleep(SINK_RETRY.delay(attempt)).await {
                        return None;
                    }
                }
            }
        }
    }

    async fn try_start(&mut self) -> Result<GroupReader, SinkStartError> {
        for topic in &self.reading.topics {
            self.kafka.ensure_topic(topic, self.topic_creation).await?;
        }
        self.kafka
            .ensure_topic(&self.reading.dead_letter_topic, self.topic_creation)
            .await?;
        self.sink.prepare().await.map_err(SinkStartError::Prepare)?;
        Ok(GroupReader::open(
            self.kafka.resolved(),
            &self.reading.topics,
            &self.reading.group,
            self.reading.start,
        )
        .await?)
    }

    /// Delivers one batch; false when stopped before it was all delivered.
    async fn process(&mut self, batch: &[ConsumedMessage], stop: &Stop) -> bool {
        let accepts = self.sink.accepts();
        let mut accepted = Vec::with_capacity(batch.len());
        for message in batch {
            match decode(message, accepts) {
                Ok(decoded) => accepted.push(Accepted {
                    message: message.clone(),
                    decoded,
                }),
                Err(malformed) => {
                    self.telemetry.add(&SINK_MALFORMED, &[self.id.as_str()], 1.0);
                    tracing::warn!(position = %message.position(), reason = %malformed, "Malformed message; sending it to the dead-letter topic.");
                    if !self.dead_letter(message, &malformed.reason, stop).await {
                        return false;
                    }
                }
            }
        }
        let mut attempt = 0;
        loop {
            match self.sink.deliver(&accepted).await {
                Ok(()) => {
                    self.telemetry
                        .add(&SINK_RECORDS, &[self.id.as_str()], accepted.len() as f64);
                    break;
                }
                Err(SinkError::Retry(error)) => {
                    attempt += 1;
                    self.telemetry.add(&SINK_RETRIES, &[self.id.as_str()], 1.0);
                    if attempt == 1 || attempt % 10 == 0 {
                        tracing::warn!(attempt, error = %one_line(&*error), "Sink cannot take the batch yet; retrying (offsets not committed).");
                    }
                    if !stop.sleep(SINK_RETRY.delay(attempt)).await {
                        return false;
                    }
                }
                Err(SinkError::Reject(error)) => {
                    let reason = one_line(&*error);
                    tracing::error!(records = accepted.len(), first = %accepted.first().map(|a| a.message.position()).unwrap_or_default(), error = %reason, "Sink rejected a batch; sending it to the dead-letter topic.");
                    for record in &accepted {
                        if !self.dead_letter(&record.message, &reason, stop).await {
                            return false;
                        }
                    }
                    break;
                }
            }
        }
        for (message, reason) in self.sink.take_undelivered() {
            if !self.dead_letter(&message, &reason, stop).await {
                return false;
            }
        }
        true
    }

    /// Writes `message` to the dead-letter topic with why and where it came from; retried until Kafka takes
    /// it (false if stopped first).
    async fn dead_letter(&self, message: &ConsumedMessage, reason: &str, stop: &Stop) -> bool {
        let origin = message.position();
        let mut headers: Vec<(&str, &[u8])> = message
            .headers
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_slice()))
            .collect();
        headers.push(("semaphore-dead-letter-reason", reason.as_bytes()));
        headers.push(("semaphore-dead-letter-sink", self.id.as_bytes()));
        headers.push(("semaphore-dead-letter-origin", origin.as_bytes()));
        let record = OutgoingRecord {
            topic: &self.reading.dead_letter_topic,
            key: message.key.as_deref(),
            payload: &message.payload,
            timestamp_ms: message.timestamp_ms,
            headers,
        };
        let mut attempt = 0;
        loop {
            match self.kafka.producer().send(&record).await {
                Ok(_) => {
                    self.telemetry.add(&SINK_DEAD_LETTERED, &[self.id.as_str()], 1.0);
                    return true;
                }
                Err(error) => {
                    attempt += 1;
                    tracing::warn!(error = %one_line(&error), "Cannot write to the dead-letter topic; retrying.");
                    if !stop.sleep(SINK_RETRY.delay(attempt)).await {
                        return false;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: the first retry waited 1 s while the comment and README said 0.5 s.
    #[test]
    fn sink_retry_is_half_a_second_doubling_to_thirty() {
        let waits: Vec<Duration> = (1..=8).map(|attempt| SINK_RETRY.delay(attempt)).collect();
        let expected: Vec<Duration> = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
            .into_iter()
            .map(Duration::from_millis)
            .collect();
        assert_eq!(waits, expected);
    }
}
