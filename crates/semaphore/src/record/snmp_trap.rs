//! `snmp.trap/1`: one SNMP notification (a v1 Trap, an SNMPv2-Trap or an InformRequest) received by
//! `[[sources.snmp_traps]]`: who sent it, how (version, user, context), which notification it is (its
//! snmpTrapOID and the name of a well-known one), the interface a linkDown or linkUp is about, every variable
//! binding, and the sending device's identity when `[inventory]` knows the sender.
//!
//! Never the community: it is a password, so a record says only that the message was v1 or v2c.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::record::KeyStrategy;
use crate::record::device::DeviceFields;
use crate::record::registry::RecordKind;

/// The SNMP version the notification came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SnmpTrapVersion {
    #[serde(rename = "1")]
    V1,
    #[serde(rename = "2c")]
    V2c,
    #[serde(rename = "3")]
    V3,
}

impl SnmpTrapVersion {
    /// As the record and the metrics write it: `1`, `2c`, `3`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnmpTrapVersion::V1 => "1",
            SnmpTrapVersion::V2c => "2c",
            SnmpTrapVersion::V3 => "3",
        }
    }
}

/// A trap (unacknowledged) or an inform (acknowledged to its sender once Kafka had the record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnmpTrapPdu {
    Trap,
    Inform,
}

impl SnmpTrapPdu {
    pub fn as_str(self) -> &'static str {
        match self {
            SnmpTrapPdu::Trap => "trap",
            SnmpTrapPdu::Inform => "inform",
        }
    }
}

/// One variable binding as a record shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnmpVarbind {
    /// Dotted: `1.3.6.1.2.1.2.2.1.8.3`.
    pub oid: String,
    /// The built-in name with its instance (`ifOperStatus.3`), when semaphore knows the object.
    pub name: Option<String>,
    /// The SMI type: `integer`, `octetString`, `objectIdentifier`, `ipAddress`, `counter32`, `gauge32`,
    /// `timeTicks`, `opaque`, `counter64`, `null`, `noSuchObject`, `noSuchInstance`, `endOfMibView`,
    /// `unknown`.
    #[serde(rename = "type")]
    pub value_type: String,
    /// A number for the numeric types, null for `null`, text for the others (a string as text when it is
    /// printable, else colon-separated hex).
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnmpTrapRecord {
    /// When it was received (a notification carries only the sender's uptime); the Kafka record timestamp.
    pub ts: DateTime<Utc>,
    /// When the datagram was read from the socket.
    pub received_at: DateTime<Utc>,
    /// The id of the `[[sources.snmp_traps]]` that received it.
    pub source: String,
    /// The datagram's source address (the record's key when the device is not known).
    pub source_ip: IpAddr,
    pub source_port: u16,
    pub version: SnmpTrapVersion,
    pub pdu_type: SnmpTrapPdu,
    /// The SNMPv3 user (USM's securityName); null for v1 and v2c.
    pub security_name: Option<String>,
    /// The SNMPv3 context name; null for v1 and v2c.
    pub context_name: Option<String>,
    /// snmpTrapOID: the notification; for a v1 trap the identity RFC 3584 gives it. Null for an SNMPv2 PDU
    /// without the snmpTrapOID.0 binding.
    pub trap_oid: Option<String>,
    /// `coldStart`, `warmStart`, `linkDown`, `linkUp`, `authenticationFailure`, `egpNeighborLoss`, else null.
    pub trap_name: Option<String>,
    /// The sender's sysUpTime when it sent the notification, in seconds (hundredths kept).
    pub sys_up_time_seconds: Option<f64>,
    /// v1 only: the Trap-PDU's enterprise.
    pub enterprise: Option<String>,
    /// v1 only: the Trap-PDU's agent-addr, which may differ from the sender (a proxy).
    pub agent_address: Option<Ipv4Addr>,
    /// v1 only: generic-trap, 0 (coldStart) to 6 (enterpriseSpecific).
    pub generic_trap: Option<u32>,
    /// v1 only: specific-trap.
    pub specific_trap: Option<i32>,
    /// From the bindings, when present (linkDown and linkUp carry them).
    pub if_index: Option<i64>,
    pub if_name: Option<String>,
    /// `up`, `down`, `testing` (RFC 2863), or the number when it is none of those.
    pub if_admin_status: Option<String>,
    /// `up`, `down`, `testing`, `unknown`, `dormant`, `notPresent`, `lowerLayerDown`, or the number.
    pub if_oper_status: Option<String>,
    /// Every variable binding, in order.
    pub varbinds: Vec<SnmpVarbind>,
    /// The sending device in `[inventory]` (found by the sender's address, else a v1 agent address), its
    /// fields the record's own (`deviceName`, `serial`, `site`, `role`, `networkId`, `networkName`, `tags`):
    /// null when the sender is not known, `tags` `[]` for a known device without tags.
    #[serde(flatten)]
    pub device: DeviceFields,
}

