//! `ledger.json`: how far replay got, as the segment and byte offset of the next record to send. It moves
//! only after Kafka acknowledged everything before that point, and is replaced atomically (written beside,
//! synced, renamed), so a crash leaves either the old or the new position, never half of one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const FILE: &str = "ledger.json";

/// A place in the spool: the next frame of segment `segment` starts at byte `offset`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot read the spool ledger {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "the spool ledger {path} is not valid ({reason}); move it away to replay every segment from its start \
         (records already in Kafka may then be sent again)"
    )]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot write the spool ledger {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// The position `directory`'s ledger holds; the start when there is no ledger yet.
pub fn load(directory: &Path) -> Result<Position, LedgerError> {
    let path = directory.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| LedgerError::Invalid {
            path,
            reason: error.to_string(),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Position::default()),
        Err(source) => Err(LedgerError::Read { path, source }),
    }
}

/// Replaces the ledger with `position`, durably.
pub fn store(directory: &Path, position: Position) -> Result<(), LedgerError> {
    let bytes = serde_json::to_vec(&position).expect("two numbers serialize");
    replace_durably(directory, FILE, &bytes).map_err(|source| LedgerError::Write {
        path: directory.join(FILE),
        source,
    })
}

/// Replaces `directory/name` with `bytes`: written beside, synced, renamed, so a crash leaves the old file or
/// the new one, never half of one.
pub(super) fn replace_durably(directory: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let beside = directory.join(format!("{name}.new"));
    let mut file = std::fs::File::create(&beside)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&beside, directory.join(name))?;
    // The rename itself is durable only once the directory is.
    std::fs::File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_position_is_loaded_and_no_ledger_is_the_start() {
        let directory = std::env::temp_dir().join(format!("semaphore-ledger-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        assert_eq!(load(&directory).unwrap(), Position::default());
        let position = Position {
            segment: 7,
            offset: 4096,
        };
        store(&directory, position).unwrap();
        assert_eq!(load(&directory).unwrap(), position);
        std::fs::write(directory.join(FILE), "{\"segment\":").unwrap();
        let error = load(&directory).unwrap_err().to_string();
        assert!(
            error.contains("ledger.json") && error.contains("move it away"),
            "{error}"
        );
    }
}
