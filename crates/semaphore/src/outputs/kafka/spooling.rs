//! The Kafka output's spool at work, for sources that cannot hold their senders back (syslog over UDP, traps,
//! dial-out telemetry): what Kafka does not acknowledge within `spool_after_s` is taken back from librdkafka's
//! queue and written to the [`Spool`]; from then on every new record goes to the spool behind it, and one
//! replayer sends the spool to Kafka in the order it was written. Once the spool is empty, records go
//! straight to Kafka again. Per key, the order records were accepted in is the
//! order Kafka gets them.
//!
//! Never lost: a record is in the spool or in librdkafka's hands, and the ledger moves only after Kafka
//! acknowledged a replayed batch. Never twice: a record that was in flight when the broker went away, then
//! retried by librdkafka and taken back from its queue, may already have been written by the broker
//! (librdkafka knows it as "possibly persisted", which rust-rdkafka does not expose), and a batch a crash
//! interrupted between Kafka's acknowledgement and the ledger's write may be in Kafka too. The spool marks,
//! with its first record of a topic, where in each partition such records could start; before replaying,
//! what Kafka holds from there is read back and those records are skipped ([`AlreadyInKafka`]).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use semaphore_meraki::Backoff;
use tokio::sync::Notify;

use crate::bus::handle::{KafkaHandle, TopicCreation, UnsentRecords};
use crate::bus::producer::MAX_BYTES_PER_SEND;
use crate::bus::readback::ReadbackError;
use crate::bus::written_offsets::PartitionOffsets;
use crate::error_text::one_line;
use crate::outputs::WriteError;
use crate::outputs::kafka::already_in_kafka::AlreadyInKafka;
use crate::record::EncodedRecord;
use crate::shutdown::Stop;
use crate::spool::readback_marks::Marks;
use crate::spool::{ReadBatch, Spool, SpoolError, SpoolSettings, SpoolStats, SpooledRecord};

/// Records replayed per batch: large enough to keep librdkafka's batches full, and never more bytes than
/// [`MAX_BYTES_PER_SEND`] (more makes librdkafka's broker thread spin).
const REPLAY_BATCH: usize = 5_000;
/// Between two replay attempts Kafka did not take: 1 s doubling to 30 s.
const REPLAY_RETRY: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
/// How often a long replay moves its read-back marks past what is done, so a restart reads back little.
const ADVANCE_MARKS_EVERY: Duration = Duration::from_secs(10);
/// How often a long replay says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct KafkaSpool {
    /// A std mutex: held only inside `spawn_blocking`, for one append, read or commit.
    spool: Arc<Mutex<Spool>>,
    stats: Arc<SpoolStats>,
    /// Wakes the replayer when records were spooled.
    spooled: Notify,
    /// Records Kafka may have written were spooled since the replayer last read back.
    possibly_written: AtomicBool,
    spool_after: Duration,
}

impl KafkaSpool {
    /// Opens the spool in `directory` (checking what waits there from an earlier run).
    pub fn open(
        directory: &std::path::Path,
        settings: SpoolSettings,
        spool_after: Duration,
    ) -> Result<Self, SpoolError> {
        let spool = Spool::open(directory, settings)?;
        let stats = spool.stats();
        let waiting = spool.len();
        if waiting > 0 {
            tracing::info!(records = waiting, directory = %directory.display(), "The spool holds records from an earlier run; they go to Kafka before any new record.");
        }
        Ok(Self {
            spool: Arc::new(Mutex::new(spool)),
            stats,
            spooled: Notify::new(),
            possibly_written: AtomicBool::new(false),
            spool_after,
        })
    }

    pub fn stats(&self) -> Arc<SpoolStats> {
        self.stats.clone()
    }

    /// How long a batch waits for Kafka before what it did not take is spooled.
    pub fn spool_after(&self) -> Duration {
        self.spool_after
    }

    /// The records about to be spooled were handed to Kafka and taken back: it may have written some, so the
    /// replayer reads back again before its next send.
    pub fn note_possibly_written(&self) {
        self.possibly_written.store(true, Ordering::Relaxed);
    }

