//! A record ready for any output: its JSON bytes, key, timestamp (the sample time) and the headers DESIGN.md
//! asks for (`content-type`, `semaphore-schema`, `source`).

use serde::Serialize;

use crate::record::KeyStrategy;
use crate::record::alert::{ALERT_SCHEMA, AlertEvent};
use crate::record::clients::{CLIENTS_SCHEMA, ClientsRecord};
use crate::record::uplink::{UPLINK_SCHEMA, UplinkRecord};

pub const CONTENT_TYPE: &str = "application/json";

#[derive(Clone, Debug, PartialEq)]
pub struct EncodedRecord {
    pub key: Option<String>,
    pub payload: Vec<u8>,
    /// Milliseconds since the epoch: the sample time.
    pub timestamp_ms: i64,
    /// `name/version` of the record's JSON Schema.
    pub schema: &'static str,
    /// The id of the source that produced it.
    pub source: String,
}

impl EncodedRecord {
    pub fn uplink(record: &UplinkRecord, key: &KeyStrategy, source: &str) -> Self {
        let key = key.key(Some(&record.serial), Some(&record.uplink), &record.network_id);
        Self::encode(record, key, record.ts.timestamp_millis(), UPLINK_SCHEMA, source)
    }

    pub fn clients(record: &ClientsRecord, key: &KeyStrategy, source: &str) -> Self {
        let key = key.key(None, None, &record.network_id);
        Self::encode(record, key, record.ts.timestamp_millis(), CLIENTS_SCHEMA, source)
    }

    /// Keyed by the alert (rule, serial, uplink, IP), so one alert's firing and resolved events stay in order.
    pub fn alert(event: &AlertEvent, source: &str) -> Self {
        Self::encode(
            event,
            Some(event.alert_key()),
            event.ts.timestamp_millis(),
            ALERT_SCHEMA,
            source,
        )
    }

    fn encode(
        record: &impl Serialize,
        key: Option<String>,
        timestamp_ms: i64,
        schema: &'static str,
        source: &str,
    ) -> Self {
        let payload = serde_json::to_vec(record).expect("records are plain data and always serialize");
        Self {
            key,
            payload,
            timestamp_ms,
            schema,
            source: source.to_owned(),
        }
    }

    /// The record as a JSON object, parsed back from the payload, for outputs that lay fields out themselves
    /// (syslog structured data). Kafka and files need only the bytes, so the hot path does not build it.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::from_slice(&self.payload) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => unreachable!("the payload is a serialized record, a JSON object"),
        }
    }

    pub fn headers(&self) -> [(&'static str, &[u8]); 3] {
        [
            ("content-type", CONTENT_TYPE.as_bytes()),
            ("semaphore-schema", self.schema.as_bytes()),
            ("source", self.source.as_bytes()),
        ]
    }
}
