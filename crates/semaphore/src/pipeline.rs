//! The topology of `semaphore run`: build every output and source the config declares, start them, and on
//! the stop signal drain in order: sources stop polling (a window being written is finished), Kafka is
//! flushed, then the admin server and the embedded broker stop. What is still running when the grace period
//! ends is aborted and named in the log.
//!
//! `main` reads as: telemetry → config → [`Pipeline::start`] (bind, log addresses) → [`Pipeline::wait`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use semaphore_meraki::{Client, MerakiError, RateBudget};

use crate::bus::embedded::{BrokerStorage, EmbeddedBroker};
use crate::bus::producer::Producer;
use crate::config::{Config, WindowedSource};
use crate::env::Env;
use crate::outputs::kafka::KafkaOutput;
use crate::outputs::lines::{LinesOutput, LinesTarget};
use crate::outputs::syslog::SyslogOutput;
use crate::outputs::{Output, Outputs};
use crate::shutdown::{StopTrigger, stop_pair};
use crate::sources::meraki_clients::ClientsSource;
use crate::sources::meraki_history::HistorySource;
use crate::sources::meraki_uplinks::UplinksSource;
use crate::sources::window_writer::WindowWriter;
use crate::telemetry::Telemetry;
use crate::watermark::WatermarkStore;

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

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The configuration or environment cannot work (exit code 2).
    #[error("{0}")]
    Config(String),
    /// Something the configuration names could not be started (exit code 1).
    #[error("{0}")]
    Start(String),
    /// The drain ran out of time with records not yet acknowledged (exit code 1); they are written again at
    /// the next start.
    #[error("{0}")]
    Incomplete(String),
}

/// A started pipeline.
pub struct Pipeline {
    /// Where Kafka clients connect (the embedded broker's address when it runs).
    pub kafka_bootstrap: Option<String>,
    pub embedded_broker: Option<SocketAddr>,
    pub admin_address: Option<SocketAddr>,
    pub telemetry: Arc<Telemetry>,
    pub outputs: Arc<Outputs>,
    sources: Vec<(String, tokio::task::JoinHandle<()>)>,
    helpers: Vec<tokio::task::JoinHandle<()>>,
    stop_trigger: StopTrigger,
    broker: Option<EmbeddedBroker>,
    grace: Duration,
}

