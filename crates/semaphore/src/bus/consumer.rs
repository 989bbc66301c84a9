//! The consumer behind `semaphore consume`: a consumer group (committed offsets, commit after print) or
//! direct partition assignment, kcat's start offsets, stop after N records or at the end of every
//! partition, and a summary.
//!
//! It runs on a blocking thread (librdkafka's poll blocks) and stops when the `stop` flag it is handed is set.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use crate::bus::admin::ADMIN_TIMEOUT;
use crate::bus::config::ResolvedKafka;
use crate::bus::format::{ConsumedRecord, OutputFormat, render};
use crate::bus::offset::{StartOffset, TimeStart, start_after_oldest, time_start};

/// What to consume and how to print it.
#[derive(Clone, Debug)]
pub struct ConsumeOptions {
    pub topics: Vec<String>,
    /// A consumer group: offsets are committed after each record is printed.
    pub group: Option<String>,
    pub offset: StartOffset,
    /// Stop after this many records.
    pub count: Option<u64>,
    /// Stop when every partition has been read to its end (as of when it was assigned).
    pub exit_at_end: bool,
    /// Only these partitions (not with a group).
    pub partitions: Vec<i32>,
    pub format: OutputFormat,
    /// How long one poll waits for a record.
    pub poll_timeout: Duration,
    /// Stop after this many polls (the original consumer's "number of polls").
    pub polls: Option<u64>,
}

/// What a consume run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConsumeSummary {
    pub records: u64,
    pub bytes: u64,
    /// Records per topic.
    pub by_topic: BTreeMap<String, u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error(
        "cannot reach Kafka at {bootstrap} within {timeout:?}: {reason}; check the brokers (--brokers, SEMAPHORE_BROKERS or [kafka] brokers) and that the broker runs"
    )]
    Unreachable {
        bootstrap: String,
        timeout: Duration,
        reason: String,
    },
    #[error("no topic {topic} on {bootstrap}; `semaphore topics list` shows what exists")]
    NoSuchTopic { topic: String, bootstrap: String },
    #[error("{0}")]
    Usage(String),
    #[error("cannot create the Kafka consumer: {0}")]
    Client(#[from] KafkaError),
    #[error("cannot write a record: {0}")]
    Output(#[from] std::io::Error),
}

type TopicPartition = (String, i32);

/// A client context that does not log end-of-partition as an error: with `enable.partition.eof` it is a
/// normal event, which the poll loop handles.
#[derive(Clone, Copy, Debug, Default)]
pub struct QuietContext;

impl ClientContext for QuietContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF) {
            return;
        }
        tracing::warn!(%error, reason, "Kafka client error; librdkafka keeps retrying.");
    }
}

impl ConsumerContext for QuietContext {}

