//! Log alerts: syslog lines through the [`SyslogRule`]s, counted per rule and device in a sliding window,
//! fired and resolved (pure: no I/O, and no clock of its own).
//!
//! A rule fires for a device when `count` matching lines from it arrived within `within`, and resolves when
//! the last `within` holds fewer again. With the defaults (one line within 300 s) a log alert is an event
//! that clears itself: it fires on a matching line and resolves 300 s after the last one.
//!
//! Time is the lines' arrival (`receivedAt`): device clocks drift and RFC 3164 stamps have no year or zone,
//! while every arrival comes from semaphore's own clock. The evaluator's clock is the newest arrival it has
//! read; [`SyslogAlertEvaluator::sweep`] judges every window at it after each batch, so a device that went
//! quiet resolves in a busy stream, and [`SyslogAlertEvaluator::advance`] moves it to the current time when
//! the stream itself is quiet. A resolution is dated when its window emptied (the oldest counted line's
//! arrival plus `within`), not when it was noticed, so reading the same lines again decides the same.
//!
//! Restarts: the last event of each alert in the alerts topic restores it
//! ([`SyslogAlertEvaluator::restore`]). Lines that arrived before that event were decided by the run that
//! wrote it: read again, they only refill the window and fire nothing. Lines the run before read and
//! committed are not read again, so a restored firing alert resolves no earlier than `within` after the
//! restart: a restart can delay an event, never repeat one.
//!
//! The clock is one for all devices: while a backlog is read, a device whose partition is read behind the
//! others can see its alert resolve early (and fire again with its next lines).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::record::alert::syslog_alert_key;
use crate::record::{AlertEvent, AlertStatus, SyslogAlert, SyslogRecord};
use crate::sinks::arrival_clock;
use crate::sinks::syslog_alert_rules::{SyslogRule, device_key};

#[derive(Debug)]
pub struct SyslogAlertEvaluator {
    rules: Vec<SyslogRule>,
    /// By alert key (`rule/device`): a device has one once a line of the rule matched.
    windows: HashMap<String, LineWindow>,
    /// The newest arrival read, or the time [`SyslogAlertEvaluator::advance`] moved it to.
    clock: Option<DateTime<Utc>>,
}

/// One rule's matching lines from one device.
#[derive(Debug)]
struct LineWindow {
    /// The rule's index in the evaluator's list.
    rule: usize,
    device: String,
    /// Arrivals of the newest matching lines, oldest first; at most the rule's `count`, as older ones
    /// cannot decide anything.
    arrivals: VecDeque<DateTime<Utc>>,
    /// The newest arrival decided on; a line before it (read again after a restart) only refills the window.
    newest: Option<DateTime<Utc>>,
    /// Restored from an event at this time.
    restored_at: Option<DateTime<Utc>>,
    /// A restored firing alert: lines before this time may be missing (read and committed by the run before),
    /// so the window cannot be said to empty before a whole window after it.
    unknown_before: Option<DateTime<Utc>>,
    firing_since: Option<DateTime<Utc>>,
    /// The newest matching line, carried in events.
    line: SyslogAlert,
}

impl SyslogAlertEvaluator {
    pub fn new(rules: Vec<SyslogRule>) -> Self {
        Self {
            rules,
            windows: HashMap::new(),
            clock: None,
        }
    }

    /// No rules: the sink reads no syslog lines.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Alerts firing now (for the log at start).
    pub fn firing(&self) -> usize {
        self.windows
            .values()
            .filter(|window| window.firing_since.is_some())
            .count()
    }

    /// Restores each log alert from its last event (in topic order), `now` being the restart: firing or not,
    /// and the arrival it was decided at. Uplink alerts and alerts of rules no longer configured are skipped.
    pub fn restore(&mut self, events: impl IntoIterator<Item = AlertEvent>, now: DateTime<Utc>) {
        for event in events {
            let rule = self.rules.iter().position(|rule| rule.name == event.rule);
            if let (Some(rule), Some(line)) = (rule, &event.syslog) {
                let device = event.serial.clone();
                let window = self
                    .windows
                    .entry(event.alert_key())
                    .or_insert_with(|| LineWindow::new(rule, device, line.clone()));
                window.restore(&event, now);
            }
        }
    }

