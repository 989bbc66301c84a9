//! The SNMPv3 message (RFC 3412 §6): its header ([`HeaderData`]: msgID, msgMaxSize, msgFlags, the security
//! model), its security parameters (opaque here, read by [`crate::sources::snmp::wire::usm`]) and its
//! [`ScopedPdu`], in the clear or encrypted. Decoding checks the shape; security is USM's.

use std::fmt;

use crate::sources::snmp::wire::ber::{self, Reader, Tlv, Writer};
use crate::sources::snmp::wire::errors::{DecodeError, DecodeErrorKind};
use crate::sources::snmp::wire::message::Version;
use crate::sources::snmp::wire::pdu::AnyPdu;

/// The smallest msgMaxSize an engine may announce (RFC 3412 §6: `INTEGER (484..2147483647)`).
pub const MIN_MAX_SIZE: i32 = 484;

/// The security model number of USM (RFC 3411 §5).
pub const USER_BASED_SECURITY_MODEL: i32 = 3;

/// msgFlags bits (RFC 3412 §6.4).
const AUTH_FLAG: u8 = 0x01;
const PRIV_FLAG: u8 = 0x02;
const REPORTABLE_FLAG: u8 = 0x04;

/// How much protection a message has. Ordered from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
// The names are RFC 3411's (noAuthNoPriv, authNoPriv, authPriv), which share their last word.
#[allow(clippy::enum_variant_names)]
pub enum SecurityLevel {
    NoAuthNoPriv,
    AuthNoPriv,
    AuthPriv,
}

impl SecurityLevel {
    pub fn has_authentication(self) -> bool {
        self != SecurityLevel::NoAuthNoPriv
    }

    pub fn has_privacy(self) -> bool {
        self == SecurityLevel::AuthPriv
    }

    /// The level msgFlags says, or `None` for privacy without authentication, which RFC 3412 §7.2.5 makes an
    /// invalid message.
    pub fn from_flags(flags: u8) -> Option<SecurityLevel> {
        match (flags & AUTH_FLAG != 0, flags & PRIV_FLAG != 0) {
            (false, false) => Some(SecurityLevel::NoAuthNoPriv),
            (true, false) => Some(SecurityLevel::AuthNoPriv),
            (true, true) => Some(SecurityLevel::AuthPriv),
            (false, true) => None,
        }
    }

    fn flags(self) -> u8 {
        match self {
            SecurityLevel::NoAuthNoPriv => 0,
            SecurityLevel::AuthNoPriv => AUTH_FLAG,
            SecurityLevel::AuthPriv => AUTH_FLAG | PRIV_FLAG,
        }
    }

    /// The level named `name` (`noAuthNoPriv`, `authNoPriv`, `authPriv`), in any case; `None` for any other.
    pub fn from_name(name: &str) -> Option<SecurityLevel> {
        [
            SecurityLevel::NoAuthNoPriv,
            SecurityLevel::AuthNoPriv,
            SecurityLevel::AuthPriv,
        ]
        .into_iter()
        .find(|level| level.name().eq_ignore_ascii_case(name))
    }

    /// The name RFC 3411 and net-snmp give it.
    pub fn name(self) -> &'static str {
        match self {
            SecurityLevel::NoAuthNoPriv => "noAuthNoPriv",
            SecurityLevel::AuthNoPriv => "authNoPriv",
            SecurityLevel::AuthPriv => "authPriv",
        }
    }
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// msgGlobalData.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderData {
    /// Matches a response to its request; 0 to 2147483647.
    pub msg_id: i32,
    /// The largest message the sender can take.
    pub max_size: i32,
    pub security_level: SecurityLevel,
    /// Whether the receiver may answer with a Report (set on requests and informs, RFC 3412 §6.4).
    pub reportable: bool,
    pub security_model: i32,
}

impl HeaderData {
    /// A header for USM.
    pub fn new(msg_id: i32, max_size: i32, security_level: SecurityLevel, reportable: bool) -> Self {
        Self {
            msg_id,
            max_size,
            security_level,
            reportable,
            security_model: USER_BASED_SECURITY_MODEL,
        }
    }

    fn flags(&self) -> u8 {
        let reportable = if self.reportable { REPORTABLE_FLAG } else { 0 };
        self.security_level.flags() | reportable
    }

