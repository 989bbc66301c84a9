//! `[[outputs.syslog]]`: the table as written, its validation and how the output is built.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{SyslogEndpoint, SyslogOutput};
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::outputs::component::{Output, OutputComponent, OutputContext, OutputFile};
use crate::outputs::rfc5424::{SyslogFormat, facility_code};

/// `[[outputs.syslog]]`: RFC 5424 messages to a syslog server.
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

/// A syslog output, validated.
#[derive(Clone, Debug)]
pub struct SyslogOutputConfig {
    pub endpoint: SyslogEndpoint,
    pub format: SyslogFormat,
    /// Resolved against the config file's directory.
    pub ca_file: Option<PathBuf>,
}

impl OutputFile for SyslogOutputFile {
    type Config = SyslogOutputConfig;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<SyslogOutputConfig, ConfigError> {
        let endpoint: SyslogEndpoint = self
            .endpoint
            .parse()
            .map_err(|reason: String| validation.invalid(at.key("endpoint"), reason))?;
        let facility_name = self.facility.clone().unwrap_or_else(|| "local0".into());
        let facility = facility_code(&facility_name).ok_or_else(|| {
            validation.invalid(
                at.key("facility"),
                format!("{facility_name:?}: use local0 … local7, user or daemon"),
            )
        })?;
        Ok(SyslogOutputConfig {
            endpoint,
            format: SyslogFormat {
                facility,
                hostname: self.hostname.clone().unwrap_or_else(host_name),
                app_name: self.app_name.clone().unwrap_or_else(|| "semaphore".into()),
                process_id: std::process::id(),
            },
            ca_file: self.ca_file.as_deref().map(|file| validation.relative(file)),
        })
    }
}

impl OutputComponent for SyslogOutputConfig {
    fn describe(&self) -> Option<String> {
        Some(format!("syslog {}", self.endpoint))
    }

    fn json(&self) -> Value {
        json!({"endpoint": self.endpoint.to_string()})
    }

    fn build(&self, _context: &OutputContext<'_>) -> Arc<dyn Output> {
        Arc::new(SyslogOutput::new(
            self.endpoint.clone(),
            self.format.clone(),
            self.ca_file.clone(),
        ))
    }
}

/// This host's name, for syslog's HOSTNAME field; `-` (RFC 5424's nil value) when it cannot be read.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "-".into())
}
