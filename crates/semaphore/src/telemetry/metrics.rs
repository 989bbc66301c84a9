//! Every metric of semaphore's own `/metrics`, declared once: name, help, type, labels, and where its values
//! come from. [`Telemetry::render`] iterates [`METRICS`]; components record with the constants below
//! (`telemetry.add(&POLLS, &[source], 1.0)`), passing label values in the order the metric declares them.
//!
//! A component metric carries the component's id: `source` for sources, `sink` for sinks, `output` (the
//! output's kind) for outputs; a source's per-organization metrics carry `organization` as well, so two
//! sources polling one organization keep two series.

use semaphore_meraki::error::ErrorKind;
use semaphore_meraki::{Client, MetricsSnapshot};

use crate::bus::producer::ProducerSnapshot;
use crate::sources::listener::{ListenerStatsSnapshot, Transport, kernel_drops};
use crate::spool::SpoolSnapshot;
use crate::telemetry::{Telemetry, lock};

const SOURCE: &str = "source";
const ORGANIZATION: &str = "organization";
const OUTPUT: &str = "output";
const SINK: &str = "sink";
const LISTENER: &str = "listener";
const TARGET: &str = "target";

/// Every metric, in the order `/metrics` shows them.
pub static METRICS: &[&Metric] = &[
    &POLLS,
    &POLL_ERRORS,
    &CYCLE_API_REQUESTS,
    &CYCLE_SECONDS,
    &RECORDS_PRODUCED,
    &RECORDS_FAILED,
    &RECORDS_DUPLICATE_SKIPPED,
    &DELIVERY_SECONDS_SUM,
    &DELIVERY_SECONDS_COUNT,
    &WATERMARK_LAG_SECONDS,
    &BACKFILL_WINDOWS,
    &LOST_SECONDS,
    &MERAKI_BAD_RESPONSES,
    &SINK_RECORDS,
    &SINK_MALFORMED,
    &SINK_DEAD_LETTERED,
    &SINK_RETRIES,
    &MERAKI_UP,
    &KAFKA_UP,
    &MERAKI_REQUESTS,
    &MERAKI_RATE_LIMITED,
    &MERAKI_RETRIES,
    &MERAKI_PAGES,
    &MERAKI_ERRORS,
    &KAFKA_SENT,
    &KAFKA_DELIVERED,
    &KAFKA_FAILED,
    &KAFKA_DELIVERED_BYTES,
    &KAFKA_QUEUE_DEPTH,
    &SPOOL_RECORDS,
    &SPOOL_BYTES,
    &SPOOL_OLDEST_AGE,
    &SPOOL_SPOOLED,
    &SPOOL_REPLAYED,
    &SPOOL_ALREADY_IN_KAFKA,
    &SPOOL_DROPPED,
    &SPOOL_CORRUPT_BYTES,
    &SYSLOG_MESSAGES,
    &LISTENER_MESSAGES,
    &LISTENER_BYTES,
    &LISTENER_CONNECTIONS,
    &LISTENER_CONNECTIONS_REFUSED,
    &LISTENER_TLS_HANDSHAKE_FAILURES,
    &LISTENER_OVERSIZE,
    &LISTENER_FRAMING_ERRORS,
    &LISTENER_KERNEL_DROPS,
    // The SNMP poller ([[sources.snmp]]).
    &SNMP_TARGET_UP,
    &SNMP_LAST_SUCCESS,
    &SNMP_POLL_SECONDS,
    &SNMP_POLL_ERRORS,
    &SNMP_RATE_GAPS,
    // SNMP traps and informs (`sources/snmp/traps`).
    &SNMP_TRAPS,
    &SNMP_TRAP_ERRORS,
    &SNMP_INFORMS_ACKNOWLEDGED,
    &SNMP_INFORMS_UNANSWERED,
];

