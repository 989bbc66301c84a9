//! `[[sinks.webhook]]`: the table as written, its validation, its check and how the sink is built; and the
//! webhook target keys the alerts sink shares (`[sinks.alerts.webhook]`).

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::{WebhookSettings, WebhookSink};
use crate::check::Problem;
use crate::config::ConfigError;
use crate::config::sinks::http_url;
use crate::config::validation::{At, Validation};
use crate::env::Env;
use crate::record::alert::ALERT_SCHEMA;
use crate::record::clients::CLIENTS_SCHEMA;
use crate::record::uplink::UPLINK_SCHEMA;
use crate::secret::Secret;
use crate::sinks::component::{
    BuiltSink, Deliver, SinkBuildError, SinkComponent, SinkContext, SinkFile, reading_keys,
};
use crate::sinks::runner::SinkReading;
use crate::sinks::sink::{Accepted, SinkError};

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

/// Where and how to POST: the keys a webhook sink and an alerts sink's webhook share.
pub struct WebhookTarget<'a> {
    pub url: &'a str,
    pub headers: &'a BTreeMap<String, String>,
    pub token_env: &'a Option<String>,
    pub max_attempts: Option<u32>,
    pub timeout_s: Option<u64>,
}

impl SinkFile for WebhookSinkFile {
    type Config = WebhookSettings;
    const DEFAULT_BATCH: usize = 1;

    reading_keys!();

    fn validate(
        &self,
        validation: &mut Validation<'_>,
        at: &At,
        _reading: &mut SinkReading,
    ) -> Result<WebhookSettings, ConfigError> {
        let target = WebhookTarget {
            url: &self.url,
            headers: &self.headers,
            token_env: &self.token_env,
            max_attempts: self.max_attempts,
            timeout_s: self.timeout_s,
        };
        validate_target(validation, &|key| at.key(key), &target)
    }
}

/// Checks a webhook target; `key` names a key of its table.
pub fn validate_target(
    validation: &Validation<'_>,
    key: &dyn Fn(&str) -> String,
    target: &WebhookTarget<'_>,
) -> Result<WebhookSettings, ConfigError> {
    for (name, value) in target.headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(value).is_err()
        {
            return Err(validation.invalid(
                key("headers"),
                format!("{name:?} is not a valid HTTP header name and value"),
            ));
        }
        if name.eq_ignore_ascii_case("authorization") {
            return Err(validation.invalid(
                key("headers"),
                "put the token in an environment variable and name it in token_env, not in the file",
            ));
        }
    }
    if let Some(variable) = target.token_env
        && variable.is_empty()
    {
        return Err(validation.invalid(key("token_env"), "name an environment variable"));
    }
    let max_attempts = target.max_attempts.unwrap_or(5);
    if max_attempts == 0 {
        return Err(validation.invalid(key("max_attempts"), "must be at least 1"));
    }
    Ok(WebhookSettings {
        url: http_url(validation, key("url"), target.url)?,
        headers: target.headers.clone(),
        token_env: target.token_env.clone(),
        max_attempts,
        timeout: validation.seconds(key("timeout_s"), target.timeout_s, 10, None)?,
    })
}

impl WebhookSettings {
    /// The sink, its token read from the variable `token_env` names; an unset variable is a config error.
    pub fn sink(&self, env: &dyn Env, id: &str) -> Result<WebhookSink, SinkBuildError> {
        let token = match &self.token_env {
            Some(variable) => Some(Secret::new(env.get(variable).ok_or_else(|| {
                SinkBuildError::Config(format!(
                    "sink {id}: token_env names {variable}, which is not set; export it or remove token_env"
                ))
            })?)),
            None => None,
        };
        Ok(WebhookSink::new(self.clone(), token)?)
    }

    /// `check -c`: the variable `token_env` names must be set (its value is never printed).
    pub fn check_token(&self, env: &dyn Env) -> Option<(String, Result<&'static str, Problem>)> {
        let variable = self.token_env.as_ref()?;
        let outcome = match env.get(variable) {
            Some(_) => Ok("set"),
            None => Err(Problem::config(format!(
                "token_env names {variable}, which is not set; export it or remove token_env"
            ))),
        };
        Some((format!("token_env {variable}"), outcome))
    }
}

impl SinkComponent for WebhookSettings {
    fn describe(&self) -> String {
        format!("webhook POST {}", self.url)
    }

    fn check<'a>(
        &'a self,
        env: &'a dyn Env,
    ) -> BoxFuture<'a, Option<(String, Result<&'static str, Problem>)>> {
        Box::pin(async move { self.check_token(env) })
    }

    fn build<'a>(&'a self, context: &'a SinkContext<'a>) -> BoxFuture<'a, Result<BuiltSink, SinkBuildError>> {
        Box::pin(async move {
            Ok(BuiltSink {
                deliver: Box::new(self.sink(context.env, context.id)?),
                server: None,
            })
        })
    }
}

impl Deliver for WebhookSink {
    fn accepts(&self) -> &'static [&'static str] {
        &[UPLINK_SCHEMA, ALERT_SCHEMA, CLIENTS_SCHEMA]
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Accepted]) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(WebhookSink::deliver(self, batch))
    }
}
