//! The spool's counters, shared with `/metrics` and `/readyz`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::Serialize;

#[derive(Debug, Default)]
pub struct SpoolStats {
    records: AtomicU64,
    bytes: AtomicU64,
    /// When the oldest waiting record was spooled (ms since the epoch); 0 when none waits.
    oldest_spooled_ms: AtomicI64,
    spooled: AtomicU64,
    replayed: AtomicU64,
    already_in_kafka: AtomicU64,
    dropped_oldest: AtomicU64,
    refused: AtomicU64,
    corrupt_bytes: AtomicU64,
}

/// The counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpoolSnapshot {
    /// Records waiting for Kafka.
    pub records: u64,
    /// Bytes the spool's segments take on disk.
    pub bytes: u64,
    pub oldest_spooled_ms: Option<i64>,
    /// Records written to the spool since start.
    pub spooled: u64,
    /// Records replayed to Kafka (acknowledged) since start.
    pub replayed: u64,
    /// Spooled records not replayed because Kafka already held them (written by a broker that went away
    /// before it acknowledged them); counted in `replayed` too.
    pub already_in_kafka: u64,
    /// Records removed unsent to make room (`when_full = "drop_oldest"`).
    pub dropped_oldest: u64,
    /// Records the full spool did not take (`when_full = "refuse_newest"`).
    pub refused: u64,
    /// Bytes of damaged segments skipped.
    pub corrupt_bytes: u64,
}

impl SpoolStats {
    pub fn snapshot(&self) -> SpoolSnapshot {
        let oldest = self.oldest_spooled_ms.load(Ordering::Relaxed);
        SpoolSnapshot {
            records: self.records.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            oldest_spooled_ms: (oldest != 0).then_some(oldest),
            spooled: self.spooled.load(Ordering::Relaxed),
            replayed: self.replayed.load(Ordering::Relaxed),
            already_in_kafka: self.already_in_kafka.load(Ordering::Relaxed),
            dropped_oldest: self.dropped_oldest.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            corrupt_bytes: self.corrupt_bytes.load(Ordering::Relaxed),
        }
    }

    pub(super) fn set_waiting(&self, records: u64, bytes: u64, oldest_spooled_ms: Option<i64>) {
        self.records.store(records, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
        self.oldest_spooled_ms
            .store(oldest_spooled_ms.unwrap_or(0), Ordering::Relaxed);
    }

    pub(super) fn add_spooled(&self, records: u64) {
        self.spooled.fetch_add(records, Ordering::Relaxed);
    }

    pub(super) fn add_replayed(&self, records: u64) {
        self.replayed.fetch_add(records, Ordering::Relaxed);
    }

    pub fn add_already_in_kafka(&self, records: u64) {
        self.already_in_kafka.fetch_add(records, Ordering::Relaxed);
    }

    pub(super) fn add_dropped_oldest(&self, records: u64) {
        self.dropped_oldest.fetch_add(records, Ordering::Relaxed);
    }

    pub(super) fn add_refused(&self, records: u64) {
        self.refused.fetch_add(records, Ordering::Relaxed);
    }

    pub(super) fn add_corrupt_bytes(&self, bytes: u64) {
        self.corrupt_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}
