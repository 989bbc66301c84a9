//! The part of BER (X.690) that SNMP uses: one-octet tags, definite lengths, INTEGER, OCTET STRING, NULL,
//! OBJECT IDENTIFIER and SEQUENCE. [`Reader`] takes TLVs off bytes; [`Writer`] puts them on.
//!
//! The reader is strict where sloppiness could hide a forged or cut message (a length past the end,
//! indefinite lengths, trailing bytes, integers too wide for their type) and lenient where agents differ
//! and BER allows it (a length written in more octets than needed). It never panics and never recurses:
//! the decoders above it follow SNMP's fixed shape, so nesting is bounded by that shape, not by the input.
//! Offsets it reports are offsets in the message it was made for, which USM needs to find the
//! authentication parameters it must zero (RFC 3414 §6.3.2).

use crate::sources::snmp::wire::errors::{DecodeError, DecodeErrorKind};
use crate::sources::snmp::wire::oid::Oid;

pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OBJECT_IDENTIFIER: u8 = 0x06;
pub const SEQUENCE: u8 = 0x30;

/// The tag bits that mark a tag number too large for one octet (X.690 §8.1.2.4).
const HIGH_TAG_NUMBER: u8 = 0x1f;

/// The most length octets accepted: 4 describe 4 GiB, far past any datagram.
const MAX_LENGTH_OCTETS: usize = 4;

/// One element: its tag, its content, and where the content starts in the whole message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub start: usize,
}

impl<'a> Tlv<'a> {
    /// A reader over the content, keeping offsets in the whole message.
    pub fn reader(&self) -> Reader<'a> {
        Reader {
            bytes: self.content,
            offset: self.start,
        }
    }
}

