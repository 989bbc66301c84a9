//! One datagram → what it is ([`TrapDecoder::decode`]): a trap, an inform with the Response that will
//! acknowledge it, a Report an SNMPv3 sender needs, or a refusal with its reason. No I/O and no clock (the
//! caller hands in the arrival time and our engine's time), so it is tested and fuzzed without a socket; its
//! only state is the bounded cache of localized keys and the Report counters.
//!
//! v1 and v2c: the community must be one of `communities_env` when that is set (any, when not); a Trap or
//! SNMPv2-Trap is a notification, an InformRequest a notification to acknowledge with the Response of
//! RFC 3416 §4.2.7 (same version, same community). SNMPv3 is `v3.rs`'s. Anything else (a GetRequest sent to
//! the trap port, a Response) is refused.

use std::fmt;
use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use crate::secret::Secret;
use crate::sources::snmp::traps::engine::LocalEngine;
use crate::sources::snmp::traps::error::TrapError;
use crate::sources::snmp::traps::notification::Notification;
use crate::sources::snmp::traps::report::ReportCounters;
use crate::sources::snmp::traps::users::TrapUsers;
use crate::sources::snmp::wire::{AnyPdu, CommunityMessage, Message, Pdu, PduType, Salts, SecurityLevel};

/// msgMaxSize of our messages: the largest UDP payload over IPv4, as net-snmp announces.
pub const MAX_MESSAGE_SIZE: i32 = 65_507;

/// One source's decoding: who may send, and our engine.
#[derive(Debug)]
pub struct TrapDecoder {
    /// `None`: any community.
    pub(super) communities: Option<Vec<Secret>>,
    pub(super) users: TrapUsers,
    pub(super) engine: LocalEngine,
    /// For the informs' Responses of authPriv users.
    pub(super) salts: Salts,
    pub(super) reports: ReportCounters,
}

/// One datagram as received. Its `Debug` shows the length of its bytes, never the bytes: a v1 or v2c message
/// carries its community in the clear.
#[derive(Clone, Copy)]
pub struct Datagram<'a> {
    pub bytes: &'a [u8],
    pub sender: SocketAddr,
    pub received_at: DateTime<Utc>,
    /// snmpEngineTime of our engine: seconds since the source started.
    pub engine_time: u32,
}

/// What one datagram comes to: exactly one of these. Its `Debug` shows the length of a Response or Report,
/// never its bytes: a v1 or v2c Response repeats the inform's community in the clear.
#[derive(Clone, PartialEq)]
pub enum Outcome {
    /// A trap: its record goes to the outputs (through the spool while Kafka is away).
    Trap(Notification),
    /// An inform: its record goes to Kafka, and `response` back to the sender once Kafka has it.
    Inform {
        notification: Notification,
        response: Vec<u8>,
    },
    /// An SNMPv3 sender learning our engine ID, boots and time: `report` goes back at once.
    Discovery { report: Vec<u8> },
    /// Refused and counted; `report`, when the sender asked for one, goes back at once.
    Refused {
        error: TrapError,
        report: Option<Vec<u8>>,
    },
}

impl Outcome {
    pub(super) fn refused(error: TrapError) -> Self {
        Outcome::Refused { error, report: None }
    }

    /// A trap, or an inform when it has a response.
    pub(super) fn notification(notification: Notification, response: Option<Vec<u8>>) -> Self {
        match response {
            Some(response) => Outcome::Inform {
                notification,
                response,
            },
            None => Outcome::Trap(notification),
        }
    }
}

