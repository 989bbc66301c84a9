//! What a variable binding holds: [`Value`], SNMPv2's types (RFC 2578 §7.1, RFC 3416 §3) and the three
//! exceptions a GetResponse puts in place of a value, decoded from and encoded to BER, and shown as text for
//! records.

use std::fmt::{self, Write as _};

use crate::sources::snmp::wire::ber::{self, Tlv, Writer};
use crate::sources::snmp::wire::errors::{DecodeError, DecodeErrorKind};
use crate::sources::snmp::wire::oid::Oid;

pub const IP_ADDRESS: u8 = 0x40;
pub const COUNTER32: u8 = 0x41;
/// Gauge32, which is also Unsigned32.
pub const GAUGE32: u8 = 0x42;
pub const TIME_TICKS: u8 = 0x43;
pub const OPAQUE: u8 = 0x44;
pub const COUNTER64: u8 = 0x46;
pub const NO_SUCH_OBJECT: u8 = 0x80;
pub const NO_SUCH_INSTANCE: u8 = 0x81;
pub const END_OF_MIB_VIEW: u8 = 0x82;

/// The class bits of an application-class tag, and the bit of a constructed one (X.690 §8.1.2).
const CLASS: u8 = 0xc0;
const APPLICATION: u8 = 0x40;
const CONSTRUCTED: u8 = 0x20;

/// The field name decoding errors carry.
const FIELD: &str = "VarBind value";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Integer32 (also what INTEGER enumerations such as ifOperStatus are).
    Integer(i32),
    OctetString(Vec<u8>),
    /// What a request carries in place of a value.
    Null,
    ObjectIdentifier(Oid),
    IpAddress([u8; 4]),
    Counter32(u32),
    /// Gauge32 and Unsigned32, one type on the wire.
    Gauge32(u32),
    /// Hundredths of a second.
    TimeTicks(u32),
    /// Opaque: BER of some other type wrapped in an OCTET STRING (net-snmp puts floats in it); kept as it
    /// came.
    Opaque(Vec<u8>),
    Counter64(u64),
    /// The agent has no such object (a GetRequest's exception, RFC 3416 §4.2.1).
    NoSuchObject,
    /// The object exists but this instance does not.
    NoSuchInstance,
    /// A GetNext or GetBulk walked past the end of what the agent shows.
    EndOfMibView,
    /// An application type SNMPv2 does not define (SNMPv1's NsapAddress, UInteger32): kept as it came rather
    /// than losing the rest of the PDU over it.
    Unknown {
        tag: u8,
        content: Vec<u8>,
    },
}

impl Value {
    /// The type's name, as the SMI writes it, for records.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Integer(_) => "integer",
            Value::OctetString(_) => "octetString",
            Value::Null => "null",
            Value::ObjectIdentifier(_) => "objectIdentifier",
            Value::IpAddress(_) => "ipAddress",
            Value::Counter32(_) => "counter32",
            Value::Gauge32(_) => "gauge32",
            Value::TimeTicks(_) => "timeTicks",
            Value::Opaque(_) => "opaque",
            Value::Counter64(_) => "counter64",
            Value::NoSuchObject => "noSuchObject",
            Value::NoSuchInstance => "noSuchInstance",
            Value::EndOfMibView => "endOfMibView",
            Value::Unknown { .. } => "unknown",
        }
    }

    /// Whether this is one of the three exceptions rather than a value.
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
        )
    }

    pub fn decode(tlv: Tlv<'_>) -> Result<Self, DecodeError> {
        from_content(tlv.tag, tlv.content).map_err(|kind| DecodeError::new(FIELD, kind))
    }

    pub fn encode(&self, writer: &mut Writer) {
        match self {
            Value::Integer(value) => writer.integer(ber::INTEGER, i64::from(*value)),
            Value::OctetString(octets) => writer.octet_string(octets),
            Value::Null => writer.null(),
            Value::ObjectIdentifier(oid) => writer.oid(oid),
            Value::IpAddress(address) => writer.tlv(IP_ADDRESS, address),
            Value::Counter32(value) => writer.unsigned(COUNTER32, u64::from(*value)),
            Value::Gauge32(value) => writer.unsigned(GAUGE32, u64::from(*value)),
            Value::TimeTicks(value) => writer.unsigned(TIME_TICKS, u64::from(*value)),
            Value::Opaque(octets) => writer.tlv(OPAQUE, octets),
            Value::Counter64(value) => writer.unsigned(COUNTER64, *value),
            Value::NoSuchObject => writer.tlv(NO_SUCH_OBJECT, &[]),
            Value::NoSuchInstance => writer.tlv(NO_SUCH_INSTANCE, &[]),
            Value::EndOfMibView => writer.tlv(END_OF_MIB_VIEW, &[]),
            Value::Unknown { tag, content } => writer.tlv(*tag, content),
        }
    }
}

