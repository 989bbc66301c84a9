//! Engine-ID discovery (RFC 3414 §4): an anonymous, reportable, empty GetRequest, which the agent answers
//! with a Report (usmStatsUnknownEngineIDs) whose security parameters carry its engine ID, boots and time.
//! Nothing authenticates that Report; the first authenticated answer confirms it.

use crate::sources::snmp::client::engine::{Discovered, MAX_SIZE};
use crate::sources::snmp::client::error::PollErrorKind;
use crate::sources::snmp::client::exchange::{Conversation, Verdict};
use crate::sources::snmp::client::ids::IdRange;
use crate::sources::snmp::wire::{DecodeError, DecodeErrorKind, Message, PduType, V3Message, usm};

pub(super) struct Discovery;

impl Conversation for Discovery {
    type Answer = Discovered;

    fn request(&mut self, id: i32) -> Result<Vec<u8>, PollErrorKind> {
        Ok(usm::discovery_request(id, id, MAX_SIZE))
    }

    fn answer(&mut self, datagram: &[u8], sent: &IdRange) -> Verdict<Discovered> {
        let message = match Message::decode(datagram) {
            Ok(Message::V3(message)) => message,
            Ok(Message::Community(_)) => return Verdict::Skip,
            Err(error) => return Verdict::Reject(PollErrorKind::Malformed(error)),
        };
        if !sent.contains(message.header.msg_id) || !is_report(&message) {
            return Verdict::Skip;
        }
        let parameters = match usm::security_parameters(&message) {
            Ok(parameters) => parameters,
            Err(error) => return Verdict::Reject(error.into()),
        };
        if parameters.engine_id.is_empty() {
            let empty = DecodeError::new("msgAuthoritativeEngineID", DecodeErrorKind::Empty);
            return Verdict::Reject(PollErrorKind::Malformed(empty));
        }
        Verdict::Accept(Discovered {
            engine_id: parameters.engine_id,
            boots: parameters.engine_boots,
            time: parameters.engine_time,
        })
    }
}

/// Whether the message is an unauthenticated Report, as discovery's answer is.
fn is_report(message: &V3Message<'_>) -> bool {
    let scoped_pdu = message.unauthenticated_scoped_pdu();
    scoped_pdu.is_some_and(|scoped_pdu| scoped_pdu.pdu.pdu_type() == PduType::Report)
}
