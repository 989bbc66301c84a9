//! Interface alert rules, evaluated per device and interface on the `snmp.interface/1` records of
//! `[[sources.snmp]]` as they arrive (pure: no I/O, so every rule is tested without Kafka).
//!
//! A rule compares one of the record's rates with a threshold: its alert fires when `for_polls` consecutive
//! polls of one interface were above it (`inUtilizationPercent > 90 for 3 consecutive polls`), and resolves
//! on the first poll at or below. A poll without the rate (`rateGap`: the interface's first poll, a reboot, a
//! counter reset, a renumbered interface; or utilisation of an interface without a speed) neither fires,
//! resolves nor breaks a run: nothing is known of that interval.
//!
//! An alert is per device (the record's key: its serial from `[inventory]`, else its inventory name, else the
//! address polled) and `ifIndex`. Polls at or before the newest one seen of an interface change nothing, so
//! records read again after a restart decide nothing twice; the firing state itself is restored from the
//! alerts topic ([`InterfaceAlertEvaluator::restore`]) and the run starts afresh after the poll its event was
//! decided at: a restart can delay an event, never repeat one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use glob::Pattern;

use crate::record::alert::snmp_alert_key;
use crate::record::{AlertEvent, AlertStatus, SnmpAlert, SnmpInterfaceRecord};
use crate::sinks::arrival_clock;
use crate::sinks::syslog_alert_rules::ANY_CASE;

/// The rates a rule can compare, by their `snmp.interface/1` field names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterfaceMetric {
    InUtilizationPercent,
    OutUtilizationPercent,
    InErrorsPerSecond,
    OutErrorsPerSecond,
    InDiscardsPerSecond,
    OutDiscardsPerSecond,
    InBitsPerSecond,
    OutBitsPerSecond,
    InPacketsPerSecond,
    OutPacketsPerSecond,
}

/// Every metric with its name, as configs and records write it.
const METRICS: [(&str, InterfaceMetric); 10] = [
    ("inUtilizationPercent", InterfaceMetric::InUtilizationPercent),
    ("outUtilizationPercent", InterfaceMetric::OutUtilizationPercent),
    ("inErrorsPerSecond", InterfaceMetric::InErrorsPerSecond),
    ("outErrorsPerSecond", InterfaceMetric::OutErrorsPerSecond),
    ("inDiscardsPerSecond", InterfaceMetric::InDiscardsPerSecond),
    ("outDiscardsPerSecond", InterfaceMetric::OutDiscardsPerSecond),
    ("inBitsPerSecond", InterfaceMetric::InBitsPerSecond),
    ("outBitsPerSecond", InterfaceMetric::OutBitsPerSecond),
    ("inPacketsPerSecond", InterfaceMetric::InPacketsPerSecond),
    ("outPacketsPerSecond", InterfaceMetric::OutPacketsPerSecond),
];

impl InterfaceMetric {
    /// Whether the metric is a share of the interface's speed, so a threshold must be below 100.
    pub fn is_percent(self) -> bool {
        matches!(self, Self::InUtilizationPercent | Self::OutUtilizationPercent)
    }

    /// A metric by its record field name; the error lists them all.
    pub fn parse(text: &str) -> Result<Self, String> {
        METRICS
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, metric)| *metric)
            .ok_or_else(|| {
                let names: Vec<&str> = METRICS.iter().map(|(name, _)| *name).collect();
                format!("{text:?}: use {}", names.join(", "))
            })
    }

    pub fn name(self) -> &'static str {
        METRICS
            .iter()
            .find(|(_, metric)| *metric == self)
            .map(|(name, _)| *name)
            .expect("every metric is in METRICS")
    }

    fn value(self, record: &SnmpInterfaceRecord) -> Option<f64> {
        match self {
            Self::InUtilizationPercent => record.in_utilization_percent,
            Self::OutUtilizationPercent => record.out_utilization_percent,
            Self::InErrorsPerSecond => record.in_errors_per_second,
            Self::OutErrorsPerSecond => record.out_errors_per_second,
            Self::InDiscardsPerSecond => record.in_discards_per_second,
            Self::OutDiscardsPerSecond => record.out_discards_per_second,
            Self::InBitsPerSecond => record.in_bits_per_second,
            Self::OutBitsPerSecond => record.out_bits_per_second,
            Self::InPacketsPerSecond => record.in_packets_per_second,
            Self::OutPacketsPerSecond => record.out_packets_per_second,
        }
    }
}