    /// Feeds one line to every rule; returns the events it caused.
    pub fn observe(&mut self, record: &SyslogRecord) -> Vec<AlertEvent> {
        self.clock = self.clock.max(Some(record.received_at));
        let mut events = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if !rule.matches(record) {
                continue;
            }
            let device = device_key(record);
            let window = self
                .windows
                .entry(syslog_alert_key(&rule.name, &device))
                .or_insert_with(|| LineWindow::new(index, device, rule.line(record)));
            events.extend(window.take(rule, record));
        }
        events
    }

    /// Judges every window at the newest arrival read (after each batch).
    pub fn sweep(&mut self) -> Vec<AlertEvent> {
        match self.clock {
            Some(clock) => self.advance(clock),
            None => Vec::new(),
        }
    }

    /// Moves the clock on to `now` (never back) and judges every window then: alerts whose window emptied
    /// resolve, dated when it emptied; windows with nothing left to remember are forgotten.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<AlertEvent> {
        let rules = &self.rules;
        arrival_clock::advance(
            &mut self.clock,
            &mut self.windows,
            now,
            |window, now| window.settle(&rules[window.rule], now),
            LineWindow::is_forgettable,
        )
    }
}

impl LineWindow {
    fn new(rule: usize, device: String, line: SyslogAlert) -> Self {
        Self {
            rule,
            device,
            arrivals: VecDeque::new(),
            newest: None,
            restored_at: None,
            unknown_before: None,
            firing_since: None,
            line,
        }
    }

    fn restore(&mut self, event: &AlertEvent, now: DateTime<Utc>) {
        self.firing_since = match event.status {
            AlertStatus::Firing => Some(event.starts_at),
            AlertStatus::Resolved => None,
        };
        self.unknown_before = match event.status {
            AlertStatus::Firing => Some(event.ts.max(now)),
            AlertStatus::Resolved => None,
        };
        self.newest = Some(event.ts);
        self.restored_at = Some(event.ts);
        self.arrivals.clear();
        if let Some(line) = &event.syslog {
            self.line.clone_from(line);
        }
    }

    /// A matching line: the window resolves first if it emptied before the line came, then counts the line,
    /// and fires when it holds `count`.
    fn take(&mut self, rule: &SyslogRule, record: &SyslogRecord) -> Vec<AlertEvent> {
        let arrival = record.received_at;
        let mut events = Vec::new();
        if self.newest.is_some_and(|newest| arrival < newest) {
            // Decided by the run that wrote the restored event: it only counts.
            self.count(rule, arrival);
            return events;
        }
        events.extend(self.settle(rule, arrival));
        self.newest = Some(arrival);
        self.line = rule.line(record);
        self.count(rule, arrival);
        if self.firing_since.is_none() && self.in_window(rule, arrival) >= rule.count {
            self.firing_since = self.arrivals.front().copied();
            events.push(self.event(rule, AlertStatus::Firing, arrival));
        }
        events
    }

    /// Keeps the arrival in time order, and only the newest `count`.
    fn count(&mut self, rule: &SyslogRule, arrival: DateTime<Utc>) {
        let at = self.arrivals.partition_point(|known| *known <= arrival);
        self.arrivals.insert(at, arrival);
        while self.arrivals.len() > rule.count {
            self.arrivals.pop_front();
        }
    }

    /// Resolves the alert if its window emptied by `now`, then forgets the lines that left the window.
    fn settle(&mut self, rule: &SyslogRule, now: DateTime<Utc>) -> Option<AlertEvent> {
        let event = match self.resolves_at(rule) {
            Some(emptied) if emptied <= now => {
                let event = self.event(rule, AlertStatus::Resolved, emptied);
                self.firing_since = None;
                self.unknown_before = None;
                Some(event)
            }
            _ => None,
        };
        let start = now - rule.within;
        while self.arrivals.front().is_some_and(|arrival| *arrival <= start) {
            self.arrivals.pop_front();
        }
        event
    }

