//! A durable, bounded, first-in first-out queue of records on disk: what the Kafka output keeps while Kafka
//! cannot take records, replayed in the order it took them once Kafka can (README "The spool").
//!
//! Under its directory: segment files ([`segment`]) of checksummed frames ([`frame`]), the [`ledger`],
//! which says how far replay got, and the [`readback_marks`], where Kafka may already hold spooled records. An append is synced to disk before [`Spool::append`] returns, so a record
//! the spool took survives SIGKILL and power loss. [`Spool::read`] hands out the next records from the
//! ledger's position; [`Spool::commit`] moves the ledger past them once Kafka acknowledged them, and deletes
//! the segments it passed. One reader at a time: read, send, commit, read again.
//!
//! At open, every frame waiting is checked. An append cut short by a crash (a torn last frame) is cut off: it
//! was never acknowledged to anyone. Damage anywhere else is logged naming the file and offset; the records
//! before it are replayed, the bytes after it skipped and counted, and the file kept as `NAME.corrupt`.

pub mod frame;
pub mod ledger;
pub mod readback_marks;
pub mod segment;
pub mod stats;

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use frame::SpooledRecord;
pub use ledger::Position;
pub use stats::{SpoolSnapshot, SpoolStats};

use crate::spool::ledger::LedgerError;
use crate::spool::readback_marks::{Marks, ReadbackMarks, ReadbackMarksError};
use crate::spool::segment::{ReadError, SegmentError, SegmentReader};

/// What the spool does with records that do not fit in `max_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WhenFull {
    /// The newest records are not taken, and counted: the writer keeps them and tries again, so a TCP sender
    /// is pushed back and UDP datagrams wait in (or overflow) the kernel's buffer.
    #[default]
    RefuseNewest,
    /// The oldest segment is deleted unsent to make room, and its records counted.
    DropOldest,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolSettings {
    /// The most the segments may take on disk.
    pub max_bytes: u64,
    pub when_full: WhenFull,
}

