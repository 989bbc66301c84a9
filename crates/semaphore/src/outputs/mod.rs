//! Where records go: Kafka, syslog, standard output or a file, any combination at once (the original's
//! `--action syslog|kafka|both`).
//!
//! [`Outputs::publish`] hands a batch to every output and returns only when each acknowledged every record:
//! an output that fails is retried with backoff (only the records it did not take), never skipped, so the
//! caller may advance its watermark once `publish` returns. The one exception is standard output closed by
//! its reader (`semaphore publish ... | head`): no retry can reach a reader that is gone, so `publish`
//! returns [`StdoutClosed`] without acknowledging the batch, and the pipeline stops as on a signal.
//!
//! Every kind has the same shape ([`component`]: its table, its validated config, what it is at run time) and
//! one line in [`registry`], the list of kinds.
//!
//! **Architecture Invariant:** only `outputs/*` (and `bus`) know wire formats.

pub mod component;
pub mod kafka;
pub mod lines;
pub mod registry;
pub mod rfc5424;
pub mod syslog;

pub use component::{Output, OutputComponent, OutputContext, OutputFile};
pub use registry::{OutputConfig, OutputsSection};

use std::sync::Arc;
use std::time::Duration;

use semaphore_meraki::Backoff;
use tokio::sync::watch;

use crate::outputs::kafka::KafkaOutput;
use crate::record::EncodedRecord;
use crate::send_future::boxed;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{
    DELIVERY_SECONDS_COUNT, DELIVERY_SECONDS_SUM, RECORDS_FAILED, RECORDS_PRODUCED,
};

/// Records an output did not take, by index into the batch, and why.
#[derive(Debug)]
pub struct WriteError {
    pub remaining: Vec<usize>,
    pub reason: String,
}

/// Why an output did not take a batch, as [`Outputs::publish`] acts on it.
#[derive(Debug)]
pub enum OutputFailure {
    /// The destination may come back (a broker or server away, a full disk): retry what it did not take.
    Retry(WriteError),
    /// Standard output's reader went away: SIGPIPE is ignored, as in every Rust program, so the write
    /// returned EPIPE instead of ending the process, and no later write can succeed.
    StdoutClosed,
}

impl From<WriteError> for OutputFailure {
    fn from(error: WriteError) -> Self {
        OutputFailure::Retry(error)
    }
}

/// A batch not acknowledged because standard output was closed by its reader; the command ends (exit 0).
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed by its reader")]
pub struct StdoutClosed;

/// Whether outputs that can spool ([`Output::write_or_spool`]) do.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Wait,
    Spool,
    SpoolNow,
}

/// Between two writes of what an output did not take: 1 s doubling to 30 s.
const OUTPUT_RETRY: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));

#[derive(Debug)]
pub struct Outputs {
    outputs: Vec<Arc<dyn Output>>,
    telemetry: Arc<Telemetry>,
    /// Set once standard output was found closed; the pipeline waits on it to stop.
    stdout_closed: watch::Sender<bool>,
}

impl Outputs {
    pub fn new(outputs: Vec<Arc<dyn Output>>, telemetry: Arc<Telemetry>) -> Self {
        Self {
            outputs,
            telemetry,
            stdout_closed: watch::Sender::new(false),
        }
    }

