//! One target's part of a cycle: resolve it, ask it (the system GET, the configured scalars' GET, one walk
//! of every column), turn the answer into records, hand them to the outputs, and keep its metrics and its
//! failing/recovered state. Its [`Session`] lives across cycles (a v3 agent's engine ID and clock are learnt
//! once) and its socket is released after each poll, so thousands of targets hold no thousands of sockets.
//!
//! What only the configured scalars and tables lack (a refused GET, a column the agent loops in) costs only
//! them: counted, warned of once, and the records go out without it. A stop ends a poll wherever it is.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::device_identity::DeviceDirectory;
use crate::error_text::one_line;
use crate::outputs::Outputs;
use crate::record::{EncodedRecord, RecordKind};
use crate::shutdown::Stop;
use crate::sources::snmp::client::{PollError, PollErrorKind, Session, SessionOptions, Walked};
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

/// The most varbinds one poll's walk keeps, all columns together, whatever `max_rows` allows each: what
/// bounds a target's memory (a varbind is its OID's arcs and its value, a hundred-odd bytes). 200,000 is the
/// profile's 28 columns for 7,000 interfaces, more than the largest chassis has.
pub const MAX_WALK_VARBINDS: usize = 200_000;

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
            max_varbinds: MAX_WALK_VARBINDS,
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
    /// The previous poll's counters, for the session's address: a new address starts them again.
    rates: DeviceRates,
    /// Whether its last poll failed, so a failure is logged once and its recovery once.
    failing: bool,
    /// Whether its last poll answered in part, so that too is logged once.
    partial: bool,
}

/// What the agent answered one poll.
struct Answers {
    /// The address polled.
    address: SocketAddr,
    system: Vec<VarBind>,
    /// The configured scalars; none when the agent refused their GET.
    scalars: Vec<VarBind>,
    /// Every column's rows, index-aligned with the plan's columns.
    walked: Vec<Vec<VarBind>>,
    /// When the walk's first answer came: what rates are measured from.
    walked_at: Instant,
    /// What the answer lacked, though the poll goes on.
    shortfalls: Vec<Shortfall>,
}

/// Part of a poll the agent did not answer while it answered the rest: the configured scalars' GET refused,
/// a configured table's column cut short. Counted by its error's kind and warned of; the records go out.
struct Shortfall {
    /// What is missing, for the log.
    missing: String,
    error: PollError,
}

impl TargetState {
    pub fn new(target: Target) -> Self {
        Self {
            label: target.to_string(),
            target,
            session: None,
            rates: DeviceRates::default(),
            failing: false,
            partial: false,
        }
    }

    /// Polls the target once and publishes its records, unless `stop` comes first: then the poll is dropped
    /// where it stands, the session's socket released. Its records, if it had any, are dropped too: a poll's
    /// sample is not a promise (the next start polls again), so a stop waits neither on a silent agent nor on
    /// an output that cannot take records (Kafka away, the spool full), and the process exits in its grace
    /// period.
    pub async fn poll_until_stopped(
        &mut self,
        context: &PollContext<'_>,
        stop: &Stop,
    ) -> Result<(), TargetError> {
        tokio::select! {
            outcome = self.poll(context) => return outcome,
            () = stop.stopped() => {}
        }
        self.release();
        tracing::debug!(agent = %self.label, "SNMP poll stopped.");
        Ok(())
    }

    /// Polls the target once and publishes its records; `Err` (already logged and counted) when it did not
    /// answer.
    async fn poll(&mut self, context: &PollContext<'_>) -> Result<(), TargetError> {
        let started = Instant::now();
        let answer = self.ask(context).await;
        let seconds = started.elapsed().as_secs_f64();
        let labels = [context.source, self.label.as_str()];
        context.telemetry.set(&SNMP_POLL_SECONDS, &labels, seconds);
        let answers = match answer {
            Ok(answers) => answers,
            Err(error) => {
                self.failed(context, &error);
                return Err(error);
            }
        };
        let ts = Utc::now();
        self.answered(context, answers.address, ts);
        self.answered_in_part(context, &answers.shortfalls);
        let poll = Poll {
            target: answers.address,
            ts,
            at: answers.walked_at.saturating_duration_since(context.origin),
            poll_seconds: seconds,
            system: answers.system,
            scalars: answers.scalars,
            walked: answers.walked,
        };
        let records = self.records(context, poll);
        publish(context, records).await;
        Ok(())
    }

