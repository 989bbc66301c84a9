//! Segment files: `NNNNNNNNNNNNNNNNNNNN.spool` (the id, zero-padded so names sort as ids do), each an
//! 8-byte magic then frames. A segment is appended to until it reaches its size, then the next is started;
//! a segment replay has passed is deleted whole, so the spool's disk use follows what is still waiting.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::spool::frame::{self, FRAME_HEADER_BYTES, FrameError, SpooledRecord};

/// What every segment starts with: "semaphore spool, format 1".
pub const MAGIC: &[u8; 8] = b"SEMSPL01";
const EXTENSION: &str = "spool";

/// The path of segment `id` in `directory`.
pub fn path(directory: &Path, id: u64) -> PathBuf {
    directory.join(format!("{id:020}.{EXTENSION}"))
}

/// The ids of the segments in `directory`, oldest first.
pub fn list(directory: &Path) -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(directory)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name
            .strip_suffix(".spool")
            .and_then(|stem| stem.parse::<u64>().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// What a scan found in one segment from a byte offset on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Frames that decode, up to the first that does not.
    pub records: u64,
    /// Where the last good frame ends: the segment's usable length.
    pub valid_end: u64,
    /// The file's length.
    pub file_end: u64,
    /// When the first good frame was spooled (ms since the epoch), if any.
    pub first_spooled_ms: Option<i64>,
    /// Why the bytes after `valid_end` are not frames, when there are such bytes.
    pub damage: Option<FrameError>,
}

impl Scan {
    /// Bytes after the last good frame were an append cut short (a crash mid-write, never acknowledged),
    /// not damage to data already accepted.
    pub fn is_torn_tail(&self) -> bool {
        matches!(self.damage, Some(FrameError::Truncated))
    }
}

/// Why a segment cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a semaphore spool segment (its first bytes are not {MAGIC:?})")]
    NotASegment { path: PathBuf },
}

/// Reads segment `id` and checks every frame from `offset` (0: from its first frame), one frame in memory
/// at a time.
pub fn scan(directory: &Path, id: u64, offset: u64) -> Result<Scan, SegmentError> {
    let mut reader = SegmentReader::open(&path(directory, id), offset, None)?;
    let mut scan = Scan {
        valid_end: reader.position(),
        file_end: reader.file_end,
        ..Scan::default()
    };
    loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                scan.first_spooled_ms.get_or_insert(record.spooled_ms);
                scan.records += 1;
                scan.valid_end = reader.position();
            }
            Ok(None) => return Ok(scan),
            Err(ReadError::Frame(damage)) => {
                scan.damage = Some(damage);
                return Ok(scan);
            }
            Err(ReadError::Io(source)) => {
                return Err(SegmentError::Io {
                    path: path(directory, id),
                    source,
                });
            }
        }
    }
}

/// Why the next frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads a segment's frames in order from a byte offset.
pub struct SegmentReader {
    file: BufReader<File>,
    position: u64,
    /// Where reading stops: the file's length, or where the spool knows its last whole frame ends.
    end: u64,
    file_end: u64,
}

impl SegmentReader {
    /// Opens `path` at `offset` (at least just past the magic), its magic checked, to read up to `end`
    /// (`None`: to the end of the file).
    pub fn open(path: &Path, offset: u64, end: Option<u64>) -> Result<Self, SegmentError> {
        let io = |source| SegmentError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let file_end = file.metadata().map_err(io)?.len();
        let mut magic = [0u8; MAGIC.len()];
        if file.read_exact(&mut magic).is_err() || &magic != MAGIC {
            return Err(SegmentError::NotASegment {
                path: path.to_owned(),
            });
        }
        let position = offset.max(MAGIC.len() as u64);
        file.seek(SeekFrom::Start(position)).map_err(io)?;
        Ok(Self {
            file: BufReader::with_capacity(64 * 1024, file),
            position,
            end: end.unwrap_or(file_end).min(file_end),
            file_end,
        })
    }

    /// Where the next frame starts.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The next record; `None` at the end of what was written.
    pub fn next_record(&mut self) -> Result<Option<SpooledRecord>, ReadError> {
        let left = self.end.saturating_sub(self.position);
        if left == 0 {
            return Ok(None);
        }
        let mut header = [0u8; FRAME_HEADER_BYTES];
        if left < header.len() as u64 || read_full(&mut self.file, &mut header)? < header.len() {
            return Err(FrameError::Truncated.into());
        }
        let length = frame::body_length(&header)?;
        // Checked before allocating: a damaged length must not make a 64 MiB buffer for nothing.
        if left < (FRAME_HEADER_BYTES + length) as u64 {
            return Err(FrameError::Truncated.into());
        }
        let mut body = vec![0u8; length];
        if read_full(&mut self.file, &mut body)? < body.len() {
            return Err(FrameError::Truncated.into());
        }
        let record = frame::checked(&header, &body)?;
        self.position += (FRAME_HEADER_BYTES + body.len()) as u64;
        Ok(Some(record))
    }
}

/// Reads until `buffer` is full or the file ends; how many bytes were read.
fn read_full(file: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_as_ids_and_other_files_are_ignored() {
        let directory = tempdir();
        for id in [10u64, 2, 1] {
            std::fs::write(path(&directory, id), MAGIC).unwrap();
        }
        std::fs::write(directory.join("ledger.json"), "{}").unwrap();
        std::fs::write(directory.join("00000000000000000003.spool.corrupt"), "").unwrap();
        assert_eq!(list(&directory).unwrap(), vec![1, 2, 10]);
        assert!(path(&directory, 2).ends_with("00000000000000000002.spool"));
    }

    #[test]
    fn a_file_without_the_magic_is_refused_by_name() {
        let directory = tempdir();
        std::fs::write(path(&directory, 1), b"hello").unwrap();
        let error = scan(&directory, 1, 0).unwrap_err().to_string();
        assert!(
            error.contains("00000000000000000001.spool") && error.contains("not a semaphore spool"),
            "{error}"
        );
    }

    fn tempdir() -> PathBuf {
        let directory = std::env::temp_dir().join(format!(
            "semaphore-segment-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&directory).unwrap();
        directory
    }
}
