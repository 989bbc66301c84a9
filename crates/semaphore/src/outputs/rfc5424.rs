//! Records as RFC 5424 syslog messages (pure): the header carries the sample time, the structured data the
//! record's scalar fields (so a syslog server can index them without parsing), the message the record's JSON.
//!
//! A loss/latency record is one message, at severity warning when the uplink was down and informational
//! otherwise. A clients record becomes one message per client, so no message outgrows a UDP datagram.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::record::EncodedRecord;
use crate::record::clients::CLIENTS_SCHEMA;

/// IANA's private enterprise number reserved for documentation (RFC 5612): SD-IDs of the form `name@32473`
/// are allowed without registering one of our own.
const ENTERPRISE: &str = "32473";
const SEVERITY_WARNING: u8 = 4;
const SEVERITY_INFORMATIONAL: u8 = 6;

#[derive(Clone, Debug)]
pub struct SyslogFormat {
    pub facility: u8,
    pub hostname: String,
    pub app_name: String,
    pub process_id: u32,
}

/// Facility names of RFC 5424 table 1 that make sense for an application.
pub fn facility_code(name: &str) -> Option<u8> {
    Some(match name {
        "user" => 1,
        "daemon" => 3,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

impl SyslogFormat {
    pub fn messages(&self, record: &EncodedRecord) -> Vec<String> {
        let time = DateTime::from_timestamp_millis(record.timestamp_ms).unwrap_or_else(Utc::now);
        let fields = record.fields();
        if record.schema == CLIENTS_SCHEMA {
            let network: Vec<(&str, &Value)> = ["organizationId", "networkId", "networkName"]
                .iter()
                .filter_map(|name| fields.get(*name).map(|value| (*name, value)))
                .collect();
            let clients = fields.get("clients").and_then(Value::as_array);
            return clients
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .map(|client| {
                    let mut parameters = network.clone();
                    parameters.extend(client.iter().map(|(name, value)| (name.as_str(), value)));
                    let body = serde_json::to_string(client).expect("JSON values serialize");
                    self.message(
                        time,
                        SEVERITY_INFORMATIONAL,
                        "network_client",
                        "client",
                        &parameters,
                        &body,
                    )
                })
                .collect();
        }
        let down = fields.get("lossPercent").is_some_and(Value::is_null);
        let severity = if down {
            SEVERITY_WARNING
        } else {
            SEVERITY_INFORMATIONAL
        };
        let parameters: Vec<(&str, &Value)> = fields
            .iter()
            .map(|(name, value)| (name.as_str(), value))
            .collect();
        let body = String::from_utf8_lossy(&record.payload);
        vec![self.message(
            time,
            severity,
            "uplink_loss_latency",
            "uplink",
            &parameters,
            &body,
        )]
    }

    fn message(
        &self,
        time: DateTime<Utc>,
        severity: u8,
        message_id: &str,
        element: &str,
        parameters: &[(&str, &Value)],
        body: &str,
    ) -> String {
        let priority = u16::from(self.facility) * 8 + u16::from(severity);
        let mut text = format!(
            "<{priority}>1 {} {} {} {} {message_id} [{element}@{ENTERPRISE}",
            time.to_rfc3339_opts(SecondsFormat::Millis, true),
            header_field(&self.hostname, 255),
            header_field(&self.app_name, 48),
            self.process_id,
        );
        for (name, value) in parameters {
            if let Some(value) = scalar(value) {
                let _ = write!(text, " {}=\"{}\"", parameter_name(name), escape(&value));
            }
        }
        text.push_str("] ");
        text.push_str(body);
        text
    }
}

/// Scalars as text; arrays of scalars joined with commas; objects and nulls left out.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Object(_) => None,
        Value::String(text) => Some(text.clone()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|item| match item {
                    Value::Array(_) | Value::Object(_) => None,
                    other => scalar(other),
                })
                .collect();
            parts.map(|parts| parts.join(","))
        }
    }
}

/// PARAM-VALUE escapes: `"`, `\` and `]`.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        if matches!(character, '"' | '\\' | ']') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// SD-NAME: printable US-ASCII without `=`, space, `]`, `"`; at most 32 characters.
fn parameter_name(name: &str) -> String {
    name.chars()
        .filter(|character| character.is_ascii_graphic() && !matches!(character, '=' | ']' | '"'))
        .take(32)
        .collect()
}

/// Header fields: printable US-ASCII, `-` when empty (the NILVALUE).
fn header_field(value: &str, limit: usize) -> String {
    let cleaned: String = value.chars().filter(char::is_ascii_graphic).take(limit).collect();
    if cleaned.is_empty() { "-".into() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ClientsRecord, KeyStrategy, UplinkRecord};

    fn format() -> SyslogFormat {
        SyslogFormat {
            facility: 16,
            hostname: "collector-1".into(),
            app_name: "semaphore".into(),
            process_id: 42,
        }
    }

    #[test]
    fn a_down_uplink_is_a_warning_with_its_fields_as_structured_data() {
        let record: UplinkRecord = serde_json::from_value(serde_json::json!({
            "organizationId": "1", "networkId": "N_1", "networkName": "Branch \"A\"", "serial": "Q2-1",
            "deviceName": null, "model": "MX68", "tags": ["a", "b"], "uplink": "wan2", "ip": "8.8.8.8",
            "ts": "2026-11-27T10:01:00Z", "lossPercent": null, "latencyMs": null, "jitter": null, "goodput": null,
            "activeDdnsHostname": null, "ddnsHostnameWan1": null, "ddnsHostnameWan2": null
        }))
        .unwrap();
        let encoded = EncodedRecord::uplink(&record, &KeyStrategy::Serial, "uplinks");
        let messages = format().messages(&encoded);
        assert_eq!(messages.len(), 1);
        let message = &messages[0];
        // local0 (16) * 8 + warning (4) = 132
        assert!(
            message.starts_with(
                "<132>1 2026-11-27T10:01:00.000Z collector-1 semaphore 42 uplink_loss_latency [uplink@32473 "
            ),
            "{message}"
        );
        assert!(message.contains(r#"networkName="Branch \"A\"""#), "{message}");
        assert!(message.contains(r#"tags="a,b""#), "{message}");
        assert!(!message.contains("lossPercent="), "nulls are left out: {message}");
        assert!(message.ends_with(&String::from_utf8(encoded.payload.clone()).unwrap()));
    }

    #[test]
    fn a_clients_record_is_one_message_per_client() {
        let record = ClientsRecord {
            organization_id: "1".into(),
            network_id: "N_1".into(),
            network_name: Some("Branch".into()),
            ts: "2026-11-27T10:00:00Z".parse().unwrap(),
            timespan_seconds: 86_400,
            clients: vec![
                serde_json::from_str(r#"{"id":"k1","mac":"aa:bb","os":"iOS","usage":{"sent":1,"recv":2}}"#)
                    .unwrap(),
                serde_json::from_str(r#"{"id":"k2","description":"a]b"}"#).unwrap(),
            ],
        };
        let encoded = EncodedRecord::clients(&record, &KeyStrategy::NetworkId, "clients");
        let messages = format().messages(&encoded);
        assert_eq!(messages.len(), 2);
        assert!(messages[0].starts_with("<134>1 "), "{}", messages[0]);
        assert!(messages[0].contains(r#"[client@32473 organizationId="1" networkId="N_1" networkName="Branch" id="k1" mac="aa:bb" os="iOS"]"#), "{}", messages[0]);
        assert!(messages[1].contains(r#"description="a\]b""#), "{}", messages[1]);
    }
}