    /// Records wait in the spool: new ones go behind them.
    pub fn in_use(&self) -> bool {
        self.stats.snapshot().records > 0
    }

    /// Spools `records[index]` for each index, in order; what a full spool refused is returned to be
    /// written again (by `Outputs::publish`'s retry), which pushes back on the source. `unacknowledged_from`
    /// is where, per partition, Kafka could hold records of this process it did not acknowledge: the spool
    /// reads back from there before replaying.
    pub async fn append(
        &self,
        topic: &str,
        records: &[EncodedRecord],
        indexes: &[usize],
        unacknowledged_from: PartitionOffsets,
    ) -> Result<(), WriteError> {
        let spooled_ms = chrono::Utc::now().timestamp_millis();
        let batch: Vec<SpooledRecord> = indexes
            .iter()
            .map(|index| SpooledRecord {
                topic: topic.to_owned(),
                record: records[*index].clone(),
                spooled_ms,
            })
            .collect();
        let spool = self.spool.clone();
        let topic_name = topic.to_owned();
        let appended = tokio::task::spawn_blocking(move || {
            let mut spool = lock(&spool);
            spool.mark_readback(&topic_name, &unacknowledged_from)?;
            spool.append(&batch)
        })
        .await
        .expect("appending does not panic");
        self.spooled.notify_one();
        match appended {
            Ok(appended) if appended.taken == indexes.len() => Ok(()),
            Ok(appended) => Err(WriteError {
                remaining: indexes[appended.taken..].to_vec(),
                reason:
                    "the spool is full ([outputs.kafka] spool_max_bytes); the newest records wait for room"
                        .to_owned(),
            }),
            Err(error) => Err(WriteError {
                remaining: indexes.to_vec(),
                reason: one_line(&error),
            }),
        }
    }

