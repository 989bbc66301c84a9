//! The Reports our engine sends an SNMPv3 sender (RFC 3412 §7.1.3.c, RFC 3414 §3.2): usmStatsUnknownEngineIDs
//! to a sender discovering our engine ID (with our boots and time in its security parameters),
//! usmStatsUnknownUserNames to a user we do not have, usmStatsNotInTimeWindows, signed, to a sender whose
//! idea of our clock is off. Each carries its counter's value, as net-snmp's do.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::sources::snmp::traps::decode::{MAX_MESSAGE_SIZE, TrapDecoder};
use crate::sources::snmp::wire::usm::{self, UsmSecurityParameters};
use crate::sources::snmp::wire::{
    HeaderData, LocalizedUser, Pdu, ReportError, ScopedPdu, SecurityLevel, V3Message,
};

/// The usmStats counters our Reports carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportCounter {
    UnknownEngineIds,
    UnknownUserNames,
    NotInTimeWindows,
}

impl ReportCounter {
    fn error(self) -> ReportError {
        match self {
            ReportCounter::UnknownEngineIds => ReportError::UnknownEngineId,
            ReportCounter::UnknownUserNames => ReportError::UnknownUserName,
            ReportCounter::NotInTimeWindows => ReportError::NotInTimeWindow,
        }
    }
}

/// How many of each our engine reported (the values usmStats would show).
#[derive(Debug, Default)]
pub struct ReportCounters {
    unknown_engine_ids: AtomicU32,
    unknown_user_names: AtomicU32,
    not_in_time_windows: AtomicU32,
}

impl ReportCounters {
    /// Counts one more and returns the count (a Counter32: it wraps).
    fn next(&self, counter: ReportCounter) -> u32 {
        let atomic = match counter {
            ReportCounter::UnknownEngineIds => &self.unknown_engine_ids,
            ReportCounter::UnknownUserNames => &self.unknown_user_names,
            ReportCounter::NotInTimeWindows => &self.not_in_time_windows,
        };
        // Relaxed: a count orders nothing else.
        atomic.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }
}

impl TrapDecoder {
    /// The Report of `counter` answering `message`: its msgID and `request_id`, our engine's ID, boots and
    /// `engine_time`; unauthenticated (the sender's user name echoed), or signed by `user` when given
    /// (authNoPriv, as RFC 3414 §3.2.7.a has the notInTimeWindow Report). `None` only if it cannot be encoded,
    /// which a Report of ours never is.
    pub(super) fn report(
        &self,
        message: &V3Message<'_>,
        parameters: &UsmSecurityParameters,
        counter: ReportCounter,
        request_id: i32,
        user: Option<&LocalizedUser>,
        engine_time: u32,
    ) -> Option<Vec<u8>> {
        let oid = counter.error().counter()?;
        let pdu = Pdu::report(request_id, oid, self.reports.next(counter));
        let scoped_pdu = ScopedPdu::new(&self.engine.id, pdu);
        let anonymous;
        let (level, reporter) = match user {
            Some(user) => (SecurityLevel::AuthNoPriv, user),
            None => {
                anonymous = LocalizedUser::new(&parameters.user_name, &self.engine.id, None, None).ok()?;
                (SecurityLevel::NoAuthNoPriv, &anonymous)
            }
        };
        let header = HeaderData::new(message.header.msg_id, MAX_MESSAGE_SIZE, level, false);
        let encoded = usm::encode(
            &header,
            reporter,
            self.engine.boots,
            engine_time,
            &scoped_pdu,
            [0; 8],
        );
        encoded.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_count_each_kind_apart() {
        let counters = ReportCounters::default();
        assert_eq!(counters.next(ReportCounter::UnknownEngineIds), 1);
        assert_eq!(counters.next(ReportCounter::UnknownEngineIds), 2);
        assert_eq!(counters.next(ReportCounter::NotInTimeWindows), 1);
        counters.unknown_user_names.store(u32::MAX, Ordering::Relaxed);
        assert_eq!(counters.next(ReportCounter::UnknownUserNames), 0);
    }

    #[test]
    fn each_counter_is_its_usm_stats_object() {
        let oid = |counter: ReportCounter| counter.error().counter().map(|oid| oid.to_string());
        assert_eq!(
            oid(ReportCounter::UnknownEngineIds).as_deref(),
            Some("1.3.6.1.6.3.15.1.1.4.0")
        );
        assert_eq!(
            oid(ReportCounter::UnknownUserNames).as_deref(),
            Some("1.3.6.1.6.3.15.1.1.3.0")
        );
        assert_eq!(
            oid(ReportCounter::NotInTimeWindows).as_deref(),
            Some("1.3.6.1.6.3.15.1.1.2.0")
        );
    }
}