/// Reads TLVs one after the other from a slice.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// Where `bytes` starts in the message.
    offset: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next element, whatever its tag.
    pub fn read(&mut self, field: &'static str) -> Result<Tlv<'a>, DecodeError> {
        let (tag, header_length, content_length) =
            self.header().map_err(|kind| DecodeError::new(field, kind))?;
        let (element, rest) = self.bytes.split_at(header_length + content_length);
        let tlv = Tlv {
            tag,
            content: &element[header_length..],
            start: self.offset + header_length,
        };
        self.bytes = rest;
        self.offset += element.len();
        Ok(tlv)
    }

    /// The next element, which must have `tag`.
    pub fn read_expected(&mut self, tag: u8, field: &'static str) -> Result<Tlv<'a>, DecodeError> {
        let tlv = self.read(field)?;
        if tlv.tag != tag {
            let kind = DecodeErrorKind::UnexpectedTag {
                expected: tag,
                found: tlv.tag,
            };
            return Err(DecodeError::new(field, kind));
        }
        Ok(tlv)
    }

    /// A reader over the content of the next element, a constructed one with `tag`.
    pub fn read_constructed(&mut self, tag: u8, field: &'static str) -> Result<Reader<'a>, DecodeError> {
        Ok(self.read_expected(tag, field)?.reader())
    }

    pub fn read_integer(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let tlv = self.read_expected(INTEGER, field)?;
        signed(tlv.content).map_err(|kind| DecodeError::new(field, kind))
    }

    /// An INTEGER in `min..=max`.
    pub fn read_i32_in(&mut self, field: &'static str, min: i32, max: i32) -> Result<i32, DecodeError> {
        let value = self.read_integer(field)?;
        match i32::try_from(value) {
            Ok(value) if (min..=max).contains(&value) => Ok(value),
            _ => Err(DecodeError::new(field, DecodeErrorKind::OutOfRange(value))),
        }
    }

    pub fn read_i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        self.read_i32_in(field, i32::MIN, i32::MAX)
    }

    /// An INTEGER in `0..=2147483647`, the range of msgID, engine boots and engine time.
    pub fn read_non_negative(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(self.read_i32_in(field, 0, i32::MAX)?.unsigned_abs())
    }

    pub fn read_octet_string(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        Ok(self.read_expected(OCTET_STRING, field)?.content)
    }

    pub fn read_oid(&mut self, field: &'static str) -> Result<Oid, DecodeError> {
        let tlv = self.read_expected(OBJECT_IDENTIFIER, field)?;
        Oid::decode(tlv.content).map_err(|kind| DecodeError::new(field, kind))
    }

    /// Fails if anything is left: `field` is the element that should have ended here.
    pub fn finish(&self, field: &'static str) -> Result<(), DecodeError> {
        match self.bytes.len() {
            0 => Ok(()),
            left => Err(DecodeError::new(field, DecodeErrorKind::TrailingBytes(left))),
        }
    }

    /// The next element's tag, the length of its tag and length octets, and the length of its content, which
    /// is known to fit in what is left.
    fn header(&self) -> Result<(u8, usize, usize), DecodeErrorKind> {
        let [tag, first, rest @ ..] = self.bytes else {
            return Err(DecodeErrorKind::Truncated);
        };
        if tag & HIGH_TAG_NUMBER == HIGH_TAG_NUMBER {
            return Err(DecodeErrorKind::HighTagNumber);
        }
        let (header_length, content_length) = if *first < 0x80 {
            (2, usize::from(*first))
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 {
                return Err(DecodeErrorKind::IndefiniteLength);
            }
            if count > MAX_LENGTH_OCTETS {
                return Err(DecodeErrorKind::LengthOfLength(count));
            }
            let octets = rest.get(..count).ok_or(DecodeErrorKind::Truncated)?;
            let mut length = 0_usize;
            for octet in octets {
                length = (length << 8) | usize::from(*octet);
            }
            (2 + count, length)
        };
        if content_length > self.bytes.len() - header_length {
            return Err(DecodeErrorKind::Truncated);
        }
        Ok((*tag, header_length, content_length))
    }
}

/// An INTEGER's content as a signed number of at most 64 bits.
pub fn signed(content: &[u8]) -> Result<i64, DecodeErrorKind> {
    let Some(first) = content.first() else {
        return Err(DecodeErrorKind::Empty);
    };
    if content.len() > 8 {
        let found = content.len();
        return Err(DecodeErrorKind::TooLong { found, max: 8 });
    }
    let mut value: i64 = if first & 0x80 == 0 { 0 } else { -1 };
    for octet in content {
        value = (value << 8) | i64::from(*octet);
    }
    Ok(value)
}

/// A Counter32, Gauge32 or TimeTicks content. A negative encoding is read as its 32-bit two's complement, as
/// net-snmp reads it: agents that write counters above 2^31 without the leading zero octet exist.
pub fn unsigned32(content: &[u8]) -> Result<u32, DecodeErrorKind> {
    let value = signed(content)?;
    if let Ok(value) = u32::try_from(value) {
        return Ok(value);
    }
    match i32::try_from(value) {
        Ok(negative) => Ok(negative.cast_unsigned()),
        Err(_) => Err(DecodeErrorKind::OutOfRange(value)),
    }
}

/// A Counter64 content: up to 8 octets, or 9 with a leading zero; negative encodings as in [`unsigned32`].
pub fn unsigned64(content: &[u8]) -> Result<u64, DecodeErrorKind> {
    match content {
        [0, rest @ ..] if rest.len() == 8 => {
            let mut value = 0_u64;
            for octet in rest {
                value = (value << 8) | u64::from(*octet);
            }
            Ok(value)
        }
        _ if content.len() > 8 => {
            let found = content.len();
            Err(DecodeErrorKind::TooLong { found, max: 9 })
        }
        _ => signed(content).map(i64::cast_unsigned),
    }
}

/// The octets a length takes after the tag, plus the tag: where the content of an element starts.
pub fn header_length(content_length: usize) -> usize {
    if content_length < 0x80 {
        2
    } else {
        2 + significant_octets(content_length)
    }
}

/// How many octets `value` needs, at least one.
fn significant_octets(value: usize) -> usize {
    let leading_zero_octets = (value.leading_zeros() / 8) as usize;
    (size_of::<usize>() - leading_zero_octets).max(1)
}

/// Builds BER bytes front to back. A constructed element's content is built first, so its length is known
/// when the element is written.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn tlv(&mut self, tag: u8, content: &[u8]) {
        self.bytes.push(tag);
        push_length(&mut self.bytes, content.len());
        self.bytes.extend_from_slice(content);
    }

    /// A constructed element whose content `build` writes.
    pub fn constructed(&mut self, tag: u8, build: impl FnOnce(&mut Writer)) {
        let mut content = Writer::new();
        build(&mut content);
        self.tlv(tag, &content.bytes);
    }

    pub fn sequence(&mut self, build: impl FnOnce(&mut Writer)) {
        self.constructed(SEQUENCE, build);
    }

    /// Bytes that are already BER, such as an encoded scoped PDU.
    pub fn raw(&mut self, encoded: &[u8]) {
        self.bytes.extend_from_slice(encoded);
    }

    /// An integer in its shortest two's complement form (X.690 §8.3.2), under `tag` (INTEGER or an
    /// application type).
    pub fn integer(&mut self, tag: u8, value: i64) {
        let octets = value.to_be_bytes();
        let mut start = 0;
        while start < octets.len() - 1 && repeats_sign(octets[start], octets[start + 1]) {
            start += 1;
        }
        self.tlv(tag, &octets[start..]);
    }

    /// An unsigned integer (Counter32, Gauge32, TimeTicks, Counter64), with a leading zero octet when its top
    /// bit is set, so that it does not read as negative.
    pub fn unsigned(&mut self, tag: u8, value: u64) {
        let octets = value.to_be_bytes();
        let start = octets.len() - significant_octets_u64(value);
        if octets[start] & 0x80 == 0 {
            self.tlv(tag, &octets[start..]);
        } else {
            self.tlv(tag, &[&[0_u8][..], &octets[start..]].concat());
        }
    }

    pub fn octet_string(&mut self, octets: &[u8]) {
        self.tlv(OCTET_STRING, octets);
    }

    pub fn null(&mut self) {
        self.tlv(NULL, &[]);
    }

    pub fn oid(&mut self, oid: &Oid) {
        self.tlv(OBJECT_IDENTIFIER, &oid.encode());
    }
}

