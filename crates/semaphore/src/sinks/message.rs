//! A record read from Kafka by a sink, and what it decodes to. Decoding is pure: a payload that is not JSON,
//! or not the schema its `semaphore-schema` header (or the sink) expects, is [`Malformed`] with a reason
//! naming what was wrong, and goes to the dead-letter topic instead of stopping the sink.

use serde::de::IgnoredAny;

pub use crate::bus::group_reader::ConsumedMessage;
pub use crate::record::Decoded;
use crate::record::registry::{RecordDescriptor, SCHEMA_HEADER, by_header};

/// Why a message cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Malformed {
    pub reason: String,
}

/// Decodes by the `semaphore-schema` header, through the record registry ([`crate::record::RECORD_KINDS`]);
/// without one (a record from another producer), as the first of `accepted` the payload fits. The result
/// must be one of `accepted` (header values, [`crate::record::RecordKind::HEADER`]).
pub fn decode(message: &ConsumedMessage, accepted: &[&'static str]) -> Result<Decoded, Malformed> {
    let malformed = |reason: String| Malformed { reason };
    // Checked before the header, so a payload that is not JSON at all says so whatever it claims to be.
    serde_json::from_slice::<IgnoredAny>(&message.payload).map_err(|error| {
        malformed(format!(
            "not JSON ({error}); payload starts {:?}",
            String::from_utf8_lossy(&message.payload[..message.payload.len().min(40)])
        ))
    })?;
    let candidates: Vec<(&str, Option<&RecordDescriptor>)> = match message.header(SCHEMA_HEADER) {
        Some(bytes) => {
            let named = String::from_utf8_lossy(bytes);
            let kind = by_header(&named).ok_or_else(|| {
                malformed(format!("unknown schema {named:?} in the semaphore-schema header"))
            })?;
            if !accepted.contains(&kind.header) {
                return Err(malformed(format!(
                    "schema {} is not one this sink takes ({})",
                    kind.header,
                    accepted.join(", ")
                )));
            }
            vec![(kind.header, Some(kind))]
        }
        None => accepted
            .iter()
            .map(|header| (*header, by_header(header)))
            .collect(),
    };
    let mut reasons = Vec::new();
    for (header, kind) in candidates {
        match kind {
            Some(kind) => match (kind.decode)(&message.payload) {
                Ok(decoded) => return Ok(decoded),
                Err(error) => reasons.push(format!("not {header}: {error}")),
            },
            // A sink that names a schema no record kind has: the sink's bug, said rather than hidden.
            None => reasons.push(format!("not {header}: no record kind has that schema")),
        }
    }
    Err(malformed(reasons.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{
        AlertEvent, ClientsRecord, EncodedRecord, GeneratedRecord, RECORD_KINDS, RecordKind, SyslogRecord,
        UplinkRecord,
    };
    use crate::record::{SnmpInterfaceRecord, SnmpRowRecord, SnmpSystemRecord};

    const UPLINK_SCHEMA: &str = UplinkRecord::HEADER;
    const CLIENTS_SCHEMA: &str = ClientsRecord::HEADER;
    const ALERT_SCHEMA: &str = AlertEvent::HEADER;

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

    /// What a sink reads back from an encoded record: its payload and headers, as Kafka carries them.
    fn consumed(encoded: &EncodedRecord) -> ConsumedMessage {
        ConsumedMessage {
            headers: encoded
                .headers()
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
                .collect(),
            ..message(&String::from_utf8_lossy(&encoded.payload), None)
        }
    }

    const UPLINK: &str = r#"{"organizationId":"1","networkId":"N_1","networkName":null,"serial":"Q2AA-BBBB-CCCC",
        "deviceName":null,"model":null,"tags":[],"uplink":"wan1","ip":"8.8.8.8","ts":"2026-11-27T10:00:00Z",
        "lossPercent":1.5,"latencyMs":20.0,"jitter":null,"goodput":null,"activeDdnsHostname":null,
        "ddnsHostnameWan1":null,"ddnsHostnameWan2":null}"#;

    const ALERT: &str = r#"{"rule":"loss","status":"firing","condition":"lossPercent > 5","organizationId":"1",
        "networkId":"N_1","networkName":null,"serial":"Q2AA-BBBB-CCCC","deviceName":null,"uplink":"wan1",
        "ip":"8.8.8.8","value":7.5,"threshold":5.0,"startsAt":"2026-11-27T10:00:00Z","endsAt":null,
        "ts":"2026-11-27T10:00:00Z"}"#;

    /// A syslog record from before `[inventory]`: without the device's fields, which read as null.
    const SYSLOG: &str = r#"{"ts":"2026-12-03T10:00:00Z","tsSource":"received","receivedAt":"2026-12-03T10:00:00Z",
        "facility":null,"facilityName":null,"severity":null,"severityName":null,"hostname":null,"appName":null,
        "procId":null,"msgId":null,"structuredData":null,"message":"no priority","vendor":null,"mnemonic":null,
        "sequence":null,"eventType":null,"fields":null,"parseError":"no priority: the line does not start with `<`",
        "invalidUtf8":false,"sourceIp":"10.0.0.1","sourcePort":514,"transport":"tcp","truncated":false,
        "raw":"no priority"}"#;

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
    fn without_a_header_the_first_accepted_kind_that_fits_wins() {
        let accepted = [UPLINK_SCHEMA, ALERT_SCHEMA, CLIENTS_SCHEMA];
        let decoded = decode(&message(ALERT, None), &accepted).unwrap();
        assert_eq!(decoded.header(), ALERT_SCHEMA);
        let decoded = decode(&message(UPLINK, None), &accepted).unwrap();
        assert_eq!(decoded.header(), UPLINK_SCHEMA);
        // Neither fits: each candidate says why, in the order the sink listed them.
        let error = decode(&message(r#"{"serial": 5}"#, None), &[UPLINK_SCHEMA, ALERT_SCHEMA]).unwrap_err();
        assert!(
            error.reason.starts_with("not meraki.uplink_loss_latency/1: ")
                && error.reason.contains("; not semaphore.alert/1: "),
            "{error}"
        );
    }

    #[test]
    fn every_registered_kind_decodes_by_its_header() {
        let accepted: Vec<&'static str> = RECORD_KINDS.iter().map(|kind| kind.header).collect();
        let alert: AlertEvent = serde_json::from_str(ALERT).unwrap();
        let uplink: UplinkRecord = serde_json::from_str(UPLINK).unwrap();
        let clients = ClientsRecord {
            organization_id: "1".into(),
            network_id: "N_1".into(),
            network_name: None,
            ts: "2026-11-27T10:00:00Z".parse().unwrap(),
            timespan_seconds: 300,
            clients: Vec::new(),
        };
        let generated = GeneratedRecord {
            ts: "2026-12-02T10:00:00Z".parse().unwrap(),
            source: "generator".into(),
            run: "r".into(),
            sequence: 0,
            key: "key-0".into(),
            key_sequence: 0,
            message: String::new(),
        };
        let syslog: SyslogRecord = serde_json::from_str(SYSLOG).unwrap();
        let snmp_trap = crate::record::snmp_trap::sample();
        let encoded = vec![
            EncodedRecord::new(&uplink, None, "uplinks"),
            EncodedRecord::new(&alert, None, "alerts"),
            EncodedRecord::new(&clients, None, "clients"),
            EncodedRecord::new(&generated, None, "generator"),
            EncodedRecord::new(&syslog, None, "syslog"),
            EncodedRecord::new(&snmp_trap, None, "snmp_traps"),
            EncodedRecord::new(&SnmpInterfaceRecord::sample(), None, "snmp"),
            EncodedRecord::new(&SnmpSystemRecord::sample(), None, "snmp"),
            EncodedRecord::new(&SnmpRowRecord::sample(), None, "snmp"),
        ];
        let expected: Vec<Decoded> = vec![
            uplink.into(),
            alert.into(),
            clients.into(),
            generated.into(),
            syslog.into(),
            snmp_trap.into(),
            SnmpInterfaceRecord::sample().into(),
            SnmpSystemRecord::sample().into(),
            SnmpRowRecord::sample().into(),
        ];
        for kind in RECORD_KINDS {
            assert!(
                encoded.iter().any(|record| record.schema == kind.header),
                "no sample of {}",
                kind.header
            );
        }
        for (record, expected) in encoded.iter().zip(expected) {
            assert_eq!(decode(&consumed(record), &accepted), Ok(expected));
        }
    }

    #[test]
    fn not_json_wrong_schema_and_unknown_header_are_named() {
        let error = decode(&message("hello", None), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(error.reason.starts_with("not JSON"), "{error}");
        assert!(error.reason.ends_with("payload starts \"hello\""), "{error}");
        // Not JSON is said before anything about the header.
        let error = decode(&message("hello", Some("x/9")), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(error.reason.starts_with("not JSON"), "{error}");
        let error = decode(&message(r#"{"serial": 5}"#, None), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(
            error.reason.contains("not meraki.uplink_loss_latency/1"),
            "{error}"
        );
        let error = decode(
            &message(r#"{"serial": 5}"#, Some(UPLINK_SCHEMA)),
            &[UPLINK_SCHEMA],
        )
        .unwrap_err();
        assert!(
            error
                .reason
                .starts_with("not meraki.uplink_loss_latency/1: invalid type: integer `5`"),
            "{error}"
        );
        let error = decode(&message(UPLINK, Some("x/9")), &[UPLINK_SCHEMA]).unwrap_err();
        assert_eq!(
            error.reason,
            "unknown schema \"x/9\" in the semaphore-schema header"
        );
        let error = decode(&message(UPLINK, Some(CLIENTS_SCHEMA)), &[UPLINK_SCHEMA]).unwrap_err();
        assert!(error.reason.contains("not one this sink takes"), "{error}");
        assert_eq!(
            error.reason,
            "schema meraki.network_clients/1 is not one this sink takes (meraki.uplink_loss_latency/1)"
        );
    }

    #[test]
    fn an_accepted_schema_no_kind_has_is_named_not_guessed() {
        let error = decode(&message(UPLINK, None), &["x/9"]).unwrap_err();
        assert_eq!(error.reason, "not x/9: no record kind has that schema");
    }

    #[test]
    fn position_names_topic_partition_offset() {
        assert_eq!(message("{}", None).position(), "t/2/7");
    }
}
