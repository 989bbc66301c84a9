//! Tests of `/metrics` rendering and readiness: component labels keep sources apart, metrics absent or zero
//! as declared, and a bad-response count that counts what Meraki really sent (issue 10).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use semaphore_meraki::backoff::RetryPolicy;
use semaphore_meraki::error::ErrorKind;
use semaphore_meraki::{ApiKey, Client};
use semaphore_meraki_sim::{Faults, SimConfig};

use crate::bus::producer::ProducerMetrics;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{
    BACKFILL_WINDOWS, LOST_SECONDS, METRICS, POLL_ERRORS, POLLS, SINK_RECORDS, WATERMARK_LAG_SECONDS,
};

const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

/// The value of the sample `name{labels}` in Prometheus text, as the CLI tests read it.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(name_and_labels)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// The sample lines of one family.
fn samples_of<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .collect()
}

fn client(base_url: &str, retry: RetryPolicy) -> Client {
    Client::builder(ApiKey::new(KEY).expect("a valid key"))
        .base_url(base_url.parse().expect("a valid base URL"))
        .retry_policy(retry)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("the client builds")
}

/// Issue 10: two sources polling one organization were one series, overwritten or added together.
#[test]
fn two_sources_of_one_organization_are_two_series() {
    let telemetry = Telemetry::new();
    for (source, lag, lost) in [
        ("meraki_uplinks", 150.0, 60.0),
        ("meraki_device_history", 900.0, 300.0),
    ] {
        telemetry.set(&WATERMARK_LAG_SECONDS, &[source, "123"], lag);
        telemetry.add(&LOST_SECONDS, &[source, "123"], lost);
        telemetry.add(&BACKFILL_WINDOWS, &[source, "123"], 1.0);
    }
    telemetry.add(&BACKFILL_WINDOWS, &["meraki_uplinks", "123"], 1.0);
    let text = telemetry.render();
    for name in [
        "semaphore_watermark_lag_seconds",
        "semaphore_lost_seconds_total",
        "semaphore_backfill_windows_total",
    ] {
        assert_eq!(samples_of(&text, name).len(), 2, "{name}:\n{text}");
    }
    let series = |name: &str, source: &str| {
        sample(
            &text,
            &format!("{name}{{source=\"{source}\",organization=\"123\"}}"),
        )
    };
    assert_eq!(
        series("semaphore_watermark_lag_seconds", "meraki_uplinks"),
        Some(150.0)
    );
    assert_eq!(
        series("semaphore_watermark_lag_seconds", "meraki_device_history"),
        Some(900.0)
    );
    assert_eq!(
        series("semaphore_lost_seconds_total", "meraki_uplinks"),
        Some(60.0)
    );
    assert_eq!(
        series("semaphore_lost_seconds_total", "meraki_device_history"),
        Some(300.0)
    );
    assert_eq!(
        series("semaphore_backfill_windows_total", "meraki_uplinks"),
        Some(2.0)
    );
    assert_eq!(
        series("semaphore_backfill_windows_total", "meraki_device_history"),
        Some(1.0)
    );
}

