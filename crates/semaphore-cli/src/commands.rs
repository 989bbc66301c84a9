//! What each subcommand does, by calling the library; errors carry the exit code they map to.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use semaphore::bus::admin::{TopicAdmin, TopicAdminError};
use semaphore::bus::config::ResolvedKafka;
use semaphore::bus::consumer::{ConsumeError, ConsumeOptions};
use semaphore::bus::embedded::{BrokerStorage, EmbeddedBroker};
use semaphore::bus::format::OutputFormat;
use semaphore::bus::offset::StartOffset;
use semaphore::env::{Env, ProcessEnv};
use semaphore::meraki::MerakiReport;
use semaphore_meraki_sim::estate::MAX_ESTATE;
use semaphore_meraki_sim::{EstateShape, Faults, SimConfig, Simulator};
use serde_json::{Value, json};

use crate::demo::DemoOptions;
use semaphore::config::file::{
    AdminSection, ConfigFile, KafkaOutputFile, KafkaSection, MerakiSection, OutputsSection, SourcesSection,
    StdoutOutputFile, SyslogOutputFile,
};
use semaphore::config::{Config, SinkConfig, SinkKind};
use semaphore::pipeline::{Pipeline, PipelineError, RunOptions};
use semaphore::sinks::webhook::WebhookSettings;
use semaphore::sources::meraki_clients::ClientsSourceFile;
use semaphore::sources::meraki_uplinks::UplinksSourceFile;

use crate::cli::{
    BrokerArgs, CheckArgs, Cli, Command, ConsumeArgs, DemoArgs, KafkaArgs, PublishArgs, PublishOutput,
    PublishWhat, ReportFormat, RunArgs, SimulateArgs, TopicsAction, TopicsArgs,
};
use crate::{EXIT_CONFIG, EXIT_FAILURE, one_line};

/// An error and the exit code it maps to.
pub struct Failure {
    pub error: anyhow::Error,
    pub exit_code: u8,
}

fn config_error(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: error.into(),
        exit_code: EXIT_CONFIG,
    }
}

fn runtime_error(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: error.into(),
        exit_code: EXIT_FAILURE,
    }
}

pub async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Demo(args) => demo(args).await,
        Command::Run(args) => run_config(args).await,
        Command::Publish(args) => publish(args).await,
        Command::Simulate(args) => simulate(args).await,
        Command::Check(args) => check(args).await,
        Command::Broker(args) => broker(args).await,
        Command::Topics(args) => topics(args).await,
        Command::Consume(args) => consume(args).await,
    }
}

async fn simulate(args: SimulateArgs) -> Result<(), Failure> {
    let mut faults = Faults::default();
    for assignment in &args.faults {
        faults
            .set(assignment)
            .map_err(|reason| config_error(anyhow::anyhow!("--fault {reason}")))?;
    }
    let shape = EstateShape {
        seed: args.seed,
        organizations: args.organizations,
        networks: args.networks,
        appliances: args.appliances,
        clients_per_network: args.clients_per_network,
    };
    check_estate(&shape)?;
    let config = SimConfig {
        shape,
        rate_limit: args.rate_limit,
        api_key: args.api_key,
        faults,
        absolute_links: args.absolute_links,
    };
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| {
            let message = format!(
                "cannot listen on {}: {error}; is another program listening there? (port 0 picks a free one)",
                args.listen
            );
            runtime_error(anyhow::Error::new(error).context(message))
        })?;
    let address = listener.local_addr().map_err(runtime_error)?;
    let simulator = Arc::new(Simulator::new(config));
    let summary = simulator.estate.summary();
    let appliances: usize = summary.values().map(|(_, appliances)| appliances).sum();
    tracing::info!(
        %address,
        organizations = summary.len(),
        appliances,
        seed = args.seed,
        "Meraki API simulator listening."
    );
    announce(|stdout| {
        writeln!(stdout, "Meraki API simulator: http://{address}/api/v1")?;
        for (organization_id, (networks, appliances)) in &summary {
            writeln!(
                stdout,
                "  organization {organization_id}: {networks} networks, {appliances} appliances"
            )?;
        }
        writeln!(
            stdout,
            "  admin: http://{address}/_sim/faults (GET/PUT), http://{address}/_sim/stats"
        )
    });
    semaphore_meraki_sim::serve(listener, simulator, shutdown)
        .await
        .map_err(runtime_error)?;
    tracing::info!("Meraki API simulator stopped.");
    Ok(())
}