pub static POLLS: Metric = Metric::recorded(
    "semaphore_polls_total",
    Kind::Counter,
    &[SOURCE],
    "Polls started per source.",
);
pub static POLL_ERRORS: Metric = Metric::recorded(
    "semaphore_poll_errors_total",
    Kind::Counter,
    &[SOURCE],
    "Polls that failed per source (retried next interval).",
);
pub static CYCLE_API_REQUESTS: Metric = Metric::recorded(
    "semaphore_cycle_api_requests",
    Kind::Gauge,
    &[SOURCE],
    "Meraki API requests of the last complete cycle per source.",
);
pub static CYCLE_SECONDS: Metric = Metric::recorded(
    "semaphore_cycle_seconds",
    Kind::Gauge,
    &[SOURCE],
    "Duration of the last complete cycle per source.",
);
pub static RECORDS_PRODUCED: Metric = Metric::recorded(
    "semaphore_records_produced_total",
    Kind::Counter,
    &[OUTPUT],
    "Records acknowledged per output.",
);
pub static RECORDS_FAILED: Metric = Metric::recorded(
    "semaphore_records_failed_total",
    Kind::Counter,
    &[OUTPUT],
    "Records an output refused (retried, never dropped).",
);
pub static RECORDS_DUPLICATE_SKIPPED: Metric = Metric::recorded(
    "semaphore_records_duplicate_skipped_total",
    Kind::Counter,
    &[SOURCE],
    "Samples found already in Kafka after a restart and not written again, per source.",
);
pub static DELIVERY_SECONDS_SUM: Metric = Metric::recorded(
    "semaphore_delivery_seconds_sum",
    Kind::Counter,
    &[OUTPUT],
    "Total time from sending a batch to every output's acknowledgement.",
);
pub static DELIVERY_SECONDS_COUNT: Metric = Metric::recorded(
    "semaphore_delivery_seconds_count",
    Kind::Counter,
    &[OUTPUT],
    "Batches acknowledged.",
);
pub static WATERMARK_LAG_SECONDS: Metric = Metric::recorded(
    "semaphore_watermark_lag_seconds",
    Kind::Gauge,
    &[SOURCE, ORGANIZATION],
    "How far the source's watermark of the organization is behind now (2-3 minutes when caught up).",
);
pub static BACKFILL_WINDOWS: Metric = Metric::recorded(
    "semaphore_backfill_windows_total",
    Kind::Counter,
    &[SOURCE, ORGANIZATION],
    "Windows read behind the newest one (catching up a gap), per source and organization.",
);
pub static LOST_SECONDS: Metric = Metric::recorded(
    "semaphore_lost_seconds_total",
    Kind::Counter,
    &[SOURCE, ORGANIZATION],
    "Seconds of samples older than Meraki's 60-day retention when reached (lost), per source and \
     organization.",
);
/// Read from the Meraki clients each source registered: the client counts a call whose final answer could
/// not be decoded as an `invalid_response` error.
pub static MERAKI_BAD_RESPONSES: Metric = Metric::read(
    "semaphore_meraki_bad_responses_total",
    Kind::Counter,
    &[SOURCE],
    "Meraki calls per source that failed, after every retry, on an answer that could not be decoded \
     (not the expected JSON, cut short, or a page link that cannot be followed).",
    |telemetry| Some(invalid_responses_per_source(telemetry)),
);
pub static SINK_RECORDS: Metric = Metric::recorded(
    "semaphore_sink_records_total",
    Kind::Counter,
    &[SINK],
    "Records each sink delivered to its destination (offsets committed after).",
);
pub static SINK_MALFORMED: Metric = Metric::recorded(
    "semaphore_sink_malformed_total",
    Kind::Counter,
    &[SINK],
    "Messages a sink could not decode (not JSON, wrong schema), sent to the dead-letter topic.",
);
pub static SINK_DEAD_LETTERED: Metric = Metric::recorded(
    "semaphore_sink_dead_lettered_total",
    Kind::Counter,
    &[SINK],
    "Messages a sink wrote to the dead-letter topic (malformed or rejected by the destination).",
);
pub static SINK_RETRIES: Metric = Metric::recorded(
    "semaphore_sink_retries_total",
    Kind::Counter,
    &[SINK],
    "Batches a sink's destination could not take yet (retried, not committed meanwhile).",
);
pub static MERAKI_UP: Metric = Metric::read(
    "semaphore_meraki_up",
    Kind::Gauge,
    &[SOURCE],
    "1 when the source's last Meraki call reached Meraki, per source.",
    |telemetry| Some(meraki_up_per_source(telemetry)),
);
pub static KAFKA_UP: Metric = Metric::read(
    "semaphore_kafka_up",
    Kind::Gauge,
    &[],
    "1 when Kafka answered the last probe or delivery.",
    |telemetry| {
        Some(unlabelled(f64::from(u8::from(
            telemetry.reachability.kafka().is_reached(),
        ))))
    },
);
pub static MERAKI_REQUESTS: Metric = Metric::read(
    "semaphore_meraki_requests_total",
    Kind::Counter,
    &[],
    "Meraki API requests sent (pages and retries included).",
    |telemetry| meraki_total(telemetry, |snapshot| snapshot.requests),
);
pub static MERAKI_RATE_LIMITED: Metric = Metric::read(
    "semaphore_meraki_rate_limited_total",
    Kind::Counter,
    &[],
    "Meraki answers with HTTP 429.",
    |telemetry| meraki_total(telemetry, |snapshot| snapshot.rate_limited),
);
pub static MERAKI_RETRIES: Metric = Metric::read(
    "semaphore_meraki_retries_total",
    Kind::Counter,
    &[],
    "Meraki requests retried.",
    |telemetry| meraki_total(telemetry, |snapshot| snapshot.retries),
);
pub static MERAKI_PAGES: Metric = Metric::read(
    "semaphore_meraki_pages_total",
    Kind::Counter,
    &[],
    "Meraki pages followed.",
    |telemetry| meraki_total(telemetry, |snapshot| snapshot.pages),
);
pub static MERAKI_ERRORS: Metric = Metric::read(
    "semaphore_meraki_errors_total",
    Kind::Counter,
    &["kind"],
    "Meraki calls that failed for good, per kind.",
    meraki_errors_per_kind,
);
pub static KAFKA_SENT: Metric = Metric::read(
    "semaphore_kafka_sent_total",
    Kind::Counter,
    &[],
    "Records handed to the Kafka producer.",
    |telemetry| producer_total(telemetry, |snapshot| snapshot.sent),
);
pub static KAFKA_DELIVERED: Metric = Metric::read(
    "semaphore_kafka_delivered_total",
    Kind::Counter,
    &[],
    "Records Kafka acknowledged.",
    |telemetry| producer_total(telemetry, |snapshot| snapshot.delivered),
);
pub static KAFKA_FAILED: Metric = Metric::read(
    "semaphore_kafka_failed_total",
    Kind::Counter,
    &[],
    "Records Kafka refused.",
    |telemetry| producer_total(telemetry, |snapshot| snapshot.failed),
);
pub static KAFKA_DELIVERED_BYTES: Metric = Metric::read(
    "semaphore_kafka_delivered_bytes_total",
    Kind::Counter,
    &[],
    "Payload bytes Kafka acknowledged.",
    |telemetry| producer_total(telemetry, |snapshot| snapshot.bytes),
);
pub static KAFKA_QUEUE_DEPTH: Metric = Metric::read(
    "semaphore_kafka_queue_depth",
    Kind::Gauge,
    &[],
    "Records sent and not yet acknowledged or refused.",
    |telemetry| {
        producer_total(telemetry, |snapshot| {
            snapshot.sent.saturating_sub(snapshot.delivered + snapshot.failed)
        })
    },
);

