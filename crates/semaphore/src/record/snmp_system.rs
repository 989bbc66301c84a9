//! `snmp.system/1`: one device as one `[[sources.snmp]]` poll saw it: SNMPv2-MIB's system group, whether
//! it restarted since the poll before, how many interfaces it has, how long the poll took, and the scalars
//! the source's config adds (`custom`, by the names the config gives them).

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::record::KeyStrategy;
use crate::record::device::device_key;
use crate::record::registry::RecordKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnmpSystemRecord {
    /// When the device answered the poll (UTC); the Kafka record timestamp.
    pub ts: DateTime<Utc>,
    /// The id of the source that polled it.
    pub source: String,
    /// The address polled, `ip:port` (the record's key when the device is not known).
    pub target: SocketAddr,
    /// The device's name in `[inventory]`; null when the address is not known, as for the fields below.
    pub device_name: Option<String>,
    pub serial: Option<String>,
    pub site: Option<String>,
    pub role: Option<String>,
    pub network_id: Option<String>,
    pub network_name: Option<String>,
    /// The device's tags; null when the device is not known, `[]` when it has none.
    pub tags: Option<Vec<String>>,
    pub sys_name: Option<String>,
    pub sys_descr: Option<String>,
    /// Dotted (`1.3.6.1.4.1.8072.3.2.10`): the vendor's identification of the device's kind.
    #[serde(rename = "sysObjectID")]
    pub sys_object_id: Option<String>,
    /// `sysUpTime.0` in seconds: how long the agent has been up.
    pub sys_up_time_seconds: Option<f64>,
    /// `sysUpTime` went backwards since the poll before: the device (or its agent) restarted.
    pub rebooted: bool,
    /// The interfaces this poll found.
    pub interfaces: u32,
    /// How long the poll of this device took.
    pub poll_seconds: f64,
    /// The config's `scalars`, by their names: numbers as JSON numbers, everything else as text; null when
    /// the device has no such object.
    pub custom: Map<String, Value>,
}

impl SnmpSystemRecord {
    /// The Kafka key: the device (its serial, else its inventory name, else the address polled).
    pub fn key(&self) -> String {
        device_key(
            self.serial.as_deref(),
            self.device_name.as_deref(),
            self.target.ip(),
        )
    }
}

impl RecordKind for SnmpSystemRecord {
    const SCHEMA: &'static str = "snmp.system";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "snmp.system/1";
    const JSON_SCHEMA: &'static str = "snmp.system.v1.json";
    /// No strategy: always keyed by the device ([`SnmpSystemRecord::key`]).
    const DEFAULT_KEY: Option<KeyStrategy> = None;

    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

#[cfg(test)]
impl SnmpSystemRecord {
    /// A device the inventory does not know, with one custom scalar, for the tests over every record kind.
    pub(crate) fn sample() -> Self {
        let mut custom = Map::new();
        custom.insert("cpu5min".to_owned(), Value::from(7));
        Self {
            ts: "2026-12-04T10:01:00Z".parse().expect("a valid time"),
            source: "snmp".to_owned(),
            target: "10.0.0.2:161".parse().expect("a valid address"),
            device_name: None,
            serial: None,
            site: None,
            role: None,
            network_id: None,
            network_name: None,
            tags: None,
            sys_name: Some("edge-1".to_owned()),
            sys_descr: Some("Linux edge-1 6.1.0-13-amd64 #1 SMP x86_64".to_owned()),
            sys_object_id: Some("1.3.6.1.4.1.8072.3.2.10".to_owned()),
            sys_up_time_seconds: Some(123_456.78),
            rebooted: false,
            interfaces: 4,
            poll_seconds: 0.012,
            custom,
        }
    }
}