    /// When a firing alert's window holds fewer than `count` lines, unless another line comes first.
    fn resolves_at(&self, rule: &SyslogRule) -> Option<DateTime<Utc>> {
        self.firing_since?;
        // The oldest of the `count` newest lines leaves the window `within` after it arrived.
        let oldest_counted = self.arrivals.len().checked_sub(rule.count);
        let full_until = oldest_counted.map(|index| self.arrivals[index] + rule.within);
        let known_from = self.unknown_before.map(|before| before + rule.within);
        // Neither (not reached: a firing alert holds `count` lines or was restored): a window after the last.
        let fallback = self.newest.map(|newest| newest + rule.within);
        full_until.max(known_from).or(fallback)
    }

    /// Lines of the window at `at`: arrived after `at - within` and not after `at`.
    fn in_window(&self, rule: &SyslogRule, at: DateTime<Utc>) -> usize {
        let start = at - rule.within;
        self.arrivals
            .iter()
            .filter(|arrival| **arrival > start && **arrival <= at)
            .count()
    }

    /// Nothing left to remember: not firing, no line in the window, and, when restored, a line read since
    /// (the device's lines read again after the restart are behind it, so none can be taken for new).
    fn is_forgettable(&self) -> bool {
        let read_since_restore = arrival_clock::read_since_restore(self.restored_at, self.newest);
        self.firing_since.is_none() && self.arrivals.is_empty() && read_since_restore
    }

