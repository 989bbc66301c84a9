//! The consumer behind `semaphore consume`: a consumer group (committed offsets, commit after print) or
//! direct partition assignment, kcat's start offsets, stop after N records or at the end of every
//! partition, and a summary.
//!
//! It runs on a blocking thread (librdkafka's poll blocks) and stops when the `stop` flag it is handed is set.
//! Records are rendered into one buffer and written out in blocks (`Printed` says when), so reading at
//! librdkafka's pace costs a write per block, not per record.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use serde::Serialize;

use crate::bus::admin::ADMIN_TIMEOUT;
use crate::bus::config::ResolvedKafka;
use crate::bus::contact::{ContactError, KafkaRefusal, RefusalWatch, first_contact};
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
    /// The cluster refuses this client (credentials, certificate); the message names the fix.
    #[error(transparent)]
    Denied(KafkaRefusal),
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
/// normal event, which the poll loop handles. It keeps a refusal (a login or a certificate the cluster will
/// never accept) for [`first_contact`] instead of logging it.
#[derive(Clone, Debug, Default)]
pub struct QuietContext {
    refusals: RefusalWatch,
}

impl QuietContext {
    /// The last refusal the client reported.
    pub fn refusals(&self) -> &RefusalWatch {
        &self.refusals
    }
}

impl ClientContext for QuietContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF) {
            return;
        }
        // Whoever waits for the cluster reports a refusal, once, with its fix; a warning per reconnect
        // saying that librdkafka keeps retrying would say the opposite.
        if self.refusals.note(&error, reason) {
            tracing::debug!(%error, reason, "Kafka refused the client.");
            return;
        }
        tracing::warn!(%error, reason, "Kafka client error; librdkafka keeps retrying.");
    }
}

impl ConsumerContext for QuietContext {}

/// Reads records and prints them to `out` until a stop condition or `stop` is set.
///
/// `out` receives whole blocks of records and is flushed after each (`Printed` says when); with a group,
/// a record's offset is stored for commit only once the block holding it was written and flushed.
pub fn consume(
    kafka: &ResolvedKafka,
    options: &ConsumeOptions,
    out: &mut dyn Write,
    stop: &Arc<AtomicBool>,
) -> Result<ConsumeSummary, ConsumeError> {
    validate(options)?;
    let consumer: BaseConsumer<QuietContext> =
        consumer_config(kafka, options).create_with_context(QuietContext::default())?;
    // Before anything is assigned: the first contact serves the consumer's queue.
    first_contact(&consumer, kafka, ADMIN_TIMEOUT).map_err(|error| contact_failure(kafka, error))?;
    let partitions_of = partitions_of_topics(&consumer, kafka, &options.topics)?;
    if options.group.is_some() {
        let topics: Vec<&str> = options.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
    } else {
        consumer.assign(&start_assignment(kafka, &consumer, options, &partitions_of)?)?;
    }

    let mut summary = ConsumeSummary::default();
    let mut printed = Printed::new();
    let reading = read_records(kafka, &consumer, options, &mut printed, out, stop, &mut summary);
    // Whatever ended the reading (a stop, the count, the end, an unreachable broker), the records already
    // rendered are written out before `consume` returns; unless writing is what failed.
    let written = match &reading {
        Err(ConsumeError::Output(_)) => Ok(()),
        _ => printed
            .write_out(out, |topic, partition, offset| {
                store_printed(&consumer, topic, partition, offset)
            })
            .map_err(ConsumeError::Output),
    };
    reading?;
    written?;
    if options.group.is_some() && summary.records > 0 {
        consumer.commit_consumer_state(CommitMode::Sync)?;
    }
    Ok(summary)
}

/// How long a fetch waits at the broker for records with `-e`: it bounds how long after the end of a
/// partition librdkafka reports that end (librdkafka's default is 500 ms).
const END_FETCH_WAIT_MS: &str = "100";

