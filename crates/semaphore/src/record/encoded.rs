//! A record ready for any output: its JSON bytes, key, timestamp (the sample time) and the headers DESIGN.md
//! asks for (`content-type`, `semaphore-schema`, `source`).

use crate::record::KeyStrategy;
use crate::record::alert::AlertEvent;
use crate::record::clients::ClientsRecord;
use crate::record::registry::{RecordKind, SCHEMA_HEADER};
use crate::record::uplink::UplinkRecord;

pub const CONTENT_TYPE: &str = "application/json";

#[derive(Clone, Debug, PartialEq)]
pub struct EncodedRecord {
    pub key: Option<String>,
    pub payload: Vec<u8>,
    /// Milliseconds since the epoch: the sample time.
    pub timestamp_ms: i64,
    /// `name/version` of the record's JSON Schema: its kind's [`RecordKind::HEADER`].
    pub schema: &'static str,
    /// The id of the source that produced it.
    pub source: String,
}

impl EncodedRecord {
    /// Any registered kind, with the key already chosen; the schema header and timestamp come from the kind.
    pub fn new<R: RecordKind>(record: &R, key: Option<String>, source: &str) -> Self {
        let payload = serde_json::to_vec(record).expect("records are plain data and always serialize");
        Self {
            key,
            payload,
            timestamp_ms: record.timestamp_ms(),
            schema: R::HEADER,
            source: source.to_owned(),
        }
    }

    pub fn uplink(record: &UplinkRecord, key: &KeyStrategy, source: &str) -> Self {
        Self::new(record, record.key(key), source)
    }

    pub fn clients(record: &ClientsRecord, key: &KeyStrategy, source: &str) -> Self {
        Self::new(record, record.key(key), source)
    }

    /// Keyed by the alert (rule, serial, uplink, IP), so one alert's firing and resolved events stay in order.
    pub fn alert(event: &AlertEvent, source: &str) -> Self {
        Self::new(event, Some(event.alert_key()), source)
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
            (SCHEMA_HEADER, self.schema.as_bytes()),
            ("source", self.source.as_bytes()),
        ]
    }
}
