//! `[[sources.snmp]]`: the table as written, its validation, and how the poller is built: its secrets read
//! from the environment and the inventory's devices added to its targets.
//!
//! `targets_file` is read at validation, as `[inventory] file` is, so `check -c` names a bad line; the
//! inventory's devices are taken when the source is built (the device directory is the pipeline's), and names
//! are resolved at each poll.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::device_identity::DeviceDirectory;
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::snmp::poller::custom::{self, NamedOid, NamedOidFile, TableConfig, TableFile};
use crate::sources::snmp::poller::security::{SecurityKeys, SecuritySettings};
use crate::sources::snmp::poller::source::SnmpPoller;
use crate::sources::snmp::poller::target::{MAX_WALK_VARBINDS, SessionSettings, Topics};
use crate::sources::snmp::poller::targets::{self, DEFAULT_PORT, InventorySelection, Target};
use crate::sources::snmp::secrets::SecretError;

pub const INTERFACE_TOPIC: &str = "snmp.interfaces";
pub const SYSTEM_TOPIC: &str = "snmp.system";
pub const TABLE_TOPIC: &str = "snmp.tables";

/// net-snmp's `-t 1` would give up on a busy agent across a WAN; 2 s is what most pollers use.
const DEFAULT_TIMEOUT_S: u64 = 2;
/// One retry: a lost datagram costs one timeout, not the poll (net-snmp retries 5 times, which makes a dead
/// target hold its slot 6 timeouts long).
const DEFAULT_RETRIES: u32 = 1;
/// 25 rows of each column per GETBULK: with the profile's 28 columns an answer stays around 700 varbinds,
/// which agents send without `tooBig` (net-snmp's `snmpbulkwalk` asks 10 of one column).
const DEFAULT_MAX_REPETITIONS: u32 = 25;
/// Rows per column before the column is cut (an agent that loops would otherwise be walked for ever): more
/// interfaces than the largest chassis has, and a bound on what one looping column costs (a walk as a whole
/// keeps at most `MAX_WALK_VARBINDS`).
const DEFAULT_MAX_ROWS: usize = 10_000;
/// Targets polled at once: the issue's bound.
const DEFAULT_MAX_IN_FLIGHT: usize = 64;
const DEFAULT_INTERVAL_S: u64 = 60;

/// `[[sources.snmp]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpSourceFile {
    /// Names the source in logs, metrics and the `source` header. Default `snmp` (`snmp_2`, … for more).
    pub id: Option<String>,
    /// `host[:port]` each (default port 161): an IPv4 address, `[IPv6]:port`, or a name resolved at each poll.
    pub targets: Option<Vec<String>>,
    /// A file of targets, one a line, `#` comments (relative to the config file).
    pub targets_file: Option<PathBuf>,
    /// Poll `[inventory] file`'s devices: `{ sites = [...], roles = [...], tags = [...], port = 161 }`.
    pub inventory: Option<InventoryFile>,
    /// `"1"`, `"2c"` (default) or `"3"`.
    pub version: Option<String>,
    /// Version 1 and 2c: the environment variable holding the community.
    pub community_env: Option<String>,
    /// Version 3: the USM user.
    pub user: Option<String>,
    /// Version 3: `noAuthNoPriv`, `authNoPriv` or `authPriv`.
    pub security_level: Option<String>,
    /// `MD5`, `SHA`, `SHA-224`, `SHA-256`, `SHA-384`, `SHA-512`.
    pub auth_protocol: Option<String>,
    /// `DES`, `AES`, `AES-192`, `AES-256`.
    pub priv_protocol: Option<String>,
    /// The environment variable holding the authentication pass phrase.
    pub auth_passphrase_env: Option<String>,
    /// The environment variable holding the privacy pass phrase.
    pub priv_passphrase_env: Option<String>,
    /// Seconds to wait for each answer (default 2).
    pub timeout_s: Option<u64>,
    /// Times a request is sent again after a timeout (default 1).
    pub retries: Option<u32>,
    /// Rows of each column per GETBULK (default 25).
    pub max_repetitions: Option<u32>,
    /// Rows per column before the column is cut (default 10000, at most 200000).
    pub max_rows: Option<usize>,
    /// Targets polled at once (default 64).
    pub max_in_flight: Option<usize>,
    /// Seconds between polls (default 60).
    pub interval_s: Option<u64>,
    /// Kafka topic of `snmp.interface/1` records (default `snmp.interfaces`).
    pub interface_topic: Option<String>,
    /// Kafka topic of `snmp.system/1` records (default `snmp.system`).
    pub system_topic: Option<String>,
    /// Kafka topic of `snmp.row/1` records, the configured tables' rows (default `snmp.tables`).
    pub table_topic: Option<String>,
    /// Scalars added to the system record's `custom`: `[{ name = "cpu5min", oid = "1.3.6…8.1" }]`.
    pub scalars: Option<Vec<NamedOidFile>>,
    /// Tables walked, one record per row: `[{ name = "cpu", columns = [{ name, oid }] }]`.
    pub tables: Option<Vec<TableFile>>,
}

