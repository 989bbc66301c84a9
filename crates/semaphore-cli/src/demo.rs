//! `semaphore demo`: one command, no account. The Meraki simulator, the embedded broker, the collector
//! publishing loss/latency and clients, alert rules, the web dashboard, and a live view of the topic read
//! back through Kafka, with the addresses a user can point a browser, kcat, Python or Telegraf at.
//!
//! On a terminal the view redraws in place; otherwise (a pipe, a test) it prints a status line every few
//! seconds, so the same command is scriptable. When the pipe's reader goes away (`semaphore demo | head -3`)
//! the demo stops as on Ctrl-C: the view is all it shows, and nobody sees it any more.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use semaphore_meraki_sim::estate::{SIZED_TO_APPLIANCES, Totals};
use semaphore_meraki_sim::{EstateShape, RunningSimulator, SimConfig};

use semaphore::bus::consumer::{ConsumeError, ConsumeOptions, ConsumeSummary};
use semaphore::bus::format::OutputFormat;
use semaphore::bus::offset::StartOffset;
use semaphore::config::file::{
    AdminSection, ConfigFile, KafkaOutputFile, KafkaSection, MerakiSection, OutputsSection, SinksSection,
    SourcesSection,
};
use semaphore::config::{ALERTS_TOPIC, CLIENTS_TOPIC, UPLINKS_TOPIC};
use semaphore::env::Env;
use semaphore::pipeline::{Pipeline, PipelineError, RunOptions};
use semaphore::record::UplinkRecord;
use semaphore::sinks::alerts::{AlertRuleFile, AlertsSinkFile};
use semaphore::sinks::dashboard::DashboardSinkFile;
use semaphore::sources::meraki_clients::ClientsSourceFile;
use semaphore::sources::meraki_uplinks::UplinksSourceFile;
use semaphore::telemetry::Telemetry;
use semaphore::telemetry::metrics::RECORDS_PRODUCED;

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub appliances: usize,
    pub organizations: usize,
    /// Preferred broker address; a free port is used when it is taken.
    pub broker_listen: SocketAddr,
    /// Preferred admin address; a free port is used when it is taken.
    pub admin_listen: SocketAddr,
    /// Preferred dashboard address; a free port is used when it is taken.
    pub dashboard_listen: SocketAddr,
}

impl DemoOptions {
    /// The estate the demo simulates: networks sized to the appliances, so it looks like a real one (mostly
    /// one MX per branch, some HA pairs, a hub now and then) instead of a few networks of hundreds.
    pub fn shape(&self) -> EstateShape {
        EstateShape {
            organizations: self.organizations,
            networks: SIZED_TO_APPLIANCES,
            appliances: self.appliances,
            ..EstateShape::default()
        }
    }
}

/// The demo's environment: the process's, with an API key for the simulator (which accepts any).
struct DemoEnv<'a>(&'a dyn Env);

impl Env for DemoEnv<'_> {
    fn get(&self, name: &str) -> Option<String> {
        if name == semaphore::env::MERAKI_DASHBOARD_API_KEY {
            return Some("semaphore-demo".into());
        }
        self.0.get(name)
    }
}

/// The latest sample of each uplink, and counts, as read back from Kafka.
#[derive(Debug, Default)]
struct View {
    latest: BTreeMap<(String, String), UplinkRecord>,
    records: u64,
}

/// Receives `semaphore consume`'s `value` lines and keeps the view up to date.
struct ViewWriter {
    view: Arc<Mutex<View>>,
    line: Vec<u8>,
}

