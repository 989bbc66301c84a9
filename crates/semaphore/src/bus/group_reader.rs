//! Reading topics for a sink: a consumer group whose offsets are committed only when the caller says the
//! records were accepted (at least once: a crash before the commit re-reads, never skips), or, for a view
//! such as the dashboard, every partition from a point in time without committing.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::bus::admin::ADMIN_TIMEOUT;
use crate::bus::config::ResolvedKafka;
use crate::bus::consumer::QuietContext;

/// One Kafka record, owned (detached from the consumer).
#[derive(Clone, Debug)]
pub struct ConsumedMessage {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl ConsumedMessage {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_slice())
    }

    /// `topic/partition/offset`: where to find it again (`semaphore consume TOPIC -p P -o OFFSET -c 1`).
    pub fn position(&self) -> String {
        format!("{}/{}/{}", self.topic, self.partition, self.offset)
    }
}

/// Where reading starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStart {
    /// The group's committed offsets; a new group starts at the beginning of each partition.
    GroupFromEarliest,
    /// The group's committed offsets; a new group starts at the end (only records written from now).
    GroupFromLatest,
    /// Every partition from this long before the reader opens, no group offsets used or committed.
    Recent(Duration),
}

pub struct GroupReader {
    consumer: StreamConsumer<QuietContext>,
    commits: bool,
}