pub static SPOOL_RECORDS: Metric = Metric::read(
    "semaphore_spool_records",
    Kind::Gauge,
    &[],
    "Records waiting in the Kafka output's spool for Kafka.",
    |telemetry| spool_value(telemetry, |spool| spool.records as f64),
);
pub static SPOOL_BYTES: Metric = Metric::read(
    "semaphore_spool_bytes",
    Kind::Gauge,
    &[],
    "Bytes the spool's segments take on disk (bounded by spool_max_bytes).",
    |telemetry| spool_value(telemetry, |spool| spool.bytes as f64),
);
pub static SPOOL_OLDEST_AGE: Metric = Metric::read(
    "semaphore_spool_oldest_age_seconds",
    Kind::Gauge,
    &[],
    "Seconds since the oldest record waiting in the spool was spooled; 0 when none waits.",
    |telemetry| {
        spool_value(telemetry, |spool| {
            spool
                .oldest_spooled_ms
                .map_or(0.0, crate::telemetry::oldest_age_seconds)
        })
    },
);
pub static SPOOL_SPOOLED: Metric = Metric::read(
    "semaphore_spool_spooled_records_total",
    Kind::Counter,
    &[],
    "Records written to the spool because Kafka could not take them yet (or records waited before them).",
    |telemetry| spool_value(telemetry, |spool| spool.spooled as f64),
);
pub static SPOOL_REPLAYED: Metric = Metric::read(
    "semaphore_spool_replayed_records_total",
    Kind::Counter,
    &[],
    "Spooled records Kafka acknowledged.",
    |telemetry| spool_value(telemetry, |spool| spool.replayed as f64),
);
pub static SPOOL_ALREADY_IN_KAFKA: Metric = Metric::read(
    "semaphore_spool_already_in_kafka_records_total",
    Kind::Counter,
    &[],
    "Spooled records not sent again because Kafka already held them: written by a broker that went away before \
     acknowledging them, found by reading back before the replay.",
    |telemetry| spool_value(telemetry, |spool| spool.already_in_kafka as f64),
);
pub static SPOOL_DROPPED: Metric = Metric::read(
    "semaphore_spool_dropped_records_total",
    Kind::Counter,
    &["reason"],
    "Records the full spool did not keep: refused newest (the source was pushed back) or dropped oldest (lost).",
    |telemetry| {
        let spool = lock(&telemetry.spool).as_ref()?.snapshot();
        Some(vec![
            (vec!["refused_newest".to_owned()], spool.refused as f64),
            (vec!["dropped_oldest".to_owned()], spool.dropped_oldest as f64),
        ])
    },
);
pub static SPOOL_CORRUPT_BYTES: Metric = Metric::read(
    "semaphore_spool_corrupt_bytes_total",
    Kind::Counter,
    &[],
    "Bytes of damaged spool segments skipped (the files are kept as .corrupt).",
    |telemetry| spool_value(telemetry, |spool| spool.corrupt_bytes as f64),
);

