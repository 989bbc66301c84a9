//! How semaphore connects to Kafka: first-class settings (brokers, security, SASL, CA), a Confluent
//! `client.properties` file as Confluent Cloud hands it out, raw librdkafka options, and credentials from the
//! environment only. Everything becomes one librdkafka configuration, checked for conflicts.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rdkafka::ClientConfig;

use crate::env::{
    CLUSTER_API_KEY, CLUSTER_API_SECRET, Env, SEMAPHORE_KAFKA_PASSWORD, SEMAPHORE_KAFKA_USERNAME,
};
use crate::secret::Secret;

/// `security.protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(self, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl)
    }
}

impl FromStr for SecurityProtocol {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Ok(SecurityProtocol::Plaintext),
            "SSL" => Ok(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Ok(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Ok(SecurityProtocol::SaslSsl),
            _ => Err(format!(
                "{value:?} is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
            )),
        }
    }
}

/// `sasl.mechanisms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
}

impl SaslMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl FromStr for SaslMechanism {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(SaslMechanism::Plain),
            "SCRAM-SHA-256" => Ok(SaslMechanism::ScramSha256),
            "SCRAM-SHA-512" => Ok(SaslMechanism::ScramSha512),
            _ => Err(format!(
                "{value:?} is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"
            )),
        }
    }
}

/// What the user asked for; turned into a librdkafka configuration by [`KafkaConnection::client_config`].
#[derive(Clone, Debug, Default)]
pub struct KafkaConnection {
    /// `host:port,...`; `None` means the embedded broker (whose address is filled in when it starts).
    pub brokers: Option<String>,
    pub security_protocol: Option<SecurityProtocol>,
    pub sasl_mechanism: Option<SaslMechanism>,
    /// CA certificate(s) to trust for SSL, PEM.
    pub ssl_ca_location: Option<PathBuf>,
    /// A Confluent `client.properties` file (`bootstrap.servers`, `security.protocol`, `sasl.*`).
    pub client_properties: Option<PathBuf>,
    /// Raw librdkafka options, passed through unless they contradict a first-class setting.
    pub librdkafka: BTreeMap<String, String>,
}

/// A connection setting that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum KafkaConfigError {
    #[error("cannot read the Kafka client properties {path}")]
    ReadProperties {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {reason}")]
    BadProperties {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("librdkafka option {option:?} contradicts {setting}; set it in one place only")]
    Conflict { option: String, setting: String },
    #[error(
        "no Kafka brokers given: set --brokers / SEMAPHORE_BROKERS, or bootstrap.servers in the client properties"
    )]
    NoBrokers,
    #[error(
        "SASL needs a username and password: set {SEMAPHORE_KAFKA_USERNAME}/{SEMAPHORE_KAFKA_PASSWORD} (or \
         {CLUSTER_API_KEY}/{CLUSTER_API_SECRET} for Confluent Cloud)"
    )]
    MissingCredentials,
    #[error("{setting}: {reason}")]
    Invalid { setting: String, reason: String },
}

/// Checks a bootstrap list, `host:port,...`, before librdkafka sees it: librdkafka takes an empty list, port 0
/// or 65536, or `ftp://x` without complaint and then retries forever, so a typo would look like an outage.
/// Each entry is `[protocol://]host[:port]` (librdkafka's own form; the port defaults to 9092), the protocol one
/// of Kafka's listener protocols.
pub fn check_brokers(brokers: &str) -> Result<(), String> {
    if brokers.trim().is_empty() {
        return Err(
            "is empty; give host:port[,host:port...], or leave it out to use the embedded broker".into(),
        );
    }
    for entry in brokers.split(',').map(str::trim) {
        check_broker(entry).map_err(|reason| format!("{entry:?}: {reason}"))?;
    }
    Ok(())
}

fn check_broker(entry: &str) -> Result<(), String> {
    let address = match entry.split_once("://") {
        Some((protocol, address)) => {
            if !["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]
                .contains(&protocol.to_ascii_lowercase().as_str())
            {
                return Err(format!(
                    "{protocol}:// is not a Kafka protocol; write host:port (or PLAINTEXT://, SSL://, SASL_PLAINTEXT://, SASL_SSL://)"
                ));
            }
            address
        }
        None => entry,
    };
    // `[v6]:port`, `host:port` or `host`.
    let (host, port) = match address.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest
                .split_once(']')
                .ok_or("an IPv6 address needs its closing ']'")?;
            (host, after.strip_prefix(':'))
        }
        None => match address.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (address, None),
        },
    };
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return Err("expected host:port".into());
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(port) if port > 0 => {}
            _ => return Err(format!("port {port:?} is not between 1 and 65535")),
        }
    }
    Ok(())
}

