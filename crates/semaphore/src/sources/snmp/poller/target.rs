//! One target's part of a cycle: resolve it, ask it (the system GET, the configured scalars' GET, one walk
//! of every column), turn the answer into records, hand them to the outputs, and keep its metrics and its
//! failing/recovered state. Its [`Session`] lives across cycles (a v3 agent's engine ID and clock are learnt
//! once) and its socket is released after each poll, so thousands of targets hold no thousands of sockets.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use crate::device_identity::DeviceDirectory;
use crate::error_text::one_line;
use crate::outputs::Outputs;
use crate::record::{EncodedRecord, RecordKind};
use crate::sources::snmp::client::{PollError, Session, SessionOptions};
use crate::sources::snmp::poller::custom::{NamedOid, TableConfig};
use crate::sources::snmp::poller::profile::WalkPlan;
use crate::sources::snmp::poller::rates::DeviceRates;
use crate::sources::snmp::poller::records::{self, Poll, RecordSettings, TargetRecords};
use crate::sources::snmp::poller::security::Credentials;
use crate::sources::snmp::poller::targets::{Host, Target};
use crate::sources::snmp::wire::VarBind;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{
    SNMP_LAST_SUCCESS, SNMP_POLL_ERRORS, SNMP_POLL_SECONDS, SNMP_RATE_GAPS, SNMP_TARGET_UP,
};

/// Why one target's poll failed: its name did not resolve, or the agent did not answer as it should (the
/// client's error names the target and the likely fix: the community, the user, the pass phrase...).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("target {target}: cannot resolve {name}: {source}; check the name, or write the address")]
    Resolve {
        target: String,
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("target {target}: {name} resolves to no address; check the name, or write the address")]
    NoAddress { target: String, name: String },
    #[error(transparent)]
    Poll(#[from] PollError),
}

impl TargetError {
    /// The `kind` label of `semaphore_snmp_poll_errors_total`.
    pub fn label(&self) -> &'static str {
        match self {
            TargetError::Resolve { .. } | TargetError::NoAddress { .. } => "resolve",
            TargetError::Poll(error) => error.kind().label(),
        }
    }
}

/// The session settings of every target of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionSettings {
    pub timeout: Duration,
    pub retries: u32,
    pub max_repetitions: u32,
    pub max_rows: usize,
}

impl SessionSettings {
    fn options(&self) -> SessionOptions {
        SessionOptions {
            timeout: self.timeout,
            retries: self.retries,
            max_repetitions: self.max_repetitions,
            max_rows: self.max_rows,
        }
    }
}

/// Where the records of a poll go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    pub interfaces: String,
    pub system: String,
    pub tables: String,
}

/// What every target's poll shares.
pub struct PollContext<'a> {
    pub source: &'a str,
    pub credentials: &'a Credentials,
    pub session: SessionSettings,
    pub plan: &'a WalkPlan,
    pub scalars: &'a [NamedOid],
    pub tables: &'a [TableConfig],
    pub topics: &'a Topics,
    pub outputs: &'a Outputs,
    pub telemetry: &'a Telemetry,
    pub devices: &'a DeviceDirectory,
    /// The start of the poller's monotonic clock, which rates are measured on.
    pub origin: Instant,
}

/// One target, across cycles.
pub struct TargetState {
    target: Target,
    /// `host:port` as configured: the `target` label and the `agent` log field.
    label: String,
    session: Option<Session>,
    rates: DeviceRates,
    /// Whether its last poll failed, so a failure is logged once and its recovery once.
    failing: bool,
}

impl TargetState {
    pub fn new(target: Target) -> Self {
        Self {
            label: target.to_string(),
            target,
            session: None,
            rates: DeviceRates::default(),
            failing: false,
        }
    }