pub static SYSLOG_MESSAGES: Metric = Metric::recorded(
    "semaphore_syslog_messages_total",
    Kind::Counter,
    &[SOURCE, "parsed"],
    "Syslog lines received per source: parsed=\"true\", or \"false\" for lines kept whole with parseError.",
);
pub static LISTENER_MESSAGES: Metric = Metric::read(
    "semaphore_listener_messages_total",
    Kind::Counter,
    &[SOURCE, LISTENER],
    "Messages a push source's listener received (datagrams, or frames cut from streams).",
    |telemetry| Some(listener_samples(telemetry, |stats| stats.frames)),
);
pub static LISTENER_BYTES: Metric = Metric::read(
    "semaphore_listener_bytes_total",
    Kind::Counter,
    &[SOURCE, LISTENER],
    "Bytes a listener read from its sockets, before framing.",
    |telemetry| Some(listener_samples(telemetry, |stats| stats.bytes)),
);
pub static LISTENER_CONNECTIONS: Metric = Metric::read(
    "semaphore_listener_connections",
    Kind::Gauge,
    &[SOURCE, LISTENER],
    "TCP/TLS connections open now.",
    |telemetry| Some(listener_samples(telemetry, |stats| stats.connections_active)),
);
pub static LISTENER_CONNECTIONS_REFUSED: Metric = Metric::read(
    "semaphore_listener_connections_refused_total",
    Kind::Counter,
    &[SOURCE, LISTENER],
    "Connections closed at once because max_connections were open.",
    |telemetry| Some(listener_samples(telemetry, |stats| stats.connections_refused)),
);
pub static LISTENER_TLS_HANDSHAKE_FAILURES: Metric = Metric::read(
    "semaphore_listener_tls_handshake_failures_total",
    Kind::Counter,
    &[SOURCE, LISTENER],
    "TLS handshakes that failed or timed out.",
    |telemetry| Some(listener_samples(telemetry, |stats| stats.tls_handshake_failures)),
);
pub static LISTENER_OVERSIZE: Metric = Metric::read(
    "semaphore_listener_oversize_total",
    Kind::Counter,
    &[SOURCE, LISTENER],
    "Messages longer than max_message_bytes, delivered cut and flagged.",
    |telemetry| Some(listener_samples(telemetry, |stats| stats.oversize_frames)),
);
pub static LISTENER_FRAMING_ERRORS: Metric = Metric::read(
    "semaphore_listener_framing_errors_total",
    Kind::Counter,
    &[SOURCE, LISTENER],
    "Input that was not a frame (a bad octet count, a frame cut by the connection's end, broken RELP).",
    |telemetry| Some(listener_samples(telemetry, |stats| stats.framing_errors)),
);
pub static LISTENER_KERNEL_DROPS: Metric = Metric::read(
    "semaphore_listener_kernel_drops_total",
    Kind::Counter,
    &[SOURCE, LISTENER],
    "Datagrams the kernel dropped for a UDP listener (its receive buffer was full), from /proc/net/udp.",
    |telemetry| Some(kernel_drop_samples(telemetry)),
);