/// A validated `[[sinks.alerts.interface_rule]]`.
#[derive(Clone, Debug)]
pub struct InterfaceRule {
    pub name: String,
    pub metric: InterfaceMetric,
    pub above: f64,
    /// Consecutive polls above that fire the alert; at least 1.
    pub for_polls: u32,
    /// `ifName` globs, any case; empty: every interface.
    pub interfaces: Vec<Pattern>,
}

impl InterfaceRule {
    /// The rule in words, carried in every event.
    pub fn condition(&self) -> String {
        let polls = if self.for_polls == 1 {
            "poll"
        } else {
            "consecutive polls"
        };
        let mut condition = format!(
            "{} > {} for {} {polls}",
            self.metric.name(),
            self.above,
            self.for_polls
        );
        if !self.interfaces.is_empty() {
            let globs: Vec<&str> = self.interfaces.iter().map(Pattern::as_str).collect();
            condition.push_str(&format!(", ifName {}", globs.join(" or ")));
        }
        condition
    }

    /// Whether the rule watches this interface: any, or one whose `ifName` a glob matches.
    fn watches(&self, record: &SnmpInterfaceRecord) -> bool {
        if self.interfaces.is_empty() {
            return true;
        }
        let Some(if_name) = record.if_name.as_deref() else {
            return false;
        };
        self.interfaces
            .iter()
            .any(|pattern| pattern.matches_with(if_name, ANY_CASE))
    }
}

/// One rule's view of one interface.
#[derive(Debug, Default)]
struct InterfaceState {
    /// Newest poll time seen; older or equal polls are ignored.
    newest: Option<DateTime<Utc>>,
    /// Restored from an event at this time.
    restored_at: Option<DateTime<Utc>>,
    /// Consecutive polls above, and when the first of them was.
    run: u32,
    run_since: Option<DateTime<Utc>>,
    firing_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct InterfaceAlertEvaluator {
    rules: Vec<InterfaceRule>,
    /// By alert key (`rule/device/ifIndex`): an interface while it runs above, fires, or was restored and
    /// not yet read past.
    states: HashMap<String, InterfaceState>,
}

impl InterfaceAlertEvaluator {
    pub fn new(rules: Vec<InterfaceRule>) -> Self {
        Self {
            rules,
            states: HashMap::new(),
        }
    }

    /// No rules: the sink reads no interface records.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Alerts firing now (for the log at start).
    pub fn firing(&self) -> usize {
        self.states
            .values()
            .filter(|state| state.firing_since.is_some())
            .count()
    }

    /// Restores each interface alert from its last event (in topic order): firing or not, and the poll time
    /// it was decided at. Other families' alerts (a trap alert carries `snmp` too, without a metric) and
    /// alerts of rules no longer configured are skipped.
    pub fn restore(&mut self, events: impl IntoIterator<Item = AlertEvent>) {
        for event in events {
            let interface_alert = event.snmp.as_ref().is_some_and(|snmp| snmp.metric.is_some());
            if !interface_alert || !self.rules.iter().any(|rule| rule.name == event.rule) {
                continue;
            }
            let state = self.states.entry(event.alert_key()).or_default();
            state.firing_since = (event.status == AlertStatus::Firing).then_some(event.starts_at);
            state.newest = Some(event.ts);
            state.restored_at = Some(event.ts);
            state.run = 0;
            state.run_since = None;
        }
    }

    /// Feeds one poll of one interface to every rule; returns the events it caused.
    pub fn observe(&mut self, record: &SnmpInterfaceRecord) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for rule in &self.rules {
            if !rule.watches(record) {
                continue;
            }
            let device = record.key();
            let key = snmp_alert_key(&rule.name, &device, Some(i64::from(record.if_index)));
            let state = self.states.entry(key.clone()).or_default();
            if state.newest.is_some_and(|newest| record.ts <= newest) {
                continue;
            }
            state.newest = Some(record.ts);
            // A poll without the rate says nothing of the interval.
            let value = rule.metric.value(record).filter(|_| record.rate_gap.is_none());
            if let Some(value) = value
                && let Some((status, starts_at)) = state.take(rule, value, record.ts)
            {
                events.push(event(rule, record, device, status, starts_at, value));
            }
            if state.is_idle() {
                self.states.remove(&key);
            }
        }
        events
    }
}

impl InterfaceState {
    /// One poll's value: the run grows or ends; the alert fires when the run is long enough and resolves
    /// when it ends. Returns the event's status and the time the match began.
    fn take(
        &mut self,
        rule: &InterfaceRule,
        value: f64,
        ts: DateTime<Utc>,
    ) -> Option<(AlertStatus, DateTime<Utc>)> {
        if value > rule.above {
            self.run = self.run.saturating_add(1);
            let since = *self.run_since.get_or_insert(ts);
            if self.firing_since.is_none() && self.run >= rule.for_polls {
                self.firing_since = Some(since);
                return Some((AlertStatus::Firing, since));
            }
            return None;
        }
        self.run = 0;
        self.run_since = None;
        let since = self.firing_since.take()?;
        Some((AlertStatus::Resolved, since))
    }

