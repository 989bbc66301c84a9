//! Topic administration: list, create (6 partitions by default, as Confluent Cloud), describe (partitions,
//! leaders, replicas, watermarks) and delete. librdkafka's metadata calls block, so they run on Tokio's
//! blocking pool. Names, partition counts and replication factors Kafka (or semaphore's cap) forbids are
//! refused before anything is sent.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde::Serialize;

use crate::bus::config::ResolvedKafka;
use crate::bus::consumer::QuietContext;
use crate::bus::contact::{ContactError, KafkaRefusal, first_contact};
use crate::config::topic_name;

/// Confluent Cloud's default partition count; semaphore's too.
pub const DEFAULT_PARTITIONS: i32 = 6;
/// The most partitions semaphore creates in one topic. Kafka itself sets no limit, but every partition costs
/// the brokers (files, memory, a leader to elect) and every reader (a fetch and two watermarks per partition
/// in `describe`): asked for 100,000, `describe` hung and left the embedded broker at nearly full CPU.
/// semaphore's topics need 6; a count above 1000 is far more likely a typo than a plan, and Kafka's own tools
/// remain for the rare topic that needs more.
pub const MAX_PARTITIONS: i32 = 1000;
/// How long a metadata or admin request may take before the broker counts as unreachable.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TopicAdminError {
    /// No answer within [`ADMIN_TIMEOUT`]. The message says the cause before what to check, so it names the
    /// cause itself (and keeps it as the source, which `error_text::one_line` then does not repeat).
    #[error(
        "cannot reach Kafka at {bootstrap} within {timeout:?}: {source}; check the brokers (--brokers, SEMAPHORE_BROKERS or [kafka] brokers) and that the broker runs",
        timeout = ADMIN_TIMEOUT
    )]
    Unreachable {
        bootstrap: String,
        #[source]
        source: KafkaError,
    },
    /// The cluster refuses this client for good (credentials, certificate); the message names the fix.
    #[error(transparent)]
    Denied(KafkaRefusal),
    #[error("no topic {topic} on {bootstrap}")]
    NotFound { topic: String, bootstrap: String },
    #[error("Kafka refused to {action} topic {topic}")]
    Refused {
        action: &'static str,
        topic: String,
        #[source]
        code: RDKafkaErrorCode,
    },
    #[error("cannot create a Kafka client")]
    Client(#[from] KafkaError),
    /// A name, partition count or replication factor that Kafka's rules or semaphore's cap forbid; nothing
    /// was sent. The message names the argument and the rule.
    #[error("{0}")]
    Invalid(String),
}

impl TopicAdminError {
    /// Kafka refused to create a topic because it exists already.
    pub fn already_exists(&self) -> bool {
        matches!(
            self,
            TopicAdminError::Refused {
                code: RDKafkaErrorCode::TopicAlreadyExists,
                ..
            }
        )
    }
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
        Some((topic, code)) => Err(TopicAdminError::Refused { action, topic, code }),
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

    fn unreachable(&self, source: KafkaError) -> TopicAdminError {
        unreachable(&self.kafka, source)
    }

