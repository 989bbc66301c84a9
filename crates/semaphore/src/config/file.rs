//! What the user can write in `semaphore.toml`: plain serde structs, every one `deny_unknown_fields` so a typo
//! fails at load time with its line. Defaults are named functions that say where the value comes from.
//! [`crate::config::validate`] turns this into the [`crate::config::Config`] the runtime uses.
//! Lists that select (organizations, networks, uplinks, a sink's topics…) are `Option`s, so validation can
//! tell a key left out (all, or the default) from `[]`, which reads as "none" and is refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// `[sources]` is declared by the list of source kinds, with each kind's table in its own module.
pub use crate::sources::SourcesSection;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Where watermarks and the embedded broker's database live. Default: `SEMAPHORE_DATA_DIR`, else
    /// `~/.local/share/semaphore`.
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub meraki: MerakiSection,
    #[serde(default)]
    pub kafka: KafkaSection,
    #[serde(default)]
    pub admin: AdminSection,
    #[serde(default)]
    pub sources: SourcesSection,
    #[serde(default)]
    pub outputs: OutputsSection,
    #[serde(default)]
    pub sinks: SinksSection,
}

/// `[meraki]`: where the Dashboard API is. The key comes from `MERAKI_DASHBOARD_API_KEY` only.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerakiSection {
    /// Base URL or region: `global` (default), `ca`, `cn`, `in`, `us-fed`, or `https://…/api/v1`.
    pub url: Option<String>,
    /// Time limit of one HTTP request, seconds.
    #[serde(default = "default_meraki_timeout_s")]
    pub timeout_s: u64,
}

impl Default for MerakiSection {
    fn default() -> Self {
        Self {
            url: None,
            timeout_s: default_meraki_timeout_s(),
        }
    }
}

/// 30 s: Meraki answers within a few seconds; a minute-long interval leaves room for one retry.
const fn default_meraki_timeout_s() -> u64 {
    30
}

/// `[kafka]`: the cluster. No `brokers` (and no `client_properties`): the embedded broker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSection {
    /// `host:port,…`.
    pub brokers: Option<String>,
    /// `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`. Credentials from `SEMAPHORE_KAFKA_USERNAME` /
    /// `SEMAPHORE_KAFKA_PASSWORD` or `CLUSTER_API_KEY` / `CLUSTER_API_SECRET`.
    pub security_protocol: Option<String>,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl_mechanism: Option<String>,
    /// CA certificate (PEM) for SSL.
    pub ssl_ca_location: Option<PathBuf>,
    /// A Confluent `client.properties` file.
    pub client_properties: Option<PathBuf>,
    /// Raw librdkafka options; may not contradict the settings above or semaphore's producer defaults.
    #[serde(default)]
    pub librdkafka: BTreeMap<String, String>,
    /// Where the embedded broker listens when no brokers are given.
    #[serde(default = "default_embedded_listen")]
    pub embedded_listen: String,
}

impl Default for KafkaSection {
    fn default() -> Self {
        Self {
            brokers: None,
            security_protocol: None,
            sasl_mechanism: None,
            ssl_ca_location: None,
            client_properties: None,
            librdkafka: BTreeMap::new(),
            embedded_listen: default_embedded_listen(),
        }
    }
}

/// The Kafka port every client tries first.
fn default_embedded_listen() -> String {
    "127.0.0.1:9092".into()
}

/// `[admin]`: the admin HTTP server (`/metrics`, `/healthz`, `/readyz`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// Address to listen on; loopback by default so metrics are not exposed by accident. `""` turns it off.
    #[serde(default = "default_admin_listen")]
    pub listen: String,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            listen: default_admin_listen(),
        }
    }
}

/// 9464: the port the OpenTelemetry Prometheus exporter uses; free on most hosts.
fn default_admin_listen() -> String {
    "127.0.0.1:9464".into()
}

