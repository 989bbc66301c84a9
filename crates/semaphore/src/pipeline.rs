//! The topology of `semaphore run`: build every output, source and sink the config declares, start them, and
//! on the stop signal drain in order: sources stop polling (a window being written is finished), sinks finish
//! the batch they deliver (and commit it), Kafka is flushed, then the servers and the embedded broker stop. What is still running when the grace period
//! ends is aborted and named in the log.
//!
//! `main` reads as: telemetry → config → [`Pipeline::start`] (bind, log addresses) → [`Pipeline::wait`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use semaphore_meraki::RateBudget;
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::bus::config::KafkaConfigError;
use crate::bus::contact::{ContactError, KafkaRefusal};
use crate::bus::embedded::{BrokerStorage, EmbeddedBroker, EmbeddedBrokerError};
use crate::bus::handle::{KafkaHandle, KafkaHandleError};
use crate::bus::producer::ProducerError;
use crate::bus::readback::{MetadataClientError, ProbeError};
use crate::config::{Config, ConfigError};
use crate::device_identity::DeviceDirectory;
use crate::env::Env;
use crate::http_server::ListenError;
use crate::outputs::kafka::{KafkaOutputConfig, KafkaSpool};
use crate::outputs::{Output, OutputContext, Outputs};
use crate::shutdown::{Stop, StopTrigger, stop_pair};
use crate::sinks::component::{SinkBuildError, SinkContext};
use crate::sinks::runner::SinkRunner;
use crate::sinks::sink::HttpClientError;
use crate::sources::{BuildError, SourceConfig, SourceContext, SourceFailure};
use crate::spool::SpoolError;
use crate::telemetry::Telemetry;

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// One cycle of every source, then exit (`publish --once`).
    pub once: bool,
    /// How long the drain may take after the stop signal.
    pub grace: Duration,
    /// Keep the embedded broker's data in a temporary database (demo).
    pub embedded_memory: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            once: false,
            grace: DEFAULT_GRACE,
            embedded_memory: false,
        }
    }
}

