//! What each subcommand does, by calling the library; errors carry the exit code they map to.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use semaphore::bus::admin::{TopicAdmin, TopicAdminError};
use semaphore::bus::broker_security::{BrokerSecurity, load_users};
use semaphore::bus::config::{ResolvedKafka, SecurityProtocol};
use semaphore::bus::consumer::{ConsumeError, ConsumeOptions};
use semaphore::bus::embedded::{BrokerStorage, EmbeddedBroker};
use semaphore::bus::format::OutputFormat;
use semaphore::bus::offset::StartOffset;
use semaphore::check::{ConfigReport, Problem, check_config, meraki_lines, reach_meraki};
use semaphore::config::Config;
use semaphore::config::file::{
    AdminSection, ConfigFile, KafkaOutputFile, KafkaSection, MerakiSection, OutputsSection, SourcesSection,
    StdoutOutputFile, SyslogOutputFile,
};
use semaphore::env::ProcessEnv;
use semaphore::pipeline::{Pipeline, PipelineError, RunOptions};
use semaphore::sources::listener::tls::TlsFiles;
use semaphore::sources::meraki_clients::ClientsSourceFile;
use semaphore::sources::meraki_uplinks::UplinksSourceFile;
use semaphore_meraki_sim::estate::{MAX_ESTATE, SIZED_TO_APPLIANCES};
use semaphore_meraki_sim::{EstateShape, Faults, SimConfig, Simulator};

use crate::cli::{
    BrokerArgs, CheckArgs, Cli, Command, ConsumeArgs, DemoArgs, KafkaArgs, PublishArgs, PublishOutput,
    PublishWhat, ReportFormat, RunArgs, SimulateArgs, TopicsAction, TopicsArgs,
};
use crate::demo::DemoOptions;
use crate::{EXIT_CONFIG, EXIT_FAILURE};

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
    let totals = simulator.estate.totals();
    tracing::info!(
        %address,
        organizations = totals.organizations,
        networks = totals.networks,
        appliances = totals.appliances,
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
    // Networks sized to the appliances are counted at their bound, one per appliance.
    let networks = if shape.networks == SIZED_TO_APPLIANCES {
        format!("up to {}", shape.networks_at_most())
    } else {
        shape.networks_at_most().to_string()
    };
    Err(config_error(anyhow::anyhow!(
        "the simulated estate is too large: {} organizations × ({networks} networks + {} appliances) is {}, at most {MAX_ESTATE} (lower --organizations or --appliances)",
        shape.organizations,
        shape.appliances,
        shape.size()
    )))
}

async fn check(args: CheckArgs) -> Result<(), Failure> {
    if let Some(path) = &args.config {
        let config = semaphore::config::load(path, &ProcessEnv).map_err(config_error)?;
        // --meraki-url (or SEMAPHORE_MERAKI_URL) overrides the file's [meraki] url.
        let report = check_config(path, &config, &ProcessEnv, args.meraki_url.as_deref()).await;
        return print_report(report, args.format);
    }
    let meraki = reach_meraki(args.meraki_url.as_deref(), &ProcessEnv)
        .await
        .map_err(problem_failure)?;
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

/// Prints `check -c`'s report, then fails if a check did: exit code 2 when any problem is the
/// configuration's (something to change before `run`), else 1.
fn print_report(report: ConfigReport, format: ReportFormat) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match format {
        ReportFormat::Text => {
            for line in &report.lines {
                writeln!(stdout, "{line}").map_err(runtime_error)?;
            }
        }
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report.document).map_err(runtime_error)?;
            writeln!(stdout).map_err(runtime_error)?;
        }
    }
    let mut problems = report.problems;
    if problems.len() <= 1 {
        return problems
            .pop()
            .map_or(Ok(()), |problem| Err(problem_failure(problem)));
    }
    let config = problems.iter().any(|problem| problem.config);
    let each: Vec<&str> = problems.iter().map(|problem| problem.message.as_str()).collect();
    Err(problem_failure(Problem {
        message: format!("{} checks failed: {}", problems.len(), each.join("; ")),
        config,
    }))
}