/// Properties of Confluent's Java `client.properties` that librdkafka does not know; dropped with a note.
const JAVA_ONLY_PROPERTIES: &[&str] = &["client.dns.lookup", "sasl.jaas.config"];
const JAVA_ONLY_PREFIXES: &[&str] = &["schema.registry.", "basic.auth.", "key.", "value."];

/// A fully resolved librdkafka configuration, with secrets kept out of `Debug`.
#[derive(Clone)]
pub struct ResolvedKafka {
    pub bootstrap: String,
    settings: BTreeMap<String, String>,
    password: Option<Secret>,
}

impl fmt::Debug for ResolvedKafka {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ResolvedKafka")
            .field("settings", &self.settings)
            .field("password", &self.password)
            .finish()
    }
}

impl ResolvedKafka {
    /// A librdkafka configuration with these settings (add role-specific ones on top).
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (key, value) in &self.settings {
            config.set(key, value);
        }
        if let Some(password) = &self.password {
            config.set("sasl.password", password.expose());
        }
        config
    }

    /// The settings without secrets, for logs and `check`.
    pub fn settings(&self) -> &BTreeMap<String, String> {
        &self.settings
    }

    /// `text` with the SASL password replaced by `<redacted>`: for what others wrote (librdkafka, a broker)
    /// before semaphore prints it.
    pub fn redact(&self, text: &str) -> String {
        match &self.password {
            Some(password) if !password.expose().is_empty() => text.replace(password.expose(), "<redacted>"),
            _ => text.to_owned(),
        }
    }
}

impl KafkaConnection {
    /// Resolves everything into one librdkafka configuration. `embedded` is the embedded broker's address
    /// when it runs, used when neither the brokers nor the client properties say where Kafka is.
    pub fn resolve(&self, env: &dyn Env, embedded: Option<&str>) -> Result<ResolvedKafka, KafkaConfigError> {
        let mut settings = BTreeMap::new();
        let mut password = None;
        if let Some(path) = &self.client_properties {
            for (key, value) in read_client_properties(path, env)? {
                if key == "sasl.password" {
                    password = Some(Secret::new(value));
                } else if JAVA_ONLY_PROPERTIES.contains(&key.as_str())
                    || JAVA_ONLY_PREFIXES.iter().any(|prefix| key.starts_with(prefix))
                {
                    tracing::debug!(property = %key, "Skipping a Java-only client property librdkafka does not know.");
                } else {
                    settings.insert(key, value);
                }
            }
        }
        // First-class settings override the properties file; remember which option each one owns.
        let mut owned: Vec<(&str, String)> = Vec::new();
        // The client properties' `bootstrap.servers` (Confluent's file always has one) comes before the
        // embedded broker's address.
        let embedded = embedded.filter(|_| !settings.contains_key("bootstrap.servers"));
        if let Some(brokers) = self.brokers.as_deref().or(embedded) {
            settings.insert("bootstrap.servers".into(), brokers.to_owned());
            owned.push((
                "bootstrap.servers",
                "--brokers / SEMAPHORE_BROKERS / [kafka] brokers".into(),
            ));
        }
        if let Some(protocol) = self.security_protocol {
            settings.insert("security.protocol".into(), protocol.as_str().into());
            owned.push(("security.protocol", "security_protocol".into()));
        }
        if let Some(mechanism) = self.sasl_mechanism {
            settings.insert("sasl.mechanisms".into(), mechanism.as_str().into());
            owned.push(("sasl.mechanisms", "sasl_mechanism".into()));
        }
        if let Some(ca) = &self.ssl_ca_location {
            settings.insert("ssl.ca.location".into(), ca.display().to_string());
            owned.push(("ssl.ca.location", "ssl_ca_location".into()));
        }
        let username = env
            .get(SEMAPHORE_KAFKA_USERNAME)
            .or_else(|| env.get(CLUSTER_API_KEY));
        let env_password = env
            .get(SEMAPHORE_KAFKA_PASSWORD)
            .or_else(|| env.get(CLUSTER_API_SECRET));
        if let Some(username) = username {
            settings.insert("sasl.username".into(), username);
            owned.push((
                "sasl.username",
                format!("{SEMAPHORE_KAFKA_USERNAME} / {CLUSTER_API_KEY}"),
            ));
        }
        if let Some(env_password) = env_password {
            password = Some(Secret::new(env_password));
            owned.push((
                "sasl.password",
                format!("{SEMAPHORE_KAFKA_PASSWORD} / {CLUSTER_API_SECRET}"),
            ));
        }
        for (option, value) in &self.librdkafka {
            if let Some((_, setting)) = owned.iter().find(|(key, _)| key == option) {
                return Err(KafkaConfigError::Conflict {
                    option: option.clone(),
                    setting: setting.clone(),
                });
            }
            if option == "sasl.password" {
                return Err(KafkaConfigError::Invalid {
                    setting: format!("librdkafka option {option:?}"),
                    reason: format!("secrets come from the environment only: set {SEMAPHORE_KAFKA_PASSWORD}"),
                });
            }
            settings.insert(option.clone(), value.clone());
        }
        let bootstrap = settings
            .get("bootstrap.servers")
            .cloned()
            .ok_or(KafkaConfigError::NoBrokers)?;
        let uses_sasl = settings
            .get("security.protocol")
            .and_then(|protocol| protocol.parse::<SecurityProtocol>().ok())
            .is_some_and(SecurityProtocol::uses_sasl);
        if uses_sasl && (!settings.contains_key("sasl.username") || password.is_none()) {
            return Err(KafkaConfigError::MissingCredentials);
        }
        Ok(ResolvedKafka {
            bootstrap,
            settings,
            password,
        })
    }
}