    /// Polls the target once and publishes its records; `Err` (already logged and counted) when it did not
    /// answer.
    pub async fn poll(&mut self, context: &PollContext<'_>) -> Result<(), TargetError> {
        let started = Instant::now();
        let answer = self.ask(context).await;
        let seconds = started.elapsed().as_secs_f64();
        let labels = [context.source, self.label.as_str()];
        context.telemetry.set(&SNMP_POLL_SECONDS, &labels, seconds);
        let (address, system, scalars, walked) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.failed(context, &error);
                return Err(error);
            }
        };
        let poll = Poll {
            target: address,
            ts: Utc::now(),
            at: context.origin.elapsed(),
            poll_seconds: seconds,
            system,
            scalars,
            walked,
        };
        self.answered(context, &poll);
        let identity = context.devices.lookup(address.ip());
        let settings = RecordSettings {
            source: context.source,
            plan: context.plan,
            scalars: context.scalars,
            tables: context.tables,
        };
        let records = records::build(poll, identity.as_deref(), &settings, &mut self.rates);
        for gap in &records.gaps {
            context
                .telemetry
                .add(&SNMP_RATE_GAPS, &[context.source, gap.label()], 1.0);
        }
        publish(context, records).await;
        Ok(())
    }

    /// The address, the session for it, and the agent's answers; the session's socket is released whatever
    /// the outcome.
    async fn ask(&mut self, context: &PollContext<'_>) -> Result<Answer, TargetError> {
        let address = resolve(&self.target, &self.label, context.session.timeout).await?;
        let session = self.session_for(address, context);
        let answer = ask_session(session, context.plan).await;
        session.release();
        let (system, scalars, walked) = answer?;
        Ok((address, system, scalars, walked))
    }

    /// The session for `address`: the one kept (with what it learnt of a v3 engine) unless the name now
    /// resolves elsewhere.
    fn session_for(&mut self, address: SocketAddr, context: &PollContext<'_>) -> &mut Session {
        let stale = self
            .session
            .as_ref()
            .is_none_or(|session| session.target() != address);
        if stale {
            let security = context.credentials.security();
            self.session = Some(Session::new(address, security, context.session.options()));
        }
        self.session
            .as_mut()
            .expect("a session was made above when there was none")
    }

    fn answered(&mut self, context: &PollContext<'_>, poll: &Poll) {
        let labels = [context.source, self.label.as_str()];
        context.telemetry.set(&SNMP_TARGET_UP, &labels, 1.0);
        let seconds = poll.ts.timestamp_millis() as f64 / 1000.0;
        context.telemetry.set(&SNMP_LAST_SUCCESS, &labels, seconds);
        if self.failing {
            self.failing = false;
            tracing::info!(agent = %self.label, address = %poll.target, "SNMP target answers again.");
        }
    }

    /// Counts the failure; logs it when the target starts failing (WARN, with the fix), then only at DEBUG
    /// until it answers again.
    fn failed(&mut self, context: &PollContext<'_>, error: &TargetError) {
        let labels = [context.source, self.label.as_str()];
        context.telemetry.set(&SNMP_TARGET_UP, &labels, 0.0);
        let kind = error.label();
        context.telemetry.add(
            &SNMP_POLL_ERRORS,
            &[context.source, self.label.as_str(), kind],
            1.0,
        );
        let error = one_line(error);
        if self.failing {
            tracing::debug!(agent = %self.label, kind, %error, "SNMP target still failing.");
        } else {
            self.failing = true;
            tracing::warn!(
                agent = %self.label,
                kind,
                %error,
                "SNMP poll failed; retrying every interval, and saying so once it answers again."
            );
        }
    }
}

/// The system scalars, the configured scalars, and the walked columns.
type Answers = (Vec<VarBind>, Vec<VarBind>, Vec<Vec<VarBind>>);
/// The address polled and its answers.
type Answer = (SocketAddr, Vec<VarBind>, Vec<VarBind>, Vec<Vec<VarBind>>);

async fn ask_session(session: &mut Session, plan: &WalkPlan) -> Result<Answers, PollError> {
    let system = session.get(&plan.system).await?;
    let scalars = if plan.scalars.is_empty() {
        Vec::new()
    } else {
        session.get(&plan.scalars).await?
    };
    let walked = session.walk(&plan.columns).await?;
    Ok((system, scalars, walked))
}

/// The target's address: as written, or its name resolved now (within the poll's timeout).
async fn resolve(target: &Target, label: &str, timeout: Duration) -> Result<SocketAddr, TargetError> {
    let name = match &target.host {
        Host::Address(address) => return Ok(SocketAddr::new(*address, target.port)),
        Host::Name(name) => name,
    };
    let resolve_error = |source| TargetError::Resolve {
        target: label.to_owned(),
        name: name.clone(),
        source,
    };
    let lookup = tokio::net::lookup_host((name.as_str(), target.port));
    let mut addresses = match tokio::time::timeout(timeout, lookup).await {
        Ok(Ok(addresses)) => addresses,
        Ok(Err(error)) => return Err(resolve_error(error)),
        Err(_elapsed) => {
            let error = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer from the resolver in time",
            );
            return Err(resolve_error(error));
        }
    };
    addresses.next().ok_or_else(|| TargetError::NoAddress {
        target: label.to_owned(),
        name: name.clone(),
    })
}

/// Hands the records to the outputs, interfaces, then the system, then the table rows: through the spool
/// when Kafka is away ([`Outputs::accept`]), as a sample not taken now is a sample lost.
async fn publish(context: &PollContext<'_>, records: TargetRecords) {
    let source = context.source;
    let interfaces = encode(&records.interfaces, |record| record.key(), source);
    let system = encode(
        std::slice::from_ref(&records.system),
        |record| record.key(),
        source,
    );
    let rows = encode(&records.rows, |record| record.key(), source);
    for (topic, batch) in [
        (&context.topics.interfaces, interfaces),
        (&context.topics.system, system),
        (&context.topics.tables, rows),
    ] {
        // Standard output closed by its reader: the pipeline stops on its own, and these have nowhere to go.
        if context.outputs.accept(topic, &batch).await.is_err() {
            tracing::debug!("Records not delivered: standard output was closed.");
            return;
        }
    }
}

fn encode<R: RecordKind>(records: &[R], key: impl Fn(&R) -> String, source: &str) -> Vec<EncodedRecord> {
    records
        .iter()
        .map(|record| EncodedRecord::new(record, Some(key(record)), source))
        .collect()
}
