//! `semaphore.generated/1`: a synthetic record from the generator source, numbered so that a reader can
//! check that every record arrived once and, per key, in order (the spool's tests and benchmarks do).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::record::KeyStrategy;
use crate::record::registry::RecordKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratedRecord {
    /// When it was made; the Kafka record timestamp.
    pub ts: DateTime<Utc>,
    /// The source's id.
    pub source: String,
    /// A random id per start of the source, so numbers from two runs are told apart.
    pub run: String,
    /// 0, 1, 2, … per run.
    pub sequence: u64,
    /// The record's Kafka key: `key-N`, N below the source's `keys`.
    pub key: String,
    /// 0, 1, 2, … per run and key: the order a reader must see them in.
    pub key_sequence: u64,
    /// Filler, so records have the configured size.
    pub message: String,
}

impl RecordKind for GeneratedRecord {
    const SCHEMA: &'static str = "semaphore.generated";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "semaphore.generated/1";
    const JSON_SCHEMA: &'static str = "semaphore.generated.v1.json";
    /// No strategy: always keyed by its `key`.
    const DEFAULT_KEY: Option<KeyStrategy> = None;

    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}
