//! The poll loop every polling source shares: a tick per interval until stopped (or one cycle with `--once`),
//! each cycle counted, timed and, for a Meraki source, charged with the Meraki requests its client spent, for
//! `/metrics`.
//!
//! What a cycle could not do is retried next interval; with `--once` there is no next interval, so the
//! source ends with a [`SourceFailure`] naming it and each organization's error, causes included, and the
//! command exits non-zero.

use std::time::Duration;

use semaphore_meraki::Client;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::shutdown::Stop;
use crate::sources::SourceFailure;
use crate::sources::failure::{ErrorList, PollError};
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{CYCLE_API_REQUESTS, CYCLE_SECONDS, POLLS};

pub struct Cycles<'a> {
    source: &'a str,
    /// The Meraki client whose requests a cycle is charged with; none for a source that polls no Meraki API
    /// (SNMP).
    client: Option<&'a Client>,
    telemetry: &'a Telemetry,
    stop: &'a Stop,
    ticker: Interval,
    once: bool,
    /// Requests spent (by a Meraki source) and start time of the cycle in progress.
    current: Option<(Option<u64>, Instant)>,
    /// What the `--once` cycle could not do.
    failures: Vec<PollError>,
}

impl<'a> Cycles<'a> {
    pub fn new(
        source: &'a str,
        interval: Duration,
        once: bool,
        client: &'a Client,
        telemetry: &'a Telemetry,
        stop: &'a Stop,
    ) -> Self {
        Self::with_client(source, interval, once, Some(client), telemetry, stop)
    }

    /// The cycles of a source that spends no Meraki requests (SNMP): counted and timed only.
    pub fn without_client(
        source: &'a str,
        interval: Duration,
        once: bool,
        telemetry: &'a Telemetry,
        stop: &'a Stop,
    ) -> Self {
        Self::with_client(source, interval, once, None, telemetry, stop)
    }

    fn with_client(
        source: &'a str,
        interval: Duration,
        once: bool,
        client: Option<&'a Client>,
        telemetry: &'a Telemetry,
        stop: &'a Stop,
    ) -> Self {
        let mut ticker = tokio::time::interval(interval);
        // A cycle longer than the interval (a back-fill) delays the next tick rather than bunching ticks up.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            source,
            client,
            telemetry,
            stop,
            ticker,
            once,
            current: None,
            failures: Vec::new(),
        }
    }

    /// Notes work the cycle could not do (already logged; retried next interval, or failing `--once`): the
    /// source kind's own error, kept whole with its causes.
    pub fn failed(&mut self, error: impl std::error::Error + Send + Sync + 'static) {
        if self.once {
            self.failures.push(PollError::new(error));
        }
    }

    /// How the source ends: with `--once`, an error naming what its cycle could not do.
    pub fn outcome(self) -> Result<(), SourceFailure> {
        if self.failures.is_empty() {
            return Ok(());
        }
        Err(SourceFailure::new(self.source, ErrorList(self.failures)))
    }

    /// Ends the cycle in progress (recording its cost) and waits for the next tick. False when the source
    /// should stop: the stop signal came, or `--once` already ran its cycle.
    pub async fn next(&mut self) -> bool {
        if let Some((requests_before, started)) = self.current.take() {
            let seconds = started.elapsed().as_secs_f64();
            if let (Some(before), Some(now)) = (requests_before, self.requests()) {
                let requests = now - before;
                self.telemetry
                    .set(&CYCLE_API_REQUESTS, &[self.source], requests as f64);
                tracing::debug!(requests, seconds, "Cycle done.");
            } else {
                tracing::debug!(seconds, "Cycle done.");
            }
            self.telemetry.set(&CYCLE_SECONDS, &[self.source], seconds);
            if self.once {
                return false;
            }
        }
        tokio::select! {
            _ = self.ticker.tick() => {}
            () = self.stop.stopped() => return false,
        }
        self.telemetry.add(&POLLS, &[self.source], 1.0);
        self.current = Some((self.requests(), Instant::now()));
        true
    }

    /// The Meraki requests the source's client spent so far; none without a client.
    fn requests(&self) -> Option<u64> {
        self.client.map(|client| client.metrics().snapshot().requests)
    }
}