    /// The address, the session for it, and the agent's answers; the session's socket is released whatever
    /// the outcome.
    async fn ask(&mut self, context: &PollContext<'_>) -> Result<Answers, TargetError> {
        let address = resolve(&self.target, &self.label, context.session.timeout).await?;
        let session = self.session_for(address, context);
        let answers = ask_session(session, context.plan).await;
        session.release();
        answers.map_err(TargetError::from)
    }

    fn session_for(&mut self, address: SocketAddr, context: &PollContext<'_>) -> &mut Session {
        let options = context.session.options();
        self.session_at(address, || {
            Session::new(address, context.credentials.security(), options)
        })
    }

    /// The session for `address`: the one kept (with what it learnt of a v3 engine) unless the name now
    /// resolves elsewhere, or there is none yet; then a new one from `new`, and the rates start again, as the
    /// counters at another address are another device's (or the same device's, restarted elsewhere).
    fn session_at(&mut self, address: SocketAddr, new: impl FnOnce() -> Session) -> &mut Session {
        if self
            .session
            .as_ref()
            .is_none_or(|session| session.target() != address)
        {
            self.rates = DeviceRates::default();
            self.session = None;
        }
        self.session.get_or_insert_with(new)
    }

    /// Closes the session's socket, if it has one open.
    fn release(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.release();
        }
    }

    /// The poll's records, the rates computed from the poll before; the rate gaps counted.
    fn records(&mut self, context: &PollContext<'_>, poll: Poll) -> TargetRecords {
        let identity = context.devices.lookup(poll.target.ip());
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
        records
    }

    fn answered(&mut self, context: &PollContext<'_>, address: SocketAddr, ts: DateTime<Utc>) {
        let labels = [context.source, self.label.as_str()];
        context.telemetry.set(&SNMP_TARGET_UP, &labels, 1.0);
        let seconds = ts.timestamp_millis() as f64 / 1000.0;
        context.telemetry.set(&SNMP_LAST_SUCCESS, &labels, seconds);
        if self.failing {
            self.failing = false;
            tracing::info!(agent = %self.label, %address, "SNMP target answers again.");
        }
    }

    /// Counts what an answered poll lacked, by kind; warns of it when the target starts answering in part,
    /// then only at DEBUG until it answers whole again.
    fn answered_in_part(&mut self, context: &PollContext<'_>, shortfalls: &[Shortfall]) {
        for shortfall in shortfalls {
            let kind = shortfall.error.kind().label();
            let labels = [context.source, self.label.as_str(), kind];
            context.telemetry.add(&SNMP_POLL_ERRORS, &labels, 1.0);
            let (missing, error) = (&shortfall.missing, one_line(&shortfall.error));
            if self.partial {
                tracing::debug!(
                    agent = %self.label,
                    kind,
                    missing = %missing,
                    %error,
                    "SNMP target still answers in part."
                );
            } else {
                tracing::warn!(
                    agent = %self.label,
                    kind,
                    missing = %missing,
                    %error,
                    "SNMP poll answered in part; its records go out without what is missing, and saying so once \
                     it answers whole again."
                );
            }
        }
        let partial = !shortfalls.is_empty();
        if self.partial && !partial {
            tracing::info!(agent = %self.label, "SNMP target answers whole again.");
        }
        self.partial = partial;
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

/// The poll's requests: the system GET, the configured scalars' GET, one walk of every column.
async fn ask_session(session: &mut Session, plan: &WalkPlan) -> Result<Answers, PollError> {
    let system = session.get(&plan.system).await?;
    let mut shortfalls = Vec::new();
    let scalars = custom_scalars(session, plan, &mut shortfalls).await?;
    let walk_started = Instant::now();
    let walked = session.walk(&plan.columns).await?;
    let walked_at = walked.first_answer.unwrap_or(walk_started);
    let walked = whole_columns(session.target(), plan, walked, &mut shortfalls)?;
    Ok(Answers {
        address: session.target(),
        system,
        scalars,
        walked,
        walked_at,
        shortfalls,
    })
}

/// The configured scalars, read with a GET of their own so that an agent refusing it (an SNMPv1 agent's
/// noSuchName for one unknown OID, a noAccess) costs only them: they are null in the system record, and the
/// refusal is a shortfall. No answer at all still fails the poll.
async fn custom_scalars(
    session: &mut Session,
    plan: &WalkPlan,
    shortfalls: &mut Vec<Shortfall>,
) -> Result<Vec<VarBind>, PollError> {
    match session.get(&plan.scalars).await {
        Ok(scalars) => Ok(scalars),
        Err(error) if matches!(error.kind(), PollErrorKind::ErrorStatus { .. }) => {
            shortfalls.push(Shortfall {
                missing: "the configured scalars (null in the system record)".to_owned(),
                error,
            });
            Ok(Vec::new())
        }
        Err(error) => Err(error),
    }
}

/// The walk's rows. A column the walk cut short (the agent loops, or it passed the bounds) fails the poll
/// when it is one of the interface columns, whose rows make the interface records and their rates; a
/// configured table's keeps its rows so far, and is a shortfall.
fn whole_columns(
    target: SocketAddr,
    plan: &WalkPlan,
    walked: Walked,
    shortfalls: &mut Vec<Shortfall>,
) -> Result<Vec<Vec<VarBind>>, PollError> {
    let interface_columns = plan.interface_names.len();
    for (index, (end, column)) in walked.ends.into_iter().zip(&plan.columns).enumerate() {
        let Some(end) = end else {
            continue;
        };
        let error = PollError::new(target, end.into_kind(column));
        if index < interface_columns {
            return Err(error);
        }
        shortfalls.push(Shortfall {
            missing: format!("rows of column {column} of a configured table (those before kept)"),
            error,
        });
    }
    Ok(walked.rows)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sources::snmp::client::Security;
    use crate::sources::snmp::client::test_agent::{Access, Behaviour, TestAgent};
    use crate::sources::snmp::poller::rates::{Counter, Counters, InterfaceSample, RateGap};
    use crate::sources::snmp::wire::{Oid, Value, Version};

    const COMMUNITY: &[u8] = b"public";
    const MINUTE: Duration = Duration::from_secs(60);
    /// A configured table's column, at the end of the agent's MIB view.
    const TABLE_COLUMN: &[u32] = &[1, 3, 6, 1, 4, 1, 99999, 1];

    fn oid(text: &str) -> Oid {
        text.parse().expect("an OID")
    }

    fn varbind(text: &str, value: Value) -> VarBind {
        VarBind::new(oid(text), value)
    }

    /// The system group, two interfaces' `ifDescr`, and two rows of the configured table.
    fn table() -> Vec<VarBind> {
        let text = |value: &str| Value::OctetString(value.as_bytes().to_vec());
        vec![
            varbind("1.3.6.1.2.1.1.1.0", text("test agent")),
            varbind(
                "1.3.6.1.2.1.1.2.0",
                Value::ObjectIdentifier(oid("1.3.6.1.4.1.8072.3.2.10")),
            ),
            varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(6_000)),
            varbind("1.3.6.1.2.1.1.5.0", text("edge-1")),
            varbind("1.3.6.1.2.1.2.2.1.2.1", text("lo")),
            varbind("1.3.6.1.2.1.2.2.1.2.2", text("eth0")),
            varbind("1.3.6.1.4.1.99999.1.1", Value::Integer(7)),
            varbind("1.3.6.1.4.1.99999.1.2", Value::Integer(8)),
        ]
    }

    fn settings() -> SessionSettings {
        SessionSettings {
            timeout: Duration::from_secs(2),
            retries: 1,
            max_repetitions: 10,
            max_rows: 100,
        }
    }

    fn new_session(address: SocketAddr, version: Version) -> Session {
        let security = Security::Community {
            version,
            community: Arc::from(COMMUNITY),
        };
        Session::new(address, security, settings().options())
    }

    async fn agent(version: Version, behaviour: Behaviour) -> TestAgent {
        let access = Access::Community {
            version,
            community: COMMUNITY.to_vec(),
        };
        TestAgent::start(table(), access, behaviour).await
    }

    /// A scalar the agent lacks, and one configured table of one column.
    fn plan() -> WalkPlan {
        let scalars = [NamedOid {
            name: "missing".to_owned(),
            oid: oid("1.3.6.1.4.1.99999.9.0"),
        }];
        let column = NamedOid {
            name: "value".to_owned(),
            oid: Oid::new(TABLE_COLUMN).expect("an OID"),
        };
        let tables = [TableConfig {
            name: "looping".to_owned(),
            columns: vec![column],
        }];
        WalkPlan::new(&scalars, &tables)
    }

    /// Issue 14 review: an SNMPv1 agent refusing the configured scalars (noSuchName fails its whole GET) and
    /// looping in a configured table costs only them; the system group and the interfaces come, the table's
    /// rows before the loop too, and each lack is a shortfall.
    #[tokio::test]
    async fn what_only_the_configured_objects_lack_is_a_shortfall() {
        let agent = agent(Version::V1, Behaviour::LoopUnder(TABLE_COLUMN)).await;
        let mut session = new_session(agent.address(), Version::V1);
        let plan = plan();
        let answers = ask_session(&mut session, &plan)
            .await
            .expect("a poll answered in part");
        assert_eq!(answers.system.len(), 4);
        assert!(answers.scalars.is_empty());
        assert_eq!(plan.interface_names[0], "ifDescr");
        assert_eq!(answers.walked[0].len(), 2, "{:?}", answers.walked[0]);
        assert_eq!(answers.walked.last().map(Vec::len), Some(1));
        let kinds: Vec<&str> = answers
            .shortfalls
            .iter()
            .map(|shortfall| shortfall.error.kind().label())
            .collect();
        assert_eq!(kinds, ["error_status", "not_increasing"]);
        assert!(
            answers.shortfalls[1].missing.contains("1.3.6.1.4.1.99999.1"),
            "{}",
            answers.shortfalls[1].missing
        );
    }

    /// The interface columns make the interface records and their rates: a loop there fails the poll.
    #[tokio::test]
    async fn a_loop_in_the_interface_columns_fails_the_poll() {
        let agent = agent(Version::V2c, Behaviour::Loop).await;
        let mut session = new_session(agent.address(), Version::V2c);
        let Err(error) = ask_session(&mut session, &plan()).await else {
            panic!("a looping ifTable should fail the poll");
        };
        assert_eq!(error.kind().label(), "not_increasing");
    }

    /// Issue 14 review: a name that now resolves elsewhere gets a new session, and its rates start again
    /// rather than compare another address's counters with the old one's.
    #[test]
    fn a_new_address_starts_the_rates_again() {
        let mut state = TargetState::new(Target::parse("router.example.net").expect("a target"));
        let first: SocketAddr = "192.0.2.1:161".parse().expect("an address");
        let moved: SocketAddr = "192.0.2.2:161".parse().expect("an address");
        let sample = |octets| InterfaceSample {
            if_index: 1,
            counters: Counters {
                in_octets: Some(Counter::bits64(octets)),
                ..Counters::default()
            },
            ..InterfaceSample::default()
        };
        state.session_at(first, || new_session(first, Version::V2c));
        state.rates.poll(MINUTE, None, &[sample(0)]);
        state.session_at(first, || new_session(first, Version::V2c));
        let kept = state.rates.poll(2 * MINUTE, None, &[sample(60_000)]);
        assert!(kept.interfaces[0].is_ok(), "{kept:?}");
        let session = state.session_at(moved, || new_session(moved, Version::V2c));
        assert_eq!(session.target(), moved);
        let again = state.rates.poll(3 * MINUTE, None, &[sample(120_000)]);
        assert_eq!(again.interfaces[0], Err(RateGap::FirstPoll));
    }
}