/// The consumer's librdkafka settings: the connection's (with the user's `-X` options), then `consume`'s own.
///
/// librdkafka's defaults already read at full speed (each fetch takes up to 1 MiB per partition, and up to
/// 100,000 records or 64 MiB per partition are fetched ahead while earlier ones are printed), so nothing is
/// raised here; `-e` only shortens how long a fetch waits at a partition's end, unless `-X` says otherwise.
fn consumer_config(kafka: &ResolvedKafka, options: &ConsumeOptions) -> ClientConfig {
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
    if options.exit_at_end && config.get("fetch.wait.max.ms").is_none() {
        config.set("fetch.wait.max.ms", END_FETCH_WAIT_MS);
    }
    config
}

/// The poll loop: renders each record into `printed`, writing it out by [`Printed`]'s rule, until a stop
/// condition. What is still in `printed` when it returns is for the caller to write out.
fn read_records(
    kafka: &ResolvedKafka,
    consumer: &BaseConsumer<QuietContext>,
    options: &ConsumeOptions,
    printed: &mut Printed,
    out: &mut dyn Write,
    stop: &AtomicBool,
    summary: &mut ConsumeSummary,
) -> Result<(), ConsumeError> {
    let shows_headers = options.format.shows_headers();
    let mut ends = Ends::default();
    let mut polls = 0u64;
    // With -e, the last time the reading got anywhere: a record or a partition's end.
    let mut progressed = tokio::time::Instant::now();
    if options.exit_at_end {
        // Without a group the assignment is known now, and partitions that are empty are at their end already.
        ends.refresh(kafka, consumer)?;
    }
    loop {
        if stop.load(Ordering::Relaxed) || options.count.is_some_and(|count| summary.records >= count) {
            return Ok(());
        }
        if options.polls.is_some_and(|limit| polls >= limit) {
            return Ok(());
        }
        if options.exit_at_end && ends.all_reached() {
            return Ok(());
        }
        polls += 1;
        // What is ready is taken without waiting. Only when nothing is, the records rendered so far are written
        // out (and, with a group, their offsets stored), and then the poll waits: no record sits in the buffer
        // while the consumer waits for more.
        let mut polled = consumer.poll(Duration::ZERO);
        let nothing_ready = polled.is_none();
        if nothing_ready {
            printed.write_out(out, |topic, partition, offset| {
                store_printed(consumer, topic, partition, offset)
            })?;
            polled = consumer.poll(options.poll_timeout);
        }
        if options.exit_at_end {
            // The assignment is asked for only when it can have changed, not per record (each ask is a round
            // trip to librdkafka's thread): at a partition's end, and when a poll returned no record, which is
            // also how a poll that served a rebalance returns.
            if nothing_ready || matches!(polled, None | Some(Err(KafkaError::PartitionEOF(_)))) {
                ends.refresh(kafka, consumer)?;
            }
            if matches!(polled, Some(Ok(_)) | Some(Err(KafkaError::PartitionEOF(_)))) {
                progressed = tokio::time::Instant::now();
            } else if progressed.elapsed() > ADMIN_TIMEOUT {
                // The end cannot be reached while the broker is gone: say so rather than wait for ever.
                ensure_reachable(kafka, consumer)?;
                progressed = tokio::time::Instant::now();
            }
        }
        match polled {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                ends.end_of_partition(consumer, partition);
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "Kafka consumer error; still polling.");
            }
            Some(Ok(message)) => {
                let topic = message.topic();
                let record = ConsumedRecord {
                    topic,
                    partition: message.partition(),
                    offset: message.offset(),
                    timestamp_ms: message.timestamp().to_millis(),
                    key: message.key(),
                    headers: if shows_headers {
                        headers_of(&message)
                    } else {
                        Vec::new()
                    },
                    payload: message.payload(),
                };
                render(&options.format, &record, printed.buffer())?;
                summary.records += 1;
                summary.bytes += message.payload_len() as u64;
                match summary.by_topic.get_mut(topic) {
                    Some(records) => *records += 1,
                    None => {
                        summary.by_topic.insert(topic.to_owned(), 1);
                    }
                }
                if options.exit_at_end {
                    ends.read(topic, record.partition, record.offset);
                }
                if options.group.is_some() {
                    // Commit after print: the offset is stored only once the record is written out.
                    printed.note_offset(topic, record.partition, record.offset);
                }
                if printed.is_full() {
                    printed.write_out(out, |topic, partition, offset| {
                        store_printed(consumer, topic, partition, offset)
                    })?;
                }
            }
        }
    }
}