/// Reads records and prints them to `out` until a stop condition or `stop` is set.
pub fn consume(
    kafka: &ResolvedKafka,
    options: &ConsumeOptions,
    out: &mut dyn Write,
    stop: &Arc<AtomicBool>,
) -> Result<ConsumeSummary, ConsumeError> {
    validate(options)?;
    let mut config = kafka.client_config();
    config
        .set("enable.partition.eof", "true")
        .set("enable.auto.offset.store", "false")
        .set(
            "auto.offset.reset",
            if options.offset == StartOffset::End {
                "latest"
            } else {
                "earliest"
            },
        );
    match &options.group {
        Some(group) => config.set("group.id", group).set("enable.auto.commit", "true"),
        None => config
            .set("group.id", "semaphore-consume-unused")
            .set("enable.auto.commit", "false"),
    };
    let consumer: BaseConsumer<QuietContext> = config.create_with_context(QuietContext)?;
    let partitions_of = partitions_of_topics(&consumer, kafka, &options.topics)?;
    if options.group.is_some() {
        let topics: Vec<&str> = options.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
    } else {
        consumer.assign(&start_assignment(kafka, &consumer, options, &partitions_of)?)?;
    }

    let mut summary = ConsumeSummary::default();
    // Where each assigned partition ended when it was assigned, and which have been read that far.
    let mut end_at_start: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let mut at_end: BTreeSet<TopicPartition> = BTreeSet::new();
    let mut polls = 0u64;
    // With -e, the last time the reading got anywhere: a record or a partition's end.
    let mut progressed = tokio::time::Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) || options.count.is_some_and(|count| summary.records >= count) {
            break;
        }
        if options.polls.is_some_and(|limit| polls >= limit) {
            break;
        }
        polls += 1;
        let polled = consumer.poll(options.poll_timeout);
        let assignment = assigned(&consumer);
        if options.exit_at_end {
            record_ends(kafka, &consumer, &assignment, &mut end_at_start, &mut at_end)?;
        }
        if options.exit_at_end {
            if matches!(polled, Some(Ok(_)) | Some(Err(KafkaError::PartitionEOF(_)))) {
                progressed = tokio::time::Instant::now();
            } else if progressed.elapsed() > ADMIN_TIMEOUT {
                // The end cannot be reached while the broker is gone: say so rather than wait for ever.
                ensure_reachable(kafka, &consumer)?;
                progressed = tokio::time::Instant::now();
            }
        }
        match polled {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                mark_end_of_partition(&consumer, partition, &assignment, &end_at_start, &mut at_end);
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "Kafka consumer error; still polling.");
            }
            Some(Ok(message)) => {
                let headers = message
                    .headers()
                    .map(|headers| {
                        headers
                            .iter()
                            .map(|header| (header.key.to_owned(), header.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                let record = ConsumedRecord {
                    topic: message.topic(),
                    partition: message.partition(),
                    offset: message.offset(),
                    timestamp_ms: message.timestamp().to_millis(),
                    key: message.key(),
                    headers,
                    payload: message.payload(),
                };
                render(&options.format, &record, out)?;
                summary.records += 1;
                summary.bytes += message.payload_len() as u64;
                *summary.by_topic.entry(message.topic().to_owned()).or_default() += 1;
                let topic_partition = (message.topic().to_owned(), message.partition());
                if end_at_start
                    .get(&topic_partition)
                    .is_some_and(|end| message.offset() + 1 >= *end)
                {
                    at_end.insert(topic_partition);
                }
                if options.group.is_some() {
                    // Commit after print: the offset is stored only once the record is out.
                    consumer.store_offset_from_message(&message)?;
                }
            }
        }
        if options.exit_at_end && !assignment.is_empty() && assignment.iter().all(|tp| at_end.contains(tp)) {
            break;
        }
    }
    out.flush()?;
    if options.group.is_some() && summary.records > 0 {
        consumer.commit_consumer_state(CommitMode::Sync)?;
    }
    Ok(summary)
}

fn validate(options: &ConsumeOptions) -> Result<(), ConsumeError> {
    if options.topics.is_empty() {
        return Err(ConsumeError::Usage("name at least one topic to consume".into()));
    }
    match (&options.group, options.offset) {
        (Some(_), StartOffset::Absolute(_) | StartOffset::Tail(_) | StartOffset::Timestamp(_)) => Err(ConsumeError::Usage(
            "with a group (-G), the offset (-o) is beginning, end or stored: a group resumes from its commits".into(),
        )),
        (Some(_), _) if !options.partitions.is_empty() => {
            Err(ConsumeError::Usage("a group (-G) is assigned partitions by Kafka; drop -p or drop -G".into()))
        }
        (None, StartOffset::Stored) => {
            Err(ConsumeError::Usage("-o stored needs a consumer group (-G GROUP) to have stored offsets".into()))
        }
        _ => Ok(()),
    }
}

/// Whether the cluster answers a metadata request now; `Unreachable` if it does not within a few seconds.
fn ensure_reachable(
    kafka: &ResolvedKafka,
    consumer: &BaseConsumer<QuietContext>,
) -> Result<(), ConsumeError> {
    consumer
        .fetch_metadata(None, STALL_PROBE_TIMEOUT)
        .map(|_| ())
        .map_err(|error| unreachable(kafka, error))
}

/// How long the probe of a stalled `-e` read waits for the cluster.
const STALL_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

fn unreachable(kafka: &ResolvedKafka, error: impl ToString) -> ConsumeError {
    ConsumeError::Unreachable {
        bootstrap: kafka.bootstrap.clone(),
        timeout: ADMIN_TIMEOUT,
        reason: error.to_string(),
    }
}

/// Partition ids of each topic; a bounded wait, so an unreachable broker is an error, not a hang.
fn partitions_of_topics(
    consumer: &BaseConsumer<QuietContext>,
    kafka: &ResolvedKafka,
    topics: &[String],
) -> Result<BTreeMap<String, Vec<i32>>, ConsumeError> {
    let mut partitions_of = BTreeMap::new();
    for topic in topics {
        let metadata = consumer
            .fetch_metadata(Some(topic), ADMIN_TIMEOUT)
            .map_err(|error| unreachable(kafka, error))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|candidate| candidate.name() == topic && candidate.error().is_none())
            .flat_map(|candidate| candidate.partitions().iter().map(|partition| partition.id()))
            .collect();
        if partitions.is_empty() {
            return Err(ConsumeError::NoSuchTopic {
                topic: topic.clone(),
                bootstrap: kafka.bootstrap.clone(),
            });
        }
        partitions_of.insert(topic.clone(), partitions);
    }
    Ok(partitions_of)
}

