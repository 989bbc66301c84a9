//! Checks the sink kinds share (HTTP URLs, listen addresses, names), and the names the rest of the crate
//! uses for sinks. Each kind validates its own table in its module (`sinks/KIND/config.rs`).

use std::net::SocketAddr;

pub use crate::sinks::alerts::ALERTS_TOPIC;
pub use crate::sinks::component::DEAD_LETTER_TOPIC;
pub use crate::sinks::registry::{SinkConfig, SinkKind};

use crate::config::ConfigError;
use crate::config::validation::Validation;

/// An `http://` or `https://` URL without credentials (those come from the environment).
pub fn http_url(validation: &Validation<'_>, key: String, text: &str) -> Result<url::Url, ConfigError> {
    let url: url::Url = text
        .parse()
        .map_err(|error| validation.invalid(key.clone(), format!("{text:?} is not a URL: {error}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(validation.invalid(key, format!("{text:?}: use http://HOST:PORT or https://…")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(validation.invalid(
            key,
            "credentials do not belong in the URL: use the environment variables the docs name",
        ));
    }
    Ok(url)
}

/// An `IP:PORT` to serve on; `default` when left out.
pub fn listen(
    validation: &Validation<'_>,
    key: String,
    value: &Option<String>,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let text = value.as_deref().unwrap_or(default);
    text.parse()
        .map_err(|_| validation.invalid(key, format!("{text:?} is not IP:PORT (default {default})")))
}

/// A name that may not be empty; `default` when left out.
pub fn non_empty(
    validation: &Validation<'_>,
    key: String,
    value: &Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    match value.as_deref().unwrap_or(default) {
        "" => Err(validation.invalid(key, "must not be empty")),
        text => Ok(text.to_owned()),
    }
}
