//! The process's one Kafka handle: the resolved connection, the producer, the metadata client (end offsets,
//! read-back, the reachability probe behind `/readyz` and `semaphore_kafka_up`), topic creation with its
//! cache of topics already made sure of, and the flush at shutdown. The Kafka output writes through it, the
//! sinks read, dead-letter and write alerts through it: one producer per process whatever it runs, and a
//! config of sinks alone makes the handle without a Kafka output.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::bus::admin::{DEFAULT_PARTITIONS, TopicAdmin, TopicAdminError};
use crate::bus::config::ResolvedKafka;
use crate::bus::producer::{Delivery, OutgoingRecord, ProduceError, Producer, ProducerError, RefusedRecords};
use crate::bus::readback::{self, MetadataClient, MetadataClientError, ProbeError, ReadbackError, Unlisted};
use crate::bus::written_offsets::{PartitionOffsets, WrittenOffsets};
use crate::error_text::one_line;
use crate::record::EncodedRecord;
use crate::send_future::{SendFuture, boxed};
use crate::shutdown::Stop;
use crate::telemetry::Telemetry;

/// Sends in flight at once per batch: enough to keep librdkafka's batches full, bounded so a large back-fill
/// window does not hold every future at once.
const SENDS_IN_FLIGHT: usize = 4096;
/// How often Kafka's reachability is probed for `/readyz` and `semaphore_kafka_up`.
const PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// What [`KafkaHandle::ensure_topic`] does with a topic the cluster does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicCreation {
    /// Create it with this many partitions (replication factor 3, or the broker count where fewer).
    Create { partitions: i32 },
    /// Leave it: the cluster may create it on first write, or an administrator does (`create_topics = false`).
    Leave,
}

impl Default for TopicCreation {
    /// semaphore's default: created, with Confluent Cloud's partition count.
    fn default() -> Self {
        TopicCreation::Create {
            partitions: DEFAULT_PARTITIONS,
        }
    }
}

/// The handle could not be made from the connection settings.
#[derive(Debug, thiserror::Error)]
pub enum KafkaHandleError {
    #[error(transparent)]
    Producer(#[from] ProducerError),
    #[error(transparent)]
    MetadataClient(#[from] MetadataClientError),
}

/// One record's send: its index in the batch, its topic, and Kafka's answer.
type Sent<'a> = (usize, &'a str, Result<Delivery, ProduceError>);

/// Records of a batch Kafka did not acknowledge, to be sent again.
#[derive(Debug, thiserror::Error)]
#[error("Kafka did not acknowledge {} records", .remaining.len())]
pub struct UnsentRecords {
    /// Their indexes in the batch, in order.
    pub remaining: Vec<usize>,
    /// The first refusal.
    #[source]
    pub refused: RefusedRecords,
}

pub struct KafkaHandle {
    kafka: ResolvedKafka,
    producer: Producer,
    /// One client for end offsets and probes, kept for the process's life rather than made per window.
    metadata: Arc<MetadataClient>,
    /// Topics made sure of; a Tokio mutex because it is held across the admin calls that create one.
    known_topics: tokio::sync::Mutex<HashSet<String>>,
    /// Where this process's records sit in each partition, for the spool's read-back.
    written: WrittenOffsets,
    telemetry: Arc<Telemetry>,
}

impl std::fmt::Debug for KafkaHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KafkaHandle")
            .field("bootstrap", &self.kafka.bootstrap)
            .finish_non_exhaustive()
    }
}

impl KafkaHandle {
    /// Makes the producer (its counters shown on `/metrics`) and the metadata client; nothing waits for the
    /// cluster yet.
    pub fn new(kafka: ResolvedKafka, telemetry: Arc<Telemetry>) -> Result<Self, KafkaHandleError> {
        let producer = Producer::new(&kafka)?;
        *telemetry
            .producer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(producer.metrics_handle());
        Ok(Self {
            metadata: Arc::new(MetadataClient::new(&kafka)?),
            kafka,
            producer,
            known_topics: tokio::sync::Mutex::default(),
            written: WrittenOffsets::default(),
            telemetry,
        })
    }