impl Write for ViewWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for byte in bytes {
            if *byte == b'\n' {
                if let Ok(record) = serde_json::from_slice::<UplinkRecord>(&self.line) {
                    let mut view = self.view.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    view.records += 1;
                    let key = (record.serial.clone(), record.uplink.clone());
                    if view.latest.get(&key).is_none_or(|known| known.ts <= record.ts) {
                        view.latest.insert(key, record);
                    }
                }
                self.line.clear();
            } else {
                self.line.push(*byte);
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the demo until `shutdown` fires or stdout's reader goes away, then drains the pipeline.
pub async fn run(
    options: DemoOptions,
    env: &dyn Env,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), PipelineError> {
    let simulator = start_simulator(&options).await?;
    let data_dir = std::env::temp_dir().join(format!("semaphore-demo-{}", std::process::id()));
    let config_file = demo_config(&options, &simulator, &data_dir);
    let pipeline = start_pipeline(config_file, env).await?;
    let banner = banner(&simulator, &pipeline);
    let reader_gone = print_banner(&banner);
    show_view(&pipeline, &banner, reader_gone, shutdown).await;
    drain(pipeline, simulator, &data_dir).await
}

/// The Meraki simulator, with the estate the options ask for.
async fn start_simulator(options: &DemoOptions) -> Result<RunningSimulator, PipelineError> {
    semaphore_meraki_sim::spawn(SimConfig {
        shape: options.shape(),
        ..SimConfig::default()
    })
    .await
    .map_err(|source| PipelineError::Start {
        what: "the Meraki simulator".to_owned(),
        source,
    })
}

/// The demo's config, as a file would say it: the simulator, the embedded broker, the uplinks and clients
/// sources, the Kafka output, and the dashboard and alert sinks. Each preferred address is taken only when
/// it is free.
fn demo_config(options: &DemoOptions, simulator: &RunningSimulator, data_dir: &Path) -> ConfigFile {
    ConfigFile {
        data_dir: Some(data_dir.to_path_buf()),
        meraki: MerakiSection {
            url: Some(simulator.base_url()),
            timeout_s: 5,
        },
        kafka: KafkaSection {
            embedded_listen: free_or_any(options.broker_listen).to_string(),
            ..Default::default()
        },
        admin: AdminSection {
            listen: free_or_any(options.admin_listen).to_string(),
        },
        inventory: Default::default(),
        sources: SourcesSection {
            meraki_uplinks: vec![UplinksSourceFile {
                interval_s: Some(10),
                // Ten minutes of history at once, so the view fills immediately.
                initial_lookback_s: Some(600),
                ddns_per_second: Some(5.0),
                ..Default::default()
            }],
            meraki_clients: vec![ClientsSourceFile {
                interval_s: Some(60),
                ..Default::default()
            }],
            ..Default::default()
        },
        outputs: OutputsSection {
            kafka: vec![KafkaOutputFile::default()],
            ..Default::default()
        },
        sinks: demo_sinks(options.dashboard_listen),
    }
}

/// The dashboard, and alert rules the simulator's incidents trip, so the dashboard shows alerts firing and
/// resolving.
fn demo_sinks(dashboard_listen: SocketAddr) -> SinksSection {
    SinksSection {
        dashboard: vec![DashboardSinkFile {
            listen: Some(free_or_any(dashboard_listen).to_string()),
            ..Default::default()
        }],
        alerts: vec![AlertsSinkFile {
            rule: vec![
                AlertRuleFile {
                    name: "high-loss".into(),
                    metric: "loss_percent".into(),
                    above: Some(5.0),
                    for_samples: Some(3),
                    ..Default::default()
                },
                AlertRuleFile {
                    name: "high-latency".into(),
                    metric: "latency_ms".into(),
                    above: Some(150.0),
                    average_over_s: Some(300),
                    ..Default::default()
                },
                AlertRuleFile {
                    name: "uplink-down".into(),
                    metric: "down".into(),
                    for_samples: Some(2),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Validates the demo's config as a file's is validated, then starts the pipeline with the embedded broker
/// in memory.
async fn start_pipeline(config_file: ConfigFile, env: &dyn Env) -> Result<Pipeline, PipelineError> {
    let env = DemoEnv(env);
    let config = semaphore::config::validate(config_file, &PathBuf::from("demo"), &env)?;
    let options_run = RunOptions {
        embedded_memory: true,
        ..RunOptions::default()
    };
    Pipeline::start(config, &env, options_run).await
}

/// What runs where, what the simulator made, and commands a user can try against it.
fn banner(simulator: &RunningSimulator, pipeline: &Pipeline) -> String {
    let bootstrap = pipeline.kafka_bootstrap.clone().unwrap_or_default();
    let admin = pipeline
        .admin_address
        .map(|address| format!("http://{address}"))
        .unwrap_or_default();
    let dashboard = pipeline
        .dashboard_address
        .map(|address| format!("http://{address}/"))
        .unwrap_or_default();
    format!(
        "semaphore demo: simulated Meraki estate -> collector -> Kafka -> this view\n\
         \x20 Meraki API simulator : {base}  ({estate})\n\
         \x20 Kafka (embedded)     : {bootstrap}   topics {UPLINKS_TOPIC}, {CLIENTS_TOPIC}\n\
         \x20 dashboard (browser)  : {dashboard}   alerts on topic {ALERTS_TOPIC}\n\
         \x20 admin                : {admin}/metrics  {admin}/readyz\n\
         \x20 try                  : semaphore consume {UPLINKS_TOPIC} --brokers {bootstrap} -f pretty -c 1\n\
         \x20                        python3 -c \"from confluent_kafka import Consumer; c = Consumer({{'bootstrap.servers': '{bootstrap}', 'group.id': 'demo', 'auto.offset.reset': 'earliest'}}); c.subscribe(['{UPLINKS_TOPIC}']); print(c.poll(10).value())\"\n\
         \x20                        Telegraf inputs.kafka_consumer brokers=[\"{bootstrap}\"] data_format=\"json\"\n\
         \x20 Ctrl-C stops everything.\n",
        base = simulator.base_url(),
        estate = estate_line(simulator.simulator.estate.totals()),
    )
}

/// "1 organization, 13 networks, 20 MX appliances, 40 uplinks": what the simulator made, counted from its
/// estate, since the networks' number follows from the layout, not from an option.
fn estate_line(totals: Totals) -> String {
    let counted = |count: usize, noun: &str| {
        if count == 1 {
            format!("1 {noun}")
        } else {
            format!("{count} {noun}s")
        }
    };
    format!(
        "{}, {}, {}, {}",
        counted(totals.organizations, "organization"),
        counted(totals.networks, "network"),
        counted(totals.appliances, "MX appliance"),
        counted(totals.uplinks, "uplink"),
    )
}

/// Prints the banner; returns whether stdout's reader is already gone.
fn print_banner(banner: &str) -> bool {
    let mut stdout = std::io::stdout();
    let printed = stdout.write_all(banner.as_bytes()).and_then(|()| stdout.flush());
    closed_pipe(&printed)
}

/// The view loop: at every tick until `shutdown` fires or stdout's reader goes away, the whole screen on a
/// terminal, a status line otherwise. Once the first window was written it reads the topic back through
/// Kafka; that reader is stopped and awaited before this returns.
async fn show_view(
    pipeline: &Pipeline,
    banner: &str,
    mut reader_gone: bool,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let view = Arc::new(Mutex::new(View::default()));
    let stop_consumer = Arc::new(AtomicBool::new(false));
    let telemetry = pipeline.telemetry.clone();
    let mut consumer = None;
    let terminal = std::io::stdout().is_terminal();
    let mut progress = Progress::new();
    let mut ticker = tokio::time::interval(if terminal {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(3)
    });
    tokio::pin!(shutdown);
    while !reader_gone {
        tokio::select! {
            _ = ticker.tick() => {}
            () = &mut shutdown => break,
        }
        // The topic exists once the first window was written; read it from the beginning through Kafka.
        if consumer.is_none() && telemetry.get(&RECORDS_PRODUCED, &["kafka"]) > 0.0 {
            consumer = Some(start_consumer(pipeline, &view, &stop_consumer));
        }
        let (status, rows) = progress.tick(&view, &telemetry);
        reader_gone = draw(terminal, banner, &status, &rows);
    }
    if reader_gone {
        tracing::info!("Standard output was closed by its reader; stopping the demo.");
    }
    stop_consumer.store(true, Ordering::Relaxed);
    if let Some(consumer) = consumer {
        let _ = consumer.await;
    }
}

/// Reads the uplinks topic from its beginning through Kafka into `view`, on a blocking thread, until `stop`.
fn start_consumer(
    pipeline: &Pipeline,
    view: &Arc<Mutex<View>>,
    stop: &Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Result<ConsumeSummary, ConsumeError>> {
    let kafka = pipeline
        .outputs
        .kafka()
        .expect("the demo writes to Kafka")
        .handle()
        .resolved()
        .clone();
    let consume = ConsumeOptions {
        topics: vec![UPLINKS_TOPIC.to_owned()],
        group: None,
        offset: StartOffset::Beginning,
        count: None,
        exit_at_end: false,
        partitions: Vec::new(),
        format: OutputFormat::Value,
        poll_timeout: Duration::from_millis(200),
        polls: None,
    };
    let mut writer = ViewWriter {
        view: view.clone(),
        line: Vec::new(),
    };
    let stop = stop.clone();
    tokio::task::spawn_blocking(move || {
        semaphore::bus::consumer::consume(&kafka, &consume, &mut writer, &stop)
    })
}

/// What the status line counts from: when the view started, and the records read back at the last tick.
struct Progress {
    started: tokio::time::Instant,
    last_records: u64,
    last_tick: tokio::time::Instant,
}

impl Progress {
    fn new() -> Self {
        Progress {
            started: tokio::time::Instant::now(),
            last_records: 0,
            last_tick: tokio::time::Instant::now(),
        }
    }

    /// This tick's status line, and the table's rows (the first 20 uplinks).
    fn tick(&mut self, view: &Mutex<View>, telemetry: &Telemetry) -> (String, Vec<UplinkRecord>) {
        let (records, uplinks, down, rows) = {
            let view = view.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let down = view.latest.values().filter(|record| record.is_down()).count();
            let rows: Vec<UplinkRecord> = view.latest.values().take(20).cloned().collect();
            (view.records, view.latest.len(), down, rows)
        };
        let elapsed = self.last_tick.elapsed().as_secs_f64().max(0.001);
        let rate = (records - self.last_records) as f64 / elapsed;
        self.last_records = records;
        self.last_tick = tokio::time::Instant::now();
        let status = format!(
            "{:>5.0} s  records read back from Kafka: {records} ({rate:.0}/s)  uplinks: {uplinks}  down now: {down}  API calls: {}",
            self.started.elapsed().as_secs_f64(),
            telemetry.meraki_requests(),
        );
        (status, rows)
    }
}

/// Writes one tick of the view: on a terminal the whole screen (banner, status line, table), otherwise the
/// status line alone. Returns whether stdout's reader went away.
fn draw(terminal: bool, banner: &str, status: &str, rows: &[UplinkRecord]) -> bool {
    let mut out = std::io::stdout().lock();
    let written = if terminal {
        let mut screen = String::from("\x1b[H\x1b[2J");
        screen.push_str(banner);
        screen.push('\n');
        screen.push_str(status);
        screen.push_str("\n\n");
        screen.push_str(&table(rows));
        out.write_all(screen.as_bytes())
    } else {
        writeln!(out, "{status}")
    };
    // Any other failure (a terminal that went away answers EIO) keeps the demo running until the signal,
    // as servers do.
    closed_pipe(&written.and_then(|()| out.flush()))
}

/// Drains the pipeline (its sources stopped with the view), then stops the simulator and removes the demo's
/// data directory.
async fn drain(
    pipeline: Pipeline,
    simulator: RunningSimulator,
    data_dir: &Path,
) -> Result<(), PipelineError> {
    let drained = pipeline.wait(async {}).await;
    drop(simulator);
    let _ = std::fs::remove_dir_all(data_dir);
    drained
}

/// Whether a write failed because stdout's reader went away: SIGPIPE is ignored, as in every Rust program,
/// so the write returns EPIPE instead of ending the process.
fn closed_pipe(written: &std::io::Result<()>) -> bool {
    written
        .as_ref()
        .is_err_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The latest sample per uplink, one row each.
fn table(rows: &[UplinkRecord]) -> String {
    let mut text = format!(
        "{:<16} {:<18} {:<6} {:>8} {:>11}  {:<20}\n",
        "serial", "network", "uplink", "loss %", "latency ms", "sample time"
    );
    for record in rows {
        let number =
            |value: Option<f64>| value.map_or_else(|| "DOWN".to_owned(), |value| format!("{value:.1}"));
        text.push_str(&format!(
            "{:<16} {:<18} {:<6} {:>8} {:>11}  {:<20}\n",
            record.serial,
            record
                .network_name
                .as_deref()
                .unwrap_or(&record.network_id)
                .chars()
                .take(18)
                .collect::<String>(),
            record.uplink,
            number(record.loss_percent),
            number(record.latency_ms),
            record.ts.format("%Y-%m-%d %H:%M:%S"),
        ));
    }
    text
}

/// `preferred` when it is free, else a free port on the same IP.
fn free_or_any(preferred: SocketAddr) -> SocketAddr {
    match TcpListener::bind(preferred) {
        Ok(_) => preferred,
        Err(_) => SocketAddr::new(preferred.ip(), 0),
    }
}
