//! The command line: every flag, its help text and its environment variable, in one place.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use semaphore_meraki_sim::estate::{
    MAX_APPLIANCES, MAX_CLIENTS_PER_NETWORK, MAX_NETWORKS, MAX_ORGANIZATIONS,
};

/// semaphore: network telemetry (Cisco Meraki uplink loss and latency, clients) onto Apache Kafka.
#[derive(Debug, Parser)]
#[command(name = "semaphore", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// See it work in one minute, no account: simulator + embedded Kafka + collector + live view.
    Demo(DemoArgs),
    /// The daemon: every source and output of a config file, admin HTTP on 127.0.0.1, until SIGINT/SIGTERM.
    Run(RunArgs),
    /// The original scripts' jobs from flags alone: publish loss/latency or clients, once or on an interval.
    Publish(PublishArgs),
    /// Run the Meraki Dashboard API simulator (for tests, demos and benchmarks; no account needed).
    Simulate(SimulateArgs),
    /// Validate a config file (-c) and reach Meraki and Kafka; or, without -c, report what the key can see.
    Check(CheckArgs),
    /// Run the embedded Kafka-compatible broker on its own (any Kafka client can use it).
    Broker(BrokerArgs),
    /// List, create, describe or delete Kafka topics.
    Topics(TopicsArgs),
    /// Read records from Kafka topics and print them (kcat-style).
    Consume(ConsumeArgs),
}

/// How to reach Kafka; shared by every command that talks to it.
#[derive(Debug, Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers, host:port,... (default: the embedded broker's address, 127.0.0.1:9092).
    #[arg(long, global = true, env = "SEMAPHORE_BROKERS", value_name = "HOST:PORT,...")]
    pub brokers: Option<String>,
    /// PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. Credentials come from SEMAPHORE_KAFKA_USERNAME /
    /// SEMAPHORE_KAFKA_PASSWORD, or CLUSTER_API_KEY / CLUSTER_API_SECRET.
    #[arg(long, global = true, value_name = "PROTOCOL")]
    pub security_protocol: Option<String>,
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(long, global = true, value_name = "MECHANISM")]
    pub sasl_mechanism: Option<String>,
    /// CA certificate (PEM) to trust for SSL.
    #[arg(long, global = true, value_name = "FILE")]
    pub ssl_ca_location: Option<PathBuf>,
    /// A Confluent client.properties file ({{ NAME }} placeholders are read from the environment).
    #[arg(long, global = true, value_name = "FILE")]
    pub client_properties: Option<PathBuf>,
    /// A raw librdkafka option, repeatable; may not contradict another setting.
    #[arg(short = 'X', global = true, value_name = "KEY=VALUE")]
    pub librdkafka: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Address to listen on, advertised to clients as is.
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub listen: SocketAddr,
    /// Address clients are told to connect to, when it differs from --listen (e.g. a TLS terminator in front).
    #[arg(long, value_name = "HOST:PORT")]
    pub advertise: Option<String>,
    /// Keep topics, records and committed offsets in DIR/broker.db (SQLite), across restarts.
    /// Default: SEMAPHORE_DATA_DIR, else ~/.local/share/semaphore.
    #[arg(long, value_name = "DIR", conflicts_with = "memory")]
    pub data_dir: Option<PathBuf>,
    /// Throw-away storage (a temporary database removed at exit): nothing survives a restart (tests, demos).
    #[arg(long)]
    pub memory: bool,
    /// Speak TLS on --listen with this certificate (PEM: the server's, then any intermediates); clients then
    /// connect with --security-protocol SSL, or SASL_SSL with --sasl-users.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require a SASL login (SCRAM-SHA-256 or SCRAM-SHA-512; nisshi has no PLAIN) as a user of FILE: one
    /// USERNAME:PASSWORD per line, '#' starts a comment. SEMAPHORE_BROKER_USERNAME and
    /// SEMAPHORE_BROKER_PASSWORD add a user (and alone require the login too). With --data-dir, users left
    /// out since the last start are removed.
    #[arg(long, value_name = "FILE")]
    pub sasl_users: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TopicsArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(subcommand)]
    pub action: TopicsAction,
}

