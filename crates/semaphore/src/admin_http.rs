//! The admin HTTP server: `/metrics` (Prometheus text), `/healthz` (the process answers) and `/readyz`
//! (Meraki and, when an output needs it, Kafka were reached: 200, else 503 naming what is missing).
//! Binds 127.0.0.1 unless the config says otherwise.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::shutdown::Stop;
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

/// Binds now (so a bad address fails at start) and serves until `stop`.
pub async fn bind(
    listen: SocketAddr,
    telemetry: Arc<Telemetry>,
) -> std::io::Result<(SocketAddr, impl FnOnce(Stop) -> tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let serve = move |stop: Stop| {
        tokio::spawn(async move {
            let result = axum::serve(listener, router(telemetry))
                .with_graceful_shutdown(async move { stop.stopped().await })
                .await;
            if let Err(error) = result {
                tracing::error!(%error, "The admin HTTP server stopped.");
            }
        })
    };
    Ok((address, serve))
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
