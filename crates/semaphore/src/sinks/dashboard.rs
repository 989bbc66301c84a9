//! The live web dashboard: every uplink's loss and latency over the last hour, grouped by organization and
//! network, down uplinks and firing alerts highlighted, a filter box, and the recent log and SNMP alerts
//! (syslog, trap and interface rules: rule, device, severity, message or trap and interface, time, firing
//! or resolved); updated live over server-sent events.
//! The page, script and style are compiled into the binary (`assets/dashboard/`): no CDN, works offline.
//!
//! It reads like any other sink, from the time `history` ago rather than from committed offsets: it is a
//! view, so each start shows the last hour again. Routes: `/` (page), `/app.js`, `/app.css`,
//! `/api/snapshot` (everything shown, JSON), `/events` (SSE: one `update` per batch read from Kafka).

mod config;

pub use config::DashboardSinkFile;

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use chrono::Utc;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::record::{AlertEvent, AlertStatus, UplinkRecord};
use crate::sinks::message::Decoded;
use crate::sinks::sink::Accepted;

const INDEX_HTML: &str = include_str!("../../assets/dashboard/index.html");
const APP_JS: &str = include_str!("../../assets/dashboard/app.js");
const APP_CSS: &str = include_str!("../../assets/dashboard/app.css");

/// Log and SNMP alerts listed: the last event of each, the newest fifty (resolved ones leave first). The
/// page keeps as many.
const LOG_ALERTS_SHOWN: usize = 50;

#[derive(Clone, Debug)]
pub struct DashboardSettings {
    pub listen: SocketAddr,
    pub history: Duration,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Point {
    /// Sample time, Unix seconds.
    t: i64,
    loss: Option<f64>,
    latency: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UplinkView {
    id: String,
    organization_id: String,
    network_id: String,
    network_name: Option<String>,
    serial: String,
    device_name: Option<String>,
    model: Option<String>,
    uplink: String,
    ip: String,
    points: VecDeque<Point>,
}

#[derive(Debug, Default)]
struct Shown {
    uplinks: BTreeMap<String, UplinkView>,
    /// Firing uplink alerts by alert key.
    alerts: BTreeMap<String, AlertEvent>,
    /// Log and SNMP alerts by alert key: the last event of each, firing or resolved. Events of one device
    /// rather than an uplink, they share a table.
    log_alerts: BTreeMap<String, AlertEvent>,
}

impl Shown {
    /// An uplink alert is shown while it fires; a log or SNMP alert with its last event, firing or resolved.
    fn apply_alert(&mut self, event: &AlertEvent) {
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

#[derive(Debug)]
pub struct Dashboard {
    history: Duration,
    listen: SocketAddr,
    shown: Mutex<Shown>,
    records: AtomicU64,
    updates: broadcast::Sender<Arc<str>>,
}

/// One SSE `update`: the samples and alert events of one batch.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Update<'a> {
    records: u64,
    samples: Vec<UplinkView>,
    alerts: Vec<&'a AlertEvent>,
}

impl Dashboard {
    pub fn new(settings: &DashboardSettings) -> Arc<Self> {
        Arc::new(Self {
            history: settings.history,
            listen: settings.listen,
            shown: Mutex::default(),
            records: AtomicU64::new(0),
            updates: broadcast::channel(256).0,
        })
    }

    pub fn deliver(&self, batch: &[Accepted]) {
        let oldest = Utc::now().timestamp() - self.history.as_secs() as i64;
        let mut samples: Vec<UplinkView> = Vec::new();
        let mut alert_events = Vec::new();
        {
            let mut shown = self.lock();
            for accepted in batch {
                match &accepted.decoded {
                    Decoded::Uplink(record) => {
                        let point = Point {
                            t: record.ts.timestamp(),
                            loss: record.loss_percent,
                            latency: record.latency_ms,
                        };
                        if point.t < oldest {
                            continue;
                        }
                        let view = shown
                            .uplinks
                            .entry(uplink_id(record))
                            .or_insert_with(|| view_of(record));
                        refresh_names(view, record);
                        insert_point(&mut view.points, point.clone(), oldest);
                        let mut sample = view_of(record);
                        sample.points.push_back(point);
                        samples.push(sample);
                    }
                    Decoded::Alert(event) => {
                        shown.apply_alert(event);
                        alert_events.push((**event).clone());
                    }
                    Decoded::Clients(_)
                    | Decoded::Generated(_)
                    | Decoded::Syslog(_)
                    | Decoded::SnmpTrap(_) => {}
                    Decoded::SnmpInterface(_) | Decoded::SnmpSystem(_) | Decoded::SnmpRow(_) => {}
                }
            }
        }
        let records = self.records.fetch_add(batch.len() as u64, Ordering::Relaxed) + batch.len() as u64;
        let update = Update {
            records,
            samples,
            alerts: alert_events.iter().collect(),
        };
        let text: Arc<str> = serde_json::to_string(&update).expect("plain data").into();
        // No page open: nobody to tell.
        let _ = self.updates.send(text);
    }

    fn snapshot(&self) -> serde_json::Value {
        let oldest = Utc::now().timestamp() - self.history.as_secs() as i64;
        let mut shown = self.lock();
        for view in shown.uplinks.values_mut() {
            while view.points.front().is_some_and(|point| point.t < oldest) {
                view.points.pop_front();
            }
        }
        let mut log_alerts: Vec<&AlertEvent> = shown.log_alerts.values().collect();
        log_alerts.sort_by_key(|event| Reverse(event.ts));
        serde_json::json!({
            "records": self.records.load(Ordering::Relaxed),
            "historySeconds": self.history.as_secs(),
            "uplinks": shown.uplinks.values().collect::<Vec<_>>(),
            "alerts": shown.alerts.values().collect::<Vec<_>>(),
            "logAlerts": log_alerts,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shown> {
        // Held for one batch or one snapshot, never across an await.
        self.shown.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    /// The page, its assets, the snapshot and the event stream, for [`crate::http_server::bind`].
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route(
                "/",
                get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX_HTML) }),
            )
            .route(
                "/app.js",
                get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS) }),
            )
            .route(
                "/app.css",
                get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS) }),
            )
            .route("/api/snapshot", get(snapshot))
            .route("/events", get(events))
            .with_state(self.clone())
    }

    pub fn listen(&self) -> SocketAddr {
        self.listen
    }
}

