//! What the trap source's tests share: a decoder that knows the users of net-snmp's captured traps and
//! informs (`wire::fixtures`), as snmptrapd knew them, with snmptrapd's engine as ours.

use std::net::SocketAddr;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use crate::secret::Secret;
use crate::sources::snmp::traps::decode::TrapDecoder;
use crate::sources::snmp::traps::engine::LocalEngine;
use crate::sources::snmp::traps::users::TrapUsers;
use crate::sources::snmp::wire::fixtures::{self, hex, user};
use crate::sources::snmp::wire::{AuthProtocol, PrivProtocol, Salts, UsmUser};

/// Where the decoder's salts start: the salt of snmptrapd's captured Response to bob's inform, so that ours
/// is the same, octet for octet.
pub const RECEIVER_SALT: u64 = 0x9db6_103c_5142_bc3c;

/// The sender of every test datagram.
pub fn sender() -> SocketAddr {
    "192.0.2.77:50162".parse().expect("an address")
}

pub fn received() -> DateTime<Utc> {
    "2026-12-04T09:30:00Z".parse().expect("a time")
}

/// Fails when `shown` (a `Debug` text) holds `community`, as text or as the octets a byte slice's `Debug`
/// lists.
pub fn assert_community_absent(shown: &str, community: &[u8]) {
    let octets = format!("{community:?}");
    let octets = octets.trim_start_matches('[').trim_end_matches(']');
    let text = String::from_utf8_lossy(community);
    assert!(!shown.contains(text.as_ref()), "the community as text: {shown}");
    assert!(!shown.contains(octets), "the community's octets: {shown}");
}

/// A decoder taking any community, with snmptrapd's engine (boots 1) and the fixtures' users.
pub fn decoder() -> TrapDecoder {
    decoder_of(None)
}

/// The same, taking only these communities.
pub fn decoder_with_communities(communities: &[&str]) -> TrapDecoder {
    decoder_of(Some(
        communities
            .iter()
            .map(|community| Secret::new(*community))
            .collect(),
    ))
}

fn decoder_of(communities: Option<Vec<Secret>>) -> TrapDecoder {
    let engine = LocalEngine {
        id: hex(fixtures::RECEIVER_ENGINE),
        boots: 1,
    };
    let users = TrapUsers::new(fixture_users().to_vec(), &engine.id);
    TrapDecoder::new(communities, users, engine, Salts::starting_at(RECEIVER_SALT))
}

/// The users the captured SNMPv3 traps and informs were sent as; their pass phrases digested once per test
/// binary (a megabyte of hashing each).
pub fn fixture_users() -> &'static [UsmUser] {
    static USERS: OnceLock<Vec<UsmUser>> = OnceLock::new();
    USERS.get_or_init(|| {
        vec![
            user(
                "alice",
                Some((AuthProtocol::Md5, "maplesyrup")),
                Some((PrivProtocol::Des, "maplesyrup")),
            ),
            user(
                "bob",
                Some((AuthProtocol::Sha1, "authpassword1")),
                Some((PrivProtocol::Aes128, "privpassword1")),
            ),
            user(
                "carol",
                Some((AuthProtocol::Sha256, "authpassword2")),
                Some((PrivProtocol::Aes256, "privpassword2")),
            ),
            user(
                "dave",
                Some((AuthProtocol::Sha1, "authpassword3")),
                Some((PrivProtocol::Aes192, "privpassword3")),
            ),
            user(
                "erin",
                Some((AuthProtocol::Md5, "authpassword4")),
                Some((PrivProtocol::Aes256, "privpassword4")),
            ),
            user(
                "frank",
                Some((AuthProtocol::Sha512, "authpassword5")),
                Some((PrivProtocol::Aes128, "privpassword5")),
            ),
            user("grace", Some((AuthProtocol::Sha224, "authpassword6")), None),
            user(
                "heidi",
                Some((AuthProtocol::Sha384, "authpassword7")),
                Some((PrivProtocol::Aes192, "privpassword7")),
            ),
            user("ivan", None, None),
        ]
    })
}
