//! USM's encode and open against each other: every authentication and privacy protocol round-trips, every
//! flipped bit of a signed message is refused, and the security level and user rules hold. Keys are made from
//! fixed octets here, to keep the megabyte of password hashing out of the loops.

use crate::sources::snmp::wire::auth::AuthProtocol;
use crate::sources::snmp::wire::ber::{self, Writer};
use crate::sources::snmp::wire::errors::{DecodeErrorKind, UsmError};
use crate::sources::snmp::wire::keys::LocalizedKey;
use crate::sources::snmp::wire::message::Message;
use crate::sources::snmp::wire::oid::Oid;
use crate::sources::snmp::wire::pdu::{Pdu, PduType, VarBind};
use crate::sources::snmp::wire::privacy::{PrivKey, PrivProtocol};
use crate::sources::snmp::wire::user::LocalizedUser;
use crate::sources::snmp::wire::usm;
use crate::sources::snmp::wire::v3::{HeaderData, ScopedPdu, SecurityLevel, V3Message};
use crate::sources::snmp::wire::value::Value;

const ENGINE: &[u8] = b"\x80\x00\x1f\x88\x80semaphore";
const SALT: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// A user of `ENGINE` whose keys are `auth`'s hash length of 0x11 and 0x22 octets.
fn user(auth: Option<AuthProtocol>, privacy: Option<PrivProtocol>) -> LocalizedUser {
    let authentication = auth.map(|protocol| key(protocol, 0x11));
    let privacy = match (auth, privacy) {
        (Some(hash), Some(protocol)) => Some(PrivKey::new(protocol, &key(hash, 0x22), ENGINE)),
        _ => None,
    };
    let user = LocalizedUser::new(b"operator", ENGINE, authentication, privacy);
    user.expect("a user")
}

/// A key of `protocol`'s length, every octet `octet`.
fn key(protocol: AuthProtocol, octet: u8) -> LocalizedKey {
    let octets = vec![octet; protocol.digest_len()];
    LocalizedKey::from_octets(protocol, &octets).expect("its length")
}

/// A user with one authentication key and no privacy.
fn named(name: &[u8], engine_id: &[u8], key: LocalizedKey) -> LocalizedUser {
    let user = LocalizedUser::new(name, engine_id, Some(key), None);
    user.expect("a user")
}

fn scoped_pdu(pdu_type: PduType) -> ScopedPdu {
    let name: Oid = "1.3.6.1.2.1.1.5.0".parse().expect("an OID");
    let value = Value::OctetString(b"lab-router-1".to_vec());
    let pdu = Pdu::new(pdu_type, 77, vec![VarBind::new(name, value)]);
    ScopedPdu::new(ENGINE, pdu)
}

fn encode(user: &LocalizedUser, level: SecurityLevel, scoped_pdu: &ScopedPdu) -> Vec<u8> {
    let header = HeaderData::new(42, 65_507, level, false);
    let encoded = usm::encode(&header, user, 5, 1_000, scoped_pdu, SALT);
    encoded.expect("the user's level")
}

fn v3(bytes: &[u8]) -> Result<V3Message<'_>, UsmError> {
    match Message::decode(bytes)? {
        Message::V3(message) => Ok(message),
        Message::Community(_) => panic!("an SNMPv3 message was expected"),
    }
}

fn open(bytes: &[u8], user: &LocalizedUser) -> Result<ScopedPdu, UsmError> {
    let message = v3(bytes)?;
    let parameters = usm::security_parameters(&message)?;
    usm::open(&message, &parameters, user)
}

/// Every user this module can make: noAuthNoPriv, and each authentication protocol without privacy and
/// with each privacy protocol.
fn every_user() -> Vec<(LocalizedUser, SecurityLevel)> {
    let mut users = vec![(user(None, None), SecurityLevel::NoAuthNoPriv)];
    for auth in AuthProtocol::ALL {
        users.push((user(Some(auth), None), SecurityLevel::AuthNoPriv));
        for privacy in PrivProtocol::ALL {
            users.push((user(Some(auth), Some(privacy)), SecurityLevel::AuthPriv));
        }
    }
    users
}

#[test]
fn every_protocol_pair_round_trips() {
    let sent = scoped_pdu(PduType::Response);
    for (user, level) in every_user() {
        assert_eq!(user.security_level(), level);
        let bytes = encode(&user, level, &sent);
        let message = v3(&bytes).expect("a message");
        assert_eq!(message.header.security_level, level, "{user:?}");
        let parameters = usm::security_parameters(&message).expect("USM parameters");
        assert_eq!(parameters.engine_id, ENGINE);
        assert_eq!((parameters.engine_boots, parameters.engine_time), (5, 1_000));
        assert_eq!(parameters.user_name, b"operator");
        let mac_len = user.authentication().map_or(0, |key| key.protocol().mac_len());
        assert_eq!(parameters.authentication_parameters.len(), mac_len, "{user:?}");
        let salt_len = if level.has_privacy() { 8 } else { 0 };
        assert_eq!(parameters.privacy_parameters.len(), salt_len, "{user:?}");
        let opened = usm::open(&message, &parameters, &user);
        assert_eq!(opened, Ok(sent.clone()), "{user:?}");
    }
}

#[test]
fn every_flipped_bit_of_a_signed_message_is_refused() {
    let sent = scoped_pdu(PduType::Response);
    for (auth, privacy) in [
        (AuthProtocol::Md5, None),
        (AuthProtocol::Sha1, Some(PrivProtocol::Des)),
        (AuthProtocol::Sha512, Some(PrivProtocol::Aes256)),
    ] {
        let user = user(Some(auth), privacy);
        let bytes = encode(&user, user.security_level(), &sent);
        assert_eq!(open(&bytes, &user), Ok(sent.clone()));
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let opened = open(&flipped, &user);
            assert!(opened.is_err(), "{auth} bit {bit} opened: {opened:?}");
        }
    }
}