/// The simulator holds its whole estate in memory: the flags bound each count, this bounds their product.
fn check_estate(shape: &EstateShape) -> Result<(), Failure> {
    if shape.size() <= MAX_ESTATE {
        return Ok(());
    }
    Err(config_error(anyhow::anyhow!(
        "the simulated estate is too large: {} organizations × ({} networks + {} appliances) is {}, at most {MAX_ESTATE} (lower --organizations or --appliances)",
        shape.organizations,
        shape.networks.max(1),
        shape.appliances,
        shape.size()
    )))
}

async fn check(args: CheckArgs) -> Result<(), Failure> {
    let mut meraki_url = args.meraki_url.clone();
    if let Some(path) = &args.config {
        let config = semaphore::config::load(path, &ProcessEnv).map_err(config_error)?;
        let mut report = check_config(path, &config).await;
        if config.source_count() == 0 {
            report
                .lines
                .push(format!("Meraki: not used (no sources in {})", path.display()));
            report.document["meraki"] = Value::Null;
        } else {
            // --meraki-url (or SEMAPHORE_MERAKI_URL) overrides the file's [meraki] url.
            meraki_url = meraki_url.or(config.meraki_url.clone());
            match reach_meraki(meraki_url.as_deref()).await {
                Ok(meraki) => {
                    report.lines.extend(meraki_lines(&meraki));
                    let mut document = serde_json::to_value(&meraki).map_err(runtime_error)?;
                    document["reached"] = Value::Bool(true);
                    report.document["meraki"] = document;
                }
                Err(failure) => {
                    report.document["meraki"] = json!({"reached": false, "error": one_line(&failure.error)});
                    report.problems.push(failure);
                }
            }
        }
        return report.finish(args.format);
    }
    let meraki = reach_meraki(meraki_url.as_deref()).await?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &meraki).map_err(runtime_error)?;
            writeln!(stdout).map_err(runtime_error)?;
        }
        ReportFormat::Text => {
            for line in meraki_lines(&meraki) {
                writeln!(stdout, "{line}").map_err(runtime_error)?;
            }
        }
    }
    Ok(())
}

/// Reaches Meraki as the sources will: the client from the URL or region and the key, then every organization
/// the key can see.
async fn reach_meraki(meraki_url: Option<&str>) -> Result<MerakiReport, Failure> {
    let client = semaphore::meraki::client(meraki_url, &ProcessEnv).map_err(config_error)?;
    semaphore::meraki::check(&client).await.map_err(|error| {
        runtime_error(
            anyhow::Error::new(error).context(format!("cannot reach Meraki at {}", client.base_url())),
        )
    })
}

/// What `check` prints about Meraki, line by line.
fn meraki_lines(report: &MerakiReport) -> Vec<String> {
    let mut lines = vec![format!("Meraki: reached {}", report.base_url)];
    for organization in &report.organizations {
        lines.push(format!(
            "  organization {} ({}): {} networks, {} devices, {} appliances",
            organization.id,
            organization.name,
            organization.networks,
            organization.devices,
            organization.appliances
        ));
    }
    let api = &report.api;
    lines.push(format!(
        "  API calls: {} requests, {} pages, {} rate-limited (429), {} retries",
        api.requests, api.pages, api.rate_limited, api.retries
    ));
    lines
}

/// Prints a server's start-up lines. A server keeps serving when nobody reads its stdout any more
/// (`| head -1`, a closed terminal): the lines are a courtesy, the log has the same facts.
fn announce(lines: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = lines(&mut stdout).and_then(|()| stdout.flush()) {
        tracing::debug!(%error, "Cannot print the start-up lines; serving anyway.");
    }
}

/// The embedded broker's default address: where `topics` and `consume` look when no brokers are given.
const EMBEDDED_DEFAULT: &str = "127.0.0.1:9092";