/// `inventory = { ... }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryFile {
    /// Devices of these sites (default all).
    pub sites: Option<Vec<String>>,
    /// Devices of these roles (default all).
    pub roles: Option<Vec<String>>,
    /// Devices with any of these tags (default all).
    pub tags: Option<Vec<String>>,
    /// The port their agents answer on (default 161).
    pub port: Option<u16>,
}

/// A validated `[[sources.snmp]]`.
#[derive(Clone, Debug)]
pub struct SnmpPollerConfig {
    pub id: String,
    /// From `targets` and `targets_file`, each once.
    pub targets: Vec<Target>,
    /// The inventory's devices to poll as well.
    pub inventory: Option<InventorySelection>,
    pub security: SecuritySettings,
    pub session: SessionSettings,
    pub max_in_flight: usize,
    pub interval: Duration,
    pub topics: Topics,
    pub scalars: Vec<NamedOid>,
    pub tables: Vec<TableConfig>,
}

/// Why a valid `[[sources.snmp]]` cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SnmpBuildError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "no target to poll: {selection} are none (is the device in [inventory] file?), and targets and \
         targets_file name none"
    )]
    NoTargets { selection: String },
}

impl SourceFile for SnmpSourceFile {
    type Config = SnmpPollerConfig;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<SnmpPollerConfig, ConfigError> {
        let targets = self.listed_targets(validation, at)?;
        let inventory = self.inventory_selection(validation, at)?;
        if targets.is_empty() && inventory.is_none() {
            let reason = "required: targets, targets_file or inventory (one or more of them)";
            return Err(validation.invalid(at.key("targets"), reason));
        }
        let session = self.session_settings(validation, at)?;
        let interval = validation.seconds(at.key("interval_s"), self.interval_s, DEFAULT_INTERVAL_S, None)?;
        // A silent target's requests may outlast one interval (timeout_s for each of retries + 1 tries, and
        // each of its requests): the cycle after it then starts late rather than overlapping (`Cycles`).
        if interval <= session.timeout {
            let reason = format!(
                "must be longer than timeout_s ({} s): one request's wait would outlast the interval",
                session.timeout.as_secs()
            );
            return Err(validation.invalid(at.key("interval_s"), reason));
        }
        Ok(SnmpPollerConfig {
            id: validation.unique_id(at, &self.id)?,
            targets,
            inventory,
            security: self.security_keys().validate(validation, at)?,
            session,
            max_in_flight: within(
                validation,
                at,
                "max_in_flight",
                self.max_in_flight,
                DEFAULT_MAX_IN_FLIGHT,
                1,
                100_000,
            )?,
            interval,
            topics: Topics {
                interfaces: validation.topic(
                    at.key("interface_topic"),
                    &self.interface_topic,
                    INTERFACE_TOPIC,
                )?,
                system: validation.topic(at.key("system_topic"), &self.system_topic, SYSTEM_TOPIC)?,
                tables: validation.topic(at.key("table_topic"), &self.table_topic, TABLE_TOPIC)?,
            },
            scalars: custom::scalars(validation, at, self.scalars.as_deref())?,
            tables: custom::tables(validation, at, self.tables.as_deref())?,
        })
    }
}

