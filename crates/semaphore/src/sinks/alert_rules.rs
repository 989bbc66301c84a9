//! Alert rules, evaluated per uplink (serial, uplink, destination IP) on the samples as they arrive (pure:
//! no I/O, so every rule is tested without Kafka).
//!
//! A rule compares one metric with a threshold over a window:
//! - `for_samples = N`: the last N samples all above (`loss > 5 % for 3 consecutive samples`);
//! - `average_over_s = S`: the mean of the samples of the last S seconds above, once the samples span the
//!   window (`latency > 150 ms average over 5 minutes`).
//!
//! Metrics: `loss_percent`, `latency_ms` (a down uplink's null sample neither matches nor breaks a run) and
//! `down` (1 for a sample with no loss figure, else 0; `above = 0` means "down").
//!
//! An uplink's alert fires once when the rule starts matching and resolves once when it stops. Samples at or
//! before the newest one seen are ignored, so records read again after a restart change nothing; the firing
//! state itself is restored from the alerts topic ([`AlertEvaluator::restore`]), so a restart never fires an
//! alert that is already firing.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::record::alert::alert_key;
use crate::record::{AlertEvent, AlertStatus, UplinkRecord};

/// Meraki's sample interval: an average window counts as full when its samples span it, less one interval.
const SAMPLE_INTERVAL: TimeDelta = TimeDelta::seconds(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertMetric {
    LossPercent,
    LatencyMs,
    Down,
}

impl AlertMetric {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "loss_percent" => Ok(Self::LossPercent),
            "latency_ms" => Ok(Self::LatencyMs),
            "down" => Ok(Self::Down),
            other => Err(format!("{other:?}: use loss_percent, latency_ms or down")),
        }
    }

    fn field(self) -> &'static str {
        match self {
            Self::LossPercent => "lossPercent",
            Self::LatencyMs => "latencyMs",
            Self::Down => "down",
        }
    }

    fn value(self, record: &UplinkRecord) -> Option<f64> {
        match self {
            Self::LossPercent => record.loss_percent,
            Self::LatencyMs => record.latency_ms,
            Self::Down => Some(if record.is_down() { 1.0 } else { 0.0 }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AlertWindow {
    Consecutive(u32),
    AverageOver(Duration),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlertRule {
    pub name: String,
    pub metric: AlertMetric,
    pub above: f64,
    pub window: AlertWindow,
}

impl AlertRule {
    /// The rule in words, carried in every event.
    pub fn condition(&self) -> String {
        let field = self.metric.field();
        match self.window {
            AlertWindow::Consecutive(count) => {
                format!("{field} > {} for {count} consecutive samples", self.above)
            }
            AlertWindow::AverageOver(span) => {
                format!("{field} > {} on average over {} s", self.above, span.as_secs())
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
struct UplinkState {
    /// Newest sample time seen; older or equal samples are ignored.
    newest: Option<DateTime<Utc>>,
    /// Samples (time, value) the window needs: the current run, or the averaging span.
    samples: VecDeque<(DateTime<Utc>, f64)>,
    /// When the firing alert's match began.
    firing_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct AlertEvaluator {
    rules: Vec<AlertRule>,
    states: HashMap<String, UplinkState>,
}

impl AlertEvaluator {
    pub fn new(rules: Vec<AlertRule>) -> Self {
        Self {
            rules,
            states: HashMap::new(),
        }
    }

    /// Restores each alert from its last event (in topic order): firing or not, and the sample time it was
    /// decided at. Samples up to that time were evaluated by the run that wrote the event, so they are not
    /// evaluated again (a re-read would otherwise fire an old alert a second time). The window itself starts
    /// afresh after that point, so a restart can delay a resolution, never repeat an event.
    pub fn restore(&mut self, events: impl IntoIterator<Item = AlertEvent>) {
        for event in events {
            // Log and SNMP alerts are restored by their own evaluators, even one whose rule shares a retired
            // name.
            let other_family = event.syslog.is_some() || event.snmp.is_some();
            if other_family || !self.rules.iter().any(|rule| rule.name == event.rule) {
                continue;
            }
            let state = self.states.entry(event.alert_key()).or_default();
            state.firing_since = match event.status {
                AlertStatus::Firing => Some(event.starts_at),
                AlertStatus::Resolved => None,
            };
            state.newest = Some(event.ts);
            state.samples.clear();
        }
    }

    /// Alerts firing now (for the log at start).
    pub fn firing(&self) -> usize {
        self.states
            .values()
            .filter(|state| state.firing_since.is_some())
            .count()
    }

    /// Feeds one sample to every rule; returns the events it caused.
    pub fn observe(&mut self, record: &UplinkRecord) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for rule in &self.rules {
            let key = alert_key(&rule.name, &record.serial, &record.uplink, &record.ip);
            let state = self.states.entry(key).or_default();
            if state.newest.is_some_and(|newest| record.ts <= newest) {
                continue;
            }
            state.newest = Some(record.ts);
            let Some(value) = rule.metric.value(record) else {
                continue;
            };
            // `None`: not known yet (a run or a window still filling, as after a restart): nothing changes.
            let (matching, decided_by, since) = match rule.window {
                AlertWindow::Consecutive(count) => {
                    let above = value > rule.above;
                    if above {
                        state.samples.push_back((record.ts, value));
                        while state.samples.len() > count as usize {
                            state.samples.pop_front();
                        }
                    } else {
                        state.samples.clear();
                    }
                    let since = state.samples.front().map_or(record.ts, |(ts, _)| *ts);
                    let matching = if !above {
                        Some(false)
                    } else {
                        (state.samples.len() >= count as usize).then_some(true)
                    };
                    (matching, value, since)
                }
                AlertWindow::AverageOver(span) => {
                    let span = TimeDelta::from_std(span).unwrap_or(TimeDelta::MAX);
                    state.samples.push_back((record.ts, value));
                    while state
                        .samples
                        .front()
                        .is_some_and(|(ts, _)| *ts <= record.ts - span)
                    {
                        state.samples.pop_front();
                    }
                    let oldest = state.samples.front().map_or(record.ts, |(ts, _)| *ts);
                    let full = record.ts - oldest + SAMPLE_INTERVAL >= span;
                    let average = state.samples.iter().map(|(_, value)| value).sum::<f64>()
                        / state.samples.len() as f64;
                    (full.then_some(average > rule.above), average, oldest)
                }
            };
            let status = match (state.firing_since, matching) {
                (None, Some(true)) => {
                    state.firing_since = Some(since);
                    AlertStatus::Firing
                }
                (Some(_), Some(false)) => AlertStatus::Resolved,
                _ => continue,
            };
            let starts_at = state.firing_since.unwrap_or(since);
            if status == AlertStatus::Resolved {
                state.firing_since = None;
            }
            events.push(AlertEvent {
                rule: rule.name.clone(),
                status,
                condition: rule.condition(),
                organization_id: record.organization_id.clone(),
                network_id: record.network_id.clone(),
                network_name: record.network_name.clone(),
                serial: record.serial.clone(),
                device_name: record.device_name.clone(),
                uplink: record.uplink.clone(),
                ip: record.ip.clone(),
                value: Some(decided_by),
                threshold: rule.above,
                starts_at,
                ends_at: (status == AlertStatus::Resolved).then_some(record.ts),
                ts: record.ts,
                syslog: None,
                snmp: None,
            });
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(minute: u32, loss: Option<f64>, latency: Option<f64>) -> UplinkRecord {
        serde_json::from_value(serde_json::json!({
            "organizationId": "1", "networkId": "N_1", "networkName": null, "serial": "Q2AA",
            "deviceName": null, "model": null, "tags": [], "uplink": "wan1", "ip": "8.8.8.8",
            "ts": format!("2026-11-27T10:{minute:02}:00Z"),
            "lossPercent": loss, "latencyMs": latency, "jitter": null, "goodput": null,
            "activeDdnsHostname": null, "ddnsHostnameWan1": null, "ddnsHostnameWan2": null
        }))
        .unwrap()
    }

    fn loss_rule() -> AlertRule {
        AlertRule {
            name: "loss".into(),
            metric: AlertMetric::LossPercent,
            above: 5.0,
            window: AlertWindow::Consecutive(3),
        }
    }

    fn statuses(evaluator: &mut AlertEvaluator, samples: &[UplinkRecord]) -> Vec<(u32, AlertStatus)> {
        samples
            .iter()
            .flat_map(|record| {
                let minute = record.ts.format("%M").to_string().parse().unwrap();
                evaluator
                    .observe(record)
                    .into_iter()
                    .map(move |event| (minute, event.status))
            })
            .collect()
    }

    #[test]
    fn fires_on_the_third_consecutive_sample_and_resolves_once() {
        let mut evaluator = AlertEvaluator::new(vec![loss_rule()]);
        let samples = [
            sample(0, Some(9.0), Some(1.0)),
            sample(1, Some(9.0), Some(1.0)),
            sample(2, Some(1.0), Some(1.0)), // breaks the run
            sample(3, Some(9.0), Some(1.0)),
            sample(4, None, None), // down: neither matches nor breaks
            sample(5, Some(9.0), Some(1.0)),
            sample(6, Some(9.0), Some(1.0)),
            sample(7, Some(8.0), Some(1.0)),
            sample(8, Some(0.0), Some(1.0)),
            sample(9, Some(0.0), Some(1.0)),
        ];
        assert_eq!(
            statuses(&mut evaluator, &samples),
            vec![(6, AlertStatus::Firing), (8, AlertStatus::Resolved)]
        );
    }

    #[test]
    fn event_carries_the_rule_values_and_times() {
        let mut evaluator = AlertEvaluator::new(vec![loss_rule()]);
        let mut events = Vec::new();
        for minute in 0..3 {
            events.extend(evaluator.observe(&sample(minute, Some(6.0 + f64::from(minute)), None)));
        }
        let event = &events[0];
        assert_eq!(event.condition, "lossPercent > 5 for 3 consecutive samples");
        assert_eq!(event.value, Some(8.0));
        assert_eq!(event.starts_at, sample(0, None, None).ts);
        assert_eq!(event.ts, sample(2, None, None).ts);
        assert_eq!(event.alert_key(), "loss/Q2AA/wan1/8.8.8.8");
    }

    #[test]
    fn average_needs_a_full_window() {
        let mut evaluator = AlertEvaluator::new(vec![AlertRule {
            name: "latency".into(),
            metric: AlertMetric::LatencyMs,
            above: 150.0,
            window: AlertWindow::AverageOver(Duration::from_secs(300)),
        }]);
        let samples: Vec<UplinkRecord> = [400.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 500.0, 300.0]
            .iter()
            .enumerate()
            .map(|(minute, latency)| sample(minute as u32, Some(0.0), Some(*latency)))
            .collect();
        // Minute 4: (400+4×100)/5 = 160 over a full 5-minute window. Minute 5: 100. Minute 7: (4×100+500)/5 = 180.
        assert_eq!(
            statuses(&mut evaluator, &samples),
            vec![
                (4, AlertStatus::Firing),
                (5, AlertStatus::Resolved),
                (7, AlertStatus::Firing)
            ]
        );
    }

    #[test]
    fn restart_restores_firing_and_ignores_reread_samples() {
        let mut before = AlertEvaluator::new(vec![loss_rule()]);
        let samples: Vec<UplinkRecord> = (0..5).map(|minute| sample(minute, Some(9.0), None)).collect();
        let events: Vec<AlertEvent> = samples.iter().flat_map(|record| before.observe(record)).collect();
        assert_eq!(events.len(), 1);
        assert_eq!(
            statuses(&mut before, &samples),
            vec![],
            "re-read samples change nothing"
        );

        // A restart: the samples are read again (not committed), the alerts topic says it fires.
        let mut after = AlertEvaluator::new(vec![loss_rule()]);
        after.restore(events.clone());
        assert_eq!(after.firing(), 1);
        assert_eq!(statuses(&mut after, &samples), vec![], "no second firing");

        // An alert that fired and resolved before the restart does not fire again when its samples are
        // read again (a new group reading the whole topic).
        let mut resolved_before = AlertEvaluator::new(vec![loss_rule()]);
        let mut history: Vec<UplinkRecord> = (0..4).map(|minute| sample(minute, Some(9.0), None)).collect();
        history.push(sample(4, Some(0.0), None));
        let events: Vec<AlertEvent> = history
            .iter()
            .flat_map(|record| resolved_before.observe(record))
            .collect();
        assert_eq!(events.len(), 2);
        let mut reread = AlertEvaluator::new(vec![loss_rule()]);
        reread.restore(events);
        assert_eq!(reread.firing(), 0);
        assert_eq!(statuses(&mut reread, &history), vec![]);
        assert_eq!(
            statuses(&mut after, &[sample(6, Some(0.0), None)]),
            vec![(6, AlertStatus::Resolved)]
        );
    }

    #[test]
    fn down_rule() {
        let mut evaluator = AlertEvaluator::new(vec![AlertRule {
            name: "down".into(),
            metric: AlertMetric::Down,
            above: 0.0,
            window: AlertWindow::Consecutive(2),
        }]);
        let samples = [
            sample(0, None, None),
            sample(1, None, None),
            sample(2, Some(0.0), Some(5.0)),
        ];
        assert_eq!(
            statuses(&mut evaluator, &samples),
            vec![(1, AlertStatus::Firing), (2, AlertStatus::Resolved)]
        );
    }
}
