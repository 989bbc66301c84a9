//! SNMPv3 notifications through the User-based Security Model, by the authoritative engine the message
//! names (RFC 3414 §1.5.1):
//!
//! - **Ours: an inform.** The receiver of an inform is authoritative. A sender that does not know our engine
//!   ID yet asks for it first (net-snmp's `snmpinform` does, with an empty engine ID, reportable): it gets a
//!   Report of usmStatsUnknownEngineIDs carrying our ID, boots and time. A user we do not have gets a Report
//!   of usmStatsUnknownUserNames; a message whose boots and time are more than 150 s from ours, once its
//!   digest is verified, a signed Report of usmStatsNotInTimeWindows with our clock, so the sender resyncs
//!   and sends again. A wrong digest gets no answer.
//! - **Another: a trap.** A trap's sender is authoritative: the user's keys are localized to the engine ID
//!   the trap carries (any engine, cached), and no time window is checked, as snmptrapd checks none by
//!   default: we keep no clock of every device, and a replayed trap is at worst a duplicate record.

use crate::sources::snmp::traps::decode::{Datagram, MAX_MESSAGE_SIZE, Outcome, TrapDecoder, text};
use crate::sources::snmp::traps::engine::to_hex;
use crate::sources::snmp::traps::error::TrapError;
use crate::sources::snmp::traps::notification::Notification;
use crate::sources::snmp::traps::report::ReportCounter;
use crate::sources::snmp::wire::time_window::check_authoritative;
use crate::sources::snmp::wire::usm::{self, UsmSecurityParameters};
use crate::sources::snmp::wire::{
    HeaderData, LocalizedUser, Pdu, PduType, ScopedPdu, ScopedPduData, UsmError, V3Message, Version,
};

impl TrapDecoder {
    pub(super) fn v3_message(&self, message: &V3Message<'_>, datagram: &Datagram<'_>) -> Outcome {
        let parameters = match usm::security_parameters(message) {
            Ok(parameters) => parameters,
            Err(error) => return Outcome::refused(TrapError::Usm(error)),
        };
        if parameters.engine_id == self.engine.id {
            return self.to_our_engine(message, &parameters, datagram);
        }
        if message.header.reportable {
            // Only requests and informs are reportable, never a trap (RFC 3412 §6.4): a sender asking us with
            // an empty engine ID, or one it remembers from before ours changed, is discovering ours.
            return self.discovery(message, &parameters, datagram);
        }
        if parameters.engine_id.is_empty() {
            return Outcome::refused(TrapError::Usm(UsmError::UnknownEngineId));
        }
        self.trap_from_sender_engine(message, &parameters, datagram)
    }

    fn discovery(
        &self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        datagram: &Datagram<'_>,
    ) -> Outcome {
        let request_id = plaintext_request_id(message);
        let counter = ReportCounter::UnknownEngineIds;
        match self.report_if_asked(message, parameters, counter, request_id, None, datagram) {
            Some(report) => Outcome::Discovery { report },
            None => Outcome::refused(TrapError::Usm(UsmError::UnknownEngineId)),
        }
    }

    /// An inform (or a trap) to our engine.
    fn to_our_engine(
        &self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        datagram: &Datagram<'_>,
    ) -> Outcome {
        let Some(user) = self.users.for_our_engine(&parameters.user_name) else {
            return self.unknown_user(message, parameters, datagram);
        };
        let scoped_pdu = match usm::open(message, parameters, user) {
            Ok(scoped_pdu) => scoped_pdu,
            Err(error) => return Outcome::refused(TrapError::Usm(error)),
        };
        if let Some(refused) = self.outside_our_time_window(message, parameters, datagram, user, &scoped_pdu)
        {
            return refused;
        }
        match self.inform_response(message, user, &scoped_pdu, datagram.engine_time) {
            Ok(response) => self.v3_notification(scoped_pdu, parameters, datagram, response),
            Err(error) => Outcome::refused(TrapError::Usm(error)),
        }
    }

