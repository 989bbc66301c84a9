//! `syslog.message/1`: one syslog line as received by `[[sources.syslog]]`: what the parser read from it,
//! who sent it over what, and which device that is when `[inventory]` knows the sender.
//!
//! The device's fields came after the first records of this version were written: they are optional when
//! read (a record without them decodes with them null), as the JSON Schema says, so one version covers both.
//!
//! The fields are spelled out rather than flattened from the parser's `ParsedMessage`: serde cannot combine
//! `flatten` with `deny_unknown_fields`, and a record type must not depend on the parser's internals (the
//! source converts one into the other).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::record::KeyStrategy;
use crate::record::device::device_key;
use crate::record::registry::RecordKind;

/// Where `ts` came from: the device's own time, or the arrival time when the line had none that could be
/// placed on the UTC timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTimeSource {
    Message,
    Received,
}

/// How the line arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    Udp,
    Tcp,
    Tls,
    /// RELP (rsyslog's `omrelp`): acknowledged to the sender only once Kafka had it.
    Relp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyslogRecord {
    /// The message's time in UTC; the Kafka record timestamp.
    pub ts: DateTime<Utc>,
    pub ts_source: SyslogTimeSource,
    /// When the bytes were read from the socket.
    pub received_at: DateTime<Utc>,
    /// From `<PRI>`: 0 to 23.
    pub facility: Option<u8>,
    pub facility_name: Option<String>,
    /// From `<PRI>`: 0 (emergency) to 7 (debug).
    pub severity: Option<u8>,
    pub severity_name: Option<String>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
    pub proc_id: Option<String>,
    pub msg_id: Option<String>,
    /// RFC 5424 STRUCTURED-DATA as `{sd-id: {param: value}}`.
    pub structured_data: Option<Value>,
    pub message: String,
    /// `cisco`, `cisco-asa`, `juniper`, `arista` or `meraki`.
    pub vendor: Option<String>,
    /// Cisco's `FACILITY-SEVERITY-MNEMONIC`, or the Junos event name.
    pub mnemonic: Option<String>,
    /// Cisco's sequence number.
    pub sequence: Option<u64>,
    /// Meraki's event type.
    pub event_type: Option<String>,
    /// Meraki's key=value pairs.
    pub fields: Option<Map<String, Value>>,
    /// What was wrong with the line; the other fields hold what could be read.
    pub parse_error: Option<String>,
    /// The line was not valid UTF-8 (invalid bytes became U+FFFD).
    pub invalid_utf8: bool,
    /// The sender: the datagram's source or the connection's peer (the record's key when the device is not
    /// known).
    pub source_ip: IpAddr,
    pub source_port: u16,
    pub transport: SyslogTransport,
    /// The sending device's name in `[inventory]`: the device file's hostname, or Meraki's device name.
    pub device_name: Option<String>,
    pub serial: Option<String>,
    /// From the device file.
    pub site: Option<String>,
    /// From the device file.
    pub role: Option<String>,
    /// The device's Meraki network.
    pub network_id: Option<String>,
    pub network_name: Option<String>,
    /// The device's tags; null when the device is not known, `[]` when it has none.
    pub tags: Option<Vec<String>>,
    /// The line was longer than the source's `max_message_bytes` and was cut to it.
    pub truncated: bool,
    /// The line as received (lossily decoded), when the source's `raw` setting keeps it.
    pub raw: Option<String>,
}

impl SyslogRecord {
    /// The Kafka key: the device, so one device's lines stay in order (one partition). Its serial when
    /// `[inventory]` knows it (a serial never changes, while names do and two addresses of one device share
    /// it), else its inventory name, else the sender's IP address. Never the line's own hostname: many lines
    /// lack one (Cisco without `logging origin-id`, relays that strip it) and it is whatever the device was
    /// told to call itself.
    pub fn key(&self) -> String {
        device_key(
            self.serial.as_deref(),
            self.device_name.as_deref(),
            self.source_ip,
        )
    }
}

/// How far ahead of its arrival a line's own time may be and still stamp its Kafka record: less than Kafka's
/// default one hour, so a record spooled or retried for a while is still inside the broker's window.
const KAFKA_FUTURE_LIMIT: chrono::TimeDelta = chrono::TimeDelta::minutes(50);
/// How far behind its arrival a line's own time may be and still stamp its Kafka record: a day, well inside
/// any retention, and more than any device's time zone mistake.
const KAFKA_PAST_LIMIT: chrono::TimeDelta = chrono::TimeDelta::days(1);

impl RecordKind for SyslogRecord {
    const SCHEMA: &'static str = "syslog.message";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "syslog.message/1";
    const JSON_SCHEMA: &'static str = "syslog.message.v1.json";
    /// No strategy: always keyed by the sending device ([`SyslogRecord::key`]).
    const DEFAULT_KEY: Option<KeyStrategy> = None;

    /// The device's time, unless it is more than [`KAFKA_FUTURE_LIMIT`] after the line arrived or more than
    /// [`KAFKA_PAST_LIMIT`] before: then the arrival time. Kafka 4.0 and the embedded broker refuse a record
    /// stamped more than an hour ahead of their clock (`log.message.timestamp.after.max.ms`), and a refused
    /// record would be retried for ever, holding back every line after it; retention deletes a record by its
    /// timestamp, and the embedded broker does so record by record, so a line stamped 1993 (a router that
    /// never had NTP) would vanish within minutes. Both clocks are common; the device's `ts` stays in the
    /// record either way.
    fn timestamp_ms(&self) -> i64 {
        if self.ts > self.received_at + KAFKA_FUTURE_LIMIT || self.ts < self.received_at - KAFKA_PAST_LIMIT {
            self.received_at.timestamp_millis()
        } else {
            self.ts.timestamp_millis()
        }
    }
}
