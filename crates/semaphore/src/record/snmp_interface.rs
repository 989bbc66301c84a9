//! `snmp.interface/1`: one interface of one device as one `[[sources.snmp]]` poll saw it: its names,
//! statuses and speed (IF-MIB `ifTable`/`ifXTable`), its raw counters under their MIB names, and the rates
//! computed from the poll before (null, with `rateGap` saying why, when there is no rate).
//!
//! The counters are the 64-bit `ifHC*` ones when the interface has them and the 32-bit ones otherwise
//! (`counterBits` says which); a counter the device did not answer is left out of the record. Errors and
//! discards have only 32-bit counters in IF-MIB.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::record::KeyStrategy;
use crate::record::device::DeviceFields;
use crate::record::registry::RecordKind;

/// Why an interface record has no rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SnmpRateGap {
    /// The interface's first poll (since start, or since it appeared).
    FirstPoll,
    /// The device restarted since the poll before (`sysUpTime` went backwards): its counters restarted too.
    Rebooted,
    /// A 64-bit counter went backwards (cleared), or the interface's counters changed width.
    CounterReset,
    /// The `ifIndex` names another interface than at the poll before (`ifName`/`ifDescr` changed).
    Renumbered,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnmpInterfaceRecord {
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
    /// What the device calls itself (`sysName.0`).
    pub sys_name: Option<String>,
    pub if_index: u32,
    pub if_name: Option<String>,
    pub if_alias: Option<String>,
    pub if_descr: Option<String>,
    /// The IANAifType name (`ethernetCsmacd`), when semaphore knows the code.
    pub if_type: Option<String>,
    pub if_type_code: Option<i64>,
    /// `up`, `down`, `testing`, `unknown`, `dormant`, `notPresent`, `lowerLayerDown`.
    pub if_admin_status: Option<String>,
    pub if_oper_status: Option<String>,
    /// Mbit/s.
    pub if_high_speed: Option<u64>,
    /// `ifHighSpeed` in bit/s, else `ifSpeed` when `ifHighSpeed` is 0 or absent.
    pub speed_bits_per_second: Option<u64>,
    #[serde(rename = "ifHCInOctets", default, skip_serializing_if = "Option::is_none")]
    pub if_hc_in_octets: Option<u64>,
    #[serde(rename = "ifHCOutOctets", default, skip_serializing_if = "Option::is_none")]
    pub if_hc_out_octets: Option<u64>,
    #[serde(rename = "ifHCInUcastPkts", default, skip_serializing_if = "Option::is_none")]
    pub if_hc_in_ucast_pkts: Option<u64>,
    #[serde(rename = "ifHCOutUcastPkts", default, skip_serializing_if = "Option::is_none")]
    pub if_hc_out_ucast_pkts: Option<u64>,
    #[serde(
        rename = "ifHCInMulticastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_hc_in_multicast_pkts: Option<u64>,
    #[serde(
        rename = "ifHCOutMulticastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_hc_out_multicast_pkts: Option<u64>,
    #[serde(
        rename = "ifHCInBroadcastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_hc_in_broadcast_pkts: Option<u64>,
    #[serde(
        rename = "ifHCOutBroadcastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_hc_out_broadcast_pkts: Option<u64>,
    #[serde(rename = "ifInOctets", default, skip_serializing_if = "Option::is_none")]
    pub if_in_octets: Option<u64>,
    #[serde(rename = "ifOutOctets", default, skip_serializing_if = "Option::is_none")]
    pub if_out_octets: Option<u64>,
    #[serde(rename = "ifInUcastPkts", default, skip_serializing_if = "Option::is_none")]
    pub if_in_ucast_pkts: Option<u64>,
    #[serde(rename = "ifOutUcastPkts", default, skip_serializing_if = "Option::is_none")]
    pub if_out_ucast_pkts: Option<u64>,
    #[serde(
        rename = "ifInMulticastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_in_multicast_pkts: Option<u64>,
    #[serde(
        rename = "ifOutMulticastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_out_multicast_pkts: Option<u64>,
    #[serde(
        rename = "ifInBroadcastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_in_broadcast_pkts: Option<u64>,
    #[serde(
        rename = "ifOutBroadcastPkts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub if_out_broadcast_pkts: Option<u64>,
    #[serde(rename = "ifInErrors", default, skip_serializing_if = "Option::is_none")]
    pub if_in_errors: Option<u64>,
    #[serde(rename = "ifOutErrors", default, skip_serializing_if = "Option::is_none")]
    pub if_out_errors: Option<u64>,
    #[serde(rename = "ifInDiscards", default, skip_serializing_if = "Option::is_none")]
    pub if_in_discards: Option<u64>,
    #[serde(rename = "ifOutDiscards", default, skip_serializing_if = "Option::is_none")]
    pub if_out_discards: Option<u64>,
    /// 64 when the octet and packet counters are `ifHC*`, 32 when they are the 32-bit ones.
    pub counter_bits: u8,
    pub in_bits_per_second: Option<f64>,
    pub out_bits_per_second: Option<f64>,
    /// Unicast, multicast and broadcast packets (those the device counts).
    pub in_packets_per_second: Option<f64>,
    pub out_packets_per_second: Option<f64>,
    pub in_errors_per_second: Option<f64>,
    pub out_errors_per_second: Option<f64>,
    pub in_discards_per_second: Option<f64>,
    pub out_discards_per_second: Option<f64>,
    /// Bits per second over `speedBitsPerSecond`, in percent; null when the speed is 0 or unknown.
    pub in_utilization_percent: Option<f64>,
    pub out_utilization_percent: Option<f64>,
    /// The seconds between this poll's answer and the one the rates were computed from (more than the
    /// interval after a missed poll).
    pub rate_interval_seconds: Option<f64>,
    /// Why the rates are null; null when there are rates.
    pub rate_gap: Option<SnmpRateGap>,
}