impl Pipeline {
    pub async fn start(config: Config, env: &dyn Env, options: RunOptions) -> Result<Self, PipelineError> {
        let telemetry = Telemetry::new();
        let (stop_trigger, stop) = stop_pair();
        std::fs::create_dir_all(&config.data_dir).map_err(|error| {
            PipelineError::Config(format!(
                "cannot create the data directory {}: {error}; set data_dir or SEMAPHORE_DATA_DIR",
                config.data_dir.display()
            ))
        })?;

        let mut helpers = Vec::new();
        let mut outputs = Vec::new();
        let mut broker = None;
        let mut kafka_bootstrap = None;
        if config.outputs.kafka.is_some() {
            let embedded = config.kafka.brokers.is_none() && config.kafka.client_properties.is_none();
            let mut embedded_address = None;
            if embedded {
                let storage = if options.embedded_memory {
                    BrokerStorage::Memory
                } else {
                    BrokerStorage::Directory(config.data_dir.clone())
                };
                let started = EmbeddedBroker::start(config.embedded_listen, storage)
                    .await
                    .map_err(|error| {
                        PipelineError::Start(format!("{error}; or set [kafka] brokers to use a cluster"))
                    })?;
                let address = started.address();
                tracing::info!(%address, "No Kafka brokers configured: started the embedded broker; other Kafka clients can use --brokers {address}.");
                embedded_address = Some(address.to_string());
                broker = Some(started);
            }
            let kafka = config
                .kafka
                .resolve(env, embedded_address.as_deref())
                .map_err(|error| PipelineError::Config(error.to_string()))?;
            kafka_bootstrap = Some(kafka.bootstrap.clone());
            let producer = Producer::new(&kafka).map_err(|error| PipelineError::Config(error.to_string()))?;
            *telemetry
                .producer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(producer.metrics_handle());
            let settings = config.outputs.kafka.clone().expect("checked above");
            let output = Arc::new(
                KafkaOutput::new(
                    kafka,
                    producer,
                    settings.create_topics,
                    settings.partitions,
                    telemetry.clone(),
                )
                .map_err(PipelineError::Config)?,
            );
            telemetry.kafka_required.store(true, Ordering::Relaxed);
            helpers.push(tokio::spawn(output.clone().probe(stop.clone())));
            outputs.push(Output::Kafka(output));
        }
        for syslog in &config.outputs.syslog {
            outputs.push(Output::Syslog(SyslogOutput::new(
                syslog.endpoint.clone(),
                syslog.format.clone(),
                syslog.ca_file.clone(),
            )));
        }
        if config.outputs.stdout {
            outputs.push(Output::Lines(LinesOutput::new(LinesTarget::Stdout)));
        }
        for path in &config.outputs.files {
            outputs.push(Output::Lines(LinesOutput::new(LinesTarget::File(path.clone()))));
        }
        let outputs = Arc::new(Outputs::new(outputs, telemetry.clone()));
        tracing::info!(outputs = ?outputs.names(), "Outputs ready.");

        // One budget for every client of the process: Meraki counts requests per organization, not per client.
        let budget = Arc::new(RateBudget::default());
        let new_client = || -> Result<Client, PipelineError> {
            let client = crate::meraki::client_builder(config.meraki_url.as_deref(), env)
                .and_then(|builder| {
                    builder
                        .budget(budget.clone())
                        .timeout(config.meraki_timeout)
                        .build()
                })
                .map_err(|error: MerakiError| PipelineError::Config(error.to_string()))?;
            telemetry.register_meraki(&client);
            Ok(client)
        };

        let mut sources = Vec::new();
        for source in &config.uplinks {
            let id = source.settings.id.clone();
            let runner = UplinksSource {
                settings: source.settings.clone(),
                poll_client: new_client()?,
                inventory_client: new_client()?,
                writer: window_writer(&config, source, &id, &outputs, &telemetry)?,
                telemetry: telemetry.clone(),
                once: options.once,
            };
            sources.push((id, tokio::spawn(runner.run(stop.clone()))));
        }
        for source in &config.history {
            let id = source.settings.id.clone();
            let runner = HistorySource {
                settings: source.settings.clone(),
                client: new_client()?,
                writer: window_writer(&config, source, &id, &outputs, &telemetry)?,
                telemetry: telemetry.clone(),
                once: options.once,
            };
            sources.push((id, tokio::spawn(runner.run(stop.clone()))));
        }
        for settings in &config.clients {
            let runner = ClientsSource {
                settings: settings.clone(),
                client: new_client()?,
                outputs: outputs.clone(),
                telemetry: telemetry.clone(),
                once: options.once,
            };
            sources.push((settings.id.clone(), tokio::spawn(runner.run(stop.clone()))));
        }

        let mut admin_address = None;
        if let Some(listen) = config.admin_listen {
            let (address, serve) =
                crate::admin_http::bind(listen, telemetry.clone())
                    .await
                    .map_err(|error| {
                        PipelineError::Start(format!(
                            "cannot listen on {listen} for the admin server: {error}; set [admin] listen"
                        ))
                    })?;
            tracing::info!(%address, "Admin server listening: /metrics, /healthz, /readyz.");
            helpers.push(serve(stop.clone()));
            admin_address = Some(address);
        }
        tracing::info!(sources = sources.len(), data_dir = %config.data_dir.display(), "semaphore is running.");
        Ok(Self {
            kafka_bootstrap,
            embedded_broker: broker.as_ref().map(EmbeddedBroker::address),
            admin_address,
            telemetry,
            outputs,
            sources,
            helpers,
            stop_trigger,
            broker,
            grace: options.grace,
        })
    }

    /// Runs until `shutdown` completes (or, with `--once`, until every source finished its cycle), then
    /// drains within the grace period. An error says the grace period ended with records not acknowledged.
    pub async fn wait(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), PipelineError> {
        let sources_done = async {
            for (_, handle) in &mut self.sources {
                let _ = handle.await;
            }
        };
        tokio::select! {
            () = shutdown => {}
            () = sources_done => {}
        }
        self.drain().await
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
        if let Some(kafka) = self.outputs.kafka() {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let producer = kafka.producer().clone();
            let flushed = tokio::task::spawn_blocking(move || producer.flush(remaining))
                .await
                .expect("flush does not panic");
            match flushed {
                Ok(()) => tracing::info!("Kafka producer flushed."),
                Err(pending) => {
                    tracing::warn!(
                        pending,
                        "Kafka did not acknowledge every record within the grace period; their windows are written again at the next start."
                    );
                    unfinished.push(format!("{pending} records not acknowledged by Kafka"));
                }
            }
        }
        for helper in self.helpers {
            helper.abort();
            let _ = helper.await;
        }
        self.outputs.close().await;
        // The producer goes before the embedded broker, so its last act is not a burst of "all brokers down".
        drop(self.outputs);
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

fn window_writer<S>(
    config: &Config,
    source: &WindowedSource<S>,
    id: &str,
    outputs: &Arc<Outputs>,
    telemetry: &Arc<Telemetry>,
) -> Result<WindowWriter, PipelineError> {
    let store = WatermarkStore::open(&config.data_dir, id)
        .map_err(|error| PipelineError::Config(error.to_string()))?;
    Ok(WindowWriter {
        source: id.to_owned(),
        topic: source.topic.clone(),
        key: source.key.clone(),
        store,
        outputs: outputs.clone(),
        telemetry: telemetry.clone(),
    })
}
