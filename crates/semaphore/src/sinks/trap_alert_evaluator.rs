//! Trap alerts: `snmp.trap/1` records through the [`TrapRule`]s, one alert per rule, device and interface,
//! fired and resolved (pure: no I/O, and no clock of its own).
//!
//! An alert is per device (the record's key: its serial from `[inventory]`, else its inventory name, else the
//! sender's address) and per `ifIndex` when the trap carries one, so a linkDown on port 3 and one on port 4
//! are two alerts and only port 3's linkUp resolves the first. A rule with a resolving trap fires on its
//! trap and resolves on the resolving one; its trap again while it fires changes nothing. A rule without
//! one makes each trap an event that clears itself, as a log alert with its defaults does: it fires on the
//! trap and resolves `resolve_after` after the last matching trap, judged at the newest arrival read after
//! each batch ([`TrapAlertEvaluator::sweep`]) and at the current time when the stream is quiet
//! ([`TrapAlertEvaluator::advance`]), dated when its time ran out.
//!
//! Time is the traps' arrival (`receivedAt`): a notification carries only its sender's uptime.
//!
//! Restarts: the last event of each alert in the alerts topic restores it ([`TrapAlertEvaluator::restore`]).
//! Traps that arrived before that event were decided by the run that wrote it and change nothing when read
//! again. A restored self-clearing alert resolves no earlier than `resolve_after` after the restart, as the
//! traps that kept it firing may have been read and committed before it: a restart can delay an event,
//! never repeat one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::record::alert::snmp_alert_key;
use crate::record::{AlertEvent, AlertStatus, SnmpAlert, SnmpTrapRecord};
use crate::sinks::arrival_clock;
use crate::sinks::trap_alert_rules::{TrapResolution, TrapRole, TrapRule};

#[derive(Debug)]
pub struct TrapAlertEvaluator {
    rules: Vec<TrapRule>,
    /// By alert key (`rule/device/ifIndex`, or `rule/device`): one once its trap came.
    alerts: HashMap<String, TrapAlert>,
    /// The newest arrival read, or the time [`TrapAlertEvaluator::advance`] moved it to.
    clock: Option<DateTime<Utc>>,
}

/// One rule's alert on one device's interface.
#[derive(Debug)]
struct TrapAlert {
    /// The rule's index in the evaluator's list.
    rule: usize,
    device: String,
    device_name: Option<String>,
    /// The arrival of the newest trap decided on; a trap before it (read again after a restart) changes
    /// nothing.
    newest: Option<DateTime<Utc>>,
    /// Restored from an event at this time.
    restored_at: Option<DateTime<Utc>>,
    firing_since: Option<DateTime<Utc>>,
    /// A firing self-clearing alert: when it resolves unless another trap comes first.
    resolves_at: Option<DateTime<Utc>>,
    /// The trap that decided last, carried in events.
    snmp: SnmpAlert,
}

impl TrapAlertEvaluator {
    pub fn new(rules: Vec<TrapRule>) -> Self {
        Self {
            rules,
            alerts: HashMap::new(),
            clock: None,
        }
    }

    /// No rules: the sink reads no traps.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Alerts firing now (for the log at start).
    pub fn firing(&self) -> usize {
        self.alerts
            .values()
            .filter(|alert| alert.firing_since.is_some())
            .count()
    }

    /// Restores each trap alert from its last event (in topic order), `now` being the restart. Other
    /// families' alerts (an interface alert carries `snmp` too, without a trap) and alerts of rules no longer
    /// configured are skipped.
    pub fn restore(&mut self, events: impl IntoIterator<Item = AlertEvent>, now: DateTime<Utc>) {
        for event in events {
            let Some(snmp) = event.snmp.as_ref().filter(|snmp| snmp.trap_oid.is_some()) else {
                continue;
            };
            let Some(index) = self.rules.iter().position(|rule| rule.name == event.rule) else {
                continue;
            };
            let alert = self
                .alerts
                .entry(event.alert_key())
                .or_insert_with(|| TrapAlert::new(index, event.serial.clone(), snmp.clone()));
            alert.restore(&self.rules[index], &event, now);
        }
    }