    fn decode(message: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut header = message.read_constructed(ber::SEQUENCE, "msgGlobalData")?;
        let msg_id = header.read_i32_in("msgID", 0, i32::MAX)?;
        let max_size = header.read_i32_in("msgMaxSize", MIN_MAX_SIZE, i32::MAX)?;
        let flags = header.read_octet_string("msgFlags")?;
        let [flags] = flags else {
            let kind = DecodeErrorKind::WrongLength {
                found: flags.len(),
                expected: 1,
            };
            return Err(DecodeError::new("msgFlags", kind));
        };
        let Some(security_level) = SecurityLevel::from_flags(*flags) else {
            let kind = DecodeErrorKind::PrivacyWithoutAuthentication(*flags);
            return Err(DecodeError::new("msgFlags", kind));
        };
        let security_model = header.read_i32_in("msgSecurityModel", 1, i32::MAX)?;
        header.finish("msgGlobalData")?;
        Ok(Self {
            msg_id,
            max_size,
            security_level,
            reportable: flags & REPORTABLE_FLAG != 0,
            security_model,
        })
    }

    pub fn encode(&self, writer: &mut Writer) {
        writer.sequence(|header| {
            header.integer(ber::INTEGER, i64::from(self.msg_id));
            header.integer(ber::INTEGER, i64::from(self.max_size));
            header.octet_string(&[self.flags()]);
            header.integer(ber::INTEGER, i64::from(self.security_model));
        });
    }
}

/// A PDU and the context it is for (RFC 3412 §6.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopedPdu {
    pub context_engine_id: Vec<u8>,
    pub context_name: Vec<u8>,
    pub pdu: AnyPdu,
}

impl ScopedPdu {
    pub fn new(context_engine_id: &[u8], pdu: impl Into<AnyPdu>) -> Self {
        Self {
            context_engine_id: context_engine_id.to_vec(),
            context_name: Vec::new(),
            pdu: pdu.into(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut writer = Writer::new();
        writer.sequence(|scoped| {
            scoped.octet_string(&self.context_engine_id);
            scoped.octet_string(&self.context_name);
            self.pdu.encode(scoped);
        });
        writer.into_bytes()
    }

    /// The scoped PDU at the start of `plaintext`, and whatever follows ignored: decrypted DES data ends in
    /// padding (RFC 3414 §8.1.1.2).
    pub fn decode_padded(plaintext: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(&mut Reader::new(plaintext))
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut scoped = reader.read_constructed(ber::SEQUENCE, "scopedPDU")?;
        let context_engine_id = scoped.read_octet_string("contextEngineID")?.to_vec();
        let context_name = scoped.read_octet_string("contextName")?.to_vec();
        let pdu = AnyPdu::decode(scoped.read("PDU")?)?;
        scoped.finish("scopedPDU")?;
        pdu.check_version(Version::V3)?;
        Ok(Self {
            context_engine_id,
            context_name,
            pdu,
        })
    }
}

/// msgData: the scoped PDU, or its encryption when the message has privacy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopedPduData<'a> {
    Plaintext(ScopedPdu),
    Encrypted(&'a [u8]),
}

/// An SNMPv3 message as it came, borrowing the datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Message<'a> {
    pub header: HeaderData,
    /// msgSecurityParameters: the octets the security model reads, and where they start in `whole`.
    pub security_parameters: Tlv<'a>,
    pub data: ScopedPduData<'a>,
    /// The whole message, which USM authenticates.
    pub whole: &'a [u8],
}

impl<'a> V3Message<'a> {
    /// The scoped PDU of a noAuthNoPriv message, which nothing authenticates: what engine-ID discovery reads
    /// from a Report. `None` for a message with authentication.
    pub fn unauthenticated_scoped_pdu(&self) -> Option<&ScopedPdu> {
        match &self.data {
            ScopedPduData::Plaintext(scoped_pdu) if !self.header.security_level.has_authentication() => {
                Some(scoped_pdu)
            }
            _ => None,
        }
    }

