//! One spooled record on disk: a frame of `length` (u32, little-endian), `crc32` of the body (u32), then the
//! body: when it was spooled, the record's timestamp, topic, key, schema header, source id and payload. The
//! checksum is what tells a torn or damaged frame from a record (Vector's disk buffer and Kafka's own log
//! do the same).

use crate::record::EncodedRecord;
use crate::record::registry::by_header;

/// The length and checksum before each body.
pub const FRAME_HEADER_BYTES: usize = 8;
/// A key length that says the record has no key.
const NO_KEY: u32 = u32::MAX;
/// The largest body a frame may claim: a longer length is damage, not a record (Kafka's own limit is lower).
pub const MAX_BODY_BYTES: u32 = 64 * 1024 * 1024;

/// A record as the spool keeps it: where it goes, and when it was spooled (for the oldest-age metric).
#[derive(Clone, Debug, PartialEq)]
pub struct SpooledRecord {
    pub topic: String,
    pub record: EncodedRecord,
    /// Milliseconds since the epoch when it was spooled.
    pub spooled_ms: i64,
}

/// Why bytes are not a frame.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than the frame says it has: the end of a write that never completed.
    #[error("the frame is cut short")]
    Truncated,
    #[error("the frame claims {0} bytes, more than a record can be")]
    Oversize(u32),
    #[error("the checksum does not match the frame's bytes")]
    Checksum,
    #[error("the frame's body is malformed: {0}")]
    Malformed(&'static str),
    /// Written by a semaphore that knows a record kind this one does not.
    #[error("the record's schema {0:?} is not one this semaphore knows")]
    UnknownSchema(String),
}

/// Appends the frame of `record` to `out`.
pub fn encode(record: &SpooledRecord, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_BYTES]);
    out.extend_from_slice(&record.spooled_ms.to_le_bytes());
    out.extend_from_slice(&record.record.timestamp_ms.to_le_bytes());
    put_short(out, &record.topic);
    match &record.record.key {
        Some(key) => {
            out.extend_from_slice(&(key.len() as u32).to_le_bytes());
            out.extend_from_slice(key.as_bytes());
        }
        None => out.extend_from_slice(&NO_KEY.to_le_bytes()),
    }
    put_short(out, record.record.schema);
    put_short(out, &record.record.source);
    out.extend_from_slice(&record.record.payload);
    let body = &out[start + FRAME_HEADER_BYTES..];
    let length = body.len() as u32;
    let checksum = crc32fast::hash(body);
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&checksum.to_le_bytes());
}

/// The frame at the start of `bytes` and its length in bytes, header included.
pub fn decode(bytes: &[u8]) -> Result<(SpooledRecord, usize), FrameError> {
    let length = body_length(bytes)?;
    let end = FRAME_HEADER_BYTES + length;
    let body = bytes.get(FRAME_HEADER_BYTES..end).ok_or(FrameError::Truncated)?;
    Ok((checked(bytes, body)?, end))
}

/// The record of a frame read in two parts (a file read header first): `header` is the frame's first
/// [`FRAME_HEADER_BYTES`], `body` the [`body_length`] bytes after them.
pub fn checked(header: &[u8], body: &[u8]) -> Result<SpooledRecord, FrameError> {
    let checksum = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    if crc32fast::hash(body) != checksum {
        return Err(FrameError::Checksum);
    }
    decode_body(body)
}

/// The body length the header at the start of `bytes` claims.
pub fn body_length(bytes: &[u8]) -> Result<usize, FrameError> {
    let header = bytes.get(..FRAME_HEADER_BYTES).ok_or(FrameError::Truncated)?;
    let length = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
    if length > MAX_BODY_BYTES {
        return Err(FrameError::Oversize(length));
    }
    Ok(length as usize)
}