    /// Feeds one trap to every rule; returns the events it caused.
    pub fn observe(&mut self, record: &SnmpTrapRecord) -> Vec<AlertEvent> {
        self.clock = self.clock.max(Some(record.received_at));
        let mut events = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let Some(role) = rule.role(record) else {
                continue;
            };
            let device = record.key();
            let key = snmp_alert_key(&rule.name, &device, record.if_index);
            match role {
                TrapRole::Fires => {
                    let alert = self
                        .alerts
                        .entry(key)
                        .or_insert_with(|| TrapAlert::new(index, device, rule.alert_of(record)));
                    events.extend(alert.fire(rule, record));
                }
                // Nothing to resolve unless its trap came.
                TrapRole::Resolves => {
                    if let Some(alert) = self.alerts.get_mut(&key) {
                        events.extend(alert.resolve(rule, record));
                    }
                }
            }
        }
        events
    }

    /// Judges every alert at the newest arrival read (after each batch).
    pub fn sweep(&mut self) -> Vec<AlertEvent> {
        match self.clock {
            Some(clock) => self.advance(clock),
            None => Vec::new(),
        }
    }

    /// Moves the clock on to `now` (never back): self-clearing alerts whose time ran out resolve, dated when
    /// it ran out; alerts with nothing left to remember are forgotten.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<AlertEvent> {
        let rules = &self.rules;
        arrival_clock::advance(
            &mut self.clock,
            &mut self.alerts,
            now,
            |alert, now| alert.settle(&rules[alert.rule], now),
            TrapAlert::is_forgettable,
        )
    }
}

impl TrapAlert {
    fn new(rule: usize, device: String, snmp: SnmpAlert) -> Self {
        Self {
            rule,
            device,
            device_name: None,
            newest: None,
            restored_at: None,
            firing_since: None,
            resolves_at: None,
            snmp,
        }
    }

    fn restore(&mut self, rule: &TrapRule, event: &AlertEvent, now: DateTime<Utc>) {
        let firing = event.status == AlertStatus::Firing;
        self.firing_since = firing.then_some(event.starts_at);
        self.resolves_at = match &rule.resolution {
            TrapResolution::After(after) if firing => Some(event.ts.max(now) + *after),
            _ => None,
        };
        self.newest = Some(event.ts);
        self.restored_at = Some(event.ts);
        self.device_name.clone_from(&event.device_name);
        if let Some(snmp) = &event.snmp {
            self.snmp.clone_from(snmp);
        }
    }

    /// The rule's trap: a self-clearing alert whose time ran out before it came resolves first; then the
    /// alert fires, or, already firing, a self-clearing one is kept firing longer.
    fn fire(&mut self, rule: &TrapRule, record: &SnmpTrapRecord) -> Vec<AlertEvent> {
        let arrival = record.received_at;
        let mut events = Vec::new();
        if self.is_decided(arrival) {
            return events;
        }
        events.extend(self.settle(rule, arrival));
        self.newest = Some(arrival);
        self.device_name.clone_from(&record.device.device_name);
        let cleared_at = match &rule.resolution {
            TrapResolution::After(after) => Some(arrival + *after),
            TrapResolution::Trap(_) => None,
        };
        if self.firing_since.is_some() {
            self.resolves_at = self.resolves_at.max(cleared_at);
            return events;
        }
        self.firing_since = Some(arrival);
        self.resolves_at = cleared_at;
        self.decided_by(rule, record);
        events.push(self.event(rule, AlertStatus::Firing, arrival));
        events
    }

    /// The rule's resolving trap: a firing alert resolves.
    fn resolve(&mut self, rule: &TrapRule, record: &SnmpTrapRecord) -> Option<AlertEvent> {
        let arrival = record.received_at;
        if self.is_decided(arrival) {
            return None;
        }
        self.newest = Some(arrival);
        self.firing_since?;
        self.decided_by(rule, record);
        let event = self.event(rule, AlertStatus::Resolved, arrival);
        self.firing_since = None;
        Some(event)
    }

    /// A self-clearing alert whose time ran out by `now` resolves, dated when it ran out.
    fn settle(&mut self, rule: &TrapRule, now: DateTime<Utc>) -> Option<AlertEvent> {
        let resolves_at = self.resolves_at.filter(|at| *at <= now)?;
        self.firing_since?;
        let event = self.event(rule, AlertStatus::Resolved, resolves_at);
        self.firing_since = None;
        self.resolves_at = None;
        Some(event)
    }

    /// A trap that arrived before the newest one decided on, or, after a restart, no later than the restored
    /// event: read again. The receiver stamps a batch of datagrams with one arrival time, so a flap's linkDown
    /// and linkUp can share it; `<=` against the restored event keeps them from firing and resolving twice.
    fn is_decided(&self, arrival: DateTime<Utc>) -> bool {
        self.newest.is_some_and(|newest| arrival < newest)
            || self.restored_at.is_some_and(|restored_at| arrival <= restored_at)
    }

