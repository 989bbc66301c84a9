//! Syslog alert rules: which `syslog.message/1` lines a rule counts (pure: no I/O). A line counts when it
//! meets every condition the rule gives: a severity at or above a level, a mnemonic (exact or a glob), a
//! message regex, a hostname glob, a sender address or network. What the counted lines do (fire, resolve)
//! is the evaluator's ([`crate::sinks::syslog_alert_evaluator`]).
//!
//! Lines are counted per device, as [`device_key`] names it: one function, so that the device identity
//! syslog records are about to carry (a serial) replaces the sender's address in one place.

use std::net::IpAddr;

use chrono::TimeDelta;
use glob::{MatchOptions, Pattern};
use regex::Regex;

use crate::record::{SyslogAlert, SyslogRecord};

/// Mnemonics and hostnames match whatever their case: devices differ in how they write both, and DNS names
/// are case-insensitive. Interface rules match `ifName`s so too (`gi1/0/*` is `Gi1/0/*`).
pub(crate) const ANY_CASE: MatchOptions = MatchOptions {
    case_sensitive: false,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// The most of a line's message an event carries: plenty to read, and an event stays far below Kafka's
/// message size limit whatever the syslog source's `max_message_bytes` (up to 1 MiB).
const MESSAGE_BYTES: usize = 4096;

/// A validated `[[sinks.alerts.syslog_rule]]`.
#[derive(Clone, Debug)]
pub struct SyslogRule {
    pub name: String,
    /// Lines of this severity or more severe (a lower number): 3 takes emerg, alert, crit and err.
    pub severity_at_least: Option<u8>,
    /// Matched against the record's `mnemonic`, a leading `%` ignored on both sides.
    pub mnemonic: Option<Pattern>,
    /// Found anywhere in the record's `message`.
    pub message: Option<Regex>,
    pub hostname: Option<Pattern>,
    /// The sender is one of these; empty: any sender.
    pub source_ips: Vec<IpNetwork>,
    /// Lines from one device that fire the alert when they arrive within `within`; at least 1.
    pub count: usize,
    pub within: TimeDelta,
}

impl SyslogRule {
    /// Whether the line counts for this rule.
    pub fn matches(&self, record: &SyslogRecord) -> bool {
        // Cheapest first: the regex runs only on lines every other condition took.
        self.severity_matches(record)
            && self.sender_matches(record)
            && glob_matches(self.mnemonic.as_ref(), record.mnemonic.as_deref())
            && glob_matches(self.hostname.as_ref(), record.hostname.as_deref())
            && self.message_matches(record)
    }

    /// The rule in words, carried in every event: `3 lines within 60 s: severity <= 3 (err), mnemonic
    /// LINK-*`.
    pub fn condition(&self) -> String {
        let mut conditions = Vec::new();
        if let Some(level) = self.severity_at_least {
            conditions.push(format!("severity <= {level} ({})", severity_name(level)));
        }
        if let Some(pattern) = &self.mnemonic {
            conditions.push(format!("mnemonic {pattern}"));
        }
        if let Some(regex) = &self.message {
            conditions.push(format!("message ~ /{regex}/"));
        }
        if let Some(pattern) = &self.hostname {
            conditions.push(format!("hostname {pattern}"));
        }
        if !self.source_ips.is_empty() {
            let networks: Vec<String> = self.source_ips.iter().map(IpNetwork::to_string).collect();
            conditions.push(format!("from {}", networks.join(" or ")));
        }
        let lines = if self.count == 1 { "line" } else { "lines" };
        let conditions = if conditions.is_empty() {
            "any line".to_owned()
        } else {
            conditions.join(", ")
        };
        format!(
            "{} {lines} within {} s: {conditions}",
            self.count,
            self.within.num_seconds()
        )
    }

    /// What an event of this rule says about the line that decided.
    pub fn line(&self, record: &SyslogRecord) -> SyslogAlert {
        SyslogAlert {
            source_ip: record.source_ip,
            hostname: record.hostname.clone(),
            severity: record.severity,
            severity_name: record.severity_name.clone(),
            mnemonic: record.mnemonic.clone(),
            message: shortened(&record.message),
            within_seconds: self.within.num_seconds().unsigned_abs(),
        }
    }

    fn severity_matches(&self, record: &SyslogRecord) -> bool {
        match (self.severity_at_least, record.severity) {
            (None, _) => true,
            (Some(level), Some(severity)) => severity <= level,
            // A line without a priority has no severity to compare.
            (Some(_), None) => false,
        }
    }

    fn sender_matches(&self, record: &SyslogRecord) -> bool {
        let sender = record.source_ip;
        self.source_ips.is_empty() || self.source_ips.iter().any(|network| network.contains(sender))
    }

    fn message_matches(&self, record: &SyslogRecord) -> bool {
        match &self.message {
            None => true,
            Some(regex) => regex.is_match(&record.message),
        }
    }
}

/// No pattern: any value, even none. A pattern: a value it matches, a leading `%` ignored (Cisco writes
/// `%LINK-3-UPDOWN:` in the line, the parser keeps `LINK-3-UPDOWN`, operators copy either).
fn glob_matches(pattern: Option<&Pattern>, value: Option<&str>) -> bool {
    match (pattern, value) {
        (None, _) => true,
        (Some(pattern), Some(value)) => pattern.matches_with(value.trim_start_matches('%'), ANY_CASE),
        (Some(_), None) => false,
    }
}

/// The message, cut to [`MESSAGE_BYTES`] at a character boundary and marked `…` when longer.
fn shortened(message: &str) -> String {
    if message.len() <= MESSAGE_BYTES {
        return message.to_owned();
    }
    let mut end = MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// The device a line came from, which alerts are kept per: the record's Kafka key (its serial from
/// `[inventory]`, else its inventory name, else the sender's address), so one device is one alert whichever
/// of its addresses a line came from. Never the line's hostname: many lines lack one.
pub fn device_key(record: &SyslogRecord) -> String {
    record.key()
}

/// `severity_at_least` as written: a keyword (`warning`, `err`…, with the usual aliases) or 0 to 7.
pub fn parse_severity(text: &str) -> Result<u8, String> {
    let number = match text.to_ascii_lowercase().as_str() {
        "emerg" | "emergency" | "panic" => 0,
        "alert" => 1,
        "crit" | "critical" => 2,
        "err" | "error" => 3,
        "warning" | "warn" => 4,
        "notice" => 5,
        "info" | "informational" => 6,
        "debug" => 7,
        other => match other.parse::<u8>() {
            Ok(number) if number <= 7 => number,
            _ => {
                return Err(format!(
                    "{text:?}: use 0 (emerg) to 7 (debug) or {SEVERITY_KEYWORDS}"
                ));
            }
        },
    };
    Ok(number)
}

/// The keywords by number, as the syslog record's `severityName` spells them.
const SEVERITY_KEYWORDS: &str = "emerg, alert, crit, err, warning, notice, info, debug";

fn severity_name(level: u8) -> &'static str {
    match level {
        0 => "emerg",
        1 => "alert",
        2 => "crit",
        3 => "err",
        4 => "warning",
        5 => "notice",
        6 => "info",
        _ => "debug",
    }
}

/// A sender address, or a network of them (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let Ok(address) = address.parse::<IpAddr>() else {
            return Err(format!("{text:?} is not an IP address or ADDRESS/PREFIX"));
        };
        let longest: u8 = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => longest,
            Some(prefix) => match prefix.parse::<u8>() {
                Ok(prefix) if prefix <= longest => prefix,
                _ => return Err(format!("{text:?}: the prefix length must be 0 to {longest}")),
            },
        };
        Ok(Self { address, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let prefix = if self.address.is_ipv4() {
            self.prefix + 96
        } else {
            self.prefix
        };
        same_prefix(ipv6_bits(self.address), ipv6_bits(address), prefix)
    }
}

