//! `[[sinks.alerts]]` with `[[sinks.alerts.rule]]` and `[[sinks.alerts.syslog_rule]]`: the table as written,
//! its validation, its check and how the sink is built.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::AlertsSink;
use super::syslog_rule::{SyslogRuleFile, validate_syslog_rule};
use crate::check::Problem;
use crate::config::validation::{At, Validation};
use crate::config::{ConfigError, UPLINKS_TOPIC};
use crate::env::Env;
use crate::record::uplink::UPLINK_SCHEMA;
use crate::record::{RecordKind, SyslogRecord};
use crate::sinks::alert_rules::{AlertEvaluator, AlertMetric, AlertRule, AlertWindow};
use crate::sinks::component::{
    BuiltSink, Deliver, SinkBuildError, SinkComponent, SinkContext, SinkFile, reading_keys,
};
use crate::sinks::message::ConsumedMessage;
use crate::sinks::runner::SinkReading;
use crate::sinks::sink::{Accepted, BoxError, SinkError};
use crate::sinks::syslog_alert_evaluator::SyslogAlertEvaluator;
use crate::sinks::syslog_alert_rules::SyslogRule;
use crate::sinks::webhook::{WebhookSettings, WebhookTarget, validate_target};
use crate::sources::syslog::SYSLOG_TOPIC;

/// Where firing and resolved events go unless the sink says otherwise.
pub const ALERTS_TOPIC: &str = "semaphore.alerts";

/// With syslog rules, how long the sink waits for a record before it moves its clock on to the current time
/// (log alerts resolve when no line comes): at most this late, in a quiet stream.
const SYSLOG_TICK: Duration = Duration::from_secs(5);

/// What the sink decodes: uplink samples, and syslog lines once it has syslog rules.
const UPLINK_SCHEMAS: &[&str] = &[UPLINK_SCHEMA];
const UPLINK_AND_SYSLOG_SCHEMAS: &[&str] = &[UPLINK_SCHEMA, SyslogRecord::HEADER];

/// `[[sinks.alerts]]`: rules evaluated per uplink and per syslog device; events to the alerts topic and
/// optionally a webhook.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSinkFile {
    pub id: Option<String>,
    pub topics: Option<Vec<String>>,
    pub group: Option<String>,
    pub start: Option<String>,
    pub batch_size: Option<usize>,
    pub dead_letter_topic: Option<String>,
    /// Where firing and resolved events go (default `semaphore.alerts`).
    pub alerts_topic: Option<String>,
    /// Also POST each event here.
    pub webhook: Option<AlertWebhookFile>,
    /// The rules on uplink samples (`[[sinks.alerts.rule]]`).
    #[serde(default)]
    pub rule: Vec<AlertRuleFile>,
    /// The rules on syslog lines (`[[sinks.alerts.syslog_rule]]`).
    #[serde(default)]
    pub syslog_rule: Vec<SyslogRuleFile>,
}

/// `[sinks.alerts.webhook]`: the same keys as a webhook sink's target.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertWebhookFile {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub token_env: Option<String>,
    pub max_attempts: Option<u32>,
    pub timeout_s: Option<u64>,
}

/// `[[sinks.alerts.rule]]`: `metric` above `above`, for `for_samples` consecutive samples or on average over
/// `average_over_s` seconds (one of the two).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleFile {
    /// Names the alert in events (unique within the sink).
    pub name: String,
    /// `loss_percent`, `latency_ms` or `down`.
    pub metric: String,
    /// Threshold (percent for loss, milliseconds for latency; default 0 for `down`).
    pub above: Option<f64>,
    pub for_samples: Option<u32>,
    pub average_over_s: Option<u64>,
}

/// A validated alerts sink.
#[derive(Clone, Debug)]
pub struct AlertsSettings {
    pub rules: Vec<AlertRule>,
    pub syslog_rules: Vec<SyslogRule>,
    /// The alerts topic.
    pub topic: String,
    pub webhook: Option<WebhookSettings>,
}

impl SinkFile for AlertsSinkFile {
    type Config = AlertsSettings;

    reading_keys!();

    fn validate(
        &self,
        validation: &mut Validation<'_>,
        at: &At,
        reading: &mut SinkReading,
    ) -> Result<AlertsSettings, ConfigError> {
        if self.rule.is_empty() && self.syslog_rule.is_empty() {
            return Err(validation.invalid(
                at.key("rule"),
                "add at least one [[sinks.alerts.rule]] or [[sinks.alerts.syslog_rule]]",
            ));
        }
        // One name space for both kinds: an alert's key and its restored state start with the rule's name.
        let mut names = BTreeSet::new();
        let mut rules = Vec::new();
        for (index, rule) in self.rule.iter().enumerate() {
            let key = |name: &str| at.key(&format!("rule[{index}].{name}"));
            let validated = validate_rule(rule, validation, &key)?;
            if !names.insert(rule.name.clone()) {
                return Err(validation.invalid(key("name"), format!("{:?} is used by two rules", rule.name)));
            }
            rules.push(validated);
        }
        let mut syslog_rules = Vec::new();
        for (index, rule) in self.syslog_rule.iter().enumerate() {
            let key = |name: &str| at.key(&format!("syslog_rule[{index}].{name}"));
            let validated = validate_syslog_rule(rule, validation, &key)?;
            if !names.insert(rule.name.clone()) {
                return Err(validation.invalid(key("name"), format!("{:?} is used by two rules", rule.name)));
            }
            syslog_rules.push(validated);
        }
        if self.topics.is_none() {
            reading.topics = default_topics(!rules.is_empty(), !syslog_rules.is_empty());
        }
        let webhook = match &self.webhook {
            Some(file) => {
                let target = WebhookTarget {
                    url: &file.url,
                    headers: &file.headers,
                    token_env: &file.token_env,
                    max_attempts: file.max_attempts,
                    timeout_s: file.timeout_s,
                };
                Some(validate_target(
                    validation,
                    &|name| at.key(&format!("webhook.{name}")),
                    &target,
                )?)
            }
            None => None,
        };
        let topic = validation.topic(at.key("alerts_topic"), &self.alerts_topic, ALERTS_TOPIC)?;
        if reading.topics.contains(&topic) {
            return Err(validation.invalid(
                at.key("alerts_topic"),
                "must not be one of the topics the sink reads",
            ));
        }
        Ok(AlertsSettings {
            rules,
            syslog_rules,
            topic,
            webhook,
        })
    }
}

