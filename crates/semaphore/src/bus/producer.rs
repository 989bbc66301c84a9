//! The Kafka producer: long-lived, shared, with DESIGN.md's defaults, per-record keys, headers and
//! timestamps, counted delivery reports, and back-pressure when librdkafka's local queue is full.
//!
//! Defaults and why:
//! - `acks=all`, `enable.idempotence=true`: a record is acknowledged only once every in-sync replica has it,
//!   and retries never duplicate or reorder it.
//! - `compression.type=zstd`, `linger.ms=5`: telemetry compresses well; 5 ms of batching costs nothing here.
//! - `partitioner=murmur2_random`: the same key lands on the same partition as with Java clients.
//! - `message.timeout.ms=0` (infinite): librdkafka never expires a record on its own, so an outage never
//!   silently drops one; instead the local queue fills and `send` waits (back-pressure), and whoever sent the
//!   record learns of delivery only when Kafka acknowledged it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _, PurgeConfig};
use rdkafka::util::Timeout;
use serde::Serialize;

use crate::bus::config::ResolvedKafka;

/// Producer settings semaphore always applies; a raw librdkafka option may not contradict them.
pub const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("acks", "all"),
    ("enable.idempotence", "true"),
    ("compression.type", "zstd"),
    ("linger.ms", "5"),
    ("partitioner", "murmur2_random"),
    ("message.timeout.ms", "0"),
];

/// The most payload bytes to hand librdkafka at once (an `accept` of a push source, a batch of the spool's
/// replay): under its `batch.size` (1 MB). More than a full batch waiting behind the one in flight makes the
/// idempotent producer's broker thread spin (it sends one request at a time, and a full batch asks to be
/// sent now): measured, 20,000 records per `accept` cost 67 µs of CPU per line, mostly that spin, against
/// 11 µs before; a replay of 5,000-record batches, 72 µs.
pub const MAX_BYTES_PER_SEND: usize = 512 * 1024;

/// One record to send.
#[derive(Clone, Debug, Default)]
pub struct OutgoingRecord<'a> {
    pub topic: &'a str,
    pub key: Option<&'a [u8]>,
    pub payload: &'a [u8],
    /// Milliseconds since the epoch: the sample time, not the send time.
    pub timestamp_ms: Option<i64>,
    pub headers: Vec<(&'a str, &'a [u8])>,
}

/// Where Kafka stored a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub partition: i32,
    pub offset: i64,
}

/// A record Kafka did not accept.
#[derive(Debug, thiserror::Error)]
#[error("Kafka did not accept a record for topic {topic}")]
pub struct ProduceError {
    pub topic: String,
    #[source]
    pub source: rdkafka::error::KafkaError,
}

/// Records of one batch Kafka did not accept; the first refusal is the source.
#[derive(Debug, thiserror::Error)]
#[error("Kafka refused records for topic {topic}")]
pub struct RefusedRecords {
    pub topic: String,
    #[source]
    pub source: rdkafka::error::KafkaError,
}

impl From<ProduceError> for RefusedRecords {
    fn from(first: ProduceError) -> Self {
        Self {
            topic: first.topic,
            source: first.source,
        }
    }
}

/// Delivery counters.
#[derive(Debug, Default)]
pub struct ProducerMetrics {
    sent: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProducerSnapshot {
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub bytes: u64,
}

impl ProducerMetrics {
    pub fn snapshot(&self) -> ProducerSnapshot {
        ProducerSnapshot {
            sent: self.sent.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

/// A cheap-to-clone producer handle.
#[derive(Clone)]
pub struct Producer {
    inner: FutureProducer,
    metrics: Arc<ProducerMetrics>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Producer")
            .field("metrics", &self.metrics.snapshot())
            .finish()
    }
}

/// The producer could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    #[error(
        "librdkafka option {option:?} contradicts semaphore's producer default {option}={default}; remove the option (README, \"Producer defaults\", says why semaphore needs it)"
    )]
    Conflict { option: String, default: String },
    #[error("cannot create the Kafka producer")]
    Create(#[from] rdkafka::error::KafkaError),
}

impl Producer {
    pub fn new(kafka: &ResolvedKafka) -> Result<Self, ProducerError> {
        let mut config = kafka.client_config();
        for (option, default) in PRODUCER_DEFAULTS {
            match kafka.settings().get(*option) {
                Some(value) if value != default => {
                    return Err(ProducerError::Conflict {
                        option: (*option).to_owned(),
                        default: (*default).to_owned(),
                    });
                }
                _ => {
                    config.set(*option, *default);
                }
            }
        }
        let inner: FutureProducer = config.create()?;
        Ok(Self {
            inner,
            metrics: Arc::default(),
        })
    }

    pub fn metrics(&self) -> &ProducerMetrics {
        &self.metrics
    }

    /// The counters, shared, for `/metrics`.
    pub fn metrics_handle(&self) -> Arc<ProducerMetrics> {
        self.metrics.clone()
    }

    /// Sends one record and waits for Kafka's acknowledgement. When the local queue is full this waits for
    /// room (back-pressure) rather than dropping the record.
    pub async fn send(&self, record: &OutgoingRecord<'_>) -> Result<Delivery, ProduceError> {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (key, value) in &record.headers {
            headers = headers.insert(Header {
                key,
                value: Some(*value),
            });
        }
        let mut future_record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(record.topic)
            .payload(record.payload)
            .headers(headers);
        if let Some(key) = record.key {
            future_record = future_record.key(key);
        }
        if let Some(timestamp) = record.timestamp_ms {
            future_record = future_record.timestamp(timestamp);
        }
        self.metrics.sent.fetch_add(1, Ordering::Relaxed);
        match self.inner.send(future_record, Timeout::Never).await {
            Ok(delivery) => {
                self.metrics.delivered.fetch_add(1, Ordering::Relaxed);
                self.metrics
                    .bytes
                    .fetch_add(record.payload.len() as u64, Ordering::Relaxed);
                Ok(Delivery {
                    partition: delivery.partition,
                    offset: delivery.offset,
                })
            }
            Err((error, _message)) => {
                self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                Err(ProduceError {
                    topic: record.topic.to_owned(),
                    source: error,
                })
            }
        }
    }

    /// Takes back every record still waiting in librdkafka's queue, not yet sent to a broker: each one's
    /// `send` fails (`PurgeQueue`), and its sender may keep it elsewhere (the spool). Records in flight to a
    /// broker are left alone. A queued record that librdkafka had sent before and queued again for a retry
    /// (its connection broke) may nonetheless have arrived: librdkafka cannot say, so a spooled copy of it can
    /// be a duplicate (`outputs/kafka/spooling.rs`).
    pub fn purge_queued(&self) {
        self.inner.purge(PurgeConfig::default().queue().non_blocking());
    }

    /// Waits up to `timeout` for every queued record to be acknowledged; says how many were still pending.
    pub fn flush(&self, timeout: Duration) -> Result<(), usize> {
        match self.inner.flush(Timeout::After(timeout)) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.inner.in_flight_count().max(0) as usize),
        }
    }
}
