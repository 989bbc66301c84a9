//! semaphore's own metrics and readiness: components record values against the metrics [`metrics`] declares
//! and report what they reached ([`readiness`]); [`Telemetry::render`] writes every declared family as
//! Prometheus text ([`exposition`]) for the admin server's `/metrics`, and [`Telemetry::readiness`] answers
//! `/readyz`.
//!
//! Labels are bounded: source and sink ids and output kinds come from the config, organizations from the
//! key's access (a handful), error kinds from a fixed list; never serials or IPs.

pub mod exposition;
pub mod metrics;
pub mod readiness;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use semaphore_meraki::{Client, MetricsSnapshot};

use crate::bus::producer::ProducerMetrics;
use crate::sources::listener::{ListenAddress, ListenerStats};
use crate::spool::SpoolStats;
use crate::telemetry::exposition::Exposition;
use crate::telemetry::metrics::{METRICS, Metric, Sample, Values};
use crate::telemetry::readiness::{Reach, Reachability, Readiness};

/// The series of one recorded metric: label values → value.
type Series = BTreeMap<Vec<String>, f64>;

/// Everything `/metrics` and `/readyz` show. Created once by the pipeline and passed down.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// Values of the [`Values::Recorded`] metrics, by metric name. A std mutex: held for one map update or
    /// one copy, never across an await.
    recorded: Mutex<BTreeMap<&'static str, Series>>,
    reachability: Reachability,
    /// The Meraki clients of each source, for the counts its clients keep per source.
    source_clients: Mutex<BTreeMap<String, Vec<Client>>>,
    /// False when no output or sink needs Kafka, so readiness does not wait for it.
    pub kafka_required: AtomicBool,
    /// Every Meraki client of the process; `/metrics` shows their sum.
    pub meraki: Mutex<Vec<Client>>,
    pub producer: Mutex<Option<Arc<ProducerMetrics>>>,
    /// The Kafka output's spool, when it has one.
    pub spool: Mutex<Option<Arc<SpoolStats>>>,
    /// Every push source's listeners (syslog's), their counters shown per source and address.
    pub listeners: Mutex<Vec<RegisteredListener>>,
}

/// A listener `/metrics` shows: its source, the address it bound, its counters.
#[derive(Clone, Debug)]
pub struct RegisteredListener {
    pub source: String,
    pub listen: ListenAddress,
    pub stats: Arc<ListenerStats>,
}

impl Telemetry {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Adds `amount` to the series of `metric` with these label values (in the order the metric declares).
    pub fn add(&self, metric: &Metric, labels: &[&str], amount: f64) {
        let key = series_key(metric, labels);
        *lock(&self.recorded)
            .entry(metric.name)
            .or_default()
            .entry(key)
            .or_default() += amount;
    }

    /// Sets the series of `metric` with these label values (a gauge).
    pub fn set(&self, metric: &Metric, labels: &[&str], value: f64) {
        let key = series_key(metric, labels);
        lock(&self.recorded)
            .entry(metric.name)
            .or_default()
            .insert(key, value);
    }

    /// The value of one recorded series; 0 when never recorded.
    pub fn get(&self, metric: &Metric, labels: &[&str]) -> f64 {
        let key = series_key(metric, labels);
        lock(&self.recorded)
            .get(metric.name)
            .and_then(|series| series.get(&key))
            .copied()
            .unwrap_or_default()
    }

    /// The Prometheus text exposition of every metric [`METRICS`] declares.
    pub fn render(&self) -> String {
        let mut text = Exposition::default();
        for metric in METRICS {
            let samples = match metric.values {
                Values::Recorded => self.recorded_samples(metric.name),
                Values::Read(read) => match read(self) {
                    Some(samples) => samples,
                    None => continue,
                },
            };
            text.family(metric.name, metric.help, metric.kind.as_str());
            for (label_values, value) in &samples {
                let labels: Vec<(&str, &str)> = metric
                    .labels
                    .iter()
                    .copied()
                    .zip(label_values.iter().map(String::as_str))
                    .collect();
                text.sample(metric.name, &labels, *value);
            }
        }
        text.finish()
    }