/// The `[kafka]` section the Kafka flags describe, so flags and config files share one validation.
fn kafka_section(args: &KafkaArgs) -> Result<KafkaSection, Failure> {
    let mut section = KafkaSection {
        brokers: args.brokers.clone(),
        security_protocol: args.security_protocol.clone(),
        sasl_mechanism: args.sasl_mechanism.clone(),
        ssl_ca_location: args.ssl_ca_location.clone(),
        client_properties: args.client_properties.clone(),
        ..Default::default()
    };
    for option in &args.librdkafka {
        let (key, value) = option.split_once('=').ok_or_else(|| {
            config_error(anyhow::anyhow!(
                "-X {option:?}: expected KEY=VALUE (a librdkafka option)"
            ))
        })?;
        section
            .librdkafka
            .insert(key.trim().to_owned(), value.trim().to_owned());
    }
    // Checked here so that a mistake names the flag, not the config key the section stands for.
    kafka_connection(&section)?;
    Ok(section)
}

fn kafka_connection(section: &KafkaSection) -> Result<semaphore::bus::config::KafkaConnection, Failure> {
    semaphore::config::kafka_connection(section)
        .map_err(|(key, reason)| config_error(anyhow::anyhow!("--{} {reason}", key.replace('_', "-"))))
}

fn kafka(args: &KafkaArgs) -> Result<ResolvedKafka, Failure> {
    let connection = kafka_connection(&kafka_section(args)?)?;
    connection
        .resolve(&ProcessEnv, Some(EMBEDDED_DEFAULT))
        .map_err(config_error)
}

fn pipeline_failure(error: PipelineError) -> Failure {
    match error {
        PipelineError::Config(_) | PipelineError::Build { .. } => config_error(error),
        PipelineError::Start(_) | PipelineError::Incomplete(_) | PipelineError::Sources(_) => {
            runtime_error(error)
        }
    }
}

async fn run_config(args: RunArgs) -> Result<(), Failure> {
    let config = semaphore::config::load(&args.config, &ProcessEnv).map_err(config_error)?;
    tracing::info!(config = %args.config.display(), sources = config.source_count(), "Config loaded.");
    let options = RunOptions {
        grace: Duration::from_secs(args.drain.grace_period_s),
        once: args.once,
        ..RunOptions::default()
    };
    run_pipeline(config, options).await
}

async fn run_pipeline(config: Config, options: RunOptions) -> Result<(), Failure> {
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    let pipeline = Pipeline::start(config, &ProcessEnv, options)
        .await
        .map_err(pipeline_failure)?;
    pipeline.wait(shutdown).await.map_err(pipeline_failure)
}

async fn publish(args: PublishArgs) -> Result<(), Failure> {
    let (common, initial_lookback, clients) = match &args.what {
        PublishWhat::LossLatency {
            common,
            initial_lookback,
        } => (common, Some(*initial_lookback), None),
        PublishWhat::Clients {
            common,
            filter,
            timespan,
        } => (common, None, Some((filter.clone(), *timespan))),
    };
    let interval = common
        .interval
        .unwrap_or(if clients.is_some() { 300 } else { 60 });
    let mut outputs = OutputsSection::default();
    let wanted = if common.outputs.is_empty() {
        vec![PublishOutput::Kafka]
    } else {
        common.outputs.clone()
    };
    for output in wanted {
        match output {
            PublishOutput::Kafka => outputs.kafka = Some(KafkaOutputFile::default()),
            PublishOutput::Syslog => outputs.syslog.push(SyslogOutputFile {
                endpoint: common.syslog.clone(),
                ca_file: common.syslog_ca.clone(),
                ..Default::default()
            }),
            PublishOutput::Stdout => outputs.stdout = Some(StdoutOutputFile::default()),
        }
    }
    let mut sources = SourcesSection::default();
    match clients {
        None => sources.meraki_uplinks.push(UplinksSourceFile {
            organizations: flag_list(&common.organizations),
            networks: flag_list(&common.networks),
            interval_s: Some(interval),
            initial_lookback_s: initial_lookback,
            topic: common.topic.clone(),
            key: common.key.clone(),
            ..Default::default()
        }),
        Some((filter, timespan)) => sources.meraki_clients.push(ClientsSourceFile {
            organizations: flag_list(&common.organizations),
            networks: flag_list(&common.networks),
            interval_s: Some(interval),
            timespan_s: Some(timespan),
            filter,
            topic: common.topic.clone(),
            key: common.key.clone(),
            ..Default::default()
        }),
    }
    let file = ConfigFile {
        data_dir: common.data_dir.clone(),
        meraki: MerakiSection {
            url: common.meraki_url.clone(),
            // A request must end before the next poll starts.
            timeout_s: (interval / 2).clamp(1, 30),
        },
        kafka: kafka_section(&common.kafka)?,
        admin: AdminSection {
            listen: common
                .admin_listen
                .map(|address| address.to_string())
                .unwrap_or_default(),
        },
        sources,
        outputs,
        sinks: Default::default(),
    };
    let flags = std::path::PathBuf::from("(flags)");
    let config = semaphore::config::validate(file, &flags, &ProcessEnv).map_err(config_error)?;
    let options = RunOptions {
        once: common.once,
        grace: Duration::from_secs(common.drain.grace_period_s),
        ..RunOptions::default()
    };
    run_pipeline(config, options).await.map_err(with_flag_names)
}