/// A reader that could not open, or offsets it could not commit.
#[derive(Debug, thiserror::Error)]
pub enum GroupReaderError {
    /// The blocking task that opens the reader ended without an answer.
    #[error("cannot start the Kafka consumer")]
    Task(#[source] tokio::task::JoinError),
    #[error("cannot create the Kafka consumer")]
    Create(#[source] KafkaError),
    #[error("cannot read the partitions of {topic}")]
    Partitions {
        topic: String,
        #[source]
        source: KafkaError,
    },
    /// A partition's offset could not be put in the list to seek to or commit.
    #[error(transparent)]
    Offset(KafkaError),
    #[error("cannot find the offsets of that time")]
    OffsetsForTimes(#[source] KafkaError),
    #[error("cannot assign partitions")]
    Assign(#[source] KafkaError),
    #[error("cannot subscribe to {topics:?}")]
    Subscribe {
        topics: Vec<String>,
        #[source]
        source: KafkaError,
    },
    #[error("cannot commit offsets")]
    Commit(#[source] KafkaError),
}

impl GroupReader {
    /// Joins `group` on `topics` (or assigns every partition, for [`ReadStart::Recent`]). The topics must
    /// exist. Blocks up to [`ADMIN_TIMEOUT`] on metadata, so it runs on a blocking thread.
    pub async fn open(
        kafka: &ResolvedKafka,
        topics: &[String],
        group: &str,
        start: ReadStart,
    ) -> Result<Self, GroupReaderError> {
        let kafka = kafka.clone();
        let topics = topics.to_vec();
        let group = group.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&kafka, &topics, &group, start))
            .await
            .map_err(GroupReaderError::Task)?
    }

    fn open_blocking(
        kafka: &ResolvedKafka,
        topics: &[String],
        group: &str,
        start: ReadStart,
    ) -> Result<Self, GroupReaderError> {
        let mut config = kafka.client_config();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set(
                "auto.offset.reset",
                if start == ReadStart::GroupFromLatest {
                    "latest"
                } else {
                    "earliest"
                },
            );
        if let ReadStart::Recent(_) = start {
            // A live view: the broker holds a fetch at most 100 ms instead of librdkafka's 500 ms (bench/README.md:
            // update latency p50 420 ms with the default). The embedded broker (nisshi) holds a fetch by reading
            // every partition again after half the time left, so a record is seen soon after it arrives, and the
            // idle broker's work grows with how often fetches come: 20 ms cost it 40 % of a core with nothing
            // flowing, 100 ms about a third of that.
            config.set("fetch.wait.max.ms", "100");
        }
        let consumer: StreamConsumer<QuietContext> = config
            .create_with_context(QuietContext::default())
            .map_err(GroupReaderError::Create)?;
        let topic_names: Vec<&str> = topics.iter().map(String::as_str).collect();
        match start {
            ReadStart::Recent(history) => {
                let milliseconds = (chrono::Utc::now()
                    - chrono::TimeDelta::from_std(history).unwrap_or(chrono::TimeDelta::MAX))
                .timestamp_millis();
                let mut assignment = TopicPartitionList::new();
                for topic in topics {
                    let metadata = consumer
                        .fetch_metadata(Some(topic), ADMIN_TIMEOUT)
                        .map_err(|source| GroupReaderError::Partitions {
                            topic: topic.clone(),
                            source,
                        })?;
                    for described in metadata
                        .topics()
                        .iter()
                        .filter(|described| described.name() == topic)
                    {
                        for partition in described.partitions() {
                            assignment
                                .add_partition_offset(topic, partition.id(), Offset::Offset(milliseconds))
                                .map_err(GroupReaderError::Offset)?;
                        }
                    }
                }
                // Each timestamp becomes the first offset at or after it (or the end, where nothing is newer).
                let assignment = consumer
                    .offsets_for_times(assignment, ADMIN_TIMEOUT)
                    .map_err(GroupReaderError::OffsetsForTimes)?;
                consumer.assign(&assignment).map_err(GroupReaderError::Assign)?;
            }
            _ => consumer
                .subscribe(&topic_names)
                .map_err(|source| GroupReaderError::Subscribe {
                    topics: topics.to_vec(),
                    source,
                })?,
        }
        Ok(Self {
            consumer,
            commits: !matches!(start, ReadStart::Recent(_)),
        })
    }

    /// Waits for the next record, then takes what else arrives within `linger`, up to `max` records.
    /// Consumer errors (a broker away, a rebalance) are logged by librdkafka's context and retried by it.
    pub async fn next_batch(&self, max: usize, linger: Duration) -> Vec<ConsumedMessage> {
        let first = self.first_record().await;
        self.fill(first, max, linger).await
    }

    /// As [`GroupReader::next_batch`], but an empty batch when `idle` passes without a record (`None`:
    /// never). Giving up loses nothing: no record was taken yet, and the consumer's `recv` is cancellation
    /// safe.
    pub async fn next_batch_or_idle(
        &self,
        max: usize,
        linger: Duration,
        idle: Option<Duration>,
    ) -> Vec<ConsumedMessage> {
        let Some(idle) = idle else {
            return self.next_batch(max, linger).await;
        };
        match tokio::time::timeout(idle, self.first_record()).await {
            Ok(first) => self.fill(first, max, linger).await,
            Err(_) => Vec::new(),
        }
    }

    /// The next record, however long it takes.
    async fn first_record(&self) -> ConsumedMessage {
        loop {
            match self.consumer.recv().await {
                Ok(message) => return owned(&message),
                Err(error) => {
                    tracing::warn!(%error, "Kafka consumer error; still reading.");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// `first` and what else arrives within `linger`, up to `max` records.
    async fn fill(&self, first: ConsumedMessage, max: usize, linger: Duration) -> Vec<ConsumedMessage> {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + linger;
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(message)) => batch.push(owned(&message)),
                Ok(Err(error)) => {
                    tracing::warn!(%error, "Kafka consumer error; still reading.");
                    break;
                }
                Err(_) => break,
            }
        }
        batch
    }

    /// Commits the offsets after `batch` (the next to read, per partition). `wait`: until the broker
    /// answered (at shutdown); otherwise in the background — a commit lost to a crash re-reads, at least once.
    pub fn commit(&self, batch: &[ConsumedMessage], wait: bool) -> Result<(), GroupReaderError> {
        if !self.commits || batch.is_empty() {
            return Ok(());
        }
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for message in batch {
            let entry = next.entry((&message.topic, message.partition)).or_default();
            *entry = (*entry).max(message.offset + 1);
        }
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            offsets
                .add_partition_offset(topic, partition, Offset::Offset(offset))
                .map_err(GroupReaderError::Offset)?;
        }
        let mode = if wait { CommitMode::Sync } else { CommitMode::Async };
        self.consumer
            .commit(&offsets, mode)
            .map_err(GroupReaderError::Commit)
    }
}

fn owned(message: &impl Message) -> ConsumedMessage {
    ConsumedMessage {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp_ms: message.timestamp().to_millis(),
        key: message.key().map(<[u8]>::to_vec),
        payload: message.payload().unwrap_or_default().to_vec(),
        headers: message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| (header.key.to_owned(), header.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
