//! net-snmp's packets (`fixtures`) decoded, authenticated and decrypted, and the same bytes encoded: what we
//! send is what net-snmp sends, octet for octet, when the random parts (request-id, msgID, salt) are the same.

use crate::sources::snmp::wire::auth::AuthProtocol;
use crate::sources::snmp::wire::errors::UsmError;
use crate::sources::snmp::wire::fixtures::{self, hex, user};
use crate::sources::snmp::wire::message::{CommunityMessage, Message, Version};
use crate::sources::snmp::wire::oid::Oid;
use crate::sources::snmp::wire::pdu::{AnyPdu, ErrorStatus, GenericTrap, Pdu, PduType, VarBind};
use crate::sources::snmp::wire::privacy::PrivProtocol;
use crate::sources::snmp::wire::report::ReportError;
use crate::sources::snmp::wire::user::{LocalizedUser, UsmUser};
use crate::sources::snmp::wire::usm;
use crate::sources::snmp::wire::v3::{HeaderData, ScopedPdu, SecurityLevel, V3Message};
use crate::sources::snmp::wire::value::Value;

/// net-snmp's default msgMaxSize.
const MAX_SIZE: i32 = 65_507;

fn oid(text: &str) -> Oid {
    text.parse().expect("a valid object identifier")
}

fn community(fixture: &str) -> CommunityMessage {
    match Message::decode(&hex(fixture)).expect("a message") {
        Message::Community(message) => message,
        Message::V3(_) => panic!("a community message was expected"),
    }
}

fn v3(bytes: &[u8]) -> V3Message<'_> {
    match Message::decode(bytes).expect("a message") {
        Message::V3(message) => message,
        Message::Community(_) => panic!("an SNMPv3 message was expected"),
    }
}

fn pdu(message: &CommunityMessage) -> &Pdu {
    message.pdu.as_pdu().expect("not a v1 trap")
}

fn bob() -> UsmUser {
    let auth = (AuthProtocol::Sha1, "authpassword1");
    user("bob", Some(auth), Some((PrivProtocol::Aes128, "privpassword1")))
}

/// Decodes, finds the parameters and opens `bytes` as `user` of `engine`.
fn open(bytes: &[u8], user: &UsmUser, engine: &str) -> Result<ScopedPdu, UsmError> {
    let message = v3(bytes);
    let parameters = usm::security_parameters(&message)?;
    usm::open(&message, &parameters, &user.localize(&hex(engine)))
}

fn varbind(name: &str, value: Value) -> VarBind {
    VarBind::new(oid(name), value)
}

fn trap_oid(trap: &str) -> VarBind {
    varbind("1.3.6.1.6.3.1.1.4.1.0", Value::ObjectIdentifier(oid(trap)))
}

const LINK_DOWN: &str = "1.3.6.1.6.3.1.1.5.3";
const LINK_UP: &str = "1.3.6.1.6.3.1.1.5.4";

fn link_down_varbinds() -> Vec<VarBind> {
    vec![
        varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(12_345)),
        trap_oid(LINK_DOWN),
        varbind("1.3.6.1.2.1.2.2.1.1.2", Value::Integer(2)),
        varbind("1.3.6.1.2.1.2.2.1.7.2", Value::Integer(1)),
        varbind("1.3.6.1.2.1.2.2.1.8.2", Value::Integer(2)),
    ]
}

#[test]
fn a_v1_trap_decodes_and_encodes_back() {
    let message = community(fixtures::TRAP_V1);
    assert_eq!(message.version, Version::V1);
    assert_eq!(message.community, b"public");
    let AnyPdu::TrapV1(trap) = &message.pdu else {
        panic!("a v1 trap was expected");
    };
    assert_eq!(trap.enterprise, oid("1.3.6.1.4.1.8072.2.3"));
    assert_eq!(trap.agent_address, [192, 0, 2, 1]);
    assert_eq!(trap.generic_trap, GenericTrap::EnterpriseSpecific);
    assert_eq!((trap.specific_trap, trap.time_stamp), (17, 12_345));
    let router = Value::OctetString(b"router1".to_vec());
    assert_eq!(trap.varbinds, [varbind("1.3.6.1.2.1.1.5.0", router)]);
    assert_eq!(trap.snmp_trap_oid(), Ok(oid("1.3.6.1.4.1.8072.2.3.0.17")));
    assert_eq!(message.encode(), hex(fixtures::TRAP_V1));
}

