//! `[[sources.syslog]]`: the table as written, its validation into one [`ListenerConfig`] per `listen`
//! address, and how the source is built.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Deserialize;

use super::source::SyslogSource;
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::listener::config::{
    default_idle_timeout, default_max_connections, default_max_frame_bytes,
};
use crate::sources::listener::{AddressError, ListenAddress, ListenerConfig, TlsFiles, Transport};

pub const SYSLOG_TOPIC: &str = "syslog.messages";
/// RFC 5424's smallest size a receiver must take: below it, ordinary lines would be cut.
const MIN_MESSAGE_BYTES: usize = 480;
/// A stream's frame is buffered whole before it is cut, per connection: 1 MiB times `max_connections` is
/// already more memory than a syslog receiver should hold.
const MAX_MESSAGE_BYTES: usize = 1 << 20;
const MAX_CONNECTIONS: usize = 65_536;
/// Linux caps `SO_RCVBUF` at `net.core.rmem_max` anyway; a value beyond 1 GiB is a typo.
const MAX_RECEIVE_BUFFER_BYTES: usize = 1 << 30;

/// `[[sources.syslog]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSourceFile {
    pub id: Option<String>,
    /// `udp://ADDRESS:PORT`, `tcp://…`, `tls://…`, `relp://…`; required, at least one, no default port.
    pub listen: Option<Vec<String>>,
    /// Longer lines are cut to this and flagged `truncated` (default 65536).
    pub max_message_bytes: Option<usize>,
    /// TCP/TLS/RELP connections open at once, per address (default 512).
    pub max_connections: Option<usize>,
    /// A TCP/TLS/RELP connection silent this long is closed (default 600).
    pub idle_timeout_s: Option<u64>,
    /// `SO_RCVBUF` of each socket (default: the kernel's).
    pub receive_buffer_bytes: Option<usize>,
    /// PEM certificate chain and key of the `tls://` addresses.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// When set, TLS clients must present a certificate issued by this CA (mutual TLS).
    pub tls_client_ca: Option<PathBuf>,
    /// Kafka topic (default `syslog.messages`).
    pub topic: Option<String>,
    /// When a record keeps the line as received: `always`, `on_error` (default) or `never`.
    pub raw: Option<String>,
}

/// When a record carries its line as received (`raw`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawPolicy {
    Always,
    /// Only for lines with a `parseError`: what the parser could not read stays inspectable, while parsed
    /// lines do not double their size in Kafka.
    OnError,
    Never,
}

/// A validated `[[sources.syslog]]`.
#[derive(Clone, Debug)]
pub struct SyslogSettings {
    pub id: String,
    pub topic: String,
    pub raw: RawPolicy,
    /// One per `listen` address, in the order written.
    pub listeners: Vec<ListenerConfig>,
}

impl SourceFile for SyslogSourceFile {
    type Config = SyslogSettings;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<SyslogSettings, ConfigError> {
        let addresses = self.addresses(validation, at)?;
        let tls = self.tls_files(validation, at, &addresses)?;
        let max_frame_bytes = within(
            validation,
            at.key("max_message_bytes"),
            self.max_message_bytes.unwrap_or(default_max_frame_bytes()),
            MIN_MESSAGE_BYTES,
            MAX_MESSAGE_BYTES,
        )?;
        let max_connections = within(
            validation,
            at.key("max_connections"),
            self.max_connections.unwrap_or(default_max_connections()),
            1,
            MAX_CONNECTIONS,
        )?;
        let receive_buffer_bytes = match self.receive_buffer_bytes {
            Some(bytes) => Some(within(
                validation,
                at.key("receive_buffer_bytes"),
                bytes,
                1,
                MAX_RECEIVE_BUFFER_BYTES,
            )?),
            None => None,
        };
        let idle_timeout = validation.seconds(
            at.key("idle_timeout_s"),
            self.idle_timeout_s,
            default_idle_timeout().as_secs(),
            None,
        )?;
        let listeners = addresses
            .into_iter()
            .map(|listen| ListenerConfig {
                // Only a tls:// listener takes the files: the driver refuses them on the others.
                tls: if listen.transport == Transport::Tls {
                    tls.clone()
                } else {
                    None
                },
                max_frame_bytes,
                max_connections,
                idle_timeout,
                receive_buffer_bytes,
                ..ListenerConfig::new(listen)
            })
            .collect();
        Ok(SyslogSettings {
            id: validation.unique_id(at, &self.id)?,
            topic: validation.topic(at.key("topic"), &self.topic, SYSLOG_TOPIC)?,
            raw: raw_policy(validation, at, self.raw.as_deref())?,
            listeners,
        })
    }
}