    /// Completes once a write found standard output closed by its reader (never, while it is open).
    pub async fn stdout_closed(&self) {
        let mut closed = self.stdout_closed.subscribe();
        // The sender lives as long as `self`, so this only returns once the flag is set.
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// The Kafka output, when one is declared: sources read back from it what a window interrupted by a
    /// crash already wrote.
    pub fn kafka(&self) -> Option<&KafkaOutput> {
        self.outputs.iter().find_map(|output| output.as_kafka())
    }

    pub fn names(&self) -> Vec<String> {
        self.outputs.iter().map(|output| output.name()).collect()
    }

    /// Closes connections cleanly (syslog streams), after the last batch.
    pub async fn close(&self) {
        for output in &self.outputs {
            output.close().await;
        }
    }

    /// Writes the batch to every output and returns once all of them acknowledged all of it, or with
    /// [`StdoutClosed`] (the batch not acknowledged) once standard output was closed by its reader.
    pub async fn publish(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), StdoutClosed> {
        self.publish_where(topic, records, Mode::Wait, |_| true).await
    }

    /// As [`Outputs::publish`], for a source that cannot hold its senders back (syslog, traps, dial-out
    /// telemetry, the generator): the Kafka output spools what Kafka cannot take now rather than waiting for it
    /// (`Output::write_or_spool`). A source that can re-read what it missed (the Meraki windows) publishes.
    pub async fn accept(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), StdoutClosed> {
        self.publish_where(topic, records, Mode::Spool, |_| true).await
    }

    /// As [`Outputs::accept`], for a batch the source found Kafka behind on (its datagrams backing up): the
    /// Kafka output spools it at once (`Output::spool_now`) instead of trying Kafka first.
    pub async fn spill(&self, topic: &str, records: &[EncodedRecord]) -> Result<(), StdoutClosed> {
        self.publish_where(topic, records, Mode::SpoolNow, |_| true).await
    }

    /// As [`Outputs::publish`], to every output but Kafka: what a resumed window finds in Kafka already still
    /// goes to the outputs that cannot be read back (at least once for them).
    pub async fn publish_beside_kafka(
        &self,
        topic: &str,
        records: &[EncodedRecord],
    ) -> Result<(), StdoutClosed> {
        self.publish_where(topic, records, Mode::Wait, |output| output.as_kafka().is_none())
            .await
    }

    async fn publish_where(
        &self,
        topic: &str,
        records: &[EncodedRecord],
        mode: Mode,
        chosen: impl Fn(&dyn Output) -> bool,
    ) -> Result<(), StdoutClosed> {
        // The pipeline is stopping: writing more to the other outputs would only lengthen the drain.
        if *self.stdout_closed.borrow() {
            return Err(StdoutClosed);
        }
        if records.is_empty() {
            return Ok(());
        }
        // Boxed: see `send_future`.
        let writes: Vec<_> = self
            .outputs
            .iter()
            .filter(|output| chosen(output.as_ref()))
            .map(|output| boxed(self.publish_to(output.as_ref(), topic, records, mode)))
            .collect();
        futures::future::join_all(writes).await.into_iter().collect()
    }

    async fn publish_to(
        &self,
        output: &dyn Output,
        topic: &str,
        records: &[EncodedRecord],
        mode: Mode,
    ) -> Result<(), StdoutClosed> {
        let started = tokio::time::Instant::now();
        // Only a retry copies records: the ones the output did not take.
        let mut retry: Option<Vec<EncodedRecord>> = None;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let batch = retry.as_deref().unwrap_or(records);
            let written = match mode {
                Mode::Wait => output.write(topic, batch).await,
                Mode::Spool => output.write_or_spool(topic, batch).await,
                Mode::SpoolNow => output.spool_now(topic, batch).await,
            };
            match written {
                Ok(()) => break,
                // Nobody reads the records any more: stop instead of retrying, and say so once.
                Err(OutputFailure::StdoutClosed) => {
                    if !self.stdout_closed.send_replace(true) {
                        tracing::info!(
                            output = %output.name(),
                            "Standard output was closed by its reader; stopping."
                        );
                    }
                    return Err(StdoutClosed);
                }
                // A destination that may come back: retry, never drop.
                Err(OutputFailure::Retry(error)) => {
                    let delay = OUTPUT_RETRY.delay(attempt);
                    self.telemetry
                        .add(&RECORDS_FAILED, &[output.label()], error.remaining.len() as f64);
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
                }
            }
        }
        if attempt > 1 {
            tracing::info!(output = %output.name(), %topic, attempts = attempt, "Output recovered; batch written.");
        }
        let label = output.label();
        self.telemetry
            .add(&RECORDS_PRODUCED, &[label], records.len() as f64);
        self.telemetry
            .add(&DELIVERY_SECONDS_SUM, &[label], started.elapsed().as_secs_f64());
        self.telemetry.add(&DELIVERY_SECONDS_COUNT, &[label], 1.0);
        Ok(())
    }
}
