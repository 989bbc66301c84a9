//! The one list of record kinds. Adding a kind is writing its module (the type, its [`RecordKind`] impl, its
//! JSON Schema under `schemas/`) and adding its line here: the [`Decoded`] variant, the [`RECORD_KINDS`]
//! descriptor sinks decode by, and the tests over every kind all follow from this list.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::record::KeyStrategy;
use crate::record::alert::AlertEvent;
use crate::record::clients::ClientsRecord;
use crate::record::generated::GeneratedRecord;
use crate::record::snmp_interface::SnmpInterfaceRecord;
use crate::record::snmp_row::SnmpRowRecord;
use crate::record::snmp_system::SnmpSystemRecord;
use crate::record::snmp_trap::SnmpTrapRecord;
use crate::record::syslog::SyslogRecord;
use crate::record::uplink::UplinkRecord;

/// The Kafka header that names a record's schema as `name/version` (DESIGN.md "Kafka conventions").
pub const SCHEMA_HEADER: &str = "semaphore-schema";

/// What a record type is to the rest of semaphore: a versioned schema with a JSON Schema file, a default key,
/// an event time, and a way back from bytes.
pub trait RecordKind: Serialize + DeserializeOwned + Into<Decoded> + Sized {
    /// The schema's name: `meraki.uplink_loss_latency`.
    const SCHEMA: &'static str;
    /// The schema's version; a change that would break a consumer is a new version (`schemas/README.md`).
    const VERSION: u32;
    /// `SCHEMA/VERSION`, the value of the [`SCHEMA_HEADER`] header: `meraki.uplink_loss_latency/1`.
    const HEADER: &'static str;
    /// The file under `schemas/` that describes the record: `meraki.uplink_loss_latency.v1.json`.
    const JSON_SCHEMA: &'static str;
    /// The key strategy a source writing this kind uses when its config names none (README's "default key");
    /// `None` for a kind always keyed by its own identity, whatever is configured (an alert: its
    /// `rule/serial/uplink/ip`, so one alert's events stay in order).
    const DEFAULT_KEY: Option<KeyStrategy>;

    /// Milliseconds since the epoch: when the event happened, the Kafka record timestamp.
    fn timestamp_ms(&self) -> i64;

    /// The record from its JSON bytes; the error is serde's, naming the field at fault.
    fn decode(payload: &[u8]) -> Result<Decoded, String> {
        serde_json::from_slice::<Self>(payload)
            .map(Into::into)
            .map_err(|error| error.to_string())
    }
}

/// One registered kind, as a value: what a sink needs to decode a message by its [`SCHEMA_HEADER`] header.
#[derive(Debug)]
pub struct RecordDescriptor {
    /// [`RecordKind::SCHEMA`].
    pub schema: &'static str,
    /// [`RecordKind::VERSION`].
    pub version: u32,
    /// [`RecordKind::HEADER`].
    pub header: &'static str,
    /// [`RecordKind::JSON_SCHEMA`].
    pub json_schema: &'static str,
    /// [`RecordKind::DEFAULT_KEY`].
    pub default_key: Option<KeyStrategy>,
    /// [`RecordKind::decode`].
    pub decode: fn(&[u8]) -> Result<Decoded, String>,
}

/// Declares the kinds: `Variant: RecordType`. Each becomes a [`Decoded`] variant, a `From<RecordType>` for
/// [`Decoded`], and a [`RecordDescriptor`] in [`RECORD_KINDS`].
macro_rules! record_kinds {
    ($($variant:ident: $record:ty),* $(,)?) => {
        /// A record of any registered kind, as a sink reads it back.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Decoded {
            $($variant(Box<$record>),)*
        }

        $(
            impl From<$record> for Decoded {
                fn from(record: $record) -> Self {
                    Decoded::$variant(Box::new(record))
                }
            }
        )*

        /// Every record kind, in the order above.
        pub static RECORD_KINDS: &[RecordDescriptor] = &[
            $(
                RecordDescriptor {
                    schema: <$record as RecordKind>::SCHEMA,
                    version: <$record as RecordKind>::VERSION,
                    header: <$record as RecordKind>::HEADER,
                    json_schema: <$record as RecordKind>::JSON_SCHEMA,
                    default_key: <$record as RecordKind>::DEFAULT_KEY,
                    decode: <$record as RecordKind>::decode,
                },
            )*
        ];

        impl Decoded {
            /// The [`RecordKind::HEADER`] of the record's kind.
            pub fn header(&self) -> &'static str {
                match self {
                    $(Decoded::$variant(_) => <$record as RecordKind>::HEADER,)*
                }
            }
        }
    };
}

