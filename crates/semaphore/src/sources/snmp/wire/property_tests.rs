//! Property tests without a property-testing crate: a fixed-seed xorshift generator makes inputs, and every
//! one must decode (or fail to) without panicking. The inputs are random bytes and net-snmp's captured
//! packets mutated, cut short and spliced; whatever decodes must encode back to itself, and every SNMPv3
//! message goes through USM with the users of its engine, as a trap receiver would. Generated messages of
//! every PDU and value type, and of every security protocol, must round-trip. A fixed seed makes a failure
//! reproducible: the assertion prints the input.

use std::collections::HashMap;

use crate::sources::snmp::wire::auth::AuthProtocol;
use crate::sources::snmp::wire::ber::Reader;
use crate::sources::snmp::wire::fixtures::{self, hex, user};
use crate::sources::snmp::wire::keys::LocalizedKey;
use crate::sources::snmp::wire::message::{CommunityMessage, Message, Version};
use crate::sources::snmp::wire::oid::Oid;
use crate::sources::snmp::wire::pdu::{AnyPdu, GenericTrap, Pdu, PduType, TrapV1Pdu, VarBind};
use crate::sources::snmp::wire::privacy::{PrivKey, PrivProtocol};
use crate::sources::snmp::wire::user::LocalizedUser;
use crate::sources::snmp::wire::usm;
use crate::sources::snmp::wire::v3::{HeaderData, ScopedPdu, V3Message};
use crate::sources::snmp::wire::value::Value;

const CASES: usize = 200_000;

/// The users a receiver knows, by name and engine ID.
type Users = HashMap<(Vec<u8>, Vec<u8>), LocalizedUser>;

/// SNMPv1's PDUs but its Trap.
const V1_TYPES: [PduType; 4] = [PduType::Get, PduType::GetNext, PduType::Response, PduType::Set];
const GENERATED_CASES: usize = 20_000;

/// Any value but zero, from which xorshift never moves.
pub(crate) const SEED: u64 = 0x5EED_CAFE_F00D_0014;

/// The longest random input.
const MAX_RANDOM_LENGTH: usize = 300;

/// Octets that lead the decoders into their branches more often than uniform ones would: tags of every type
/// and PDU, long-form length octets, and the values at the edges of integers.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x30, 0x40, 0x41, 0x42, 0x43, 0x44, 0x46, 0x47, 0x7f,
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xff,
];

/// Marsaglia's xorshift64: fast, deterministic, good enough to pick inputs.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut state = self.0;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        self.0 = state;
        state
    }

    /// A number below `bound` (0 when `bound` is 0).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub(crate) fn byte(&mut self) -> u8 {
        if self.next_u64().is_multiple_of(2) {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next_u64() as u8
        }
    }

    pub(crate) fn bytes(&mut self, max_length: usize) -> Vec<u8> {
        let length = self.below(max_length + 1);
        (0..length).map(|_| self.byte()).collect()
    }

    pub(crate) fn u32(&mut self) -> u32 {
        match self.below(4) {
            0 => self.below(4) as u32,
            1 => u32::MAX - self.below(4) as u32,
            _ => self.next_u64() as u32,
        }
    }
}

/// Every captured packet.
pub(crate) fn captured() -> Vec<Vec<u8>> {
    fixtures::ALL.into_iter().map(hex).collect()
}

/// The fixtures' users, by name and engine ID, as a receiver would look them up.
fn users() -> Users {
    let alice = user(
        "alice",
        Some((AuthProtocol::Md5, "maplesyrup")),
        Some((PrivProtocol::Des, "maplesyrup")),
    );
    let bob = user(
        "bob",
        Some((AuthProtocol::Sha1, "authpassword1")),
        Some((PrivProtocol::Aes128, "privpassword1")),
    );
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
    let grace = user("grace", Some((AuthProtocol::Sha224, "authpassword6")), None);
    let ivan = user("ivan", None, None);
    let agent = hex(fixtures::AGENT_ENGINE);
    let trap_sender = hex(fixtures::TRAP_ENGINE);
    let receiver = hex(fixtures::RECEIVER_ENGINE);
    let pairs = [
        (&alice, &agent),
        (&bob, &agent),
        (&carol, &agent),
        (&dave, &agent),
        (&alice, &trap_sender),
        (&bob, &trap_sender),
        (&carol, &trap_sender),
        (&grace, &trap_sender),
        (&ivan, &trap_sender),
        (&bob, &receiver),
    ];
    let mut users = HashMap::new();
    for (user, engine) in pairs {
        users.insert((user.name().to_vec(), engine.clone()), user.localize(engine));
    }
    users
}

