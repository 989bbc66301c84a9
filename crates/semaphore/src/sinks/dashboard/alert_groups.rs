//! The alerts the page lists, grouped by rule: hundreds of firing alerts become a few lines an operator
//! opens one at a time. A group holds the firing uplink alerts of one rule, or the last events of one log or
//! SNMP rule; groups with something firing come first, then the newest.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::shown::{Shown, alerted_uplink};
use crate::record::{AlertEvent, AlertStatus};

/// Events listed per group, newest first; the rest are counted.
pub(super) const EVENTS_PER_GROUP: usize = 20;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AlertGroup<'a> {
    /// `uplink`, `log` or `snmp`.
    kind: &'static str,
    rule: &'a str,
    firing: usize,
    resolved: usize,
    newest: DateTime<Utc>,
    events: Vec<GroupEvent<'a>>,
    /// Events of the group not listed.
    more: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupEvent<'a> {
    #[serde(flatten)]
    event: &'a AlertEvent,
    /// Uplink alerts: the uplink the page opens from the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    uplink_id: Option<String>,
}

fn kind(event: &AlertEvent) -> &'static str {
    match (&event.syslog, &event.snmp) {
        (Some(_), _) => "log",
        (None, Some(_)) => "snmp",
        (None, None) => "uplink",
    }
}

/// Every alert `shown` holds, grouped by kind and rule.
pub(super) fn alert_groups(shown: &Shown) -> Vec<AlertGroup<'_>> {
    let mut members: BTreeMap<(&'static str, &str), Vec<&AlertEvent>> = BTreeMap::new();
    for event in shown.alerts.values().chain(shown.log_alerts.values()) {
        members
            .entry((kind(event), event.rule.as_str()))
            .or_default()
            .push(event);
    }
    let mut groups: Vec<AlertGroup<'_>> = members
        .into_iter()
        .map(|((kind, rule), mut events)| {
            events.sort_by_key(|event| Reverse(event.ts));
            let firing = events
                .iter()
                .filter(|event| event.status == AlertStatus::Firing)
                .count();
            AlertGroup {
                kind,
                rule,
                firing,
                resolved: events.len() - firing,
                newest: events[0].ts,
                more: events.len().saturating_sub(EVENTS_PER_GROUP),
                events: events.into_iter().take(EVENTS_PER_GROUP).map(listed).collect(),
            }
        })
        .collect();
    groups.sort_by_key(|group| (Reverse(group.firing > 0), Reverse(group.newest)));
    groups
}

fn listed(event: &AlertEvent) -> GroupEvent<'_> {
    GroupEvent {
        event,
        uplink_id: (kind(event) == "uplink").then(|| alerted_uplink(event)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::dashboard::shown::tests::log_alert;

    fn uplink_alert(serial: &str, minute: i64) -> AlertEvent {
        let mut event = log_alert(1, AlertStatus::Firing, minute);
        event.rule = "high-loss".into();
        event.syslog = None;
        event.serial = serial.into();
        event.uplink = "wan1".into();
        event.ip = "8.8.8.8".into();
        event
    }

    #[test]
    fn alerts_are_grouped_by_rule_firing_first_newest_first() {
        let mut shown = Shown::default();
        for index in 0..(EVENTS_PER_GROUP as i64 + 5) {
            shown.apply_alert(&uplink_alert(&format!("Q2AA-0000-{index:04}"), index));
        }
        shown.apply_alert(&log_alert(7, AlertStatus::Resolved, 100));
        let groups = alert_groups(&shown);
        assert_eq!(groups.len(), 2);
        let uplinks = &groups[0];
        assert_eq!(
            (uplinks.kind, uplinks.rule),
            ("uplink", "high-loss"),
            "firing before resolved"
        );
        assert_eq!(uplinks.firing, EVENTS_PER_GROUP + 5);
        assert_eq!((uplinks.events.len(), uplinks.more), (EVENTS_PER_GROUP, 5));
        assert_eq!(uplinks.events[0].event.serial, "Q2AA-0000-0024", "newest first");
        assert_eq!(
            uplinks.events[0].uplink_id.as_deref(),
            Some("Q2AA-0000-0024/wan1/8.8.8.8")
        );
        let logs = &groups[1];
        assert_eq!((logs.kind, logs.firing, logs.resolved), ("log", 0, 1));
        assert!(logs.events[0].uplink_id.is_none());
        let json = serde_json::to_value(&groups[0]).unwrap();
        assert_eq!(
            json["events"][0]["rule"], "high-loss",
            "the event's own fields, flattened"
        );
        assert_eq!(json["events"][0]["uplinkId"], "Q2AA-0000-0024/wan1/8.8.8.8");
    }
}
