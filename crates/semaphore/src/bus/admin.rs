//! Topic administration: list, create (6 partitions by default, as Confluent Cloud), describe (partitions,
//! leaders, replicas, watermarks) and delete. librdkafka's metadata calls block, so they run on Tokio's
//! blocking pool.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde::Serialize;

use crate::bus::config::ResolvedKafka;

/// Confluent Cloud's default partition count; semaphore's too.
pub const DEFAULT_PARTITIONS: i32 = 6;
/// How long a metadata or admin request may take before the broker counts as unreachable.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TopicAdminError {
    #[error(
        "cannot reach Kafka at {bootstrap} within {timeout:?}: {reason}; check the brokers (--brokers, SEMAPHORE_BROKERS or [kafka] brokers) and that the broker runs"
    )]
    Unreachable {
        bootstrap: String,
        timeout: Duration,
        reason: String,
    },
    #[error("no topic {topic} on {bootstrap}")]
    NotFound { topic: String, bootstrap: String },
    #[error("Kafka refused to {action} topic {topic}: {reason}")]
    Refused {
        action: &'static str,
        topic: String,
        reason: String,
    },
    #[error("cannot create a Kafka client: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicSummary {
    pub name: String,
    pub partitions: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionDescription {
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub in_sync_replicas: Vec<i32>,
    pub low_watermark: i64,
    pub high_watermark: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicDescription {
    pub name: String,
    pub partitions: Vec<PartitionDescription>,
}

impl TopicDescription {
    /// Records currently in the topic (high minus low watermark, over all partitions).
    pub fn records(&self) -> i64 {
        self.partitions
            .iter()
            .map(|partition| partition.high_watermark - partition.low_watermark)
            .sum()
    }
}

fn admin_options() -> AdminOptions {
    AdminOptions::new()
        .operation_timeout(Some(ADMIN_TIMEOUT))
        .request_timeout(Some(ADMIN_TIMEOUT))
}

/// The first topic Kafka refused to `action`, as an error.
fn refused(action: &'static str, results: Vec<rdkafka::admin::TopicResult>) -> Result<(), TopicAdminError> {
    match results.into_iter().find_map(Result::err) {
        Some((topic, code)) => Err(TopicAdminError::Refused {
            action,
            topic,
            reason: code.to_string(),
        }),
        None => Ok(()),
    }
}

pub struct TopicAdmin {
    kafka: ResolvedKafka,
    admin: AdminClient<DefaultClientContext>,
}

impl TopicAdmin {
    pub fn new(kafka: &ResolvedKafka) -> Result<Self, TopicAdminError> {
        let admin = kafka.client_config().create()?;
        Ok(Self {
            kafka: kafka.clone(),
            admin,
        })
    }

    fn unreachable(&self, reason: impl ToString) -> TopicAdminError {
        TopicAdminError::Unreachable {
            bootstrap: self.kafka.bootstrap.clone(),
            timeout: ADMIN_TIMEOUT,
            reason: reason.to_string(),
        }
    }

    /// Runs `work` with a metadata client on Tokio's blocking pool (librdkafka's metadata calls block); any
    /// failure there means the cluster could not be reached.
    async fn with_metadata_client<T: Send + 'static>(
        &self,
        work: impl FnOnce(&BaseConsumer) -> Result<T, String> + Send + 'static,
    ) -> Result<T, TopicAdminError> {
        let kafka = self.kafka.clone();
        let result = tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = kafka
                .client_config()
                .create()
                .map_err(|error| error.to_string())?;
            work(&consumer)
        })
        .await
        .expect("the metadata task does not panic");
        result.map_err(|reason| self.unreachable(reason))
    }

    /// Every topic but Kafka's internal ones, by name.
    pub async fn list(&self) -> Result<Vec<TopicSummary>, TopicAdminError> {
        self.with_metadata_client(|consumer| {
            let metadata = consumer
                .fetch_metadata(None, ADMIN_TIMEOUT)
                .map_err(|error| error.to_string())?;
            let mut topics: Vec<TopicSummary> = metadata
                .topics()
                .iter()
                .filter(|topic| !topic.name().starts_with("__"))
                .map(|topic| TopicSummary {
                    name: topic.name().to_owned(),
                    partitions: topic.partitions().len(),
                })
                .collect();
            topics.sort_by(|left, right| left.name.cmp(&right.name));
            Ok(topics)
        })
        .await
    }

    /// Replicas per partition when none is given: 3 (Confluent Cloud's and most clusters' minimum for
    /// durability), or every broker where the cluster has fewer (1 on the embedded broker).
    pub async fn default_replication_factor(&self) -> Result<i32, TopicAdminError> {
        let brokers = self
            .with_metadata_client(|consumer| {
                let metadata = consumer
                    .fetch_metadata(None, ADMIN_TIMEOUT)
                    .map_err(|error| error.to_string())?;
                Ok(metadata.brokers().len())
            })
            .await?;
        Ok(brokers.clamp(1, 3) as i32)
    }

    pub async fn create(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i32,
    ) -> Result<(), TopicAdminError> {
        let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication_factor));
        let results = self
            .admin
            .create_topics([&new_topic], &admin_options())
            .await
            .map_err(|error| self.unreachable(error))?;
        refused("create", results)
    }

    pub async fn delete(&self, topic: &str) -> Result<(), TopicAdminError> {
        let results = self
            .admin
            .delete_topics(&[topic], &admin_options())
            .await
            .map_err(|error| self.unreachable(error))?;
        refused("delete", results)
    }

    /// Partitions with leaders, replicas and watermarks.
    pub async fn describe(&self, topic: &str) -> Result<TopicDescription, TopicAdminError> {
        let name = topic.to_owned();
        let described = self.with_metadata_client(move |consumer| {
            let metadata = consumer
                .fetch_metadata(Some(&name), ADMIN_TIMEOUT)
                .map_err(|error| error.to_string())?;
            let Some(topic) = metadata.topics().iter().find(|topic| topic.name() == name) else {
                return Ok(None);
            };
            if topic.error().is_some() || topic.partitions().is_empty() {
                return Ok(None);
            }
            let mut partitions = Vec::new();
            for partition in topic.partitions() {
                let (low, high) = consumer
                    .fetch_watermarks(&name, partition.id(), ADMIN_TIMEOUT)
                    .map_err(|error| error.to_string())?;
                partitions.push(PartitionDescription {
                    partition: partition.id(),
                    leader: partition.leader(),
                    replicas: partition.replicas().to_vec(),
                    in_sync_replicas: partition.isr().to_vec(),
                    low_watermark: low,
                    high_watermark: high,
                });
            }
            partitions.sort_by_key(|partition| partition.partition);
            Ok(Some(TopicDescription { name, partitions }))
        });
        described.await?.ok_or_else(|| TopicAdminError::NotFound {
            topic: topic.to_owned(),
            bootstrap: self.kafka.bootstrap.clone(),
        })
    }
}