/// Random bytes, or a captured packet mutated, cut short or spliced with another.
pub(crate) fn input(random: &mut XorShift, captured: &[Vec<u8>]) -> Vec<u8> {
    let packet = &captured[random.below(captured.len())];
    match random.below(5) {
        0 => random.bytes(MAX_RANDOM_LENGTH),
        1 | 2 => mutated(random, packet),
        3 => packet[..random.below(packet.len() + 1)].to_vec(),
        _ => {
            let other = &captured[random.below(captured.len())];
            let mut spliced = packet[..random.below(packet.len() + 1)].to_vec();
            spliced.extend_from_slice(&other[random.below(other.len() + 1)..]);
            spliced
        }
    }
}

/// The packet with one to eight octets replaced, inserted, removed or with a bit flipped.
fn mutated(random: &mut XorShift, packet: &[u8]) -> Vec<u8> {
    let mut bytes = packet.to_vec();
    for _ in 0..=random.below(8) {
        let index = random.below(bytes.len() + 1);
        match random.below(4) {
            0 if index < bytes.len() => bytes[index] = random.byte(),
            1 => bytes.insert(index, random.byte()),
            2 if index < bytes.len() => {
                bytes.remove(index);
            }
            3 if index < bytes.len() => bytes[index] ^= 1 << random.below(8),
            _ => bytes.push(random.byte()),
        }
    }
    bytes
}

#[test]
fn any_input_decodes_or_fails_without_panicking() {
    let captured = captured();
    let users = users();
    let mut random = XorShift(SEED);
    for _ in 0..CASES {
        let bytes = input(&mut random, &captured);
        match Message::decode(&bytes) {
            Ok(Message::Community(message)) => check_community(&bytes, &message),
            Ok(Message::V3(message)) => check_v3(&bytes, &message, &users),
            Err(_) => {}
        }
        check_pieces(&bytes);
    }
}

/// A decoded community message encodes to bytes that decode to it again, and its values show as text
/// without control characters.
fn check_community(bytes: &[u8], message: &CommunityMessage) {
    let encoded = message.encode();
    match Message::decode(&encoded) {
        Ok(Message::Community(again)) => assert_eq!(&again, message, "{bytes:02x?}"),
        other => panic!("{bytes:02x?} re-encoded as {other:?}"),
    }
    for varbind in message.pdu.varbinds() {
        let shown = varbind.value.to_string();
        assert!(shown.chars().all(is_shown), "{shown:?} from {bytes:02x?}");
    }
}

/// What a value's text may hold: no control characters but tabs and line breaks.
fn is_shown(character: char) -> bool {
    !character.is_control() || matches!(character, '\t' | '\n' | '\r')
}

/// An SNMPv3 message goes through USM with its engine's user of its name, as a receiver would; what opens
/// re-encodes to itself.
fn check_v3(bytes: &[u8], message: &V3Message<'_>, users: &Users) {
    let _ = message.unauthenticated_scoped_pdu();
    let Ok(parameters) = usm::security_parameters(message) else {
        return;
    };
    let key = (parameters.user_name.clone(), parameters.engine_id.clone());
    let Some(user) = users.get(&key) else {
        return;
    };
    if let Ok(scoped_pdu) = usm::open(message, &parameters, user) {
        let again = ScopedPdu::decode_padded(&scoped_pdu.encode());
        assert_eq!(again, Ok(scoped_pdu), "{bytes:02x?}");
    }
}

/// The decoders below the message, on the same bytes.
fn check_pieces(bytes: &[u8]) {
    let _ = ScopedPdu::decode_padded(bytes);
    let _ = Oid::decode(bytes);
    if let Ok(tlv) = Reader::new(bytes).read("any") {
        let _ = Value::decode(tlv).map(|value| value.to_string());
        let _ = AnyPdu::decode(tlv);
    }
}