/// A repeatable flag as a config list: not given is the key left out (all), as in a file.
fn flag_list(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

/// The settings the pipeline's errors name as config keys, and the flags `publish` sets them with.
const PUBLISH_FLAGS: &[(&str, &str)] = &[
    ("set [admin] listen", "set --admin-listen"),
    ("set [kafka] brokers", "set --brokers"),
    (
        "set data_dir or SEMAPHORE_DATA_DIR",
        "set --data-dir or SEMAPHORE_DATA_DIR",
    ),
];

/// `publish` builds its config from flags, so a pipeline error that names a config key (a taken
/// `[admin] listen` address) names the flag instead: its user never wrote that key.
fn with_flag_names(failure: Failure) -> Failure {
    let Failure { error, exit_code } = failure;
    let error = match error.downcast::<PipelineError>() {
        Ok(error) => {
            let rename = |mut message: String| {
                for (key, flag) in PUBLISH_FLAGS {
                    message = message.replace(key, flag);
                }
                message
            };
            anyhow::Error::new(match error {
                PipelineError::Config(message) => PipelineError::Config(rename(message)),
                PipelineError::Start(message) => PipelineError::Start(rename(message)),
                PipelineError::Incomplete(message) => PipelineError::Incomplete(rename(message)),
                unchanged @ (PipelineError::Sources(_) | PipelineError::Build { .. }) => unchanged,
            })
        }
        Err(error) => error,
    };
    Failure { error, exit_code }
}

async fn demo(args: DemoArgs) -> Result<(), Failure> {
    check_estate(&EstateShape {
        organizations: args.organizations,
        appliances: args.appliances,
        ..EstateShape::default()
    })?;
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    let options = DemoOptions {
        appliances: args.appliances,
        organizations: args.organizations,
        broker_listen: args.broker_listen,
        admin_listen: args.admin_listen,
        dashboard_listen: args.dashboard_listen,
    };
    crate::demo::run(options, &ProcessEnv, shutdown)
        .await
        .map_err(pipeline_failure)
}

/// What `check -c` found: the text lines it has always printed, the same facts as one JSON document (for
/// `--format json`), and the checks that failed. Every check runs and is reported before the command fails,
/// so one unreachable InfluxDB does not hide the state of the others.
struct ConfigReport {
    lines: Vec<String>,
    document: Value,
    problems: Vec<Failure>,
}

impl ConfigReport {
    /// Prints the report, then fails if a check did: exit code 2 when any problem is the configuration's
    /// (something to change before `run`), else 1.
    fn finish(self, format: ReportFormat) -> Result<(), Failure> {
        let mut stdout = std::io::stdout().lock();
        match format {
            ReportFormat::Text => {
                for line in &self.lines {
                    writeln!(stdout, "{line}").map_err(runtime_error)?;
                }
            }
            ReportFormat::Json => {
                serde_json::to_writer_pretty(&mut stdout, &self.document).map_err(runtime_error)?;
                writeln!(stdout).map_err(runtime_error)?;
            }
        }
        let mut problems = self.problems;
        if problems.len() <= 1 {
            return problems.pop().map_or(Ok(()), Err);
        }
        let exit_code = if problems.iter().any(|problem| problem.exit_code == EXIT_CONFIG) {
            EXIT_CONFIG
        } else {
            EXIT_FAILURE
        };
        let each: Vec<String> = problems.iter().map(|problem| one_line(&problem.error)).collect();
        Err(Failure {
            error: anyhow::anyhow!("{} checks failed: {}", problems.len(), each.join("; ")),
            exit_code,
        })
    }
}

/// `check -c`: what the config declares, whether each sink's destination and the config's Kafka are
/// reachable. Meraki is added by the caller.
async fn check_config(path: &std::path::Path, config: &Config) -> ConfigReport {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    lines.push(format!("config {}: valid", path.display()));
    if !config.sources.is_empty() {
        let named: Vec<String> = config
            .sources
            .iter()
            .map(|source| format!("{} ({})", source.id(), source.describe()))
            .collect();
        lines.push(format!("  sources: {}", named.join(", ")));
    }
    lines.push(format!("  data directory: {}", config.data_dir.display()));
    let mut outputs = Vec::new();
    if let Some(kafka) = &config.outputs.kafka {
        outputs.push(json!({
            "kind": "kafka",
            "create_topics": kafka.create_topics,
            "partitions": kafka.partitions
        }));
    }
    for syslog in &config.outputs.syslog {
        lines.push(format!("  output: syslog {}", syslog.endpoint));
        outputs.push(json!({"kind": "syslog", "endpoint": syslog.endpoint.to_string()}));
    }
    if config.outputs.stdout {
        lines.push("  output: stdout".to_owned());
        outputs.push(json!({"kind": "stdout"}));
    }
    for file in &config.outputs.files {
        lines.push(format!("  output: file {}", file.display()));
        outputs.push(json!({"kind": "file", "path": file.display().to_string()}));
    }
    let mut sinks = Vec::new();
    for sink in &config.sinks {
        lines.push(format!(
            "  sink: {} ({}; reads {} as group {})",
            sink.id,
            describe_sink(&sink.kind),
            sink.reading.topics.join(", "),
            sink.reading.group
        ));
        let mut entry = json!({
            "id": sink.id,
            "kind": sink_kind(&sink.kind),
            "description": describe_sink(&sink.kind),
            "topics": sink.reading.topics,
            "group": sink.reading.group,
            "check": null
        });
        if let Some((target, outcome)) = check_sink(sink).await {
            match outcome {
                Ok(result) => {
                    lines.push(format!("    {target}: {result}"));
                    entry["check"] = json!({"target": target, "ok": true, "result": result});
                }
                Err(failure) => {
                    let error = one_line(&failure.error);
                    lines.push(format!("    {target}: FAILED: {error}"));
                    entry["check"] = json!({"target": target, "ok": false, "error": error});
                    problems.push(Failure {
                        error: failure.error.context(format!("sink {}", sink.id)),
                        exit_code: failure.exit_code,
                    });
                }
            }
        }
        sinks.push(entry);
    }
    let mut kafka = Value::Null;
    if config.outputs.kafka.is_some() || !config.sinks.is_empty() {
        if config.kafka.brokers.is_none() && config.kafka.client_properties.is_none() {
            lines.push(format!(
                "  Kafka: the embedded broker (started by `semaphore run` on {})",
                config.embedded_listen
            ));
            kafka = json!({"embedded": true, "listen": config.embedded_listen.to_string()});
        } else {
            kafka = match reach_kafka(config).await {
                Ok((bootstrap, topics)) => {
                    lines.push(format!("  Kafka at {bootstrap}: reached, {topics} topics"));
                    json!({
                        "embedded": false,
                        "bootstrap": bootstrap,
                        "reached": true,
                        "topics": topics
                    })
                }
                Err(failure) => {
                    let error = one_line(&failure.error);
                    problems.push(failure);
                    json!({
                        "embedded": false,
                        "brokers": config.kafka.brokers,
                        "reached": false,
                        "error": error
                    })
                }
            };
        }
    }
    let sources: Vec<Value> = config
        .sources
        .iter()
        .map(|source| json!({"id": source.id(), "kind": source.kind(), "description": source.describe()}))
        .collect();
    let document = json!({
        "config": path.display().to_string(),
        "data_dir": config.data_dir.display().to_string(),
        "sources": sources,
        "outputs": outputs,
        "sinks": sinks,
        "kafka": kafka,
        "meraki": null
    });
    ConfigReport {
        lines,
        document,
        problems,
    }
}

/// Reaches the config's Kafka as its outputs and sinks will: its bootstrap address and how many topics it
/// has.
async fn reach_kafka(config: &Config) -> Result<(String, usize), Failure> {
    let kafka = config.kafka.resolve(&ProcessEnv, None).map_err(config_error)?;
    let admin = TopicAdmin::new(&kafka).map_err(config_error)?;
    let topics = admin.list().await.map_err(runtime_error)?;
    Ok((kafka.bootstrap.clone(), topics.len()))
}

/// Checks what a sink will reach, as the sink will: InfluxDB's `/ping`, a webhook's token variable. Returns
/// what was checked and the result, or `None` for a sink that only serves (the exporter, the dashboard).
async fn check_sink(sink: &SinkConfig) -> Option<(String, Result<&'static str, Failure>)> {
    match &sink.kind {
        SinkKind::InfluxDb(settings) => Some((
            format!("InfluxDB at {}", settings.endpoint),
            semaphore::sinks::influxdb::ping(settings)
                .await
                .map(|()| "reached")
                .map_err(|error| runtime_error(anyhow::Error::msg(error))),
        )),
        SinkKind::Webhook(settings)
        | SinkKind::Alerts {
            webhook: Some(settings),
            ..
        } => check_token(settings),
        _ => None,
    }
}

/// A sink's kind as the config names it (`[[sinks.KIND]]`).
fn sink_kind(kind: &SinkKind) -> &'static str {
    match kind {
        SinkKind::InfluxDb(_) => "influxdb",
        SinkKind::Prometheus(_) => "prometheus",
        SinkKind::Webhook(_) => "webhook",
        SinkKind::Alerts { .. } => "alerts",
        SinkKind::Dashboard(_) => "dashboard",
    }
}

