//! Where records go: Kafka, syslog, standard output or a file, any combination at once (the original's
//! `--action syslog|kafka|both`).
//!
//! [`Outputs::publish`] hands a batch to every output and returns only when each acknowledged every record:
//! an output that fails is retried with backoff (only the records it did not take), never skipped, so the
//! caller may advance its watermark once `publish` returns.
//!
//! **Architecture Invariant:** only `outputs/*` (and `bus`) know wire formats.

pub mod kafka;
pub mod lines;
pub mod rfc5424;
pub mod syslog;

use std::sync::Arc;
use std::time::Duration;

use crate::outputs::kafka::KafkaOutput;
use crate::outputs::lines::LinesOutput;
use crate::outputs::syslog::SyslogOutput;
use crate::record::EncodedRecord;
use crate::send_future::boxed;
use crate::telemetry::Telemetry;

/// Records an output did not take, by index into the batch, and why.
#[derive(Debug)]
pub struct WriteError {
    pub remaining: Vec<usize>,
    pub reason: String,
}

#[derive(Debug)]
pub enum Output {
    Kafka(Arc<KafkaOutput>),
    Syslog(SyslogOutput),
    Lines(LinesOutput),
}

impl Output {
    pub fn name(&self) -> String {
        match self {
            Output::Kafka(kafka) => kafka.name(),
            Output::Syslog(syslog) => syslog.name(),
            Output::Lines(lines) => lines.name(),
        }
    }

    /// The metric label: the kind of output (bounded).
    fn label(&self) -> &'static str {
        match self {
            Output::Kafka(_) => "kafka",
            Output::Syslog(_) => "syslog",
            Output::Lines(_) => "lines",
        }
    }

    async fn write(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), WriteError> {
        match self {
            Output::Kafka(kafka) => kafka.write(topic, records).await,
            Output::Syslog(syslog) => syslog.write(records).await,
            Output::Lines(lines) => lines.write(records).await,
        }
    }
}

const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Outputs {
    outputs: Vec<Output>,
    telemetry: Arc<Telemetry>,
}

impl Outputs {
    pub fn new(outputs: Vec<Output>, telemetry: Arc<Telemetry>) -> Self {
        Self { outputs, telemetry }
    }

    pub fn kafka(&self) -> Option<&Arc<KafkaOutput>> {
        self.outputs.iter().find_map(|output| match output {
            Output::Kafka(kafka) => Some(kafka),
            _ => None,
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.outputs.iter().map(Output::name).collect()
    }

    /// Closes connections cleanly (syslog streams), after the last batch.
    pub async fn close(&self) {
        for output in &self.outputs {
            if let Output::Syslog(syslog) = output {
                syslog.close().await;
            }
        }
    }

    /// Writes the batch to every output and returns once all of them acknowledged all of it.
    pub async fn publish(&self, topic: &str, records: &[EncodedRecord]) {
        if records.is_empty() {
            return;
        }
        // Boxed: see `send_future`.
        let writes: Vec<_> = self
            .outputs
            .iter()
            .map(|output| boxed(self.publish_to(output, topic, records)))
            .collect();
        futures::future::join_all(writes).await;
    }

    async fn publish_to(&self, output: &Output, topic: &str, records: &[EncodedRecord]) {
        let started = tokio::time::Instant::now();
        // Only a retry copies records: the ones the output did not take.
        let mut retry: Option<Vec<EncodedRecord>> = None;
        let mut delay = RETRY_FIRST;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let batch = retry.as_deref().unwrap_or(records);
            match output.write(topic, batch).await {
                Ok(()) => break,
                Err(error) => {
                    self.telemetry
                        .records_failed
                        .add(output.label(), error.remaining.len() as f64);
                    tracing::warn!(
                        output = %output.name(), %topic, attempt, records = error.remaining.len(),
                        error = %error.reason, retry_in_s = delay.as_secs_f64(),
                        "An output did not take every record; retrying them (nothing is dropped)."
                    );
                    retry = Some(
                        error
                            .remaining
                            .iter()
                            .map(|index| batch[*index].clone())
                            .collect(),
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                }
            }
        }
        if attempt > 1 {
            tracing::info!(output = %output.name(), %topic, attempts = attempt, "Output recovered; batch written.");
        }
        let label = output.label();
        self.telemetry.records_produced.add(label, records.len() as f64);
        self.telemetry
            .delivery_seconds_sum
            .add(label, started.elapsed().as_secs_f64());
        self.telemetry.delivery_seconds_count.add(label, 1.0);
    }
}