impl SnmpSourceFile {
    /// `targets` and `targets_file`'s lines, each target once.
    fn listed_targets(&self, validation: &Validation<'_>, at: &At) -> Result<Vec<Target>, ConfigError> {
        let key = at.key("targets");
        let mut seen = HashSet::new();
        let mut targets = Vec::new();
        if let Some(texts) = &self.targets {
            if texts.is_empty() {
                return Err(
                    validation.invalid(key, "an empty list polls nothing; remove the key or name targets")
                );
            }
            for text in texts {
                let target = Target::parse(text).map_err(|reason| validation.invalid(key.clone(), reason))?;
                if !seen.insert(target.clone()) {
                    return Err(validation.invalid(key, format!("{target} is listed twice")));
                }
                targets.push(target);
            }
        }
        if let Some(file) = &self.targets_file {
            let key = at.key("targets_file");
            let path = validation.relative(file);
            let text = std::fs::read_to_string(&path).map_err(|error| {
                validation.invalid(key.clone(), format!("cannot read {}: {error}", path.display()))
            })?;
            let listed = targets::parse_targets_file(&text)
                .map_err(|reason| validation.invalid(key.clone(), format!("{}, {reason}", path.display())))?;
            // A target in both the list and the file is polled once.
            targets.extend(listed.into_iter().filter(|target| seen.insert(target.clone())));
        }
        Ok(targets)
    }

    fn inventory_selection(
        &self,
        validation: &Validation<'_>,
        at: &At,
    ) -> Result<Option<InventorySelection>, ConfigError> {
        let Some(inventory) = &self.inventory else {
            return Ok(None);
        };
        let port = match inventory.port {
            Some(0) => return Err(validation.invalid(at.key("inventory.port"), "must be 1 to 65535")),
            Some(port) => port,
            None => DEFAULT_PORT,
        };
        Ok(Some(InventorySelection {
            sites: validation.listed(at.key("inventory.sites"), &inventory.sites)?,
            roles: validation.listed(at.key("inventory.roles"), &inventory.roles)?,
            tags: validation.listed(at.key("inventory.tags"), &inventory.tags)?,
            port,
        }))
    }

    fn session_settings(&self, validation: &Validation<'_>, at: &At) -> Result<SessionSettings, ConfigError> {
        let timeout = validation.seconds(at.key("timeout_s"), self.timeout_s, DEFAULT_TIMEOUT_S, None)?;
        if timeout > Duration::from_secs(60) {
            return Err(validation.invalid(at.key("timeout_s"), "must be at most 60 seconds"));
        }
        let retries = within(
            validation,
            at,
            "retries",
            self.retries.map(|retries| retries as usize),
            DEFAULT_RETRIES as usize,
            0,
            10,
        )?;
        let max_repetitions = within(
            validation,
            at,
            "max_repetitions",
            self.max_repetitions.map(|repetitions| repetitions as usize),
            DEFAULT_MAX_REPETITIONS as usize,
            1,
            1_000,
        )?;
        Ok(SessionSettings {
            timeout,
            retries: retries as u32,
            max_repetitions: max_repetitions as u32,
            max_rows: within(
                validation,
                at,
                "max_rows",
                self.max_rows,
                DEFAULT_MAX_ROWS,
                1,
                MAX_WALK_VARBINDS,
            )?,
        })
    }

    fn security_keys(&self) -> SecurityKeys<'_> {
        SecurityKeys {
            version: self.version.as_deref(),
            community_env: self.community_env.as_deref(),
            user: self.user.as_deref(),
            security_level: self.security_level.as_deref(),
            auth_protocol: self.auth_protocol.as_deref(),
            priv_protocol: self.priv_protocol.as_deref(),
            auth_passphrase_env: self.auth_passphrase_env.as_deref(),
            priv_passphrase_env: self.priv_passphrase_env.as_deref(),
        }
    }
}

/// `value` (or `default`) if within `min..=max`, else an error naming `key`.
fn within(
    validation: &Validation<'_>,
    at: &At,
    key: &str,
    value: Option<usize>,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let value = value.unwrap_or(default);
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(validation.invalid(at.key(key), format!("{value} is out of range: {min} to {max}")))
    }
}