impl SpoolSettings {
    /// A sixteenth of the spool, between 64 KiB and 16 MiB: small enough that a replayed segment frees its
    /// space soon, large enough that files stay few.
    fn segment_bytes(&self) -> u64 {
        (self.max_bytes / 16).clamp(64 * 1024, 16 * 1024 * 1024)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot use the spool directory {path}: {source}")]
    Directory { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Segment(#[from] SegmentError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    ReadbackMarks(#[from] ReadbackMarksError),
    #[error("cannot write the spool segment {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// One segment with records not yet replayed.
#[derive(Debug)]
struct Segment {
    id: u64,
    /// Where the next record to replay starts (the ledger's offset for the head segment).
    start: u64,
    /// Where the last whole frame ends.
    end: u64,
    /// Records between `start` and `end`.
    records: u64,
    /// Bytes after `end` are damage: the file is kept as `.corrupt` rather than deleted once replayed.
    damaged: bool,
}

/// The newest segment, open for appends.
#[derive(Debug)]
struct Writer {
    id: u64,
    file: File,
}

/// Records [`Spool::read`] handed out, and where the ledger goes once they are acknowledged.
#[derive(Debug)]
pub struct ReadBatch {
    pub records: Vec<SpooledRecord>,
    pub end: Position,
}

/// What [`Spool::append`] did with a batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// The first `taken` records were spooled; the rest were refused (the spool is full).
    pub taken: usize,
    /// Records of older segments deleted unsent to make room.
    pub dropped_oldest: u64,
}

#[derive(Debug)]
pub struct Spool {
    directory: PathBuf,
    settings: SpoolSettings,
    segments: VecDeque<Segment>,
    writer: Writer,
    /// When the next record to replay was spooled; `None` when none waits.
    oldest_spooled_ms: Option<i64>,
    marks: ReadbackMarks,
    stats: Arc<SpoolStats>,
}

impl Spool {
    /// Opens (or creates) the spool in `directory`, checking every frame still waiting.
    pub fn open(directory: &Path, settings: SpoolSettings) -> Result<Self, SpoolError> {
        std::fs::create_dir_all(directory).map_err(|source| SpoolError::Directory {
            path: directory.to_owned(),
            source,
        })?;
        let position = ledger::load(directory)?;
        let marks = ReadbackMarks::load(directory)?;
        let stats = Arc::new(SpoolStats::default());
        let mut segments = VecDeque::new();
        let ids = segment::list(directory).map_err(|source| SpoolError::Directory {
            path: directory.to_owned(),
            source,
        })?;
        let last = ids.last().copied();
        for id in ids {
            if id < position.segment {
                // Replayed before a crash that came before its deletion.
                remove(&segment::path(directory, id));
                continue;
            }
            let offset = if id == position.segment {
                position.offset
            } else {
                0
            };
            match open_segment(directory, id, offset, Some(id) == last, &stats) {
                Ok(segment) => segments.push_back(segment),
                Err(SpoolError::Segment(SegmentError::NotASegment { path })) => set_aside(&path, &stats),
                Err(error) => return Err(error),
            }
        }
        // Appends always start a fresh segment: never after bytes this process did not write.
        let next_id = last.unwrap_or(0).max(position.segment) + 1;
        let writer = create_segment(directory, next_id)?;
        segments.push_back(empty_segment(next_id));
        let mut spool = Self {
            directory: directory.to_owned(),
            settings,
            segments,
            writer,
            oldest_spooled_ms: None,
            marks,
            stats,
        };
        spool.oldest_spooled_ms = spool.peek_oldest();
        spool.refresh_stats();
        // Left by a stop between the last commit and their removal: nothing waits that Kafka could hold.
        if spool.is_empty() {
            spool.marks.clear()?;
        }
        Ok(spool)
    }

    /// Where Kafka may already hold records of the spool, per topic and partition.
    pub fn readback_marks(&self) -> &Marks {
        self.marks.marks()
    }

    /// Kafka may hold `topic`'s spooled records from `from` on (per partition; earlier marks stay).
    pub fn mark_readback(
        &mut self,
        topic: &str,
        from: &std::collections::BTreeMap<i32, i64>,
    ) -> Result<(), SpoolError> {
        Ok(self.marks.add_missing(topic, from)?)
    }

    /// Everything of `topic` before `to` (per partition) that Kafka holds was read back and matched, or was
    /// acknowledged, and its batches committed: its marks move up to there.
    pub fn advance_readback(
        &mut self,
        topic: &str,
        to: &std::collections::BTreeMap<i32, i64>,
    ) -> Result<(), SpoolError> {
        Ok(self.marks.advance(topic, to)?)
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    pub fn stats(&self) -> Arc<SpoolStats> {
        self.stats.clone()
    }

    /// No record waits.
    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|segment| segment.records == 0)
    }

    /// Records waiting.
    pub fn len(&self) -> u64 {
        self.segments.iter().map(|segment| segment.records).sum()
    }

    /// Spools as many of `records` as fit (all of them unless the spool is full and refuses the newest),
    /// synced to disk before it returns.
    pub fn append(&mut self, records: &[SpooledRecord]) -> Result<Appended, SpoolError> {
        let frames: Vec<Vec<u8>> = records
            .iter()
            .map(|record| {
                let mut bytes = Vec::new();
                frame::encode(record, &mut bytes);
                bytes
            })
            .collect();
        let wanted: u64 = frames.iter().map(|frame| frame.len() as u64).sum();
        let mut appended = Appended::default();
        if self.settings.when_full == WhenFull::DropOldest {
            appended.dropped_oldest = self.drop_oldest_for(wanted)?;
        }
        let mut room = self.settings.max_bytes.saturating_sub(self.disk_bytes());
        for frame in &frames {
            let length = frame.len() as u64;
            if length > room {
                break;
            }
            self.write_frame(frame)?;
            room -= length;
            appended.taken += 1;
        }
        self.writer.file.sync_data().map_err(|source| SpoolError::Write {
            path: segment::path(&self.directory, self.writer.id),
            source,
        })?;
        self.stats.add_spooled(appended.taken as u64);
        self.stats.add_refused((records.len() - appended.taken) as u64);
        if self.oldest_spooled_ms.is_none() && appended.taken > 0 {
            self.oldest_spooled_ms = Some(records[0].spooled_ms);
        }
        self.refresh_stats();
        Ok(appended)
    }

    /// From the ledger's position on, in the order they were spooled: records up to `max_records`, and past
    /// `max_bytes` of payloads no more (the record that crosses it is the last).
    pub fn read(&mut self, max_records: usize, max_bytes: usize) -> Result<ReadBatch, SpoolError> {
        let mut records: Vec<SpooledRecord> = Vec::new();
        let mut bytes = 0;
        let full =
            |records: &Vec<SpooledRecord>, bytes: usize| records.len() >= max_records || bytes >= max_bytes;
        let mut end = self.head_position();
        for index in 0..self.segments.len() {
            if full(&records, bytes) {
                break;
            }
            let segment = &self.segments[index];
            let (id, start, stop) = (segment.id, segment.start, segment.end);
            let path = segment::path(&self.directory, id);
            let mut reader = SegmentReader::open(&path, start, Some(stop))?;
            while !full(&records, bytes) {
                match reader.next_record() {
                    Ok(Some(record)) => {
                        bytes += record.record.payload.len();
                        records.push(record);
                    }
                    Ok(None) => break,
                    Err(error) => {
                        self.damaged_while_reading(index, reader.position(), &error)?;
                        break;
                    }
                }
            }
            end = Position {
                segment: id,
                offset: reader.position(),
            };
            if reader.position() < self.segments[index].end {
                break;
            }
        }
        Ok(ReadBatch { records, end })
    }

    /// Moves the ledger to `end` (what a [`ReadBatch`] said) once its `records` were acknowledged, and deletes
    /// the segments it passed.
    pub fn commit(&mut self, end: Position, records: u64) -> Result<(), SpoolError> {
        self.stats.add_replayed(records);
        let mut in_head = records;
        // Segments wholly before `end` are done; the writer's is never removed.
        while self.segments.len() > 1 && self.segments[0].id < end.segment {
            in_head = in_head.saturating_sub(self.segments[0].records);
            self.retire_head();
        }
        // Unless the head was dropped to make room meanwhile, the batch ends inside it.
        if let Some(head) = self.segments.front_mut()
            && head.id == end.segment
            && end.offset >= head.start
        {
            head.records = head.records.saturating_sub(in_head);
            head.start = end.offset;
            if head.start >= head.end && self.segments.len() > 1 {
                self.retire_head();
            }
        }
        ledger::store(&self.directory, self.head_position())?;
        self.oldest_spooled_ms = self.peek_oldest();
        self.refresh_stats();
        if self.is_empty() {
            self.marks.clear()?;
        }
        Ok(())
    }

    /// Where replay resumes: the head segment's start.
    fn head_position(&self) -> Position {
        let head = self
            .segments
            .front()
            .expect("the writer's segment is always there");
        Position {
            segment: head.id,
            offset: head.start,
        }
    }

    fn write_frame(&mut self, frame: &[u8]) -> Result<(), SpoolError> {
        let current = self
            .segments
            .back()
            .expect("the writer's segment is always there");
        if current.end + frame.len() as u64 > self.settings.segment_bytes() && current.records > 0 {
            self.rotate()?;
        }
        let path = segment::path(&self.directory, self.writer.id);
        self.writer
            .file
            .write_all(frame)
            .map_err(|source| SpoolError::Write { path, source })?;
        let current = self
            .segments
            .back_mut()
            .expect("the writer's segment is always there");
        current.end += frame.len() as u64;
        current.records += 1;
        Ok(())
    }

    /// Closes the current segment (synced) and starts the next.
    fn rotate(&mut self) -> Result<(), SpoolError> {
        self.writer.file.sync_data().map_err(|source| SpoolError::Write {
            path: segment::path(&self.directory, self.writer.id),
            source,
        })?;
        let id = self.writer.id + 1;
        self.writer = create_segment(&self.directory, id)?;
        self.segments.push_back(empty_segment(id));
        Ok(())
    }

    /// Deletes the oldest segments (never the one being written) until `wanted` more bytes fit; the records
    /// they held.
    fn drop_oldest_for(&mut self, wanted: u64) -> Result<u64, SpoolError> {
        let mut dropped = 0;
        while self.disk_bytes() + wanted > self.settings.max_bytes && self.segments.len() > 1 {
            let head = &self.segments[0];
            dropped += head.records;
            tracing::warn!(
                segment = %segment::path(&self.directory, head.id).display(), records = head.records,
                "The spool is full: deleted its oldest segment unsent to make room (when_full = \"drop_oldest\")."
            );
            self.retire_head();
            ledger::store(&self.directory, self.head_position())?;
        }
        if dropped > 0 {
            self.oldest_spooled_ms = self.peek_oldest();
        }
        self.stats.add_dropped_oldest(dropped);
        Ok(dropped)
    }

    /// Removes the head segment's file (kept as `.corrupt` when damaged).
    fn retire_head(&mut self) {
        let head = self.segments.pop_front().expect("checked by the caller");
        let path = segment::path(&self.directory, head.id);
        if head.damaged {
            let kept = path.with_extension("spool.corrupt");
            if let Err(error) = std::fs::rename(&path, &kept) {
                tracing::warn!(segment = %path.display(), %error, "Cannot keep the damaged spool segment aside; deleting it.");
                remove(&path);
            }
        } else {
            remove(&path);
        }
    }

    /// A frame that fails its checks during replay (the disk changed under the spool): the segment ends there,
    /// and appends move to a fresh segment if it was the one being written.
    fn damaged_while_reading(&mut self, index: usize, at: u64, error: &ReadError) -> Result<(), SpoolError> {
        let segment = &mut self.segments[index];
        let path = segment::path(&self.directory, segment.id);
        let skipped = segment.end.saturating_sub(at);
        tracing::error!(
            segment = %path.display(), offset = at, error = %error, skipped_bytes = skipped,
            "A spool segment is damaged; its records before this offset were replayed, the rest of it is skipped and the file kept as .corrupt."
        );
        self.stats.add_corrupt_bytes(skipped);
        segment.end = at;
        segment.damaged = true;
        segment.records = 0;
        if index + 1 == self.segments.len() {
            self.rotate()?;
        }
        Ok(())
    }

    /// Bytes the segments take on disk.
    fn disk_bytes(&self) -> u64 {
        self.segments.iter().map(|segment| segment.end).sum()
    }

    fn refresh_stats(&self) {
        let records = self.len();
        let oldest = if records == 0 {
            None
        } else {
            self.oldest_spooled_ms
        };
        self.stats.set_waiting(records, self.disk_bytes(), oldest);
    }

    /// When the next record to replay was spooled.
    fn peek_oldest(&self) -> Option<i64> {
        let segment = self.segments.iter().find(|segment| segment.records > 0)?;
        let path = segment::path(&self.directory, segment.id);
        let mut reader = SegmentReader::open(&path, segment.start, Some(segment.end)).ok()?;
        reader
            .next_record()
            .ok()
            .flatten()
            .map(|record| record.spooled_ms)
    }
}

/// Checks segment `id` from `offset`: a torn tail of the last segment is cut off; damage elsewhere is
/// logged, counted, and the segment read only up to it.
fn open_segment(
    directory: &Path,
    id: u64,
    offset: u64,
    last: bool,
    stats: &SpoolStats,
) -> Result<Segment, SpoolError> {
    let scan = segment::scan(directory, id, offset)?;
    let path = segment::path(directory, id);
    let mut damaged = false;
    if let Some(damage) = &scan.damage {
        if last && scan.is_torn_tail() {
            tracing::info!(segment = %path.display(), bytes = scan.file_end - scan.valid_end, "Cut off the spool's last append, which a crash interrupted before it was acknowledged.");
            truncate(&path, scan.valid_end)?;
        } else {
            let skipped = scan.file_end - scan.valid_end;
            tracing::error!(
                segment = %path.display(), offset = scan.valid_end, skipped_bytes = skipped,
                error = %damage,
                "A spool segment is damaged: its records before this offset are replayed, the rest of it is skipped and the file kept as .corrupt for inspection."
            );
            stats.add_corrupt_bytes(skipped);
            damaged = true;
        }
    }
    Ok(Segment {
        id,
        start: offset.max(segment::MAGIC.len() as u64),
        end: scan.valid_end,
        records: scan.records,
        damaged,
    })
}

/// A file named as a segment that does not start as one: kept as `.corrupt`, counted, and skipped.
fn set_aside(path: &Path, stats: &SpoolStats) {
    let bytes = std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    let kept = path.with_extension("spool.corrupt");
    tracing::error!(
        segment = %path.display(), kept = %kept.display(), skipped_bytes = bytes,
        "A spool segment does not start as one (damaged or not written by semaphore); skipped it and kept it aside."
    );
    stats.add_corrupt_bytes(bytes);
    if std::fs::rename(path, &kept).is_err() {
        remove(path);
    }
}

fn empty_segment(id: u64) -> Segment {
    let start = segment::MAGIC.len() as u64;
    Segment {
        id,
        start,
        end: start,
        records: 0,
        damaged: false,
    }
}

/// A new segment with its magic, durable (file and directory entry).
fn create_segment(directory: &Path, id: u64) -> Result<Writer, SpoolError> {
    let path = segment::path(directory, id);
    let create = || -> io::Result<File> {
        let mut file = OpenOptions::new().create_new(true).append(true).open(&path)?;
        file.write_all(segment::MAGIC)?;
        file.sync_all()?;
        File::open(directory)?.sync_all()?;
        Ok(file)
    };
    let file = create().map_err(|source| SpoolError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(Writer { id, file })
}

fn truncate(path: &Path, length: u64) -> Result<(), SpoolError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|file| {
            file.set_len(length)?;
            file.sync_all()
        })
        .map_err(|source| SpoolError::Write {
            path: path.to_owned(),
            source,
        })
}

fn remove(path: &Path) {
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(segment = %path.display(), %error, "Cannot delete a replayed spool segment.");
    }
}

#[cfg(test)]
mod tests;
