//! The shape every sink kind has, so that a new kind is one module plus one line in [`super::registry`]: its
//! table as written ([`SinkFile`]: serde, `deny_unknown_fields`, the read keys every sink has plus its own),
//! its validated config ([`SinkComponent`]: a line for `check -c`, what `check -c` reaches, and `build`), and
//! what it is at run time ([`Deliver`], driven by [`crate::sinks::runner::SinkRunner`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::bus::group_reader::ReadStart;
use crate::bus::handle::{KafkaHandle, TopicCreation};
use crate::check::Problem;
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::env::Env;
use crate::http_server::ListenError;
use crate::shutdown::Stop;
use crate::sinks::message::ConsumedMessage;
use crate::sinks::runner::SinkReading;
use crate::sinks::sink::{Accepted, BoxError, HttpClientError, SinkError};

/// Where malformed and refused records go unless a sink says otherwise.
pub const DEAD_LETTER_TOPIC: &str = "semaphore.dead_letter";

/// The keys every `[[sinks.KIND]]` table has: how the sink reads its topics.
#[derive(Clone, Copy, Debug)]
pub struct ReadingKeys<'a> {
    pub id: &'a Option<String>,
    pub topics: &'a Option<Vec<String>>,
    pub group: &'a Option<String>,
    pub start: &'a Option<String>,
    pub batch_size: Option<usize>,
    pub dead_letter_topic: &'a Option<String>,
}

/// `SinkFile::reading` for a table whose read keys are fields of those names. (The keys cannot be one
/// flattened struct: serde's `flatten` does not work with `deny_unknown_fields`, which names typos.)
macro_rules! reading_keys {
    () => {
        fn reading(&self) -> $crate::sinks::component::ReadingKeys<'_> {
            $crate::sinks::component::ReadingKeys {
                id: &self.id,
                topics: &self.topics,
                group: &self.group,
                start: &self.start,
                batch_size: self.batch_size,
                dead_letter_topic: &self.dead_letter_topic,
            }
        }
    };
}
pub(crate) use reading_keys;

/// A `[[sinks.KIND]]` table as written.
pub trait SinkFile {
    type Config: SinkComponent;
    /// Records per delivery when the table does not say.
    const DEFAULT_BATCH: usize = 1000;
    /// Topics read when the table does not say.
    const DEFAULT_TOPICS: &'static [&'static str] = &[crate::config::UPLINKS_TOPIC];
    /// A kind written once, as `[sinks.KIND]` (the dashboard), rather than as an array of tables.
    const SINGLE: bool = false;
    fn reading(&self) -> ReadingKeys<'_>;
    /// Checks the kind's own keys (the read keys are checked already, into `reading`, which the kind may
    /// adjust: the dashboard reads from a time instead of committed offsets).
    fn validate(
        &self,
        validation: &mut Validation<'_>,
        at: &At,
        reading: &mut SinkReading,
    ) -> Result<Self::Config, ConfigError>;
}

/// A validated sink of one kind.
pub trait SinkComponent {
    /// The sink in a few words, for `check -c`.
    fn describe(&self) -> String;
    /// What `check -c` reaches for this sink (InfluxDB's `/ping`, a token variable) and the result; `None`
    /// for a sink that only serves.
    fn check<'a>(
        &'a self,
        env: &'a dyn Env,
    ) -> BoxFuture<'a, Option<(String, Result<&'static str, Problem>)>> {
        let _ = env;
        Box::pin(async { None })
    }
    /// The sink at work, with the server it runs (an exporter, a page) already listening.
    fn build<'a>(&'a self, context: &'a SinkContext<'a>) -> BoxFuture<'a, Result<BuiltSink, SinkBuildError>>;
}

/// What the pipeline gives every sink it builds.
pub struct SinkContext<'a> {
    pub id: &'a str,
    /// Secrets (tokens) come from here, never from the file.
    pub env: &'a dyn Env,
    /// The process's Kafka handle (the alerts sink writes its events with it).
    pub kafka: Arc<KafkaHandle>,
    /// What becomes of a topic the sink needs (its alerts topic) that the cluster does not have.
    pub topic_creation: TopicCreation,
    pub stop: Stop,
}

