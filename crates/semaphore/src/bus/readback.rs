//! Reading back what a topic holds since given offsets: how a source, restarted after a crash in the middle
//! of a window, learns which of the window's records Kafka already has (so it writes only the rest).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::bus::config::ResolvedKafka;
use crate::bus::consumer::QuietContext;

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// A read-back covers one window of one source: seconds of reading at most, unless Kafka is unreachable.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
#[error("cannot read back topic {topic}: {reason}")]
pub struct ReadbackError {
    pub topic: String,
    pub reason: String,
}

fn failed(topic: &str, reason: impl ToString) -> ReadbackError {
    ReadbackError {
        topic: topic.to_owned(),
        reason: reason.to_string(),
    }
}

/// A client for end offsets and reachability probes. Long-lived callers keep one: a librdkafka client is
/// costly to create (threads, connections), too costly to make per window or per probe.
pub struct MetadataClient(BaseConsumer<QuietContext>);

impl MetadataClient {
    pub fn new(kafka: &ResolvedKafka) -> Result<Self, String> {
        consumer(kafka)
            .map(Self)
            .map_err(|error| format!("cannot create a Kafka client: {error}"))
    }

    /// Each partition's end offset of `topic` now. Blocking.
    pub fn end_offsets(&self, topic: &str) -> Result<BTreeMap<i32, i64>, ReadbackError> {
        end_offsets(&self.0, topic)
    }

    /// Whether the cluster answers a metadata request within 10 s. Blocking.
    pub fn probe(&self) -> Result<(), String> {
        probe(&self.0)
    }
}

fn consumer(kafka: &ResolvedKafka) -> Result<BaseConsumer<QuietContext>, KafkaError> {
    let mut config = kafka.client_config();
    config
        .set("group.id", "semaphore-readback-unused")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    config.create_with_context(QuietContext)
}

/// Each partition's end offset (high watermark) now. A topic that does not exist yet has none. Blocking.
fn end_offsets(
    consumer: &BaseConsumer<QuietContext>,
    topic: &str,
) -> Result<BTreeMap<i32, i64>, ReadbackError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .map_err(|error| failed(topic, error))?;
    let mut offsets = BTreeMap::new();
    if let Some(described) = metadata
        .topics()
        .iter()
        .find(|described| described.name() == topic)
    {
        if described.error().is_some() {
            return Ok(offsets);
        }
        for partition in described.partitions() {
            let (_, high) = consumer
                .fetch_watermarks(topic, partition.id(), METADATA_TIMEOUT)
                .map_err(|error| failed(topic, error))?;
            offsets.insert(partition.id(), high);
        }
    }
    Ok(offsets)
}

/// The payloads written to `topic` since `from` (partition → offset), up to each partition's end now.
/// Partitions missing from `from` (created since) are read from their start. Blocking.
pub fn payloads_since(
    kafka: &ResolvedKafka,
    topic: &str,
    from: &BTreeMap<i32, i64>,
) -> Result<Vec<Vec<u8>>, ReadbackError> {
    let consumer = consumer(kafka).map_err(|error| failed(topic, error))?;
    let ends = end_offsets(&consumer, topic)?;
    let mut assignment = TopicPartitionList::new();
    let mut remaining: BTreeMap<i32, i64> = BTreeMap::new();
    for (partition, end) in &ends {
        let start = from.get(partition).copied().unwrap_or(0);
        if start < *end {
            assignment
                .add_partition_offset(topic, *partition, Offset::Offset(start))
                .map_err(|error| failed(topic, error))?;
            remaining.insert(*partition, *end);
        }
    }
    let mut payloads = Vec::new();
    if remaining.is_empty() {
        return Ok(payloads);
    }
    consumer
        .assign(&assignment)
        .map_err(|error| failed(topic, error))?;
    let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
    while !remaining.is_empty() {
        if tokio::time::Instant::now() > deadline {
            return Err(failed(
                topic,
                format!(
                    "not at the end of partitions {:?} after {READ_TIMEOUT:?}",
                    remaining.keys()
                ),
            ));
        }
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Err(error)) => return Err(failed(topic, error)),
            Some(Ok(message)) => {
                let partition = message.partition();
                if let Some(end) = remaining.get(&partition).copied() {
                    if message.offset() < end {
                        payloads.push(message.payload().unwrap_or_default().to_vec());
                    }
                    if message.offset() + 1 >= end {
                        remaining.remove(&partition);
                    }
                }
            }
        }
    }
    Ok(payloads)
}

/// Whether the cluster answers a metadata request within a few seconds. Blocking.
/// Whether the cluster answers a metadata request within 10 s (generous: a busy broker is slow, not down,
/// and readiness should rather pass falsely than fail falsely). Blocking.
fn probe(consumer: &BaseConsumer<QuietContext>) -> Result<(), String> {
    consumer
        .fetch_metadata(None, METADATA_TIMEOUT)
        .map(|_| ())
        .map_err(|error| error.to_string())
}