#[test]
fn a_wrong_key_is_a_wrong_digest() {
    let sent = scoped_pdu(PduType::Response);
    let signer = named(b"operator", ENGINE, key(AuthProtocol::Sha256, 0x11));
    let bytes = encode(&signer, SecurityLevel::AuthNoPriv, &sent);
    let other = named(b"operator", ENGINE, key(AuthProtocol::Sha256, 0x12));
    assert_eq!(open(&bytes, &other), Err(UsmError::WrongDigest));
}

#[test]
fn users_and_engines_must_match() {
    let user = user(Some(AuthProtocol::Sha1), None);
    let bytes = encode(&user, SecurityLevel::AuthNoPriv, &scoped_pdu(PduType::Response));
    let stranger = named(b"stranger", ENGINE, key(AuthProtocol::Sha1, 0x11));
    assert_eq!(open(&bytes, &stranger), Err(UsmError::UnknownUserName));
    let other_engine = b"\x80\x00\x00\x01\x01";
    let elsewhere = named(b"operator", other_engine, key(AuthProtocol::Sha1, 0x11));
    assert_eq!(open(&bytes, &elsewhere), Err(UsmError::UnknownEngineId));
}

#[test]
fn levels_below_the_users_are_refused_unless_a_report() {
    let auth_priv = user(Some(AuthProtocol::Sha1), Some(PrivProtocol::Aes128));
    let response = scoped_pdu(PduType::Response);
    let bytes = encode(&auth_priv, SecurityLevel::AuthNoPriv, &response);
    assert_eq!(
        open(&bytes, &auth_priv),
        Err(UsmError::SecurityLevelTooLow {
            message: SecurityLevel::AuthNoPriv,
            user: SecurityLevel::AuthPriv,
        })
    );
    let report = scoped_pdu(PduType::Report);
    let bytes = encode(&auth_priv, SecurityLevel::NoAuthNoPriv, &report);
    assert_eq!(open(&bytes, &auth_priv), Ok(report));

    let auth_only = user(Some(AuthProtocol::Sha1), None);
    let bytes = encode(&auth_priv, SecurityLevel::AuthPriv, &response);
    let unsupported = UsmError::UnsupportedSecurityLevel(SecurityLevel::AuthPriv);
    assert_eq!(open(&bytes, &auth_only), Err(unsupported));
    let header = HeaderData::new(1, 65_507, SecurityLevel::AuthPriv, true);
    let encoded = usm::encode(&header, &auth_only, 0, 0, &response, SALT);
    assert_eq!(encoded.err(), Some(unsupported));
}

#[test]
fn salts_change_the_ciphertext() {
    let user = user(Some(AuthProtocol::Sha1), Some(PrivProtocol::Aes128));
    let sent = scoped_pdu(PduType::Response);
    let header = HeaderData::new(1, 65_507, SecurityLevel::AuthPriv, true);
    let first = usm::encode(&header, &user, 0, 0, &sent, [0; 8]);
    let second = usm::encode(&header, &user, 0, 0, &sent, [1; 8]);
    assert_ne!(first, second);
    let first = first.expect("a message");
    let second = second.expect("a message");
    assert_eq!(open(&first, &user), open(&second, &user));
}

#[test]
fn other_security_models_are_refused() {
    let user = user(None, None);
    let mut header = HeaderData::new(1, 65_507, SecurityLevel::NoAuthNoPriv, true);
    header.security_model = 2;
    let scoped_pdu = scoped_pdu(PduType::Get);
    let mut writer = Writer::new();
    writer.sequence(|message| {
        message.integer(ber::INTEGER, 3);
        header.encode(message);
        message.octet_string(&[]);
        message.raw(&scoped_pdu.encode());
    });
    let bytes = writer.into_bytes();
    assert_eq!(open(&bytes, &user), Err(UsmError::UnsupportedSecurityModel(2)));
}

#[test]
fn names_and_engine_ids_longer_than_32_octets_are_malformed() {
    let long_name = LocalizedUser::new(&[b'n'; 33], ENGINE, None, None).expect("a user");
    let bytes = encode(&long_name, SecurityLevel::NoAuthNoPriv, &scoped_pdu(PduType::Get));
    let error = open(&bytes, &long_name).expect_err("33 octets");
    let UsmError::Malformed(error) = error else {
        panic!("a decoding error was expected, not {error:?}");
    };
    assert_eq!(error.field, "msgUserName");
    assert_eq!(error.kind, DecodeErrorKind::TooLong { found: 33, max: 32 });
}

#[test]
fn a_discovery_request_is_anonymous_and_reportable() {
    let bytes = usm::discovery_request(9, 10, 65_507);
    let message = v3(&bytes).expect("a message");
    assert!(message.header.reportable);
    assert_eq!(message.header.security_level, SecurityLevel::NoAuthNoPriv);
    let parameters = usm::security_parameters(&message).expect("USM parameters");
    assert!(parameters.engine_id.is_empty());
    assert!(parameters.user_name.is_empty());
    let scoped_pdu = message.unauthenticated_scoped_pdu().expect("in the clear");
    let get = scoped_pdu.pdu.as_pdu().expect("a GetRequest");
    assert_eq!((get.pdu_type, get.request_id), (PduType::Get, 10));
    assert!(get.varbinds.is_empty());
}