/// The partitions to read without a group, each at its start offset.
fn start_assignment(
    kafka: &ResolvedKafka,
    consumer: &BaseConsumer<QuietContext>,
    options: &ConsumeOptions,
    partitions_of: &BTreeMap<String, Vec<i32>>,
) -> Result<TopicPartitionList, ConsumeError> {
    let mut assignment = TopicPartitionList::new();
    for (topic, partitions) in partitions_of {
        let chosen: Vec<i32> = partitions
            .iter()
            .copied()
            .filter(|id| options.partitions.is_empty() || options.partitions.contains(id))
            .collect();
        for partition in &chosen {
            let offset = match options.offset {
                StartOffset::Beginning | StartOffset::Stored => Offset::Beginning,
                StartOffset::End => Offset::End,
                // An offset past the end is the end. librdkafka reports the end of a partition only when
                // it fetches exactly at the high watermark: beyond it, the embedded broker answers with
                // nothing (nisshi on purpose, as tansu did; so `-e` waited forever) and Kafka with "out of
                // range" (so librdkafka restarted at the beginning).
                StartOffset::Absolute(offset) => {
                    let (_, high) = consumer
                        .fetch_watermarks(topic, *partition, ADMIN_TIMEOUT)
                        .map_err(|error| unreachable(kafka, error))?;
                    Offset::Offset(offset.min(high))
                }
                StartOffset::Tail(count) => Offset::OffsetTail(count),
                StartOffset::Timestamp(milliseconds) => Offset::Offset(milliseconds),
            };
            assignment.add_partition_offset(topic, *partition, offset)?;
        }
    }
    if assignment.count() == 0 {
        return Err(ConsumeError::Usage(format!(
            "none of the partitions {:?} exist in {:?}",
            options.partitions, options.topics
        )));
    }
    if let StartOffset::Timestamp(time) = options.offset {
        assignment = starts_at_time(kafka, consumer, assignment, time)?;
    }
    Ok(assignment)
}

