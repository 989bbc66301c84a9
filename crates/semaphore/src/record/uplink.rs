//! `meraki.uplink_loss_latency` v1: one loss/latency sample of one uplink of one appliance towards one
//! destination IP, with the inventory context the original publisher lacked.
//!
//! Meraki's own field names (camelCase) are kept so a consumer of the original Python publisher keeps
//! working. Nulls stay null: Meraki reports null loss and latency when an uplink is down, and that is data.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::record::KeyStrategy;
use crate::record::registry::RecordKind;

/// Schema name and version, as carried in the `semaphore-schema` header.
pub const UPLINK_SCHEMA: &str = <UplinkRecord as RecordKind>::HEADER;

/// One sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UplinkRecord {
    pub organization_id: String,
    pub network_id: String,
    pub network_name: Option<String>,
    pub serial: String,
    pub device_name: Option<String>,
    pub model: Option<String>,
    pub tags: Vec<String>,
    pub uplink: String,
    pub ip: String,
    /// Sample time (RFC 3339, UTC). For per-device history: the start of the interval.
    #[serde(with = "rfc3339")]
    pub ts: DateTime<Utc>,
    /// Per-device history only: the interval the sample covers.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub start_ts: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub end_ts: Option<DateTime<Utc>>,
    pub loss_percent: Option<f64>,
    pub latency_ms: Option<f64>,
    /// Milliseconds; per-device history only (the org-wide call does not report it).
    pub jitter: Option<f64>,
    /// Kilobits per second; per-device history only.
    pub goodput: Option<f64>,
    pub active_ddns_hostname: Option<String>,
    pub ddns_hostname_wan1: Option<String>,
    pub ddns_hostname_wan2: Option<String>,
}

/// What makes a sample unique: DESIGN.md's de-duplication key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SampleKey {
    pub serial: String,
    pub uplink: String,
    pub ip: String,
    pub ts: DateTime<Utc>,
}

impl RecordKind for UplinkRecord {
    const SCHEMA: &'static str = "meraki.uplink_loss_latency";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "meraki.uplink_loss_latency/1";
    const JSON_SCHEMA: &'static str = "meraki.uplink_loss_latency.v1.json";
    /// One device's samples in order on one partition (DESIGN.md "Kafka conventions").
    const DEFAULT_KEY: Option<KeyStrategy> = Some(KeyStrategy::Serial);

    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

impl UplinkRecord {
    /// The Kafka key under `strategy`: the serial, `serial/uplink`, the network, fixed or none.
    pub fn key(&self, strategy: &KeyStrategy) -> Option<String> {
        strategy.key(Some(&self.serial), Some(&self.uplink), &self.network_id)
    }

    pub fn sample_key(&self) -> SampleKey {
        SampleKey {
            serial: self.serial.clone(),
            uplink: self.uplink.clone(),
            ip: self.ip.clone(),
            ts: self.ts,
        }
    }

    /// True when the uplink was down for this sample (Meraki reported no loss figure).
    pub fn is_down(&self) -> bool {
        self.loss_percent.is_none()
    }
}

/// Timestamps are written with whole seconds and a `Z`, as Meraki writes them.
mod rfc3339 {
    use super::*;

    pub fn serialize<S: serde::Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(deserializer)
    }
}

mod rfc3339_option {
    use super::*;

    pub fn serialize<S: serde::Serializer>(
        time: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => super::rfc3339::serialize(time, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<DateTime<Utc>>::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> UplinkRecord {
        UplinkRecord {
            organization_id: "1".into(),
            network_id: "N_1".into(),
            network_name: Some("Branch".into()),
            serial: "Q2AA-BBBB-CCCC".into(),
            device_name: Some("mx-1".into()),
            model: Some("MX68".into()),
            tags: vec!["retail".into()],
            uplink: "wan2".into(),
            ip: "8.8.8.8".into(),
            ts: "2026-11-27T10:01:00Z".parse().unwrap(),
            start_ts: None,
            end_ts: None,
            loss_percent: None,
            latency_ms: None,
            jitter: None,
            goodput: None,
            active_ddns_hostname: None,
            ddns_hostname_wan1: None,
            ddns_hostname_wan2: None,
        }
    }

    #[test]
    fn down_uplink_is_null_not_zero_and_round_trips() {
        let record = sample();
        let value = serde_json::to_value(&record).unwrap();
        assert_eq!(value["lossPercent"], serde_json::Value::Null);
        assert_eq!(value["latencyMs"], serde_json::Value::Null);
        assert_eq!(value["ts"], "2026-11-27T10:01:00Z");
        assert!(value.get("startTs").is_none());
        let back: UplinkRecord = serde_json::from_value(value).unwrap();
        assert_eq!(back, record);
        assert!(back.is_down());
    }
}
