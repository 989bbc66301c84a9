//! The live web dashboard for an estate of any size: an overview an operator scans in seconds (counts of
//! uplinks down, degraded and healthy; the worst uplinks first, each with a sparkline of the last hour; the
//! alerts grouped by rule), a filter answered by the server as the user types, and the full charts of a
//! network, a device or a small estate. Log and SNMP alerts (syslog, trap and interface rules) are grouped
//! with the uplink alerts.
//! The page, script and style are compiled into the binary (`assets/dashboard/`): no CDN, works offline.
//!
//! It reads like any other sink, from the time `history` ago rather than from committed offsets: it is a
//! view, so each start shows the last hour again. Routes: `/` (page), `/app.js`, `/app.css`,
//! `/api/overview` (what the page shows: see `overview`), `/api/snapshot` (everything, for scripts),
//! `/events` (SSE: a `tick` when something changed, at most ten a second; the page then asks again).

mod alert_groups;
mod config;
mod overview;
mod overview_query;
mod row_order;
mod shown;
mod uplink_health;

pub use config::DashboardSinkFile;

use std::cmp::Reverse;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use chrono::Utc;
use tokio::sync::watch;

use crate::record::AlertEvent;
use crate::sinks::message::Decoded;
use crate::sinks::sink::Accepted;
use overview_query::OverviewParams;
use shown::Shown;

const INDEX_HTML: &str = include_str!("../../assets/dashboard/index.html");
const APP_JS: &str = include_str!("../../assets/dashboard/app.js");
const APP_CSS: &str = include_str!("../../assets/dashboard/app.css");

/// Least time between two ticks to one page: a burst of records becomes a few ticks, and the page asks again
/// at most ten times a second, yet a change shows within a tenth of a second of arriving.
const TICK_GAP: Duration = Duration::from_millis(100);

#[derive(Clone, Debug)]
pub struct DashboardSettings {
    pub listen: SocketAddr,
    pub history: Duration,
}

#[derive(Debug)]
pub struct Dashboard {
    history: Duration,
    listen: SocketAddr,
    shown: Mutex<Shown>,
    records: AtomicU64,
    /// Records read so far, each time something shown changed: the pages' ticks.
    changes: watch::Sender<u64>,
}

impl Dashboard {
    pub fn new(settings: &DashboardSettings) -> Arc<Self> {
        Arc::new(Self {
            history: settings.history,
            listen: settings.listen,
            shown: Mutex::default(),
            records: AtomicU64::new(0),
            changes: watch::channel(0).0,
        })
    }

    pub fn deliver(&self, batch: &[Accepted]) {
        let oldest = self.oldest();
        let mut changed = false;
        {
            let mut shown = self.lock();
            for accepted in batch {
                match &accepted.decoded {
                    Decoded::Uplink(record) => changed |= shown.apply_sample(record, oldest),
                    Decoded::Alert(event) => {
                        shown.apply_alert(event);
                        changed = true;
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
        if changed {
            // No page open: nobody to tell, and nothing fails.
            self.changes.send_replace(records);
        }
    }

    /// The oldest sample time shown, Unix seconds.
    fn oldest(&self) -> i64 {
        Utc::now().timestamp() - self.history.as_secs() as i64
    }

    fn snapshot(&self) -> serde_json::Value {
        let mut shown = self.lock();
        shown.forget_before(self.oldest());
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

    /// The overview's JSON text, or why the parameters were refused.
    fn overview(&self, params: OverviewParams) -> Result<String, String> {
        let query = params.check()?;
        let mut shown = self.lock();
        shown.forget_before(self.oldest());
        let records = self.records.load(Ordering::Relaxed);
        let now = Utc::now().timestamp();
        Ok(overview::overview(
            &shown,
            &query,
            records,
            self.history.as_secs(),
            now,
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shown> {
        // Held for one batch or one answer, never across an await.
        self.shown.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The page, its assets, the overview, the snapshot and the ticks, for [`crate::http_server::bind`].
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
            .route("/api/overview", get(overview_route))
            .route("/api/snapshot", get(snapshot))
            .route("/events", get(events))
            .with_state(self.clone())
    }

    pub fn listen(&self) -> SocketAddr {
        self.listen
    }
}

async fn overview_route(
    State(dashboard): State<Arc<Dashboard>>,
    Query(params): Query<OverviewParams>,
) -> Response {
    match dashboard.overview(params) {
        Ok(answer) => ([(header::CONTENT_TYPE, "application/json")], answer).into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

async fn snapshot(State(dashboard): State<Arc<Dashboard>>) -> impl IntoResponse {
    Json(dashboard.snapshot())
}

/// A `tick` whenever something shown changed, at most one per [`TICK_GAP`]: changes in between are one tick.
async fn events(
    State(dashboard): State<Arc<Dashboard>>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let mut changes = dashboard.changes.subscribe();
    // What the page loads first is already new to it: no tick for what came before.
    changes.mark_unchanged();
    let stream = futures::stream::unfold((changes, false), |(mut changes, ticked)| async move {
        if ticked {
            tokio::time::sleep(TICK_GAP).await;
        }
        // The dashboard is gone: the server is stopping.
        changes.changed().await.ok()?;
        let records = *changes.borrow_and_update();
        let event = Event::default()
            .event("tick")
            .data(format!("{{\"records\":{records}}}"));
        Some((Ok(event), (changes, true)))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