/// Ten seconds: enough for librdkafka to flush a healthy cluster's queue, short enough for service managers.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// Why the pipeline did not start, or did not end cleanly. Each variant's doc says its exit code; variants
/// that name a setting keep it in a field of its own, so `publish` can name its flag instead.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The configuration or environment cannot work (exit code 2); the message says what to change.
    #[error("{0}")]
    Config(String),
    /// The configuration is not valid (exit code 2).
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The data directory cannot be created (exit code 2). The message names the cause before the setting,
    /// so it says the cause itself; `error_text::one_line` does not repeat it.
    #[error("cannot create the data directory {path}: {source}; set {setting}")]
    DataDir {
        path: PathBuf,
        setting: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The Kafka connection settings cannot work (exit code 2).
    #[error(transparent)]
    KafkaConfig(#[from] KafkaConfigError),
    /// The producer cannot be created from these settings (exit code 2).
    #[error(transparent)]
    Producer(#[from] ProducerError),
    /// The Kafka client for read-back and probes cannot be created (exit code 2).
    #[error(transparent)]
    KafkaClient(#[from] MetadataClientError),
    /// A sink's HTTP client cannot be built (exit code 2).
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
    /// Something the command runs besides the pipeline could not be started (exit code 1).
    #[error("cannot start {what}")]
    Start {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The embedded broker could not be started (exit code 1).
    #[error("{source}; or set {setting} to use a cluster")]
    EmbeddedBroker {
        setting: &'static str,
        #[source]
        source: EmbeddedBrokerError,
    },
    /// With `--once`, Kafka did not answer at start (exit code 1).
    #[error("cannot reach Kafka at {bootstrap}: {source}; --once writes nothing without it")]
    KafkaUnreachable {
        bootstrap: String,
        #[source]
        source: ProbeError,
    },
    /// Kafka refuses the connection for good at start: credentials or a certificate (exit code 1). The
    /// message names the fix.
    #[error(transparent)]
    KafkaRefused(KafkaRefusal),
    /// A server (admin, exporter, dashboard) cannot listen where its setting says (exit code 1).
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// The spool under the data directory cannot be opened (exit code 1); the message names the file.
    #[error(
        "cannot open the Kafka output's spool: {0}; fix or move the file it names, or set [outputs.kafka] spool_max_bytes = 0 to run without a spool"
    )]
    Spool(Box<SpoolError>),
    /// The drain ran out of time with records not yet acknowledged (exit code 1); they are written again at
    /// the next start.
    #[error("{0}")]
    Incomplete(String),
    /// A source ended on its own: Meraki refused it for good, or its `--once` cycle left work undone (exit
    /// code 1).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Sources(Vec<SourceFailure>),
    /// A component could not be built: what it needs from the environment is missing (exit code 2).
    #[error("{component}")]
    Build {
        component: String,
        #[source]
        error: BuildError,
    },
}

impl From<KafkaHandleError> for PipelineError {
    fn from(error: KafkaHandleError) -> Self {
        match error {
            KafkaHandleError::Producer(error) => PipelineError::Producer(error),
            KafkaHandleError::MetadataClient(error) => PipelineError::KafkaClient(error),
        }
    }
}

/// A started pipeline.
pub struct Pipeline {
    /// Where Kafka clients connect (the embedded broker's address when it runs).
    pub kafka_bootstrap: Option<String>,
    pub embedded_broker: Option<SocketAddr>,
    pub admin_address: Option<SocketAddr>,
    /// The live web dashboard, when `[sinks.dashboard]` is configured.
    pub dashboard_address: Option<SocketAddr>,
    pub telemetry: Arc<Telemetry>,
    pub outputs: Arc<Outputs>,
    /// The Kafka handle (producer, topic admin) the Kafka output and the sinks share, flushed by the drain.
    kafka: Option<Arc<KafkaHandle>>,
    sources: Vec<(String, tokio::task::JoinHandle<()>)>,
    /// Each source's outcome, sent when it ends.
    source_outcomes: mpsc::UnboundedReceiver<Result<(), SourceFailure>>,
    once: bool,
    sinks: Vec<(String, tokio::task::JoinHandle<()>)>,
    /// The spool's replayer: the drain lets it finish the batch it is sending.
    replayer: Option<tokio::task::JoinHandle<()>>,
    helpers: Vec<tokio::task::JoinHandle<()>>,
    stop_trigger: StopTrigger,
    broker: Option<EmbeddedBroker>,
    grace: Duration,
}

/// The Kafka side of a pipeline: the embedded broker when no brokers are configured, and the handle the
/// Kafka output and the sinks share.
#[derive(Default)]
struct KafkaSide {
    broker: Option<EmbeddedBroker>,
    handle: Option<Arc<KafkaHandle>>,
}

/// The running sources, and the channel each reports its outcome on.
type StartedSources = (
    Vec<(String, tokio::task::JoinHandle<()>)>,
    mpsc::UnboundedReceiver<Result<(), SourceFailure>>,
);

impl Pipeline {
    pub async fn start(config: Config, env: &dyn Env, options: RunOptions) -> Result<Self, PipelineError> {
        let telemetry = Telemetry::new();
        let (stop_trigger, stop) = stop_pair();
        std::fs::create_dir_all(&config.data_dir).map_err(|source| PipelineError::DataDir {
            path: config.data_dir.clone(),
            setting: "data_dir or SEMAPHORE_DATA_DIR",
            source,
        })?;
        let mut helpers = Vec::new();
        let kafka = start_kafka(&config, env, &options, &telemetry).await?;
        if let Some(handle) = &kafka.handle {
            helpers.push(tokio::spawn(handle.clone().probe(stop.clone())));
        }
        let spool = open_spool(&config, kafka.handle.as_ref(), &telemetry)?;
        let outputs = Arc::new(Outputs::new(
            build_outputs(&config, kafka.handle.as_ref(), spool.as_ref()),
            telemetry.clone(),
        ));
        tracing::info!(outputs = ?outputs.names(), "Outputs ready.");
        let replayer = start_replayer(spool, &outputs, &stop);
        let (sources, source_outcomes) = start_sources(&config, env, &options, &outputs, &telemetry, &stop)?;
        let (sinks, dashboard_address) = start_sinks(
            &config,
            env,
            kafka.handle.as_ref(),
            &telemetry,
            &stop,
            &mut helpers,
        )
        .await?;
        let mut admin_address = None;
        if let Some(listen) = config.admin_listen {
            let (address, handle) = crate::http_server::bind_setting(
                listen,
                crate::admin_http::router(telemetry.clone()),
                stop.clone(),
                "the admin server",
                "[admin] listen",
            )
            .await?;
            tracing::info!(%address, "Admin server listening: /metrics, /healthz, /readyz.");
            helpers.push(handle);
            admin_address = Some(address);
        }
        tracing::info!(sources = sources.len(), sinks = sinks.len(), data_dir = %config.data_dir.display(), "semaphore is running.");
        Ok(Self {
            kafka_bootstrap: kafka.handle.as_ref().map(|handle| handle.bootstrap().to_owned()),
            embedded_broker: kafka.broker.as_ref().map(EmbeddedBroker::address),
            admin_address,
            dashboard_address,
            telemetry,
            outputs,
            kafka: kafka.handle,
            sources,
            source_outcomes,
            once: options.once,
            sinks,
            replayer,
            helpers,
            stop_trigger,
            broker: kafka.broker,
            grace: options.grace,
        })
    }

    /// Runs until `shutdown` completes, standard output's reader goes away, or (with `--once`) every source
    /// finished its cycle, or a source failed for good; then drains within the grace period. An error says a
    /// source failed or the grace period ended with records not acknowledged.
    pub async fn wait(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), PipelineError> {
        tokio::pin!(shutdown);
        // A clone, as the loop borrows `self`. Dropped before the drain: the drain's own drop of the outputs
        // must be the last, so the producer goes before the embedded broker.
        let outputs = self.outputs.clone();
        // Sources end on their own only with --once or when they fail; sinks alone run until the signal.
        let mut running = self.sources.len();
        let mut failures = Vec::new();
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                // `| head` exited: what the process writes reaches nobody, so it ends as on a signal (exit 0).
                () = outputs.stdout_closed() => break,
                outcome = self.source_outcomes.recv(), if running > 0 => {
                    // None: every source task is gone (one panicked), so none is left to wait for.
                    let Some(outcome) = outcome else { break };
                    running -= 1;
                    if let Err(failure) = outcome {
                        tracing::error!(error = %failure, "A source stopped.");
                        failures.push(failure);
                        // A daemon does not go on with a source missing; --once lets the others finish.
                        if !self.once {
                            break;
                        }
                    }
                    if running == 0 {
                        break;
                    }
                }
            }
        }
        drop(outputs);
        let drained = self.drain().await;
        if failures.is_empty() {
            drained
        } else {
            Err(PipelineError::Sources(failures))
        }
    }

    async fn drain(self) -> Result<(), PipelineError> {
        let deadline = tokio::time::Instant::now() + self.grace;
        self.stop_trigger.trigger();
        let mut unfinished = Vec::new();
        for (id, mut handle) in self.sources {
            if handle.is_finished() {
                continue;
            }
            if tokio::time::timeout_at(deadline, &mut handle).await.is_err() {
                handle.abort();
                tracing::warn!(source = %id, "Source still writing at the end of the grace period; stopped it (its window is resumed at the next start, nothing is lost).");
                unfinished.push(format!("source {id} was still writing"));
            }
        }
        for (id, mut handle) in self.sinks {
            if tokio::time::timeout_at(deadline, &mut handle).await.is_err() {
                handle.abort();
                tracing::warn!(sink = %id, "Sink still delivering at the end of the grace period; stopped it (its batch is not committed and is read again at the next start).");
                unfinished.push(format!("sink {id} was still delivering"));
            }
        }
        if let Some(mut replayer) = self.replayer
            && tokio::time::timeout_at(deadline, &mut replayer).await.is_err()
        {
            replayer.abort();
            tracing::warn!(
                "The spool's replay was still sending at the end of the grace period; its batch stays spooled and is sent at the next start."
            );
            unfinished.push("the spool's replay was still sending".to_owned());
        }
        if let Some(kafka) = &self.kafka {
            unfinished.extend(flush_kafka(kafka, deadline).await);
        }
        for helper in self.helpers {
            helper.abort();
            let _ = helper.await;
        }
        self.outputs.close().await;
        // The producer goes before the embedded broker, so its last act is not a burst of "all brokers down":
        // the Kafka output holds the handle too, and the probe (a helper) is gone already.
        drop(self.outputs);
        drop(self.kafka);
        if let Some(broker) = self.broker {
            broker.stop().await;
            tracing::info!("Embedded Kafka broker stopped.");
        }
        tracing::info!("semaphore stopped.");
        if unfinished.is_empty() {
            Ok(())
        } else {
            Err(PipelineError::Incomplete(format!(
                "stopped at the end of the {:?} grace period: {} (resumed at the next start; raise --grace-period-s to wait longer)",
                self.grace,
                unfinished.join(", ")
            )))
        }
    }
}