impl std::fmt::Display for IpNetwork {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let longest = if self.address.is_ipv4() { 32 } else { 128 };
        if self.prefix == longest {
            write!(formatter, "{}", self.address)
        } else {
            write!(formatter, "{}/{}", self.address, self.prefix)
        }
    }
}

/// Both families on one line: IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), as a dual-stack socket reports
/// an IPv4 sender, so `10.0.0.0/8` and `::ffff:10.0.0.0/104` are the same network.
fn ipv6_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(address) => u128::from(address.to_ipv6_mapped()),
        IpAddr::V6(address) => u128::from(address),
    }
}

/// The first `prefix` of the 128 bits are equal.
fn same_prefix(left: u128, right: u128, prefix: u8) -> bool {
    let mask = match prefix {
        0 => 0,
        bits => u128::MAX << (128 - u32::from(bits.min(128))),
    };
    (left & mask) == (right & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(severity: Option<u8>, mnemonic: Option<&str>, message: &str) -> SyslogRecord {
        serde_json::from_value(serde_json::json!({
            "ts": "2026-12-03T10:00:00Z", "tsSource": "message", "receivedAt": "2026-12-03T10:00:00Z",
            "facility": 23, "facilityName": "local7", "severity": severity, "severityName": null,
            "hostname": "Core-SW1", "appName": null, "procId": null, "msgId": null, "structuredData": null,
            "message": message, "vendor": "cisco", "mnemonic": mnemonic, "sequence": null, "eventType": null,
            "fields": null, "parseError": null, "invalidUtf8": false, "sourceIp": "10.1.2.3",
            "sourcePort": 514, "transport": "udp", "truncated": false, "raw": null
        }))
        .unwrap()
    }

    fn rule() -> SyslogRule {
        SyslogRule {
            name: "r".into(),
            severity_at_least: None,
            mnemonic: None,
            message: None,
            hostname: None,
            source_ips: Vec::new(),
            count: 1,
            within: TimeDelta::seconds(300),
        }
    }

    #[test]
    fn severity_at_least_takes_the_level_and_the_more_severe() {
        let rule = SyslogRule {
            severity_at_least: Some(parse_severity("warning").unwrap()),
            ..rule()
        };
        assert!(rule.matches(&line(Some(4), None, "x")));
        assert!(rule.matches(&line(Some(0), None, "x")));
        assert!(!rule.matches(&line(Some(5), None, "x")));
        // A line without a priority has no severity to compare.
        assert!(!rule.matches(&line(None, None, "x")));
        assert_eq!(parse_severity("ERR"), Ok(3));
        assert_eq!(parse_severity("6"), Ok(6));
        for wrong in ["8", "-1", "loud", ""] {
            let reason = parse_severity(wrong).unwrap_err();
            assert!(reason.contains("0 (emerg) to 7 (debug)"), "{reason}");
        }
    }

    #[test]
    fn mnemonic_exact_or_glob_with_or_without_percent() {
        // As the config makes it: a leading `%` dropped.
        let with = |pattern: &str| SyslogRule {
            mnemonic: Some(Pattern::new(pattern.trim_start_matches('%')).unwrap()),
            ..rule()
        };
        let text = "Interface Gi0/1, changed state to down";
        let updown = line(Some(3), Some("LINK-3-UPDOWN"), text);
        assert!(with("LINK-3-UPDOWN").matches(&updown));
        assert!(with("%LINK-*").matches(&updown));
        assert!(with("link-?-updown").matches(&updown), "any case");
        let percent = line(Some(3), Some("%LINK-3-UPDOWN"), text);
        assert!(with("LINK-3-UPDOWN").matches(&percent));
        assert!(!with("LINK-3").matches(&updown), "exact unless a glob");
        assert!(!with("LINEPROTO-*").matches(&updown));
        let without = line(Some(3), None, text);
        assert!(!with("*").matches(&without), "a line without a mnemonic");
    }

    #[test]
    fn message_regex_and_hostname() {
        let down = line(Some(3), None, "Interface Gi0/1, changed state to down");
        let up = line(Some(3), None, "Interface Gi0/1, changed state to up");
        let regex = SyslogRule {
            message: Some(Regex::new(r"changed state to (administratively )?down$").unwrap()),
            ..rule()
        };
        assert!(regex.matches(&down));
        assert!(!regex.matches(&up));
        let hostname = |pattern: &str| SyslogRule {
            hostname: Some(Pattern::new(pattern).unwrap()),
            ..rule()
        };
        assert!(hostname("core-*").matches(&down), "any case");
        assert!(!hostname("edge-*").matches(&down));
    }

    #[test]
    fn sender_addresses_and_networks() {
        let down = line(Some(3), None, "down");
        let networks = |texts: &[&str]| SyslogRule {
            source_ips: texts.iter().map(|text| IpNetwork::parse(text).unwrap()).collect(),
            ..rule()
        };
        assert!(networks(&["10.0.0.0/8"]).matches(&down));
        assert!(networks(&["192.0.2.1", "10.1.2.3"]).matches(&down));
        assert!(!networks(&["10.1.2.4", "10.2.0.0/16"]).matches(&down));
        assert!(networks(&["0.0.0.0/0"]).matches(&down));
        let parse = |text: &str| IpNetwork::parse(text).unwrap();
        let address = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(parse("::ffff:10.1.2.0/120").contains(address("10.1.2.3")));
        assert!(parse("10.1.2.0/24").contains(address("::ffff:10.1.2.3")));
        assert!(parse("2001:db8::/32").contains(address("2001:db8::1")));
        assert!(!parse("2001:db8::/32").contains(address("10.1.2.3")));
        assert!(!parse("0.0.0.0/0").contains(address("2001:db8::1")));
        let wrong = |text: &str| IpNetwork::parse(text).unwrap_err();
        assert!(wrong("10.0.0.0/33").contains("0 to 32"));
        assert!(wrong("core-sw1").contains("not an IP address"));
        assert_eq!(parse("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(parse("10.0.0.1").to_string(), "10.0.0.1");
    }

    #[test]
    fn condition_says_the_rule() {
        let link = SyslogRule {
            severity_at_least: Some(3),
            mnemonic: Some(Pattern::new("LINK-*").unwrap()),
            source_ips: vec![IpNetwork::parse("10.0.0.0/8").unwrap()],
            count: 3,
            within: TimeDelta::seconds(60),
            ..rule()
        };
        assert_eq!(
            link.condition(),
            "3 lines within 60 s: severity <= 3 (err), mnemonic LINK-*, from 10.0.0.0/8"
        );
        assert_eq!(rule().condition(), "1 line within 300 s: any line");
    }

    #[test]
    fn long_messages_are_cut_for_the_event() {
        let long = format!("{}é{}", "x".repeat(MESSAGE_BYTES - 1), "y".repeat(100));
        let message = rule().line(&line(Some(3), None, &long)).message;
        assert_eq!(message, format!("{}…", "x".repeat(MESSAGE_BYTES - 1)));
        let short = rule().line(&line(Some(3), None, "short")).message;
        assert_eq!(short, "short");
    }

    /// The inventory's serial first (one device whichever of its addresses sent), then its name, then the
    /// sender's address.
    #[test]
    fn the_device_is_the_serial_else_the_name_else_the_sender() {
        let unknown = line(None, None, "x");
        assert_eq!(device_key(&unknown), "10.1.2.3");
        let named = SyslogRecord {
            device_name: Some("core-sw1".into()),
            ..unknown.clone()
        };
        assert_eq!(device_key(&named), "core-sw1");
        let from_another_address = SyslogRecord {
            serial: Some("FOC1234X".into()),
            source_ip: "10.9.9.9".parse().unwrap(),
            ..named.clone()
        };
        let identified = SyslogRecord {
            serial: Some("FOC1234X".into()),
            ..named
        };
        assert_eq!(device_key(&identified), "FOC1234X");
        assert_eq!(device_key(&from_another_address), device_key(&identified));
    }
}