// The SNMP poller ([[sources.snmp]]): per target, as configured (`host:port`), so bounded by the config.
pub static SNMP_TARGET_UP: Metric = Metric::recorded(
    "semaphore_snmp_target_up",
    Kind::Gauge,
    &[SOURCE, TARGET],
    "1 when the target's last poll was answered, 0 when it failed.",
);
pub static SNMP_LAST_SUCCESS: Metric = Metric::recorded(
    "semaphore_snmp_last_success_timestamp_seconds",
    Kind::Gauge,
    &[SOURCE, TARGET],
    "When the target last answered a whole poll (Unix seconds).",
);
pub static SNMP_POLL_SECONDS: Metric = Metric::recorded(
    "semaphore_snmp_poll_seconds",
    Kind::Gauge,
    &[SOURCE, TARGET],
    "How long the target's last poll took, answered or not.",
);
pub static SNMP_POLL_ERRORS: Metric = Metric::recorded(
    "semaphore_snmp_poll_errors_total",
    Kind::Counter,
    &[SOURCE, TARGET, "kind"],
    "Failed polls, and what answered polls lacked (configured scalars refused, a column of a configured table \
     cut short), per target and kind (timeout, unknown_user, wrong_digest, resolve, error_status...).",
);
pub static SNMP_RATE_GAPS: Metric = Metric::recorded(
    "semaphore_snmp_rate_gaps_total",
    Kind::Counter,
    &[SOURCE, "reason"],
    "Interface records without rates, by reason: firstPoll, rebooted, counterReset, renumbered.",
);

pub static SNMP_TRAPS: Metric = Metric::recorded(
    "semaphore_snmp_traps_total",
    Kind::Counter,
    &[SOURCE, "version", "pdu"],
    "SNMP notifications received per source, by version (1, 2c, 3) and PDU (trap, inform).",
);
pub static SNMP_TRAP_ERRORS: Metric = Metric::recorded(
    "semaphore_snmp_trap_errors_total",
    Kind::Counter,
    &[SOURCE, "reason"],
    "Datagrams an SNMP trap source refused, by reason (malformed, bad_community, unknown_user, wrong_digest, \
     not_in_time_window, ...).",
);
pub static SNMP_INFORMS_ACKNOWLEDGED: Metric = Metric::recorded(
    "semaphore_snmp_informs_acknowledged_total",
    Kind::Counter,
    &[SOURCE],
    "Informs answered, each once every output (Kafka included) had its record.",
);
pub static SNMP_INFORMS_UNANSWERED: Metric = Metric::recorded(
    "semaphore_snmp_informs_unanswered_total",
    Kind::Counter,
    &[SOURCE],
    "Informs left unanswered (too many waiting for Kafka, the answer could not be sent, or the source stopped \
     first); their senders retry them.",
);

/// One metric family: what `# HELP` and `# TYPE` say, its labels, and where its samples come from.
#[derive(Debug)]
pub struct Metric {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    /// Label names; every sample gives a value for each, in this order.
    pub labels: &'static [&'static str],
    pub values: Values,
}

/// The Prometheus metric types semaphore uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// Label values (in the order of [`Metric::labels`]) and the value of one series.
pub type Sample = (Vec<String>, f64);

/// Reads a metric's samples from their owner; see [`Values::Read`].
pub type ReadFn = fn(&Telemetry) -> Option<Vec<Sample>>;

