//! `semaphore.toml`: loaded in two phases, as STYLE.md asks. [`file`] is what the user writes (serde, unknown
//! keys rejected with their line); [`validate`] checks every value and builds the [`Config`] the pipeline
//! runs. Validation touches nothing but the config and the files it names (a clients filter file, the
//! `[inventory]` device file), never the network. Secrets are never in the file: the environment holds them.

pub mod file;
mod one_or_many;
pub mod sinks;
pub mod validation;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use self::one_or_many::one_or_many;
use crate::bus::config::KafkaConnection;
use crate::config::file::{ConfigFile, KafkaSection};
pub use crate::config::sinks::{ALERTS_TOPIC, DEAD_LETTER_TOPIC, SinkConfig, SinkKind};
use crate::config::validation::Validation;
use crate::device_identity::InventoryConfig;
use crate::env::Env;
use crate::outputs::kafka::KafkaOutputConfig;
pub use crate::outputs::registry::OutputConfig;
use crate::sources::SourceConfig;
pub use crate::sources::meraki_clients::CLIENTS_TOPIC;
pub use crate::sources::meraki_history::HISTORY_TOPIC;
pub use crate::sources::meraki_uplinks::UPLINKS_TOPIC;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read the config file {path}: {source}; examples/semaphore.toml in semaphore's repository shows every option"
    )]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {key}: {reason}")]
    Invalid {
        path: PathBuf,
        key: String,
        reason: String,
    },
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub meraki_url: Option<String>,
    pub meraki_timeout: Duration,
    pub kafka: KafkaConnection,
    pub embedded_listen: SocketAddr,
    pub admin_listen: Option<SocketAddr>,
    /// `[inventory]`: the device file's devices, and whether Meraki's name senders too.
    pub inventory: InventoryConfig,
    /// Every source, of every kind (see `sources::registry`).
    pub sources: Vec<SourceConfig>,
    /// Every output, of every kind (see `outputs::registry`); none declared means Kafka when there are
    /// sources, and nothing with sinks alone.
    pub outputs: Vec<OutputConfig>,
    pub sinks: Vec<SinkConfig>,
}

impl Config {
    pub fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// Whether any source polls the Meraki Dashboard API.
    pub fn uses_meraki(&self) -> bool {
        self.sources.iter().any(SourceConfig::uses_meraki)
    }

    /// The Kafka output's settings, when it is declared (or implied: sources and no output at all).
    pub fn kafka_output(&self) -> Option<&KafkaOutputConfig> {
        self.outputs.iter().find_map(OutputConfig::kafka)
    }
}

/// Reads and validates a config file.
pub fn load(path: &Path, env: &dyn Env) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    // toml's message is a snippet over several lines (the line number, the line, a caret under the mistake,
    // then what is wrong): kept as toml prints it, since on one line the caret points nowhere.
    let mut file: ConfigFile = toml::from_str(&text).map_err(|error| ConfigError::Parse {
        path: path.to_owned(),
        message: error.to_string().trim_end().to_owned(),
    })?;
    // The environment overrides the file (and a flag the environment, where the command has one).
    if let Some(url) = env.get(crate::env::SEMAPHORE_MERAKI_URL) {
        file.meraki.url = Some(url);
    }
    validate(file, path, env)
}

/// Checks every value; `path` names the file in errors and anchors relative paths (filter files).
pub fn validate(file: ConfigFile, path: &Path, env: &dyn Env) -> Result<Config, ConfigError> {
    if file.meraki.timeout_s == 0 {
        return Err(Validation::new(path, Duration::ZERO).invalid("meraki.timeout_s", "must be at least 1"));
    }
    let meraki_timeout = Duration::from_secs(file.meraki.timeout_s);
    let mut validation = Validation::new(path, meraki_timeout);
    let sources = file.sources.validate(&mut validation)?;
    let kafka = kafka_connection(&file.kafka)
        .map_err(|(key, reason)| validation.invalid(format!("kafka.{key}"), reason))?;
    let embedded_listen: SocketAddr = file.kafka.embedded_listen.parse().map_err(|_| {
        validation.invalid(
            "kafka.embedded_listen",
            format!(
                "{:?} is not HOST:PORT with an IP address",
                file.kafka.embedded_listen
            ),
        )
    })?;
    let admin_listen = if file.admin.listen.is_empty() {
        None
    } else {
        Some(file.admin.listen.parse().map_err(|_| {
            validation.invalid(
                "admin.listen",
                format!(
                    "{:?} is not IP:PORT (use 127.0.0.1:9464, or \"\" to turn it off)",
                    file.admin.listen
                ),
            )
        })?)
    };
    let inventory = file.inventory.validate(&validation)?;
    let outputs = file.outputs.validate(&mut validation, !sources.is_empty())?;
    let sinks = file.sinks.validate(&mut validation)?;
    let config = Config {
        data_dir: file
            .data_dir
            .as_deref()
            .map(|directory| validation.relative(directory))
            .unwrap_or_else(|| crate::env::data_dir(env)),
        meraki_url: file.meraki.url.clone(),
        meraki_timeout,
        kafka,
        embedded_listen,
        admin_listen,
        inventory,
        sources,
        outputs,
        sinks,
    };
    if config.source_count() == 0 && config.sinks.is_empty() {
        return Err(validation.invalid(
            "sources",
            "no source or sink configured: add [[sources.meraki_uplinks]], [[sources.meraki_device_history]], [[sources.meraki_clients]] or a [sinks] block",
        ));
    }
    Ok(config)
}

/// The Kafka connection a `[kafka]` section (or the equivalent flags) describes; errors name the key.
pub fn kafka_connection(section: &KafkaSection) -> Result<KafkaConnection, (String, String)> {
    if let Some(brokers) = &section.brokers {
        crate::bus::config::check_brokers(brokers).map_err(|reason| ("brokers".to_owned(), reason))?;
    }
    let mut connection = KafkaConnection {
        brokers: section.brokers.clone(),
        ssl_ca_location: section.ssl_ca_location.clone(),
        client_properties: section.client_properties.clone(),
        librdkafka: section.librdkafka.clone(),
        ..Default::default()
    };
    if let Some(protocol) = &section.security_protocol {
        connection.security_protocol = Some(
            protocol
                .parse()
                .map_err(|reason| ("security_protocol".to_owned(), reason))?,
        );
    }
    if let Some(mechanism) = &section.sasl_mechanism {
        connection.sasl_mechanism = Some(
            mechanism
                .parse()
                .map_err(|reason| ("sasl_mechanism".to_owned(), reason))?,
        );
    }
    Ok(connection)
}

/// What an empty selecting list is told: `uplinks = []` reads as "no uplinks", yet a filter with nothing in
/// it keeps everything, so the list must be left out to mean all.
/// Kafka's own rule for topic names (its `Topic.validate`): 1 to 249 characters, each a letter, digit, '.',
/// '_' or '-', and neither "." nor "..". Config files, `publish --topic` and `topics` all check names here,
/// so a name Kafka would refuse is a usage error before anything reaches the cluster.
pub fn topic_name(name: &str) -> Result<(), String> {
    let valid = (1..=249).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-'));
    if valid {
        return Ok(());
    }
    Err(format!(
        "{name:?} is not a valid Kafka topic name: 1 to 249 characters, each a letter, digit, '.', '_' or \
         '-', and not \".\" or \"..\""
    ))
}

#[cfg(test)]
mod tests;