    /// A message to our engine from a user we do not have: refused, with a usmStatsUnknownUserNames Report
    /// when it asked for one.
    fn unknown_user(
        &self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        datagram: &Datagram<'_>,
    ) -> Outcome {
        let request_id = plaintext_request_id(message);
        let counter = ReportCounter::UnknownUserNames;
        let report = self.report_if_asked(message, parameters, counter, request_id, None, datagram);
        let error = TrapError::UnknownUser(text(&parameters.user_name));
        Outcome::Refused { error, report }
    }

    /// The refusal of a message whose boots and time are out of our window, with a signed
    /// usmStatsNotInTimeWindows Report when it asked for one; `None` when it is in time. Timeliness only once
    /// the digest is verified (RFC 3414 §3.2.7): an unauthenticated message has no time worth checking.
    fn outside_our_time_window(
        &self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        datagram: &Datagram<'_>,
        user: &LocalizedUser,
        scoped_pdu: &ScopedPdu,
    ) -> Option<Outcome> {
        if !message.header.security_level.has_authentication() {
            return None;
        }
        let error = check_authoritative(
            self.engine.boots,
            datagram.engine_time,
            parameters.engine_boots,
            parameters.engine_time,
        )
        .err()?;
        let request_id = scoped_pdu.pdu.as_pdu().map_or(0, |pdu| pdu.request_id);
        let counter = ReportCounter::NotInTimeWindows;
        let report = self.report_if_asked(message, parameters, counter, request_id, Some(user), datagram);
        Some(Outcome::Refused {
            error: TrapError::Usm(error),
            report,
        })
    }

    /// The Report of `counter` answering `message` with our clock at the datagram's arrival, when the message
    /// asked for one (its reportable flag: RFC 3412 §7.1.3.c); signed by `user` when given.
    fn report_if_asked(
        &self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        counter: ReportCounter,
        request_id: i32,
        user: Option<&LocalizedUser>,
        datagram: &Datagram<'_>,
    ) -> Option<Vec<u8>> {
        if !message.header.reportable {
            return None;
        }
        self.report(
            message,
            parameters,
            counter,
            request_id,
            user,
            datagram.engine_time,
        )
    }

    /// The Response when `scoped_pdu` is an inform; `None` for a trap.
    fn inform_response(
        &self,
        message: &V3Message<'_>,
        user: &LocalizedUser,
        scoped_pdu: &ScopedPdu,
        engine_time: u32,
    ) -> Result<Option<Vec<u8>>, UsmError> {
        match scoped_pdu.pdu.as_pdu() {
            Some(inform) if inform.pdu_type == PduType::Inform => self
                .response(message, user, scoped_pdu, inform, engine_time)
                .map(Some),
            _ => Ok(None),
        }
    }

    /// A trap from the engine that sent it.
    fn trap_from_sender_engine(
        &self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        datagram: &Datagram<'_>,
    ) -> Outcome {
        let Some(user) = self
            .users
            .for_sender(&parameters.user_name, &parameters.engine_id)
        else {
            return Outcome::refused(TrapError::UnknownUser(text(&parameters.user_name)));
        };
        // No time window here: see the module's comment.
        let scoped_pdu = match usm::open(message, parameters, &user) {
            Ok(scoped_pdu) => scoped_pdu,
            Err(error) => return Outcome::refused(TrapError::Usm(error)),
        };
        if scoped_pdu.pdu.pdu_type() == PduType::Inform {
            // An inform we cannot answer as its authoritative engine (and it did not ask for a Report).
            let engine = to_hex(&parameters.engine_id);
            return Outcome::refused(TrapError::InformToAnotherEngine(engine));
        }
        self.v3_notification(scoped_pdu, parameters, datagram, None)
    }