    /// Sends the spool to Kafka, oldest first, whenever it holds records, until `stop`. A batch being sent
    /// when `stop` comes is finished (or taken back) first, so the drain can wait for it.
    pub async fn replay(self: Arc<Self>, kafka: Arc<KafkaHandle>, creation: TopicCreation, stop: Stop) {
        let mut progress = Progress::default();
        let mut already = AlreadyInKafka::default();
        let mut marks_advanced = tokio::time::Instant::now();
        loop {
            if !self.in_use() {
                progress.finished();
                already = AlreadyInKafka::default();
                tokio::select! {
                    () = self.spooled.notified() => continue,
                    () = stop.stopped() => return,
                }
            }
            if stop.is_stopped() {
                return;
            }
            let batch = match self.read().await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(error = %one_line(&error), "Cannot read the spool; trying again.");
                    if !stop.sleep(REPLAY_RETRY.delay(2)).await {
                        return;
                    }
                    continue;
                }
            };
            if batch.records.is_empty() {
                // Records counted but none readable: only damage found while reading does this; the commit
                // below moves past it. Paced, so a miscount can never spin.
                if !stop.sleep(Duration::from_secs(1)).await {
                    return;
                }
            } else if !self.send(&kafka, creation, &batch, &stop, &mut already).await {
                return;
            }
            if let Err(error) = self.commit(&batch).await {
                tracing::error!(error = %one_line(&error), "Cannot move the spool's ledger; the batch may be sent again after a restart.");
            } else if marks_advanced.elapsed() >= ADVANCE_MARKS_EVERY {
                marks_advanced = tokio::time::Instant::now();
                if let Err(error) = self.advance_marks(&already).await {
                    tracing::warn!(error = %one_line(&error), "Cannot move the spool's read-back marks; a restart reads back more.");
                }
            }
            progress.replayed(batch.records.len() as u64, self.stats.snapshot().records);
        }
    }

    async fn read(&self) -> Result<ReadBatch, SpoolError> {
        let spool = self.spool.clone();
        tokio::task::spawn_blocking(move || lock(&spool).read(REPLAY_BATCH, MAX_BYTES_PER_SEND))
            .await
            .expect("reading does not panic")
    }

    /// The spool's read-back marks, first adding, for partitions of `topics` it has none for, where this
    /// process's unacknowledged records could start.
    async fn marks(&self, kafka: &KafkaHandle, topics: &BTreeSet<&str>) -> Result<Marks, SpoolError> {
        let unacknowledged: Vec<(String, PartitionOffsets)> = topics
            .iter()
            .map(|topic| ((*topic).to_owned(), kafka.written().unacknowledged_from(topic)))
            .collect();
        let spool = self.spool.clone();
        tokio::task::spawn_blocking(move || {
            let mut spool = lock(&spool);
            for (topic, from) in &unacknowledged {
                spool.mark_readback(topic, from)?;
            }
            Ok(spool.readback_marks().clone())
        })
        .await
        .expect("marking does not panic")
    }

    /// Moves the read-back marks past what the replay has done, when [`AlreadyInKafka::settled`] says so.
    async fn advance_marks(&self, already: &AlreadyInKafka) -> Result<(), SpoolError> {
        let spool = self.spool.clone();
        let marks = tokio::task::spawn_blocking(move || lock(&spool).readback_marks().clone())
            .await
            .expect("reading the marks does not panic");
        let Some(settled) = already.settled(&marks) else {
            return Ok(());
        };
        let spool = self.spool.clone();
        tokio::task::spawn_blocking(move || {
            let mut spool = lock(&spool);
            for (topic, to) in &settled {
                spool.advance_readback(topic, to)?;
            }
            Ok(())
        })
        .await
        .expect("advancing does not panic")
    }

    async fn commit(&self, batch: &ReadBatch) -> Result<(), SpoolError> {
        let spool = self.spool.clone();
        let (end, count) = (batch.end, batch.records.len() as u64);
        tokio::task::spawn_blocking(move || lock(&spool).commit(end, count))
            .await
            .expect("committing does not panic")
    }

    /// Sends a batch until Kafka acknowledged all of it, resending only what it did not take and skipping
    /// what Kafka already holds; false when stopped before then (the batch stays in the spool, and what Kafka
    /// did acknowledge of it is read back and skipped at the next start).
    async fn send(
        &self,
        kafka: &KafkaHandle,
        creation: TopicCreation,
        batch: &ReadBatch,
        stop: &Stop,
        already: &mut AlreadyInKafka,
    ) -> bool {
        let topics: BTreeSet<&str> = batch.records.iter().map(|record| record.topic.as_str()).collect();
        let mut unsent: Vec<usize> = (0..batch.records.len()).collect();
        let mut attempt = 0;
        while !unsent.is_empty() {
            attempt += 1;
            let outcome = {
                let sending = self.send_once(kafka, creation, &topics, batch, &mut unsent, already);
                tokio::pin!(sending);
                tokio::select! {
                    outcome = &mut sending => outcome,
                    () = stop.stopped() => {
                        // Take back what librdkafka still queues, and let what is in flight settle briefly, so
                        // nothing is delivered behind the ledger's back after the process is gone.
                        kafka.producer().purge_queued();
                        return matches!(
                            tokio::time::timeout(self.spool_after, &mut sending).await,
                            Ok(Ok(()))
                        );
                    }
                }
            };
            match outcome {
                Ok(()) => unsent.clear(),
                Err(failed) => {
                    already.outdated();
                    let refused: BTreeSet<usize> = failed.remaining.iter().copied().collect();
                    for (position, index) in unsent.iter().enumerate() {
                        if !refused.contains(&position) {
                            let spooled = &batch.records[*index];
                            already.acknowledged(&spooled.topic, &spooled.record.payload);
                        }
                    }
                    let delay = REPLAY_RETRY.delay(attempt);
                    tracing::warn!(records = failed.remaining.len(), error = %failed.reason, retry_in_s = delay.as_secs_f64(), "Kafka did not take the spool's records; they stay spooled and are sent again.");
                    unsent = failed.remaining.iter().map(|index| unsent[*index]).collect();
                    if !stop.sleep(delay).await {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// One attempt: topics made sure of, what Kafka already holds read back and dropped from `unsent`, then
    /// `batch.records[index]` for each of the rest, taken back from librdkafka's queue whenever Kafka leaves
    /// them waiting `spool_after`. `remaining` indexes `unsent`.
    async fn send_once(
        &self,
        kafka: &KafkaHandle,
        creation: TopicCreation,
        topics: &BTreeSet<&str>,
        batch: &ReadBatch,
        unsent: &mut Vec<usize>,
        already: &mut AlreadyInKafka,
    ) -> Result<(), WriteError> {
        let all = |reason: String| WriteError {
            remaining: (0..unsent.len()).collect(),
            reason,
        };
        for topic in topics {
            kafka
                .ensure_topic(topic, creation)
                .await
                .map_err(|error| all(one_line(&error)))?;
        }
        let marks = self
            .marks(kafka, topics)
            .await
            .map_err(|error| all(one_line(&error)))?;
        if self.possibly_written.swap(false, Ordering::Relaxed) {
            already.outdated();
        }
        match already.refresh(kafka, &marks).await {
            Ok(()) => {}
            Err(error @ ReadbackError::Unfinished { .. }) => {
                tracing::warn!(error = %one_line(&error), "Cannot read back in time what Kafka already holds of the spool; replaying without it (records Kafka holds may be sent again).");
                already.give_up();
            }
            Err(error) => {
                return Err(all(format!(
                    "cannot read back what Kafka already holds of the spool: {}",
                    one_line(&error)
                )));
            }
        }
        let before = unsent.len();
        unsent.retain(|index| {
            let spooled = &batch.records[*index];
            !already.take(&spooled.topic, &spooled.record.payload)
        });
        let skipped = (before - unsent.len()) as u64;
        if skipped > 0 {
            self.stats.add_already_in_kafka(skipped);
            tracing::info!(
                records = skipped,
                "Kafka already held these spooled records (written before the broker went away, unacknowledged); not sending them again."
            );
        }
        let records = unsent.iter().map(|index| {
            let spooled = &batch.records[*index];
            (spooled.topic.as_str(), &spooled.record)
        });
        send_taking_back(kafka, kafka.send_each(records), self.spool_after).await
    }
}

/// Waits for `sends`, taking back what librdkafka still queues every `after` while Kafka does not answer, so
/// the wait ends (those records fail, never sent) instead of lasting the outage.
pub async fn send_taking_back(
    kafka: &KafkaHandle,
    sends: impl Future<Output = Result<(), UnsentRecords>>,
    after: Duration,
) -> Result<(), WriteError> {
    tokio::pin!(sends);
    loop {
        tokio::select! {
            result = &mut sends => {
                return result.map_err(|unsent| WriteError {
                    remaining: unsent.remaining,
                    reason: one_line(&unsent.refused),
                });
            }
            () = tokio::time::sleep(after) => kafka.producer().purge_queued(),
        }
    }
}

/// Log lines of a replay: how much when it starts, every [`PROGRESS_EVERY`], and when the spool is empty.
#[derive(Default)]
struct Progress {
    replayed: u64,
    last_said: Option<tokio::time::Instant>,
}

impl Progress {
    fn replayed(&mut self, records: u64, left: u64) {
        self.replayed += records;
        let now = tokio::time::Instant::now();
        if self.last_said.is_none_or(|said| now - said >= PROGRESS_EVERY) {
            tracing::info!(replayed = self.replayed, left, "Replaying the spool to Kafka.");
            self.last_said = Some(now);
        }
    }

    fn finished(&mut self) {
        if self.replayed > 0 {
            tracing::info!(
                replayed = self.replayed,
                "The spool is empty: every spooled record is in Kafka; writing to Kafka directly again."
            );
        }
        *self = Self::default();
    }
}

fn lock(spool: &Mutex<Spool>) -> MutexGuard<'_, Spool> {
    spool.lock().unwrap_or_else(PoisonError::into_inner)
}