/// Starts what Kafka needs: the embedded broker when no brokers are configured, then the handle (producer,
/// metadata, topic admin) that the Kafka output writes through and the sinks read and dead-letter through.
/// Nothing when neither is configured; the Kafka output itself is built with the other outputs, only when
/// the config declares it.
async fn start_kafka(
    config: &Config,
    env: &dyn Env,
    options: &RunOptions,
    telemetry: &Arc<Telemetry>,
) -> Result<KafkaSide, PipelineError> {
    let declared = config.kafka_output().is_some();
    if !declared && config.sinks.is_empty() {
        return Ok(KafkaSide::default());
    }
    let broker = start_embedded_broker(config, options).await?;
    let embedded_address = broker.as_ref().map(|broker| broker.address().to_string());
    let kafka = config.kafka.resolve(env, embedded_address.as_deref())?;
    let handle = Arc::new(KafkaHandle::new(kafka, telemetry.clone())?);
    first_contact(&handle, options.once && declared).await?;
    telemetry.kafka_required.store(true, Ordering::Relaxed);
    Ok(KafkaSide {
        broker,
        handle: Some(handle),
    })
}

/// Waits for Kafka's first answer (at most the probe's 10 s), so that credentials or a certificate Kafka
/// refuses end the start at once, with the fix named, instead of a producer, a probe and every sink
/// retrying for ever. Kafka not answering at all ends it only when `required` (`--once` with the Kafka
/// output: one cycle cannot wait for Kafka to come back, so it says so now rather than after the cycle); a
/// daemon starts anyway, and its probe reports the outage.
async fn first_contact(handle: &KafkaHandle, required: bool) -> Result<(), PipelineError> {
    match handle.reach().await {
        Ok(()) => Ok(()),
        Err(ContactError::Refused(refusal)) => Err(PipelineError::KafkaRefused(refusal)),
        Err(source) if required => Err(PipelineError::KafkaUnreachable {
            bootstrap: handle.bootstrap().to_owned(),
            source,
        }),
        Err(_) => Ok(()),
    }
}

