//! `snmp.system/1`: one device as one `[[sources.snmp]]` poll saw it: SNMPv2-MIB's system group, whether
//! it restarted since the poll before, how many interfaces it has, how long the poll took, and the scalars
//! the source's config adds (`custom`, by the names the config gives them).

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::record::KeyStrategy;
use crate::record::device::DeviceFields;
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
    /// The device in `[inventory]`, its fields the record's own (`deviceName`, `serial`, `site`, `role`,
    /// `networkId`, `networkName`, `tags`): null when the address is not known, `tags` `[]` for a known
    /// device without tags.
    #[serde(flatten)]
    pub device: DeviceFields,
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
        self.device.key(self.target.ip())
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
            device: DeviceFields {
                device_name: None,
                serial: None,
                site: None,
                role: None,
                network_id: None,
                network_name: None,
                tags: None,
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The device's fields are the record's own in JSON (as the schema and the consumers have them), and a
    /// field nobody knows is still refused, flattened or not.
    #[test]
    fn the_device_fields_stay_top_level_and_unknown_fields_are_refused() {
        let mut record = SnmpSystemRecord::sample();
        record.device.serial = Some("FOC1234X".to_owned());
        record.device.tags = Some(vec!["dc".to_owned()]);
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["serial"], "FOC1234X");
        assert_eq!(json["tags"], serde_json::json!(["dc"]));
        assert_eq!(json["deviceName"], Value::Null);
        assert_eq!(json["networkName"], Value::Null);
        assert!(json.get("device").is_none(), "{json}");
        let back: SnmpSystemRecord = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, record);
        let mut unknown = json;
        unknown["surprise"] = Value::from(1);
        let error = serde_json::from_value::<SnmpSystemRecord>(unknown).unwrap_err();
        assert!(error.to_string().contains("surprise"), "{error}");
    }
}