#[test]
fn a_v2c_link_down_trap_decodes_and_encodes_back() {
    let message = community(fixtures::TRAP_V2C_LINK_DOWN);
    let trap = pdu(&message);
    assert_eq!(message.version, Version::V2c);
    assert_eq!(trap.pdu_type, PduType::TrapV2);
    assert_eq!(trap.request_id, 0x5075_b798);
    assert_eq!(trap.varbinds, link_down_varbinds());
    assert_eq!(message.encode(), hex(fixtures::TRAP_V2C_LINK_DOWN));
}

#[test]
fn an_inform_with_every_unsigned_type_decodes_and_encodes_back() {
    let message = community(fixtures::INFORM_V2C_VALUES);
    let inform = pdu(&message);
    assert_eq!(inform.pdu_type, PduType::Inform);
    let expected = [
        varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(12_345)),
        trap_oid(LINK_UP),
        varbind("1.3.6.1.2.1.2.2.1.1.3", Value::Integer(3)),
        varbind("1.3.6.1.2.1.31.1.1.1.6.3", Value::Counter32(u32::MAX)),
        varbind("1.3.6.1.2.1.4.20.1.1.10.0.0.1", Value::IpAddress([10, 0, 0, 1])),
        varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(u32::MAX)),
        varbind("1.3.6.1.2.1.2.2.1.5.3", Value::Gauge32(1_000_000_000)),
        varbind("1.3.6.1.2.1.2.2.1.10.3", Value::Counter32(u32::MAX)),
    ];
    assert_eq!(inform.varbinds, expected);
    assert_eq!(message.encode(), hex(fixtures::INFORM_V2C_VALUES));
}

#[test]
fn a_v2c_inform_is_answered_as_snmptrapd_answers() {
    let message = community(fixtures::INFORM_V2C_LINK_DOWN);
    let inform = pdu(&message);
    assert_eq!(inform.pdu_type, PduType::Inform);
    assert_eq!(inform.varbinds, link_down_varbinds());
    let response = CommunityMessage::new(Version::V2c, &message.community, Pdu::response_to(inform));
    assert_eq!(response.encode(), hex(fixtures::INFORM_RESPONSE_V2C));
}

#[test]
fn community_requests_encode_as_net_snmp_encodes_them() {
    let get = Pdu::get(0x1dcf_0739, &[oid("1.3.6.1.2.1.1.1.0")]);
    let message = CommunityMessage::new(Version::V2c, b"public", get);
    assert_eq!(message.encode(), hex(fixtures::GET_SYS_DESCR_V2C));
    let names = [
        oid("1.3.6.1.2.1.1.3"),
        oid("1.3.6.1.2.1.2.2.1.2"),
        oid("1.3.6.1.2.1.31.1.1.1.6"),
    ];
    let bulk = Pdu::get_bulk(0x0015_0d3d, 1, 3, &names);
    let message = CommunityMessage::new(Version::V2c, b"public", bulk);
    assert_eq!(message.encode(), hex(fixtures::GET_BULK_V2C));
}

#[test]
fn community_responses_decode() {
    let description = community(fixtures::RESPONSE_SYS_DESCR_V2C);
    let text = Value::OctetString(b"semaphore test agent".to_vec());
    assert_eq!(pdu(&description).varbinds, [varbind("1.3.6.1.2.1.1.1.0", text)]);

    let missing = community(fixtures::RESPONSE_NO_SUCH_V2C);
    let missing = pdu(&missing);
    let values: Vec<&Value> = missing.varbinds.iter().map(|varbind| &varbind.value).collect();
    assert_eq!(values, [&Value::NoSuchInstance, &Value::NoSuchObject]);

    let end = community(fixtures::RESPONSE_END_OF_MIB_V2C);
    let end_of_view = varbind("1.3.6.1.9999", Value::EndOfMibView);
    assert_eq!(pdu(&end).varbinds, [end_of_view]);

    let bulk = community(fixtures::RESPONSE_BULK_V2C);
    let bulk = pdu(&bulk);
    assert_eq!(bulk.varbinds.len(), 7);
    let uptime = varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(947));
    assert_eq!(bulk.varbinds[0], uptime);
    let octets = varbind("1.3.6.1.2.1.31.1.1.1.6.1", Value::Counter64(8_194));
    assert_eq!(bulk.varbinds[2], octets);
    assert_eq!(bulk.varbinds[5].value.to_string(), "ifb1");

    let v1 = community(fixtures::RESPONSE_NO_SUCH_NAME_V1);
    assert_eq!(v1.version, Version::V1);
    let refused = pdu(&v1);
    assert_eq!(refused.error(), ErrorStatus::NoSuchName);
    assert_eq!(refused.error_index, 2);
}

