//! The User-based Security Model's processing of SNMPv3 messages (RFC 3414 §3): [`encode`] encrypts a scoped
//! PDU and signs the whole message, [`security_parameters`] and [`open`] read one, verify its digest and
//! decrypt it. What is left to the caller: choosing the user by the name and engine the parameters carry,
//! timeliness ([`crate::sources::snmp::wire::time_window`]) once the digest is verified, and matching
//! msgID to a request.
//!
//! **Invariant:** `open` refuses a message below the user's security level unless it is a Report, which
//! agents send unauthenticated (unknown user, wrong digest) or unencrypted (not in time window); a Report is
//! a hint, never data.

use crate::sources::snmp::wire::ber::{self, Reader, Tlv, Writer};
use crate::sources::snmp::wire::errors::{DecodeError, DecodeErrorKind, UsmError};
use crate::sources::snmp::wire::message::Version;
use crate::sources::snmp::wire::pdu::{Pdu, PduType};
use crate::sources::snmp::wire::user::LocalizedUser;
use crate::sources::snmp::wire::v3::{
    HeaderData, ScopedPdu, ScopedPduData, SecurityLevel, USER_BASED_SECURITY_MODEL, V3Message,
};

/// SnmpEngineID and SnmpAdminString (the user name) are at most 32 octets (RFC 3411 §5, RFC 3414 §2.4).
const MAX_ENGINE_ID: usize = 32;
const MAX_USER_NAME: usize = 32;

/// UsmSecurityParameters (RFC 3414 §2.4), decoded from a message or made for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsmSecurityParameters {
    /// The authoritative engine: the agent for a request and its response, the sender of a trap, the
    /// receiver of an inform.
    pub engine_id: Vec<u8>,
    pub engine_boots: u32,
    pub engine_time: u32,
    pub user_name: Vec<u8>,
    pub authentication_parameters: Vec<u8>,
    pub privacy_parameters: Vec<u8>,
    /// Where msgAuthenticationParameters' content starts in the message it was decoded from.
    authentication_start: usize,
}

impl UsmSecurityParameters {
    fn decode(octets: Tlv<'_>) -> Result<Self, DecodeError> {
        let mut outer = octets.reader();
        let mut fields = outer.read_constructed(ber::SEQUENCE, "UsmSecurityParameters")?;
        outer.finish("msgSecurityParameters")?;
        let engine_id = bounded(&mut fields, "msgAuthoritativeEngineID", MAX_ENGINE_ID)?;
        let engine_boots = fields.read_non_negative("msgAuthoritativeEngineBoots")?;
        let engine_time = fields.read_non_negative("msgAuthoritativeEngineTime")?;
        let user_name = bounded(&mut fields, "msgUserName", MAX_USER_NAME)?;
        let authentication = fields.read_expected(ber::OCTET_STRING, "msgAuthenticationParameters")?;
        let privacy_parameters = fields.read_octet_string("msgPrivacyParameters")?.to_vec();
        fields.finish("UsmSecurityParameters")?;
        Ok(Self {
            engine_id,
            engine_boots,
            engine_time,
            user_name,
            authentication_parameters: authentication.content.to_vec(),
            privacy_parameters,
            authentication_start: authentication.start,
        })
    }

    /// The encoding, and where msgAuthenticationParameters' content starts in it.
    fn encode(&self) -> (Vec<u8>, usize) {
        let mut fields = Writer::new();
        fields.octet_string(&self.engine_id);
        fields.integer(ber::INTEGER, i64::from(self.engine_boots));
        fields.integer(ber::INTEGER, i64::from(self.engine_time));
        fields.octet_string(&self.user_name);
        let authentication_start = fields.len() + ber::header_length(self.authentication_parameters.len());
        fields.octet_string(&self.authentication_parameters);
        fields.octet_string(&self.privacy_parameters);
        let fields = fields.into_bytes();
        let mut sequence = Writer::new();
        sequence.tlv(ber::SEQUENCE, &fields);
        let sequence = sequence.into_bytes();
        let start = sequence.len() - fields.len() + authentication_start;
        (sequence, start)
    }
}

