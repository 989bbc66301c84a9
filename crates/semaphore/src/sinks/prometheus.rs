//! The Prometheus exporter sink: the latest sample of every uplink as gauges on its own `/metrics`, in the
//! base units Prometheus's naming guide asks for:
//!
//! | metric | value |
//! |---|---|
//! | `meraki_uplink_latency_seconds` | latency / 1000 (absent while the uplink is down) |
//! | `meraki_uplink_loss_ratio` | loss / 100, 0–1 (absent while down) |
//! | `meraki_uplink_jitter_seconds` | jitter / 1000 (per-device history only) |
//! | `meraki_uplink_up` | 1, or 0 when Meraki reported no loss figure |
//! | `meraki_uplink_sample_timestamp_seconds` | the sample time of the values shown |
//!
//! Labels, one series per uplink and destination: `organization_id`, `network_id`, `network_name`, `serial`,
//! `device_name`, `uplink`, `ip`. Their number is bounded by the estate (appliances × uplinks ×
//! destinations) and capped by `max_series`. A series disappears when its uplink has not reported for
//! `expire_after_s`, so a removed appliance does not stay at its last value forever.

mod config;

pub use config::PrometheusSinkFile;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::time::Instant;

use crate::record::UplinkRecord;
use crate::sinks::message::Decoded;
use crate::sinks::sink::Accepted;
use crate::telemetry::exposition::Exposition;

const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone, Debug)]
pub struct PrometheusSettings {
    pub listen: SocketAddr,
    pub expire_after: Duration,
    pub max_series: usize,
}

/// A gauge's value from a sample, in base units; `None` leaves the uplink out of that family.
type ValueOf = fn(&UplinkRecord) -> Option<f64>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SeriesId {
    serial: String,
    uplink: String,
    ip: String,
}

#[derive(Clone, Debug)]
struct Series {
    record: UplinkRecord,
    received: Instant,
}

#[derive(Debug)]
pub struct PrometheusExporter {
    settings: PrometheusSettings,
    series: Mutex<HashMap<SeriesId, Series>>,
    /// Uplinks not exported because `max_series` was reached.
    over_cap: Mutex<u64>,
}

impl PrometheusExporter {
    pub fn new(settings: PrometheusSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            series: Mutex::default(),
            over_cap: Mutex::default(),
        })
    }

    /// Keeps each uplink's newest sample (by sample time: a re-read older record does not go back in time).
    pub fn deliver(&self, batch: &[Accepted]) {
        let now = Instant::now();
        let mut series = self.lock();
        let mut over_cap = 0;
        for accepted in batch {
            let Decoded::Uplink(record) = &accepted.decoded else {
                continue;
            };
            let id = SeriesId {
                serial: record.serial.clone(),
                uplink: record.uplink.clone(),
                ip: record.ip.clone(),
            };
            let count = series.len();
            match series.get_mut(&id) {
                Some(known) => {
                    known.received = now;
                    if known.record.ts <= record.ts {
                        known.record = (**record).clone();
                    }
                }
                None if count >= self.settings.max_series => over_cap += 1,
                None => {
                    series.insert(
                        id,
                        Series {
                            record: (**record).clone(),
                            received: now,
                        },
                    );
                }
            }
        }
        *self
            .over_cap
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) += over_cap;
    }

    /// The exposition, after dropping series that stopped reporting.
    pub fn render(&self) -> String {
        let expire_after = self.settings.expire_after;
        let mut series = self.lock();
        series.retain(|_, known| known.received.elapsed() < expire_after);
        let mut rows: Vec<&Series> = series.values().collect();
        rows.sort_by(|a, b| {
            (&a.record.serial, &a.record.uplink, &a.record.ip).cmp(&(
                &b.record.serial,
                &b.record.uplink,
                &b.record.ip,
            ))
        });
        let mut text = Exposition::default();
        let families: [(&str, &str, ValueOf); 5] = [
            (
                "meraki_uplink_latency_seconds",
                "Latency of the uplink to the destination IP, seconds.",
                |record| record.latency_ms.map(|value| value / 1000.0),
            ),
            (
                "meraki_uplink_loss_ratio",
                "Packet loss of the uplink to the destination IP, 0-1.",
                |record| record.loss_percent.map(|value| value / 100.0),
            ),
            (
                "meraki_uplink_jitter_seconds",
                "Jitter of the uplink, seconds (per-device history only).",
                |record| record.jitter.map(|value| value / 1000.0),
            ),
            (
                "meraki_uplink_up",
                "1 when Meraki reported loss figures for the uplink, 0 when it reported none (down).",
                |record| Some(if record.is_down() { 0.0 } else { 1.0 }),
            ),
            (
                "meraki_uplink_sample_timestamp_seconds",
                "Sample time of the values shown, Unix seconds.",
                |record| Some(record.ts.timestamp() as f64),
            ),
        ];
        for (name, help, value_of) in families {
            let values: Vec<(&Series, f64)> = rows
                .iter()
                .filter_map(|known| value_of(&known.record).map(|value| (*known, value)))
                .collect();
            if values.is_empty() {
                continue;
            }
            text.family(name, help, "gauge");
            for (known, value) in values {
                text.sample(name, &labels(&known.record), value);
            }
        }
        let over_cap = *self
            .over_cap
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let name = "meraki_uplink_series_over_cap_total";
        text.family(
            name,
            "Samples of uplinks not exported because max_series was reached.",
            "counter",
        );
        text.sample(name, &[], over_cap as f64);
        text.finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SeriesId, Series>> {
        // Held for one batch or one render, never across an await.
        self.series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `/metrics` (and a pointer to it on `/`), for [`crate::http_server::bind`].
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/metrics", get(metrics))
            .route(
                "/",
                get(|| async { "semaphore Prometheus exporter: see /metrics\n" }),
            )
            .with_state(self.clone())
    }

    pub fn listen(&self) -> SocketAddr {
        self.settings.listen
    }
}

