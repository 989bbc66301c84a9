//! `[[sinks.alerts.interface_rule]]`: an interface alert rule as written, and its validation into an
//! [`InterfaceRule`]. Every mistake names the rule and the key (`sinks.alerts[0].interface_rule[0].metric:
//! rule "busy": …`).

use glob::Pattern;
use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::{EMPTY_LIST, Validation};
use crate::sinks::interface_alert_rules::{InterfaceMetric, InterfaceRule};

/// `[[sinks.alerts.interface_rule]]`: one of an `snmp.interface/1` record's rates above `above` for
/// `for_polls` consecutive polls of one interface.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceRuleFile {
    /// Names the alert in events (unique within the sink, every kind of rule included).
    pub name: String,
    /// `inUtilizationPercent`, `outUtilizationPercent`, `inErrorsPerSecond`, `outErrorsPerSecond`,
    /// `inDiscardsPerSecond`, `outDiscardsPerSecond`, `inBitsPerSecond` or `outBitsPerSecond`.
    pub metric: String,
    /// The threshold, in the metric's unit (percent, per second, bits per second).
    pub above: Option<f64>,
    /// Consecutive polls above that fire the alert (default 1).
    pub for_polls: Option<u32>,
    /// Only interfaces whose `ifName` one of these globs matches (any case): `["Gi1/0/*", "Te*"]`.
    pub interfaces: Option<Vec<String>>,
}

/// Checks one rule; `key` names a key of this rule (`sinks.alerts[0].interface_rule[1].KEY`).
pub fn validate_interface_rule(
    rule: &InterfaceRuleFile,
    validation: &Validation<'_>,
    key: &dyn Fn(&str) -> String,
) -> Result<InterfaceRule, ConfigError> {
    if rule.name.is_empty() || rule.name.contains('/') {
        return Err(validation.invalid(key("name"), "must be non-empty and without '/'"));
    }
    let invalid =
        |name: &str, reason: String| validation.invalid(key(name), format!("rule {:?}: {reason}", rule.name));
    let metric = InterfaceMetric::parse(&rule.metric).map_err(|reason| invalid("metric", reason))?;
    let above = match rule.above {
        Some(above) if !above.is_finite() || above < 0.0 => {
            return Err(invalid(
                "above",
                "must be a number of at least 0 (a rate is never below)".into(),
            ));
        }
        Some(above) if metric.is_percent() && above >= 100.0 => {
            return Err(invalid(
                "above",
                format!("{above} % of the interface's speed is never exceeded: use less than 100"),
            ));
        }
        Some(above) => above,
        None => return Err(invalid("above", "the threshold is required".into())),
    };
    let for_polls = rule.for_polls.unwrap_or(1);
    if for_polls == 0 {
        return Err(invalid("for_polls", "must be at least 1".into()));
    }
    let interfaces = match &rule.interfaces {
        None => Vec::new(),
        Some(globs) if globs.is_empty() => return Err(invalid("interfaces", EMPTY_LIST.into())),
        Some(globs) => globs
            .iter()
            .map(|text| Pattern::new(text).map_err(|error| format!("{text:?} is not a glob: {error}")))
            .collect::<Result<Vec<Pattern>, String>>()
            .map_err(|reason| invalid("interfaces", reason))?,
    };
    Ok(InterfaceRule {
        name: rule.name.clone(),
        metric,
        above,
        for_polls,
        interfaces,
    })
}