    /// The Response to `inform`, from our engine, at the inform's security level (RFC 3416 §4.2.7). Made now,
    /// with our clock at the inform's arrival: it goes out once Kafka has the record, which a sender waits for
    /// seconds at most before it retries, well inside the 150 s its clock check allows.
    fn response(
        &self,
        message: &V3Message<'_>,
        user: &LocalizedUser,
        inform_scope: &ScopedPdu,
        inform: &Pdu,
        engine_time: u32,
    ) -> Result<Vec<u8>, UsmError> {
        let level = message.header.security_level;
        let header = HeaderData::new(message.header.msg_id, MAX_MESSAGE_SIZE, level, false);
        let scoped_pdu = ScopedPdu {
            context_engine_id: inform_scope.context_engine_id.clone(),
            context_name: inform_scope.context_name.clone(),
            pdu: Pdu::response_to(inform).into(),
        };
        let salt = self.salt(level);
        usm::encode(&header, user, self.engine.boots, engine_time, &scoped_pdu, salt)
    }

    fn v3_notification(
        &self,
        scoped_pdu: ScopedPdu,
        parameters: &UsmSecurityParameters,
        datagram: &Datagram<'_>,
        response: Option<Vec<u8>>,
    ) -> Outcome {
        match scoped_pdu.pdu.pdu_type() {
            PduType::TrapV2 | PduType::Inform => {}
            other => return Outcome::refused(TrapError::UnexpectedPdu(other)),
        }
        let notification = Notification {
            sender: datagram.sender,
            received_at: datagram.received_at,
            version: Version::V3,
            security_name: Some(text(&parameters.user_name)),
            context_name: Some(text(&scoped_pdu.context_name)),
            pdu: scoped_pdu.pdu,
        };
        Outcome::notification(notification, response)
    }
}