fn problem_failure(problem: Problem) -> Failure {
    Failure {
        error: anyhow::Error::msg(problem.message),
        exit_code: if problem.config { EXIT_CONFIG } else { EXIT_FAILURE },
    }
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
        PipelineError::Config(_)
        | PipelineError::Invalid(_)
        | PipelineError::DataDir { .. }
        | PipelineError::KafkaConfig(_)
        | PipelineError::Producer(_)
        | PipelineError::KafkaClient(_)
        | PipelineError::HttpClient(_)
        | PipelineError::Build { .. } => config_error(error),
        PipelineError::Start { .. }
        | PipelineError::EmbeddedBroker { .. }
        | PipelineError::KafkaUnreachable { .. }
        | PipelineError::KafkaRefused(_)
        | PipelineError::Listen(_)
        | PipelineError::Incomplete(_)
        | PipelineError::Spool(_)
        | PipelineError::Sources(_) => runtime_error(error),
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
            // Kafka and stdout are written once in a file: a repeated flag still means one of each.
            PublishOutput::Kafka if outputs.kafka.is_empty() => {
                outputs.kafka.push(KafkaOutputFile::default())
            }
            PublishOutput::Stdout if outputs.stdout.is_empty() => {
                outputs.stdout.push(StdoutOutputFile::default())
            }
            PublishOutput::Kafka | PublishOutput::Stdout => {}
            PublishOutput::Syslog => outputs.syslog.push(SyslogOutputFile {
                endpoint: common.syslog.clone(),
                ca_file: common.syslog_ca.clone(),
                ..Default::default()
            }),
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
        inventory: Default::default(),
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
    ("[admin] listen", "--admin-listen"),
    ("[kafka] brokers", "--brokers"),
    (
        "data_dir or SEMAPHORE_DATA_DIR",
        "--data-dir or SEMAPHORE_DATA_DIR",
    ),
];

/// The flag `publish` sets `setting` with, or `setting` itself when no flag does.
fn flag_for(setting: &'static str) -> &'static str {
    PUBLISH_FLAGS
        .iter()
        .find(|(key, _)| *key == setting)
        .map_or(setting, |(_, flag)| *flag)
}

/// `publish` builds its config from flags, so a pipeline error that names a config key (a taken
/// `[admin] listen` address) names the flag instead: its user never wrote that key.
fn with_flag_names(failure: Failure) -> Failure {
    let Failure { error, exit_code } = failure;
    let error = match error.downcast::<PipelineError>() {
        Ok(error) => {
            let rename = |mut message: String| {
                for (key, flag) in PUBLISH_FLAGS {
                    message = message.replace(&format!("set {key}"), &format!("set {flag}"));
                }
                message
            };
            anyhow::Error::new(match error {
                PipelineError::Config(message) => PipelineError::Config(rename(message)),
                PipelineError::Incomplete(message) => PipelineError::Incomplete(rename(message)),
                PipelineError::DataDir {
                    path,
                    setting,
                    source,
                } => PipelineError::DataDir {
                    path,
                    setting: flag_for(setting),
                    source,
                },
                PipelineError::EmbeddedBroker { setting, source } => PipelineError::EmbeddedBroker {
                    setting: flag_for(setting),
                    source,
                },
                PipelineError::Listen(mut error) => {
                    error.setting = flag_for(error.setting);
                    PipelineError::Listen(error)
                }
                unchanged @ (PipelineError::Invalid(_)
                | PipelineError::KafkaConfig(_)
                | PipelineError::Producer(_)
                | PipelineError::KafkaClient(_)
                | PipelineError::HttpClient(_)
                | PipelineError::Start { .. }
                | PipelineError::KafkaUnreachable { .. }
                | PipelineError::Spool(_)
                | PipelineError::KafkaRefused(_)
                | PipelineError::Sources(_)
                | PipelineError::Build { .. }) => unchanged,
            })
        }
        Err(error) => error,
    };
    Failure { error, exit_code }
}

async fn demo(args: DemoArgs) -> Result<(), Failure> {
    let options = DemoOptions {
        appliances: args.appliances,
        organizations: args.organizations,
        broker_listen: args.broker_listen,
        admin_listen: args.admin_listen,
        dashboard_listen: args.dashboard_listen,
    };
    // The estate the demo will generate, checked before anything starts.
    check_estate(&options.shape())?;
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    crate::demo::run(options, &ProcessEnv, shutdown)
        .await
        .map_err(pipeline_failure)
}

async fn broker(args: BrokerArgs) -> Result<(), Failure> {
    let storage = if args.memory {
        BrokerStorage::Memory
    } else {
        BrokerStorage::Directory(
            args.data_dir
                .clone()
                .unwrap_or_else(|| semaphore::env::data_dir(&ProcessEnv)),
        )
    };
    let security = broker_security(&args)?;
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    let broker = EmbeddedBroker::start_secured(
        args.listen,
        args.advertise.clone(),
        storage.clone(),
        security.clone(),
    )
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
    let security_text = security.describe();
    tracing::info!(
        %address,
        storage = %storage_text,
        security = %security_text,
        "Embedded Kafka broker listening."
    );
    let advertised = args.advertise.clone().unwrap_or_else(|| address.to_string());
    announce(|stdout| {
        writeln!(stdout, "Kafka-compatible broker listening on {address}")?;
        writeln!(stdout, "  storage: {storage_text}")?;
        writeln!(stdout, "  security: {security_text}")?;
        for line in client_lines(&advertised, &security) {
            writeln!(stdout, "  {line}")?;
        }
        Ok(())
    });
    shutdown.await;
    broker.stop().await;
    tracing::info!("Embedded Kafka broker stopped.");
    Ok(())
}

/// What the broker asks of its clients, from its flags and the environment. The users file is read here and
/// the certificate and key when the broker starts: a mistake in either ends the start with exit code 1,
/// naming the file (and line), as any other failure to start the broker does.
fn broker_security(args: &BrokerArgs) -> Result<BrokerSecurity, Failure> {
    let users = load_users(args.sasl_users.as_deref(), &ProcessEnv).map_err(runtime_error)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(certificate), Some(key)) => Some(TlsFiles {
            certificate: certificate.clone(),
            key: key.clone(),
            client_ca: None,
        }),
        // clap takes --tls-cert and --tls-key together or not at all.
        _ => None,
    };
    Ok(BrokerSecurity { tls, users })
}

