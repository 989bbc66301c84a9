//! The environment variables semaphore reads, in one place, and a lookup trait so tests pass a map instead of
//! changing the process environment.

use std::collections::HashMap;

pub use semaphore_meraki::MERAKI_DASHBOARD_API_KEY;

/// Meraki base URL or region name (`global`, `ca`, `cn`, `in`, `us-fed`); same as `--meraki-url`.
pub const SEMAPHORE_MERAKI_URL: &str = "SEMAPHORE_MERAKI_URL";
/// Log filter in `tracing` syntax, e.g. `info` or `semaphore_meraki=debug`.
pub const SEMAPHORE_LOG: &str = "SEMAPHORE_LOG";
/// Log format: `plain` (default) or `json`.
pub const SEMAPHORE_LOG_FORMAT: &str = "SEMAPHORE_LOG_FORMAT";
/// Any non-empty value turns coloured logs off, even on a terminal (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";

/// Kafka bootstrap servers, `host:port,...`; same as `--brokers`. Unset: the embedded broker.
pub const SEMAPHORE_BROKERS: &str = "SEMAPHORE_BROKERS";
/// SASL username for Kafka.
pub const SEMAPHORE_KAFKA_USERNAME: &str = "SEMAPHORE_KAFKA_USERNAME";
/// SASL password for Kafka; never printed.
pub const SEMAPHORE_KAFKA_PASSWORD: &str = "SEMAPHORE_KAFKA_PASSWORD";
/// Confluent Cloud API key, read as the SASL username when `SEMAPHORE_KAFKA_USERNAME` is unset (the original
/// scripts' variable).
pub const CLUSTER_API_KEY: &str = "CLUSTER_API_KEY";
/// Confluent Cloud API secret, read as the SASL password when `SEMAPHORE_KAFKA_PASSWORD` is unset.
pub const CLUSTER_API_SECRET: &str = "CLUSTER_API_SECRET";

/// A user `semaphore broker` lets log in (with `SEMAPHORE_BROKER_PASSWORD`), besides those of `--sasl-users`;
/// any user makes the broker require a SASL login.
pub const SEMAPHORE_BROKER_USERNAME: &str = "SEMAPHORE_BROKER_USERNAME";
/// The password of `SEMAPHORE_BROKER_USERNAME`; never printed.
pub const SEMAPHORE_BROKER_PASSWORD: &str = "SEMAPHORE_BROKER_PASSWORD";

/// InfluxDB 2.x API token for the InfluxDB sink (sent as `Authorization: Token …`); never printed.
pub const SEMAPHORE_INFLUXDB_TOKEN: &str = "SEMAPHORE_INFLUXDB_TOKEN";
/// InfluxDB 1.x user for the InfluxDB sink (HTTP basic authentication).
pub const SEMAPHORE_INFLUXDB_USERNAME: &str = "SEMAPHORE_INFLUXDB_USERNAME";
/// InfluxDB 1.x password; never printed.
pub const SEMAPHORE_INFLUXDB_PASSWORD: &str = "SEMAPHORE_INFLUXDB_PASSWORD";

/// Where semaphore keeps state (the embedded broker's database, watermarks). Default:
/// `~/.local/share/semaphore`.
pub const SEMAPHORE_DATA_DIR: &str = "SEMAPHORE_DATA_DIR";

/// The data directory: `SEMAPHORE_DATA_DIR`, else `$HOME/.local/share/semaphore`, else `./semaphore-data`.
pub fn data_dir(env: &dyn Env) -> std::path::PathBuf {
    env.get(SEMAPHORE_DATA_DIR).map(Into::into).unwrap_or_else(|| {
        env.get("HOME").map_or_else(
            || "semaphore-data".into(),
            |home| std::path::Path::new(&home).join(".local/share/semaphore"),
        )
    })
}

/// Reads environment variables.
pub trait Env: Sync {
    fn get(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}