impl SnmpPollerConfig {
    /// Every target: the listed ones, then the inventory's selected devices not listed already; none is an
    /// error (an inventory selection that matches no device, and nothing listed).
    fn all_targets(&self, devices: &DeviceDirectory) -> Result<Vec<Target>, SnmpBuildError> {
        let mut targets = self.targets.clone();
        if let Some(selection) = &self.inventory {
            let mut seen: HashSet<Target> = targets.iter().cloned().collect();
            let selected = selection.targets(&devices.configured_devices());
            targets.extend(selected.into_iter().filter(|target| seen.insert(target.clone())));
            if targets.is_empty() {
                let selection = selection.describe();
                return Err(SnmpBuildError::NoTargets { selection });
            }
        }
        Ok(targets)
    }

    fn poller(&self, context: &SourceContext<'_>) -> Result<SnmpPoller, SnmpBuildError> {
        let credentials = self.security.credentials(context.env)?;
        let targets = self.all_targets(&context.devices)?;
        Ok(SnmpPoller {
            id: self.id.clone(),
            targets,
            credentials,
            session: self.session,
            interval: self.interval,
            max_in_flight: self.max_in_flight,
            scalars: self.scalars.clone(),
            tables: self.tables.clone(),
            topics: self.topics.clone(),
            outputs: context.outputs.clone(),
            telemetry: context.telemetry.clone(),
            devices: context.devices.clone(),
        })
    }
}

impl Source for SnmpPollerConfig {
    fn id(&self) -> &str {
        &self.id
    }

    /// `snmp (2 targets, v2c) -> snmp.interfaces, snmp.system`.
    fn describe(&self) -> String {
        let mut polled = match self.targets.len() {
            1 => "1 target".to_owned(),
            count => format!("{count} targets"),
        };
        if let Some(selection) = &self.inventory {
            polled = format!("{polled} and {}", selection.describe());
        }
        let mut topics = format!("{}, {}", self.topics.interfaces, self.topics.system);
        if !self.tables.is_empty() {
            topics = format!("{topics}, {}", self.topics.tables);
        }
        format!("snmp ({polled}, {}) -> {topics}", self.security.describe())
    }

    fn uses_meraki(&self) -> bool {
        false
    }

