//! A request in SNMPv3 with USM, once the agent is known: the scoped PDU (context engine ID the agent's,
//! empty context name) encrypted and signed with the user's localized keys and the agent's estimated boots
//! and time; an answer is verified, decrypted and checked for timeliness (RFC 3414 §3.2), or is a Report,
//! which the session acts on. Only a Report whose digest was verified carries the agent's clock to the
//! session: an unauthenticated one is a hint, as anyone can send it.

use tokio::time::Instant;

use crate::sources::snmp::client::engine::{Agent, MAX_SIZE};
use crate::sources::snmp::client::error::PollErrorKind;
use crate::sources::snmp::client::exchange::{Conversation, Verdict};
use crate::sources::snmp::client::ids::IdRange;
use crate::sources::snmp::wire::{
    AnyPdu, HeaderData, Message, Pdu, PduType, ReportError, Salts, ScopedPdu, UsmSecurityParameters,
    V3Message, usm,
};

/// What the agent answered.
#[derive(Debug)]
pub(super) enum UsmAnswer {
    Response(Pdu),
    /// A Report, with the boots and time its security parameters carry when the agent signed it (`None` for
    /// an unauthenticated Report, whose boots and time are anyone's).
    Report {
        error: ReportError,
        clock: Option<(u32, u32)>,
    },
}

pub(super) struct UsmRequest<'a> {
    agent: &'a mut Agent,
    salts: &'a Salts,
    scoped_pdu: &'a mut ScopedPdu,
}

impl<'a> UsmRequest<'a> {
    pub(super) fn new(agent: &'a mut Agent, salts: &'a Salts, scoped_pdu: &'a mut ScopedPdu) -> Self {
        Self {
            agent,
            salts,
            scoped_pdu,
        }
    }
}

impl Conversation for UsmRequest<'_> {
    type Answer = UsmAnswer;

    fn request(&mut self, id: i32) -> Result<Vec<u8>, PollErrorKind> {
        if let AnyPdu::Pdu(pdu) = &mut self.scoped_pdu.pdu {
            pdu.request_id = id;
        }
        self.scoped_pdu
            .context_engine_id
            .clone_from(&self.agent.engine_id);
        let user = &self.agent.user;
        let header = HeaderData::new(id, MAX_SIZE, user.security_level(), true);
        let clock = &self.agent.clock;
        let time = clock.time(Instant::now());
        let salt = self.salts.next_salt();
        let encoded = usm::encode(&header, user, clock.boots(), time, &*self.scoped_pdu, salt);
        encoded.map_err(PollErrorKind::from)
    }

    fn answer(&mut self, datagram: &[u8], sent: &IdRange) -> Verdict<UsmAnswer> {
        let message = match Message::decode(datagram) {
            Ok(Message::V3(message)) => message,
            Ok(Message::Community(_)) => return Verdict::Skip,
            Err(error) => return Verdict::Reject(PollErrorKind::Malformed(error)),
        };
        if !sent.contains(message.header.msg_id) {
            return Verdict::Skip;
        }
        let parameters = match usm::security_parameters(&message) {
            Ok(parameters) => parameters,
            Err(error) => return Verdict::Reject(error.into()),
        };
        // Unknown user, wrong digest and the like come unauthenticated: the agent could not sign them.
        let unauthenticated = message.unauthenticated_scoped_pdu();
        let unauthenticated = unauthenticated.and_then(|scoped_pdu| scoped_pdu.pdu.as_pdu());
        if let Some(pdu) = unauthenticated.filter(|pdu| pdu.pdu_type == PduType::Report) {
            return Verdict::Accept(report(pdu, None));
        }
        let scoped_pdu = match usm::open(&message, &parameters, &self.agent.user) {
            Ok(scoped_pdu) => scoped_pdu,
            Err(error) => return Verdict::Reject(error.into()),
        };
        let AnyPdu::Pdu(pdu) = scoped_pdu.pdu else {
            return Verdict::Skip;
        };
        let pdu_type = pdu.pdu_type;
        // `usm::open` verified the digest of a message that has one.
        let signed = message.header.security_level.has_authentication();
        let clock = signed.then_some((parameters.engine_boots, parameters.engine_time));
        match pdu_type {
            PduType::Report => Verdict::Accept(report(&pdu, clock)),
            PduType::Response if sent.contains(pdu.request_id) => self.timely(&message, &parameters, pdu),
            _ => Verdict::Skip,
        }
    }
}

impl UsmRequest<'_> {
    /// The Response, if its boots and time are within the agent's time window (RFC 3414 §3.2.7.b); its
    /// digest was verified, so they may move the clock forward.
    fn timely(
        &mut self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        pdu: Pdu,
    ) -> Verdict<UsmAnswer> {
        if message.header.security_level.has_authentication() {
            let (boots, time) = (parameters.engine_boots, parameters.engine_time);
            if let Err(error) = self.agent.clock.accept(boots, time, Instant::now()) {
                return Verdict::Reject(error.into());
            }
        }
        Verdict::Accept(UsmAnswer::Response(pdu))
    }
}

/// The Report `pdu`; `clock` is its boots and time when it was signed.
fn report(pdu: &Pdu, clock: Option<(u32, u32)>) -> UsmAnswer {
    UsmAnswer::Report {
        error: ReportError::from_pdu(pdu).unwrap_or(ReportError::Empty),
        clock,
    }
}