fn decode_body(body: &[u8]) -> Result<SpooledRecord, FrameError> {
    let mut reader = Reader(body);
    let spooled_ms = reader.i64()?;
    let timestamp_ms = reader.i64()?;
    let topic = reader.short_text()?;
    let key = match reader.u32()? {
        NO_KEY => None,
        length => Some(reader.text(length as usize)?),
    };
    let schema = reader.short_text()?;
    let schema = by_header(&schema)
        .ok_or(FrameError::UnknownSchema(schema))?
        .header;
    let source = reader.short_text()?;
    Ok(SpooledRecord {
        topic,
        record: EncodedRecord {
            key,
            payload: reader.0.to_vec(),
            timestamp_ms,
            schema,
            source,
        },
        spooled_ms,
    })
}

/// A string of at most 65,535 bytes (topic, schema, source id): its length as a u16, then its bytes.
fn put_short(out: &mut Vec<u8>, text: &str) {
    let bytes = &text.as_bytes()[..text.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Reads a body front to back.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], FrameError> {
        if self.0.len() < count {
            return Err(FrameError::Malformed("a field runs past the frame's end"));
        }
        let (taken, rest) = self.0.split_at(count);
        self.0 = rest;
        Ok(taken)
    }

    fn i64(&mut self) -> Result<i64, FrameError> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn short_text(&mut self) -> Result<String, FrameError> {
        let length = u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes"));
        self.text(length as usize)
    }

    fn text(&mut self, length: usize) -> Result<String, FrameError> {
        String::from_utf8(self.take(length)?.to_vec())
            .map_err(|_| FrameError::Malformed("a text field is not UTF-8"))
    }
}

/// A record to spool in tests.
#[cfg(test)]
pub fn spooled(topic: &str, key: Option<&str>, payload: &str) -> SpooledRecord {
    SpooledRecord {
        topic: topic.to_owned(),
        record: EncodedRecord {
            key: key.map(str::to_owned),
            payload: payload.as_bytes().to_vec(),
            timestamp_ms: 1_764_000_000_123,
            schema: crate::record::registry::RECORD_KINDS[0].header,
            source: "generator-1".to_owned(),
        },
        spooled_ms: 1_764_000_000_999,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_comes_back_as_it_was_written() {
        for record in [
            spooled("syslog.messages", Some("10.0.0.1"), r#"{"message":"up"}"#),
            spooled("t", None, ""),
        ] {
            let mut bytes = Vec::new();
            encode(&record, &mut bytes);
            assert_eq!(decode(&bytes), Ok((record, bytes.len())));
        }
    }

    #[test]
    fn a_flipped_bit_is_a_checksum_error() {
        let mut bytes = Vec::new();
        encode(&spooled("t", Some("k"), "{}"), &mut bytes);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(decode(&bytes).unwrap_err(), FrameError::Checksum);
    }

    #[test]
    fn a_frame_cut_anywhere_is_truncated_never_a_record() {
        let mut bytes = Vec::new();
        encode(&spooled("t", Some("k"), r#"{"a":1}"#), &mut bytes);
        for cut in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..cut]).unwrap_err(),
                FrameError::Truncated,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_huge_length_is_damage() {
        let bytes = [0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0];
        assert_eq!(decode(&bytes).unwrap_err(), FrameError::Oversize(0x7fff_ffff));
    }

    #[test]
    fn an_unknown_schema_is_named() {
        let mut record = spooled("t", None, "{}");
        let mut bytes = Vec::new();
        encode(&record, &mut bytes);
        // Rewrite the schema by hand, as a newer semaphore with another kind would have written it.
        record.record.schema = "made.up/9";
        let mut body = Vec::new();
        body.extend_from_slice(&record.spooled_ms.to_le_bytes());
        body.extend_from_slice(&record.record.timestamp_ms.to_le_bytes());
        put_short(&mut body, "t");
        body.extend_from_slice(&NO_KEY.to_le_bytes());
        put_short(&mut body, "made.up/9");
        put_short(&mut body, "s");
        let mut frame = (body.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        frame.extend_from_slice(&body);
        assert_eq!(
            decode(&frame).unwrap_err(),
            FrameError::UnknownSchema("made.up/9".to_owned())
        );
    }
}