fn from_content(tag: u8, content: &[u8]) -> Result<Value, DecodeErrorKind> {
    let value = match tag {
        ber::INTEGER => Value::Integer(integer32(content)?),
        ber::OCTET_STRING => Value::OctetString(content.to_vec()),
        ber::NULL => empty(content, Value::Null)?,
        ber::OBJECT_IDENTIFIER => Value::ObjectIdentifier(Oid::decode(content)?),
        IP_ADDRESS => Value::IpAddress(ip_address(content)?),
        COUNTER32 => Value::Counter32(ber::unsigned32(content)?),
        GAUGE32 => Value::Gauge32(ber::unsigned32(content)?),
        TIME_TICKS => Value::TimeTicks(ber::unsigned32(content)?),
        OPAQUE => Value::Opaque(content.to_vec()),
        COUNTER64 => Value::Counter64(ber::unsigned64(content)?),
        NO_SUCH_OBJECT => empty(content, Value::NoSuchObject)?,
        NO_SUCH_INSTANCE => empty(content, Value::NoSuchInstance)?,
        END_OF_MIB_VIEW => empty(content, Value::EndOfMibView)?,
        other if other & (CLASS | CONSTRUCTED) == APPLICATION => Value::Unknown {
            tag: other,
            content: content.to_vec(),
        },
        other => return Err(DecodeErrorKind::UnexpectedType(other)),
    };
    Ok(value)
}

fn integer32(content: &[u8]) -> Result<i32, DecodeErrorKind> {
    let value = ber::signed(content)?;
    i32::try_from(value).map_err(|_| DecodeErrorKind::OutOfRange(value))
}

fn ip_address(content: &[u8]) -> Result<[u8; 4], DecodeErrorKind> {
    let Ok(address) = <[u8; 4]>::try_from(content) else {
        let found = content.len();
        return Err(DecodeErrorKind::WrongLength { found, expected: 4 });
    };
    Ok(address)
}

/// NULL and the exceptions have no content.
fn empty(content: &[u8], value: Value) -> Result<Value, DecodeErrorKind> {
    match content.len() {
        0 => Ok(value),
        found => Err(DecodeErrorKind::WrongLength { found, expected: 0 }),
    }
}

/// Numbers in decimal, object identifiers dotted, IP addresses dotted quads, exceptions and NULL by name,
/// OCTET STRINGs as text when they are printable UTF-8 (trailing NULs, which C agents leave, cut off) and
/// otherwise as colon-separated hex (`00:1a:2b:3c:4d:5e`, as a MAC address reads). Which of the two a
/// string was is not said: a record that needs to know keeps the type and the bytes.
impl fmt::Display for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(value) => write!(formatter, "{value}"),
            Value::OctetString(octets) => write_octets(formatter, octets),
            Value::ObjectIdentifier(oid) => write!(formatter, "{oid}"),
            Value::IpAddress([a, b, c, d]) => write!(formatter, "{a}.{b}.{c}.{d}"),
            Value::Counter32(value) | Value::Gauge32(value) | Value::TimeTicks(value) => {
                write!(formatter, "{value}")
            }
            Value::Counter64(value) => write!(formatter, "{value}"),
            Value::Opaque(octets) | Value::Unknown { content: octets, .. } => write_hex(formatter, octets),
            Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {
                formatter.write_str(self.type_name())
            }
        }
    }
}

fn write_octets(formatter: &mut fmt::Formatter<'_>, octets: &[u8]) -> fmt::Result {
    let end = octets
        .iter()
        .rposition(|octet| *octet != 0)
        .map_or(0, |last| last + 1);
    match std::str::from_utf8(&octets[..end]) {
        Ok(text) if is_printable(text) && (end > 0 || octets.is_empty()) => formatter.write_str(text),
        _ => write_hex(formatter, octets),
    }
}

fn is_printable(text: &str) -> bool {
    text.chars().all(is_printable_character)
}

/// Control characters other than tabs and line breaks make a string binary.
fn is_printable_character(character: char) -> bool {
    !character.is_control() || matches!(character, '\t' | '\n' | '\r')
}

