//! `[[sinks.alerts]]` with `[[sinks.alerts.rule]]`, `[[sinks.alerts.syslog_rule]]`,
//! `[[sinks.alerts.trap_rule]]` and `[[sinks.alerts.interface_rule]]`: the table as written, its validation,
//! its check and how the sink is built.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::AlertsSink;
use super::evaluators::AlertEvaluators;
use super::interface_rule::{InterfaceRuleFile, validate_interface_rule};
use super::syslog_rule::{SyslogRuleFile, validate_syslog_rule};
use super::trap_rule::{TrapRuleFile, validate_trap_rule};
use crate::check::Problem;
use crate::config::validation::{At, Validation};
use crate::config::{ConfigError, UPLINKS_TOPIC};
use crate::env::Env;
use crate::sinks::alert_rules::{AlertEvaluator, AlertMetric, AlertRule, AlertWindow};
use crate::sinks::component::{
    BuiltSink, Deliver, SinkBuildError, SinkComponent, SinkContext, SinkFile, reading_keys,
};
use crate::sinks::interface_alert_rules::{InterfaceAlertEvaluator, InterfaceRule};
use crate::sinks::message::ConsumedMessage;
use crate::sinks::runner::SinkReading;
use crate::sinks::sink::{Accepted, BoxError, SinkError};
use crate::sinks::syslog_alert_evaluator::SyslogAlertEvaluator;
use crate::sinks::syslog_alert_rules::SyslogRule;
use crate::sinks::trap_alert_evaluator::TrapAlertEvaluator;
use crate::sinks::trap_alert_rules::TrapRule;
use crate::sinks::webhook::{WebhookSettings, WebhookTarget, validate_target};
use crate::sources::snmp::poller::config::INTERFACE_TOPIC;
use crate::sources::snmp::traps::SNMP_TRAPS_TOPIC;
use crate::sources::syslog::SYSLOG_TOPIC;

/// Where firing and resolved events go unless the sink says otherwise.
pub const ALERTS_TOPIC: &str = "semaphore.alerts";

/// With syslog or trap rules, how long the sink waits for a record before it moves its clock on to the
/// current time (log alerts and self-clearing trap alerts resolve when nothing comes): at most this late, in
/// a quiet stream.
const CLOCK_TICK: Duration = Duration::from_secs(5);

/// `[[sinks.alerts]]`: rules evaluated per uplink, per syslog device, per SNMP device and interface; events
/// to the alerts topic and optionally a webhook.
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
    /// The rules on SNMP traps (`[[sinks.alerts.trap_rule]]`).
    #[serde(default)]
    pub trap_rule: Vec<TrapRuleFile>,
    /// The rules on polled SNMP interfaces (`[[sinks.alerts.interface_rule]]`).
    #[serde(default)]
    pub interface_rule: Vec<InterfaceRuleFile>,
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
    pub trap_rules: Vec<TrapRule>,
    pub interface_rules: Vec<InterfaceRule>,
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
        if self.rule.is_empty()
            && self.syslog_rule.is_empty()
            && self.trap_rule.is_empty()
            && self.interface_rule.is_empty()
        {
            return Err(validation.invalid(
                at.key("rule"),
                "add at least one [[sinks.alerts.rule]], [[sinks.alerts.syslog_rule]], \
                 [[sinks.alerts.trap_rule]] or [[sinks.alerts.interface_rule]]",
            ));
        }
        // One name space for every kind: an alert's key and its restored state start with the rule's name.
        let mut names = BTreeSet::new();
        let mut rules_of = RuleTables {
            names: &mut names,
            validation,
            at,
        };
        let rules = rules_of.validate("rule", &self.rule, |rule| &rule.name, validate_rule)?;
        let syslog_rules = rules_of.validate(
            "syslog_rule",
            &self.syslog_rule,
            |rule| &rule.name,
            validate_syslog_rule,
        )?;
        let trap_rules = rules_of.validate(
            "trap_rule",
            &self.trap_rule,
            |rule| &rule.name,
            validate_trap_rule,
        )?;
        let interface_rules = rules_of.validate(
            "interface_rule",
            &self.interface_rule,
            |rule| &rule.name,
            validate_interface_rule,
        )?;
        if self.topics.is_none() {
            reading.topics = default_topics([
                (!rules.is_empty(), UPLINKS_TOPIC),
                (!syslog_rules.is_empty(), SYSLOG_TOPIC),
                (!trap_rules.is_empty(), SNMP_TRAPS_TOPIC),
                (!interface_rules.is_empty(), INTERFACE_TOPIC),
            ]);
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
            trap_rules,
            interface_rules,
            topic,
            webhook,
        })
    }
}

/// The topics read when `topics` is left out: those of the kinds of rules the sink has (uplink samples,
/// syslog lines, SNMP traps, interface polls), each `(has rules, topic)`.
fn default_topics(kinds: [(bool, &str); 4]) -> Vec<String> {
    kinds
        .iter()
        .filter(|(has_rules, _)| *has_rules)
        .map(|(_, topic)| (*topic).to_owned())
        .collect()
}

/// Validates the rule tables of one sink, every rule's name new among them all.
struct RuleTables<'a, 'v> {
    names: &'a mut BTreeSet<String>,
    validation: &'a Validation<'v>,
    at: &'a At,
}

impl RuleTables<'_, '_> {
    /// One kind's tables (`[[sinks.alerts.TABLE]]`), each checked by `validate` with its keys named
    /// `sinks.alerts[0].TABLE[1].KEY`.
    fn validate<F, R>(
        &mut self,
        table: &str,
        files: &[F],
        name_of: impl Fn(&F) -> &String,
        validate: impl Fn(&F, &Validation<'_>, &dyn Fn(&str) -> String) -> Result<R, ConfigError>,
    ) -> Result<Vec<R>, ConfigError> {
        let mut rules = Vec::new();
        for (index, file) in files.iter().enumerate() {
            let key = |name: &str| self.at.key(&format!("{table}[{index}].{name}"));
            let rule = validate(file, self.validation, &key)?;
            let name = name_of(file);
            if !self.names.insert(name.clone()) {
                return Err(self
                    .validation
                    .invalid(key("name"), format!("{name:?} is used by two rules")));
            }
            rules.push(rule);
        }
        Ok(rules)
    }
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
        let mut rules = format!("{} alert rules", self.rules.len());
        for (count, kind) in [
            (self.syslog_rules.len(), "syslog"),
            (self.trap_rules.len(), "trap"),
            (self.interface_rules.len(), "interface"),
        ] {
            if count > 0 {
                rules.push_str(&format!(", {count} {kind} rules"));
            }
        }
        format!("{rules} -> {}", self.topic)
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
            let evaluators = AlertEvaluators {
                uplinks: AlertEvaluator::new(self.rules.clone()),
                syslog: SyslogAlertEvaluator::new(self.syslog_rules.clone()),
                traps: TrapAlertEvaluator::new(self.trap_rules.clone()),
                interfaces: InterfaceAlertEvaluator::new(self.interface_rules.clone()),
            };
            let sink = AlertsSink::new(
                context.id.to_owned(),
                evaluators,
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
        self.evaluators.accepts()
    }

    fn idle_tick(&self) -> Option<Duration> {
        self.evaluators.keep_time().then_some(CLOCK_TICK)
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
