//! The per-organization watermark of a polling source, persisted under the data directory: the end of the
//! last window whose every record the outputs acknowledged, and the window in flight with the Kafka
//! offsets where it started, so a restart after a crash mid-window can tell which of its samples were
//! already written (no gaps, no duplicates).
//!
//! Written atomically (temporary file, fsync, rename), so a crash leaves the old state or the new one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One organization's progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Every sample before this time is written.
    pub watermark: Option<DateTime<Utc>>,
    /// The window being written, if the process stopped while writing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<InFlight>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    pub t0: DateTime<Utc>,
    pub t1: DateTime<Utc>,
    /// Kafka topic partition → its end offset before the window's first record was sent.
    pub kafka_offsets: BTreeMap<i32, i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct StateFile {
    organizations: BTreeMap<String, Progress>,
}

#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    #[error("cannot read the watermark file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "the watermark file {path} is damaged ({source}); move it away to start from the initial look-back"
    )]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write the watermark file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// The state of one source. Shared by the source's organization tasks behind a mutex (held only for the
/// in-memory update and the small file write, never across an await).
#[derive(Debug)]
pub struct WatermarkStore {
    path: PathBuf,
    state: std::sync::Mutex<StateFile>,
}

impl WatermarkStore {
    /// Opens (or starts) `DATA_DIR/watermarks/SOURCE.json`.
    pub fn open(data_dir: &Path, source: &str) -> Result<Self, WatermarkError> {
        let path = data_dir.join("watermarks").join(format!("{source}.json"));
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| WatermarkError::Parse {
                path: path.clone(),
                source,
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => StateFile::default(),
            Err(source) => return Err(WatermarkError::Read { path, source }),
        };
        Ok(Self {
            path,
            state: std::sync::Mutex::new(state),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn progress(&self, organization_id: &str) -> Progress {
        self.lock()
            .organizations
            .get(organization_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Records that a window is about to be written.
    pub fn begin(&self, organization_id: &str, in_flight: InFlight) -> Result<(), WatermarkError> {
        self.update(organization_id, |progress| progress.in_flight = Some(in_flight))
    }

    /// Moves the watermark: every record before `watermark` is acknowledged.
    pub fn advance(&self, organization_id: &str, watermark: DateTime<Utc>) -> Result<(), WatermarkError> {
        self.update(organization_id, |progress| {
            progress.watermark = Some(watermark);
            progress.in_flight = None;
        })
    }

    fn update(
        &self,
        organization_id: &str,
        change: impl FnOnce(&mut Progress),
    ) -> Result<(), WatermarkError> {
        let mut state = self.lock();
        change(state.organizations.entry(organization_id.to_owned()).or_default());
        let bytes = serde_json::to_vec_pretty(&*state).expect("the state always serializes");
        write_atomically(&self.path, &bytes).map_err(|source| WatermarkError::Write {
            path: self.path.clone(),
            source,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StateFile> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one: a temporary file, synced,
/// renamed over it, and the directory synced. Creates the directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = path.parent().expect("a state file path is under a directory");
    std::fs::create_dir_all(directory)?;
    let temporary = path.with_extension("json.tmp");
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    // The rename itself is durable only once the directory is synced.
    std::fs::File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen_and_clears_in_flight_on_advance() {
        let directory = std::env::temp_dir().join(format!("semaphore-wm-{}", uuid::Uuid::new_v4()));
        let t0: DateTime<Utc> = "2026-11-27T10:00:00Z".parse().unwrap();
        let t1: DateTime<Utc> = "2026-11-27T10:05:00Z".parse().unwrap();
        {
            let store = WatermarkStore::open(&directory, "uplinks").unwrap();
            assert_eq!(store.progress("1"), Progress::default());
            store
                .begin(
                    "1",
                    InFlight {
                        t0,
                        t1,
                        kafka_offsets: BTreeMap::from([(0, 5), (1, 7)]),
                    },
                )
                .unwrap();
        }
        let store = WatermarkStore::open(&directory, "uplinks").unwrap();
        assert_eq!(store.progress("1").in_flight.unwrap().kafka_offsets[&1], 7);
        store.advance("1", t1).unwrap();
        let store = WatermarkStore::open(&directory, "uplinks").unwrap();
        assert_eq!(
            store.progress("1"),
            Progress {
                watermark: Some(t1),
                in_flight: None
            }
        );
        std::fs::write(store.path(), b"{not json").unwrap();
        let error = WatermarkStore::open(&directory, "uplinks").unwrap_err();
        assert!(error.to_string().contains("damaged"), "{error}");
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
