//! The running `[[sources.snmp]]`: a cycle per interval ([`Cycles`]), each polling every target with at most
//! `max_in_flight` at once. A target's records go to the outputs as soon as it answered, so a slow or silent
//! target (each request waits `timeout_s`, `retries` more times) delays no other, and one device's records
//! keep their order. A stop starts no more polls and ends those under way where they stand (their records
//! dropped: see [`TargetState::poll_until_stopped`]), so the source ends within the grace period whatever the
//! agents or Kafka do.
//!
//! Under `--once`, a cycle in which every target failed fails the run, naming each target's error; one in
//! which some answered is a success (the others are on `/metrics` and in the log).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::device_identity::DeviceDirectory;
use crate::outputs::Outputs;
use crate::send_future::{SendFuture, boxed};
use crate::shutdown::Stop;
use crate::sources::SourceFailure;
use crate::sources::cycles::Cycles;
use crate::sources::snmp::poller::custom::{NamedOid, TableConfig};
use crate::sources::snmp::poller::profile::WalkPlan;
use crate::sources::snmp::poller::security::Credentials;
use crate::sources::snmp::poller::target::{PollContext, SessionSettings, TargetError, TargetState, Topics};
use crate::sources::snmp::poller::targets::Target;
use crate::telemetry::Telemetry;

/// A poller ready to run: its targets and credentials resolved at build.
pub struct SnmpPoller {
    pub id: String,
    pub targets: Vec<Target>,
    pub credentials: Credentials,
    pub session: SessionSettings,
    pub interval: Duration,
    pub max_in_flight: usize,
    pub scalars: Vec<NamedOid>,
    pub tables: Vec<TableConfig>,
    pub topics: Topics,
    pub outputs: Arc<Outputs>,
    pub telemetry: Arc<Telemetry>,
    pub devices: Arc<DeviceDirectory>,
}

impl SnmpPoller {
    pub async fn run(self, stop: Stop, once: bool) -> Result<(), SourceFailure> {
        tracing::info!(
            targets = self.targets.len(),
            interval_s = self.interval.as_secs(),
            "SNMP polling started."
        );
        let plan = WalkPlan::new(&self.scalars, &self.tables);
        let context = PollContext {
            source: &self.id,
            credentials: &self.credentials,
            session: self.session,
            plan: &plan,
            scalars: &self.scalars,
            tables: &self.tables,
            topics: &self.topics,
            outputs: &self.outputs,
            telemetry: &self.telemetry,
            devices: &self.devices,
            origin: Instant::now(),
        };
        let mut targets: Vec<TargetState> = self.targets.iter().cloned().map(TargetState::new).collect();
        let mut cycles = Cycles::without_client(&self.id, self.interval, once, &self.telemetry, &stop);
        while cycles.next().await {
            let failures = cycle(&mut targets, &context, self.max_in_flight, &stop).await;
            if !failures.is_empty() && failures.len() == targets.len() {
                failures.into_iter().for_each(|error| cycles.failed(error));
            }
        }
        cycles.outcome()
    }
}

/// Polls every target, `max_in_flight` at a time; what failed (already logged and counted). A stop skips the
/// targets not started yet and ends the polls under way.
async fn cycle(
    targets: &mut [TargetState],
    context: &PollContext<'_>,
    max_in_flight: usize,
    stop: &Stop,
) -> Vec<TargetError> {
    // Collected before the first await: a lazy `map` held across it makes the cycle's future fail the
    // pipeline's `Send` check for every lifetime of the borrow (see `send_future`).
    let polls: Vec<SendFuture<'_, Result<(), TargetError>>> = targets
        .iter_mut()
        .map(|target| poll_unless_stopped(target, context, stop))
        .collect();
    let outcomes: Vec<Result<(), TargetError>> = futures::stream::iter(polls)
        .buffer_unordered(max_in_flight)
        .collect()
        .await;
    outcomes.into_iter().filter_map(Result::err).collect()
}

fn poll_unless_stopped<'a>(
    target: &'a mut TargetState,
    context: &'a PollContext<'_>,
    stop: &'a Stop,
) -> SendFuture<'a, Result<(), TargetError>> {
    boxed(async move {
        if stop.is_stopped() {
            return Ok(());
        }
        target.poll_until_stopped(context, stop).await
    })
}
