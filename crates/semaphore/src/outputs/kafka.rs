//! The Kafka output: records onto a topic per source through the process's [`KafkaHandle`] (shared with the
//! sinks), each topic made sure of on first use (created with 6 partitions unless `[outputs.kafka]` says
//! otherwise), and the read-back a restarted source uses to skip what Kafka already holds. Its table and
//! validation are in `kafka/config.rs`.

mod already_in_kafka;
mod config;
pub mod spooling;

pub use config::{KafkaOutputConfig, KafkaOutputFile};
pub use spooling::KafkaSpool;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::bus::handle::{KafkaHandle, TopicCreation};
use crate::bus::readback::ReadbackError;
use crate::error_text::one_line;
use crate::outputs::component::Output;
use crate::outputs::{OutputFailure, WriteError};
use crate::record::EncodedRecord;

#[derive(Debug)]
pub struct KafkaOutput {
    kafka: Arc<KafkaHandle>,
    /// `create_topics` and `partitions`: what becomes of a topic it writes that the cluster does not have.
    topic_creation: TopicCreation,
    /// Where records go that Kafka cannot take now, for sources that cannot wait (`write_or_spool`).
    spool: Option<Arc<KafkaSpool>>,
}

impl Output for KafkaOutput {
    fn name(&self) -> String {
        KafkaOutput::name(self)
    }

    fn label(&self) -> &'static str {
        "kafka"
    }

    fn write<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        Box::pin(async move {
            KafkaOutput::write(self, topic, records)
                .await
                .map_err(OutputFailure::Retry)
        })
    }

    fn write_or_spool<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        Box::pin(async move {
            KafkaOutput::write_or_spool(self, topic, records)
                .await
                .map_err(OutputFailure::Retry)
        })
    }

    fn spool_now<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        Box::pin(async move {
            KafkaOutput::spool_now(self, topic, records)
                .await
                .map_err(OutputFailure::Retry)
        })
    }

    fn as_kafka(&self) -> Option<&KafkaOutput> {
        Some(self)
    }
}

impl KafkaOutput {
    pub fn new(
        kafka: Arc<KafkaHandle>,
        topic_creation: TopicCreation,
        spool: Option<Arc<KafkaSpool>>,
    ) -> Self {
        Self {
            kafka,
            topic_creation,
            spool,
        }
    }

    /// What `create_topics` and `partitions` say, for the spool's replay.
    pub fn topic_creation(&self) -> TopicCreation {
        self.topic_creation
    }

    pub fn name(&self) -> String {
        format!("kafka {}", self.kafka.bootstrap())
    }

    /// The handle it writes through.
    pub fn handle(&self) -> &Arc<KafkaHandle> {
        &self.kafka
    }

    /// Makes sure the topic exists, sends every record and waits for Kafka's acknowledgements; the records
    /// Kafka refused are returned to be sent again.
    pub async fn write(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), WriteError> {
        self.kafka
            .ensure_topic(topic, self.topic_creation)
            .await
            .map_err(|error| WriteError {
                remaining: (0..records.len()).collect(),
                reason: one_line(&error),
            })?;
        self.kafka
            .send_all(topic, records)
            .await
            .map_err(|unsent| WriteError {
                remaining: unsent.remaining,
                reason: one_line(&unsent.refused),
            })
    }

    /// As [`KafkaOutput::write`] while Kafka takes the records within `spool_after_s`; what it does not is
    /// spooled, and so is everything after it until the spool is empty again. Without a spool, `write`.
    pub async fn write_or_spool(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), WriteError> {
        let Some(spool) = &self.spool else {
            return self.write(topic, records).await;
        };
        if spool.in_use() {
            let all: Vec<usize> = (0..records.len()).collect();
            return spool
                .append(
                    topic,
                    records,
                    &all,
                    self.kafka.written().unacknowledged_from(topic),
                )
                .await;
        }
        let unsent = match self.write_within(topic, records, spool.spool_after()).await {
            Ok(()) => return Ok(()),
            Err(unsent) => unsent,
        };
        tracing::warn!(
            %topic, records = unsent.remaining.len(), error = %unsent.reason,
            "Kafka did not take these records in time; spooling them to disk, with every record after them until Kafka takes them (nothing is dropped)."
        );
        spool.note_possibly_written();
        spool
            .append(
                topic,
                records,
                &unsent.remaining,
                self.kafka.written().unacknowledged_from(topic),
            )
            .await
    }

    /// Spools the batch without trying Kafka first: its source is backing up behind Kafka. Records then go
    /// to the spool until it is empty again, as after an outage. Without a spool, `write`.
    pub async fn spool_now(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), WriteError> {
        let Some(spool) = &self.spool else {
            return self.write(topic, records).await;
        };
        if !spool.in_use() {
            tracing::warn!(
                %topic, records = records.len(),
                "Kafka is not keeping up with a source that cannot hold its senders back; spooling to disk until it catches up (nothing is dropped)."
            );
        }
        let all: Vec<usize> = (0..records.len()).collect();
        spool
            .append(
                topic,
                records,
                &all,
                self.kafka.written().unacknowledged_from(topic),
            )
            .await
    }

    /// Makes sure of the topic and sends, taking back from librdkafka's queue what Kafka leaves waiting
    /// longer than `after`.
    async fn write_within(
        &self,
        topic: &str,
        records: &[EncodedRecord],
        after: std::time::Duration,
    ) -> Result<(), WriteError> {
        self.kafka
            .ensure_topic(topic, self.topic_creation)
            .await
            .map_err(|error| WriteError {
                remaining: (0..records.len()).collect(),
                reason: one_line(&error),
            })?;
        spooling::send_taking_back(&self.kafka, self.kafka.send_all(topic, records), after).await
    }

    /// Each partition's end offset of `topic` now (none when the topic does not exist yet): where a window's
    /// records will start, journaled before the first is sent.
    pub async fn end_offsets(&self, topic: &str) -> Result<BTreeMap<i32, i64>, ReadbackError> {
        self.kafka.end_offsets(topic).await
    }

    /// The payloads written to `topic` since `offsets`: what an interrupted window already wrote.
    pub async fn payloads_since(
        &self,
        topic: &str,
        offsets: &BTreeMap<i32, i64>,
    ) -> Result<Vec<Vec<u8>>, ReadbackError> {
        self.kafka.payloads_since(topic, offsets).await
    }
}