    /// Nothing to remember: no run, not firing, and, when restored, a poll read since (the interface's
    /// polls read again after the restart are behind it, so none can be taken for new).
    fn is_idle(&self) -> bool {
        let read_since_restore = arrival_clock::read_since_restore(self.restored_at, self.newest);
        self.run == 0 && self.firing_since.is_none() && read_since_restore
    }
}

/// An interface alert's event: the device, the interface and the value of the poll that decided.
fn event(
    rule: &InterfaceRule,
    record: &SnmpInterfaceRecord,
    device: String,
    status: AlertStatus,
    starts_at: DateTime<Utc>,
    value: f64,
) -> AlertEvent {
    AlertEvent {
        rule: rule.name.clone(),
        status,
        condition: rule.condition(),
        organization_id: String::new(),
        network_id: String::new(),
        network_name: None,
        serial: device,
        device_name: record
            .device
            .device_name
            .clone()
            .or_else(|| record.sys_name.clone()),
        uplink: String::new(),
        ip: String::new(),
        value: Some(value),
        threshold: rule.above,
        starts_at,
        ends_at: (status == AlertStatus::Resolved).then_some(record.ts),
        ts: record.ts,
        syslog: None,
        snmp: Some(SnmpAlert {
            address: record.target.ip(),
            trap_oid: None,
            trap_name: None,
            if_index: Some(i64::from(record.if_index)),
            if_name: record.if_name.clone(),
            metric: Some(rule.metric.name().to_owned()),
            resolve_after_seconds: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::record::SnmpRateGap;

    /// A poll of `if_index` on the sample device (serial FOC1234X) at 10:00 plus `minute` minutes, its
    /// inbound utilisation `utilization` (null with a rate gap).
    fn poll(if_index: u32, minute: i64, utilization: Option<f64>) -> SnmpInterfaceRecord {
        let ts = "2026-12-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::minutes(minute);
        SnmpInterfaceRecord {
            ts,
            if_index,
            if_name: Some(format!("Gi1/0/{if_index}")),
            in_utilization_percent: utilization,
            rate_gap: utilization.is_none().then_some(SnmpRateGap::Rebooted),
            ..SnmpInterfaceRecord::sample()
        }
    }

    fn busy_rule(for_polls: u32) -> InterfaceRule {
        InterfaceRule {
            name: "busy".into(),
            metric: InterfaceMetric::InUtilizationPercent,
            above: 90.0,
            for_polls,
            interfaces: Vec::new(),
        }
    }

    /// (alert key, status, minute) of each event.
    fn statuses(
        evaluator: &mut InterfaceAlertEvaluator,
        polls: &[SnmpInterfaceRecord],
    ) -> Vec<(String, AlertStatus, i64)> {
        let start = "2026-12-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        polls
            .iter()
            .flat_map(|record| evaluator.observe(record))
            .map(|event| (event.alert_key(), event.status, (event.ts - start).num_minutes()))
            .collect()
    }

    fn seen(key: &str, status: AlertStatus, minute: i64) -> (String, AlertStatus, i64) {
        (key.to_owned(), status, minute)
    }

    #[test]
    fn fires_after_n_polls_above_ignores_rate_gaps_and_resolves_at_or_below() {
        let mut evaluator = InterfaceAlertEvaluator::new(vec![busy_rule(3)]);
        let polls = [
            poll(1, 0, Some(95.0)),
            poll(1, 1, Some(95.0)),
            poll(1, 2, Some(50.0)), // breaks the run
            poll(1, 3, Some(95.0)),
            poll(1, 4, None), // a rate gap: neither matches nor breaks
            poll(1, 5, Some(91.0)),
            poll(1, 6, Some(99.0)), // the third above: fires
            poll(1, 7, Some(99.0)), // still firing: nothing
            poll(1, 8, None),       // nor resolves
            poll(1, 9, Some(90.0)), // at the threshold: resolves
            poll(1, 10, Some(10.0)),
        ];
        let events = statuses(&mut evaluator, &polls);
        assert_eq!(
            events,
            vec![
                seen("busy/FOC1234X/1", AlertStatus::Firing, 6),
                seen("busy/FOC1234X/1", AlertStatus::Resolved, 9),
            ]
        );
        assert!(evaluator.states.is_empty(), "idle interfaces are forgotten");
    }

    #[test]
    fn interfaces_are_alerts_of_their_own() {
        let mut evaluator = InterfaceAlertEvaluator::new(vec![busy_rule(2)]);
        let polls = [
            poll(1, 0, Some(95.0)),
            poll(2, 0, Some(95.0)),
            poll(1, 1, Some(95.0)),
            poll(2, 1, Some(5.0)),
            poll(2, 2, Some(95.0)),
        ];
        assert_eq!(
            statuses(&mut evaluator, &polls),
            vec![seen("busy/FOC1234X/1", AlertStatus::Firing, 1)]
        );
    }

    #[test]
    fn the_event_says_the_interface_and_the_value() {
        let mut evaluator = InterfaceAlertEvaluator::new(vec![busy_rule(2)]);
        evaluator.observe(&poll(3, 0, Some(92.0)));
        let event = evaluator.observe(&poll(3, 1, Some(97.5))).remove(0);
        assert_eq!(
            event.condition,
            "inUtilizationPercent > 90 for 2 consecutive polls"
        );
        assert_eq!((event.value, event.threshold), (Some(97.5), 90.0));
        assert_eq!(event.starts_at, poll(3, 0, None).ts);
        assert_eq!(event.device_name.as_deref(), Some("core-sw1"));
        let snmp = event.snmp.unwrap();
        assert_eq!(snmp.address.to_string(), "10.0.0.1");
        assert_eq!(
            (snmp.if_index, snmp.if_name.as_deref()),
            (Some(3), Some("Gi1/0/3"))
        );
        assert_eq!(snmp.metric.as_deref(), Some("inUtilizationPercent"));
        assert_eq!(snmp.trap_oid, None);
        assert_eq!(busy_rule(1).condition(), "inUtilizationPercent > 90 for 1 poll");
    }

    #[test]
    fn interface_globs_pick_the_interfaces() {
        let rule = InterfaceRule {
            interfaces: vec![Pattern::new("gi1/0/1*").unwrap()],
            ..busy_rule(1)
        };
        let mut evaluator = InterfaceAlertEvaluator::new(vec![rule]);
        let polls = [poll(2, 0, Some(95.0)), poll(12, 0, Some(95.0))];
        assert_eq!(
            statuses(&mut evaluator, &polls),
            vec![seen("busy/FOC1234X/12", AlertStatus::Firing, 0)]
        );
    }

    #[test]
    fn metric_names_are_the_record_fields_and_a_wrong_one_lists_them() {
        assert_eq!(
            InterfaceMetric::parse("outDiscardsPerSecond"),
            Ok(InterfaceMetric::OutDiscardsPerSecond)
        );
        for (name, metric) in METRICS {
            assert_eq!(metric.name(), name);
        }
        let reason = InterfaceMetric::parse("utilization").unwrap_err();
        assert!(
            reason.contains("inUtilizationPercent") && reason.contains("outBitsPerSecond"),
            "{reason}"
        );
    }

    #[test]
    fn a_restart_repeats_nothing() {
        let polls: Vec<SnmpInterfaceRecord> = (0..4).map(|minute| poll(1, minute, Some(95.0))).collect();
        let mut before = InterfaceAlertEvaluator::new(vec![busy_rule(2)]);
        let events: Vec<AlertEvent> = polls.iter().flat_map(|record| before.observe(record)).collect();
        assert_eq!(events.len(), 1);

        // Restarted: the polls are read again, the alerts topic says it fires.
        let mut after = InterfaceAlertEvaluator::new(vec![busy_rule(2)]);
        after.restore(events.clone());
        assert_eq!(after.firing(), 1);
        assert_eq!(statuses(&mut after, &polls), vec![], "no second firing");
        assert_eq!(
            statuses(&mut after, &[poll(1, 5, Some(1.0))]),
            vec![seen("busy/FOC1234X/1", AlertStatus::Resolved, 5)]
        );

        // Resolved before the restart: its polls read again fire nothing.
        let mut history = polls.clone();
        history.push(poll(1, 4, Some(1.0)));
        let mut resolved_before = InterfaceAlertEvaluator::new(vec![busy_rule(2)]);
        let events: Vec<AlertEvent> = history
            .iter()
            .flat_map(|record| resolved_before.observe(record))
            .collect();
        assert_eq!(events.len(), 2);
        let mut reread = InterfaceAlertEvaluator::new(vec![busy_rule(2)]);
        reread.restore(events);
        assert_eq!(reread.firing(), 0);
        assert_eq!(statuses(&mut reread, &history), vec![]);
    }
}