#[test]
fn engine_discovery_is_what_net_snmp_does() {
    let request = usm::discovery_request(0x62d9_2205, 0x4021_daf2, MAX_SIZE);
    assert_eq!(request, hex(fixtures::DISCOVERY_REQUEST));
    let bytes = hex(fixtures::DISCOVERY_REPORT);
    let report = v3(&bytes);
    assert_eq!(report.header.msg_id, 0x62d9_2205);
    let parameters = usm::security_parameters(&report).expect("USM parameters");
    assert_eq!(parameters.engine_id, hex(fixtures::AGENT_ENGINE));
    assert_eq!((parameters.engine_boots, parameters.engine_time), (1, 12));
    let scoped_pdu = report.unauthenticated_scoped_pdu().expect("in the clear");
    let report_pdu = scoped_pdu.pdu.as_pdu().expect("a Report");
    let error = ReportError::from_pdu(report_pdu);
    assert_eq!(error, Some(ReportError::UnknownEngineId));
}

/// A request as net-snmp sent it: its msgID, request-id, salt and the agent's boots and time.
struct Sent {
    fixture: &'static str,
    user: UsmUser,
    msg_id: i32,
    engine_time: u32,
    salt: &'static str,
    pdu: Pdu,
}

#[test]
fn v3_requests_encode_as_net_snmp_encodes_them() {
    let carol = user(
        "carol",
        Some((AuthProtocol::Sha256, "authpassword2")),
        Some((PrivProtocol::Aes256, "privpassword2")),
    );
    let dave = user(
        "dave",
        Some((AuthProtocol::Sha512, "authpassword3")),
        Some((PrivProtocol::Aes192, "privpassword3")),
    );
    let alice = user(
        "alice",
        Some((AuthProtocol::Md5, "maplesyrup")),
        Some((PrivProtocol::Des, "maplesyrup")),
    );
    let sent = [
        Sent {
            fixture: fixtures::GET_V3_SHA_AES,
            user: bob(),
            msg_id: 0x62d9_2204,
            engine_time: 12,
            salt: "256bcbafc3de3819",
            pdu: Pdu::get(0x4021_daf1, &[oid("1.3.6.1.2.1.1.5.0")]),
        },
        Sent {
            fixture: fixtures::GET_V3_MD5_DES,
            user: alice,
            msg_id: 0x6a24_7b73,
            engine_time: 13,
            salt: "0000000d4525ac3f",
            pdu: Pdu::get(0x64ff_a22e, &[oid("1.3.6.1.2.1.1.5.0")]),
        },
        Sent {
            fixture: fixtures::GET_BULK_V3_SHA256_AES256,
            user: carol,
            msg_id: 0x4015_8e44,
            engine_time: 13,
            salt: "904636d3699841e7",
            pdu: Pdu::get_bulk(0x3e02_8ff0, 0, 2, &[oid("1.3.6.1.2.1.31.1.1.1.6")]),
        },
        Sent {
            fixture: fixtures::GET_V3_SHA512_AES192,
            user: dave,
            msg_id: 0x1c51_9c4b,
            engine_time: 13,
            salt: "4ad6a6e6bd99cd13",
            pdu: Pdu::get(0x6b1f_ef18, &[oid("1.3.6.1.2.1.1.3.0")]),
        },
    ];
    let engine = hex(fixtures::AGENT_ENGINE);
    for request in sent {
        let header = HeaderData::new(request.msg_id, MAX_SIZE, SecurityLevel::AuthPriv, true);
        let scoped_pdu = ScopedPdu::new(&engine, request.pdu);
        let salt: [u8; 8] = hex(request.salt).try_into().expect("8 octets");
        let localized = request.user.localize(&engine);
        let encoded = usm::encode(&header, &localized, 1, request.engine_time, &scoped_pdu, salt);
        assert_eq!(encoded, Ok(hex(request.fixture)), "{}", request.salt);
        let opened = open(&hex(request.fixture), &request.user, fixtures::AGENT_ENGINE);
        assert_eq!(opened, Ok(scoped_pdu));
    }
}