/// Where a metric's samples come from.
#[derive(Clone, Copy, Debug)]
pub enum Values {
    /// Recorded by components with [`Telemetry::add`] and [`Telemetry::set`]. A series appears when it is
    /// first recorded: a metric never recorded is shown as its `# HELP` and `# TYPE` lines without samples.
    Recorded,
    /// Read from their owner (a Meraki client, the producer, the reachability of each component) when
    /// rendered. `None` leaves the whole family out: what it measures is absent from this process (no
    /// Meraki client, no Kafka producer).
    Read(ReadFn),
}

impl Metric {
    const fn recorded(
        name: &'static str,
        kind: Kind,
        labels: &'static [&'static str],
        help: &'static str,
    ) -> Self {
        Self {
            name,
            help,
            kind,
            labels,
            values: Values::Recorded,
        }
    }

    const fn read(
        name: &'static str,
        kind: Kind,
        labels: &'static [&'static str],
        help: &'static str,
        read: ReadFn,
    ) -> Self {
        Self {
            name,
            help,
            kind,
            labels,
            values: Values::Read(read),
        }
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

fn unlabelled(value: f64) -> Vec<Sample> {
    vec![(Vec::new(), value)]
}

/// The sum of every Meraki client's counter; `None` in a process without a Meraki client.
fn meraki_total(telemetry: &Telemetry, counter: fn(&MetricsSnapshot) -> u64) -> Option<Vec<Sample>> {
    let snapshot = telemetry.meraki_snapshot()?;
    Some(unlabelled(counter(&snapshot) as f64))
}

fn meraki_errors_per_kind(telemetry: &Telemetry) -> Option<Vec<Sample>> {
    let snapshot = telemetry.meraki_snapshot()?;
    Some(
        snapshot
            .errors
            .iter()
            .map(|(kind, count)| (vec![(*kind).to_owned()], *count as f64))
            .collect(),
    )
}

/// A producer counter; `None` in a process without Kafka.
fn producer_total(telemetry: &Telemetry, counter: fn(&ProducerSnapshot) -> u64) -> Option<Vec<Sample>> {
    let producer = lock(&telemetry.producer).clone()?;
    Some(unlabelled(counter(&producer.snapshot()) as f64))
}

/// A spool figure; `None` in a process without a spool.
fn spool_value(telemetry: &Telemetry, value: fn(&SpoolSnapshot) -> f64) -> Option<Vec<Sample>> {
    let spool = lock(&telemetry.spool).as_ref()?.snapshot();
    Some(unlabelled(value(&spool)))
}

/// A listener counter per registered listener, labelled with its source and the address it bound.
fn listener_samples(telemetry: &Telemetry, value: fn(&ListenerStatsSnapshot) -> u64) -> Vec<Sample> {
    lock(&telemetry.listeners)
        .iter()
        .map(|listener| {
            let labels = vec![listener.source.clone(), listener.listen.to_string()];
            (labels, value(&listener.stats.snapshot()) as f64)
        })
        .collect()
}

/// The kernel's drops for each UDP listener whose socket the kernel's table shows.
fn kernel_drop_samples(telemetry: &Telemetry) -> Vec<Sample> {
    lock(&telemetry.listeners)
        .iter()
        .filter(|listener| listener.listen.transport == Transport::Udp)
        .filter_map(|listener| {
            let drops = kernel_drops::udp_drops(listener.listen.address)?;
            Some((
                vec![listener.source.clone(), listener.listen.to_string()],
                drops as f64,
            ))
        })
        .collect()
}

fn meraki_up_per_source(telemetry: &Telemetry) -> Vec<Sample> {
    telemetry
        .reachability
        .sources()
        .into_iter()
        .map(|(source, reach)| (vec![source], f64::from(u8::from(reach.is_reached()))))
        .collect()
}

fn invalid_responses_per_source(telemetry: &Telemetry) -> Vec<Sample> {
    lock(&telemetry.source_clients)
        .iter()
        .map(|(source, clients)| {
            let count: u64 = clients.iter().map(invalid_responses).sum();
            (vec![source.clone()], count as f64)
        })
        .collect()
}

fn invalid_responses(client: &Client) -> u64 {
    client.metrics().snapshot().errors_of(ErrorKind::InvalidResponse)
}