    /// The trap that decides is the one events carry; a linkUp without the `ifName` binding keeps the name
    /// its linkDown gave.
    fn decided_by(&mut self, rule: &TrapRule, record: &SnmpTrapRecord) {
        let known_name = self.snmp.if_name.take();
        self.snmp = rule.alert_of(record);
        if self.snmp.if_name.is_none() {
            self.snmp.if_name = known_name;
        }
    }

    /// Nothing left to remember: not firing, and, when restored, a trap read since (the device's traps read
    /// again after the restart are behind it, so none can be taken for new).
    fn is_forgettable(&self) -> bool {
        let read_since_restore = arrival_clock::read_since_restore(self.restored_at, self.newest);
        self.firing_since.is_none() && read_since_restore
    }

    fn event(&self, rule: &TrapRule, status: AlertStatus, at: DateTime<Utc>) -> AlertEvent {
        AlertEvent {
            rule: rule.name.clone(),
            status,
            condition: rule.condition(),
            organization_id: String::new(),
            network_id: String::new(),
            network_name: None,
            serial: self.device.clone(),
            device_name: self.device_name.clone(),
            uplink: String::new(),
            ip: String::new(),
            value: None,
            threshold: 0.0,
            starts_at: self.firing_since.unwrap_or(at),
            ends_at: (status == AlertStatus::Resolved).then_some(at),
            ts: at,
            syslog: None,
            snmp: Some(self.snmp.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::record::device::DeviceFields;
    use crate::record::snmp_trap;

    const LINK_DOWN: &str = "1.3.6.1.6.3.1.1.5.3";
    const LINK_UP: &str = "1.3.6.1.6.3.1.1.5.4";
    const COLD_START: &str = "1.3.6.1.6.3.1.1.5.1";
    const A: &str = "10.0.0.1";
    const B: &str = "10.0.0.2";

    /// 10:00:00 plus `seconds`.
    fn time(seconds: i64) -> DateTime<Utc> {
        "2026-12-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(seconds)
    }

    /// A trap from `sender` (a device `[inventory]` does not know), arrived at 10:00:00 plus `seconds`.
    fn trap(sender: &str, oid: &str, if_index: Option<i64>, seconds: i64) -> SnmpTrapRecord {
        SnmpTrapRecord {
            ts: time(seconds),
            received_at: time(seconds),
            source_ip: sender.parse().unwrap(),
            trap_oid: Some(oid.to_owned()),
            trap_name: None,
            if_index,
            if_name: if_index.map(|index| format!("Gi0/{index}")),
            device: DeviceFields::default(),
            ..snmp_trap::sample()
        }
    }

    fn link_rule() -> TrapRule {
        TrapRule {
            name: "link".into(),
            trap: LINK_DOWN.into(),
            resolution: TrapResolution::Trap(LINK_UP.into()),
            source_ips: Vec::new(),
        }
    }

    fn restart_rule(resolve_after_s: i64) -> TrapRule {
        TrapRule {
            name: "restart".into(),
            trap: COLD_START.into(),
            resolution: TrapResolution::After(TimeDelta::seconds(resolve_after_s)),
            source_ips: Vec::new(),
        }
    }

    /// (alert key, status, seconds after 10:00) of each event.
    type Seen = Vec<(String, AlertStatus, i64)>;

    fn seen(events: Vec<AlertEvent>) -> Seen {
        events
            .into_iter()
            .map(|event| {
                (
                    event.alert_key(),
                    event.status,
                    (event.ts - time(0)).num_seconds(),
                )
            })
            .collect()
    }

    /// The traps as one batch: each observed, then the sweep after the batch.
    fn feed(evaluator: &mut TrapAlertEvaluator, traps: &[SnmpTrapRecord]) -> Seen {
        let mut events = Vec::new();
        for record in traps {
            events.extend(evaluator.observe(record));
        }
        events.extend(evaluator.sweep());
        seen(events)
    }

    fn event(key: &str, status: AlertStatus, seconds: i64) -> (String, AlertStatus, i64) {
        (key.to_owned(), status, seconds)
    }

    #[test]
    fn link_down_fires_once_and_only_its_interfaces_link_up_resolves() {
        let mut evaluator = TrapAlertEvaluator::new(vec![link_rule()]);
        let traps = [
            trap(A, LINK_DOWN, Some(3), 0),
            // Again while firing: nothing.
            trap(A, LINK_DOWN, Some(3), 5),
            // Another interface's linkUp, another device's linkUp for the same ifIndex: nothing.
            trap(A, LINK_UP, Some(4), 10),
            trap(B, LINK_UP, Some(3), 15),
        ];
        assert_eq!(
            feed(&mut evaluator, &traps),
            vec![event("link/10.0.0.1/3", AlertStatus::Firing, 0)]
        );
        assert_eq!(evaluator.firing(), 1);
        assert_eq!(
            seen(evaluator.advance(time(100_000))),
            vec![],
            "no resolution by time"
        );
        assert_eq!(
            feed(&mut evaluator, &[trap(A, LINK_UP, Some(3), 20)]),
            vec![event("link/10.0.0.1/3", AlertStatus::Resolved, 20)]
        );
        assert_eq!(evaluator.firing(), 0);
        // A linkUp again, resolved already: nothing; linkDown again: a new firing.
        let again = [trap(A, LINK_UP, Some(3), 25), trap(A, LINK_DOWN, Some(3), 30)];
        assert_eq!(
            feed(&mut evaluator, &again),
            vec![event("link/10.0.0.1/3", AlertStatus::Firing, 30)]
        );
    }

    #[test]
    fn interfaces_and_devices_are_alerts_of_their_own() {
        let mut evaluator = TrapAlertEvaluator::new(vec![link_rule()]);
        let traps = [
            trap(A, LINK_DOWN, Some(3), 0),
            trap(A, LINK_DOWN, Some(4), 1),
            trap(B, LINK_DOWN, Some(3), 2),
            // Without an ifIndex binding: one alert for the device.
            trap(B, LINK_DOWN, None, 3),
            trap(B, LINK_UP, None, 4),
        ];
        assert_eq!(
            feed(&mut evaluator, &traps),
            vec![
                event("link/10.0.0.1/3", AlertStatus::Firing, 0),
                event("link/10.0.0.1/4", AlertStatus::Firing, 1),
                event("link/10.0.0.2/3", AlertStatus::Firing, 2),
                event("link/10.0.0.2", AlertStatus::Firing, 3),
                event("link/10.0.0.2", AlertStatus::Resolved, 4),
            ]
        );
    }

    #[test]
    fn the_event_says_the_trap_the_interface_and_the_sender() {
        let mut evaluator = TrapAlertEvaluator::new(vec![link_rule()]);
        let firing = evaluator.observe(&trap(A, LINK_DOWN, Some(3), 0)).remove(0);
        assert_eq!(
            firing.condition,
            "trap linkDown, resolved by linkUp for the same ifIndex"
        );
        assert_eq!(firing.serial, A);
        assert_eq!((firing.value, firing.threshold), (None, 0.0));
        assert_eq!((firing.starts_at, firing.ends_at), (time(0), None));
        let snmp = firing.snmp.unwrap();
        assert_eq!(snmp.address.to_string(), A);
        assert_eq!(snmp.trap_oid.as_deref(), Some(LINK_DOWN));
        assert_eq!((snmp.if_index, snmp.if_name.as_deref()), (Some(3), Some("Gi0/3")));
        // The linkUp decides the resolution; without an ifName binding, the linkDown's name stays.
        let mut link_up = trap(A, LINK_UP, Some(3), 7);
        link_up.if_name = None;
        let resolved = evaluator.observe(&link_up).remove(0);
        assert_eq!((resolved.starts_at, resolved.ends_at), (time(0), Some(time(7))));
        let snmp = resolved.snmp.unwrap();
        assert_eq!(snmp.trap_oid.as_deref(), Some(LINK_UP));
        assert_eq!(snmp.if_name.as_deref(), Some("Gi0/3"));
    }

    #[test]
    fn a_trap_without_a_resolving_one_clears_itself_after_the_last() {
        let mut evaluator = TrapAlertEvaluator::new(vec![restart_rule(300)]);
        let traps = [trap(A, COLD_START, None, 0), trap(A, COLD_START, None, 100)];
        assert_eq!(
            feed(&mut evaluator, &traps),
            vec![event("restart/10.0.0.1", AlertStatus::Firing, 0)]
        );
        assert_eq!(seen(evaluator.advance(time(399))), vec![]);
        // Noticed late, dated when its time ran out: 300 s after the last trap.
        assert_eq!(
            seen(evaluator.advance(time(1000))),
            vec![event("restart/10.0.0.1", AlertStatus::Resolved, 400)]
        );
        assert!(evaluator.alerts.is_empty(), "forgotten once resolved");
        // A trap after its time ran out, before a sweep noticed: resolved first, then fires again.
        let late = [trap(B, COLD_START, None, 2000), trap(B, COLD_START, None, 2400)];
        let mut events = Vec::new();
        for record in &late {
            events.extend(evaluator.observe(record));
        }
        assert_eq!(
            seen(events),
            vec![
                event("restart/10.0.0.2", AlertStatus::Firing, 2000),
                event("restart/10.0.0.2", AlertStatus::Resolved, 2300),
                event("restart/10.0.0.2", AlertStatus::Firing, 2400),
            ]
        );
        let snmp = evaluator
            .observe(&trap(A, COLD_START, None, 3000))
            .remove(0)
            .snmp
            .unwrap();
        assert_eq!(snmp.resolve_after_seconds, Some(300));
    }

    #[test]
    fn a_restart_repeats_nothing() {
        let traps = [trap(A, LINK_DOWN, Some(3), 0), trap(A, LINK_DOWN, Some(4), 5)];
        let mut before = TrapAlertEvaluator::new(vec![link_rule()]);
        let mut events: Vec<AlertEvent> = traps.iter().flat_map(|record| before.observe(record)).collect();
        events.extend(before.observe(&trap(A, LINK_UP, Some(4), 10)));
        assert_eq!(events.len(), 3);

        // Restarted: the traps are read again, the alerts topic says port 3 fires and port 4 resolved.
        let mut after = TrapAlertEvaluator::new(vec![link_rule()]);
        after.restore(events.clone(), time(50));
        assert_eq!(after.firing(), 1);
        assert_eq!(feed(&mut after, &traps), vec![], "no second firing");
        assert_eq!(
            feed(&mut after, &[trap(A, LINK_UP, Some(3), 60)]),
            vec![event("link/10.0.0.1/3", AlertStatus::Resolved, 60)]
        );
        // Port 4 after its restored resolution: a new linkDown fires.
        assert_eq!(
            feed(&mut after, &[trap(A, LINK_DOWN, Some(4), 70)]),
            vec![event("link/10.0.0.1/4", AlertStatus::Firing, 70)]
        );
    }

    #[test]
    fn a_flap_read_in_one_batch_is_not_repeated_after_a_restart() {
        // The receiver stamps a batch with one arrival time: linkDown and linkUp of a flap can share it.
        for flap in [
            [trap(A, LINK_DOWN, Some(3), 10), trap(A, LINK_UP, Some(3), 10)],
            [trap(A, LINK_UP, Some(3), 10), trap(A, LINK_DOWN, Some(3), 10)],
        ] {
            let mut before = TrapAlertEvaluator::new(vec![link_rule()]);
            let events: Vec<AlertEvent> = flap.iter().flat_map(|record| before.observe(record)).collect();
            assert!(!events.is_empty());
            let mut after = TrapAlertEvaluator::new(vec![link_rule()]);
            after.restore(events, time(50));
            assert_eq!(
                feed(&mut after, &flap),
                vec![],
                "read again after the restart: nothing new"
            );
        }
    }

    #[test]
    fn a_restored_self_clearing_alert_resolves_late_rather_than_early() {
        let mut before = TrapAlertEvaluator::new(vec![restart_rule(60)]);
        let events = before.observe(&trap(A, COLD_START, None, 0));
        let mut after = TrapAlertEvaluator::new(vec![restart_rule(60)]);
        after.restore(events, time(30));
        assert_eq!(feed(&mut after, &[trap(A, COLD_START, None, 0)]), vec![]);
        // Without the restart it resolves at 60; restored at 30, not before 90.
        assert_eq!(seen(after.advance(time(80))), vec![]);
        assert_eq!(
            seen(after.advance(time(200))),
            vec![event("restart/10.0.0.1", AlertStatus::Resolved, 90)]
        );
    }

    #[test]
    fn restore_takes_only_trap_alerts_of_known_rules() {
        let mut events = TrapAlertEvaluator::new(vec![link_rule()]).observe(&trap(A, LINK_DOWN, Some(3), 0));
        let mut interface_like = events[0].clone();
        if let Some(snmp) = interface_like.snmp.as_mut() {
            snmp.trap_oid = None;
            snmp.if_index = Some(9);
        }
        let mut retired = events[0].clone();
        retired.rule = "retired".into();
        let mut uplink_like = events[0].clone();
        uplink_like.snmp = None;
        events.extend([interface_like, retired, uplink_like]);
        let mut restored = TrapAlertEvaluator::new(vec![link_rule()]);
        restored.restore(events, time(10));
        assert_eq!(restored.firing(), 1);
        assert_eq!(restored.alerts.len(), 1);
    }
}