    /// Where the handle connects, for messages.
    pub fn bootstrap(&self) -> &str {
        &self.kafka.bootstrap
    }

    /// The connection settings, for clients of their own (a sink's consumer group).
    pub fn resolved(&self) -> &ResolvedKafka {
        &self.kafka
    }

    /// Where this process's records sit in each partition it wrote.
    pub fn written(&self) -> &WrittenOffsets {
        &self.written
    }

    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Makes sure `topic` exists, creating it as `creation` says. A topic is asked about once per process: the
    /// first caller's `creation` decides. A refusal to create is logged, not fatal: the cluster may create
    /// topics on first write, or an administrator may create it. The error says Kafka could not be asked (a
    /// client not created, the cluster unreachable).
    pub async fn ensure_topic(&self, topic: &str, creation: TopicCreation) -> Result<(), TopicAdminError> {
        let mut known = self.known_topics.lock().await;
        if known.contains(topic) {
            return Ok(());
        }
        let admin = TopicAdmin::new(&self.kafka)?;
        let exists = admin.list().await?.iter().any(|listed| listed.name == topic);
        if let (false, TopicCreation::Create { partitions }) = (exists, creation) {
            match admin.create(topic, partitions, None).await {
                Ok(replication_factor) => {
                    tracing::info!(%topic, partitions, replication_factor, "Created Kafka topic.");
                    // Empty: nothing to ask the cluster, which would delay the first write.
                    let ends = (0..partitions).map(|partition| (partition, 0)).collect();
                    self.written.note_first_seen(topic, &ends);
                }
                Err(error) if error.already_exists() => {}
                Err(error @ TopicAdminError::Unreachable { .. }) => return Err(error),
                Err(error) => tracing::warn!(
                    %topic, error = %one_line(&error), "Cannot create the Kafka topic; writing anyway (the cluster may create it, or create it with `semaphore topics create`)."
                ),
            }
        }
        // Where the topic ends before this process writes to it: the spool's read-back starts no earlier.
        if !self.written.knows(topic) {
            match self.end_offsets(topic).await {
                Ok(ends) => self.written.note_first_seen(topic, &ends),
                Err(error) => {
                    tracing::debug!(%topic, error = %one_line(&error), "Cannot learn where the topic ends.")
                }
            }
        }
        known.insert(topic.to_owned());
        Ok(())
    }

    /// Sends every record to `topic` and waits for Kafka's acknowledgements; the records Kafka refused are
    /// returned to be sent again. The topic is not made sure of here: see [`KafkaHandle::ensure_topic`].
    pub async fn send_all(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), UnsentRecords> {
        self.send_each(records.iter().map(|record| (topic, record))).await
    }