/// A record's headers, borrowed from its message.
fn headers_of<'m>(message: &'m BorrowedMessage<'_>) -> Vec<(&'m str, Option<&'m [u8]>)> {
    message
        .headers()
        .map(|headers| headers.iter().map(|header| (header.key, header.value)).collect())
        .unwrap_or_default()
}

/// Hands the offset of the last record written out of a partition to librdkafka's offset store, from which
/// the group commits (every few seconds, and at the end).
fn store_printed(consumer: &BaseConsumer<QuietContext>, topic: &str, partition: i32, offset: i64) {
    if let Err(error) = consumer.store_offset(topic, partition, offset) {
        // The partition went to another member in a rebalance while its records waited in the buffer: they
        // are printed, and its new reader prints them again (at least once, never lost).
        tracing::warn!(
            %error,
            topic,
            partition,
            "Cannot store the offset of records printed; the partition's next reader prints them again."
        );
    }
}

/// The size at which rendered records are written out while more keep coming: a pipe's capacity on Linux,
/// so one write gives a reader what it can take at once (100,000 records of 200 B take about 300 writes).
const WRITE_AT: usize = 64 * 1024;

/// Records rendered and not yet written out, and with a group the offsets they carry.
///
/// The rule: the buffer is written out and `out` flushed when it holds [`WRITE_AT`] bytes, when the consumer
/// has nothing ready (before a poll that waits), and when the reading ends (stop, `-c`, `-e`, `--polls`, or
/// an error). Only then are the offsets of what it held stored for commit: nothing is committed before it was
/// written out.
#[derive(Debug)]
struct Printed {
    bytes: Vec<u8>,
    /// The last offset rendered of each partition, and whether it still waits to be stored.
    offsets: Vec<PrintedOffset>,
}

#[derive(Debug)]
struct PrintedOffset {
    topic: String,
    partition: i32,
    offset: i64,
    unstored: bool,
}

impl Printed {
    fn new() -> Self {
        Printed {
            bytes: Vec::with_capacity(WRITE_AT + WRITE_AT / 4),
            offsets: Vec::new(),
        }
    }

    /// Where the next record is rendered.
    fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Whether the buffer is to be written out now, even though more records are ready.
    fn is_full(&self) -> bool {
        self.bytes.len() >= WRITE_AT
    }

    /// Notes that the record at `offset` of this partition is in the buffer.
    fn note_offset(&mut self, topic: &str, partition: i32, offset: i64) {
        let known = self
            .offsets
            .iter_mut()
            .find(|known| known.partition == partition && known.topic == topic);
        match known {
            Some(known) => {
                known.offset = offset;
                known.unstored = true;
            }
            None => self.offsets.push(PrintedOffset {
                topic: topic.to_owned(),
                partition,
                offset,
                unstored: true,
            }),
        }
    }