/// The request-id of a message in the clear, for a Report answering it (RFC 3412 §7.1.3.c); 0 when it is
/// encrypted.
fn plaintext_request_id(message: &V3Message<'_>) -> i32 {
    match &message.data {
        ScopedPduData::Plaintext(scoped_pdu) => scoped_pdu.pdu.as_pdu().map_or(0, |pdu| pdu.request_id),
        ScopedPduData::Encrypted(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::traps::test_support::{RECEIVER_SALT, decoder, received, sender};
    use crate::sources::snmp::wire::fixtures::{self, hex};
    use crate::sources::snmp::wire::{
        AuthProtocol, Message, PrivProtocol, ReportError, SecurityLevel, UsmUser, Value, VarBind,
    };

    fn decode_at(decoder: &TrapDecoder, bytes: &[u8], engine_time: u32) -> Outcome {
        decoder.decode(&Datagram {
            bytes,
            sender: sender(),
            received_at: received(),
            engine_time,
        })
    }

    fn v3(bytes: &[u8]) -> V3Message<'_> {
        match Message::decode(bytes).expect("a message") {
            Message::V3(message) => message,
            Message::Community(_) => panic!("an SNMPv3 message was expected"),
        }
    }

    /// The Report a message is, opened as `user` when signed.
    fn report_of(bytes: &[u8], user: Option<&LocalizedUser>) -> (UsmSecurityParameters, Option<ReportError>) {
        let message = v3(bytes);
        let parameters = usm::security_parameters(&message).expect("USM parameters");
        let scoped_pdu = match user {
            Some(user) => usm::open(&message, &parameters, user).expect("signed by the user"),
            None => message
                .unauthenticated_scoped_pdu()
                .expect("in the clear")
                .clone(),
        };
        let pdu = scoped_pdu.pdu.as_pdu().expect("a Report");
        (parameters, ReportError::from_pdu(pdu))
    }

    fn bob() -> UsmUser {
        fixtures::user(
            "bob",
            Some((AuthProtocol::Sha1, "authpassword1")),
            Some((PrivProtocol::Aes128, "privpassword1")),
        )
    }

    /// An SNMPv3 message from `user` (localized to `engine`) with `pdu`, at the user's level.
    fn message(user: &UsmUser, engine: &[u8], pdu: Pdu, reportable: bool, boots: u32, time: u32) -> Vec<u8> {
        let localized = user.localize(engine);
        let header = HeaderData::new(77, MAX_MESSAGE_SIZE, localized.security_level(), reportable);
        let scoped_pdu = ScopedPdu::new(engine, pdu);
        usm::encode(&header, &localized, boots, time, &scoped_pdu, [7; 8]).expect("the user's level")
    }

    fn link_down(pdu_type: PduType) -> Pdu {
        let uptime = VarBind::new("1.3.6.1.2.1.1.3.0".parse().unwrap(), Value::TimeTicks(5));
        let link_down = Value::ObjectIdentifier("1.3.6.1.6.3.1.1.5.3".parse().unwrap());
        let trap_oid = VarBind::new("1.3.6.1.6.3.1.1.4.1.0".parse().unwrap(), link_down);
        Pdu::new(pdu_type, 4_242, vec![uptime, trap_oid])
    }

    #[test]
    fn a_discovery_probe_gets_our_engine_id_as_snmptrapd_sends_it() {
        let decoder = decoder();
        let outcome = decode_at(&decoder, &hex(fixtures::INFORM_DISCOVERY_REQUEST), 1);
        let Outcome::Discovery { report } = outcome else {
            panic!("a discovery, not {outcome:?}");
        };
        assert_eq!(report, hex(fixtures::INFORM_DISCOVERY_REPORT));
        let (parameters, error) = report_of(&report, None);
        assert_eq!(parameters.engine_id, hex(fixtures::RECEIVER_ENGINE));
        assert_eq!(error, Some(ReportError::UnknownEngineId));
    }

    #[test]
    fn a_v3_authpriv_inform_is_answered_as_snmptrapd_answers() {
        let decoder = decoder();
        let outcome = decode_at(&decoder, &hex(fixtures::INFORM_V3_SHA_AES), 1);
        let Outcome::Inform {
            notification,
            response,
        } = outcome
        else {
            panic!("an inform, not {outcome:?}");
        };
        assert_eq!(notification.version, Version::V3);
        assert_eq!(notification.security_name.as_deref(), Some("bob"));
        assert_eq!(notification.context_name.as_deref(), Some(""));
        assert_eq!(notification.pdu.pdu_type(), PduType::Inform);
        // The salt the captured Response used: ours starts there in the tests.
        assert_eq!(
            u64::from_be_bytes(hex("9db6103c5142bc3c").try_into().unwrap()),
            RECEIVER_SALT
        );
        assert_eq!(response, hex(fixtures::INFORM_RESPONSE_V3_SHA_AES));
    }

    #[test]
    fn a_v3_authpriv_trap_from_any_engine_opens() {
        let decoder = decoder();
        let Outcome::Trap(notification) = decode_at(&decoder, &hex(fixtures::TRAP_V3_SHA_AES), 9_999) else {
            panic!("a trap");
        };
        assert_eq!(notification.security_name.as_deref(), Some("bob"));
        assert_eq!(notification.pdu.pdu_type(), PduType::TrapV2);
        // A trap from an engine no fixture has, built with the wire layer: localized on arrival.
        let carol = fixtures::user(
            "carol",
            Some((AuthProtocol::Sha256, "authpassword2")),
            Some((PrivProtocol::Aes256, "privpassword2")),
        );
        let bytes = message(
            &carol,
            b"\x80\x00\x00\x00\x05elsewhere",
            link_down(PduType::TrapV2),
            false,
            9,
            99,
        );
        let Outcome::Trap(notification) = decode_at(&decoder, &bytes, 1) else {
            panic!("a trap");
        };
        assert_eq!(notification.security_name.as_deref(), Some("carol"));
        assert_eq!(notification.pdu.varbinds().len(), 2);
        for fixture in [
            fixtures::TRAP_V3_MD5_DES,
            fixtures::TRAP_V3_SHA256_AES256,
            fixtures::TRAP_V3_SHA_AES192,
            fixtures::TRAP_V3_MD5_AES256,
            fixtures::TRAP_V3_SHA512_AES,
            fixtures::TRAP_V3_SHA224_AUTH_NO_PRIV,
            fixtures::TRAP_V3_SHA384_AES192,
            fixtures::TRAP_V3_NO_AUTH,
        ] {
            let outcome = decode_at(&decoder, &hex(fixture), 1);
            assert!(matches!(outcome, Outcome::Trap(_)), "{fixture}: {outcome:?}");
        }
    }

    #[test]
    fn a_v3_authpriv_inform_built_here_is_answered_and_the_answer_opens() {
        let decoder = decoder();
        let engine = hex(fixtures::RECEIVER_ENGINE);
        let bytes = message(&bob(), &engine, link_down(PduType::Inform), true, 1, 100);
        let Outcome::Inform { response, .. } = decode_at(&decoder, &bytes, 120) else {
            panic!("an inform");
        };
        let answer = v3(&response);
        assert_eq!(answer.header.msg_id, 77);
        assert_eq!(answer.header.security_level, SecurityLevel::AuthPriv);
        assert!(!answer.header.reportable);
        let parameters = usm::security_parameters(&answer).expect("USM parameters");
        assert_eq!((parameters.engine_boots, parameters.engine_time), (1, 120));
        let opened = usm::open(&answer, &parameters, &bob().localize(&engine)).expect("bob's keys");
        let pdu = opened.pdu.as_pdu().expect("a Response");
        assert_eq!(pdu.pdu_type, PduType::Response);
        assert_eq!(pdu.request_id, 4_242);
        assert_eq!(pdu.varbinds, link_down(PduType::Inform).varbinds);
    }

    #[test]
    fn an_inform_out_of_our_time_window_gets_a_signed_report_with_our_clock() {
        let decoder = decoder();
        let engine = hex(fixtures::RECEIVER_ENGINE);
        let bytes = message(&bob(), &engine, link_down(PduType::Inform), true, 1, 100);
        let outcome = decode_at(&decoder, &bytes, 251);
        let Outcome::Refused {
            error: TrapError::Usm(UsmError::NotInTimeWindow { .. }),
            report: Some(report),
        } = outcome
        else {
            panic!("not in time window, not {outcome:?}");
        };
        let localized = bob().localize(&engine);
        let (parameters, error) = report_of(&report, Some(&localized));
        assert_eq!(error, Some(ReportError::NotInTimeWindow));
        assert_eq!((parameters.engine_boots, parameters.engine_time), (1, 251));
        assert_eq!(v3(&report).header.security_level, SecurityLevel::AuthNoPriv);
        // Another boots value is out of the window whatever the time.
        let stale = message(&bob(), &engine, link_down(PduType::Inform), true, 0, 251);
        let outcome = decode_at(&decoder, &stale, 251);
        assert_eq!(
            outcome_reason(&outcome),
            Some("not_in_time_window"),
            "{outcome:?}"
        );
    }

    fn outcome_reason(outcome: &Outcome) -> Option<&'static str> {
        match outcome {
            Outcome::Refused { error, .. } => Some(error.reason()),
            _ => None,
        }
    }

    #[test]
    fn unknown_users_and_wrong_digests_are_refused() {
        let decoder = decoder();
        let engine = hex(fixtures::RECEIVER_ENGINE);
        let mallory = fixtures::user("mallory", Some((AuthProtocol::Sha1, "authpassword1")), None);
        let bytes = message(&mallory, &engine, link_down(PduType::Inform), true, 1, 1);
        let outcome = decode_at(&decoder, &bytes, 1);
        let Outcome::Refused {
            error: TrapError::UnknownUser(name),
            report: Some(report),
        } = outcome
        else {
            panic!("an unknown user, not {outcome:?}");
        };
        assert_eq!(name, "mallory");
        assert_eq!(report_of(&report, None).1, Some(ReportError::UnknownUserName));
        // A trap from an unknown user asks for no Report.
        let bytes = message(
            &mallory,
            b"\x80\x00\x00\x00\x05elsewhere",
            link_down(PduType::TrapV2),
            false,
            1,
            1,
        );
        let outcome = decode_at(&decoder, &bytes, 1);
        assert_eq!(
            outcome,
            Outcome::refused(TrapError::UnknownUser("mallory".to_owned()))
        );
        // Bob with another authentication pass phrase: a wrong digest, unanswered.
        let impostor = fixtures::user(
            "bob",
            Some((AuthProtocol::Sha1, "authpassword9")),
            Some((PrivProtocol::Aes128, "privpassword1")),
        );
        for (engine, reportable) in [
            (&engine[..], true),
            (&b"\x80\x00\x00\x00\x05elsewhere"[..], false),
        ] {
            let bytes = message(&impostor, engine, link_down(PduType::Inform), reportable, 1, 1);
            let outcome = decode_at(&decoder, &bytes, 1);
            assert_eq!(outcome, Outcome::refused(TrapError::Usm(UsmError::WrongDigest)));
        }
    }

    #[test]
    fn a_stale_engine_id_is_discovered_again_and_an_unreportable_inform_elsewhere_refused() {
        let decoder = decoder();
        let old_engine = b"\x80\x00\x1f\x88\x80old-engine";
        let bytes = message(&bob(), old_engine, link_down(PduType::Inform), true, 1, 1);
        let Outcome::Discovery { report } = decode_at(&decoder, &bytes, 3) else {
            panic!("a discovery");
        };
        let (parameters, error) = report_of(&report, None);
        assert_eq!(error, Some(ReportError::UnknownEngineId));
        assert_eq!(parameters.engine_id, hex(fixtures::RECEIVER_ENGINE));
        assert_eq!(parameters.user_name, b"bob");
        let bytes = message(&bob(), old_engine, link_down(PduType::Inform), false, 1, 1);
        let outcome = decode_at(&decoder, &bytes, 3);
        assert_eq!(outcome_reason(&outcome), Some("unknown_engine_id"), "{outcome:?}");
    }

    /// A message to our engine that is not reportable gets no Report, whatever it is refused for.
    #[test]
    fn a_message_asking_for_no_report_gets_none() {
        let decoder = decoder();
        let engine = hex(fixtures::RECEIVER_ENGINE);
        let mallory = fixtures::user("mallory", Some((AuthProtocol::Sha1, "authpassword1")), None);
        let bytes = message(&mallory, &engine, link_down(PduType::TrapV2), false, 1, 1);
        assert_eq!(
            decode_at(&decoder, &bytes, 1),
            Outcome::refused(TrapError::UnknownUser("mallory".to_owned()))
        );
        let late = message(&bob(), &engine, link_down(PduType::TrapV2), false, 1, 100);
        let outcome = decode_at(&decoder, &late, 251);
        assert!(
            matches!(
                outcome,
                Outcome::Refused {
                    error: TrapError::Usm(UsmError::NotInTimeWindow { .. }),
                    report: None,
                }
            ),
            "{outcome:?}"
        );
        // In time, the same trap to our engine is a trap.
        let outcome = decode_at(&decoder, &late, 120);
        assert!(matches!(outcome, Outcome::Trap(_)), "{outcome:?}");
    }

    #[test]
    fn requests_to_our_engine_are_refused() {
        let decoder = decoder();
        let engine = hex(fixtures::RECEIVER_ENGINE);
        let bytes = message(&bob(), &engine, Pdu::get(5, &[]), true, 1, 1);
        assert_eq!(
            decode_at(&decoder, &bytes, 1),
            Outcome::refused(TrapError::UnexpectedPdu(PduType::Get))
        );
    }
}