impl fmt::Debug for Datagram<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Datagram")
            .field("bytes", &Length(self.bytes.len()))
            .field("sender", &self.sender)
            .field("received_at", &self.received_at)
            .field("engine_time", &self.engine_time)
            .finish()
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Trap(notification) => formatter.debug_tuple("Trap").field(notification).finish(),
            Outcome::Inform {
                notification,
                response,
            } => formatter
                .debug_struct("Inform")
                .field("notification", notification)
                .field("response", &Length(response.len()))
                .finish(),
            Outcome::Discovery { report } => formatter
                .debug_struct("Discovery")
                .field("report", &Length(report.len()))
                .finish(),
            Outcome::Refused { error, report } => formatter
                .debug_struct("Refused")
                .field("error", error)
                .field("report", &report.as_ref().map(|report| Length(report.len())))
                .finish(),
        }
    }
}

/// Encoded bytes in a `Debug`: how many, not what.
pub(super) struct Length(pub(super) usize);

impl fmt::Debug for Length {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "<{} bytes>", self.0)
    }
}

impl TrapDecoder {
    pub fn new(
        communities: Option<Vec<Secret>>,
        users: TrapUsers,
        engine: LocalEngine,
        salts: Salts,
    ) -> Self {
        Self {
            communities,
            users,
            engine,
            salts,
            reports: ReportCounters::default(),
        }
    }

    pub fn engine(&self) -> &LocalEngine {
        &self.engine
    }

    pub fn decode(&self, datagram: &Datagram<'_>) -> Outcome {
        match Message::decode(datagram.bytes) {
            Ok(Message::Community(message)) => self.community_message(message, datagram),
            Ok(Message::V3(message)) => self.v3_message(&message, datagram),
            Err(error) => Outcome::refused(TrapError::Malformed(error)),
        }
    }

    fn community_message(&self, message: CommunityMessage, datagram: &Datagram<'_>) -> Outcome {
        if !self.community_allowed(&message.community) {
            return Outcome::refused(TrapError::BadCommunity);
        }
        let response = match &message.pdu {
            AnyPdu::TrapV1(_) => None,
            AnyPdu::Pdu(pdu) if pdu.pdu_type == PduType::TrapV2 => None,
            AnyPdu::Pdu(pdu) if pdu.pdu_type == PduType::Inform => {
                let response = Pdu::response_to(pdu);
                Some(CommunityMessage::new(message.version, &message.community, response).encode())
            }
            AnyPdu::Pdu(pdu) => return Outcome::refused(TrapError::UnexpectedPdu(pdu.pdu_type)),
        };
        let notification = Notification {
            sender: datagram.sender,
            received_at: datagram.received_at,
            version: message.version,
            security_name: None,
            context_name: None,
            pdu: message.pdu,
        };
        Outcome::notification(notification, response)
    }

    fn community_allowed(&self, community: &[u8]) -> bool {
        match &self.communities {
            None => true,
            Some(allowed) => allowed
                .iter()
                .any(|secret| secret.expose().as_bytes() == community),
        }
    }

    /// A salt for a message at `level`: a new one when it is encrypted, none used otherwise.
    pub(super) fn salt(&self, level: SecurityLevel) -> [u8; 8] {
        if level.has_privacy() {
            self.salts.next_salt()
        } else {
            [0; 8]
        }
    }
}