#[test]
fn meraki_up_is_per_source_and_zero_until_the_source_reached_meraki() {
    let telemetry = Telemetry::new();
    telemetry.expect_sources(["meraki_uplinks", "meraki_device_history", "meraki_clients"]);
    telemetry.meraki_reached("meraki_uplinks");
    telemetry.meraki_not_reached("meraki_device_history", "connection refused");
    let text = telemetry.render();
    assert_eq!(
        sample(&text, "semaphore_meraki_up{source=\"meraki_uplinks\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "semaphore_meraki_up{source=\"meraki_device_history\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "semaphore_meraki_up{source=\"meraki_clients\"}"),
        Some(0.0)
    );
    assert_eq!(samples_of(&text, "semaphore_meraki_up").len(), 3, "{text}");
}

/// Recorded metrics have no sample until recorded; read ones are zero, or absent with what they measure.
#[tokio::test]
async fn never_recorded_metrics_are_absent_or_zero_as_declared() {
    let telemetry = Telemetry::new();
    let text = telemetry.render();
    // Recorded: the family is declared, without a sample.
    assert!(
        text.contains("# TYPE semaphore_poll_errors_total counter\n"),
        "{text}"
    );
    assert!(
        samples_of(&text, "semaphore_poll_errors_total").is_empty(),
        "{text}"
    );
    // Read, and its subject is always there: zero.
    assert_eq!(sample(&text, "semaphore_kafka_up"), Some(0.0));
    // Read, and no Meraki client or producer in this process: the families are left out.
    for absent in ["semaphore_meraki_requests_total", "semaphore_kafka_queue_depth"] {
        assert!(!text.contains(absent), "{absent}:\n{text}");
    }

    telemetry.add(&POLLS, &["meraki_uplinks"], 1.0);
    telemetry.register_meraki(&client("http://127.0.0.1:9/api/v1", RetryPolicy::default()));
    *telemetry.producer.lock().unwrap() = Some(Arc::new(ProducerMetrics::default()));
    let text = telemetry.render();
    assert_eq!(
        sample(&text, "semaphore_polls_total{source=\"meraki_uplinks\"}"),
        Some(1.0)
    );
    assert!(
        samples_of(&text, "semaphore_poll_errors_total").is_empty(),
        "{text}"
    );
    assert_eq!(sample(&text, "semaphore_meraki_requests_total"), Some(0.0));
    assert_eq!(
        sample(&text, "semaphore_meraki_errors_total{kind=\"invalid_response\"}"),
        Some(0.0)
    );
    assert_eq!(sample(&text, "semaphore_kafka_queue_depth"), Some(0.0));
    assert_eq!(telemetry.get(&SINK_RECORDS, &["influxdb"]), 0.0);
}

/// Issue 10: `semaphore_meraki_bad_responses_total` was declared but never counted.
#[tokio::test]
async fn bad_responses_count_the_undecodable_answers_of_each_source() {
    let proxy_page = semaphore_meraki_sim::spawn(SimConfig {
        faults: Faults {
            malformed_rate: 1.0,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("the simulator starts");
    let fast = RetryPolicy {
        max_attempts: 2,
        backoff: semaphore_meraki::Backoff::new(Duration::from_millis(5), Duration::from_millis(50)),
    };
    let broken = client(&proxy_page.base_url(), fast);
    let unused = client(&proxy_page.base_url(), RetryPolicy::default());
    let telemetry = Telemetry::new();
    telemetry.register_source_clients("meraki_uplinks", [&broken]);
    telemetry.register_source_clients("meraki_device_history", [&unused]);
    let text = telemetry.render();
    assert_eq!(
        sample(
            &text,
            "semaphore_meraki_bad_responses_total{source=\"meraki_uplinks\"}"
        ),
        Some(0.0),
        "registered and not yet failing: zero"
    );

    let error = broken
        .organizations()
        .await
        .expect_err("every answer is an HTML page");
    assert_eq!(error.kind(), ErrorKind::InvalidResponse);
    let text = telemetry.render();
    assert_eq!(
        sample(
            &text,
            "semaphore_meraki_bad_responses_total{source=\"meraki_uplinks\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "semaphore_meraki_bad_responses_total{source=\"meraki_device_history\"}"
        ),
        Some(0.0),
        "{text}"
    );
}

#[test]
fn each_metric_is_declared_once_with_every_documented_name() {
    let names: Vec<&str> = METRICS.iter().map(|metric| metric.name).collect();
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "a name declared twice: {names:?}");
    // The names README.md's "Admin HTTP" section documents.
    for documented in [
        "semaphore_polls_total",
        "semaphore_poll_errors_total",
        "semaphore_cycle_api_requests",
        "semaphore_cycle_seconds",
        "semaphore_meraki_requests_total",
        "semaphore_meraki_rate_limited_total",
        "semaphore_meraki_retries_total",
        "semaphore_meraki_pages_total",
        "semaphore_meraki_errors_total",
        "semaphore_meraki_bad_responses_total",
        "semaphore_records_produced_total",
        "semaphore_records_failed_total",
        "semaphore_delivery_seconds_sum",
        "semaphore_delivery_seconds_count",
        "semaphore_watermark_lag_seconds",
        "semaphore_backfill_windows_total",
        "semaphore_lost_seconds_total",
        "semaphore_records_duplicate_skipped_total",
        "semaphore_kafka_up",
        "semaphore_meraki_up",
        "semaphore_kafka_sent_total",
        "semaphore_kafka_delivered_total",
        "semaphore_kafka_failed_total",
        "semaphore_kafka_queue_depth",
        "semaphore_sink_records_total",
        "semaphore_sink_malformed_total",
        "semaphore_sink_dead_lettered_total",
        "semaphore_sink_retries_total",
    ] {
        assert!(unique.contains(documented), "{documented} is not declared");
    }
    for metric in METRICS {
        assert!(
            metric
                .name
                .chars()
                .all(|character| character.is_ascii_lowercase() || character == '_'),
            "{}",
            metric.name
        );
    }
}

#[test]
fn poll_errors_of_two_sources_stay_apart() {
    let telemetry = Telemetry::new();
    telemetry.add(&POLL_ERRORS, &["meraki_uplinks"], 1.0);
    telemetry.add(&POLL_ERRORS, &["meraki_uplinks"], 1.0);
    telemetry.add(&POLL_ERRORS, &["meraki_clients"], 1.0);
    assert_eq!(telemetry.get(&POLL_ERRORS, &["meraki_uplinks"]), 2.0);
    assert_eq!(telemetry.get(&POLL_ERRORS, &["meraki_clients"]), 1.0);
}