record_kinds! {
    Uplink: UplinkRecord,
    Alert: AlertEvent,
    Clients: ClientsRecord,
    Generated: GeneratedRecord,
    Syslog: SyslogRecord,
    SnmpInterface: SnmpInterfaceRecord,
    SnmpSystem: SnmpSystemRecord,
    SnmpRow: SnmpRowRecord,
    // SNMP traps and informs (`[[sources.snmp_traps]]`).
    SnmpTrap: SnmpTrapRecord,
}

/// The registered kind whose [`RecordKind::HEADER`] is `header`.
pub fn by_header(header: &str) -> Option<&'static RecordDescriptor> {
    RECORD_KINDS.iter().find(|kind| kind.header == header)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::record::EncodedRecord;
    use crate::record::alert::{AlertStatus, SnmpAlert, SyslogAlert};
    use crate::record::snmp_trap;
    use crate::record::syslog::{SyslogTimeSource, SyslogTransport};

    fn schemas_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
    }

    fn json_schema(kind: &RecordDescriptor) -> serde_json::Value {
        let path = schemas_dir().join(kind.json_schema);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{} ({}): {error}", path.display(), kind.header));
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    fn time(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn uplink() -> UplinkRecord {
        UplinkRecord {
            organization_id: "1".into(),
            network_id: "N_1".into(),
            network_name: Some("Branch".into()),
            serial: "Q2AA-BBBB-CCCC".into(),
            device_name: Some("mx-1".into()),
            model: Some("MX68".into()),
            tags: vec!["retail".into(), "west".into()],
            uplink: "wan1".into(),
            ip: "8.8.8.8".into(),
            ts: time("2026-11-27T10:00:00Z"),
            start_ts: Some(time("2026-11-27T10:00:00Z")),
            end_ts: Some(time("2026-11-27T10:05:00Z")),
            loss_percent: Some(1.5),
            latency_ms: Some(20.25),
            jitter: Some(0.5),
            goodput: Some(1024.0),
            active_ddns_hostname: Some("branch-wan1.dynamic-m.com".into()),
            ddns_hostname_wan1: Some("branch-wan1.dynamic-m.com".into()),
            ddns_hostname_wan2: None,
        }
    }

    fn clients() -> ClientsRecord {
        let client = serde_json::json!({
            "id": "k74272e",
            "organizationId": "1",
            "networkName": "Branch",
            "mac": "22:33:44:55:66:77",
            "ip": "10.0.0.7",
            "description": null,
            "status": "Online",
            "usage": {"sent": 138.0, "recv": 61.0},
            "fuzzy": {"ratio": 90, "partial": 100}
        });
        let serde_json::Value::Object(client) = client else {
            unreachable!("a JSON object literal")
        };
        ClientsRecord {
            organization_id: "1".into(),
            network_id: "N_1".into(),
            network_name: Some("Branch".into()),
            ts: time("2026-11-27T10:00:00Z"),
            timespan_seconds: 3600,
            clients: vec![client],
        }
    }

    fn alert() -> AlertEvent {
        AlertEvent {
            rule: "loss".into(),
            status: AlertStatus::Resolved,
            condition: "lossPercent > 5 for 3 consecutive samples".into(),
            organization_id: "1".into(),
            network_id: "N_1".into(),
            network_name: None,
            serial: "Q2AA-BBBB-CCCC".into(),
            device_name: Some("mx-1".into()),
            uplink: "wan2".into(),
            ip: "8.8.8.8".into(),
            value: Some(0.0),
            threshold: 5.0,
            starts_at: time("2026-11-27T10:00:00Z"),
            ends_at: Some(time("2026-11-27T10:03:00Z")),
            ts: time("2026-11-27T10:03:00Z"),
            syslog: None,
            snmp: None,
        }
    }

    fn generated() -> GeneratedRecord {
        GeneratedRecord {
            ts: time("2026-12-02T10:00:00Z"),
            source: "generator".to_owned(),
            run: "3f2c".to_owned(),
            sequence: 7,
            key: "key-1".to_owned(),
            key_sequence: 2,
            message: "xxxx".to_owned(),
        }
    }

    fn syslog() -> SyslogRecord {
        SyslogRecord {
            ts: time("2026-12-03T18:46:11.123Z"),
            ts_source: SyslogTimeSource::Message,
            received_at: time("2026-12-03T18:46:11.200Z"),
            facility: Some(23),
            facility_name: Some("local7".to_owned()),
            severity: Some(3),
            severity_name: Some("err".to_owned()),
            hostname: None,
            app_name: None,
            proc_id: None,
            msg_id: None,
            structured_data: Some(serde_json::json!({"origin@0": {"ip": ["10.0.0.1", "10.0.0.2"]}})),
            message: "Interface Gi0/1, changed state to down".to_owned(),
            vendor: Some("cisco".to_owned()),
            mnemonic: Some("LINK-3-UPDOWN".to_owned()),
            sequence: Some(58),
            event_type: None,
            fields: None,
            parse_error: None,
            invalid_utf8: false,
            source_ip: "10.0.0.1".parse().unwrap(),
            source_port: 51514,
            transport: SyslogTransport::Udp,
            device_name: Some("core-sw1".to_owned()),
            serial: Some("FOC1234X".to_owned()),
            site: Some("madrid".to_owned()),
            role: Some("core".to_owned()),
            network_id: None,
            network_name: None,
            tags: Some(vec!["dc".to_owned(), "core".to_owned()]),
            truncated: false,
            raw: Some(
                "<187>58: Dec  3 18:46:11.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down"
                    .to_owned(),
            ),
        }
    }

    /// One encoded record of every registered kind; a kind added to the list without a sample here fails
    /// `every_kind_round_trips_through_the_registry`.
    fn samples() -> Vec<(EncodedRecord, Decoded)> {
        vec![
            (
                EncodedRecord::uplink(&uplink(), &KeyStrategy::SerialUplink, "uplinks"),
                uplink().into(),
            ),
            (
                EncodedRecord::clients(&clients(), &KeyStrategy::NetworkId, "clients"),
                clients().into(),
            ),
            (EncodedRecord::alert(&alert(), "alerts"), alert().into()),
            (
                EncodedRecord::new(&generated(), Some("key-1".to_owned()), "generator"),
                generated().into(),
            ),
            (
                EncodedRecord::new(&syslog(), Some(syslog().key()), "syslog"),
                syslog().into(),
            ),
            (
                EncodedRecord::new(
                    &snmp_trap::sample(),
                    Some(snmp_trap::sample().key()),
                    "snmp_traps",
                ),
                snmp_trap::sample().into(),
            ),
            snmp_sample(SnmpInterfaceRecord::sample(), SnmpInterfaceRecord::key),
            snmp_sample(SnmpSystemRecord::sample(), SnmpSystemRecord::key),
            snmp_sample(SnmpRowRecord::sample(), SnmpRowRecord::key),
        ]
    }

    /// An SNMP record keyed by its device, as the poller encodes it.
    fn snmp_sample<R: RecordKind>(record: R, key: fn(&R) -> String) -> (EncodedRecord, Decoded) {
        let encoded = EncodedRecord::new(&record, Some(key(&record)), "snmp");
        (encoded, record.into())
    }

    /// SNMP records are keyed by the device: its serial, else its inventory name, else the address polled.
    #[test]
    fn snmp_records_are_keyed_by_the_device() {
        assert_eq!(SnmpInterfaceRecord::sample().key(), "FOC1234X");
        assert_eq!(SnmpSystemRecord::sample().key(), "10.0.0.2");
        assert_eq!(SnmpRowRecord::sample().key(), "core-sw1");
        assert_eq!(SnmpInterfaceRecord::DEFAULT_KEY, None);
        let (encoded, _) = snmp_sample(SnmpInterfaceRecord::sample(), SnmpInterfaceRecord::key);
        assert_eq!(encoded.key.as_deref(), Some("FOC1234X"));
        assert_eq!(
            encoded.timestamp_ms,
            time("2026-12-04T10:01:00Z").timestamp_millis()
        );
    }

    /// Kafka refuses a record stamped more than an hour ahead of its clock, and retention deletes one stamped
    /// long ago: a device whose clock is far off stamps its record with the arrival time instead (its `ts` is
    /// kept in the record).
    #[test]
    fn a_syslog_line_from_a_clock_far_off_is_stamped_with_its_arrival() {
        let on_time = syslog();
        assert_eq!(on_time.timestamp_ms(), on_time.ts.timestamp_millis());
        let ahead = SyslogRecord {
            ts: time("2026-12-03T20:46:11Z"),
            ..syslog()
        };
        assert_eq!(ahead.timestamp_ms(), ahead.received_at.timestamp_millis());
        let behind = SyslogRecord {
            ts: time("2026-12-03T06:46:11Z"),
            ..syslog()
        };
        assert_eq!(behind.timestamp_ms(), behind.ts.timestamp_millis());
        // The limits: 50 minutes ahead, a day behind.
        for (ts, stamped_with_ts) in [
            ("2026-12-03T19:35:11.200Z", true),
            ("2026-12-03T19:37:11.200Z", false),
            ("2026-12-02T19:46:11.200Z", true),
            ("2026-12-02T17:46:11.200Z", false),
        ] {
            let record = SyslogRecord {
                ts: time(ts),
                ..syslog()
            };
            let expected = if stamped_with_ts {
                record.ts
            } else {
                record.received_at
            };
            assert_eq!(record.timestamp_ms(), expected.timestamp_millis(), "{ts}");
        }
        let never_set = SyslogRecord {
            ts: time("1993-03-01T00:00:00Z"),
            ..syslog()
        };
        assert_eq!(never_set.timestamp_ms(), never_set.received_at.timestamp_millis());
    }

    #[test]
    fn headers_are_name_slash_version_and_unique() {
        let mut headers = HashSet::new();
        for kind in RECORD_KINDS {
            assert_eq!(kind.header, format!("{}/{}", kind.schema, kind.version));
            assert!(headers.insert(kind.header), "{} registered twice", kind.header);
            assert_eq!(
                by_header(kind.header).map(|found| found.header),
                Some(kind.header)
            );
        }
        assert!(by_header("x/9").is_none());
        let schemas: HashSet<&str> = RECORD_KINDS.iter().map(|kind| kind.json_schema).collect();
        assert_eq!(schemas.len(), RECORD_KINDS.len(), "one JSON Schema file per kind");
    }

    #[test]
    fn every_kind_has_its_json_schema_file() {
        for kind in RECORD_KINDS {
            assert_eq!(
                kind.json_schema,
                format!("{}.v{}.json", kind.schema, kind.version)
            );
            let schema = json_schema(kind);
            assert_eq!(
                schema["title"],
                format!("{} v{}", kind.schema, kind.version),
                "{}",
                kind.json_schema
            );
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|description| description.contains(kind.header)),
                "{} names its header value",
                kind.json_schema
            );
            let _validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|error| panic!("{}: {error}", kind.json_schema));
        }
    }

    #[test]
    fn every_kind_round_trips_through_the_registry() {
        let samples = samples();
        for kind in RECORD_KINDS {
            assert!(
                samples.iter().any(|(encoded, _)| encoded.schema == kind.header),
                "no sample of {}",
                kind.header
            );
        }
        for (encoded, record) in samples {
            let kind = by_header(encoded.schema).expect("the encoded header is a registered kind");
            assert_eq!(record.header(), kind.header);
            let decoded =
                (kind.decode)(&encoded.payload).unwrap_or_else(|error| panic!("{}: {error}", kind.header));
            assert_eq!(decoded, record);
            let payload: serde_json::Value = serde_json::from_slice(&encoded.payload).unwrap();
            let validator = jsonschema::validator_for(&json_schema(kind)).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&payload)
                .map(|error| error.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?} in {payload}", kind.header);
            let header = encoded
                .headers()
                .into_iter()
                .find(|(name, _)| *name == SCHEMA_HEADER)
                .map(|(_, value)| value);
            assert_eq!(header, Some(kind.header.as_bytes()));
        }
    }

    #[test]
    fn keys_and_timestamps_come_from_the_kind() {
        assert_eq!(UplinkRecord::DEFAULT_KEY, Some(KeyStrategy::Serial));
        assert_eq!(ClientsRecord::DEFAULT_KEY, Some(KeyStrategy::NetworkId));
        assert_eq!(AlertEvent::DEFAULT_KEY, None);
        assert_eq!(GeneratedRecord::DEFAULT_KEY, None);
        assert_eq!(SyslogRecord::DEFAULT_KEY, None);
        let [
            (uplink_sample, _),
            (clients_sample, _),
            (alert_sample, _),
            (generated_sample, _),
            (syslog_sample, _),
        ] = <[(EncodedRecord, Decoded); 5]>::try_from(samples().into_iter().take(5).collect::<Vec<_>>())
            .unwrap_or_else(|_| panic!("five samples"));
        // Keyed by the device's serial, the sender's address being only the fallback.
        assert_eq!(syslog_sample.key.as_deref(), Some("FOC1234X"));
        assert_eq!(
            syslog_sample.timestamp_ms,
            time("2026-12-03T18:46:11.123Z").timestamp_millis()
        );
        assert_eq!(generated_sample.key.as_deref(), Some("key-1"));
        assert_eq!(
            generated_sample.timestamp_ms,
            time("2026-12-02T10:00:00Z").timestamp_millis()
        );
        assert_eq!(uplink_sample.key.as_deref(), Some("Q2AA-BBBB-CCCC/wan1"));
        assert_eq!(
            uplink_sample.timestamp_ms,
            time("2026-11-27T10:00:00Z").timestamp_millis()
        );
        assert_eq!(clients_sample.key.as_deref(), Some("N_1"));
        assert_eq!(
            clients_sample.timestamp_ms,
            time("2026-11-27T10:00:00Z").timestamp_millis()
        );
        assert_eq!(
            alert_sample.key.as_deref(),
            Some("loss/Q2AA-BBBB-CCCC/wan2/8.8.8.8")
        );
        assert_eq!(
            alert_sample.timestamp_ms,
            time("2026-11-27T10:03:00Z").timestamp_millis()
        );
    }

    /// Log alerts extend `semaphore.alert/1` compatibly: the optional `syslog` object, empty organization and
    /// network ids allowed with it only; an uplink alert is written without it, as before.
    #[test]
    fn log_alerts_fit_the_alert_schema_and_uplink_alerts_keep_theirs() {
        let kind = by_header(AlertEvent::HEADER).unwrap();
        let validator = jsonschema::validator_for(&json_schema(kind)).unwrap();
        let mut log_alert = alert();
        log_alert.organization_id = String::new();
        log_alert.network_id = String::new();
        log_alert.uplink = String::new();
        log_alert.ip = String::new();
        log_alert.serial = "10.0.0.1".into();
        log_alert.syslog = Some(SyslogAlert {
            source_ip: "10.0.0.1".parse().unwrap(),
            hostname: Some("core-sw1".into()),
            severity: Some(3),
            severity_name: Some("err".into()),
            mnemonic: Some("LINK-3-UPDOWN".into()),
            message: "Interface Gi0/1, changed state to down".into(),
            within_seconds: 60,
        });
        let encoded = EncodedRecord::alert(&log_alert, "alerts");
        assert_eq!(encoded.key.as_deref(), Some("loss/10.0.0.1"));
        let payload: serde_json::Value = serde_json::from_slice(&encoded.payload).unwrap();
        assert!(validator.is_valid(&payload), "{payload}");
        assert_eq!((kind.decode)(&encoded.payload), Ok(log_alert.into()));
        let mut uplink_alert = serde_json::to_value(alert()).unwrap();
        assert!(uplink_alert.get("syslog").is_none());
        assert!(validator.is_valid(&uplink_alert));
        uplink_alert["organizationId"] = serde_json::json!("");
        assert!(!validator.is_valid(&uplink_alert));
    }

    /// SNMP alerts extend `semaphore.alert/1` as log alerts do: the optional `snmp` object, keyed by the
    /// device and the interface (or the device alone, for a trap without an ifIndex).
    #[test]
    fn snmp_alerts_fit_the_alert_schema() {
        let kind = by_header(AlertEvent::HEADER).unwrap();
        let validator = jsonschema::validator_for(&json_schema(kind)).unwrap();
        let mut trap_alert = alert();
        trap_alert.rule = "port-down".into();
        trap_alert.organization_id = String::new();
        trap_alert.network_id = String::new();
        trap_alert.uplink = String::new();
        trap_alert.ip = String::new();
        trap_alert.serial = "FOC1234X".into();
        trap_alert.value = None;
        trap_alert.threshold = 0.0;
        trap_alert.snmp = Some(SnmpAlert {
            address: "10.0.0.1".parse().unwrap(),
            trap_oid: Some("1.3.6.1.6.3.1.1.5.4".into()),
            trap_name: Some("linkUp".into()),
            if_index: Some(3),
            if_name: Some("Gi0/3".into()),
            metric: None,
            resolve_after_seconds: None,
        });
        let encoded = EncodedRecord::alert(&trap_alert, "alerts");
        assert_eq!(encoded.key.as_deref(), Some("port-down/FOC1234X/3"));
        let payload: serde_json::Value = serde_json::from_slice(&encoded.payload).unwrap();
        assert!(validator.is_valid(&payload), "{payload}");
        assert_eq!(payload["snmp"]["trapName"], "linkUp");
        assert_eq!((kind.decode)(&encoded.payload), Ok(trap_alert.clone().into()));

        let mut device_trap = trap_alert.clone();
        if let Some(snmp) = device_trap.snmp.as_mut() {
            snmp.if_index = None;
            snmp.if_name = None;
            snmp.resolve_after_seconds = Some(300);
        }
        assert_eq!(device_trap.alert_key(), "port-down/FOC1234X");
        let interface_alert = AlertEvent {
            value: Some(97.5),
            threshold: 90.0,
            snmp: Some(SnmpAlert {
                trap_oid: None,
                trap_name: None,
                metric: Some("inUtilizationPercent".into()),
                ..trap_alert.snmp.clone().unwrap()
            }),
            ..trap_alert
        };
        for event in [device_trap, interface_alert] {
            let payload = serde_json::to_value(&event).unwrap();
            assert!(validator.is_valid(&payload), "{payload}");
        }
    }

    #[test]
    fn a_body_of_the_wrong_shape_names_the_field() {
        let kind = by_header(UplinkRecord::HEADER).unwrap();
        let error = (kind.decode)(br#"{"serial": 5}"#).unwrap_err();
        assert!(error.contains("expected a string"), "{error}");
        let kind = by_header(AlertEvent::HEADER).unwrap();
        let mut payload = serde_json::to_value(alert()).unwrap();
        payload["extra"] = serde_json::json!(1);
        let error = (kind.decode)(payload.to_string().as_bytes()).unwrap_err();
        assert!(error.contains("unknown field `extra`"), "{error}");
    }
}