impl SnmpTrapRecord {
    /// The Kafka key: the device, so one device's notifications stay in order (one partition): its serial,
    /// else its inventory name, else the sender's address.
    pub fn key(&self) -> String {
        self.device.key(self.source_ip)
    }
}

impl RecordKind for SnmpTrapRecord {
    const SCHEMA: &'static str = "snmp.trap";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "snmp.trap/1";
    const JSON_SCHEMA: &'static str = "snmp.trap.v1.json";
    /// No strategy: always keyed by the sending device ([`SnmpTrapRecord::key`]).
    const DEFAULT_KEY: Option<KeyStrategy> = None;

    /// The arrival time: a notification's own time is the sender's uptime, not a date.
    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

/// A record of every field, for the tests over every record kind.
#[cfg(test)]
pub fn sample() -> SnmpTrapRecord {
    let ts: DateTime<Utc> = "2026-12-04T09:30:00.250Z".parse().expect("a time");
    SnmpTrapRecord {
        ts,
        received_at: ts,
        source: "snmp_traps".to_owned(),
        source_ip: "10.0.0.1".parse().expect("an address"),
        source_port: 50_162,
        version: SnmpTrapVersion::V2c,
        pdu_type: SnmpTrapPdu::Inform,
        security_name: None,
        context_name: None,
        trap_oid: Some("1.3.6.1.6.3.1.1.5.3".to_owned()),
        trap_name: Some("linkDown".to_owned()),
        sys_up_time_seconds: Some(123.45),
        enterprise: None,
        agent_address: None,
        generic_trap: None,
        specific_trap: None,
        if_index: Some(2),
        if_name: Some("Gi0/2".to_owned()),
        if_admin_status: Some("up".to_owned()),
        if_oper_status: Some("down".to_owned()),
        varbinds: vec![
            SnmpVarbind {
                oid: "1.3.6.1.2.1.1.3.0".to_owned(),
                name: Some("sysUpTime.0".to_owned()),
                value_type: "timeTicks".to_owned(),
                value: serde_json::json!(12_345),
            },
            SnmpVarbind {
                oid: "1.3.6.1.6.3.1.1.4.1.0".to_owned(),
                name: Some("snmpTrapOID.0".to_owned()),
                value_type: "objectIdentifier".to_owned(),
                value: serde_json::json!("1.3.6.1.6.3.1.1.5.3"),
            },
            SnmpVarbind {
                oid: "1.3.6.1.2.1.2.2.1.8.2".to_owned(),
                name: Some("ifOperStatus.2".to_owned()),
                value_type: "integer".to_owned(),
                value: serde_json::json!(2),
            },
        ],
        device: DeviceFields {
            device_name: Some("core-sw1".to_owned()),
            serial: Some("FOC1234X".to_owned()),
            site: Some("madrid".to_owned()),
            role: Some("core".to_owned()),
            network_id: None,
            network_name: None,
            tags: Some(vec!["dc".to_owned()]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_by_the_device_and_stamped_with_the_arrival() {
        let record = sample();
        assert_eq!(record.key(), "FOC1234X");
        assert_eq!(record.timestamp_ms(), record.received_at.timestamp_millis());
        let unknown = SnmpTrapRecord {
            device: DeviceFields::default(),
            ..sample()
        };
        assert_eq!(unknown.key(), "10.0.0.1");
    }

    #[test]
    fn versions_and_pdus_are_written_as_operators_say_them() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["version"], "2c");
        assert_eq!(json["pduType"], "inform");
        assert_eq!(json["varbinds"][0]["type"], "timeTicks");
        assert_eq!(json["sysUpTimeSeconds"], 123.45);
        let v1 = SnmpTrapRecord {
            version: SnmpTrapVersion::V1,
            pdu_type: SnmpTrapPdu::Trap,
            agent_address: Some(Ipv4Addr::new(192, 0, 2, 1)),
            ..sample()
        };
        let json = serde_json::to_value(&v1).unwrap();
        assert_eq!(json["version"], "1");
        assert_eq!(json["agentAddress"], "192.0.2.1");
        let back: SnmpTrapRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, v1);
        assert_eq!(SnmpTrapVersion::V3.as_str(), "3");
        assert_eq!(SnmpTrapPdu::Trap.as_str(), "trap");
    }
}
