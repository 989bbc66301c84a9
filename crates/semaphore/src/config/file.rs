//! What the user can write in `semaphore.toml`: plain serde structs, every one `deny_unknown_fields` so a typo
//! fails at load time with its line. Defaults are named functions that say where the value comes from.
//! [`crate::config::validate`] turns this into the [`crate::config::Config`] the runtime uses.
//! Lists that select (organizations, networks, uplinks, a sink's topics…) are `Option`s, so validation can
//! tell a key left out (all, or the default) from `[]`, which reads as "none" and is refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// `[inventory]`: who each sender is, in its own module with the directory it fills.
pub use crate::device_identity::InventorySection;
/// The output kinds' tables, for the commands that write a config in code (`publish`, `demo`).
pub use crate::outputs::kafka::KafkaOutputFile;
pub use crate::outputs::lines::{FileOutputFile, StdoutOutputFile};
/// `[outputs]` is declared by the list of output kinds, with each kind's table in its own module.
pub use crate::outputs::registry::OutputsSection;
pub use crate::outputs::syslog::SyslogOutputFile;
/// `[sinks]` likewise, by the list of sink kinds.
pub use crate::sinks::registry::SinksSection;
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
    /// Who each sender is: a device file, and the Meraki sources' devices.
    #[serde(default)]
    pub inventory: InventorySection,
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