fn write_hex(formatter: &mut fmt::Formatter<'_>, octets: &[u8]) -> fmt::Result {
    for (index, octet) in octets.iter().enumerate() {
        if index > 0 {
            formatter.write_char(':')?;
        }
        write!(formatter, "{octet:02x}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::ber::Reader;

    fn round_trip(value: &Value) -> Value {
        let mut writer = Writer::new();
        value.encode(&mut writer);
        let bytes = writer.into_bytes();
        let mut reader = Reader::new(&bytes);
        let tlv = reader.read("value").expect("one element");
        assert!(reader.is_empty());
        Value::decode(tlv).expect("a value")
    }

    fn decode(bytes: &[u8]) -> Result<Value, DecodeErrorKind> {
        let tlv = Reader::new(bytes).read("value").expect("one element");
        Value::decode(tlv).map_err(|error| error.kind)
    }

    fn every_kind() -> Vec<Value> {
        vec![
            Value::Integer(i32::MIN),
            Value::Integer(-1),
            Value::Integer(i32::MAX),
            Value::OctetString(b"lab-router-1".to_vec()),
            Value::OctetString(Vec::new()),
            Value::Null,
            Value::ObjectIdentifier("1.3.6.1.6.3.1.1.5.3".parse().expect("an OID")),
            Value::IpAddress([192, 0, 2, 1]),
            Value::Counter32(u32::MAX),
            Value::Gauge32(1_000_000_000),
            Value::TimeTicks(0),
            Value::Opaque(vec![0x9f, 0x78, 0x04, 0x3f, 0x80, 0x00, 0x00]),
            Value::Counter64(u64::MAX),
            Value::NoSuchObject,
            Value::NoSuchInstance,
            Value::EndOfMibView,
            Value::Unknown {
                tag: 0x47,
                content: vec![0x01],
            },
        ]
    }

    #[test]
    fn every_kind_round_trips() {
        for value in every_kind() {
            assert_eq!(round_trip(&value), value);
        }
    }

    #[test]
    fn shows_as_records_need_it() {
        let shown: Vec<String> = every_kind().iter().map(Value::to_string).collect();
        assert_eq!(
            shown,
            [
                "-2147483648",
                "-1",
                "2147483647",
                "lab-router-1",
                "",
                "null",
                "1.3.6.1.6.3.1.1.5.3",
                "192.0.2.1",
                "4294967295",
                "1000000000",
                "0",
                "9f:78:04:3f:80:00:00",
                "18446744073709551615",
                "noSuchObject",
                "noSuchInstance",
                "endOfMibView",
                "01",
            ]
        );
    }

    #[test]
    fn strings_show_as_text_only_when_they_are_text() {
        let show = |octets: &[u8]| Value::OctetString(octets.to_vec()).to_string();
        assert_eq!(
            show(b"Cisco IOS\r\nVersion 15.2\0\0"),
            "Cisco IOS\r\nVersion 15.2"
        );
        assert_eq!(show(&[0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]), "00:1a:2b:3c:4d:5e");
        assert_eq!(show(&[0x00, 0x00]), "00:00");
        assert_eq!(show("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(show(&[0x63, 0xe9]), "63:e9");
    }

    #[test]
    fn exceptions_are_named_and_told_apart() {
        assert!(Value::EndOfMibView.is_exception());
        assert!(!Value::Null.is_exception());
        assert_eq!(Value::Counter64(1).type_name(), "counter64");
    }

    #[test]
    fn malformed_values_are_refused() {
        assert_eq!(
            decode(&[0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeErrorKind::OutOfRange(0xffff_ffff))
        );
        assert_eq!(
            decode(&[0x40, 0x03, 10, 0, 0]),
            Err(DecodeErrorKind::WrongLength {
                found: 3,
                expected: 4,
            })
        );
        assert_eq!(
            decode(&[0x05, 0x01, 0x00]),
            Err(DecodeErrorKind::WrongLength {
                found: 1,
                expected: 0,
            })
        );
        assert_eq!(
            decode(&[0x81, 0x01, 0x00]),
            Err(DecodeErrorKind::WrongLength {
                found: 1,
                expected: 0,
            })
        );
        assert_eq!(decode(&[0x30, 0x00]), Err(DecodeErrorKind::UnexpectedType(0x30)));
        assert_eq!(decode(&[0x63, 0x00]), Err(DecodeErrorKind::UnexpectedType(0x63)));
        assert_eq!(decode(&[0x83, 0x00]), Err(DecodeErrorKind::UnexpectedType(0x83)));
        assert_eq!(decode(&[0x02, 0x00]), Err(DecodeErrorKind::Empty));
    }
}
