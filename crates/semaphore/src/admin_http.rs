//! The admin HTTP server: `/metrics` (Prometheus text), `/healthz` (the process answers) and `/readyz`
//! (Meraki and, when an output needs it, Kafka were reached: 200, else 503 naming what is missing).
//! Binds 127.0.0.1 unless the config says otherwise; served by [`crate::http_server`].

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::telemetry::Telemetry;

/// The Prometheus text format's content type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn router(telemetry: Arc<Telemetry>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(telemetry)
}

async fn metrics(State(telemetry): State<Arc<Telemetry>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], telemetry.render())
}

async fn ready(State(telemetry): State<Arc<Telemetry>>) -> impl IntoResponse {
    let (ready, missing) = telemetry.ready();
    if ready {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: not reached: {}\n", missing.join(", ")),
        )
    }
}