    fn uses_device_identity(&self) -> bool {
        true
    }

    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        let poller = self.poller(context).map_err(BuildError::SnmpPoller)?;
        Ok(Box::pin(poller.run(context.stop.clone(), context.once)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::device_identity::StaticDevices;
    use crate::sources::snmp::wire::Version;

    const AT: At = At {
        section: "sources",
        kind: "snmp",
        index: 0,
        single: false,
    };

    fn validate_at(text: &str, config_file: &Path) -> Result<SnmpPollerConfig, String> {
        let file: SnmpSourceFile = toml::from_str(text).map_err(|error| error.to_string())?;
        let mut validation = Validation::new(config_file, Duration::from_secs(30));
        file.validate(&mut validation, &AT)
            .map_err(|error| error.to_string())
    }

    fn validate(text: &str) -> Result<SnmpPollerConfig, String> {
        validate_at(text, Path::new("/etc/semaphore/semaphore.toml"))
    }

    const V2C: &str = r#"targets = ["127.0.0.1:16161", "core1.example.net"]
                         community_env = "SNMP_COMMUNITY""#;

    #[test]
    fn the_defaults() {
        let config = validate(V2C).unwrap();
        assert_eq!(config.id, "snmp");
        let shown: Vec<String> = config.targets.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1:16161", "core1.example.net:161"]);
        assert_eq!(config.inventory, None);
        assert_eq!(
            config.security,
            SecuritySettings::Community {
                version: Version::V2c,
                community_env: "SNMP_COMMUNITY".to_owned(),
            }
        );
        assert_eq!(
            config.session,
            SessionSettings {
                timeout: Duration::from_secs(2),
                retries: 1,
                max_repetitions: 25,
                max_rows: 10_000,
            }
        );
        assert_eq!(config.max_in_flight, 64);
        assert_eq!(config.interval, Duration::from_secs(60));
        assert_eq!(config.topics.interfaces, "snmp.interfaces");
        assert_eq!(config.topics.system, "snmp.system");
        assert_eq!(config.topics.tables, "snmp.tables");
        assert!(config.scalars.is_empty() && config.tables.is_empty());
        assert_eq!(
            config.describe(),
            "snmp (2 targets, v2c) -> snmp.interfaces, snmp.system"
        );
        assert!(config.uses_device_identity());
        assert!(!config.uses_meraki());
    }

    #[test]
    fn every_key_can_be_set() {
        let config = validate(
            r#"id = "core"
               targets = ["10.0.0.1"]
               inventory = { sites = ["madrid"], roles = ["core"], tags = ["dc"], port = 1161 }
               version = "3"
               user = "poller"
               security_level = "authPriv"
               auth_protocol = "SHA-512"
               priv_protocol = "AES-256"
               auth_passphrase_env = "SNMP_AUTH"
               priv_passphrase_env = "SNMP_PRIV"
               timeout_s = 5
               retries = 2
               max_repetitions = 50
               max_rows = 5000
               max_in_flight = 200
               interval_s = 300
               interface_topic = "net.interfaces"
               system_topic = "net.system"
               table_topic = "net.tables"
               scalars = [{ name = "cpu5min", oid = "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1" }]
               tables = [{ name = "cpu", columns = [{ name = "load", oid = "1.3.6.1.4.1.9.9.109.1.1.1.1.8" }] }]"#,
        )
        .unwrap();
        assert_eq!(config.id, "core");
        let inventory = config.inventory.clone().unwrap();
        assert_eq!(inventory.sites, ["madrid"]);
        assert_eq!(inventory.roles, ["core"]);
        assert_eq!(inventory.tags, ["dc"]);
        assert_eq!(inventory.port, 1161);
        assert_eq!(config.session.timeout, Duration::from_secs(5));
        assert_eq!(config.session.retries, 2);
        assert_eq!(config.session.max_repetitions, 50);
        assert_eq!(config.session.max_rows, 5000);
        assert_eq!(config.max_in_flight, 200);
        assert_eq!(config.interval, Duration::from_secs(300));
        assert_eq!(config.scalars[0].name, "cpu5min");
        assert_eq!(config.tables[0].columns[0].name, "load");
        assert_eq!(
            config.describe(),
            "snmp (1 target and the inventory's devices (site madrid, role core, tag dc), v3 authPriv) \
             -> net.interfaces, net.system, net.tables"
        );
    }

    #[test]
    fn each_bad_value_names_its_key() {
        let cases = [
            ("community_env = \"C\"", "targets", "required"),
            ("targets = []\ncommunity_env = \"C\"", "targets", "empty list"),
            (
                "targets = [\"bad host\"]\ncommunity_env = \"C\"",
                "targets",
                "HOST:PORT",
            ),
            (
                "targets = [\"10.0.0.1\", \"10.0.0.1:161\"]\ncommunity_env = \"C\"",
                "targets",
                "listed twice",
            ),
            ("targets = [\"10.0.0.1\"]", "community_env", "required"),
            (
                "targets = [\"10.0.0.1\"]\nversion = \"4\"\ncommunity_env = \"C\"",
                "version",
                "\"2c\"",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ntimeout_s = 0",
                "timeout_s",
                "at least 1",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ntimeout_s = 61",
                "timeout_s",
                "at most 60",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nretries = 11",
                "retries",
                "0 to 10",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nmax_repetitions = 0",
                "max_repetitions",
                "1 to 1000",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nmax_rows = 0",
                "max_rows",
                "out of range",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nmax_rows = 200001",
                "max_rows",
                "1 to 200000",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nmax_in_flight = 0",
                "max_in_flight",
                "out of range",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ninterval_s = 0",
                "interval_s",
                "at least 1",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ninterval_s = 5\ntimeout_s = 5",
                "interval_s",
                "longer than timeout_s (5 s)",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ninterface_topic = \"a b\"",
                "interface_topic",
                "",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nsystem_topic = \"\"",
                "system_topic",
                "",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ntable_topic = \"x/y\"",
                "table_topic",
                "",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nid = \"a b\"",
                "id",
                "letters",
            ),
            (
                "inventory = { sites = [] }\ncommunity_env = \"C\"",
                "inventory.sites",
                "empty list",
            ),
            (
                "inventory = { roles = [] }\ncommunity_env = \"C\"",
                "inventory.roles",
                "empty list",
            ),
            (
                "inventory = { tags = [] }\ncommunity_env = \"C\"",
                "inventory.tags",
                "empty list",
            ),
            (
                "inventory = { port = 0 }\ncommunity_env = \"C\"",
                "inventory.port",
                "1 to 65535",
            ),
            (
                "targets_file = \"absent-targets.txt\"\ncommunity_env = \"C\"",
                "targets_file",
                "cannot read",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\nscalars = [{ name = \"x\", oid = \"y\" }]",
                "scalars[0].oid",
                "",
            ),
            (
                "targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ntables = [{ name = \"t\" }]",
                "tables[0].columns",
                "required",
            ),
            (
                "targets = [\"10.0.0.1\"]\nversion = \"3\"\nuser = \"u\"\nsecurity_level = \"authNoPriv\"",
                "auth_protocol",
                "required",
            ),
        ];
        for (text, key, reason) in cases {
            let error = validate(text).unwrap_err();
            assert!(
                error.contains(&format!("sources.snmp[0].{key}: ")) && error.contains(reason),
                "{text}: {error}"
            );
        }
        // A poll every 2 s with 1 s to answer is fine: a silent target delays its next cycle, no other.
        assert!(
            validate("targets = [\"10.0.0.1\"]\ncommunity_env = \"C\"\ninterval_s = 2\ntimeout_s = 1")
                .is_ok()
        );
        let error = validate("targets = [\"10.0.0.1\"]\ncommunity = \"public\"").unwrap_err();
        assert!(error.contains("unknown field `community`"), "{error}");
        let error = validate("inventory = { site = [\"x\"] }\ncommunity_env = \"C\"").unwrap_err();
        assert!(error.contains("unknown field `site`"), "{error}");
    }

    #[test]
    fn a_targets_file_is_read_beside_the_config_and_merged() {
        let directory = std::env::temp_dir().join(format!("semaphore-snmp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        std::fs::write(
            directory.join("targets.txt"),
            "# lab\n10.0.0.2\n10.0.0.1  # also listed\n",
        )
        .unwrap();
        let config_file = directory.join("semaphore.toml");
        let config = validate_at(
            r#"targets = ["10.0.0.1"]
               targets_file = "targets.txt"
               community_env = "C""#,
            &config_file,
        )
        .unwrap();
        let shown: Vec<String> = config.targets.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.1:161", "10.0.0.2:161"]);
        std::fs::write(directory.join("targets.txt"), "10.0.0.2\n10.0.0.3:x\n").unwrap();
        let error = validate_at(
            r#"targets_file = "targets.txt"
                                   community_env = "C""#,
            &config_file,
        )
        .unwrap_err();
        std::fs::remove_dir_all(&directory).unwrap();
        assert!(
            error.contains("sources.snmp[0].targets_file: ") && error.contains("targets.txt, line 2: "),
            "{error}"
        );
    }

    #[test]
    fn the_inventory_adds_its_selected_devices_once() {
        let config = validate(
            r#"targets = ["10.0.0.1"]
               inventory = { roles = ["core"] }
               community_env = "C""#,
        )
        .unwrap();
        let file = StaticDevices::parse(
            "ip,hostname,role\n10.0.0.1,core-1,core\n10.0.0.2,core-2,core\n10.0.0.3,access-1,access\n",
        )
        .unwrap();
        let devices = DeviceDirectory::new(Arc::new(file), false);
        let targets = config.all_targets(&devices).unwrap();
        let shown: Vec<String> = targets.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.1:161", "10.0.0.2:161"]);
        let inventory_only = validate(
            r#"inventory = { sites = ["paris"] }
               community_env = "C""#,
        )
        .unwrap();
        let error = inventory_only.all_targets(&devices).unwrap_err().to_string();
        assert!(
            error.starts_with("no target to poll: the inventory's devices (site paris) are none"),
            "{error}"
        );
    }
}