#[test]
fn v3_responses_open_with_each_protocol() {
    let sys_name = varbind("1.3.6.1.2.1.1.5.0", Value::OctetString(b"lab-router-1".to_vec()));
    let engine = fixtures::AGENT_ENGINE;
    let bytes = hex(fixtures::RESPONSE_V3_SHA_AES);
    let response = open(&bytes, &bob(), engine).expect("bob's keys");
    assert_eq!(response.pdu.varbinds(), std::slice::from_ref(&sys_name));
    assert_eq!(response.context_engine_id, hex(engine));

    let alice = user(
        "alice",
        Some((AuthProtocol::Md5, "maplesyrup")),
        Some((PrivProtocol::Des, "maplesyrup")),
    );
    let bytes = hex(fixtures::RESPONSE_V3_MD5_DES);
    let response = open(&bytes, &alice, engine).expect("alice's keys");
    assert_eq!(response.pdu.varbinds(), [sys_name]);

    let carol = user(
        "carol",
        Some((AuthProtocol::Sha256, "authpassword2")),
        Some((PrivProtocol::Aes256, "privpassword2")),
    );
    let bytes = hex(fixtures::RESPONSE_V3_SHA256_AES256);
    let response = open(&bytes, &carol, engine).expect("carol's keys");
    let counters = [
        varbind("1.3.6.1.2.1.31.1.1.1.6.1", Value::Counter64(10_496)),
        varbind("1.3.6.1.2.1.31.1.1.1.6.2", Value::Counter64(0)),
    ];
    assert_eq!(response.pdu.varbinds(), counters);

    let dave = user(
        "dave",
        Some((AuthProtocol::Sha512, "authpassword3")),
        Some((PrivProtocol::Aes192, "privpassword3")),
    );
    let bytes = hex(fixtures::RESPONSE_V3_SHA512_AES192);
    let response = open(&bytes, &dave, engine).expect("dave's keys");
    let uptime = varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(1_302));
    assert_eq!(response.pdu.varbinds(), [uptime]);
}

#[test]
fn reports_name_the_agents_refusal() {
    let bytes = hex(fixtures::REPORT_UNKNOWN_USER_NAME);
    let report = v3(&bytes);
    let parameters = usm::security_parameters(&report).expect("USM parameters");
    assert_eq!(parameters.user_name, b"mallory");
    assert_eq!(report_error(&report), Some(ReportError::UnknownUserName));

    let bytes = hex(fixtures::REPORT_WRONG_DIGEST);
    assert_eq!(report_error(&v3(&bytes)), Some(ReportError::WrongDigest));

    // Signed with bob's key, so it opens, though bob is authPriv and the Report only authNoPriv.
    let bytes = hex(fixtures::REPORT_NOT_IN_TIME_WINDOW);
    let report = open(&bytes, &bob(), fixtures::AGENT_ENGINE).expect("bob's keys");
    let report_pdu = report.pdu.as_pdu().expect("a Report");
    let error = ReportError::from_pdu(report_pdu);
    assert_eq!(error, Some(ReportError::NotInTimeWindow));
    let parameters = usm::security_parameters(&v3(&bytes)).expect("USM parameters");
    assert_eq!((parameters.engine_boots, parameters.engine_time), (1, 16));
}

fn report_error(message: &V3Message<'_>) -> Option<ReportError> {
    let scoped_pdu = message.unauthenticated_scoped_pdu()?;
    ReportError::from_pdu(scoped_pdu.pdu.as_pdu()?)
}

#[test]
fn a_response_below_the_users_level_is_refused() {
    let bytes = hex(fixtures::RESPONSE_V3_AUTHORIZATION_ERROR);
    let engine = fixtures::AGENT_ENGINE;
    assert_eq!(
        open(&bytes, &bob(), engine),
        Err(UsmError::SecurityLevelTooLow {
            message: SecurityLevel::AuthNoPriv,
            user: SecurityLevel::AuthPriv,
        })
    );
    let bob_without_privacy = user("bob", Some((AuthProtocol::Sha1, "authpassword1")), None);
    let response = open(&bytes, &bob_without_privacy, engine).expect("bob's key");
    let response = response.pdu.as_pdu().expect("a Response");
    assert_eq!(response.error(), ErrorStatus::AuthorizationError);
}