/// A sink in a few words, for `check`.
fn describe_sink(kind: &SinkKind) -> String {
    match kind {
        SinkKind::InfluxDb(settings) => format!(
            "InfluxDB {}, measurement {}",
            settings.endpoint, settings.measurement
        ),
        SinkKind::Prometheus(settings) => {
            format!("Prometheus exporter on http://{}/metrics", settings.listen)
        }
        SinkKind::Webhook(settings) => format!("webhook POST {}", settings.url),
        SinkKind::Alerts { rules, topic, .. } => format!("{} alert rules -> {topic}", rules.len()),
        SinkKind::Dashboard(settings) => format!("dashboard on http://{}/", settings.listen),
    }
}

/// A webhook's `token_env` must name a variable that is set (its value is never printed); `None` without
/// `token_env`.
fn check_token(settings: &WebhookSettings) -> Option<(String, Result<&'static str, Failure>)> {
    let variable = settings.token_env.as_ref()?;
    let outcome = match ProcessEnv.get(variable) {
        Some(_) => Ok("set"),
        None => Err(config_error(anyhow::anyhow!(
            "token_env names {variable}, which is not set; export it or remove token_env"
        ))),
    };
    Some((format!("token_env {variable}"), outcome))
}

async fn broker(args: BrokerArgs) -> Result<(), Failure> {
    let storage = if args.memory {
        BrokerStorage::Memory
    } else {
        BrokerStorage::Directory(
            args.data_dir
                .unwrap_or_else(|| semaphore::env::data_dir(&ProcessEnv)),
        )
    };
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    let broker = EmbeddedBroker::start_advertising(args.listen, args.advertise.clone(), storage.clone())
        .await
        .map_err(runtime_error)?;
    let address = broker.address();
    let storage_text = match &storage {
        BrokerStorage::Memory => "memory (nothing survives a restart)".to_owned(),
        BrokerStorage::Directory(directory) => {
            format!(
                "{}",
                directory
                    .join(semaphore::bus::embedded::BROKER_DATABASE)
                    .display()
            )
        }
    };
    tracing::info!(%address, storage = %storage_text, "Embedded Kafka broker listening.");
    let advertised = args.advertise.clone().unwrap_or_else(|| address.to_string());
    announce(|stdout| {
        writeln!(stdout, "Kafka-compatible broker listening on {address}")?;
        writeln!(stdout, "  storage: {storage_text}")?;
        writeln!(
            stdout,
            "  clients: --brokers {advertised} (kcat needs librdkafka 2.12+; Python: confluent-kafka)"
        )
    });
    shutdown.await;
    broker.stop().await;
    tracing::info!("Embedded Kafka broker stopped.");
    Ok(())
}