    /// Writes the buffer to `out` and flushes it; once both succeeded, hands each partition's last offset
    /// written to `store`. On an error nothing is stored.
    fn write_out(&mut self, out: &mut dyn Write, mut store: impl FnMut(&str, i32, i64)) -> io::Result<()> {
        if !self.bytes.is_empty() {
            out.write_all(&self.bytes)?;
            out.flush()?;
            self.bytes.clear();
        }
        for written in self.offsets.iter_mut().filter(|written| written.unstored) {
            store(&written.topic, written.partition, written.offset);
            written.unstored = false;
        }
        Ok(())
    }
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

fn contact_failure(kafka: &ResolvedKafka, error: ContactError) -> ConsumeError {
    match error {
        ContactError::Refused(refusal) => ConsumeError::Denied(refusal),
        ContactError::Unreachable(error) => unreachable(kafka, error),
    }
}

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
    let consumer: BaseConsumer<QuietContext> = config.create_with_context(QuietContext::default())?;
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

/// What `-e` stops on: where each partition ended when it was first assigned, whether it has been read
/// that far, and which partitions are assigned now.
#[derive(Debug, Default)]
struct Ends {
    partitions: Vec<PartitionEnd>,
    /// Indexes into `partitions` of the partitions assigned now.
    assigned: Vec<usize>,
}

#[derive(Debug)]
struct PartitionEnd {
    topic: String,
    partition: i32,
    /// The high watermark when the partition was first assigned.
    end: i64,
    reached: bool,
}

impl Ends {
    /// Takes the consumer's assignment now, noting where newly assigned partitions end.
    fn refresh(
        &mut self,
        kafka: &ResolvedKafka,
        consumer: &BaseConsumer<QuietContext>,
    ) -> Result<(), ConsumeError> {
        self.assigned.clear();
        for (topic, partition) in assigned(consumer) {
            let index = match self.find(&topic, partition) {
                Some(index) => index,
                None => {
                    let (low, high) = consumer
                        .fetch_watermarks(&topic, partition, ADMIN_TIMEOUT)
                        .map_err(|error| unreachable(kafka, error))?;
                    self.partitions.push(PartitionEnd {
                        topic,
                        partition,
                        end: high,
                        reached: low == high,
                    });
                    self.partitions.len() - 1
                }
            };
            self.assigned.push(index);
        }
        Ok(())
    }

    fn find(&self, topic: &str, partition: i32) -> Option<usize> {
        self.partitions
            .iter()
            .position(|known| known.partition == partition && known.topic == topic)
    }

    /// A record was read: its partition is at its end once the record before that end is.
    fn read(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(index) = self.find(topic, partition) {
            let known = &mut self.partitions[index];
            if offset + 1 >= known.end {
                known.reached = true;
            }
        }
    }

    /// librdkafka reports end-of-partition with the partition number only; with several topics sharing that
    /// number, the one whose position reached its end is the one meant.
    fn end_of_partition(&mut self, consumer: &BaseConsumer<QuietContext>, partition: i32) {
        let candidates: Vec<usize> = self
            .assigned
            .iter()
            .copied()
            .filter(|&index| self.partitions[index].partition == partition && !self.partitions[index].reached)
            .collect();
        match candidates.as_slice() {
            [] => return,
            [only] => {
                self.partitions[*only].reached = true;
                return;
            }
            _ => {}
        }
        let positions = consumer.position().unwrap_or_default();
        for index in candidates {
            let candidate = &mut self.partitions[index];
            let position = positions
                .find_partition(&candidate.topic, candidate.partition)
                .and_then(|element| match element.offset() {
                    Offset::Offset(offset) => Some(offset),
                    _ => None,
                });
            if position.is_some_and(|position| position >= candidate.end) {
                candidate.reached = true;
            }
        }
    }

    /// Whether every partition assigned now has been read to its end.
    fn all_reached(&self) -> bool {
        !self.assigned.is_empty() && self.assigned.iter().all(|&index| self.partitions[index].reached)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that keeps what it is given and counts its writes and flushes; a broken one fails every write.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        writes: usize,
        flushes: usize,
        broken: bool,
    }

    impl Write for Recorder {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if self.broken {
                return Err(io::Error::from(io::ErrorKind::BrokenPipe));
            }
            self.writes += 1;
            self.bytes.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    /// Renders a 100-byte record of partition `partition` of topic `t`, as the poll loop does with a group.
    fn print(printed: &mut Printed, partition: i32, offset: i64) {
        printed.buffer().extend_from_slice(&[b'x'; 99]);
        printed.buffer().push(b'\n');
        printed.note_offset("t", partition, offset);
    }

    type Stored = Vec<(String, i32, i64)>;