    /// Decodes what follows msgVersion in `message`, a reader over the message's SEQUENCE in `whole`.
    pub(crate) fn decode_after_version(
        whole: &'a [u8],
        mut message: Reader<'a>,
    ) -> Result<Self, DecodeError> {
        let header = HeaderData::decode(&mut message)?;
        let security_parameters = message.read_expected(ber::OCTET_STRING, "msgSecurityParameters")?;
        let data = if header.security_level.has_privacy() {
            ScopedPduData::Encrypted(message.read_octet_string("encryptedPDU")?)
        } else {
            ScopedPduData::Plaintext(ScopedPdu::decode(&mut message)?)
        };
        message.finish("message")?;
        Ok(Self {
            header,
            security_parameters,
            data,
            whole,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::message::Message;
    use crate::sources::snmp::wire::pdu::{GenericTrap, Pdu, PduType, TrapV1Pdu};

    #[test]
    fn levels_are_read_by_name_in_any_case() {
        assert_eq!(
            SecurityLevel::from_name("authPriv"),
            Some(SecurityLevel::AuthPriv)
        );
        assert_eq!(
            SecurityLevel::from_name("AUTHNOPRIV"),
            Some(SecurityLevel::AuthNoPriv)
        );
        assert_eq!(
            SecurityLevel::from_name("noauthnopriv"),
            Some(SecurityLevel::NoAuthNoPriv)
        );
        assert_eq!(SecurityLevel::from_name("priv"), None);
        assert_eq!(SecurityLevel::from_name(""), None);
    }

    /// A message with `flags`, `max_size` and `pdu` in the clear, encoded by hand.
    fn message(flags: u8, max_size: i32, pdu: AnyPdu) -> Vec<u8> {
        let mut writer = Writer::new();
        writer.sequence(|message| {
            message.integer(ber::INTEGER, 3);
            message.sequence(|header| {
                header.integer(ber::INTEGER, 1);
                header.integer(ber::INTEGER, i64::from(max_size));
                header.octet_string(&[flags]);
                header.integer(ber::INTEGER, 3);
            });
            message.octet_string(&[]);
            message.raw(&ScopedPdu::new(b"engine", pdu).encode());
        });
        writer.into_bytes()
    }

    fn get() -> AnyPdu {
        Pdu::new(PduType::Get, 1, Vec::new()).into()
    }

    fn decode(bytes: &[u8]) -> Result<V3Message<'_>, DecodeErrorKind> {
        match Message::decode(bytes).map_err(|error| error.kind)? {
            Message::V3(message) => Ok(message),
            Message::Community(_) => panic!("an SNMPv3 message was expected"),
        }
    }

    #[test]
    fn a_plain_message_decodes() {
        let bytes = message(REPORTABLE_FLAG, 65_507, get());
        let decoded = decode(&bytes).expect("a message");
        let expected = HeaderData::new(1, 65_507, SecurityLevel::NoAuthNoPriv, true);
        assert_eq!(decoded.header, expected);
        let scoped_pdu = decoded.unauthenticated_scoped_pdu().expect("in the clear");
        assert_eq!(scoped_pdu.context_engine_id, b"engine");
        assert_eq!(scoped_pdu.pdu.pdu_type(), PduType::Get);
        assert_eq!(decoded.whole, bytes);
    }

    #[test]
    fn headers_out_of_rfc_3412_are_refused() {
        assert_eq!(
            decode(&message(0x02, 65_507, get())).map(|_| ()),
            Err(DecodeErrorKind::PrivacyWithoutAuthentication(0x02))
        );
        assert_eq!(
            decode(&message(0, 483, get())).map(|_| ()),
            Err(DecodeErrorKind::OutOfRange(483))
        );
        let trap = TrapV1Pdu {
            enterprise: "1.3.6.1.4.1.9".parse().expect("an OID"),
            agent_address: [192, 0, 2, 1],
            generic_trap: GenericTrap::ColdStart,
            specific_trap: 0,
            time_stamp: 0,
            varbinds: Vec::new(),
        };
        assert_eq!(
            decode(&message(0, 484, trap.into())).map(|_| ()),
            Err(DecodeErrorKind::PduNotAllowed {
                pdu: PduType::TrapV1,
                version: Version::V3,
            })
        );
    }

    #[test]
    fn an_encrypted_message_must_carry_an_octet_string() {
        let bytes = message(0x03, 65_507, get());
        assert_eq!(
            decode(&bytes).map(|_| ()),
            Err(DecodeErrorKind::UnexpectedTag {
                expected: ber::OCTET_STRING,
                found: ber::SEQUENCE,
            })
        );
    }

    #[test]
    fn security_levels_map_to_flags_and_back() {
        for level in [
            SecurityLevel::NoAuthNoPriv,
            SecurityLevel::AuthNoPriv,
            SecurityLevel::AuthPriv,
        ] {
            assert_eq!(SecurityLevel::from_flags(level.flags()), Some(level));
            let reportable = level.flags() | REPORTABLE_FLAG;
            assert_eq!(SecurityLevel::from_flags(reportable), Some(level));
        }
        assert!(SecurityLevel::AuthNoPriv < SecurityLevel::AuthPriv);
        assert_eq!(SecurityLevel::AuthPriv.to_string(), "authPriv");
    }
}