/// The embedded broker, when the config names no brokers (`[kafka] brokers` nor `client.properties`).
async fn start_embedded_broker(
    config: &Config,
    options: &RunOptions,
) -> Result<Option<EmbeddedBroker>, PipelineError> {
    if config.kafka.brokers.is_some() || config.kafka.client_properties.is_some() {
        return Ok(None);
    }
    let storage = if options.embedded_memory {
        BrokerStorage::Memory
    } else {
        BrokerStorage::Directory(config.data_dir.clone())
    };
    let started = EmbeddedBroker::start(config.embedded_listen, storage)
        .await
        .map_err(|source| PipelineError::EmbeddedBroker {
            setting: "[kafka] brokers",
            source,
        })?;
    let address = started.address();
    tracing::info!(%address, "No Kafka brokers configured: started the embedded broker; other Kafka clients can use --brokers {address}.");
    Ok(Some(started))
}

/// Waits until `deadline` for Kafka to acknowledge what the producer holds; what was left, for the drain's
/// list of unfinished work.
async fn flush_kafka(kafka: &KafkaHandle, deadline: tokio::time::Instant) -> Option<String> {
    let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
    match kafka.flush(remaining).await {
        Ok(()) => {
            tracing::info!("Kafka producer flushed.");
            None
        }
        Err(pending) => {
            tracing::warn!(
                pending,
                "Kafka did not acknowledge every record within the grace period; their windows are written again at the next start."
            );
            Some(format!("{pending} records not acknowledged by Kafka"))
        }
    }
}

/// The Kafka output's spool under the data directory, when the Kafka output is declared with one; its
/// counters on `/metrics` and `/readyz`.
fn open_spool(
    config: &Config,
    kafka: Option<&Arc<KafkaHandle>>,
    telemetry: &Telemetry,
) -> Result<Option<Arc<KafkaSpool>>, PipelineError> {
    let (Some(output), Some(_)) = (config.kafka_output(), kafka) else {
        return Ok(None);
    };
    let Some(settings) = output.spool.clone() else {
        return Ok(None);
    };
    let directory = config.data_dir.join("spool").join("kafka");
    let spool = KafkaSpool::open(&directory, settings, output.spool_after)
        .map_err(|error| PipelineError::Spool(Box::new(error)))?;
    telemetry.register_spool(spool.stats());
    Ok(Some(Arc::new(spool)))
}

/// The spool's replayer, on the Kafka output's handle and topic settings.
fn start_replayer(
    spool: Option<Arc<KafkaSpool>>,
    outputs: &Outputs,
    stop: &Stop,
) -> Option<tokio::task::JoinHandle<()>> {
    let (spool, kafka) = (spool?, outputs.kafka()?);
    Some(tokio::spawn(spool.replay(
        kafka.handle().clone(),
        kafka.topic_creation(),
        stop.clone(),
    )))
}

/// Every output the config declares, each built by its kind; the Kafka output on the handle [`start_kafka`]
/// made, with the spool [`open_spool`] opened.
fn build_outputs(
    config: &Config,
    kafka: Option<&Arc<KafkaHandle>>,
    spool: Option<&Arc<KafkaSpool>>,
) -> Vec<Arc<dyn Output>> {
    let context = OutputContext { kafka, spool };
    config
        .outputs
        .iter()
        .map(|output| output.build(&context))
        .collect()
}