#[derive(Debug, Subcommand)]
pub enum TopicsAction {
    /// Topic names and partition counts.
    List,
    /// Create a topic.
    Create {
        /// 1 to 249 letters, digits, '.', '_' or '-', not "." or ".." (Kafka's rule).
        name: String,
        /// Partitions, 1 to 1000 (default: Confluent Cloud's).
        // Negative numbers reach the range check, whose message states the rule, instead of clap's
        // "unexpected argument".
        #[arg(long, default_value_t = 6, allow_negative_numbers = true)]
        partitions: i32,
        /// Replicas per partition, at most the number of brokers (default: 3, or the number of brokers where
        /// fewer: 1 on the embedded one).
        #[arg(long, allow_negative_numbers = true)]
        replication_factor: Option<i32>,
    },
    /// Partitions, leaders, replicas and watermarks of a topic.
    Describe {
        name: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Delete a topic and its records.
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// Topics to read.
    #[arg(required = true, value_name = "TOPIC")]
    pub topics: Vec<String>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Consumer group: resume from its committed offsets and commit each record after printing it.
    #[arg(short = 'G', long = "group", value_name = "GROUP")]
    pub group: Option<String>,
    /// Start at: beginning, end, stored (with -G), N, -N (N before the end), @MILLISECONDS or @RFC3339-TIME.
    /// Default: stored with -G (new groups start at the beginning), beginning without.
    #[arg(
        short = 'o',
        long = "offset",
        value_name = "OFFSET",
        allow_hyphen_values = true
    )]
    pub offset: Option<String>,
    /// Stop after N records.
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,
    /// Exit once every partition has been read to its end.
    #[arg(short = 'e', long = "exit-at-end")]
    pub exit_at_end: bool,
    /// Only this partition, repeatable (not with -G).
    #[arg(short = 'p', long = "partition", value_name = "N")]
    pub partitions: Vec<i32>,
    /// json (one envelope per line), pretty, value, or a format string: %t topic, %p partition, %o offset,
    /// %k key, %s value, %T timestamp (ms), %h headers, \n, \t.
    #[arg(short = 'f', long, default_value = "json", value_name = "FORMAT")]
    pub format: String,
    /// How long one poll waits for records, milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub poll_timeout_ms: u64,
    /// Stop after this many polls (the original consumer's option).
    #[arg(long, value_name = "N")]
    pub polls: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Address to listen on; the API is served under http://ADDR/api/v1.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Seed of the generated estate and its loss/latency series; same seed, same answers.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of organizations (at most 10,000).
    #[arg(
        long,
        default_value_t = 1,
        value_parser = count_up_to::<{ MAX_ORGANIZATIONS }>,
        allow_negative_numbers = true
    )]
    pub organizations: usize,
    /// Networks per organization, the appliances spread round-robin over them (at most 100,000); 0 = sized
    /// to the appliances, like a real estate: mostly one MX per branch, some HA pairs, a hub of 4-8 every
    /// 40th network.
    #[arg(
        long,
        default_value_t = 3,
        value_parser = count_up_to::<{ MAX_NETWORKS }>,
        allow_negative_numbers = true
    )]
    pub networks: usize,
    /// MX appliances per organization, spread over its networks (10,000 and more are fine; at most
    /// 1,000,000, and 2,000,000 networks and appliances over all organizations).
    #[arg(
        long,
        default_value_t = 6,
        value_parser = count_up_to::<{ MAX_APPLIANCES }>,
        allow_negative_numbers = true
    )]
    pub appliances: usize,
    /// Clients per network (at most 100,000).
    #[arg(
        long,
        default_value_t = 20,
        value_parser = count_up_to::<{ MAX_CLIENTS_PER_NETWORK }>,
        allow_negative_numbers = true
    )]
    pub clients_per_network: usize,
    /// Requests per second per organization before answering 429 (Meraki: 10, with a burst of 10); 0 = no limit.
    #[arg(long, default_value_t = 10)]
    pub rate_limit: u32,
    /// Accept only this API key (default: any non-empty key).
    #[arg(long, env = "SEMAPHORE_SIM_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Send page links as absolute URLs, as Meraki's docs show them (default: paths relative to the API base,
    /// as Meraki's spec calls them and as its Python SDK needs them for a host outside meraki.com).
    #[arg(long)]
    pub absolute_links: bool,
    /// Inject a fault, repeatable: latency-ms=N, error-rate=SHARE, storm=N (next N requests get 429),
    /// truncate-rate=SHARE, malformed-rate=SHARE, redirect-rate=SHARE, redirect-to=URL.
    #[arg(long = "fault", value_name = "KIND=VALUE")]
    pub faults: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A semaphore.toml to validate; then Meraki and Kafka are reached as it says.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Meraki API base URL, or a region: global, ca, cn, in, us-fed (default global). Key from
    /// MERAKI_DASHBOARD_API_KEY.
    #[arg(long, env = "SEMAPHORE_MERAKI_URL")]
    pub meraki_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config file (every option: examples/semaphore.toml).
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        default_value = "semaphore.toml"
    )]
    pub config: PathBuf,
    #[command(flatten)]
    pub drain: DrainArgs,
    /// One cycle of every source (catching up any gap), then exit: for cron jobs and benchmarks.
    #[arg(long)]
    pub once: bool,
}