/// A name or context as text; SNMP's are octets, and mostly ASCII.
pub(super) fn text(octets: &[u8]) -> String {
    String::from_utf8_lossy(octets).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::traps::test_support::{
        assert_community_absent, decoder, decoder_with_communities, received, sender,
    };
    use crate::sources::snmp::wire::fixtures::{self, hex};
    use crate::sources::snmp::wire::{DecodeErrorKind, GenericTrap, Version};

    fn decode(decoder: &TrapDecoder, bytes: &[u8]) -> Outcome {
        decoder.decode(&Datagram {
            bytes,
            sender: sender(),
            received_at: received(),
            engine_time: 1,
        })
    }

    #[test]
    fn a_v1_trap_is_a_notification() {
        let Outcome::Trap(notification) = decode(&decoder(), &hex(fixtures::TRAP_V1)) else {
            panic!("a trap");
        };
        assert_eq!(notification.version, Version::V1);
        assert_eq!(notification.sender, sender());
        assert_eq!(notification.security_name, None);
        let AnyPdu::TrapV1(trap) = &notification.pdu else {
            panic!("a v1 Trap-PDU");
        };
        assert_eq!(trap.generic_trap, GenericTrap::EnterpriseSpecific);
    }

    #[test]
    fn a_v2c_trap_is_a_notification_and_an_inform_has_its_response() {
        let trap = decode(&decoder(), &hex(fixtures::TRAP_V2C_LINK_DOWN));
        assert!(matches!(&trap, Outcome::Trap(notification) if notification.version == Version::V2c));
        let Outcome::Inform {
            notification,
            response,
        } = decode(&decoder(), &hex(fixtures::INFORM_V2C_LINK_DOWN))
        else {
            panic!("an inform");
        };
        assert_eq!(notification.pdu.pdu_type(), PduType::Inform);
        // What snmptrapd answered, octet for octet.
        assert_eq!(response, hex(fixtures::INFORM_RESPONSE_V2C));
    }

    /// The community of a v2c inform is in its datagram and its Response, never in their `Debug`.
    #[test]
    fn debug_never_shows_the_community() {
        let bytes = hex(fixtures::INFORM_V2C_LINK_DOWN);
        let community: &[u8] = b"public";
        assert!(bytes.windows(community.len()).any(|window| window == community));
        let datagram = Datagram {
            bytes: &bytes,
            sender: sender(),
            received_at: received(),
            engine_time: 1,
        };
        let outcome = decoder().decode(&datagram);
        let Outcome::Inform { response, .. } = &outcome else {
            panic!("an inform");
        };
        let refused = Outcome::Refused {
            error: TrapError::BadCommunity,
            report: Some(response.clone()),
        };
        let discovery = Outcome::Discovery {
            report: response.clone(),
        };
        for shown in [
            format!("{datagram:?}"),
            format!("{outcome:?}"),
            format!("{refused:?}"),
            format!("{discovery:?}"),
        ] {
            assert_community_absent(&shown, community);
        }
        assert!(format!("{outcome:?}").contains(&format!("<{} bytes>", response.len())));
    }

    #[test]
    fn communities_are_checked_when_configured() {
        let strict = decoder_with_communities(&["private", "other"]);
        assert_eq!(
            decode(&strict, &hex(fixtures::TRAP_V2C_LINK_DOWN)),
            Outcome::refused(TrapError::BadCommunity)
        );
        assert_eq!(
            decode(&strict, &hex(fixtures::INFORM_V2C_LINK_DOWN)),
            Outcome::refused(TrapError::BadCommunity)
        );
        let public = decoder_with_communities(&["other", "public"]);
        assert!(matches!(
            decode(&public, &hex(fixtures::TRAP_V1)),
            Outcome::Trap(_)
        ));
    }

    #[test]
    fn requests_and_garbage_are_refused() {
        assert_eq!(
            decode(&decoder(), &hex(fixtures::GET_SYS_DESCR_V2C)),
            Outcome::refused(TrapError::UnexpectedPdu(PduType::Get))
        );
        assert_eq!(
            decode(&decoder(), &hex(fixtures::RESPONSE_SYS_DESCR_V2C)),
            Outcome::refused(TrapError::UnexpectedPdu(PduType::Response))
        );
        let Outcome::Refused {
            error: TrapError::Malformed(error),
            report: None,
        } = decode(&decoder(), b"")
        else {
            panic!("malformed");
        };
        assert_eq!(error.kind, DecodeErrorKind::Truncated);
        let cut = hex(fixtures::TRAP_V1);
        let outcome = decode(&decoder(), &cut[..cut.len() - 1]);
        assert!(
            matches!(
                &outcome,
                Outcome::Refused {
                    error: TrapError::Malformed(_),
                    report: None
                }
            ),
            "{outcome:?}"
        );
    }
}