/// Builds and spawns every source; each reports how it ended on the returned channel.
fn start_sources(
    config: &Config,
    env: &dyn Env,
    options: &RunOptions,
    outputs: &Arc<Outputs>,
    telemetry: &Arc<Telemetry>,
    stop: &Stop,
) -> Result<StartedSources, PipelineError> {
    let context = SourceContext {
        stop: stop.clone(),
        telemetry: telemetry.clone(),
        outputs: outputs.clone(),
        once: options.once,
        data_dir: config.data_dir.clone(),
        env,
        meraki_url: config.meraki_url.clone(),
        meraki_timeout: config.meraki_timeout,
        meraki_budget: Arc::new(RateBudget::default()),
        devices: device_directory(config),
    };
    let (sender, outcomes) = mpsc::unbounded_channel();
    let mut sources = Vec::new();
    for source in &config.sources {
        let running = source.build(&context).map_err(|error| PipelineError::Build {
            component: format!("source {}", source.id()),
            error,
        })?;
        let sender = sender.clone();
        let task = tokio::spawn(async move {
            let _ = sender.send(running.await);
        });
        sources.push((source.id().to_owned(), task));
    }
    // `/readyz` waits for each source that polls Meraki to reach it.
    telemetry.expect_sources(
        config
            .sources
            .iter()
            .filter(|source| source.uses_meraki())
            .map(|source| source.id()),
    );
    Ok((sources, outcomes))
}

/// The device directory every source shares: the `[inventory] file`'s devices, and the Meraki sources' when
/// a source names its senders from it and `[inventory] meraki` lets them.
fn device_directory(config: &Config) -> Arc<DeviceDirectory> {
    let inventory = &config.inventory;
    if let Some(file) = &inventory.file {
        tracing::info!(file = %file.display(), devices = inventory.devices.len(), "Device inventory read.");
    }
    // Meraki's devices are read and kept only for a source that names its senders.
    let looked_up = config.sources.iter().any(SourceConfig::uses_device_identity);
    let wants_meraki = inventory.meraki && looked_up;
    Arc::new(DeviceDirectory::new(inventory.devices.clone(), wants_meraki))
}

/// Builds and spawns every sink (the servers they run start listening first); the dashboard's address when
/// there is one.
async fn start_sinks(
    config: &Config,
    env: &dyn Env,
    kafka: Option<&Arc<KafkaHandle>>,
    telemetry: &Arc<Telemetry>,
    stop: &Stop,
    helpers: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<(Vec<(String, tokio::task::JoinHandle<()>)>, Option<SocketAddr>), PipelineError> {
    let mut sinks = Vec::new();
    let mut dashboard_address = None;
    // The sinks' topics (read, dead letters, alerts) are created as the Kafka output creates its own:
    // `[outputs.kafka]`'s settings when it is declared, their defaults otherwise.
    let topic_creation = config
        .kafka_output()
        .map(KafkaOutputConfig::topic_creation)
        .unwrap_or_default();
    for sink in &config.sinks {
        let kafka = kafka
            .expect("the Kafka handle is made whenever a sink is configured")
            .clone();
        let context = SinkContext {
            id: &sink.id,
            env,
            kafka: kafka.clone(),
            topic_creation,
            stop: stop.clone(),
        };
        // Every line a sink logs, from its start on, carries its id and kind.
        let span = tracing::error_span!("sink", id = %sink.id, kind = %sink.kind.table());
        let built =
            sink.kind
                .build(&context)
                .instrument(span.clone())
                .await
                .map_err(|error| match error {
                    SinkBuildError::Config(reason) => PipelineError::Config(reason),
                    SinkBuildError::Client(error) => PipelineError::HttpClient(error),
                    SinkBuildError::Listen(error) => PipelineError::Listen(error),
                })?;
        if let Some((address, handle)) = built.server {
            helpers.push(handle);
            if sink.kind.table() == "dashboard" {
                dashboard_address = Some(address);
            }
        }
        let runner = SinkRunner {
            id: sink.id.clone(),
            reading: sink.reading.clone(),
            kafka,
            topic_creation,
            kind: sink.kind.table(),
            sink: built.deliver,
            telemetry: telemetry.clone(),
        };
        sinks.push((
            sink.id.clone(),
            tokio::spawn(runner.run(stop.clone()).instrument(span)),
        ));
    }
    Ok((sinks, dashboard_address))
}