/// Whether `octet` only repeats the sign of `next` and can be left out.
fn repeats_sign(octet: u8, next: u8) -> bool {
    (octet == 0x00 && next & 0x80 == 0) || (octet == 0xff && next & 0x80 != 0)
}

fn significant_octets_u64(value: u64) -> usize {
    let leading_zero_octets = (value.leading_zeros() / 8) as usize;
    (size_of::<u64>() - leading_zero_octets).max(1)
}

/// The short form below 128, else the long form in as few octets as the length needs.
fn push_length(bytes: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        bytes.push(length as u8);
        return;
    }
    let octets = length.to_be_bytes();
    let count = significant_octets(length);
    bytes.push(0x80 | count as u8);
    bytes.extend_from_slice(&octets[octets.len() - count..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integer(value: i64) -> Vec<u8> {
        let mut writer = Writer::new();
        writer.integer(INTEGER, value);
        writer.into_bytes()
    }

    fn unsigned(value: u64) -> Vec<u8> {
        let mut writer = Writer::new();
        writer.unsigned(0x41, value);
        writer.into_bytes()
    }

    fn read_one(bytes: &[u8]) -> Result<Tlv<'_>, DecodeError> {
        Reader::new(bytes).read("element")
    }

    fn kind(bytes: &[u8]) -> DecodeErrorKind {
        read_one(bytes).expect_err("the element is malformed").kind
    }

    #[test]
    fn integers_take_their_shortest_form() {
        let cases: [(i64, &[u8]); 12] = [
            (0, &[0x02, 0x01, 0x00]),
            (127, &[0x02, 0x01, 0x7f]),
            (128, &[0x02, 0x02, 0x00, 0x80]),
            (256, &[0x02, 0x02, 0x01, 0x00]),
            (-1, &[0x02, 0x01, 0xff]),
            (-128, &[0x02, 0x01, 0x80]),
            (-129, &[0x02, 0x02, 0xff, 0x7f]),
            (65_507, &[0x02, 0x03, 0x00, 0xff, 0xe3]),
            (i64::from(i32::MAX), &[0x02, 0x04, 0x7f, 0xff, 0xff, 0xff]),
            (i64::from(i32::MIN), &[0x02, 0x04, 0x80, 0x00, 0x00, 0x00]),
            (
                i64::MAX,
                &[0x02, 0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
            (
                i64::MIN,
                &[0x02, 0x08, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            ),
        ];
        for (value, encoded) in cases {
            assert_eq!(integer(value), encoded, "{value}");
            let tlv = read_one(encoded).expect("an integer");
            assert_eq!(signed(tlv.content), Ok(value), "{value}");
        }
    }

    #[test]
    fn unsigned_values_keep_a_zero_octet_before_a_set_top_bit() {
        assert_eq!(unsigned(0), [0x41, 0x01, 0x00]);
        assert_eq!(unsigned(0x7f), [0x41, 0x01, 0x7f]);
        assert_eq!(unsigned(0x80), [0x41, 0x02, 0x00, 0x80]);
        assert_eq!(
            unsigned(u64::from(u32::MAX)),
            [0x41, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            unsigned(u64::MAX),
            [0x41, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(unsigned32(&[0x00, 0xff, 0xff, 0xff, 0xff]), Ok(u32::MAX));
        assert_eq!(
            unsigned64(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(u64::MAX)
        );
    }

    #[test]
    fn negative_unsigned_encodings_read_as_net_snmp_reads_them() {
        assert_eq!(unsigned32(&[0xff, 0xff, 0xff, 0xff]), Ok(u32::MAX));
        assert_eq!(unsigned32(&[0x80]), Ok(0xffff_ff80));
        assert_eq!(unsigned64(&[0xff]), Ok(u64::MAX));
        assert_eq!(
            unsigned32(&[0x01, 0x00, 0x00, 0x00, 0x00]),
            Err(DecodeErrorKind::OutOfRange(0x1_0000_0000))
        );
        assert_eq!(
            unsigned64(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(DecodeErrorKind::TooLong { found: 9, max: 9 })
        );
    }

    #[test]
    fn integers_of_no_octets_or_more_than_eight_are_refused() {
        assert_eq!(signed(&[]), Err(DecodeErrorKind::Empty));
        assert_eq!(
            signed(&[0; 9]),
            Err(DecodeErrorKind::TooLong { found: 9, max: 8 })
        );
        assert_eq!(unsigned32(&[]), Err(DecodeErrorKind::Empty));
        assert_eq!(unsigned64(&[]), Err(DecodeErrorKind::Empty));
    }

    #[test]
    fn lengths_take_the_short_form_below_128_and_the_fewest_octets_above() {
        let cases: [(usize, &[u8]); 3] = [
            (0, &[0x04, 0x00]),
            (127, &[0x04, 0x7f]),
            (128, &[0x04, 0x81, 0x80]),
        ];
        for (length, header) in cases {
            let mut writer = Writer::new();
            writer.octet_string(&vec![0; length]);
            let bytes = writer.into_bytes();
            assert_eq!(bytes[..header.len()], *header, "{length}");
            assert_eq!(header_length(length), header.len(), "{length}");
            assert_eq!(read_one(&bytes).expect("a string").content.len(), length);
        }
        let mut writer = Writer::new();
        writer.octet_string(&[0; 256]);
        assert_eq!(writer.into_bytes()[..4], [0x04, 0x82, 0x01, 0x00]);
        assert_eq!(header_length(256), 4);
        assert_eq!(header_length(65_536), 5);
    }

    #[test]
    fn long_form_lengths_with_more_octets_than_needed_are_read() {
        let tlv = read_one(&[0x04, 0x82, 0x00, 0x02, 0xaa, 0xbb]).expect("BER allows it");
        assert_eq!(tlv.content, [0xaa, 0xbb]);
        assert_eq!(tlv.start, 4);
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert_eq!(kind(&[]), DecodeErrorKind::Truncated);
        assert_eq!(kind(&[0x04]), DecodeErrorKind::Truncated);
        assert_eq!(kind(&[0x04, 0x03, 0x00]), DecodeErrorKind::Truncated);
        assert_eq!(kind(&[0x04, 0x82, 0x01]), DecodeErrorKind::Truncated);
        assert_eq!(kind(&[0x30, 0x80, 0x00, 0x00]), DecodeErrorKind::IndefiniteLength);
        assert_eq!(
            kind(&[0x04, 0x85, 0, 0, 0, 0, 1, 0]),
            DecodeErrorKind::LengthOfLength(5)
        );
        assert_eq!(kind(&[0x1f, 0x01, 0x00]), DecodeErrorKind::HighTagNumber);
        assert_eq!(
            kind(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]),
            DecodeErrorKind::Truncated
        );
    }

    #[test]
    fn offsets_are_offsets_in_the_whole_message() {
        let bytes = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        let mut outer = Reader::new(&bytes);
        let mut inner = outer.read_constructed(SEQUENCE, "sequence").expect("a sequence");
        assert_eq!(inner.read_integer("integer"), Ok(5));
        let string = inner.read_expected(OCTET_STRING, "string").expect("a string");
        assert_eq!((string.start, string.content), (7, &[0xaa][..]));
        assert!(inner.is_empty());
        assert_eq!(outer.finish("message"), Ok(()));
    }

    #[test]
    fn trailing_bytes_and_wrong_tags_name_the_field() {
        let bytes = [0x02, 0x01, 0x05, 0x00];
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.read_integer("request-id"), Ok(5));
        let error = reader.finish("PDU").expect_err("one octet is left");
        assert_eq!(error.to_string(), "PDU: 1 octets after its end");
        let error = Reader::new(&bytes)
            .read_octet_string("community")
            .expect_err("an INTEGER is no OCTET STRING");
        assert_eq!(error.to_string(), "community: expected tag 0x04, found 0x02");
    }

    #[test]
    fn ranges_are_checked() {
        let mut writer = Writer::new();
        writer.integer(INTEGER, -1);
        writer.integer(INTEGER, i64::from(i32::MAX) + 1);
        let bytes = writer.into_bytes();
        let mut reader = Reader::new(&bytes);
        assert_eq!(
            reader.read_non_negative("msgID").map_err(|error| error.kind),
            Err(DecodeErrorKind::OutOfRange(-1))
        );
        assert_eq!(
            reader.read_i32("request-id").map_err(|error| error.kind),
            Err(DecodeErrorKind::OutOfRange(2_147_483_648))
        );
    }
}
