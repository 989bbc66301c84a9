//! `readback.json`: per topic and partition, the offset from which Kafka may already hold records that also
//! wait in the spool — records a broker wrote before it went away without acknowledging them, which
//! librdkafka then gave back and the spool took. Kept from the first record spooled until the spool is empty,
//! across restarts, so the replayer reads them back (and skips them) even after a crash in the middle of a
//! replay. A mark moves later only once everything before its new place was read back and matched (or was
//! acknowledged) and its batches committed: reading back from earlier costs time, never a record.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::spool::ledger::replace_durably;

const FILE: &str = "readback.json";

/// Topic → partition → offset.
pub type Marks = BTreeMap<String, BTreeMap<i32, i64>>;

#[derive(Debug, thiserror::Error)]
pub enum ReadbackMarksError {
    #[error(
        "the spool's read-back marks {path} are not valid ({reason}); move the file away (records Kafka already \
         holds may then be sent again)"
    )]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot read or write the spool's read-back marks {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

#[derive(Debug)]
pub struct ReadbackMarks {
    directory: PathBuf,
    marks: Marks,
}

impl ReadbackMarks {
    /// The marks `directory` holds; none when it has no file.
    pub fn load(directory: &Path) -> Result<Self, ReadbackMarksError> {
        let path = directory.join(FILE);
        let marks = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| ReadbackMarksError::Invalid {
                path,
                reason: error.to_string(),
            })?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Marks::new(),
            Err(source) => return Err(ReadbackMarksError::Io { path, source }),
        };
        Ok(Self {
            directory: directory.to_owned(),
            marks,
        })
    }

    pub fn marks(&self) -> &Marks {
        &self.marks
    }

    /// Marks `topic`'s partitions that have none yet at `from`, durably before returning.
    pub fn add_missing(&mut self, topic: &str, from: &BTreeMap<i32, i64>) -> Result<(), ReadbackMarksError> {
        let known = self.marks.get(topic);
        let missing: Vec<(i32, i64)> = from
            .iter()
            .filter(|(partition, _)| known.is_none_or(|marks| !marks.contains_key(partition)))
            .map(|(partition, offset)| (*partition, *offset))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        self.marks.entry(topic.to_owned()).or_default().extend(missing);
        self.store()
    }

    /// Moves `topic`'s marks up to `to` where that is later, durably before returning.
    pub fn advance(&mut self, topic: &str, to: &BTreeMap<i32, i64>) -> Result<(), ReadbackMarksError> {
        let Some(marks) = self.marks.get_mut(topic) else {
            return Ok(());
        };
        let mut moved = false;
        for (partition, mark) in marks.iter_mut() {
            if let Some(later) = to.get(partition).filter(|later| **later > *mark) {
                *mark = *later;
                moved = true;
            }
        }
        if moved { self.store() } else { Ok(()) }
    }

    /// Forgets every mark: the spool is empty, nothing in it can be in Kafka. The file is removed durably
    /// before the marks are forgotten, so a failure leaves both.
    pub fn clear(&mut self) -> Result<(), ReadbackMarksError> {
        let path = self.directory.join(FILE);
        let remove = || match std::fs::remove_file(&path) {
            Ok(()) => std::fs::File::open(&self.directory)?.sync_all(),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error),
        };
        remove().map_err(|source| ReadbackMarksError::Io {
            path: path.clone(),
            source,
        })?;
        self.marks.clear();
        Ok(())
    }

    fn store(&self) -> Result<(), ReadbackMarksError> {
        let bytes = serde_json::to_vec(&self.marks).expect("numbers and names serialize");
        replace_durably(&self.directory, FILE, &bytes).map_err(|source| ReadbackMarksError::Io {
            path: self.directory.join(FILE),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_set_once_kept_across_a_reload_and_cleared() {
        let directory = std::env::temp_dir().join(format!("semaphore-marks-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let mut marks = ReadbackMarks::load(&directory).unwrap();
        assert!(marks.marks().is_empty());
        marks.add_missing("t", &BTreeMap::from([(0, 10)])).unwrap();
        // A later, higher offset does not move a mark; a new partition is added.
        marks
            .add_missing("t", &BTreeMap::from([(0, 50), (1, 7)]))
            .unwrap();
        let expected = Marks::from([("t".to_owned(), BTreeMap::from([(0, 10), (1, 7)]))]);
        assert_eq!(ReadbackMarks::load(&directory).unwrap().marks(), &expected);
        marks
            .advance("t", &BTreeMap::from([(0, 12), (1, 3), (5, 9)]))
            .unwrap();
        let advanced = Marks::from([("t".to_owned(), BTreeMap::from([(0, 12), (1, 7)]))]);
        assert_eq!(
            ReadbackMarks::load(&directory).unwrap().marks(),
            &advanced,
            "only later, only marked"
        );
        marks.clear().unwrap();
        assert!(ReadbackMarks::load(&directory).unwrap().marks().is_empty());
        std::fs::write(directory.join(FILE), "{\"t\":").unwrap();
        let error = ReadbackMarks::load(&directory).unwrap_err().to_string();
        assert!(
            error.contains("readback.json") && error.contains("move the file away"),
            "{error}"
        );
    }
}