/// An OCTET STRING of at most `max` octets.
fn bounded(fields: &mut Reader<'_>, field: &'static str, max: usize) -> Result<Vec<u8>, DecodeError> {
    let octets = fields.read_octet_string(field)?;
    if octets.len() > max {
        let kind = DecodeErrorKind::TooLong {
            found: octets.len(),
            max,
        };
        return Err(DecodeError::new(field, kind));
    }
    Ok(octets.to_vec())
}

/// The message's USM parameters, which name the user and the authoritative engine to open it with.
pub fn security_parameters(message: &V3Message<'_>) -> Result<UsmSecurityParameters, UsmError> {
    let model = message.header.security_model;
    if model != USER_BASED_SECURITY_MODEL {
        return Err(UsmError::UnsupportedSecurityModel(model));
    }
    Ok(UsmSecurityParameters::decode(message.security_parameters)?)
}

/// Verifies the message's digest and decrypts its scoped PDU with `user`'s keys (RFC 3414 §3.2 steps 4 to
/// 8). `parameters` are [`security_parameters`] of this same message.
pub fn open(
    message: &V3Message<'_>,
    parameters: &UsmSecurityParameters,
    user: &LocalizedUser,
) -> Result<ScopedPdu, UsmError> {
    if parameters.user_name != user.name() {
        return Err(UsmError::UnknownUserName);
    }
    if parameters.engine_id != user.engine_id() {
        return Err(UsmError::UnknownEngineId);
    }
    let level = message.header.security_level;
    if level > user.security_level() {
        return Err(UsmError::UnsupportedSecurityLevel(level));
    }
    if level.has_authentication() {
        authenticate(message, parameters, user)?;
    }
    let scoped_pdu = match &message.data {
        ScopedPduData::Plaintext(scoped_pdu) => scoped_pdu.clone(),
        ScopedPduData::Encrypted(ciphertext) => decrypt(ciphertext, parameters, user)?,
    };
    if level < user.security_level() && scoped_pdu.pdu.pdu_type() != PduType::Report {
        return Err(UsmError::SecurityLevelTooLow {
            message: level,
            user: user.security_level(),
        });
    }
    Ok(scoped_pdu)
}

/// RFC 3414 §6.3.2 (and §7.3.2, RFC 7860 §4.2.2): the HMAC of the whole message with its own
/// msgAuthenticationParameters zeroed.
fn authenticate(
    message: &V3Message<'_>,
    parameters: &UsmSecurityParameters,
    user: &LocalizedUser,
) -> Result<(), UsmError> {
    let level = message.header.security_level;
    let Some(key) = user.authentication() else {
        return Err(UsmError::UnsupportedSecurityLevel(level));
    };
    let protocol = key.protocol();
    let found = parameters.authentication_parameters.len();
    if found != protocol.mac_len() {
        let expected = protocol.mac_len();
        return Err(UsmError::AuthenticationParametersLength { found, expected });
    }
    let mut zeroed = message.whole.to_vec();
    let start = parameters.authentication_start;
    if let Some(authentication) = zeroed.get_mut(start..start + found) {
        authentication.fill(0);
    }
    let mac = &parameters.authentication_parameters;
    if protocol.verify(key.octets(), &zeroed, mac) {
        Ok(())
    } else {
        Err(UsmError::WrongDigest)
    }
}

fn decrypt(
    ciphertext: &[u8],
    parameters: &UsmSecurityParameters,
    user: &LocalizedUser,
) -> Result<ScopedPdu, UsmError> {
    let Some(key) = user.privacy() else {
        return Err(UsmError::UnsupportedSecurityLevel(SecurityLevel::AuthPriv));
    };
    let plaintext = key.decrypt(
        ciphertext,
        parameters.engine_boots,
        parameters.engine_time,
        &parameters.privacy_parameters,
    )?;
    let scoped_pdu = ScopedPdu::decode_padded(&plaintext);
    scoped_pdu.map_err(UsmError::UndecryptableScopedPdu)
}