/// How a client connects, for the start-up lines: semaphore's flags, and where credentials and trust come
/// from (never a password).
fn client_lines(advertised: &str, security: &BrokerSecurity) -> Vec<String> {
    let mut flags = vec![format!("--brokers {advertised}")];
    let protocol = security.protocol();
    if protocol != SecurityProtocol::Plaintext {
        flags.push(format!("--security-protocol {}", protocol.as_str()));
    }
    if !security.users.is_empty() {
        flags.push("--sasl-mechanism SCRAM-SHA-256".to_owned());
    }
    if security.tls.is_some() {
        flags.push("--ssl-ca-location CA-FILE".to_owned());
    }
    let mut lines = vec![format!(
        "clients: {} (kcat needs librdkafka 2.12+; Python: confluent-kafka)",
        flags.join(" ")
    )];
    if !security.users.is_empty() {
        lines.push(
            "  username and password: SEMAPHORE_KAFKA_USERNAME and SEMAPHORE_KAFKA_PASSWORD (SCRAM-SHA-512 \
             works too)"
                .to_owned(),
        );
    }
    if let Some(tls) = &security.tls {
        lines.push(format!(
            "  CA-FILE: the CA certificate that signed {} (that file itself when it is self-signed)",
            tls.certificate.display()
        ));
    }
    lines
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

/// How long `consume` waits, after SIGINT/SIGTERM, for its last commit and the consumer's close.
const CONSUME_STOP_WITHIN: Duration = Duration::from_secs(5);

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
    let (signalled, on_signal) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        shutdown.await;
        stop_on_signal.store(true, Ordering::Relaxed);
        let _ = signalled.send(());
    });
    let started = tokio::time::Instant::now();
    let topics = options.topics.join(", ");
    let mut reading = tokio::task::spawn_blocking(move || {
        // Not `stdout().lock()`: a reader stuck in its last commit must not hold the lock the exit path needs.
        // No `BufWriter` either: `consume` hands over whole blocks of records and flushes after each.
        let mut out = std::io::stdout();
        semaphore::bus::consumer::consume(&kafka, &options, &mut out, &stop)
    });
    let result = tokio::select! {
        result = &mut reading => result,
        Ok(()) = on_signal => match tokio::time::timeout(CONSUME_STOP_WITHIN, &mut reading).await {
            Ok(result) => result,
            // The last commit (or the consumer's close) waits for a group coordinator that does not answer.
            Err(_) => {
                return Err(runtime_error(anyhow::anyhow!(
                    "stopped without Kafka's answer to the last commit within {CONSUME_STOP_WITHIN:?}; \
                     the records printed since the group's last commit are printed again by its next run"
                )));
            }
        },
    }
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