    /// Makes each of these sources count for `/readyz` (and `semaphore_meraki_up`) from the start, before it
    /// reached Meraki or failed to.
    pub fn expect_sources<'a>(&self, sources: impl IntoIterator<Item = &'a str>) {
        for source in sources {
            self.reachability.expect_source(source);
        }
    }

    /// `source`'s last Meraki call reached Meraki.
    pub fn meraki_reached(&self, source: &str) {
        self.reachability.set_source(source, Reach::Reached);
    }

    /// `source` could not reach Meraki (or, listing the organizations, was refused); `error` says why.
    pub fn meraki_not_reached(&self, source: &str, error: impl Display) {
        self.reachability.set_source(source, Reach::failed(error));
    }

    /// Kafka answered a probe or acknowledged a delivery.
    pub fn kafka_reached(&self) {
        self.reachability.set_kafka(Reach::Reached);
    }

    /// Kafka did not answer the probe; `error` says why.
    pub fn kafka_not_reached(&self, error: impl Display) {
        self.reachability.set_kafka(Reach::failed(error));
    }

    /// Each component `/readyz` waits for: every source (Meraki), and Kafka when an output or sink needs it;
    /// and, while records wait in the spool, a line saying how many (it does not make the process unready).
    pub fn readiness(&self) -> Readiness {
        let mut readiness = self
            .reachability
            .readiness(self.kafka_required.load(Ordering::Relaxed));
        if let Some(spool) = lock(&self.spool).as_ref().map(|spool| spool.snapshot())
            && spool.records > 0
        {
            let age = spool.oldest_spooled_ms.map_or(0.0, oldest_age_seconds);
            readiness.notes.push(format!(
                "spool: in use, {} records waiting for Kafka, the oldest spooled {age:.0} s ago",
                spool.records
            ));
        }
        readiness
    }

    /// Shows a listener's counters on `/metrics`, labelled with its source and the address it bound.
    pub fn register_listener(&self, source: &str, listen: ListenAddress, stats: Arc<ListenerStats>) {
        lock(&self.listeners).push(RegisteredListener {
            source: source.to_owned(),
            listen,
            stats,
        });
    }

    /// Shows the spool's counters on `/metrics` and `/readyz`.
    pub fn register_spool(&self, stats: Arc<SpoolStats>) {
        *lock(&self.spool) = Some(stats);
    }

    /// Adds a Meraki client to those `/metrics` reports.
    pub fn register_meraki(&self, client: &Client) {
        lock(&self.meraki).push(client.clone());
    }

    /// Names the Meraki clients `source` uses, for the per-source counts their counters give
    /// (`semaphore_meraki_bad_responses_total`). Replaces what the source registered before.
    pub fn register_source_clients<'a>(&self, source: &str, clients: impl IntoIterator<Item = &'a Client>) {
        let clients: Vec<Client> = clients.into_iter().cloned().collect();
        lock(&self.source_clients).insert(source.to_owned(), clients);
    }

    /// Meraki API requests of every client so far.
    pub fn meraki_requests(&self) -> u64 {
        self.meraki_snapshot().map_or(0, |snapshot| snapshot.requests)
    }

    /// The sum of every Meraki client's counters; `None` when the process has no Meraki client.
    fn meraki_snapshot(&self) -> Option<MetricsSnapshot> {
        let clients = lock(&self.meraki).clone();
        if clients.is_empty() {
            return None;
        }
        Some(sum(clients.iter().map(|client| client.metrics().snapshot())))
    }

    fn recorded_samples(&self, name: &str) -> Vec<Sample> {
        lock(&self.recorded)
            .get(name)
            .map(|series| {
                series
                    .iter()
                    .map(|(labels, value)| (labels.clone(), *value))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Seconds since `spooled_ms` (ms since the epoch); never negative when the clock stepped back.
pub fn oldest_age_seconds(spooled_ms: i64) -> f64 {
    let now = chrono::Utc::now().timestamp_millis();
    (now - spooled_ms).max(0) as f64 / 1000.0
}

/// Locks a telemetry mutex; a panic elsewhere while it was held leaves counters that are still worth showing.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The label values as stored. A metric missing from [`METRICS`] would never be shown, and a label count
/// other than the declared one would render wrong label pairs: both are bugs at the call site.
fn series_key(metric: &Metric, labels: &[&str]) -> Vec<String> {
    debug_assert!(
        METRICS.iter().any(|declared| declared.name == metric.name),
        "{} is not declared in telemetry::metrics::METRICS",
        metric.name
    );
    debug_assert!(
        matches!(metric.values, Values::Recorded),
        "{} is read, not recorded",
        metric.name
    );
    debug_assert_eq!(
        labels.len(),
        metric.labels.len(),
        "{} takes the labels {:?}",
        metric.name,
        metric.labels
    );
    labels.iter().map(|label| (*label).to_owned()).collect()
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