fn uplink_id(record: &UplinkRecord) -> String {
    format!("{}/{}/{}", record.serial, record.uplink, record.ip)
}

fn view_of(record: &UplinkRecord) -> UplinkView {
    UplinkView {
        id: uplink_id(record),
        organization_id: record.organization_id.clone(),
        network_id: record.network_id.clone(),
        network_name: record.network_name.clone(),
        serial: record.serial.clone(),
        device_name: record.device_name.clone(),
        model: record.model.clone(),
        uplink: record.uplink.clone(),
        ip: record.ip.clone(),
        points: VecDeque::new(),
    }
}

/// Names follow the newest record (a renamed network shows its new name).
fn refresh_names(view: &mut UplinkView, record: &UplinkRecord) {
    if view
        .points
        .back()
        .is_none_or(|last| last.t <= record.ts.timestamp())
    {
        view.network_name.clone_from(&record.network_name);
        view.device_name.clone_from(&record.device_name);
        view.model.clone_from(&record.model);
    }
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

async fn snapshot(State(dashboard): State<Arc<Dashboard>>) -> impl IntoResponse {
    Json(dashboard.snapshot())
}

async fn events(
    State(dashboard): State<Arc<Dashboard>>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let receiver = dashboard.updates.subscribe();
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(text) => Event::default().event("update").data(&*text),
            // The page fell behind: it fetches the snapshot again.
            Err(broadcast::error::RecvError::Lagged(_)) => Event::default().event("resync").data("{}"),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), receiver))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SnmpAlert;

    #[test]
    fn points_stay_ordered_unique_and_recent() {
        let mut points = VecDeque::new();
        for t in [100, 300, 200, 300, 50] {
            insert_point(
                &mut points,
                Point {
                    t,
                    loss: Some(t as f64),
                    latency: None,
                },
                60,
            );
        }
        let times: Vec<i64> = points.iter().map(|point| point.t).collect();
        assert_eq!(times, vec![100, 200, 300]);
    }

    fn log_alert(device: usize, status: AlertStatus, minute: i64) -> AlertEvent {
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
    fn snmp_alerts_are_listed_with_the_log_alerts() {
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