/// A trap as net-snmp sent it: its user and level, its snmpTrapOID.0, and what follows that.
struct SentTrap {
    fixture: &'static str,
    user: UsmUser,
    level: SecurityLevel,
    trap_oid: &'static str,
    more: Vec<VarBind>,
}

fn sent_trap(fixture: &'static str, user: UsmUser, trap_oid: &'static str, more: Vec<VarBind>) -> SentTrap {
    let level = user.security_level();
    SentTrap {
        fixture,
        user,
        level,
        trap_oid,
        more,
    }
}

const COLD_START: &str = "1.3.6.1.6.3.1.1.5.1";
const WARM_START: &str = "1.3.6.1.6.3.1.1.5.2";

fn if_index_7() -> Vec<VarBind> {
    vec![varbind("1.3.6.1.2.1.2.2.1.1.7", Value::Integer(7))]
}

fn sent_traps() -> Vec<SentTrap> {
    let alice = user(
        "alice",
        Some((AuthProtocol::Md5, "maplesyrup")),
        Some((PrivProtocol::Des, "maplesyrup")),
    );
    let carol = user(
        "carol",
        Some((AuthProtocol::Sha256, "authpassword2")),
        Some((PrivProtocol::Aes256, "privpassword2")),
    );
    let dave = user(
        "dave",
        Some((AuthProtocol::Sha1, "authpassword3")),
        Some((PrivProtocol::Aes192, "privpassword3")),
    );
    let erin = user(
        "erin",
        Some((AuthProtocol::Md5, "authpassword4")),
        Some((PrivProtocol::Aes256, "privpassword4")),
    );
    let frank = user(
        "frank",
        Some((AuthProtocol::Sha512, "authpassword5")),
        Some((PrivProtocol::Aes128, "privpassword5")),
    );
    let grace = user("grace", Some((AuthProtocol::Sha224, "authpassword6")), None);
    let heidi = user(
        "heidi",
        Some((AuthProtocol::Sha384, "authpassword7")),
        Some((PrivProtocol::Aes192, "privpassword7")),
    );
    let ivan = user("ivan", None, None);
    let system_name = varbind("1.3.6.1.2.1.1.5.0", Value::OctetString(b"core-sw1".to_vec()));
    vec![
        sent_trap(fixtures::TRAP_V3_MD5_DES, alice, COLD_START, vec![system_name]),
        sent_trap(fixtures::TRAP_V3_SHA_AES, bob(), LINK_DOWN, if_index_7()),
        sent_trap(fixtures::TRAP_V3_SHA256_AES256, carol, LINK_UP, if_index_7()),
        sent_trap(fixtures::TRAP_V3_SHA_AES192, dave, LINK_UP, if_index_7()),
        sent_trap(fixtures::TRAP_V3_MD5_AES256, erin, LINK_UP, if_index_7()),
        sent_trap(fixtures::TRAP_V3_SHA512_AES, frank, COLD_START, Vec::new()),
        sent_trap(
            fixtures::TRAP_V3_SHA224_AUTH_NO_PRIV,
            grace,
            WARM_START,
            Vec::new(),
        ),
        sent_trap(fixtures::TRAP_V3_SHA384_AES192, heidi, WARM_START, Vec::new()),
        sent_trap(fixtures::TRAP_V3_NO_AUTH, ivan, WARM_START, Vec::new()),
    ]
}

#[test]
fn v3_traps_of_every_protocol_open() {
    for trap in sent_traps() {
        let bytes = hex(trap.fixture);
        assert_eq!(v3(&bytes).header.security_level, trap.level, "{}", trap.trap_oid);
        let scoped_pdu = open(&bytes, &trap.user, fixtures::TRAP_ENGINE).expect("keys");
        let pdu = scoped_pdu.pdu.as_pdu().expect("an SNMPv2-Trap");
        assert_eq!(pdu.pdu_type, PduType::TrapV2);
        let mut expected = vec![
            varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(42)),
            trap_oid(trap.trap_oid),
        ];
        expected.extend(trap.more);
        assert_eq!(pdu.varbinds, expected, "{}", trap.trap_oid);
    }
}