    fn write_out(printed: &mut Printed, out: &mut Recorder, stored: &mut Stored) -> io::Result<()> {
        printed.write_out(out, |topic, partition, offset| {
            stored.push((topic.to_owned(), partition, offset))
        })
    }

    #[test]
    fn records_are_written_out_in_blocks_and_their_offsets_stored_after() {
        let mut printed = Printed::new();
        let mut out = Recorder::default();
        let mut stored = Stored::new();
        // Records keep coming: they wait in the buffer until it holds WRITE_AT bytes.
        let to_fill = WRITE_AT / 100 + 1;
        for offset in 0..to_fill - 1 {
            print(&mut printed, 0, offset as i64);
            assert!(!printed.is_full(), "record {offset}");
        }
        print(&mut printed, 0, to_fill as i64 - 1);
        assert!(printed.is_full());
        assert_eq!(
            (out.writes, out.flushes),
            (0, 0),
            "nothing is written before the rule says so"
        );
        write_out(&mut printed, &mut out, &mut stored).unwrap();
        assert_eq!(
            (out.writes, out.flushes),
            (1, 1),
            "one write for the block, then a flush"
        );
        assert_eq!(out.bytes.len(), to_fill * 100);
        assert_eq!(
            stored,
            [("t".to_owned(), 0, to_fill as i64 - 1)],
            "the last offset written"
        );
        assert!(!printed.is_full());

        // A few records, then nothing ready: written out at once, each partition's last offset stored once.
        print(&mut printed, 1, 7);
        print(&mut printed, 0, 900);
        print(&mut printed, 1, 8);
        write_out(&mut printed, &mut out, &mut stored).unwrap();
        assert_eq!((out.writes, out.flushes), (2, 2));
        assert_eq!(out.bytes.len(), (to_fill + 3) * 100);
        stored.sort();
        assert_eq!(
            stored,
            [
                ("t".to_owned(), 0, to_fill as i64 - 1),
                ("t".to_owned(), 0, 900),
                ("t".to_owned(), 1, 8)
            ]
        );

        // Nothing rendered since: no write, no flush, nothing stored again.
        write_out(&mut printed, &mut out, &mut stored).unwrap();
        assert_eq!((out.writes, out.flushes, stored.len()), (2, 2, 3));
    }

    #[test]
    fn nothing_is_stored_when_the_write_fails() {
        let mut printed = Printed::new();
        let mut out = Recorder {
            broken: true,
            ..Recorder::default()
        };
        let mut stored = Stored::new();
        print(&mut printed, 0, 1);
        let error = write_out(&mut printed, &mut out, &mut stored).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        assert!(stored.is_empty(), "a record not written out is never committed");
    }

    #[test]
    fn without_a_group_no_offset_is_stored() {
        let mut printed = Printed::new();
        let mut out = Recorder::default();
        let mut stored = Stored::new();
        printed.buffer().extend_from_slice(b"record\n");
        write_out(&mut printed, &mut out, &mut stored).unwrap();
        assert_eq!(out.bytes, b"record\n");
        assert!(stored.is_empty());
    }

    #[test]
    fn the_end_is_every_assigned_partition_read_to_where_it_ended() {
        let known = |topic: &str, partition, end| PartitionEnd {
            topic: topic.to_owned(),
            partition,
            end,
            reached: false,
        };
        let mut ends = Ends {
            partitions: vec![known("a", 0, 10), known("b", 0, 5), known("a", 1, 3)],
            assigned: vec![0, 1],
        };
        assert!(!ends.all_reached());
        ends.read("a", 0, 9);
        assert!(!ends.all_reached(), "b 0 is not read yet");
        ends.read("b", 0, 3);
        assert!(!ends.all_reached(), "b 0 ends at 5: offset 4 is its last record");
        ends.read("c", 0, 100);
        ends.read("b", 0, 4);
        assert!(ends.all_reached(), "a 1 is not assigned, so it does not count");
        assert!(
            !Ends::default().all_reached(),
            "nothing assigned yet is not the end"
        );
    }
}