    /// As [`KafkaHandle::send_all`], each record to its own topic, sent in the order given (so records of one
    /// partition keep that order); `remaining` indexes the iterator's items.
    pub async fn send_each<'a>(
        &'a self,
        records: impl Iterator<Item = (&'a str, &'a EncodedRecord)>,
    ) -> Result<(), UnsentRecords> {
        // Boxed (see `send_future`) and collected before the first await.
        let sends: Vec<SendFuture<'a, Sent<'a>>> = records
            .enumerate()
            .map(|(index, (topic, record))| {
                boxed(async move {
                    let headers = record.headers();
                    let outgoing = OutgoingRecord {
                        topic,
                        key: record.key.as_deref().map(str::as_bytes),
                        payload: &record.payload,
                        timestamp_ms: Some(record.timestamp_ms),
                        headers: headers.to_vec(),
                    };
                    (index, topic, self.producer.send(&outgoing).await)
                })
            })
            .collect();
        let count = sends.len();
        let results: Vec<Sent<'_>> = futures::stream::iter(sends)
            .buffer_unordered(SENDS_IN_FLIGHT)
            .collect()
            .await;
        self.written
            .note_acknowledged(results.iter().filter_map(|(_, topic, result)| {
                let delivery = result.as_ref().ok()?;
                Some((*topic, delivery.partition, delivery.offset))
            }));
        let mut remaining = Vec::new();
        let mut first_refusal = None;
        for (index, _, result) in results {
            if let Err(error) = result {
                remaining.push(index);
                first_refusal.get_or_insert(error);
            }
        }
        let Some(first_refusal) = first_refusal else {
            if count > 0 {
                self.telemetry.kafka_reached();
            }
            return Ok(());
        };
        remaining.sort_unstable();
        Err(UnsentRecords {
            remaining,
            refused: RefusedRecords::from(first_refusal),
        })
    }

    /// Each partition's end offset of `topic` now (none when the topic does not exist yet).
    pub async fn end_offsets(&self, topic: &str) -> Result<BTreeMap<i32, i64>, ReadbackError> {
        let metadata = self.metadata.clone();
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || metadata.end_offsets(&topic))
            .await
            .expect("the read-back task does not panic")
    }

    /// The payloads written to `topic` since `offsets` (from its beginning where `offsets` has no partition).
    pub async fn payloads_since(
        &self,
        topic: &str,
        offsets: &BTreeMap<i32, i64>,
    ) -> Result<Vec<Vec<u8>>, ReadbackError> {
        let kafka = self.kafka.clone();
        let topic = topic.to_owned();
        let offsets = offsets.clone();
        tokio::task::spawn_blocking(move || readback::payloads_since(&kafka, &topic, &offsets))
            .await
            .expect("the read-back task does not panic")
    }

    /// As [`KafkaHandle::payloads_since`], of the partitions `offsets` lists only, keeping `map(topic,
    /// payload)` of each rather than the payload; with each partition's end, where the reading stopped.
    pub async fn read_listed_since<T: Send + 'static>(
        &self,
        topic: &str,
        offsets: &PartitionOffsets,
        map: fn(&str, &[u8]) -> T,
    ) -> Result<(Vec<T>, PartitionOffsets), ReadbackError> {
        let kafka = self.kafka.clone();
        let topic = topic.to_owned();
        let offsets = offsets.clone();
        tokio::task::spawn_blocking(move || {
            let mut mapped = Vec::new();
            readback::read_since(&kafka, &topic, &offsets, Unlisted::Skip, |payload| {
                mapped.push(map(&topic, payload))
            })
            .map(|ends| (mapped, ends))
        })
        .await
        .expect("the read-back task does not panic")
    }

    /// Asks the cluster for its metadata once: whether Kafka answers now.
    pub async fn reach(&self) -> Result<(), ProbeError> {
        let metadata = self.metadata.clone();
        tokio::task::spawn_blocking(move || metadata.probe())
            .await
            .expect("the probe task does not panic")
    }

    /// Probes Kafka every few seconds until `stop`, keeping `semaphore_kafka_up` and `/readyz` true to what
    /// the cluster answers, and logging when it goes away and comes back.
    pub async fn probe(self: Arc<Self>, stop: Stop) {
        let mut was_up = None;
        loop {
            let up = self.reach().await;
            let reached = up.is_ok();
            match &up {
                Ok(()) => self.telemetry.kafka_reached(),
                Err(error) => self.telemetry.kafka_not_reached(error),
            }
            match (&up, was_up) {
                (Err(error), Some(true) | None) => {
                    tracing::warn!(bootstrap = %self.kafka.bootstrap, %error, "Kafka is unreachable; records wait (nothing is dropped) and windows do not advance.");
                }
                (Ok(()), Some(false)) => {
                    tracing::info!(bootstrap = %self.kafka.bootstrap, "Kafka is reachable again.");
                }
                _ => {}
            }
            was_up = Some(reached);
            if !stop.sleep(PROBE_INTERVAL).await {
                return;
            }
        }
    }

    /// Waits up to `timeout` for Kafka to acknowledge every record the producer holds (the drain's last
    /// step); the error says how many were still pending.
    pub async fn flush(&self, timeout: Duration) -> Result<(), usize> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .expect("flush does not panic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What sinks and the Kafka output get when nothing says otherwise: the partition count `topics create`
    /// and `[outputs.kafka] partitions` default to.
    #[test]
    fn topics_are_created_with_six_partitions_by_default() {
        assert_eq!(TopicCreation::default(), TopicCreation::Create { partitions: 6 });
    }
}
