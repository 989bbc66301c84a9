//! The Kafka output: records onto a topic per source through the shared producer, the topic created on first
//! use (6 partitions, when the cluster allows it), and the read-back a restarted source uses to skip what
//! Kafka already holds. Its table and validation are in `kafka/config.rs`.

mod config;

pub use config::{KafkaOutputConfig, KafkaOutputFile};

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;

use crate::bus::admin::{TopicAdmin, TopicAdminError};
use crate::bus::config::ResolvedKafka;
use crate::bus::producer::{OutgoingRecord, ProduceError, Producer, RefusedRecords};
use crate::bus::readback::{self, MetadataClient, MetadataClientError, ProbeError, ReadbackError};
use crate::error_text::one_line;
use crate::outputs::component::Output;
use crate::outputs::{OutputFailure, WriteError};
use crate::record::EncodedRecord;
use crate::send_future::{SendFuture, boxed};
use crate::shutdown::Stop;
use crate::telemetry::Telemetry;

/// Sends in flight at once per batch: enough to keep librdkafka's batches full, bounded so a large back-fill
/// window does not hold every future at once.
const SENDS_IN_FLIGHT: usize = 4096;
/// How often Kafka's reachability is probed for `/readyz` and `semaphore_kafka_up`.
const PROBE_INTERVAL: Duration = Duration::from_secs(5);

pub struct KafkaOutput {
    kafka: ResolvedKafka,
    producer: Producer,
    /// One client for end offsets and probes, kept for the output's life rather than made per window.
    metadata: Arc<MetadataClient>,
    create_topics: bool,
    partitions: i32,
    /// Topics known to exist; a Tokio mutex because it is held across the admin calls that create one.
    ready_topics: tokio::sync::Mutex<HashSet<String>>,
    telemetry: Arc<Telemetry>,
}

impl std::fmt::Debug for KafkaOutput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KafkaOutput")
            .field("bootstrap", &self.kafka.bootstrap)
            .finish_non_exhaustive()
    }
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

    fn as_kafka(&self) -> Option<&KafkaOutput> {
        Some(self)
    }
}

impl KafkaOutput {
    pub fn new(
        kafka: ResolvedKafka,
        producer: Producer,
        create_topics: bool,
        partitions: i32,
        telemetry: Arc<Telemetry>,
    ) -> Result<Self, MetadataClientError> {
        Ok(Self {
            metadata: Arc::new(MetadataClient::new(&kafka)?),
            kafka,
            producer,
            create_topics,
            partitions,
            ready_topics: tokio::sync::Mutex::default(),
            telemetry,
        })
    }

    pub fn name(&self) -> String {
        format!("kafka {}", self.kafka.bootstrap)
    }

    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    pub fn kafka(&self) -> &ResolvedKafka {
        &self.kafka
    }

    /// Creates `topic` if it is missing and creating is allowed. A refusal is logged, not fatal: the cluster
    /// may create topics on first write, or an administrator may create it. The error says Kafka could not
    /// be asked (a client not created, the cluster unreachable).
    pub async fn ensure_topic(&self, topic: &str) -> Result<(), TopicAdminError> {
        let mut ready = self.ready_topics.lock().await;
        if ready.contains(topic) {
            return Ok(());
        }
        let admin = TopicAdmin::new(&self.kafka)?;
        let exists = admin.list().await?.iter().any(|known| known.name == topic);
        if !exists && self.create_topics {
            match admin.create(topic, self.partitions, None).await {
                Ok(replication_factor) => tracing::info!(
                    %topic, partitions = self.partitions, replication_factor, "Created Kafka topic."
                ),
                Err(error) if error.already_exists() => {}
                Err(error @ TopicAdminError::Unreachable { .. }) => return Err(error),
                Err(error) => tracing::warn!(
                    %topic, error = %one_line(&error), "Cannot create the Kafka topic; writing anyway (the cluster may create it, or create it with `semaphore topics create`)."
                ),
            }
        }
        ready.insert(topic.to_owned());
        Ok(())
    }

    /// Sends every record and waits for Kafka's acknowledgements; the records Kafka refused are returned to
    /// be sent again.
    pub async fn write(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), WriteError> {
        self.ensure_topic(topic).await.map_err(|error| WriteError {
            remaining: (0..records.len()).collect(),
            reason: one_line(&error),
        })?;
        // Boxed (see `send_future`) and collected before the first await.
        let sends: Vec<SendFuture<'_, (usize, Result<(), ProduceError>)>> = records
            .iter()
            .enumerate()
            .map(|(index, record)| {
                boxed(async move {
                    let headers = record.headers();
                    let outgoing = OutgoingRecord {
                        topic,
                        key: record.key.as_deref().map(str::as_bytes),
                        payload: &record.payload,
                        timestamp_ms: Some(record.timestamp_ms),
                        headers: headers.to_vec(),
                    };
                    (index, self.producer.send(&outgoing).await.map(|_| ()))
                })
            })
            .collect();
        let results: Vec<(usize, Result<(), ProduceError>)> = futures::stream::iter(sends)
            .buffer_unordered(SENDS_IN_FLIGHT)
            .collect()
            .await;
        let mut remaining = Vec::new();
        let mut first_refusal = None;
        for (index, result) in results {
            if let Err(error) = result {
                remaining.push(index);
                first_refusal.get_or_insert(error);
            }
        }
        if remaining.is_empty() {
            if !records.is_empty() {
                self.telemetry.kafka_reached();
            }
            return Ok(());
        }
        remaining.sort_unstable();
        let refused = RefusedRecords::from(first_refusal.expect("set with the first failure"));
        Err(WriteError {
            remaining,
            reason: one_line(&refused),
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

    /// The payloads written to `topic` since `offsets`.
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

    /// Asks the cluster for its metadata once: whether Kafka answers now.
    pub async fn reach(&self) -> Result<(), ProbeError> {
        let metadata = self.metadata.clone();
        tokio::task::spawn_blocking(move || metadata.probe())
            .await
            .expect("the probe task does not panic")
    }

    /// Where the output connects, for messages.
    pub fn bootstrap(&self) -> &str {
        &self.kafka.bootstrap
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
}