impl SyslogSourceFile {
    /// `listen`, parsed: required (a syslog port differs per site and per transport, so there is no
    /// default), each address once.
    fn addresses(&self, validation: &Validation<'_>, at: &At) -> Result<Vec<ListenAddress>, ConfigError> {
        let key = at.key("listen");
        let texts = match &self.listen {
            Some(texts) if !texts.is_empty() => texts,
            _ => {
                return Err(validation.invalid(
                    key,
                    "required: one or more addresses, as [\"udp://0.0.0.0:514\", \"tcp://0.0.0.0:601\"]",
                ));
            }
        };
        let mut seen = HashSet::new();
        let mut addresses = Vec::with_capacity(texts.len());
        for text in texts {
            let address: ListenAddress = text
                .parse()
                .map_err(|error: AddressError| validation.invalid(key.clone(), error.to_string()))?;
            if !seen.insert(address) {
                return Err(validation.invalid(key, format!("{text:?} is listed twice")));
            }
            addresses.push(address);
        }
        Ok(addresses)
    }

    /// The TLS files, resolved against the config file's directory: both of certificate and key for a
    /// `tls://` address, and none without one (files that nothing uses are a mistake, not a default).
    fn tls_files(
        &self,
        validation: &Validation<'_>,
        at: &At,
        addresses: &[ListenAddress],
    ) -> Result<Option<TlsFiles>, ConfigError> {
        let any_tls = addresses
            .iter()
            .any(|address| address.transport == Transport::Tls);
        match (&self.tls_cert, &self.tls_key) {
            (Some(certificate), Some(key)) if any_tls => Ok(Some(TlsFiles {
                certificate: validation.relative(certificate),
                key: validation.relative(key),
                client_ca: self.tls_client_ca.as_deref().map(|ca| validation.relative(ca)),
            })),
            (None, None) if !any_tls && self.tls_client_ca.is_none() => Ok(None),
            (None, _) if any_tls => {
                Err(validation.invalid(at.key("tls_cert"), "required by a tls:// address (with tls_key)"))
            }
            (_, None) if any_tls => {
                Err(validation.invalid(at.key("tls_key"), "required by a tls:// address (with tls_cert)"))
            }
            _ => Err(validation.invalid(
                at.key("listen"),
                "tls_cert, tls_key and tls_client_ca are only used by a tls:// address, and listen has none",
            )),
        }
    }
}

/// `value` if within `min..=max`, else an error naming `key`.
fn within(
    validation: &Validation<'_>,
    key: String,
    value: usize,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(validation.invalid(key, format!("{value} is out of range: {min} to {max}")))
    }
}

fn raw_policy(validation: &Validation<'_>, at: &At, text: Option<&str>) -> Result<RawPolicy, ConfigError> {
    match text {
        None | Some("on_error") => Ok(RawPolicy::OnError),
        Some("always") => Ok(RawPolicy::Always),
        Some("never") => Ok(RawPolicy::Never),
        Some(other) => Err(validation.invalid(
            at.key("raw"),
            format!("{other:?}: use \"always\", \"on_error\" or \"never\""),
        )),
    }
}

