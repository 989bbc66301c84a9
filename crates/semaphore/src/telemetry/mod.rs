//! semaphore's own metrics: counters and gauges the components update, rendered as Prometheus text by
//! [`exposition`] for the admin server's `/metrics`.
//!
//! Labels are bounded: source ids and output kinds come from the config, organizations from the key's
//! access (a handful), error kinds from a fixed list; never serials or IPs.

pub mod exposition;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use semaphore_meraki::{Client, MetricsSnapshot};

use crate::bus::producer::ProducerMetrics;
use crate::telemetry::exposition::Exposition;

/// Counters per label value (a source id, an output, an organization).
#[derive(Debug, Default)]
pub struct Labelled {
    values: Mutex<BTreeMap<String, f64>>,
}

impl Labelled {
    pub fn add(&self, label: &str, amount: f64) {
        *self.lock().entry(label.to_owned()).or_default() += amount;
    }

    pub fn set(&self, label: &str, value: f64) {
        self.lock().insert(label.to_owned(), value);
    }

    pub fn get(&self, label: &str) -> f64 {
        self.lock().get(label).copied().unwrap_or_default()
    }

    pub fn snapshot(&self) -> BTreeMap<String, f64> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, f64>> {
        // A std mutex: held for one map update, never across an await.
        self.values
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Everything `/metrics` shows. Created once by the pipeline and passed down.
#[derive(Debug, Default)]
pub struct Telemetry {
    pub polls: Labelled,
    pub poll_errors: Labelled,
    /// Meraki API requests spent by the last complete cycle of each source.
    pub cycle_api_requests: Labelled,
    pub cycle_seconds: Labelled,
    pub records_produced: Labelled,
    pub records_failed: Labelled,
    pub records_skipped_duplicate: Labelled,
    pub delivery_seconds_sum: Labelled,
    pub delivery_seconds_count: Labelled,
    /// Seconds between now and the organization's watermark.
    pub watermark_lag_seconds: Labelled,
    pub backfill_windows: Labelled,
    pub lost_seconds: Labelled,
    pub bad_responses: Labelled,
    /// Records each sink delivered (accepted by its destination).
    pub sink_records: Labelled,
    pub sink_malformed: Labelled,
    pub sink_dead_lettered: Labelled,
    pub sink_retries: Labelled,
    pub meraki_reached: AtomicBool,
    /// False when no source polls Meraki (a process of sinks only), so readiness does not wait for it.
    pub meraki_required: AtomicBool,
    pub kafka_reached: AtomicBool,
    /// False when no output needs Kafka, so readiness does not wait for it.
    pub kafka_required: AtomicBool,
    /// Every Meraki client of the process; `/metrics` shows their sum.
    pub meraki: Mutex<Vec<Client>>,
    pub producer: Mutex<Option<Arc<ProducerMetrics>>>,
}

impl Telemetry {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn ready(&self) -> (bool, Vec<&'static str>) {
        let mut missing = Vec::new();
        if self.meraki_required.load(Ordering::Relaxed) && !self.meraki_reached.load(Ordering::Relaxed) {
            missing.push("meraki");
        }
        if self.kafka_required.load(Ordering::Relaxed) && !self.kafka_reached.load(Ordering::Relaxed) {
            missing.push("kafka");
        }
        (missing.is_empty(), missing)
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = Exposition::default();
        text.labelled(
            "semaphore_polls_total",
            "Polls started per source.",
            "counter",
            "source",
            &self.polls,
        );
        text.labelled(
            "semaphore_poll_errors_total",
            "Polls that failed per source (retried next interval).",
            "counter",
            "source",
            &self.poll_errors,
        );
        text.labelled(
            "semaphore_cycle_api_requests",
            "Meraki API requests of the last complete cycle per source.",
            "gauge",
            "source",
            &self.cycle_api_requests,
        );
        text.labelled(
            "semaphore_cycle_seconds",
            "Duration of the last complete cycle per source.",
            "gauge",
            "source",
            &self.cycle_seconds,
        );
        text.labelled(
            "semaphore_records_produced_total",
            "Records acknowledged per output.",
            "counter",
            "output",
            &self.records_produced,
        );
        text.labelled(
            "semaphore_records_failed_total",
            "Records an output refused (retried, never dropped).",
            "counter",
            "output",
            &self.records_failed,
        );
        text.labelled(
            "semaphore_records_duplicate_skipped_total",
            "Samples found already in Kafka after a restart and not written again, per source.",
            "counter",
            "source",
            &self.records_skipped_duplicate,
        );
        text.labelled(
            "semaphore_delivery_seconds_sum",
            "Total time from sending a batch to every output's acknowledgement.",
            "counter",
            "output",
            &self.delivery_seconds_sum,
        );
        text.labelled(
            "semaphore_delivery_seconds_count",
            "Batches acknowledged.",
            "counter",
            "output",
            &self.delivery_seconds_count,
        );
        text.labelled(
            "semaphore_watermark_lag_seconds",
            "How far the organization's watermark is behind now (2-3 minutes when caught up).",
            "gauge",
            "organization",
            &self.watermark_lag_seconds,
        );
        text.labelled(
            "semaphore_backfill_windows_total",
            "Windows read behind the newest one (catching up a gap).",
            "counter",
            "organization",
            &self.backfill_windows,
        );
        text.labelled(
            "semaphore_lost_seconds_total",
            "Seconds of samples older than Meraki's 60-day retention when reached (lost).",
            "counter",
            "organization",
            &self.lost_seconds,
        );
        text.labelled(
            "semaphore_meraki_bad_responses_total",
            "Meraki items that could not be used (missing fields), per source.",
            "counter",
            "source",
            &self.bad_responses,
        );
        text.labelled(
            "semaphore_sink_records_total",
            "Records each sink delivered to its destination (offsets committed after).",
            "counter",
            "sink",
            &self.sink_records,
        );
        text.labelled(
            "semaphore_sink_malformed_total",
            "Messages a sink could not decode (not JSON, wrong schema), sent to the dead-letter topic.",
            "counter",
            "sink",
            &self.sink_malformed,
        );
        text.labelled(
            "semaphore_sink_dead_lettered_total",
            "Messages a sink wrote to the dead-letter topic (malformed or rejected by the destination).",
            "counter",
            "sink",
            &self.sink_dead_lettered,
        );
        text.labelled(
            "semaphore_sink_retries_total",
            "Batches a sink's destination could not take yet (retried, not committed meanwhile).",
            "counter",
            "sink",
            &self.sink_retries,
        );
        text.gauge(
            "semaphore_meraki_up",
            "1 when the last Meraki request succeeded.",
            self.meraki_reached.load(Ordering::Relaxed),
        );
        text.gauge(
            "semaphore_kafka_up",
            "1 when Kafka answered the last probe or delivery.",
            self.kafka_reached.load(Ordering::Relaxed),
        );
        let clients = self
            .meraki
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if !clients.is_empty() {
            let snapshot = sum(clients.iter().map(|client| client.metrics().snapshot()));
            text.counter(
                "semaphore_meraki_requests_total",
                "Meraki API requests sent (pages and retries included).",
                snapshot.requests,
            );
            text.counter(
                "semaphore_meraki_rate_limited_total",
                "Meraki answers with HTTP 429.",
                snapshot.rate_limited,
            );
            text.counter(
                "semaphore_meraki_retries_total",
                "Meraki requests retried.",
                snapshot.retries,
            );
            text.counter(
                "semaphore_meraki_pages_total",
                "Meraki pages followed.",
                snapshot.pages,
            );
            text.family(
                "semaphore_meraki_errors_total",
                "Meraki calls that failed for good, per kind.",
                "counter",
            );
            for (kind, count) in &snapshot.errors {
                text.sample("semaphore_meraki_errors_total", &[("kind", kind)], *count as f64);
            }
        }
        let producer = self
            .producer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(producer) = producer {
            let snapshot = producer.snapshot();
            text.counter(
                "semaphore_kafka_sent_total",
                "Records handed to the Kafka producer.",
                snapshot.sent,
            );
            text.counter(
                "semaphore_kafka_delivered_total",
                "Records Kafka acknowledged.",
                snapshot.delivered,
            );
            text.counter(
                "semaphore_kafka_failed_total",
                "Records Kafka refused.",
                snapshot.failed,
            );
            text.counter(
                "semaphore_kafka_delivered_bytes_total",
                "Payload bytes Kafka acknowledged.",
                snapshot.bytes,
            );
            text.family(
                "semaphore_kafka_queue_depth",
                "Records sent and not yet acknowledged or refused.",
                "gauge",
            );
            let depth = snapshot.sent.saturating_sub(snapshot.delivered + snapshot.failed);
            text.sample("semaphore_kafka_queue_depth", &[], depth as f64);
        }
        text.finish()
    }
}

impl Telemetry {
    /// Meraki API requests of every client so far.
    pub fn meraki_requests(&self) -> u64 {
        let clients = self
            .meraki
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        sum(clients.iter().map(|client| client.metrics().snapshot())).requests
    }

    /// Adds a Meraki client to those `/metrics` reports.
    pub fn register_meraki(&self, client: &Client) {
        self.meraki
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(client.clone());
    }
}

fn sum(snapshots: impl Iterator<Item = MetricsSnapshot>) -> MetricsSnapshot {
    let mut total = MetricsSnapshot::default();
    for snapshot in snapshots {
        total.requests += snapshot.requests;
        total.rate_limited += snapshot.rate_limited;
        total.retries += snapshot.retries;
        total.pages += snapshot.pages;
        total.redirects += snapshot.redirects;
        for (kind, count) in snapshot.errors {
            match total.errors.iter_mut().find(|(known, _)| *known == kind) {
                Some((_, total_count)) => *total_count += count,
                None => total.errors.push((kind, count)),
            }
        }
    }
    total
}
