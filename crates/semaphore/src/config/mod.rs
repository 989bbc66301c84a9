//! `semaphore.toml`: loaded in two phases, as STYLE.md asks. [`file`] is what the user writes (serde, unknown
//! keys rejected with their line); [`validate`] checks every value and builds the [`Config`] the pipeline
//! runs. Validation touches nothing but the config and the files it names (a clients filter file), never the
//! network. Secrets are never in the file: the environment holds them.

pub mod file;
pub mod sinks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use semaphore_meraki::query::{
    CLIENTS_MAX_LOOKBACK, CLIENTS_PER_PAGE, HISTORY_MAX_SPAN, HISTORY_RESOLUTIONS, LOSS_LATENCY_MAX_LOOKBACK,
    Uplink,
};

use crate::bus::config::KafkaConnection;
use crate::config::file::{ConfigFile, KafkaSection};
pub use crate::config::sinks::{ALERTS_TOPIC, DEAD_LETTER_TOPIC, SinkConfig, SinkKind};
use crate::env::Env;
use crate::outputs::rfc5424::{SyslogFormat, facility_code};
use crate::outputs::syslog::SyslogEndpoint;
use crate::record::KeyStrategy;
use crate::sources::client_filter::ClientFilter;
use crate::sources::meraki_clients::ClientsSettings;
use crate::sources::meraki_history::HistorySettings;
use crate::sources::meraki_uplinks::UplinksSettings;
use crate::sources::uplink_filter::{NetworkMatcher, UplinkFilter};

pub const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";
pub const HISTORY_TOPIC: &str = "meraki.uplinks.loss_latency_history";
pub const CLIENTS_TOPIC: &str = "meraki.clients";

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
    pub uplinks: Vec<WindowedSource<UplinksSettings>>,
    pub history: Vec<WindowedSource<HistorySettings>>,
    pub clients: Vec<ClientsSettings>,
    pub outputs: OutputsConfig,
    pub sinks: Vec<SinkConfig>,
}

/// A source written window by window, with its topic and key.
#[derive(Clone, Debug)]
pub struct WindowedSource<S> {
    pub settings: S,
    pub topic: String,
    pub key: KeyStrategy,
}