#[test]
fn random_ciphertexts_decrypt_without_panicking() {
    let localized = LocalizedKey::from_octets(AuthProtocol::Md5, &[7; 16]);
    let localized = localized.expect("16 octets");
    let mut random = XorShift(SEED ^ 1);
    for protocol in PrivProtocol::ALL {
        let key = PrivKey::new(protocol, &localized, b"engine");
        for _ in 0..2_000 {
            let ciphertext = random.bytes(100);
            let salt = random.bytes(10);
            let decrypted = key.decrypt(&ciphertext, random.u32(), random.u32(), &salt);
            if let Ok(plaintext) = decrypted {
                assert_eq!(plaintext.len(), ciphertext.len());
                let _ = ScopedPdu::decode_padded(&plaintext);
            }
        }
    }
}

/// An object identifier within X.660's rules: 0.x or 1.x with x below 40, or 2.x; then up to ten arcs.
fn random_oid(random: &mut XorShift) -> Oid {
    let first = random.below(3) as u32;
    let second = if first < 2 {
        random.below(40) as u32
    } else {
        random.u32().min(u32::MAX - 80)
    };
    let mut arcs = vec![first, second];
    for _ in 0..random.below(11) {
        arcs.push(random.u32());
    }
    Oid::new(&arcs).expect("arcs within X.660")
}

fn random_value(random: &mut XorShift) -> Value {
    match random.below(14) {
        0 => Value::Integer(random.u32() as i32),
        1 => Value::OctetString(random.bytes(40)),
        2 => Value::Null,
        3 => Value::ObjectIdentifier(random_oid(random)),
        4 => Value::IpAddress(random.u32().to_be_bytes()),
        5 => Value::Counter32(random.u32()),
        6 => Value::Gauge32(random.u32()),
        7 => Value::TimeTicks(random.u32()),
        8 => Value::Opaque(random.bytes(10)),
        9 => Value::Counter64(random.next_u64()),
        10 => Value::NoSuchObject,
        11 => Value::NoSuchInstance,
        12 => Value::EndOfMibView,
        _ => Value::Unknown {
            tag: 0x47,
            content: random.bytes(5),
        },
    }
}

fn random_varbinds(random: &mut XorShift) -> Vec<VarBind> {
    let count = random.below(6);
    (0..count)
        .map(|_| VarBind::new(random_oid(random), random_value(random)))
        .collect()
}

/// A PDU SNMPv2c and SNMPv3 carry.
fn random_pdu(random: &mut XorShift) -> Pdu {
    let types = [
        PduType::Get,
        PduType::GetNext,
        PduType::Response,
        PduType::Set,
        PduType::GetBulk,
        PduType::Inform,
        PduType::TrapV2,
        PduType::Report,
    ];
    let pdu_type = types[random.below(types.len())];
    let mut pdu = Pdu::new(pdu_type, random.u32() as i32, random_varbinds(random));
    if pdu_type == PduType::GetBulk {
        pdu.error_status = random.below(10) as i32;
        pdu.error_index = random.below(100) as i32;
    } else if random.chance(3) {
        pdu.error_status = random.below(19) as i32;
        pdu.error_index = random.below(6) as i32;
    }
    pdu
}

fn random_trap_v1(random: &mut XorShift) -> TrapV1Pdu {
    let generic = GenericTrap::from_code(random.below(7) as i32).expect("0 to 6");
    TrapV1Pdu {
        enterprise: random_oid(random),
        agent_address: random.u32().to_be_bytes(),
        generic_trap: generic,
        specific_trap: (random.u32() >> 1) as i32,
        time_stamp: random.u32(),
        varbinds: random_varbinds(random),
    }
}