/// How long stopping may take; shared by `run` and `publish`.
#[derive(Debug, Args)]
pub struct DrainArgs {
    /// Seconds the drain may take after SIGINT/SIGTERM (finish the window being written, flush Kafka); exit
    /// code 1 if records were still unacknowledged then.
    #[arg(
        long,
        env = "SEMAPHORE_GRACE_PERIOD_S",
        default_value_t = semaphore::pipeline::DEFAULT_GRACE.as_secs(),
        value_name = "S",
        value_parser = seconds,
        allow_negative_numbers = true
    )]
    pub grace_period_s: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated MX appliances per organization (at most 1,000,000), in networks sized like a real estate's.
    #[arg(
        long,
        default_value_t = 20,
        value_parser = count_up_to::<{ MAX_APPLIANCES }>,
        allow_negative_numbers = true
    )]
    pub appliances: usize,
    /// Simulated organizations (at most 10,000).
    #[arg(
        long,
        default_value_t = 1,
        value_parser = count_up_to::<{ MAX_ORGANIZATIONS }>,
        allow_negative_numbers = true
    )]
    pub organizations: usize,
    /// Where the embedded broker listens (a free port is used when this one is taken).
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub broker_listen: SocketAddr,
    /// Where the admin server listens (a free port is used when this one is taken).
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub admin_listen: SocketAddr,
    /// Where the web dashboard listens (a free port is used when this one is taken).
    #[arg(long, default_value = "127.0.0.1:9470")]
    pub dashboard_listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(subcommand)]
    pub what: PublishWhat,
}

#[derive(Debug, Subcommand)]
pub enum PublishWhat {
    /// Uplink loss and latency of every MX (one org-wide call per organization per poll).
    LossLatency {
        #[command(flatten)]
        common: PublishCommon,
        /// First run only: how far back to start reading loss/latency, seconds (at most 60 days).
        #[arg(
            long,
            default_value_t = 300,
            value_name = "S",
            value_parser = positive_seconds,
            allow_negative_numbers = true
        )]
        initial_lookback: u64,
    },
    /// The clients of every network, one record per network.
    Clients {
        #[command(flatten)]
        common: PublishCommon,
        /// The original's JSON filter file: {"match": "any"|"all", "conditions": [{"key", "value"}], "fuzzy": {"key", "value"}}.
        #[arg(long, value_name = "FILE")]
        filter: Option<PathBuf>,
        /// How far back Meraki looks for clients, seconds (at most 31 days).
        #[arg(
            long,
            default_value_t = 86_400,
            value_name = "S",
            value_parser = positive_seconds,
            allow_negative_numbers = true
        )]
        timespan: u64,
    },
}

#[derive(Debug, Args)]
pub struct PublishCommon {
    /// Meraki API base URL, or a region: global, ca, cn, in, us-fed. Key from MERAKI_DASHBOARD_API_KEY.
    #[arg(long, env = "SEMAPHORE_MERAKI_URL")]
    pub meraki_url: Option<String>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Where watermarks (and the embedded broker's data) live.
    #[arg(long, env = "SEMAPHORE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Kafka topic (default meraki.uplinks.loss_latency or meraki.clients).
    #[arg(long)]
    pub topic: Option<String>,
    /// Record key: serial, serial/uplink, networkId, none, or a fixed string (default serial; networkId for clients).
    #[arg(long)]
    pub key: Option<String>,
    /// Where records go, repeatable: kafka, syslog, stdout (default kafka).
    #[arg(long = "output", value_enum, value_name = "OUTPUT")]
    pub outputs: Vec<PublishOutput>,
    /// Syslog destination for --output syslog: udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT.
    #[arg(long, value_name = "URL", default_value = "udp://127.0.0.1:514")]
    pub syslog: String,
    /// CA certificate (PEM) to trust for a tls:// syslog destination (default: the Mozilla roots).
    #[arg(long, value_name = "FILE")]
    pub syslog_ca: Option<PathBuf>,
    /// Only these organizations (id or name), repeatable.
    #[arg(long = "organization", value_name = "ID|NAME")]
    pub organizations: Vec<String>,
    /// Only these networks (id, name glob or tag:NAME), repeatable.
    #[arg(long = "network", value_name = "ID|GLOB|tag:NAME")]
    pub networks: Vec<String>,
    /// One poll, then exit.
    #[arg(long, conflicts_with = "interval")]
    pub once: bool,
    /// Seconds between polls (default 60 for loss/latency, 300 for clients).
    #[arg(
        long,
        value_name = "S",
        value_parser = positive_seconds,
        allow_negative_numbers = true
    )]
    pub interval: Option<u64>,
    /// Serve /metrics, /healthz, /readyz on this address (off by default for publish).
    #[arg(long, value_name = "IP:PORT")]
    pub admin_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub drain: DrainArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PublishOutput {
    Kafka,
    Syslog,
    Stdout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// A count from 0 to `MAX`, for the size of a simulated estate: the simulator holds the whole estate in
/// memory, so an absurd size is refused here, with the flag named, instead of aborting on the allocation.
fn count_up_to<const MAX: usize>(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|count| *count <= MAX)
        .ok_or_else(|| format!("must be a whole number from 0 to {MAX}"))
}