    fn event(&self, rule: &SyslogRule, status: AlertStatus, at: DateTime<Utc>) -> AlertEvent {
        AlertEvent {
            rule: rule.name.clone(),
            status,
            condition: rule.condition(),
            organization_id: String::new(),
            network_id: String::new(),
            network_name: None,
            serial: self.device.clone(),
            device_name: self.line.hostname.clone(),
            uplink: String::new(),
            ip: String::new(),
            value: Some(self.in_window(rule, at) as f64),
            threshold: rule.count as f64,
            starts_at: self.firing_since.unwrap_or(at),
            ends_at: (status == AlertStatus::Resolved).then_some(at),
            ts: at,
            syslog: Some(self.line.clone()),
            snmp: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use glob::Pattern;

    use super::*;

    const A: &str = "10.0.0.1";
    const B: &str = "10.0.0.2";
    const UPDOWN: &str = "LINK-3-UPDOWN";

    /// 10:00:00 plus `seconds`.
    fn time(seconds: i64) -> DateTime<Utc> {
        "2026-12-03T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(seconds)
    }

    /// A Cisco line from `sender`, arrived at 10:00:00 plus `seconds`.
    fn line(sender: &str, seconds: i64, severity: u8, mnemonic: &str) -> SyslogRecord {
        serde_json::from_value(serde_json::json!({
            "ts": time(seconds), "tsSource": "message", "receivedAt": time(seconds),
            "facility": 23, "facilityName": "local7", "severity": severity, "severityName": null,
            "hostname": format!("sw-{sender}"), "appName": null, "procId": null, "msgId": null,
            "structuredData": null, "message": format!("{mnemonic} at {seconds}"), "vendor": "cisco",
            "mnemonic": mnemonic, "sequence": null, "eventType": null, "fields": null, "parseError": null,
            "invalidUtf8": false, "sourceIp": sender, "sourcePort": 514, "transport": "udp",
            "truncated": false, "raw": null
        }))
        .unwrap()
    }

    /// An up/down line from `sender` at 10:00:00 plus `seconds`.
    fn updown(sender: &str, seconds: i64) -> SyslogRecord {
        line(sender, seconds, 3, UPDOWN)
    }

    /// `LINK-*` lines of severity err or worse: `count` within `within_s`.
    fn link_rule(count: usize, within_s: i64) -> SyslogRule {
        SyslogRule {
            name: "link".into(),
            severity_at_least: Some(3),
            mnemonic: Some(Pattern::new("LINK-*").unwrap()),
            message: None,
            hostname: None,
            source_ips: Vec::new(),
            count,
            within: TimeDelta::seconds(within_s),
        }
    }

    fn link_alerts(count: usize, within_s: i64) -> SyslogAlertEvaluator {
        SyslogAlertEvaluator::new(vec![link_rule(count, within_s)])
    }

    /// (device, status, seconds after 10:00) of each event.
    type Seen = Vec<(String, AlertStatus, i64)>;

    fn seen(events: Vec<AlertEvent>) -> Seen {
        events
            .into_iter()
            .map(|event| (event.serial, event.status, (event.ts - time(0)).num_seconds()))
            .collect()
    }

    /// The lines as one batch: each observed, then the sweep after the batch.
    fn feed(evaluator: &mut SyslogAlertEvaluator, lines: &[SyslogRecord]) -> Seen {
        let mut events = Vec::new();
        for record in lines {
            events.extend(evaluator.observe(record));
        }
        events.extend(evaluator.sweep());
        seen(events)
    }

    fn firing(device: &str, seconds: i64) -> (String, AlertStatus, i64) {
        (device.to_owned(), AlertStatus::Firing, seconds)
    }

    fn resolved(device: &str, seconds: i64) -> (String, AlertStatus, i64) {
        (device.to_owned(), AlertStatus::Resolved, seconds)
    }

    #[test]
    fn one_line_fires_and_resolves_a_window_after_the_last() {
        let mut evaluator = link_alerts(1, 300);
        let lines = [
            updown(A, 0),
            // Not severe enough; then one that keeps it firing; then not the mnemonic.
            line(A, 10, 5, "LINK-5-CHANGED"),
            updown(A, 100),
            line(A, 150, 2, "SYS-2-MALLOCFAIL"),
        ];
        assert_eq!(feed(&mut evaluator, &lines), vec![firing(A, 0)]);
        assert_eq!(seen(evaluator.advance(time(399))), vec![]);
        assert_eq!(evaluator.firing(), 1);
        // Noticed late, dated when the window emptied: 300 s after the last line.
        assert_eq!(seen(evaluator.advance(time(1000))), vec![resolved(A, 400)]);
        assert_eq!(evaluator.firing(), 0);
        assert_eq!(feed(&mut evaluator, &[updown(A, 1001)]), vec![firing(A, 1001)]);
    }

    #[test]
    fn count_within_fires_on_the_nth_line_and_resolves_when_the_window_holds_fewer() {
        let mut evaluator = link_alerts(3, 60);
        // The line at 0 has left the window when the one at 70 comes; 30, 70 and 80 are three within 60 s;
        // 85 keeps three in the window.
        let times = [0, 30, 70, 80, 85];
        let lines: Vec<SyslogRecord> = times.iter().map(|seconds| updown(A, *seconds)).collect();
        assert_eq!(feed(&mut evaluator, &lines), vec![firing(A, 80)]);
        let event = evaluator.advance(time(500)).remove(0);
        // 70 leaves the window at 130, and two lines remain.
        assert_eq!((event.status, event.ts), (AlertStatus::Resolved, time(130)));
        assert_eq!(event.starts_at, time(30));
        assert_eq!(event.ends_at, Some(time(130)));
        assert_eq!((event.value, event.threshold), (Some(2.0), 3.0));
    }

    #[test]
    fn a_window_that_emptied_before_the_next_line_resolves_first() {
        let mut evaluator = link_alerts(3, 60);
        // At 90 the line at 30 leaves: two in the window, resolved; the line at 100 makes three again.
        let times = [30, 70, 80, 100];
        let lines: Vec<SyslogRecord> = times.iter().map(|seconds| updown(A, *seconds)).collect();
        let mut events = Vec::new();
        for record in &lines {
            events.extend(evaluator.observe(record));
        }
        assert_eq!(seen(events), vec![firing(A, 80), resolved(A, 90), firing(A, 100)]);
    }

    #[test]
    fn devices_are_counted_apart() {
        let mut evaluator = link_alerts(2, 60);
        let lines = [updown(A, 0), updown(B, 10), updown(B, 20)];
        assert_eq!(feed(&mut evaluator, &lines), vec![firing(B, 20)]);
        assert_eq!(seen(evaluator.advance(time(69))), vec![]);
        // B went quiet: a line from A moves the clock past 70, when B's line at 10 left its window.
        assert_eq!(feed(&mut evaluator, &[updown(A, 200)]), vec![resolved(B, 70)]);
    }

    #[test]
    fn the_event_says_the_line_and_the_rule() {
        let mut evaluator = link_alerts(1, 300);
        let event = evaluator.observe(&updown(A, 5)).remove(0);
        assert_eq!(event.alert_key(), "link/10.0.0.1");
        assert_eq!(
            event.condition,
            "1 line within 300 s: severity <= 3 (err), mnemonic LINK-*"
        );
        assert_eq!(event.device_name.as_deref(), Some("sw-10.0.0.1"));
        assert_eq!((event.value, event.threshold), (Some(1.0), 1.0));
        assert_eq!((event.starts_at, event.ends_at), (time(5), None));
        assert_eq!((event.organization_id.as_str(), event.uplink.as_str()), ("", ""));
        let line = event.syslog.unwrap();
        assert_eq!(line.message, "LINK-3-UPDOWN at 5");
        assert_eq!(line.mnemonic.as_deref(), Some(UPDOWN));
        assert_eq!((line.severity, line.within_seconds), (Some(3), 300));
        assert_eq!(line.source_ip.to_string(), A);
    }

    #[test]
    fn a_restart_repeats_nothing_and_resolves_late_rather_than_early() {
        let lines = [updown(A, 0), updown(A, 10), updown(A, 20)];
        let mut before = link_alerts(2, 60);
        let mut events = Vec::new();
        for record in &lines {
            events.extend(before.observe(record));
        }
        assert_eq!(seen(events.clone()), vec![firing(A, 10)]);

        // Restarted at 10:00:50: the lines are read again, the alerts topic says it fires.
        let mut after = link_alerts(2, 60);
        after.restore(events.clone(), time(50));
        assert_eq!(after.firing(), 1);
        assert_eq!(feed(&mut after, &lines), vec![]);
        // Without the restart it resolves at 70 (the line at 10 leaving the window); restored, the lines the
        // run before read are not all known, so not before a window after the restart.
        assert_eq!(seen(after.advance(time(100))), vec![]);
        assert_eq!(seen(after.advance(time(200))), vec![resolved(A, 110)]);

        // An alert that fired and resolved before the restart does not fire again on its lines read again.
        events.extend(before.advance(time(500)));
        assert_eq!(seen(events.clone()), vec![firing(A, 10), resolved(A, 70)]);
        let mut reread = link_alerts(2, 60);
        reread.restore(events, time(600));
        assert_eq!(reread.firing(), 0);
        assert_eq!(feed(&mut reread, &lines), vec![]);
        assert_eq!(seen(reread.advance(time(700))), vec![]);
        // Lines after the restored event count as before.
        let new = [updown(A, 800), updown(A, 801)];
        assert_eq!(feed(&mut reread, &new), vec![firing(A, 801)]);
    }

    #[test]
    fn restore_takes_only_log_alerts_of_known_rules() {
        let mut events = link_alerts(1, 60).observe(&updown(A, 0));
        let mut uplink_like = events[0].clone();
        uplink_like.syslog = None;
        let mut retired = events[0].clone();
        retired.rule = "retired".into();
        events.extend([uplink_like, retired]);
        let mut restored = link_alerts(1, 60);
        restored.restore(events, time(10));
        assert_eq!(restored.firing(), 1);
        assert_eq!(restored.windows.len(), 1);
    }

    #[test]
    fn quiet_windows_are_forgotten_restored_ones_once_read_past() {
        let mut evaluator = link_alerts(1, 60);
        feed(&mut evaluator, &[updown(A, 0)]);
        evaluator.advance(time(100));
        assert!(evaluator.windows.is_empty());

        let mut first = link_alerts(1, 60);
        let mut events = first.observe(&updown(A, 0));
        events.extend(first.advance(time(100)));
        let mut restored = link_alerts(1, 60);
        restored.restore(events, time(200));
        restored.advance(time(1000));
        assert_eq!(restored.windows.len(), 1, "kept until read past");
        assert_eq!(feed(&mut restored, &[updown(A, 0)]), vec![]);
        let other = line(A, 1100, 4, "LINK-4-CHANGED");
        assert_eq!(feed(&mut restored, &[other]), vec![]);
        assert_eq!(restored.windows.len(), 1, "a line the rule does not take");
        feed(&mut restored, &[updown(A, 1200)]);
        restored.advance(time(2000));
        assert!(restored.windows.is_empty());
    }
}
