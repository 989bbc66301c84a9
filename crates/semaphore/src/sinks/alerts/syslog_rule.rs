//! `[[sinks.alerts.syslog_rule]]`: a log alert rule as written, and its validation into a [`SyslogRule`].
//! Every mistake names the rule and the key (`sinks.alerts[0].syslog_rule[1].message_regex: rule
//! "link-flap": …`).

use chrono::TimeDelta;
use glob::Pattern;
use regex::Regex;
use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::{EMPTY_LIST, Validation};
use crate::sinks::syslog_alert_rules::{IpNetwork, SyslogRule, parse_severity};

/// A rule without `within_s` keeps its alert firing this long after the last matching line: five minutes,
/// long enough that a link flapping every few minutes stays one alert.
const DEFAULT_WITHIN_S: u64 = 300;

/// The longest window: a day (the window keeps at most `count` arrivals per device, so this bounds time,
/// not memory).
const MAX_WITHIN_S: u64 = 86_400;

/// The most lines a window counts (each device keeps up to this many arrival times per rule).
const MAX_COUNT: u32 = 10_000;

/// `[[sinks.alerts.syslog_rule]]`: lines that meet every condition given, counted per device; the alert fires
/// when `count` of them arrived within `within_s` seconds and resolves when the window holds fewer again.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogRuleFile {
    /// Names the alert in events (unique within the sink, uplink rules included).
    pub name: String,
    /// Lines this severe or more (a lower number): a keyword (`emerg` … `debug`, `warning`) or 0 to 7.
    pub severity_at_least: Option<SeverityFile>,
    /// The line's mnemonic (Cisco's `LINK-3-UPDOWN`, a Junos event name), exactly or as a glob
    /// (`LINK-*-UPDOWN`); any case, a leading `%` ignored.
    pub mnemonic: Option<String>,
    /// A regular expression found in the line's message (Rust `regex` syntax).
    pub message_regex: Option<String>,
    /// The line's hostname, exactly or as a glob (`core-*`); any case.
    pub hostname: Option<String>,
    /// Senders: addresses or networks (`10.0.0.0/8`).
    pub source_ip: Option<Vec<String>>,
    /// Lines from one device that fire the alert (default 1).
    pub count: Option<u32>,
    /// Seconds those lines must arrive within, and how long the alert stays firing after they stop
    /// (default 300).
    pub within_s: Option<u64>,
}

/// `severity_at_least` as TOML has it: a keyword or a number.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum SeverityFile {
    /// `"warning"`, `"err"`…
    Keyword(String),
    /// 0 (emerg) to 7 (debug).
    Number(i64),
}

/// Checks one rule; `key` names a key of this rule (`sinks.alerts[0].syslog_rule[1].KEY`).
pub fn validate_syslog_rule(
    rule: &SyslogRuleFile,
    validation: &Validation<'_>,
    key: &dyn Fn(&str) -> String,
) -> Result<SyslogRule, ConfigError> {
    if rule.name.is_empty() || rule.name.contains('/') {
        return Err(validation.invalid(key("name"), "must be non-empty and without '/'"));
    }
    let invalid =
        |name: &str, reason: String| validation.invalid(key(name), format!("rule {:?}: {reason}", rule.name));
    let severity_at_least = match &rule.severity_at_least {
        None => None,
        Some(SeverityFile::Keyword(text)) => Some(parse_severity(text)),
        Some(SeverityFile::Number(number)) => Some(parse_severity(&number.to_string())),
    };
    let severity_at_least = severity_at_least
        .transpose()
        .map_err(|reason| invalid("severity_at_least", reason))?;
    let mnemonic = glob_pattern(&rule.mnemonic).map_err(|reason| invalid("mnemonic", reason))?;
    let hostname = glob_pattern(&rule.hostname).map_err(|reason| invalid("hostname", reason))?;
    let message = rule
        .message_regex
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|error| invalid("message_regex", regex_error(&error)))?;
    let source_ips = match &rule.source_ip {
        None => Vec::new(),
        Some(texts) if texts.is_empty() => return Err(invalid("source_ip", EMPTY_LIST.into())),
        Some(texts) => networks(texts).map_err(|reason| invalid("source_ip", reason))?,
    };
    let count = rule.count.unwrap_or(1);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(invalid("count", format!("must be 1 to {MAX_COUNT}")));
    }
    let within_s = rule.within_s.unwrap_or(DEFAULT_WITHIN_S);
    if !(1..=MAX_WITHIN_S).contains(&within_s) {
        return Err(invalid(
            "within_s",
            format!("must be 1 to {MAX_WITHIN_S} seconds"),
        ));
    }
    Ok(SyslogRule {
        name: rule.name.clone(),
        severity_at_least,
        mnemonic,
        message,
        hostname,
        source_ips,
        count: count as usize,
        within: TimeDelta::seconds(within_s as i64),
    })
}

/// A glob, if given; a mnemonic's leading `%` (as Cisco prints it) is dropped, the record has none.
fn glob_pattern(text: &Option<String>) -> Result<Option<Pattern>, String> {
    let Some(text) = text else {
        return Ok(None);
    };
    Pattern::new(text.trim_start_matches('%'))
        .map(Some)
        .map_err(|error| format!("{text:?} is not a glob: {error}"))
}

/// Senders as written: addresses or networks (trap rules take them too).
pub(super) fn networks(texts: &[String]) -> Result<Vec<IpNetwork>, String> {
    texts.iter().map(String::as_str).map(IpNetwork::parse).collect()
}

/// The regex crate's message is several lines (the pattern, a caret, the error); its last line says what
/// is wrong, and config errors are one line.
fn regex_error(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text.lines().last().unwrap_or_default();
    format!("not a regular expression: {}", last.trim_start_matches("error: "))
}
