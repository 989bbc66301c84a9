//! `semaphore.alert` v1: an alert rule started or stopped matching one uplink, one device's syslog lines
//! (a log alert, which carries [`SyslogAlert`]), or one device's SNMP traps or interface (an SNMP alert,
//! which carries [`SnmpAlert`]). Written by the alerts sink to the alerts topic (keyed by
//! [`AlertEvent::alert_key`], so one alert's events stay in order) and optionally POSTed to a webhook
//! (Event-Driven Ansible reads it as the event's payload).
//!
//! Log and SNMP alerts extend the record compatibly rather than making new kinds: `syslog` and `snmp` are
//! optional fields, left out of uplink alerts, so an uplink alert is the same JSON as before and one topic,
//! one restore and one webhook serve every family.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::record::KeyStrategy;
use crate::record::registry::RecordKind;

/// Schema name and version, as carried in the `semaphore-schema` header.
pub const ALERT_SCHEMA: &str = <AlertEvent as RecordKind>::HEADER;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertEvent {
    /// The rule's name from the config.
    pub rule: String,
    pub status: AlertStatus,
    /// What the rule says, in words (`lossPercent > 5 for 3 consecutive samples`).
    pub condition: String,
    pub organization_id: String,
    pub network_id: String,
    pub network_name: Option<String>,
    pub serial: String,
    pub device_name: Option<String>,
    pub uplink: String,
    pub ip: String,
    /// The value that decided (the last sample's, or the window's average); null when the uplink was down.
    pub value: Option<f64>,
    pub threshold: f64,
    /// Sample time of the first matching sample.
    pub starts_at: DateTime<Utc>,
    /// Sample time of the sample that ended the match (resolved events only).
    pub ends_at: Option<DateTime<Utc>>,
    /// Sample time of the sample that produced this event.
    pub ts: DateTime<Utc>,
    /// Log alerts only: the device's line that decided. Uplink alerts leave it out (not `null`), so their
    /// JSON is what it was before log alerts existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syslog: Option<SyslogAlert>,
    /// SNMP alerts only: the trap or the interface poll that decided. Left out of the other families.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snmp: Option<SnmpAlert>,
}

/// What a log alert adds to [`AlertEvent`], whose uplink fields it fills as far as they apply: `serial` is
/// the device (see `sinks::syslog_alert_rules::device_key`), `deviceName` the line's hostname, `value` the
/// matching lines in the window and `threshold` the rule's count; the organization, network, uplink and IP
/// are empty, as a syslog line names none of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyslogAlert {
    /// The sender of the line (the record's `sourceIp`).
    pub source_ip: IpAddr,
    pub hostname: Option<String>,
    /// 0 (emergency) to 7 (debug), and its keyword.
    pub severity: Option<u8>,
    pub severity_name: Option<String>,
    pub mnemonic: Option<String>,
    /// The newest matching line's message.
    pub message: String,
    /// The rule's window: `threshold` lines within this many seconds fire the alert.
    pub within_seconds: u64,
}

/// What an SNMP alert adds to [`AlertEvent`], whose uplink fields it fills as far as they apply: `serial`
/// is the device (its serial from `[inventory]`, else its inventory name, else its address:
/// `record::device::device_key`), `deviceName` its inventory name (an interface alert: else its `sysName`);
/// the organization, network, uplink and IP are empty. A trap alert's `value` is null and `threshold` 0; an
/// interface alert's are the metric's value and the rule's `above`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnmpAlert {
    /// The device's address: a trap's sender, or the address an interface was polled at.
    pub address: IpAddr,
    /// Trap alerts: the notification that decided (the one that fired it or resolved it; an alert resolved by
    /// time keeps the one that fired it), dotted, and its name when it is a well-known one.
    pub trap_oid: Option<String>,
    pub trap_name: Option<String>,
    /// The interface: a trap's `ifIndex` binding (null when it carries none), an interface alert's polled
    /// interface. With it, one alert per interface; without it, one per device.
    pub if_index: Option<i64>,
    pub if_name: Option<String>,
    /// Interface alerts: the `snmp.interface/1` field compared with the threshold (`inUtilizationPercent`).
    pub metric: Option<String>,
    /// Trap alerts without a resolving trap: seconds after the last matching trap that the alert resolves.
    pub resolve_after_seconds: Option<u64>,
}

impl RecordKind for AlertEvent {
    const SCHEMA: &'static str = "semaphore.alert";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "semaphore.alert/1";
    const JSON_SCHEMA: &'static str = "semaphore.alert.v1.json";
    /// No strategy: always keyed by [`AlertEvent::alert_key`], so one alert's firing and resolved events stay
    /// in order on one partition.
    const DEFAULT_KEY: Option<KeyStrategy> = None;

    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

impl AlertEvent {
    /// One alert: a rule on one uplink towards one destination, a log rule on one device, or an SNMP rule on
    /// one device's interface.
    pub fn alert_key(&self) -> String {
        match (&self.syslog, &self.snmp) {
            (Some(_), _) => syslog_alert_key(&self.rule, &self.serial),
            (None, Some(snmp)) => snmp_alert_key(&self.rule, &self.serial, snmp.if_index),
            (None, None) => alert_key(&self.rule, &self.serial, &self.uplink, &self.ip),
        }
    }
}

pub fn alert_key(rule: &str, serial: &str, uplink: &str, ip: &str) -> String {
    format!("{rule}/{serial}/{uplink}/{ip}")
}

/// A log alert: `rule/device`.
pub fn syslog_alert_key(rule: &str, device: &str) -> String {
    format!("{rule}/{device}")
}

/// An SNMP alert: `rule/device/ifIndex`, or `rule/device` for a trap that names no interface.
pub fn snmp_alert_key(rule: &str, device: &str, if_index: Option<i64>) -> String {
    match if_index {
        Some(if_index) => format!("{rule}/{device}/{if_index}"),
        None => syslog_alert_key(rule, device),
    }
}