impl Source for SyslogSettings {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        let addresses: Vec<String> = self
            .listeners
            .iter()
            .map(|listener| listener.listen.to_string())
            .collect();
        format!("syslog {} -> {}", addresses.join(", "), self.topic)
    }

    fn uses_meraki(&self) -> bool {
        false
    }

    fn uses_device_identity(&self) -> bool {
        true
    }

    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        let source = SyslogSource::new(
            self.clone(),
            context.outputs.clone(),
            context.telemetry.clone(),
            context.devices.clone(),
        );
        Ok(Box::pin(source.run(context.stop.clone(), context.once)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    const AT: At = At {
        section: "sources",
        kind: "syslog",
        index: 0,
        single: false,
    };

    fn validate(text: &str) -> Result<SyslogSettings, String> {
        let file: SyslogSourceFile = toml::from_str(text).map_err(|error| error.to_string())?;
        let mut validation = Validation::new(
            Path::new("/etc/semaphore/semaphore.toml"),
            Duration::from_secs(30),
        );
        file.validate(&mut validation, &AT)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn defaults_fill_every_listener() {
        let settings = validate(r#"listen = ["udp://0.0.0.0:514", "tcp://127.0.0.1:601"]"#).unwrap();
        assert_eq!(settings.topic, SYSLOG_TOPIC);
        assert_eq!(settings.raw, RawPolicy::OnError);
        assert_eq!(settings.listeners.len(), 2);
        assert_eq!(settings.listeners[0].listen.transport, Transport::Udp);
        assert_eq!(settings.listeners[1].max_frame_bytes, 65_536);
        assert_eq!(settings.listeners[1].max_connections, 512);
        assert_eq!(settings.listeners[1].idle_timeout, Duration::from_secs(600));
        assert_eq!(
            settings.describe(),
            "syslog udp://0.0.0.0:514, tcp://127.0.0.1:601 -> syslog.messages"
        );
    }

    #[test]
    fn listen_is_required_and_each_address_is_checked() {
        for text in ["", "listen = []"] {
            let error = validate(text).unwrap_err();
            assert!(
                error.contains("sources.syslog[0].listen") && error.contains("required"),
                "{error}"
            );
        }
        let error = validate(r#"listen = ["udp://0.0.0.0:514", "tcp://localhost:601"]"#).unwrap_err();
        assert!(
            error.contains("sources.syslog[0].listen") && error.contains("\"tcp://localhost:601\""),
            "{error}"
        );
        let error = validate(r#"listen = ["udp://0.0.0.0"]"#).unwrap_err();
        assert!(error.contains("missing :PORT"), "{error}");
        let error = validate(r#"listen = ["udp://0.0.0.0:514", "udp://0.0.0.0:514"]"#).unwrap_err();
        assert!(error.contains("listed twice"), "{error}");
    }

    #[test]
    fn tls_files_go_to_tls_addresses_only() {
        let settings = validate(
            r#"listen = ["tcp://0.0.0.0:601", "tls://0.0.0.0:6514"]
               tls_cert = "cert.pem"
               tls_key = "/keys/key.pem""#,
        )
        .unwrap();
        assert_eq!(settings.listeners[0].tls, None);
        let files = settings.listeners[1].tls.clone().expect("TLS files");
        assert_eq!(files.certificate, Path::new("/etc/semaphore/cert.pem"));
        assert_eq!(files.key, Path::new("/keys/key.pem"));
        assert_eq!(files.client_ca, None);
        let error = validate(r#"listen = ["tls://0.0.0.0:6514"]"#).unwrap_err();
        assert!(error.contains("sources.syslog[0].tls_cert"), "{error}");
        let error = validate(
            r#"listen = ["tls://0.0.0.0:6514"]
               tls_cert = "cert.pem""#,
        )
        .unwrap_err();
        assert!(error.contains("sources.syslog[0].tls_key"), "{error}");
        let error = validate(
            r#"listen = ["udp://0.0.0.0:514"]
               tls_cert = "cert.pem"
               tls_key = "key.pem""#,
        )
        .unwrap_err();
        assert!(error.contains("only used by a tls:// address"), "{error}");
    }

    #[test]
    fn relp_is_a_transport_to_listen_on_without_tls() {
        let settings = validate(r#"listen = ["relp://127.0.0.1:2514", "tcp://127.0.0.1:601"]"#).unwrap();
        assert_eq!(settings.listeners[0].listen.transport, Transport::Relp);
        assert_eq!(settings.listeners[0].tls, None);
        assert_eq!(
            settings.describe(),
            "syslog relp://127.0.0.1:2514, tcp://127.0.0.1:601 -> syslog.messages"
        );
        let error = validate(
            r#"listen = ["relp://0.0.0.0:2514"]
               tls_cert = "cert.pem"
               tls_key = "key.pem""#,
        )
        .unwrap_err();
        assert!(error.contains("only used by a tls:// address"), "{error}");
    }

    #[test]
    fn limits_and_raw_are_checked() {
        let error = validate(
            r#"listen = ["udp://0.0.0.0:514"]
               max_message_bytes = 100"#,
        )
        .unwrap_err();
        assert!(
            error.contains("sources.syslog[0].max_message_bytes") && error.contains("480"),
            "{error}"
        );
        let error = validate(
            r#"listen = ["udp://0.0.0.0:514"]
               raw = "sometimes""#,
        )
        .unwrap_err();
        assert!(
            error.contains("sources.syslog[0].raw") && error.contains("on_error"),
            "{error}"
        );
        let settings = validate(
            r#"listen = ["udp://0.0.0.0:514"]
               raw = "always"
               max_connections = 8
               idle_timeout_s = 30
               receive_buffer_bytes = 4194304
               topic = "logs""#,
        )
        .unwrap();
        assert_eq!(settings.raw, RawPolicy::Always);
        assert_eq!(settings.topic, "logs");
        assert_eq!(settings.listeners[0].max_connections, 8);
        assert_eq!(settings.listeners[0].idle_timeout, Duration::from_secs(30));
        assert_eq!(settings.listeners[0].receive_buffer_bytes, Some(4_194_304));
    }
}
