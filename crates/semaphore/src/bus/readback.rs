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
use crate::bus::contact::{ContactError, first_contact};

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// A read-back covers one window of one source, or what one spooled outage may have left: seconds of reading at
/// most, unless Kafka is unreachable.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// A topic that could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadbackError {
    /// Kafka refused a request, or did not answer it.
    #[error("cannot read back topic {topic}")]
    Kafka {
        topic: String,
        #[source]
        source: KafkaError,
    },
    /// Reading did not reach the end of every partition in time.
    #[error("cannot read back topic {topic}: not at the end of partitions {partitions:?} after {waited:?}")]
    Unfinished {
        topic: String,
        partitions: Vec<i32>,
        waited: Duration,
    },
}

fn failed(topic: &str, source: KafkaError) -> ReadbackError {
    ReadbackError::Kafka {
        topic: topic.to_owned(),
        source,
    }
}

/// The cluster did not answer a metadata request (librdkafka's error, as it says it), or refuses this client
/// for good (credentials, certificate).
pub type ProbeError = ContactError;

/// The read-back and probe client could not be created from the connection settings.
#[derive(Debug, thiserror::Error)]
#[error("cannot create a Kafka client")]
pub struct MetadataClientError(#[source] pub KafkaError);

/// A client for end offsets and reachability probes. Long-lived callers keep one: a librdkafka client is
/// costly to create (threads, connections), too costly to make per window or per probe.
pub struct MetadataClient {
    consumer: BaseConsumer<QuietContext>,
    /// The connection settings, for the refusal's message.
    kafka: ResolvedKafka,
}

impl MetadataClient {
    pub fn new(kafka: &ResolvedKafka) -> Result<Self, MetadataClientError> {
        let consumer = consumer(kafka).map_err(MetadataClientError)?;
        Ok(Self {
            consumer,
            kafka: kafka.clone(),
        })
    }

    /// Each partition's end offset of `topic` now. Blocking.
    pub fn end_offsets(&self, topic: &str) -> Result<BTreeMap<i32, i64>, ReadbackError> {
        end_offsets(&self.consumer, topic)
    }

    /// Whether the cluster answers a metadata request within 10 s (generous: a busy broker is slow, not
    /// down, and readiness should rather pass falsely than fail falsely), and whether it refuses this client
    /// for good, which is said as soon as librdkafka reports it. Blocking.
    pub fn probe(&self) -> Result<(), ProbeError> {
        first_contact(&self.consumer, &self.kafka, METADATA_TIMEOUT)
    }
}

fn consumer(kafka: &ResolvedKafka) -> Result<BaseConsumer<QuietContext>, KafkaError> {
    let mut config = kafka.client_config();
    config
        .set("group.id", "semaphore-readback-unused")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        // A start offset retention already deleted reads from what is left, not from the end (librdkafka's
        // default), where the reading would wait for offsets that never come.
        .set("auto.offset.reset", "earliest");
    config.create_with_context(QuietContext::default())
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
    let mut payloads = Vec::new();
    read_since(kafka, topic, from, Unlisted::FromStart, |payload| {
        payloads.push(payload.to_vec())
    })?;
    Ok(payloads)
}

/// What [`read_since`] does with a partition `from` does not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlisted {
    /// Reads it from its start: a partition created since.
    FromStart,
    /// Leaves it unread.
    Skip,
}

/// As [`payloads_since`], handing each payload to `each` rather than keeping them all; returns each
/// partition's end, where the reading stopped. Blocking.
pub fn read_since(
    kafka: &ResolvedKafka,
    topic: &str,
    from: &BTreeMap<i32, i64>,
    unlisted: Unlisted,
    mut each: impl FnMut(&[u8]),
) -> Result<BTreeMap<i32, i64>, ReadbackError> {
    let consumer = consumer(kafka).map_err(|error| failed(topic, error))?;
    let ends = end_offsets(&consumer, topic)?;
    let mut assignment = TopicPartitionList::new();
    let mut remaining: BTreeMap<i32, i64> = BTreeMap::new();
    for (partition, end) in &ends {
        let start = match (from.get(partition), unlisted) {
            (Some(start), _) => *start,
            (None, Unlisted::FromStart) => 0,
            (None, Unlisted::Skip) => continue,
        };
        if start < *end {
            assignment
                .add_partition_offset(topic, *partition, Offset::Offset(start))
                .map_err(|error| failed(topic, error))?;
            remaining.insert(*partition, *end);
        }
    }
    if remaining.is_empty() {
        return Ok(ends);
    }
    consumer
        .assign(&assignment)
        .map_err(|error| failed(topic, error))?;
    let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
    while !remaining.is_empty() {
        if tokio::time::Instant::now() > deadline {
            return Err(ReadbackError::Unfinished {
                topic: topic.to_owned(),
                partitions: remaining.keys().copied().collect(),
                waited: READ_TIMEOUT,
            });
        }
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Err(error)) => return Err(failed(topic, error)),
            Some(Ok(message)) => {
                let partition = message.partition();
                if let Some(end) = remaining.get(&partition).copied() {
                    if message.offset() < end {
                        each(message.payload().unwrap_or_default());
                    }
                    if message.offset() + 1 >= end {
                        remaining.remove(&partition);
                    }
                }
            }
        }
    }
    Ok(ends)
}

#[cfg(test)]
mod tests {
    use rdkafka::error::RDKafkaErrorCode;

    use super::*;
    use crate::error_text::one_line;

    /// Issue 10: the error names the topic and keeps Kafka's answer as its source, which the one-line form
    /// says once (librdkafka's code included, though both the answer and its code name it).
    #[test]
    fn a_kafka_failure_is_the_source_said_once() {
        let answer = || KafkaError::MetadataFetch(RDKafkaErrorCode::BrokerTransportFailure);
        let error = failed("meraki.uplinks", answer());
        assert_eq!(error.to_string(), "cannot read back topic meraki.uplinks");
        let line = one_line(&error);
        assert_eq!(
            line,
            format!("cannot read back topic meraki.uplinks: {}", answer())
        );
        let code = RDKafkaErrorCode::BrokerTransportFailure.to_string();
        assert_eq!(line.matches(&code).count(), 1, "{line}");
    }
}