async fn topics(args: TopicsArgs) -> Result<(), Failure> {
    let kafka = kafka(&args.kafka)?;
    let admin = TopicAdmin::new(&kafka).map_err(config_error)?;
    let mut stdout = std::io::stdout().lock();
    match args.action {
        TopicsAction::List => {
            for topic in admin.list().await.map_err(admin_failure)? {
                writeln!(stdout, "{}\t{} partitions", topic.name, topic.partitions).map_err(runtime_error)?;
            }
        }
        TopicsAction::Create {
            name,
            partitions,
            replication_factor,
        } => {
            let replication_factor = admin
                .create(&name, partitions, replication_factor)
                .await
                .map_err(admin_failure)?;
            writeln!(
                stdout,
                "created topic {name}: {partitions} partitions, replication factor {replication_factor}"
            )
            .map_err(runtime_error)?;
        }
        TopicsAction::Describe { name, format } => {
            let description = admin.describe(&name).await.map_err(admin_failure)?;
            match format {
                ReportFormat::Json => {
                    serde_json::to_writer_pretty(&mut stdout, &description).map_err(runtime_error)?;
                    writeln!(stdout).map_err(runtime_error)?;
                }
                ReportFormat::Text => {
                    writeln!(
                        stdout,
                        "topic {}: {} partitions, {} records",
                        description.name,
                        description.partitions.len(),
                        description.records()
                    )
                    .map_err(runtime_error)?;
                    for partition in &description.partitions {
                        writeln!(
                            stdout,
                            "  partition {:>3}  leader {}  replicas {:?}  in-sync {:?}  low {}  high {}",
                            partition.partition,
                            partition.leader,
                            partition.replicas,
                            partition.in_sync_replicas,
                            partition.low_watermark,
                            partition.high_watermark
                        )
                        .map_err(runtime_error)?;
                    }
                }
            }
        }
        TopicsAction::Delete { name } => {
            admin.delete(&name).await.map_err(admin_failure)?;
            writeln!(stdout, "deleted topic {name}").map_err(runtime_error)?;
        }
    }
    Ok(())
}