/// Turns `timestamps` (offsets that hold the time, in milliseconds) into where each partition starts: the
/// first record at or after the time, or the end of the partition where no record is that recent
/// ([`time_start`] says why the broker's answer alone does not tell).
fn starts_at_time(
    kafka: &ResolvedKafka,
    consumer: &BaseConsumer<QuietContext>,
    timestamps: TopicPartitionList,
    time: i64,
) -> Result<TopicPartitionList, ConsumeError> {
    let answers = consumer
        .offsets_for_times(timestamps, ADMIN_TIMEOUT)
        .map_err(|error| unreachable(kafka, error))?;
    let mut starts: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    // Partitions whose oldest record decides, with their watermarks.
    let mut to_check: BTreeMap<TopicPartition, (i64, i64)> = BTreeMap::new();
    for element in answers.elements() {
        element.error().map_err(|error| unreachable(kafka, error))?;
        let topic_partition = (element.topic().to_owned(), element.partition());
        let (low, high) = consumer
            .fetch_watermarks(element.topic(), element.partition(), ADMIN_TIMEOUT)
            .map_err(|error| unreachable(kafka, error))?;
        let answer = match element.offset() {
            Offset::Offset(offset) => Some(offset),
            _ => None,
        };
        match time_start(answer, low, high) {
            TimeStart::At(offset) => {
                starts.insert(topic_partition, offset);
            }
            TimeStart::CheckOldest => {
                to_check.insert(topic_partition, (low, high));
            }
        }
    }
    let oldest = timestamps_at(
        kafka,
        to_check
            .iter()
            .map(|(topic_partition, (low, _))| (topic_partition.clone(), *low))
            .collect(),
    )?;
    for (topic_partition, (low, high)) in to_check {
        let oldest_timestamp = oldest.get(&topic_partition).copied().flatten();
        starts.insert(
            topic_partition,
            start_after_oldest(time, oldest_timestamp, low, high),
        );
    }
    let mut assignment = TopicPartitionList::new();
    for ((topic, partition), offset) in &starts {
        assignment.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    Ok(assignment)
}

/// The timestamp of the record at each offset (`None` for a record without one), read by a client of its own
/// so that nothing read here reaches the run's consumer. Bounded like the other requests: a broker that does
/// not answer is unreachable, not a hang.
fn timestamps_at(
    kafka: &ResolvedKafka,
    offsets: BTreeMap<TopicPartition, i64>,
) -> Result<BTreeMap<TopicPartition, Option<i64>>, ConsumeError> {
    let mut timestamps = BTreeMap::new();
    if offsets.is_empty() {
        return Ok(timestamps);
    }
    let mut config = kafka.client_config();
    config
        .set("group.id", "semaphore-consume-unused")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest");
    let consumer: BaseConsumer<QuietContext> = config.create_with_context(QuietContext)?;
    let mut assignment = TopicPartitionList::new();
    for ((topic, partition), offset) in &offsets {
        assignment.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    consumer.assign(&assignment)?;
    let deadline = tokio::time::Instant::now() + ADMIN_TIMEOUT;
    while timestamps.len() < offsets.len() {
        if tokio::time::Instant::now() >= deadline {
            return Err(unreachable(kafka, "no answer to a fetch of the oldest records"));
        }
        // The first record each partition returns is the one asked for (or the oldest, if that was deleted
        // meanwhile); later ones do not matter.
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
            timestamps
                .entry((message.topic().to_owned(), message.partition()))
                .or_insert(message.timestamp().to_millis());
        }
    }
    Ok(timestamps)
}

fn assigned(consumer: &BaseConsumer<QuietContext>) -> Vec<TopicPartition> {
    consumer
        .assignment()
        .map(|list| {
            list.elements()
                .iter()
                .map(|element| (element.topic().to_owned(), element.partition()))
                .collect()
        })
        .unwrap_or_default()
}

/// Notes where newly assigned partitions end, so the run can stop there (`-e`).
fn record_ends(
    kafka: &ResolvedKafka,
    consumer: &BaseConsumer<QuietContext>,
    assignment: &[TopicPartition],
    end_at_start: &mut BTreeMap<TopicPartition, i64>,
    at_end: &mut BTreeSet<TopicPartition>,
) -> Result<(), ConsumeError> {
    for (topic, partition) in assignment {
        let key = (topic.clone(), *partition);
        if end_at_start.contains_key(&key) {
            continue;
        }
        let (low, high) = consumer
            .fetch_watermarks(topic, *partition, ADMIN_TIMEOUT)
            .map_err(|error| unreachable(kafka, error))?;
        if low == high {
            at_end.insert(key.clone());
        }
        end_at_start.insert(key, high);
    }
    Ok(())
}

/// librdkafka reports end-of-partition with the partition number only; with several topics sharing that
/// number, the one whose position reached its end is the one meant.
fn mark_end_of_partition(
    consumer: &BaseConsumer<QuietContext>,
    partition: i32,
    assignment: &[TopicPartition],
    end_at_start: &BTreeMap<TopicPartition, i64>,
    at_end: &mut BTreeSet<TopicPartition>,
) {
    let candidates: Vec<&TopicPartition> = assignment
        .iter()
        .filter(|tp| tp.1 == partition && !at_end.contains(*tp))
        .collect();
    if candidates.len() == 1 {
        at_end.insert(candidates[0].clone());
        return;
    }
    let positions = consumer.position().unwrap_or_default();
    for candidate in candidates {
        let position = positions
            .find_partition(&candidate.0, candidate.1)
            .and_then(|element| match element.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            });
        let high = end_at_start.get(candidate).copied();
        if position
            .zip(high)
            .is_some_and(|(position, high)| position >= high)
        {
            at_end.insert(candidate.clone());
        }
    }
}
