//! A record read from Kafka by a sink, and what it decodes to. Decoding is pure: a payload that is not JSON,
//! or not the schema its `semaphore-schema` header (or the sink) expects, is [`Malformed`] with a reason
//! naming what was wrong, and goes to the dead-letter topic instead of stopping the sink.

pub use crate::bus::group_reader::ConsumedMessage;
use crate::record::alert::ALERT_SCHEMA;
use crate::record::clients::CLIENTS_SCHEMA;
use crate::record::uplink::UPLINK_SCHEMA;
use crate::record::{AlertEvent, ClientsRecord, UplinkRecord};

/// The record types sinks understand.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    Uplink(Box<UplinkRecord>),
    Alert(Box<AlertEvent>),
    Clients(Box<ClientsRecord>),
}

/// Why a message cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Malformed {
    pub reason: String,
}

/// Decodes by the `semaphore-schema` header; without one (a record from another producer), as the first of
/// `accepted` the payload fits. The result must be one of `accepted`.
pub fn decode(message: &ConsumedMessage, accepted: &[&'static str]) -> Result<Decoded, Malformed> {
    let malformed = |reason: String| Malformed { reason };
    let value: serde_json::Value = serde_json::from_slice(&message.payload).map_err(|error| {
        malformed(format!(
            "not JSON ({error}); payload starts {:?}",
            String::from_utf8_lossy(&message.payload[..message.payload.len().min(40)])
        ))
    })?;
    let schema = match message.header("semaphore-schema") {
        Some(bytes) => {
            let named = String::from_utf8_lossy(bytes).into_owned();
            let known = [UPLINK_SCHEMA, ALERT_SCHEMA, CLIENTS_SCHEMA]
                .into_iter()
                .find(|schema| *schema == named)
                .ok_or_else(|| {
                    malformed(format!("unknown schema {named:?} in the semaphore-schema header"))
                })?;
            if !accepted.contains(&known) {
                return Err(malformed(format!(
                    "schema {known} is not one this sink takes ({})",
                    accepted.join(", ")
                )));
            }
            vec![known]
        }
        None => accepted.to_vec(),
    };
    let mut reasons = Vec::new();
    for candidate in &schema {
        match as_schema(candidate, value.clone()) {
            Ok(decoded) => return Ok(decoded),
            Err(error) => reasons.push(format!("not {candidate}: {error}")),
        }
    }
    Err(malformed(reasons.join("; ")))
}

fn as_schema(schema: &str, value: serde_json::Value) -> Result<Decoded, serde_json::Error> {
    Ok(match schema {
        UPLINK_SCHEMA => Decoded::Uplink(Box::new(serde_json::from_value(value)?)),
        ALERT_SCHEMA => Decoded::Alert(Box::new(serde_json::from_value(value)?)),
        _ => Decoded::Clients(Box::new(serde_json::from_value(value)?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: &str, schema: Option<&str>) -> ConsumedMessage {
        ConsumedMessage {
            topic: "t".into(),
            partition: 2,
            offset: 7,
            timestamp_ms: None,
            key: None,
            payload: payload.as_bytes().to_vec(),
            headers: schema
                .map(|schema| vec![("semaphore-schema".to_owned(), schema.as_bytes().to_vec())])
                .unwrap_or_default(),
        }
    }

    const UPLINK: &str = r#"{"organizationId":"1","networkId":"N_1","networkName":null,"serial":"Q2AA-BBBB-CCCC",
        "deviceName":null,"model":null,"tags":[],"uplink":"wan1","ip":"8.8.8.8","ts":"2026-11-27T10:00:00Z",
        "lossPercent":1.5,"latencyMs":20.0,"jitter":null,"goodput":null,"activeDdnsHostname":null,
        "ddnsHostnameWan1":null,"ddnsHostnameWan2":null}"#;

    #[test]
    fn uplink_with_and_without_header() {
        for schema in [Some(UPLINK_SCHEMA), None] {
            let decoded = decode(&message(UPLINK, schema), &[UPLINK_SCHEMA]).unwrap();
            let Decoded::Uplink(record) = decoded else {
                panic!("an uplink record")
            };
            assert_eq!(record.loss_percent, Some(1.5));
        }
    }

    #[test]
    fn not_json_wrong_schema_and_unknown_header_are_named() {
        let error = decode(&message("hello", None), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(error.reason.starts_with("not JSON"), "{error}");
        let error = decode(&message(r#"{"serial": 5}"#, None), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(
            error.reason.contains("not meraki.uplink_loss_latency/1"),
            "{error}"
        );
        let error = decode(&message(UPLINK, Some("x/9")), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(error.reason.contains("unknown schema \"x/9\""), "{error}");
        let error = decode(&message(UPLINK, Some(CLIENTS_SCHEMA)), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(error.reason.contains("not one this sink takes"), "{error}");
    }

    #[test]
    fn position_names_topic_partition_offset() {
        assert_eq!(message("{}", None).position(), "t/2/7");
    }
}
