//! A datagram's message: [`Message::decode`] reads any version, [`CommunityMessage`] is SNMPv1's and
//! SNMPv2c's (RFC 1157 §4, RFC 1901 §3), and SNMPv3's is in [`crate::sources::snmp::wire::v3`].

use std::fmt;

use crate::sources::snmp::wire::ber::{self, Reader, Writer};
use crate::sources::snmp::wire::errors::{DecodeError, DecodeErrorKind};
use crate::sources::snmp::wire::pdu::AnyPdu;
use crate::sources::snmp::wire::v3::V3Message;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    V1,
    V2c,
    V3,
}

impl Version {
    /// msgVersion on the wire.
    pub const fn code(self) -> i64 {
        match self {
            Version::V1 => 0,
            Version::V2c => 1,
            Version::V3 => 3,
        }
    }

    pub const fn from_code(code: i64) -> Option<Version> {
        match code {
            0 => Some(Version::V1),
            1 => Some(Version::V2c),
            3 => Some(Version::V3),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Version::V1 => "SNMPv1",
            Version::V2c => "SNMPv2c",
            Version::V3 => "SNMPv3",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A decoded datagram. A community message is ready to use (its community is for the caller to check); an
/// SNMPv3 message is not authenticated yet and its scoped PDU may still be encrypted: that is
/// [`crate::sources::snmp::wire::usm`]'s work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Community(CommunityMessage),
    V3(V3Message<'a>),
}

impl<'a> Message<'a> {
    /// One message filling the whole datagram: bytes after it are an error, as a cut message is.
    pub fn decode(datagram: &'a [u8]) -> Result<Self, DecodeError> {
        let mut outer = Reader::new(datagram);
        let mut message = outer.read_constructed(ber::SEQUENCE, "message")?;
        outer.finish("message")?;
        let code = message.read_integer("msgVersion")?;
        let Some(version) = Version::from_code(code) else {
            let kind = DecodeErrorKind::UnknownVersion(code);
            return Err(DecodeError::new("msgVersion", kind));
        };
        if version == Version::V3 {
            let message = V3Message::decode_after_version(datagram, message)?;
            return Ok(Message::V3(message));
        }
        let message = CommunityMessage::decode_after_version(version, message)?;
        Ok(Message::Community(message))
    }

    pub fn version(&self) -> Version {
        match self {
            Message::Community(message) => message.version,
            Message::V3(_) => Version::V3,
        }
    }
}

/// An SNMPv1 or SNMPv2c message. Its `Debug` does not show the community, which is a password.
#[derive(Clone, PartialEq, Eq)]
pub struct CommunityMessage {
    /// V1 or V2c.
    pub version: Version,
    pub community: Vec<u8>,
    pub pdu: AnyPdu,
}

impl CommunityMessage {
    pub fn new(version: Version, community: &[u8], pdu: impl Into<AnyPdu>) -> Self {
        Self {
            version,
            community: community.to_vec(),
            pdu: pdu.into(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut writer = Writer::new();
        writer.sequence(|message| {
            message.integer(ber::INTEGER, self.version.code());
            message.octet_string(&self.community);
            self.pdu.encode(message);
        });
        writer.into_bytes()
    }

    fn decode_after_version(version: Version, mut message: Reader<'_>) -> Result<Self, DecodeError> {
        let community = message.read_octet_string("community")?.to_vec();
        let pdu = AnyPdu::decode(message.read("PDU")?)?;
        message.finish("message")?;
        pdu.check_version(version)?;
        Ok(Self {
            version,
            community,
            pdu,
        })
    }
}

impl fmt::Debug for CommunityMessage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CommunityMessage")
            .field("version", &self.version)
            .field("community", &"<redacted>")
            .field("pdu", &self.pdu)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::oid::Oid;
    use crate::sources::snmp::wire::pdu::{Pdu, PduType, VarBind};
    use crate::sources::snmp::wire::value::Value;

    fn sys_descr() -> Oid {
        "1.3.6.1.2.1.1.1.0".parse().expect("an OID")
    }

    fn decode_community(bytes: &[u8]) -> Result<CommunityMessage, DecodeError> {
        match Message::decode(bytes)? {
            Message::Community(message) => Ok(message),
            Message::V3(_) => panic!("a community message was expected"),
        }
    }

    #[test]
    fn community_messages_round_trip() {
        let response = Pdu::new(
            PduType::Response,
            7,
            vec![VarBind::new(sys_descr(), Value::OctetString(b"router".to_vec()))],
        );
        for version in [Version::V1, Version::V2c] {
            let message = CommunityMessage::new(version, b"public", response.clone());
            let bytes = message.encode();
            assert_eq!(decode_community(&bytes), Ok(message));
            let version_read = Message::decode(&bytes).expect("a message").version();
            assert_eq!(version_read, version);
        }
    }

    #[test]
    fn versions_refuse_pdus_they_do_not_have() {
        let pdu = Pdu::get_bulk(1, 0, 10, &[sys_descr()]);
        let bulk = CommunityMessage::new(Version::V1, b"public", pdu);
        let error = decode_community(&bulk.encode()).expect_err("not in v1");
        assert_eq!(
            error.kind,
            DecodeErrorKind::PduNotAllowed {
                pdu: PduType::GetBulk,
                version: Version::V1,
            }
        );
    }

    #[test]
    fn unknown_versions_and_trailing_bytes_are_refused() {
        let get = CommunityMessage::new(Version::V2c, b"public", Pdu::get(1, &[]));
        let mut message = get.encode();
        message[4] = 2;
        assert_eq!(
            Message::decode(&message).map_err(|error| error.kind),
            Err(DecodeErrorKind::UnknownVersion(2))
        );
        message[4] = 1;
        message.push(0);
        assert_eq!(
            Message::decode(&message).map_err(|error| error.kind),
            Err(DecodeErrorKind::TrailingBytes(1))
        );
    }

    #[test]
    fn debug_does_not_show_the_community() {
        let message = CommunityMessage::new(Version::V2c, b"s3cret-community", Pdu::get(1, &[]));
        let shown = format!("{message:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