#[derive(Clone, Debug, Default)]
pub struct OutputsConfig {
    pub kafka: Option<KafkaOutputConfig>,
    pub syslog: Vec<SyslogOutputConfig>,
    pub stdout: bool,
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct KafkaOutputConfig {
    pub create_topics: bool,
    pub partitions: i32,
}

impl Default for KafkaOutputConfig {
    fn default() -> Self {
        Self {
            create_topics: true,
            partitions: crate::bus::admin::DEFAULT_PARTITIONS,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SyslogOutputConfig {
    pub endpoint: SyslogEndpoint,
    pub format: SyslogFormat,
    pub ca_file: Option<PathBuf>,
}

impl Config {
    pub fn source_count(&self) -> usize {
        self.uplinks.len() + self.history.len() + self.clients.len()
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
    let invalid = |key: String, reason: String| ConfigError::Invalid {
        path: path.to_owned(),
        key,
        reason,
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let relative = |file: &Path| {
        if file.is_absolute() {
            file.to_owned()
        } else {
            base.join(file)
        }
    };
    let meraki_timeout = Duration::from_secs(file.meraki.timeout_s);
    if file.meraki.timeout_s == 0 {
        return Err(invalid("meraki.timeout_s".into(), "must be at least 1".into()));
    }
    let kafka =
        kafka_connection(&file.kafka).map_err(|(key, reason)| invalid(format!("kafka.{key}"), reason))?;
    let embedded_listen: SocketAddr = file.kafka.embedded_listen.parse().map_err(|_| {
        invalid(
            "kafka.embedded_listen".into(),
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
            invalid(
                "admin.listen".into(),
                format!(
                    "{:?} is not IP:PORT (use 127.0.0.1:9464, or \"\" to turn it off)",
                    file.admin.listen
                ),
            )
        })?)
    };
    let seconds = |key: String,
                   value: Option<u64>,
                   default: u64,
                   max: Option<TimeDelta>|
     -> Result<Duration, ConfigError> {
        let value = value.unwrap_or(default);
        if value == 0 {
            return Err(invalid(key, "must be at least 1 second".into()));
        }
        if let Some(max) = max
            && value as i64 > max.num_seconds()
        {
            return Err(invalid(
                key,
                format!("must be at most {} seconds", max.num_seconds()),
            ));
        }
        Ok(Duration::from_secs(value))
    };
    let check_interval = |key: String, interval: Duration| -> Result<(), ConfigError> {
        if interval <= meraki_timeout {
            return Err(invalid(
                key,
                format!(
                    "must be longer than meraki.timeout_s ({} s), or one slow request would overlap the next poll",
                    meraki_timeout.as_secs()
                ),
            ));
        }
        Ok(())
    };
    let listed = |key: String, value: &Option<Vec<String>>| -> Result<Vec<String>, ConfigError> {
        list(key, value).map_err(|(key, reason)| invalid(key, reason))
    };
    let key_strategy =
        |key: String, value: &Option<String>, default: KeyStrategy| -> Result<KeyStrategy, ConfigError> {
            match value {
                Some(text) => text.parse().map_err(|reason| invalid(key, reason)),
                None => Ok(default),
            }
        };
    let mut ids = std::collections::BTreeSet::new();
    let mut unique_id =
        |key: String, id: &Option<String>, kind: &str, index: usize| -> Result<String, ConfigError> {
            let id = id.clone().unwrap_or_else(|| {
                if index == 0 {
                    kind.to_owned()
                } else {
                    format!("{kind}_{}", index + 1)
                }
            });
            if id.is_empty()
                || !id.chars().all(|character| {
                    character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.')
                })
            {
                return Err(invalid(
                    key,
                    format!("{id:?}: use letters, digits, '_', '-' or '.' (it names the watermark file)"),
                ));
            }
            if !ids.insert(id.clone()) {
                return Err(invalid(key, format!("{id:?} is used by two sources")));
            }
            Ok(id)
        };

    let mut uplinks = Vec::new();
    for (index, source) in file.sources.meraki_uplinks.iter().enumerate() {
        let at = |key: &str| format!("sources.meraki_uplinks[{index}].{key}");
        let interval = seconds(at("interval_s"), source.interval_s, 60, None)?;
        check_interval(at("interval_s"), interval)?;
        let ddns_per_second = source.ddns_per_second.unwrap_or(2.0);
        if !(0.01..=10.0).contains(&ddns_per_second) {
            return Err(invalid(
                at("ddns_per_second"),
                "must be between 0.01 and 10 (Meraki allows 10 calls a second per organization)".into(),
            ));
        }
        uplinks.push(WindowedSource {
            settings: UplinksSettings {
                id: unique_id(at("id"), &source.id, "meraki_uplinks", index)?,
                organizations: listed(at("organizations"), &source.organizations)?,
                interval,
                inventory_interval: seconds(
                    at("inventory_interval_s"),
                    source.inventory_interval_s,
                    3600,
                    None,
                )?,
                initial_lookback: lookback(seconds(
                    at("initial_lookback_s"),
                    source.initial_lookback_s,
                    300,
                    Some(LOSS_LATENCY_MAX_LOOKBACK),
                )?),
                filter: uplink_filter(
                    &listed(at("networks"), &source.networks)?,
                    &listed(at("models"), &source.models)?,
                    &listed(at("device_tags"), &source.device_tags)?,
                    &listed(at("uplinks"), &source.uplinks)?,
                    &listed(at("ips"), &source.ips)?,
                )
                .map_err(|(key, reason)| invalid(at(key), reason))?,
                ddns: source.ddns.unwrap_or(true),
                ddns_per_second,
            },
            topic: topic(at("topic"), &source.topic, UPLINKS_TOPIC)
                .map_err(|(key, reason)| invalid(key, reason))?,
            key: key_strategy(at("key"), &source.key, KeyStrategy::Serial)?,
        });
    }

    let mut history = Vec::new();
    for (index, source) in file.sources.meraki_device_history.iter().enumerate() {
        let at = |key: &str| format!("sources.meraki_device_history[{index}].{key}");
        let interval = seconds(at("interval_s"), source.interval_s, 300, None)?;
        check_interval(at("interval_s"), interval)?;
        let resolution = source.resolution_s.unwrap_or(60);
        if !HISTORY_RESOLUTIONS.contains(&resolution) {
            return Err(invalid(
                at("resolution_s"),
                format!("must be one of {HISTORY_RESOLUTIONS:?} (Meraki's resolutions)"),
            ));
        }
        let uplink_names = match &source.uplinks {
            None => vec!["wan1".to_owned(), "wan2".to_owned()],
            Some(names) if names.is_empty() => {
                return Err(invalid(
                    at("uplinks"),
                    "an empty list would mean the default (wan1, wan2); remove the key for the default"
                        .into(),
                ));
            }
            Some(names) => names.clone(),
        };
        let uplink_list = uplink_names
            .iter()
            .map(|name| {
                name.parse::<Uplink>()
                    .map_err(|violation| invalid(at("uplinks"), violation.reason))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ip = source.ip.clone().unwrap_or_else(|| "8.8.8.8".into());
        if ip.trim().is_empty() {
            return Err(invalid(at("ip"), "Meraki requires a destination IP".into()));
        }
        let timespan = seconds(at("timespan_s"), source.timespan_s, 3600, Some(HISTORY_MAX_SPAN))?;
        if timespan.as_secs() < u64::from(resolution) {
            return Err(invalid(
                at("timespan_s"),
                format!("must be at least the resolution ({resolution} s)"),
            ));
        }
        history.push(WindowedSource {
            settings: HistorySettings {
                id: unique_id(at("id"), &source.id, "meraki_device_history", index)?,
                organizations: listed(at("organizations"), &source.organizations)?,
                ip: ip.clone(),
                uplinks: uplink_list,
                resolution,
                timespan: lookback(timespan),
                interval,
                initial_lookback: lookback(seconds(
                    at("initial_lookback_s"),
                    source.initial_lookback_s,
                    3600,
                    Some(LOSS_LATENCY_MAX_LOOKBACK),
                )?),
                filter: uplink_filter(
                    &listed(at("networks"), &source.networks)?,
                    &listed(at("models"), &source.models)?,
                    &listed(at("device_tags"), &source.device_tags)?,
                    &[],
                    &[],
                )
                .map_err(|(key, reason)| invalid(at(key), reason))?,
            },
            topic: topic(at("topic"), &source.topic, HISTORY_TOPIC)
                .map_err(|(key, reason)| invalid(key, reason))?,
            key: key_strategy(at("key"), &source.key, KeyStrategy::Serial)?,
        });
    }

    let mut clients = Vec::new();
    for (index, source) in file.sources.meraki_clients.iter().enumerate() {
        let at = |key: &str| format!("sources.meraki_clients[{index}].{key}");
        let interval = seconds(at("interval_s"), source.interval_s, 300, None)?;
        check_interval(at("interval_s"), interval)?;
        let per_page = CLIENTS_PER_PAGE
            .check(Some(source.per_page.unwrap_or(1000)))
            .map_err(|violation| invalid(at("per_page"), violation.reason))?;
        let filter = match &source.filter {
            Some(filter) => Some(
                ClientFilter::read(&relative(filter))
                    .map_err(|error| invalid(at("filter"), error.to_string()))?,
            ),
            None => None,
        };
        clients.push(ClientsSettings {
            id: unique_id(at("id"), &source.id, "meraki_clients", index)?,
            organizations: listed(at("organizations"), &source.organizations)?,
            networks: listed(at("networks"), &source.networks)?
                .iter()
                .map(|text| NetworkMatcher::parse(text).map_err(|reason| invalid(at("networks"), reason)))
                .collect::<Result<_, _>>()?,
            interval,
            timespan: seconds(
                at("timespan_s"),
                source.timespan_s,
                86_400,
                Some(CLIENTS_MAX_LOOKBACK),
            )?,
            per_page,
            filter,
            topic: topic(at("topic"), &source.topic, CLIENTS_TOPIC)
                .map_err(|(key, reason)| invalid(key, reason))?,
            key: key_strategy(at("key"), &source.key, KeyStrategy::NetworkId)?,
        });
    }

    let outputs_file = &file.outputs;
    let mut outputs = OutputsConfig {
        kafka: outputs_file.kafka.as_ref().map(|kafka| KafkaOutputConfig {
            create_topics: kafka.create_topics.unwrap_or(true),
            partitions: kafka.partitions.unwrap_or(crate::bus::admin::DEFAULT_PARTITIONS),
        }),
        syslog: Vec::new(),
        stdout: outputs_file.stdout.is_some(),
        files: outputs_file
            .file
            .iter()
            .map(|file| relative(&file.path))
            .collect(),
    };
    if let Some(kafka) = &outputs.kafka
        && !(1..=crate::bus::admin::MAX_PARTITIONS).contains(&kafka.partitions)
    {
        return Err(invalid(
            "outputs.kafka.partitions".into(),
            format!(
                "{} is out of range: 1 to {}",
                kafka.partitions,
                crate::bus::admin::MAX_PARTITIONS
            ),
        ));
    }
    for (index, syslog) in outputs_file.syslog.iter().enumerate() {
        let at = |key: &str| format!("outputs.syslog[{index}].{key}");
        let endpoint: SyslogEndpoint = syslog
            .endpoint
            .parse()
            .map_err(|reason| invalid(at("endpoint"), reason))?;
        let facility_name = syslog.facility.clone().unwrap_or_else(|| "local0".into());
        let facility = facility_code(&facility_name).ok_or_else(|| {
            invalid(
                at("facility"),
                format!("{facility_name:?}: use local0 … local7, user or daemon"),
            )
        })?;
        outputs.syslog.push(SyslogOutputConfig {
            endpoint,
            format: SyslogFormat {
                facility,
                hostname: syslog.hostname.clone().unwrap_or_else(host_name),
                app_name: syslog.app_name.clone().unwrap_or_else(|| "semaphore".into()),
                process_id: std::process::id(),
            },
            ca_file: syslog.ca_file.as_deref().map(relative),
        });
    }
    if outputs.kafka.is_none() && outputs.syslog.is_empty() && !outputs.stdout && outputs.files.is_empty() {
        outputs.kafka = Some(KafkaOutputConfig::default());
    }
    let sinks = sinks::validate_sinks(&file.sinks).map_err(|(key, reason)| invalid(key, reason))?;
    let config = Config {
        data_dir: file
            .data_dir
            .clone()
            .map(|directory| relative(&directory))
            .unwrap_or_else(|| crate::env::data_dir(env)),
        meraki_url: file.meraki.url.clone(),
        meraki_timeout,
        kafka,
        embedded_listen,
        admin_listen,
        uplinks,
        history,
        clients,
        outputs,
        sinks,
    };
    if config.source_count() == 0 && config.sinks.is_empty() {
        return Err(invalid(
            "sources".into(),
            "no source or sink configured: add [[sources.meraki_uplinks]], [[sources.meraki_device_history]], [[sources.meraki_clients]] or a [sinks] block".into(),
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
const EMPTY_LIST: &str = "an empty list would mean all; remove the key to mean all";

/// A selecting list as written: left out means all (empty); `[]` is refused, naming the key.
fn list(key: String, value: &Option<Vec<String>>) -> Result<Vec<String>, (String, String)> {
    match value {
        None => Ok(Vec::new()),
        Some(items) if items.is_empty() => Err((key, EMPTY_LIST.to_owned())),
        Some(items) => Ok(items.clone()),
    }
}

fn uplink_filter(
    networks: &[String],
    models: &[String],
    device_tags: &[String],
    uplinks: &[String],
    ips: &[String],
) -> Result<UplinkFilter, (&'static str, String)> {
    for uplink in uplinks {
        uplink
            .parse::<Uplink>()
            .map_err(|violation| ("uplinks", violation.reason))?;
    }
    for ip in ips {
        ip.parse::<std::net::IpAddr>()
            .map_err(|_| ("ips", format!("{ip:?} is not an IP address")))?;
    }
    Ok(UplinkFilter {
        networks: networks
            .iter()
            .map(|text| NetworkMatcher::parse(text))
            .collect::<Result<_, _>>()
            .map_err(|reason| ("networks", reason))?,
        models: models
            .iter()
            .map(|text| {
                glob::Pattern::new(text)
                    .map_err(|error| ("models", format!("{text:?} is not a valid glob: {error}")))
            })
            .collect::<Result<_, _>>()?,
        device_tags: device_tags.to_vec(),
        uplinks: uplinks.to_vec(),
        ips: ips.to_vec(),
    })
}

pub(crate) fn topic(key: String, value: &Option<String>, default: &str) -> Result<String, (String, String)> {
    let topic = value.clone().unwrap_or_else(|| default.to_owned());
    topic_name(&topic).map_err(|reason| (key, reason))?;
    Ok(topic)
}

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

fn lookback(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).expect("validated durations are far below chrono's range")
}

/// This host's name, for syslog's HOSTNAME field.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests;
