//! Report PDUs as typed errors: an SNMPv3 engine answers a message it refuses with a Report naming the
//! counter of the refusal (RFC 3412 §7.1.3, RFC 3414 §3.2), and [`ReportError::from_pdu`] says which. The
//! counters an authoritative engine sends are here too ([`ReportError::counter`]), for our own Reports to
//! informs.

use crate::sources::snmp::wire::oid::Oid;
use crate::sources::snmp::wire::pdu::{Pdu, PduType};

/// usmStats (SNMP-USER-BASED-SM-MIB, RFC 3414 §5).
const USM_STATS: [u32; 9] = [1, 3, 6, 1, 6, 3, 15, 1, 1];

/// Why an engine refused a message, from the counter its Report carries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error(
        "the agent refused the security level (usmStatsUnsupportedSecLevels): its user is not configured \
         for it"
    )]
    UnsupportedSecurityLevel,
    #[error("not in time window (usmStatsNotInTimeWindows): the engine boots or time were stale")]
    NotInTimeWindow,
    #[error("unknown user name (usmStatsUnknownUserNames): the agent has no such user")]
    UnknownUserName,
    #[error("unknown engine ID (usmStatsUnknownEngineIDs): the answer to engine-ID discovery")]
    UnknownEngineId,
    #[error(
        "wrong digest (usmStatsWrongDigests): the authentication pass phrase or protocol differs from the \
         agent's"
    )]
    WrongDigest,
    #[error(
        "decryption error (usmStatsDecryptionErrors): the privacy pass phrase or protocol differs from the \
         agent's"
    )]
    DecryptionError,
    #[error("unknown security model (snmpUnknownSecurityModels)")]
    UnknownSecurityModel,
    #[error("invalid message (snmpInvalidMsgs): the agent could not parse it")]
    InvalidMessage,
    #[error("unknown PDU handler (snmpUnknownPDUHandlers): the agent has no application for this PDU")]
    UnknownPduHandler,
    #[error("unavailable context (snmpUnavailableContexts)")]
    UnavailableContext,
    #[error("unknown context (snmpUnknownContexts): the agent has no such context name")]
    UnknownContext,
    #[error("a Report of {0}")]
    Other(Oid),
    #[error("a Report without a variable binding")]
    Empty,
}

impl ReportError {
    /// What a Report says, or `None` when the PDU is no Report.
    pub fn from_pdu(pdu: &Pdu) -> Option<ReportError> {
        if pdu.pdu_type != PduType::Report {
            return None;
        }
        let Some(first) = pdu.varbinds.first() else {
            return Some(ReportError::Empty);
        };
        Some(classify(&first.oid))
    }

    /// The usmStats counter (its instance, `.0`) an authoritative engine reports this error with.
    pub fn counter(&self) -> Option<Oid> {
        let column = match self {
            ReportError::UnsupportedSecurityLevel => 1,
            ReportError::NotInTimeWindow => 2,
            ReportError::UnknownUserName => 3,
            ReportError::UnknownEngineId => 4,
            ReportError::WrongDigest => 5,
            ReportError::DecryptionError => 6,
            _ => return None,
        };
        Oid::new(&[&USM_STATS[..], &[column, 0][..]].concat()).ok()
    }
}

/// By the counter's object, with or without its `.0` instance.
fn classify(oid: &Oid) -> ReportError {
    match oid.arcs() {
        [1, 3, 6, 1, 6, 3, 15, 1, 1, counter, ..] => match *counter {
            1 => ReportError::UnsupportedSecurityLevel,
            2 => ReportError::NotInTimeWindow,
            3 => ReportError::UnknownUserName,
            4 => ReportError::UnknownEngineId,
            5 => ReportError::WrongDigest,
            6 => ReportError::DecryptionError,
            _ => ReportError::Other(oid.clone()),
        },
        // snmpMPDStats (SNMP-MPD-MIB, RFC 3412 §5).
        [1, 3, 6, 1, 6, 3, 11, 2, 1, counter, ..] => match *counter {
            1 => ReportError::UnknownSecurityModel,
            2 => ReportError::InvalidMessage,
            3 => ReportError::UnknownPduHandler,
            _ => ReportError::Other(oid.clone()),
        },
        // snmpUnavailableContexts and snmpUnknownContexts (SNMP-TARGET-MIB's objects, RFC 3413 §4.1.1).
        [1, 3, 6, 1, 6, 3, 12, 1, 4, ..] => ReportError::UnavailableContext,
        [1, 3, 6, 1, 6, 3, 12, 1, 5, ..] => ReportError::UnknownContext,
        _ => ReportError::Other(oid.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::pdu::VarBind;
    use crate::sources::snmp::wire::value::Value;

    fn report_of(oid: &str) -> Pdu {
        let counter = VarBind::new(oid.parse().expect("an OID"), Value::Counter32(1));
        Pdu::new(PduType::Report, 0, vec![counter])
    }

    #[test]
    fn usm_counters_are_named() {
        let cases = [
            ("1.3.6.1.6.3.15.1.1.1.0", ReportError::UnsupportedSecurityLevel),
            ("1.3.6.1.6.3.15.1.1.2.0", ReportError::NotInTimeWindow),
            ("1.3.6.1.6.3.15.1.1.3.0", ReportError::UnknownUserName),
            ("1.3.6.1.6.3.15.1.1.4.0", ReportError::UnknownEngineId),
            ("1.3.6.1.6.3.15.1.1.5.0", ReportError::WrongDigest),
            ("1.3.6.1.6.3.15.1.1.6", ReportError::DecryptionError),
            ("1.3.6.1.6.3.11.2.1.2.0", ReportError::InvalidMessage),
            ("1.3.6.1.6.3.12.1.5.0", ReportError::UnknownContext),
        ];
        for (oid, expected) in cases {
            let named = ReportError::from_pdu(&report_of(oid));
            assert_eq!(named.as_ref(), Some(&expected), "{oid}");
            if let Some(counter) = expected.counter() {
                assert!(counter.to_string().starts_with(oid), "{oid}");
            }
        }
    }

    #[test]
    fn other_reports_keep_their_counter_and_other_pdus_are_none() {
        let other: Oid = "1.3.6.1.4.1.9.9.1".parse().expect("an OID");
        assert_eq!(
            ReportError::from_pdu(&report_of("1.3.6.1.4.1.9.9.1")),
            Some(ReportError::Other(other))
        );
        let empty = Pdu::new(PduType::Report, 0, Vec::new());
        assert_eq!(ReportError::from_pdu(&empty), Some(ReportError::Empty));
        let mut response = report_of("1.3.6.1.6.3.15.1.1.5.0");
        response.pdu_type = PduType::Response;
        assert_eq!(ReportError::from_pdu(&response), None);
    }

    #[test]
    fn the_discovery_counter_is_usm_stats_unknown_engine_ids() {
        let counter = ReportError::UnknownEngineId.counter().expect("a counter");
        assert_eq!(counter.to_string(), "1.3.6.1.6.3.15.1.1.4.0");
        assert_eq!(ReportError::UnknownContext.counter(), None);
    }
}