fn labels(record: &UplinkRecord) -> [(&'static str, &str); 7] {
    [
        ("organization_id", &record.organization_id),
        ("network_id", &record.network_id),
        ("network_name", record.network_name.as_deref().unwrap_or("")),
        ("serial", &record.serial),
        ("device_name", record.device_name.as_deref().unwrap_or("")),
        ("uplink", &record.uplink),
        ("ip", &record.ip),
    ]
}

async fn metrics(State(exporter): State<Arc<PrometheusExporter>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], exporter.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::message::ConsumedMessage;

    fn accepted(serial: &str, ts: &str, loss: Option<f64>, latency: Option<f64>) -> Accepted {
        let record: UplinkRecord = serde_json::from_value(serde_json::json!({
            "organizationId": "1", "networkId": "N_1", "networkName": "Branch \"1\"", "serial": serial,
            "deviceName": null, "model": null, "tags": [], "uplink": "wan1", "ip": "8.8.8.8", "ts": ts,
            "lossPercent": loss, "latencyMs": latency, "jitter": null, "goodput": null,
            "activeDdnsHostname": null, "ddnsHostnameWan1": null, "ddnsHostnameWan2": null
        }))
        .unwrap();
        Accepted {
            message: ConsumedMessage {
                topic: "t".into(),
                partition: 0,
                offset: 0,
                timestamp_ms: None,
                key: None,
                payload: Vec::new(),
                headers: Vec::new(),
            },
            decoded: Decoded::Uplink(Box::new(record)),
        }
    }

    fn exporter(expire_after: Duration, max_series: usize) -> Arc<PrometheusExporter> {
        PrometheusExporter::new(PrometheusSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            expire_after,
            max_series,
        })
    }

    #[test]
    fn base_units_newest_sample_wins_down_has_only_up() {
        let exporter = exporter(Duration::from_secs(60), 10);
        exporter.deliver(&[
            accepted("Q2AA", "2026-11-27T10:01:00Z", Some(2.5), Some(31.0)),
            accepted("Q2AA", "2026-11-27T10:00:00Z", Some(9.0), Some(99.0)),
            accepted("Q2BB", "2026-11-27T10:00:00Z", None, None),
        ]);
        let text = exporter.render();
        assert!(text.contains(
            "meraki_uplink_latency_seconds{organization_id=\"1\",network_id=\"N_1\",network_name=\"Branch \\\"1\\\"\",serial=\"Q2AA\",device_name=\"\",uplink=\"wan1\",ip=\"8.8.8.8\"} 0.031\n"
        ), "{text}");
        assert!(
            text.contains("meraki_uplink_loss_ratio{")
                && text.contains("serial=\"Q2AA\",device_name=\"\",uplink=\"wan1\",ip=\"8.8.8.8\"} 0.025\n"),
            "{text}"
        );
        assert!(
            text.contains("serial=\"Q2BB\",device_name=\"\",uplink=\"wan1\",ip=\"8.8.8.8\"} 0\n"),
            "{text}"
        );
        assert!(!text.contains("meraki_uplink_latency_seconds{organization_id=\"1\",network_id=\"N_1\",network_name=\"Branch \\\"1\\\"\",serial=\"Q2BB\""));
        assert!(
            !text.contains("meraki_uplink_jitter_seconds"),
            "no jitter reported, no family"
        );
    }

    #[test]
    fn series_expire_and_cap_is_counted() {
        let exporter = exporter(Duration::ZERO, 1);
        exporter.deliver(&[
            accepted("Q2AA", "2026-11-27T10:01:00Z", Some(1.0), Some(1.0)),
            accepted("Q2BB", "2026-11-27T10:01:00Z", Some(1.0), Some(1.0)),
        ]);
        let text = exporter.render();
        assert!(
            !text.contains("Q2AA"),
            "expired at once with expire_after 0: {text}"
        );
        assert!(text.contains("meraki_uplink_series_over_cap_total 1\n"), "{text}");
    }
}
