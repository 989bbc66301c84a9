//! One alerts sink's evaluators, one per kind of rule, and which records go to which: uplink samples to the
//! uplink rules, syslog lines to the log rules, SNMP traps to the trap rules, interface polls to the
//! interface rules. The sink decodes a kind of record only when it has rules for it (uplink samples
//! always, as before the other kinds existed), and moves the clock of the kinds that resolve with time
//! (log alerts, self-clearing trap alerts).

use chrono::{DateTime, Utc};

use crate::record::uplink::UPLINK_SCHEMA;
use crate::record::{AlertEvent, RecordKind, SnmpInterfaceRecord, SnmpTrapRecord, SyslogRecord};
use crate::sinks::alert_rules::AlertEvaluator;
use crate::sinks::interface_alert_rules::InterfaceAlertEvaluator;
use crate::sinks::message::Decoded;
use crate::sinks::syslog_alert_evaluator::SyslogAlertEvaluator;
use crate::sinks::trap_alert_evaluator::TrapAlertEvaluator;

const SYSLOG: &str = SyslogRecord::HEADER;
const TRAP: &str = SnmpTrapRecord::HEADER;
const INTERFACE: &str = SnmpInterfaceRecord::HEADER;

#[derive(Debug)]
pub struct AlertEvaluators {
    pub uplinks: AlertEvaluator,
    pub syslog: SyslogAlertEvaluator,
    pub traps: TrapAlertEvaluator,
    pub interfaces: InterfaceAlertEvaluator,
}

impl AlertEvaluators {
    /// Restores every kind's alerts from the alerts topic's events (in topic order), `now` being the restart.
    pub fn restore(&mut self, events: &[AlertEvent], now: DateTime<Utc>) {
        self.uplinks.restore(events.iter().cloned());
        self.syslog.restore(events.iter().cloned(), now);
        self.traps.restore(events.iter().cloned(), now);
        self.interfaces.restore(events.iter().cloned());
    }

    /// One record through the rules of its kind; returns the events it caused.
    pub fn observe(&mut self, decoded: &Decoded) -> Vec<AlertEvent> {
        match decoded {
            Decoded::Uplink(record) => self.uplinks.observe(record),
            Decoded::Syslog(record) => self.syslog.observe(record),
            Decoded::SnmpTrap(record) => self.traps.observe(record),
            Decoded::SnmpInterface(record) => self.interfaces.observe(record),
            _ => Vec::new(),
        }
    }

    /// After a batch: alerts that resolve with time are judged at the newest arrival read, so a device gone
    /// quiet resolves while others keep the stream busy.
    pub fn sweep(&mut self) -> Vec<AlertEvent> {
        let mut events = self.syslog.sweep();
        events.extend(self.traps.sweep());
        events
    }

    /// Nothing arrived for a while: alerts that resolve with time are judged at `now`.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<AlertEvent> {
        let mut events = self.syslog.advance(now);
        events.extend(self.traps.advance(now));
        events
    }

    /// Whether some alerts resolve with time alone, so the sink wants an idle tick.
    pub fn keep_time(&self) -> bool {
        !self.syslog.is_empty() || !self.traps.is_empty()
    }

    /// The record schemas the sink decodes: uplink samples, and each other kind once it has rules for it
    /// (anything else on its topics is dead-lettered as a schema it does not take). Static, as the runner
    /// asks: one list per combination.
    pub fn accepts(&self) -> &'static [&'static str] {
        let syslog = !self.syslog.is_empty();
        let traps = !self.traps.is_empty();
        let interfaces = !self.interfaces.is_empty();
        match (syslog, traps, interfaces) {
            (false, false, false) => &[UPLINK_SCHEMA],
            (true, false, false) => &[UPLINK_SCHEMA, SYSLOG],
            (false, true, false) => &[UPLINK_SCHEMA, TRAP],
            (false, false, true) => &[UPLINK_SCHEMA, INTERFACE],
            (true, true, false) => &[UPLINK_SCHEMA, SYSLOG, TRAP],
            (true, false, true) => &[UPLINK_SCHEMA, SYSLOG, INTERFACE],
            (false, true, true) => &[UPLINK_SCHEMA, TRAP, INTERFACE],
            (true, true, true) => &[UPLINK_SCHEMA, SYSLOG, TRAP, INTERFACE],
        }
    }

    /// Alerts firing now, by kind (for the log at start): uplink, log, trap, interface.
    pub fn firing(&self) -> [usize; 4] {
        [
            self.uplinks.firing(),
            self.syslog.firing(),
            self.traps.firing(),
            self.interfaces.firing(),
        ]
    }
}
