//! What the dashboard holds: every uplink's points over the history, the firing uplink alerts, and the last
//! event of the newest log and SNMP alerts. The overview, the snapshot and the cards are all read from it.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::record::{AlertEvent, AlertStatus, UplinkRecord};

/// Log and SNMP alerts kept: the last event of each, the newest fifty (resolved ones leave first).
pub(super) const LOG_ALERTS_SHOWN: usize = 50;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Point {
    /// Sample time, Unix seconds.
    pub t: i64,
    /// `None`: the uplink was down.
    pub loss: Option<f64>,
    pub latency: Option<f64>,
    /// Per-device history only; the org-wide call reports none.
    pub jitter: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UplinkView {
    pub id: String,
    pub organization_id: String,
    pub network_id: String,
    pub network_name: Option<String>,
    pub serial: String,
    pub device_name: Option<String>,
    pub model: Option<String>,
    pub tags: Vec<String>,
    pub uplink: String,
    pub ip: String,
    pub points: VecDeque<Point>,
    /// Every name the filter box searches, lower-cased once per rename rather than once per keystroke.
    #[serde(skip)]
    pub haystack: String,
}

impl UplinkView {
    fn of(record: &UplinkRecord) -> Self {
        let mut view = Self {
            id: uplink_id(record),
            organization_id: record.organization_id.clone(),
            network_id: record.network_id.clone(),
            network_name: None,
            serial: record.serial.clone(),
            device_name: None,
            model: None,
            tags: Vec::new(),
            uplink: record.uplink.clone(),
            ip: record.ip.clone(),
            points: VecDeque::new(),
            haystack: String::new(),
        };
        view.rename(record);
        view
    }

    /// Names follow the newest record (a renamed network shows its new name).
    fn rename(&mut self, record: &UplinkRecord) {
        let same = self.network_name == record.network_name
            && self.device_name == record.device_name
            && self.model == record.model
            && self.tags == record.tags;
        if same && !self.haystack.is_empty() {
            return;
        }
        self.network_name.clone_from(&record.network_name);
        self.device_name.clone_from(&record.device_name);
        self.model.clone_from(&record.model);
        self.tags.clone_from(&record.tags);
        let names = [
            Some(&self.serial),
            self.device_name.as_ref(),
            self.network_name.as_ref(),
            Some(&self.network_id),
            Some(&self.organization_id),
            Some(&self.uplink),
            Some(&self.ip),
            self.model.as_ref(),
        ];
        let mut haystack: Vec<&str> = names.into_iter().flatten().map(String::as_str).collect();
        haystack.extend(self.tags.iter().map(String::as_str));
        self.haystack = haystack.join(" ").to_lowercase();
    }

    /// The name shown for the device: its name, or its serial when it has none.
    pub fn device(&self) -> &str {
        self.device_name.as_deref().unwrap_or(&self.serial)
    }

    /// The name shown for the network: its name, or its id when it has none.
    pub fn network(&self) -> &str {
        self.network_name.as_deref().unwrap_or(&self.network_id)
    }
}

#[derive(Debug, Default)]
pub(super) struct Shown {
    pub uplinks: BTreeMap<String, UplinkView>,
    /// Firing uplink alerts by alert key.
    pub alerts: BTreeMap<String, AlertEvent>,
    /// Log and SNMP alerts by alert key: the last event of each, firing or resolved. Events of one device
    /// rather than an uplink, they are kept apart.
    pub log_alerts: BTreeMap<String, AlertEvent>,
}

impl Shown {
    /// Adds a sample as a point of its uplink, unless it is older than `oldest` (Unix seconds). Returns
    /// whether it was added.
    pub fn apply_sample(&mut self, record: &UplinkRecord, oldest: i64) -> bool {
        let point = Point {
            t: record.ts.timestamp(),
            loss: record.loss_percent,
            latency: record.latency_ms,
            jitter: record.jitter,
        };
        if point.t < oldest {
            return false;
        }
        let view = self
            .uplinks
            .entry(uplink_id(record))
            .or_insert_with(|| UplinkView::of(record));
        if view.points.back().is_none_or(|last| last.t <= point.t) {
            view.rename(record);
        }
        insert_point(&mut view.points, point, oldest);
        true
    }

    /// An uplink alert is kept while it fires; a log or SNMP alert with its last event, firing or resolved.
    pub fn apply_alert(&mut self, event: &AlertEvent) {
        let key = event.alert_key();
        if event.syslog.is_some() || event.snmp.is_some() {
            self.log_alerts.insert(key, event.clone());
            self.forget_old_log_alerts();
            return;
        }
        match event.status {
            AlertStatus::Firing => self.alerts.insert(key, event.clone()),
            AlertStatus::Resolved => self.alerts.remove(&key),
        };
    }

    /// Drops the points older than `oldest` (Unix seconds): between records, the history still slides.
    pub fn forget_before(&mut self, oldest: i64) {
        for view in self.uplinks.values_mut() {
            while view.points.front().is_some_and(|point| point.t < oldest) {
                view.points.pop_front();
            }
        }
    }

    /// Keeps [`LOG_ALERTS_SHOWN`] log and SNMP alerts, forgetting resolved ones first, oldest first.
    fn forget_old_log_alerts(&mut self) {
        while self.log_alerts.len() > LOG_ALERTS_SHOWN {
            let oldest = self
                .log_alerts
                .iter()
                .min_by_key(|(_, event)| (event.status == AlertStatus::Firing, event.ts))
                .map(|(key, _)| key.clone());
            let Some(key) = oldest else {
                break;
            };
            self.log_alerts.remove(&key);
        }
    }
}

pub(super) fn uplink_id(record: &UplinkRecord) -> String {
    format!("{}/{}/{}", record.serial, record.uplink, record.ip)
}

/// The uplink an uplink alert is about, as [`uplink_id`] names it.
pub(super) fn alerted_uplink(event: &AlertEvent) -> String {
    format!("{}/{}/{}", event.serial, event.uplink, event.ip)
}

/// Keeps points in time order, one per sample time, none older than `oldest`.
fn insert_point(points: &mut VecDeque<Point>, point: Point, oldest: i64) {
    let at = points.partition_point(|known| known.t < point.t);
    if points.get(at).is_some_and(|known| known.t == point.t) {
        points[at] = point;
    } else {
        points.insert(at, point);
    }
    while points.front().is_some_and(|known| known.t < oldest) {
        points.pop_front();
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::record::SnmpAlert;

    #[test]
    fn points_stay_ordered_unique_and_recent() {
        let mut points = VecDeque::new();
        for t in [100, 300, 200, 300, 50] {
            let point = Point {
                t,
                loss: Some(t as f64),
                latency: None,
                jitter: None,
            };
            insert_point(&mut points, point, 60);
        }
        let times: Vec<i64> = points.iter().map(|point| point.t).collect();
        assert_eq!(times, vec![100, 200, 300]);
    }

    pub(crate) fn log_alert(device: usize, status: AlertStatus, minute: i64) -> AlertEvent {
        serde_json::from_value(serde_json::json!({
            "rule": "link", "status": status, "condition": "1 line within 300 s: any line",
            "organizationId": "", "networkId": "", "networkName": null, "serial": format!("10.0.0.{device}"),
            "deviceName": null, "uplink": "", "ip": "", "value": 1.0, "threshold": 1.0,
            "startsAt": "2026-12-03T10:00:00Z", "endsAt": null,
            "ts": chrono::DateTime::from_timestamp(1_796_292_000 + minute * 60, 0),
            "syslog": {"sourceIp": format!("10.0.0.{device}"), "hostname": null, "severity": 3,
                "severityName": "err", "mnemonic": "LINK-3-UPDOWN", "message": "down", "withinSeconds": 300}
        }))
        .unwrap()
    }

    #[test]
    fn log_alerts_keep_the_last_event_of_the_newest_fifty() {
        let mut shown = Shown::default();
        shown.apply_alert(&log_alert(1, AlertStatus::Firing, 0));
        shown.apply_alert(&log_alert(1, AlertStatus::Resolved, 5));
        assert_eq!(shown.log_alerts.len(), 1, "one alert, its last event");
        assert_eq!(shown.log_alerts["link/10.0.0.1"].status, AlertStatus::Resolved);
        assert!(shown.alerts.is_empty(), "not among the uplink alerts");
        for device in 2..=LOG_ALERTS_SHOWN + 1 {
            shown.apply_alert(&log_alert(device, AlertStatus::Firing, device as i64));
        }
        assert_eq!(shown.log_alerts.len(), LOG_ALERTS_SHOWN);
        assert!(
            !shown.log_alerts.contains_key("link/10.0.0.1"),
            "the resolved one left first"
        );
    }

    #[test]
    fn snmp_alerts_are_kept_with_the_log_alerts() {
        let mut event = log_alert(1, AlertStatus::Firing, 0);
        event.rule = "port-down".into();
        event.syslog = None;
        event.snmp = Some(SnmpAlert {
            address: "10.0.0.1".parse().unwrap(),
            trap_oid: Some("1.3.6.1.6.3.1.1.5.3".into()),
            trap_name: Some("linkDown".into()),
            if_index: Some(3),
            if_name: Some("Gi0/3".into()),
            metric: None,
            resolve_after_seconds: None,
        });
        let mut shown = Shown::default();
        shown.apply_alert(&event);
        event.status = AlertStatus::Resolved;
        shown.apply_alert(&event);
        assert!(shown.alerts.is_empty(), "not among the uplink alerts");
        assert_eq!(
            shown.log_alerts["port-down/10.0.0.1/3"].status,
            AlertStatus::Resolved
        );
    }
}