/// Reads a Java-style properties file; `{{ NAME }}` placeholders (as in Confluent's downloads) are replaced
/// from the environment.
fn read_client_properties(path: &Path, env: &dyn Env) -> Result<Vec<(String, String)>, KafkaConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| KafkaConfigError::ReadProperties {
        path: path.to_owned(),
        source,
    })?;
    let mut properties = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let bad = |reason: String| KafkaConfigError::BadProperties {
            path: path.to_owned(),
            line: index + 1,
            reason,
        };
        let (key, value) = line
            .split_once('=')
            .or_else(|| line.split_once(':'))
            .ok_or_else(|| bad("expected key=value".into()))?;
        let mut value = value.trim().to_owned();
        while let Some(start) = value.find("{{") {
            let end = value[start..]
                .find("}}")
                .ok_or_else(|| bad("unclosed {{ placeholder".into()))?
                + start;
            let name = value[start + 2..end].trim().to_owned();
            let replacement = env
                .get(&name)
                .ok_or_else(|| bad(format!("placeholder {{{{ {name} }}}} needs the variable {name}")))?;
            value.replace_range(start..end + 2, &replacement);
        }
        properties.push((key.trim().to_owned(), value));
    }
    Ok(properties)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn confluent_cloud_properties_with_env_credentials() {
        let directory = std::env::temp_dir().join(format!("semaphore-props-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("client.properties");
        std::fs::write(
            &path,
            "# Required connection configs for Kafka producer, consumer, and admin\n\
             bootstrap.servers=pkc-xxxx.us-west-2.aws.confluent.cloud:9092\n\
             security.protocol=SASL_SSL\nsasl.mechanisms=PLAIN\n\
             sasl.username={{ CLUSTER_API_KEY }}\nsasl.password={{ CLUSTER_API_SECRET }}\n\
             client.dns.lookup=use_all_dns_ips\nsession.timeout.ms=45000\n",
        )
        .unwrap();
        let connection = KafkaConnection {
            client_properties: Some(path),
            ..Default::default()
        };
        let resolved = connection
            .resolve(
                &env(&[
                    ("CLUSTER_API_KEY", "KEY1"),
                    ("CLUSTER_API_SECRET", "s3cr3t-value"),
                ]),
                None,
            )
            .unwrap();
        assert_eq!(resolved.bootstrap, "pkc-xxxx.us-west-2.aws.confluent.cloud:9092");
        assert_eq!(resolved.settings()["sasl.username"], "KEY1");
        assert!(!resolved.settings().contains_key("client.dns.lookup"));
        assert!(!format!("{resolved:?}").contains("s3cr3t-value"));
        assert_eq!(
            resolved.client_config().get("sasl.password"),
            Some("s3cr3t-value")
        );
        std::fs::remove_dir_all(directory).unwrap();
    }

    /// Issue 12: `topics` and `consume` pass the embedded broker's default address; a properties file's
    /// `bootstrap.servers` comes first, and `--brokers` before both.
    #[test]
    fn the_client_properties_say_where_kafka_is_before_the_embedded_default() {
        let directory = std::env::temp_dir().join(format!("semaphore-props-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("client.properties");
        std::fs::write(
            &path,
            "bootstrap.servers=kafka.example:9093\nsecurity.protocol=SASL_SSL\n\
             sasl.mechanisms=SCRAM-SHA-256\nsasl.username={{ CLUSTER_API_KEY }}\n\
             sasl.password={{ CLUSTER_API_SECRET }}\n",
        )
        .unwrap();
        let credentials = env(&[("CLUSTER_API_KEY", "KEY1"), ("CLUSTER_API_SECRET", "s3cr3t")]);
        let mut connection = KafkaConnection {
            client_properties: Some(path),
            ..Default::default()
        };
        let resolved = connection.resolve(&credentials, Some("127.0.0.1:9092")).unwrap();
        assert_eq!(resolved.bootstrap, "kafka.example:9093");
        assert_eq!(resolved.settings()["sasl.mechanisms"], "SCRAM-SHA-256");
        assert_eq!(
            resolved.redact("refused s3cr3t for KEY1"),
            "refused <redacted> for KEY1"
        );
        connection.brokers = Some("other.example:9093".into());
        let resolved = connection.resolve(&credentials, Some("127.0.0.1:9092")).unwrap();
        assert_eq!(resolved.bootstrap, "other.example:9093");
        std::fs::remove_dir_all(directory).unwrap();
    }

    #[test]
    fn broker_lists_are_checked_before_librdkafka_sees_them() {
        for good in [
            "127.0.0.1:9092",
            "a:9092, b:9093",
            "kafka",
            "SASL_SSL://pkc-xxxx.us-west-2.aws.confluent.cloud:9092",
            "[::1]:9092",
        ] {
            assert_eq!(check_brokers(good), Ok(()), "{good}");
        }
        for (bad, says) in [
            ("", "empty"),
            ("  ", "empty"),
            ("127.0.0.1:0", "between 1 and 65535"),
            ("127.0.0.1:65536", "between 1 and 65535"),
            ("127.0.0.1:x", "between 1 and 65535"),
            ("ftp://x", "not a Kafka protocol"),
            ("a:9092,", "expected host:port"),
            ("[::1:9092", "closing"),
        ] {
            let error = check_brokers(bad).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }

    #[test]
    fn conflicts_and_missing_credentials_are_named() {
        let connection = KafkaConnection {
            brokers: Some("a:9092".into()),
            librdkafka: BTreeMap::from([("bootstrap.servers".to_owned(), "b:9092".to_owned())]),
            ..Default::default()
        };
        let error = connection.resolve(&env(&[]), None).unwrap_err().to_string();
        assert!(
            error.contains("bootstrap.servers") && error.contains("--brokers"),
            "{error}"
        );
        let sasl = KafkaConnection {
            brokers: Some("a:9092".into()),
            security_protocol: Some(SecurityProtocol::SaslSsl),
            sasl_mechanism: Some(SaslMechanism::ScramSha512),
            ..Default::default()
        };
        assert!(matches!(
            sasl.resolve(&env(&[]), None),
            Err(KafkaConfigError::MissingCredentials)
        ));
        let resolved = sasl
            .resolve(
                &env(&[
                    ("SEMAPHORE_KAFKA_USERNAME", "u"),
                    ("SEMAPHORE_KAFKA_PASSWORD", "p"),
                ]),
                None,
            )
            .unwrap();
        assert_eq!(resolved.settings()["sasl.mechanisms"], "SCRAM-SHA-512");
        assert!(matches!(
            KafkaConnection::default().resolve(&env(&[]), None),
            Err(KafkaConfigError::NoBrokers)
        ));
        assert_eq!(
            KafkaConnection::default()
                .resolve(&env(&[]), Some("127.0.0.1:1"))
                .unwrap()
                .bootstrap,
            "127.0.0.1:1"
        );
    }
}
