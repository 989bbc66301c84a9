//! The admin HTTP server: `/metrics` (Prometheus text), `/healthz` (the process answers) and `/readyz`
//! (every source reached Meraki and, when an output or sink needs it, Kafka was reached: 200 listing each
//! component as `ok`, else 503 naming each component that is not ready and why).
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
    readiness_response(&telemetry)
}

/// 200 when every component is ready, else 503; the body has a line per component (`source ID: ok`,
/// `source ID: Meraki not reached: ...`, `kafka: not reached: ...`).
fn readiness_response(telemetry: &Telemetry) -> (StatusCode, String) {
    let readiness = telemetry.readiness();
    let status = if readiness.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, readiness.report())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    /// Issue 10: readiness was one flag written by whichever source ran last.
    #[test]
    fn readyz_names_the_component_that_is_not_ready() {
        let telemetry = Telemetry::new();
        telemetry.expect_sources(["meraki_uplinks", "meraki_device_history"]);
        telemetry.kafka_required.store(true, Ordering::Relaxed);
        telemetry.kafka_reached();
        telemetry.meraki_reached("meraki_uplinks");
        telemetry.meraki_not_reached(
            "meraki_device_history",
            "cannot connect to http://127.0.0.1:9/api/v1",
        );
        let (status, body) = readiness_response(&telemetry);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            "not ready\n\
             source meraki_device_history: Meraki not reached: cannot connect to http://127.0.0.1:9/api/v1\n\
             source meraki_uplinks: ok\n\
             kafka: ok\n"
        );

        // The source that ran last reaching Meraki does not make another one ready.
        telemetry.meraki_reached("meraki_uplinks");
        telemetry.kafka_not_reached("metadata request timed out");
        let (status, body) = readiness_response(&telemetry);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("source meraki_device_history: Meraki not reached: cannot connect"),
            "{body}"
        );
        assert!(
            body.contains("kafka: not reached: metadata request timed out\n"),
            "{body}"
        );

        telemetry.meraki_reached("meraki_device_history");
        telemetry.kafka_reached();
        assert_eq!(
            readiness_response(&telemetry),
            (
                StatusCode::OK,
                "ready\nsource meraki_device_history: ok\nsource meraki_uplinks: ok\nkafka: ok\n".to_owned()
            )
        );
    }

    #[test]
    fn readyz_waits_for_sources_that_have_not_reported_yet() {
        let telemetry = Telemetry::new();
        telemetry.expect_sources(["meraki_clients"]);
        let (status, body) = readiness_response(&telemetry);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, "not ready\nsource meraki_clients: Meraki not reached yet\n");

        // What a source reported before the pipeline listed it is kept.
        let telemetry = Telemetry::new();
        telemetry.meraki_reached("meraki_clients");
        telemetry.expect_sources(["meraki_clients"]);
        telemetry.kafka_required.store(true, Ordering::Relaxed);
        let (status, body) = readiness_response(&telemetry);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            "not ready\nsource meraki_clients: ok\nkafka: not reached yet\n"
        );
    }

    #[test]
    fn a_multi_line_error_stays_on_its_component_line() {
        let telemetry = Telemetry::new();
        telemetry.meraki_not_reached("meraki_uplinks", "first line\nsecond line");
        let (_, body) = readiness_response(&telemetry);
        assert_eq!(
            body,
            "not ready\nsource meraki_uplinks: Meraki not reached: first line second line\n"
        );
    }
}
