//! `snmp.row/1`: one row of a table a `[[sources.snmp]]` config adds by numeric OID (`tables`), as one poll
//! read it: the table's and the columns' names are the config's, the row's index the instance after each
//! column's OID.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::record::KeyStrategy;
use crate::record::device::DeviceFields;
use crate::record::registry::RecordKind;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnmpRowRecord {
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
    /// The table's name in the config.
    pub table: String,
    /// The row's instance: what follows each column's OID, dotted (`1`, `10.0.0.1`, `3.1`).
    pub index: String,
    /// The row's values by the config's column names: numbers as JSON numbers, everything else as text. A
    /// column the row has no value in is left out.
    pub columns: Map<String, Value>,
}

impl SnmpRowRecord {
    /// The Kafka key: the device (its serial, else its inventory name, else the address polled).
    pub fn key(&self) -> String {
        self.device.key(self.target.ip())
    }
}

impl RecordKind for SnmpRowRecord {
    const SCHEMA: &'static str = "snmp.row";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "snmp.row/1";
    const JSON_SCHEMA: &'static str = "snmp.row.v1.json";
    /// No strategy: always keyed by the device ([`SnmpRowRecord::key`]).
    const DEFAULT_KEY: Option<KeyStrategy> = None;

    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

#[cfg(test)]
impl SnmpRowRecord {
    /// A row of a configured CPU table, for the tests over every record kind.
    pub(crate) fn sample() -> Self {
        let mut columns = Map::new();
        columns.insert("cpmCPUTotal5minRev".to_owned(), Value::from(7));
        columns.insert("cpmCPUTotalPhysicalIndex".to_owned(), Value::from(22));
        Self {
            ts: "2026-12-04T10:01:00Z".parse().expect("a valid time"),
            source: "snmp".to_owned(),
            target: "10.0.0.1:161".parse().expect("a valid address"),
            device: DeviceFields {
                device_name: Some("core-sw1".to_owned()),
                serial: None,
                site: Some("madrid".to_owned()),
                role: None,
                network_id: None,
                network_name: None,
                tags: Some(Vec::new()),
            },
            sys_name: Some("core-sw1.example.net".to_owned()),
            table: "cpu".to_owned(),
            index: "1".to_owned(),
            columns,
        }
    }
}