/// A built sink.
pub struct BuiltSink {
    pub deliver: Box<dyn Deliver>,
    /// The server the sink runs, with its address, already serving until stop.
    pub server: Option<(SocketAddr, tokio::task::JoinHandle<()>)>,
}

/// Why a sink could not be built from a valid config.
#[derive(Debug, thiserror::Error)]
pub enum SinkBuildError {
    /// What it needs from the environment is missing (exit code 2); the message says what to set.
    #[error("{0}")]
    Config(String),
    /// Its HTTP client cannot be built (exit code 2).
    #[error(transparent)]
    Client(#[from] HttpClientError),
    /// The server it runs cannot listen (a port in use; exit code 1).
    #[error(transparent)]
    Listen(#[from] ListenError),
}

/// What every sink is to the runner.
pub trait Deliver: Send + Sync {
    /// The record schemas (`semaphore-schema` header values) it takes; anything else on its topics is
    /// dead-lettered as the wrong schema.
    fn accepts(&self) -> &'static [&'static str];
    /// Work before the first batch, retried by the runner until it succeeds (the alerts sink restores its
    /// state from its topic). The error is logged with its causes.
    fn prepare(&mut self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async { Ok(()) })
    }
    /// How long the runner waits for a record before it delivers an empty batch instead: for a sink whose
    /// work depends on time passing as well as on records (log alerts resolve when no line comes). `None`
    /// (the default): every batch holds records.
    fn idle_tick(&self) -> Option<Duration> {
        None
    }
    /// Accepts the batch, asks for it again later, or rejects it for the dead-letter topic.
    fn deliver<'a>(&'a mut self, batch: &'a [Accepted]) -> BoxFuture<'a, Result<(), SinkError>>;
    /// What it produced from an accepted batch but could not deliver onward (an alert webhook that failed
    /// every attempt), for the dead-letter topic with the reason.
    fn take_undelivered(&mut self) -> Vec<(ConsumedMessage, String)> {
        Vec::new()
    }
}

/// The read keys, checked: id (unique among sinks), topics, group, start, batch size, dead-letter topic.
pub fn validate_reading<F: SinkFile>(
    file: &F,
    validation: &mut Validation<'_>,
    at: &At,
) -> Result<(String, SinkReading), ConfigError> {
    let keys = file.reading();
    let id = validation.unique_id(at, keys.id)?;
    let topics: Vec<String> = match keys.topics {
        None => F::DEFAULT_TOPICS
            .iter()
            .map(|topic| (*topic).to_owned())
            .collect(),
        // `topics = []` reads as "no topics", yet would read the defaults.
        Some(topics) if topics.is_empty() => {
            return Err(validation.invalid(
                at.key("topics"),
                format!(
                    "an empty list would mean the default ({}); remove the key for the default",
                    F::DEFAULT_TOPICS.join(", ")
                ),
            ));
        }
        Some(topics) => topics.clone(),
    };
    for name in &topics {
        validation.topic(at.key("topics"), &Some(name.clone()), "")?;
    }
    let start = match keys.start.as_deref() {
        None | Some("earliest") => ReadStart::GroupFromEarliest,
        Some("latest") => ReadStart::GroupFromLatest,
        Some(other) => {
            return Err(validation.invalid(at.key("start"), format!("{other:?}: use earliest or latest")));
        }
    };
    let batch_size = keys.batch_size.unwrap_or(F::DEFAULT_BATCH);
    if !(1..=100_000).contains(&batch_size) {
        return Err(validation.invalid(at.key("batch_size"), "must be between 1 and 100000"));
    }
    let reading = SinkReading {
        group: keys.group.clone().unwrap_or_else(|| format!("semaphore-{id}")),
        topics,
        start,
        batch_size,
        linger: Duration::from_millis(100),
        dead_letter_topic: validation.topic(
            at.key("dead_letter_topic"),
            keys.dead_letter_topic,
            DEAD_LETTER_TOPIC,
        )?,
    };
    Ok((id, reading))
}
