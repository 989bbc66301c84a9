//! A request in SNMPv1 or SNMPv2c: the community message is built once and only its request-id changes
//! between tries; an answer is a Response with the same version, the same community and one of the tries'
//! request-ids.

use crate::sources::snmp::client::error::PollErrorKind;
use crate::sources::snmp::client::exchange::{Conversation, Verdict};
use crate::sources::snmp::client::ids::IdRange;
use crate::sources::snmp::wire::{AnyPdu, CommunityMessage, Message, Pdu, PduType, Version};

pub(super) struct CommunityRequest {
    message: CommunityMessage,
}

impl CommunityRequest {
    pub(super) fn new(version: Version, community: &[u8], pdu: Pdu) -> Self {
        Self {
            message: CommunityMessage::new(version, community, pdu),
        }
    }
}

impl Conversation for CommunityRequest {
    type Answer = Pdu;

    fn request(&mut self, id: i32) -> Result<Vec<u8>, PollErrorKind> {
        if let AnyPdu::Pdu(pdu) = &mut self.message.pdu {
            pdu.request_id = id;
        }
        Ok(self.message.encode())
    }

    fn answer(&mut self, datagram: &[u8], sent: &IdRange) -> Verdict<Pdu> {
        let message = match Message::decode(datagram) {
            Ok(Message::Community(message)) => message,
            Ok(Message::V3(_)) => return Verdict::Skip,
            Err(error) => return Verdict::Reject(PollErrorKind::Malformed(error)),
        };
        if message.version != self.message.version || message.community != self.message.community {
            return Verdict::Skip;
        }
        match message.pdu {
            AnyPdu::Pdu(pdu) if pdu.pdu_type == PduType::Response && sent.contains(pdu.request_id) => {
                Verdict::Accept(pdu)
            }
            _ => Verdict::Skip,
        }
    }
}