/// Encodes an SNMPv3 message from `user` (RFC 3414 §3.1): the scoped PDU encrypted under `salt` when the
/// header asks for privacy, the whole signed when it asks for authentication. `engine_boots` and
/// `engine_time` are the authoritative engine's: the agent's as last learnt for a request, ours for the
/// Response to an inform. Fails when the user has no key for the header's level.
pub fn encode(
    header: &HeaderData,
    user: &LocalizedUser,
    engine_boots: u32,
    engine_time: u32,
    scoped_pdu: &ScopedPdu,
    salt: [u8; 8],
) -> Result<Vec<u8>, UsmError> {
    let level = header.security_level;
    if level > user.security_level() {
        return Err(UsmError::UnsupportedSecurityLevel(level));
    }
    let plaintext = scoped_pdu.encode();
    let (data, privacy_parameters) = match user.privacy() {
        Some(key) if level.has_privacy() => {
            let ciphertext = key.encrypt(&plaintext, engine_boots, engine_time, salt);
            (Data::Encrypted(ciphertext), salt.to_vec())
        }
        _ => (Data::Plaintext(plaintext), Vec::new()),
    };
    let authentication = user.authentication().filter(|_| level.has_authentication());
    let mac_len = authentication.map_or(0, |key| key.protocol().mac_len());
    let parameters = UsmSecurityParameters {
        engine_id: user.engine_id().to_vec(),
        engine_boots,
        engine_time,
        user_name: user.name().to_vec(),
        authentication_parameters: vec![0; mac_len],
        privacy_parameters,
        authentication_start: 0,
    };
    let (mut message, start) = assemble(header, &parameters, &data);
    if let Some(key) = authentication {
        let mac = key.protocol().mac(key.octets(), &message);
        for (octet, mac_octet) in message.iter_mut().skip(start).zip(mac) {
            *octet = mac_octet;
        }
    }
    Ok(message)
}

/// The message that asks an agent for its engine ID, boots and time (RFC 3414 §4): reportable,
/// noAuthNoPriv, no user, no engine, an empty GetRequest. The agent answers with a Report of
/// usmStatsUnknownEngineIDs whose security parameters carry its engine.
pub fn discovery_request(msg_id: i32, request_id: i32, max_size: i32) -> Vec<u8> {
    let header = HeaderData::new(msg_id, max_size, SecurityLevel::NoAuthNoPriv, true);
    let scoped_pdu = ScopedPdu::new(&[], Pdu::get(request_id, &[]));
    let parameters = UsmSecurityParameters {
        engine_id: Vec::new(),
        engine_boots: 0,
        engine_time: 0,
        user_name: Vec::new(),
        authentication_parameters: Vec::new(),
        privacy_parameters: Vec::new(),
        authentication_start: 0,
    };
    assemble(&header, &parameters, &Data::Plaintext(scoped_pdu.encode())).0
}

/// msgData on its way out.
enum Data {
    /// An encoded scoped PDU.
    Plaintext(Vec<u8>),
    /// Its encryption, sent as an OCTET STRING.
    Encrypted(Vec<u8>),
}

/// The message, and where msgAuthenticationParameters' content starts in it.
fn assemble(header: &HeaderData, parameters: &UsmSecurityParameters, data: &Data) -> (Vec<u8>, usize) {
    let (security, authentication_start) = parameters.encode();
    let mut body = Writer::new();
    body.integer(ber::INTEGER, Version::V3.code());
    header.encode(&mut body);
    let security_start = body.len() + ber::header_length(security.len());
    body.octet_string(&security);
    match data {
        Data::Plaintext(scoped_pdu) => body.raw(scoped_pdu),
        Data::Encrypted(ciphertext) => body.octet_string(ciphertext),
    }
    let body = body.into_bytes();
    let mut message = Writer::new();
    message.tlv(ber::SEQUENCE, &body);
    let message = message.into_bytes();
    let start = message.len() - body.len() + security_start + authentication_start;
    (message, start)
}