/// A name, partition count or replication factor that Kafka forbids is a usage error; the rest are runtime
/// failures.
fn admin_failure(error: TopicAdminError) -> Failure {
    match error {
        TopicAdminError::Invalid(_) => config_error(error),
        other => runtime_error(other),
    }
}

async fn consume(args: ConsumeArgs) -> Result<(), Failure> {
    let kafka = kafka(&args.kafka)?;
    let offset = match &args.offset {
        Some(text) => text
            .parse::<StartOffset>()
            .map_err(|reason| config_error(anyhow::anyhow!("-o {reason}")))?,
        None if args.group.is_some() => StartOffset::Stored,
        None => StartOffset::Beginning,
    };
    let format: OutputFormat = args
        .format
        .parse()
        .map_err(|reason: String| config_error(anyhow::anyhow!("--format {reason}")))?;
    let options = ConsumeOptions {
        topics: args.topics,
        group: args.group,
        offset,
        count: args.count,
        exit_at_end: args.exit_at_end,
        partitions: args.partitions,
        format,
        poll_timeout: Duration::from_millis(args.poll_timeout_ms),
        polls: args.polls,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    let stop_on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop_on_signal.store(true, Ordering::Relaxed);
    });
    let started = tokio::time::Instant::now();
    let topics = options.topics.join(", ");
    let result = tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        semaphore::bus::consumer::consume(&kafka, &options, &mut out, &stop)
    })
    .await
    .map_err(runtime_error)?;
    let summary = result.map_err(|error| match error {
        ConsumeError::Usage(_) => config_error(error),
        other => runtime_error(other),
    })?;
    eprintln!(
        "semaphore consume: {} records ({} bytes) from {topics} in {:.1} s",
        summary.records,
        summary.bytes,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