/// Seconds that must be at least one (an interval, a look-back). Negative numbers reach this parser (the
/// flags allow them), so `--interval -5` is called an invalid value rather than an unexpected argument.
fn positive_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(seconds),
        _ => Err("must be a positive number of seconds".to_owned()),
    }
}

/// Seconds that may be 0 (a grace period of 0 stops at once).
fn seconds(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| "must be a number of seconds, 0 or more".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// The error clap gives for `arguments`, rendered as the user sees it.
    fn refusal(arguments: &[&str]) -> (ErrorKind, String) {
        let error = Cli::try_parse_from(arguments).expect_err("the arguments are refused");
        (error.kind(), error.to_string())
    }

    /// Issue 11: absurd estate sizes are refused naming the flag and its limit; the documented scale passes.
    #[test]
    fn estate_sizes_are_bounded() {
        assert_eq!(count_up_to::<10>("10"), Ok(10));
        assert_eq!(count_up_to::<10>("0"), Ok(0));
        for text in ["11", "-1", "ten", "", "18446744073709551616"] {
            assert_eq!(
                count_up_to::<10>(text),
                Err("must be a whole number from 0 to 10".to_owned()),
                "{text:?}"
            );
        }
        for (flag, value, limit) in [
            ("--appliances", "4294967295", "1000000"),
            ("--appliances", "18446744073709551615", "1000000"),
            ("--organizations", "10001", "10000"),
            ("--networks", "100001", "100000"),
            ("--clients-per-network", "-5", "100000"),
        ] {
            let (kind, message) = refusal(&["semaphore", "simulate", flag, value]);
            assert_eq!(kind, ErrorKind::ValueValidation, "{message}");
            assert!(message.contains(flag) && message.contains(limit), "{message}");
        }
        let (kind, message) = refusal(&["semaphore", "demo", "--appliances", "4294967295"]);
        assert_eq!(kind, ErrorKind::ValueValidation, "{message}");
        assert!(Cli::try_parse_from(["semaphore", "simulate", "--appliances", "50000"]).is_ok());
    }

    /// Issue 11: a negative number is an invalid value of the flag, not an unexpected argument.
    #[test]
    fn negative_seconds_are_invalid_values() {
        assert_eq!(positive_seconds("60"), Ok(60));
        assert!(positive_seconds("0").is_err() && positive_seconds("-5").is_err());
        assert_eq!(seconds("0"), Ok(0));
        let refused: [&[&str]; 3] = [
            &["semaphore", "publish", "loss-latency", "--interval", "-5"],
            &["semaphore", "publish", "loss-latency", "--initial-lookback", "-1"],
            &["semaphore", "publish", "clients", "--timespan", "-60"],
        ];
        for arguments in refused {
            let (kind, message) = refusal(arguments);
            assert_eq!(kind, ErrorKind::ValueValidation, "{message}");
            assert!(
                message.contains("must be a positive number of seconds"),
                "{message}"
            );
        }
        let (kind, message) = refusal(&["semaphore", "run", "--grace-period-s", "-1"]);
        assert_eq!(kind, ErrorKind::ValueValidation, "{message}");
        assert!(message.contains("--grace-period-s"), "{message}");
    }

    /// Issue 11: `--initial-lookback` is loss/latency's; `publish clients` looks back `--timespan`.
    #[test]
    fn initial_lookback_is_for_loss_latency_only() {
        let (kind, _) = refusal(&["semaphore", "publish", "clients", "--initial-lookback", "60"]);
        assert_eq!(kind, ErrorKind::UnknownArgument);
        assert!(
            Cli::try_parse_from(["semaphore", "publish", "loss-latency", "--initial-lookback", "60"]).is_ok()
        );
    }
}
