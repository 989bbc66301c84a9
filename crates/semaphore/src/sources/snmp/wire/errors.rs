//! Why bytes did not decode ([`DecodeError`]: the field at fault and what was wrong with it) and why an
//! SNMPv3 message was refused ([`UsmError`]). Both are `Copy` and hold no heap data, so a flood of malformed
//! datagrams costs no allocation for its errors.

use crate::sources::snmp::wire::message::Version;
use crate::sources::snmp::wire::pdu::PduType;
use crate::sources::snmp::wire::v3::SecurityLevel;

/// Bytes that are not the SNMP they should be: `field` names the element as the RFCs do (`msgFlags`,
/// `request-id`, `VarBind value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {kind}")]
pub struct DecodeError {
    pub field: &'static str,
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub const fn new(field: &'static str, kind: DecodeErrorKind) -> Self {
        Self { field, kind }
    }
}

/// What was wrong with the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("the data ends inside it")]
    Truncated,
    #[error("expected tag 0x{expected:02x}, found 0x{found:02x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("tag 0x{0:02x} is no type SNMP has here")]
    UnexpectedType(u8),
    #[error("a multi-octet tag, which SNMP never uses")]
    HighTagNumber,
    #[error("an indefinite length, which SNMP does not allow")]
    IndefiniteLength,
    #[error("a length written in {0} octets (SNMP needs at most 4)")]
    LengthOfLength(usize),
    #[error("{0} octets after its end")]
    TrailingBytes(usize),
    #[error("no content octets")]
    Empty,
    #[error("{found} content octets, not {expected}")]
    WrongLength { found: usize, expected: usize },
    #[error("{found} content octets, more than the {max} it may have")]
    TooLong { found: usize, max: usize },
    #[error("{0} is out of range")]
    OutOfRange(i64),
    #[error("{0}")]
    BadObjectIdentifier(&'static str),
    #[error("version {0} is not SNMPv1 (0), SNMPv2c (1) nor SNMPv3 (3)")]
    UnknownVersion(i64),
    #[error("tag 0x{0:02x} is no SNMP PDU")]
    UnknownPdu(u8),
    #[error("a {pdu} PDU has no place in an {version} message")]
    PduNotAllowed { pdu: PduType, version: Version },
    #[error("privacy without authentication (msgFlags 0x{0:02x})")]
    PrivacyWithoutAuthentication(u8),
}

/// An SNMPv3 message the User-based Security Model refuses (RFC 3414 §3.2). The text says what to check,
/// never a key or a pass phrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsmError {
    #[error("malformed SNMPv3 message")]
    Malformed(#[from] DecodeError),
    #[error("security model {0} is not the User-based Security Model (3)")]
    UnsupportedSecurityModel(i32),
    #[error("the message names another user than the one it was opened for (unknown user name)")]
    UnknownUserName,
    #[error(
        "the message names another authoritative engine than the user's keys were made for \
         (unknown engine ID)"
    )]
    UnknownEngineId,
    #[error("the message is {0}, which this user is not configured for (unsupported security level)")]
    UnsupportedSecurityLevel(SecurityLevel),
    #[error("the message is only {message} and the user is {user}: refused (only a Report may be lower)")]
    SecurityLevelTooLow {
        message: SecurityLevel,
        user: SecurityLevel,
    },
    #[error(
        "msgAuthenticationParameters of {found} octets where the user's authentication protocol makes \
         {expected}: is the authentication protocol right?"
    )]
    AuthenticationParametersLength { found: usize, expected: usize },
    #[error("wrong digest: the authentication pass phrase or protocol differs from the sender's")]
    WrongDigest,
    #[error("decryption error: msgPrivacyParameters of {0} octets, not 8")]
    PrivacyParametersLength(usize),
    #[error("decryption error: DES ciphertext of {0} octets, not a multiple of 8")]
    CiphertextLength(usize),
    #[error(
        "decryption error: the decrypted scoped PDU does not decode: is the privacy pass phrase or protocol \
         right?"
    )]
    UndecryptableScopedPdu(#[source] DecodeError),
    #[error(
        "not in time window: the message's engine boots {message_boots} and time {message_time}, \
         the engine's {engine_boots} and {engine_time}"
    )]
    NotInTimeWindow {
        message_boots: u32,
        message_time: u32,
        engine_boots: u32,
        engine_time: u32,
    },
}