    /// Runs `work` with a metadata client on Tokio's blocking pool (librdkafka's metadata calls block), once
    /// the cluster answered it: a cluster that refuses the client fails here at once, naming the fix; any
    /// other failure means the cluster could not be reached.
    async fn with_metadata_client<T: Send + 'static>(
        &self,
        work: impl FnOnce(&BaseConsumer<QuietContext>) -> Result<T, KafkaError> + Send + 'static,
    ) -> Result<T, TopicAdminError> {
        let kafka = self.kafka.clone();
        tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer<QuietContext> = kafka
                .client_config()
                .create_with_context(QuietContext::default())
                .map_err(|source| unreachable(&kafka, source))?;
            first_contact(&consumer, &kafka, ADMIN_TIMEOUT).map_err(|error| match error {
                ContactError::Refused(refusal) => TopicAdminError::Denied(refusal),
                ContactError::Unreachable(source) => unreachable(&kafka, source),
            })?;
            work(&consumer).map_err(|source| unreachable(&kafka, source))
        })
        .await
        .expect("the metadata task does not panic")
    }

    /// Whether the cluster answers this client: before a request of the admin client, which would wait its
    /// whole timeout for a cluster that refuses the client.
    async fn reach(&self) -> Result<(), TopicAdminError> {
        self.with_metadata_client(|_| Ok(())).await
    }

    /// Every topic but Kafka's internal ones, by name.
    pub async fn list(&self) -> Result<Vec<TopicSummary>, TopicAdminError> {
        self.with_metadata_client(|consumer| {
            let metadata = consumer.fetch_metadata(None, ADMIN_TIMEOUT)?;
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

    /// How many brokers the cluster has.
    async fn broker_count(&self) -> Result<usize, TopicAdminError> {
        self.with_metadata_client(|consumer| {
            let metadata = consumer.fetch_metadata(None, ADMIN_TIMEOUT)?;
            Ok(metadata.brokers().len())
        })
        .await
    }

    /// Creates `topic` with the given replication factor, or by default 3 or the broker count where fewer.
    /// Returns the replication factor used.
    pub async fn create(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: Option<i32>,
    ) -> Result<i32, TopicAdminError> {
        check_new_topic(topic, partitions, replication_factor)?;
        let brokers = self.broker_count().await?;
        let replication_factor = match replication_factor {
            Some(replication_factor) => {
                check_replication_factor(replication_factor, brokers, &self.kafka.bootstrap)?;
                replication_factor
            }
            None => default_replication_factor(brokers),
        };
        let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication_factor));
        let results = self
            .admin
            .create_topics([&new_topic], &admin_options())
            .await
            .map_err(|error| self.unreachable(error))?;
        refused("create", results)?;
        Ok(replication_factor)
    }

    pub async fn delete(&self, topic: &str) -> Result<(), TopicAdminError> {
        check_name(topic)?;
        self.reach().await?;
        let results = self
            .admin
            .delete_topics(&[topic], &admin_options())
            .await
            .map_err(|error| self.unreachable(error))?;
        refused("delete", results)
    }

    /// Partitions with leaders, replicas and watermarks.
    pub async fn describe(&self, topic: &str) -> Result<TopicDescription, TopicAdminError> {
        check_name(topic)?;
        let name = topic.to_owned();
        let described = self.with_metadata_client(move |consumer| {
            let metadata = consumer.fetch_metadata(Some(&name), ADMIN_TIMEOUT)?;
            let Some(topic) = metadata.topics().iter().find(|topic| topic.name() == name) else {
                return Ok(None);
            };
            if topic.error().is_some() || topic.partitions().is_empty() {
                return Ok(None);
            }
            let mut partitions = Vec::new();
            for partition in topic.partitions() {
                let (low, high) = consumer.fetch_watermarks(&name, partition.id(), ADMIN_TIMEOUT)?;
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

fn unreachable(kafka: &ResolvedKafka, source: KafkaError) -> TopicAdminError {
    TopicAdminError::Unreachable {
        bootstrap: kafka.bootstrap.clone(),
        source,
    }
}

/// Replicas per partition when none is given: 3 (Confluent Cloud's and most clusters' minimum for
/// durability), or every broker where the cluster has fewer (1 on the embedded broker).
fn default_replication_factor(brokers: usize) -> i32 {
    brokers.clamp(1, 3) as i32
}

/// A topic name Kafka accepts; otherwise an error naming the argument (NAME, as in `topics --help`).
fn check_name(topic: &str) -> Result<(), TopicAdminError> {
    topic_name(topic).map_err(|reason| TopicAdminError::Invalid(format!("NAME {reason}")))
}

/// What can be checked of a new topic without asking the cluster.
fn check_new_topic(
    topic: &str,
    partitions: i32,
    replication_factor: Option<i32>,
) -> Result<(), TopicAdminError> {
    check_name(topic)?;
    // Kafka reads -1 as "the broker's default"; semaphore always says how many, so the count it prints is the
    // count the topic has.
    if !(1..=MAX_PARTITIONS).contains(&partitions) {
        return Err(TopicAdminError::Invalid(format!(
            "--partitions {partitions} is out of range: a topic has 1 to {MAX_PARTITIONS} partitions \
             (semaphore's cap: more is almost always a typo)"
        )));
    }
    if let Some(replication_factor) = replication_factor
        && replication_factor < 1
    {
        return Err(TopicAdminError::Invalid(format!(
            "--replication-factor {replication_factor} is out of range: at least 1 (one copy of each \
             partition), at most the number of brokers"
        )));
    }
    Ok(())
}

/// Each replica of a partition lives on a broker of its own, so a cluster of N brokers holds at most N.
fn check_replication_factor(
    replication_factor: i32,
    brokers: usize,
    bootstrap: &str,
) -> Result<(), TopicAdminError> {
    if usize::try_from(replication_factor).is_ok_and(|replicas| replicas <= brokers) {
        return Ok(());
    }
    let noun = if brokers == 1 { "broker" } else { "brokers" };
    Err(TopicAdminError::Invalid(format!(
        "--replication-factor {replication_factor} is more than the cluster at {bootstrap} can hold: it has \
         {brokers} {noun}, and each replica needs a broker of its own"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(result: Result<(), TopicAdminError>) -> String {
        match result {
            Err(TopicAdminError::Invalid(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    /// Issue 11: what `topics create` accepted though Kafka forbids it.
    #[test]
    fn new_topics_follow_kafka_and_the_cap() {
        assert!(check_new_topic("meraki.test", 6, None).is_ok());
        assert!(check_new_topic("meraki.test", 1, Some(1)).is_ok());
        assert!(check_new_topic("meraki.test", MAX_PARTITIONS, Some(3)).is_ok());
        for name in ["", "a b", ".", ".."] {
            let message = invalid(check_new_topic(name, 6, None));
            assert!(
                message.starts_with("NAME ") && message.contains("1 to 249"),
                "{message}"
            );
        }
        for partitions in [0, -1, MAX_PARTITIONS + 1, 100_000] {
            let message = invalid(check_new_topic("t", partitions, None));
            assert!(
                message.contains("--partitions") && message.contains("1 to 1000"),
                "{message}"
            );
        }
        for replication_factor in [0, -1] {
            let message = invalid(check_new_topic("t", 6, Some(replication_factor)));
            assert!(
                message.contains("--replication-factor") && message.contains("at least 1"),
                "{message}"
            );
        }
    }

    #[test]
    fn replication_is_bounded_by_the_brokers() {
        assert!(check_replication_factor(1, 1, "b:9092").is_ok());
        assert!(check_replication_factor(3, 5, "b:9092").is_ok());
        let message = invalid(check_replication_factor(2, 1, "b:9092"));
        assert!(
            message.contains("--replication-factor 2") && message.contains("it has 1 broker,"),
            "{message}"
        );
        assert_eq!(default_replication_factor(1), 1);
        assert_eq!(default_replication_factor(5), 3);
    }
}