impl SnmpInterfaceRecord {
    /// The Kafka key: the device (its serial, else its inventory name, else the address polled), so one
    /// device's records stay in order.
    pub fn key(&self) -> String {
        self.device.key(self.target.ip())
    }
}

impl RecordKind for SnmpInterfaceRecord {
    const SCHEMA: &'static str = "snmp.interface";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "snmp.interface/1";
    const JSON_SCHEMA: &'static str = "snmp.interface.v1.json";
    /// No strategy: always keyed by the device ([`SnmpInterfaceRecord::key`]).
    const DEFAULT_KEY: Option<KeyStrategy> = None;

    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

#[cfg(test)]
impl SnmpInterfaceRecord {
    /// A 64-bit interface of a known device with its rates, for the tests over every record kind.
    pub(crate) fn sample() -> Self {
        Self {
            ts: "2026-12-04T10:01:00Z".parse().expect("a valid time"),
            source: "snmp".to_owned(),
            target: "10.0.0.1:161".parse().expect("a valid address"),
            device: DeviceFields {
                device_name: Some("core-sw1".to_owned()),
                serial: Some("FOC1234X".to_owned()),
                site: Some("madrid".to_owned()),
                role: Some("core".to_owned()),
                network_id: None,
                network_name: None,
                tags: Some(vec!["dc".to_owned()]),
            },
            sys_name: Some("core-sw1.example.net".to_owned()),
            if_index: 3,
            if_name: Some("Gi0/1".to_owned()),
            if_alias: Some("uplink to core2".to_owned()),
            if_descr: Some("GigabitEthernet0/1".to_owned()),
            if_type: Some("ethernetCsmacd".to_owned()),
            if_type_code: Some(6),
            if_admin_status: Some("up".to_owned()),
            if_oper_status: Some("up".to_owned()),
            if_high_speed: Some(1000),
            speed_bits_per_second: Some(1_000_000_000),
            if_hc_in_octets: Some(75_000_000),
            if_hc_out_octets: Some(15_000_000),
            if_hc_in_ucast_pkts: Some(60_000),
            if_hc_out_ucast_pkts: Some(30_000),
            if_hc_in_multicast_pkts: Some(600),
            if_hc_out_multicast_pkts: Some(0),
            if_hc_in_broadcast_pkts: Some(60),
            if_hc_out_broadcast_pkts: Some(6),
            if_in_octets: None,
            if_out_octets: None,
            if_in_ucast_pkts: None,
            if_out_ucast_pkts: None,
            if_in_multicast_pkts: None,
            if_out_multicast_pkts: None,
            if_in_broadcast_pkts: None,
            if_out_broadcast_pkts: None,
            if_in_errors: Some(12),
            if_out_errors: Some(0),
            if_in_discards: Some(3),
            if_out_discards: Some(0),
            counter_bits: 64,
            in_bits_per_second: Some(10_000_000.0),
            out_bits_per_second: Some(2_000_000.0),
            in_packets_per_second: Some(1_000.0),
            out_packets_per_second: Some(500.0),
            in_errors_per_second: Some(0.2),
            out_errors_per_second: Some(0.0),
            in_discards_per_second: Some(0.05),
            out_discards_per_second: Some(0.0),
            in_utilization_percent: Some(1.0),
            out_utilization_percent: Some(0.2),
            rate_interval_seconds: Some(60.0),
            rate_gap: None,
        }
    }
}