/// The topics read when `topics` is left out: what the rules take (uplink samples, syslog lines).
fn default_topics(uplink_rules: bool, syslog_rules: bool) -> Vec<String> {
    let mut topics = Vec::new();
    if uplink_rules {
        topics.push(UPLINKS_TOPIC.to_owned());
    }
    if syslog_rules {
        topics.push(SYSLOG_TOPIC.to_owned());
    }
    topics
}

fn validate_rule(
    rule: &AlertRuleFile,
    validation: &Validation<'_>,
    key: &dyn Fn(&str) -> String,
) -> Result<AlertRule, ConfigError> {
    if rule.name.is_empty() || rule.name.contains('/') {
        return Err(validation.invalid(key("name"), "must be non-empty and without '/'"));
    }
    let metric =
        AlertMetric::parse(&rule.metric).map_err(|reason| validation.invalid(key("metric"), reason))?;
    let above = match (metric, rule.above) {
        (_, Some(above)) if above.is_finite() => above,
        (AlertMetric::Down, None) => 0.0,
        (_, Some(_)) => return Err(validation.invalid(key("above"), "must be a finite number")),
        (_, None) => return Err(validation.invalid(key("above"), "the threshold is required")),
    };
    let window = match (rule.for_samples, rule.average_over_s) {
        (Some(count), None) if count >= 1 => AlertWindow::Consecutive(count),
        (None, Some(span)) if span >= 60 => AlertWindow::AverageOver(Duration::from_secs(span)),
        (None, None) => AlertWindow::Consecutive(1),
        (Some(_), Some(_)) => {
            return Err(validation.invalid(key("for_samples"), "set for_samples or average_over_s, not both"));
        }
        (Some(_), None) => return Err(validation.invalid(key("for_samples"), "must be at least 1")),
        (None, Some(_)) => {
            return Err(validation.invalid(
                key("average_over_s"),
                "must be at least 60 (Meraki samples once a minute)",
            ));
        }
    };
    Ok(AlertRule {
        name: rule.name.clone(),
        metric,
        above,
        window,
    })
}

impl SinkComponent for AlertsSettings {
    fn describe(&self) -> String {
        match self.syslog_rules.len() {
            0 => format!("{} alert rules -> {}", self.rules.len(), self.topic),
            syslog => format!(
                "{} alert rules, {syslog} syslog rules -> {}",
                self.rules.len(),
                self.topic
            ),
        }
    }

    fn check<'a>(
        &'a self,
        env: &'a dyn Env,
    ) -> BoxFuture<'a, Option<(String, Result<&'static str, Problem>)>> {
        Box::pin(async move { self.webhook.as_ref().and_then(|webhook| webhook.check_token(env)) })
    }

    fn build<'a>(&'a self, context: &'a SinkContext<'a>) -> BoxFuture<'a, Result<BuiltSink, SinkBuildError>> {
        Box::pin(async move {
            let webhook = match &self.webhook {
                Some(settings) => Some(settings.sink(context.env, context.id)?),
                None => None,
            };
            let sink = AlertsSink::new(
                context.id.to_owned(),
                AlertEvaluator::new(self.rules.clone()),
                SyslogAlertEvaluator::new(self.syslog_rules.clone()),
                self.topic.clone(),
                context.kafka.clone(),
                context.topic_creation,
                webhook,
            );
            Ok(BuiltSink {
                deliver: Box::new(sink),
                server: None,
            })
        })
    }
}

impl Deliver for AlertsSink {
    fn accepts(&self) -> &'static [&'static str] {
        if self.syslog.is_empty() {
            UPLINK_SCHEMAS
        } else {
            UPLINK_AND_SYSLOG_SCHEMAS
        }
    }

    fn idle_tick(&self) -> Option<Duration> {
        (!self.syslog.is_empty()).then_some(SYSLOG_TICK)
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            self.kafka.ensure_topic(&self.topic, self.topic_creation).await?;
            self.restore().await?;
            Ok(())
        })
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Accepted]) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(AlertsSink::deliver(self, batch))
    }

    fn take_undelivered(&mut self) -> Vec<(ConsumedMessage, String)> {
        self.take_webhook_failures()
    }
}