#[test]
fn v3_traps_refuse_wrong_pass_phrases() {
    let wrong_auth = user(
        "bob",
        Some((AuthProtocol::Sha1, "authpassword9")),
        Some((PrivProtocol::Aes128, "privpassword1")),
    );
    let bytes = hex(fixtures::TRAP_V3_SHA_AES);
    let engine = fixtures::TRAP_ENGINE;
    assert_eq!(open(&bytes, &wrong_auth, engine), Err(UsmError::WrongDigest));
    let wrong_privacy = user(
        "bob",
        Some((AuthProtocol::Sha1, "authpassword1")),
        Some((PrivProtocol::Aes128, "privpassword9")),
    );
    let refused = open(&bytes, &wrong_privacy, engine);
    assert!(
        matches!(refused, Err(UsmError::UndecryptableScopedPdu(_))),
        "{refused:?}"
    );
    let wrong_protocol = user("bob", Some((AuthProtocol::Sha256, "authpassword1")), None);
    assert_eq!(
        open(&bytes, &wrong_protocol, engine),
        Err(UsmError::UnsupportedSecurityLevel(SecurityLevel::AuthPriv))
    );
    let bytes = hex(fixtures::TRAP_V3_SHA224_AUTH_NO_PRIV);
    let wrong_protocol = user("grace", Some((AuthProtocol::Sha256, "authpassword6")), None);
    assert_eq!(
        open(&bytes, &wrong_protocol, engine),
        Err(UsmError::AuthenticationParametersLength {
            found: 16,
            expected: 24,
        })
    );
    assert_eq!(open(&bytes, &bob(), engine), Err(UsmError::UnknownUserName));
    let grace = user("grace", Some((AuthProtocol::Sha224, "authpassword6")), None);
    assert_eq!(
        open(&bytes, &grace, fixtures::AGENT_ENGINE),
        Err(UsmError::UnknownEngineId)
    );
}

#[test]
fn a_v3_inform_is_discovered_and_answered_as_snmptrapd_does() {
    let our_engine = hex(fixtures::RECEIVER_ENGINE);

    // The sender first asks for our engine ID; we answer with a Report, as snmptrapd does.
    let bytes = hex(fixtures::INFORM_DISCOVERY_REQUEST);
    let discovery = v3(&bytes);
    let asked = discovery.unauthenticated_scoped_pdu().expect("in the clear");
    let request_id = asked.pdu.as_pdu().expect("a GetRequest").request_id;
    let msg_id = discovery.header.msg_id;
    let header = HeaderData::new(msg_id, MAX_SIZE, SecurityLevel::NoAuthNoPriv, false);
    let counter = ReportError::UnknownEngineId.counter().expect("a counter");
    let report = ScopedPdu::new(&our_engine, Pdu::report(request_id, counter, 1));
    let anonymous = LocalizedUser::new(b"", &our_engine, None, None).expect("a user");
    let encoded = usm::encode(&header, &anonymous, 1, 1, &report, [0; 8]);
    assert_eq!(encoded, Ok(hex(fixtures::INFORM_DISCOVERY_REPORT)));

    // Then it sends the inform, which we acknowledge with a Response.
    let bytes = hex(fixtures::INFORM_V3_SHA_AES);
    let message = v3(&bytes);
    let inform = open(&bytes, &bob(), fixtures::RECEIVER_ENGINE).expect("keys");
    let inform_pdu = inform.pdu.as_pdu().expect("an InformRequest");
    assert_eq!(inform_pdu.pdu_type, PduType::Inform);
    let link = varbind("1.3.6.1.2.1.2.2.1.1.2", Value::Integer(2));
    assert_eq!(inform_pdu.varbinds[2], link);
    let header = HeaderData::new(message.header.msg_id, MAX_SIZE, SecurityLevel::AuthPriv, false);
    let response = ScopedPdu {
        context_engine_id: inform.context_engine_id.clone(),
        context_name: inform.context_name.clone(),
        pdu: Pdu::response_to(inform_pdu).into(),
    };
    let salt: [u8; 8] = hex("9db6103c5142bc3c").try_into().expect("8 octets");
    let encoded = usm::encode(&header, &bob().localize(&our_engine), 1, 1, &response, salt);
    assert_eq!(encoded, Ok(hex(fixtures::INFORM_RESPONSE_V3_SHA_AES)));
}