#[test]
fn generated_community_messages_round_trip() {
    let mut random = XorShift(SEED ^ 2);
    for _ in 0..GENERATED_CASES {
        let community = random.bytes(20);
        let message = if random.chance(3) {
            let pdu: AnyPdu = if random.chance(2) {
                random_trap_v1(&mut random).into()
            } else {
                let mut pdu = random_pdu(&mut random);
                pdu.pdu_type = V1_TYPES[random.below(V1_TYPES.len())];
                pdu.into()
            };
            CommunityMessage::new(Version::V1, &community, pdu)
        } else {
            CommunityMessage::new(Version::V2c, &community, random_pdu(&mut random))
        };
        let bytes = message.encode();
        match Message::decode(&bytes) {
            Ok(Message::Community(decoded)) => assert_eq!(decoded, message, "{bytes:02x?}"),
            other => panic!("{message:?} decoded as {other:?}"),
        }
    }
}

#[test]
fn generated_v3_messages_round_trip_with_every_protocol() {
    let mut random = XorShift(SEED ^ 3);
    let engine = b"\x80\x00\x1f\x88\x04generated";
    let anonymous = LocalizedUser::new(b"anonymous", engine, None, None);
    let mut users = vec![anonymous.expect("a user")];
    for auth in AuthProtocol::ALL {
        let octets = vec![0x5a; auth.digest_len()];
        let key = LocalizedKey::from_octets(auth, &octets).expect("its length");
        let signer = LocalizedUser::new(b"signer", engine, Some(key.clone()), None);
        users.push(signer.expect("a user"));
        for protocol in PrivProtocol::ALL {
            let privacy = PrivKey::new(protocol, &key, engine);
            let sealer = LocalizedUser::new(b"sealer", engine, Some(key.clone()), Some(privacy));
            users.push(sealer.expect("a user"));
        }
    }
    for case in 0..GENERATED_CASES {
        let user = &users[case % users.len()];
        let level = user.security_level();
        let header = HeaderData::new((random.u32() >> 1) as i32, 65_507, level, random.chance(2));
        let scoped_pdu = ScopedPdu {
            context_engine_id: random.bytes(32),
            context_name: random.bytes(10),
            pdu: random_pdu(&mut random).into(),
        };
        let salt = random.next_u64().to_be_bytes();
        let (boots, time) = (random.u32() >> 1, random.u32() >> 1);
        let encoded = usm::encode(&header, user, boots, time, &scoped_pdu, salt);
        let bytes = encoded.expect("the user's level");
        let message = match Message::decode(&bytes) {
            Ok(Message::V3(message)) => message,
            other => panic!("{bytes:02x?} decoded as {other:?}"),
        };
        assert_eq!(message.header, header);
        let parameters = usm::security_parameters(&message).expect("USM parameters");
        assert_eq!((parameters.engine_boots, parameters.engine_time), (boots, time));
        let opened = usm::open(&message, &parameters, user);
        assert_eq!(opened, Ok(scoped_pdu), "{user:?}");
    }
}

#[test]
fn deep_and_long_inputs_decode() {
    // Constructed values nest no deeper than SNMP's shape: a value that is a SEQUENCE is refused, not read.
    let mut nested = vec![0x05_u8, 0x00];
    for _ in 0..1_000 {
        let length = (nested.len() as u32).to_be_bytes();
        nested = [&[0x30_u8, 0x84][..], &length[..], &nested[..]].concat();
    }
    let mut reader = Reader::new(&nested);
    let tlv = reader.read("value").expect("one element");
    assert!(Value::decode(tlv).is_err());

    // 7,000 variable bindings: a list longer than 65,535 octets, so a three-octet length.
    let many_varbinds: Vec<VarBind> = (0..7_000).map(numbered).collect();
    let pdu = Pdu::new(PduType::Get, 1, many_varbinds);
    let message = CommunityMessage::new(Version::V2c, b"public", pdu);
    let bytes = message.encode();
    assert!(bytes.len() > 65_536);
    let decoded = Message::decode(&bytes).expect("a message");
    assert_eq!(decoded, Message::Community(message));

    // A sub-identifier that never ends is refused once it passes 32 bits.
    let endless = [0x81_u8; 4_096];
    assert!(Oid::decode(&endless).is_err());
}

/// 1.3.6.`index`, asked for.
fn numbered(index: u32) -> VarBind {
    VarBind::null(Oid::new(&[1, 3, 6, index]).expect("an OID"))
}