/// `[outputs]`: where records go; any combination. None at all means Kafka.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsSection {
    pub kafka: Option<KafkaOutputFile>,
    #[serde(default)]
    pub syslog: Vec<SyslogOutputFile>,
    pub stdout: Option<StdoutOutputFile>,
    #[serde(default)]
    pub file: Vec<FileOutputFile>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaOutputFile {
    /// Create missing topics on first use (default true).
    pub create_topics: Option<bool>,
    /// Partitions of created topics (default 6, Confluent Cloud's default).
    pub partitions: Option<i32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogOutputFile {
    /// `udp://HOST:PORT`, `tcp://HOST:PORT` (octet counting) or `tls://HOST:PORT`.
    pub endpoint: String,
    /// Facility name: `local0` (default) … `local7`, `user`, `daemon`.
    pub facility: Option<String>,
    /// APP-NAME (default `semaphore`).
    pub app_name: Option<String>,
    /// HOSTNAME (default this host's name).
    pub hostname: Option<String>,
    /// CA certificate (PEM) to trust for `tls://` (default: the Mozilla roots).
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutOutputFile {}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOutputFile {
    /// JSON lines are appended to this file.
    pub path: PathBuf,
}

/// `[sinks]`: consumers of the topics, each reading through its own consumer group.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksSection {
    #[serde(default)]
    pub influxdb: Vec<InfluxSinkFile>,
    #[serde(default)]
    pub prometheus: Vec<PrometheusSinkFile>,
    #[serde(default)]
    pub webhook: Vec<WebhookSinkFile>,
    #[serde(default)]
    pub alerts: Vec<AlertsSinkFile>,
    pub dashboard: Option<DashboardSinkFile>,
}

/// `[[sinks.influxdb]]`: line protocol to InfluxDB 1.x (`database`) or 2.x (`org` + `bucket`, token from
/// `SEMAPHORE_INFLUXDB_TOKEN`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfluxSinkFile {
    /// Names the sink in logs and metrics (default `influxdb`, `influxdb_2`…).
    pub id: Option<String>,
    /// Topics to read (default `meraki.uplinks.loss_latency`).
    pub topics: Option<Vec<String>>,
    /// Consumer group (default `semaphore-<id>`).
    pub group: Option<String>,
    /// Where a new group starts: `earliest` (default: everything the topic holds) or `latest`.
    pub start: Option<String>,
    /// Records per write (default 1000).
    pub batch_size: Option<usize>,
    /// Where malformed or refused records go (default `semaphore.dead_letter`).
    pub dead_letter_topic: Option<String>,
    /// `http://HOST:8086`.
    pub endpoint: String,
    /// 1.x: the database.
    pub database: Option<String>,
    /// 1.x: the retention policy (default: the database's default).
    pub retention_policy: Option<String>,
    /// 2.x: the organization.
    pub org: Option<String>,
    /// 2.x: the bucket.
    pub bucket: Option<String>,
    /// Measurement name (default `meraki_uplink`).
    pub measurement: Option<String>,
    /// Time limit of one write, seconds (default 10).
    pub timeout_s: Option<u64>,
}

/// `[[sinks.prometheus]]`: gauges per uplink on their own `/metrics`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSinkFile {
    pub id: Option<String>,
    pub topics: Option<Vec<String>>,
    pub group: Option<String>,
    pub start: Option<String>,
    pub batch_size: Option<usize>,
    pub dead_letter_topic: Option<String>,
    /// Address to serve `/metrics` on (default `127.0.0.1:9273`, Telegraf's prometheus_client port).
    pub listen: Option<String>,
    /// Seconds without a sample after which an uplink's series disappears (default 600).
    pub expire_after_s: Option<u64>,
    /// Most series exported (default 100000); further uplinks are counted, not shown.
    pub max_series: Option<usize>,
}

/// `[[sinks.webhook]]`: records POSTed as JSON (Event-Driven Ansible's webhook source takes them as-is).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSinkFile {
    pub id: Option<String>,
    pub topics: Option<Vec<String>>,
    pub group: Option<String>,
    pub start: Option<String>,
    /// Records per POST (default 1: each record is one body, one EDA event).
    pub batch_size: Option<usize>,
    pub dead_letter_topic: Option<String>,
    /// `http(s)://…`.
    pub url: String,
    /// Extra request headers (not secrets: use `token_env`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Environment variable holding a token sent as `Authorization: Bearer …`.
    pub token_env: Option<String>,
    /// Attempts per POST before the records go to the dead-letter topic (default 5).
    pub max_attempts: Option<u32>,
    /// Time limit of one POST, seconds (default 10).
    pub timeout_s: Option<u64>,
}

/// `[[sinks.alerts]]`: rules evaluated per uplink; events to the alerts topic and optionally a webhook.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSinkFile {
    pub id: Option<String>,
    pub topics: Option<Vec<String>>,
    pub group: Option<String>,
    pub start: Option<String>,
    pub batch_size: Option<usize>,
    pub dead_letter_topic: Option<String>,
    /// Where firing and resolved events go (default `semaphore.alerts`).
    pub alerts_topic: Option<String>,
    /// Also POST each event here.
    pub webhook: Option<AlertWebhookFile>,
    /// The rules (`[[sinks.alerts.rule]]`).
    #[serde(default)]
    pub rule: Vec<AlertRuleFile>,
}

/// `[sinks.alerts.webhook]`: the same keys as a webhook sink's target.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertWebhookFile {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub token_env: Option<String>,
    pub max_attempts: Option<u32>,
    pub timeout_s: Option<u64>,
}

/// `[[sinks.alerts.rule]]`: `metric` above `above`, for `for_samples` consecutive samples or on average over
/// `average_over_s` seconds (one of the two).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleFile {
    /// Names the alert in events (unique within the sink).
    pub name: String,
    /// `loss_percent`, `latency_ms` or `down`.
    pub metric: String,
    /// Threshold (percent for loss, milliseconds for latency; default 0 for `down`).
    pub above: Option<f64>,
    pub for_samples: Option<u32>,
    pub average_over_s: Option<u64>,
}

/// `[sinks.dashboard]`: the live web page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSinkFile {
    /// Address to serve the page on (default `127.0.0.1:9470`).
    pub listen: Option<String>,
    /// Topics: uplink samples and alert events (default `meraki.uplinks.loss_latency`, `semaphore.alerts`).
    pub topics: Option<Vec<String>>,
    /// Seconds of history charted (default 3600).
    pub history_s: Option<u64>,
    pub dead_letter_topic: Option<String>,
}
