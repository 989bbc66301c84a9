//! One interface's row of `ifTable`/`ifXTable` → what rates need ([`InterfaceSample`]) and its
//! `snmp.interface/1` record. The `ifHC` counters are used when the device answers `ifHCInOctets` as a
//! Counter64, the 32-bit ones otherwise.

use crate::record::{SnmpInterfaceRecord, SnmpRateGap};
use crate::sources::snmp::mib;
use crate::sources::snmp::poller::rates::{Counter, Counters, InterfaceSample, RateGap, Rates};
use crate::sources::snmp::poller::records::PolledDevice;
use crate::sources::snmp::poller::table::Row;
use crate::sources::snmp::poller::values;
use crate::sources::snmp::wire::Value;

/// One interface as the walk read it.
pub struct InterfaceRow<'a> {
    pub if_index: u32,
    pub row: Row<'a>,
}

impl InterfaceRow<'_> {
    fn value(&self, name: &str) -> Option<&Value> {
        self.row.get(name)
    }

    fn text(&self, name: &str) -> Option<String> {
        self.value(name).and_then(values::text)
    }

    fn integer(&self, name: &str) -> Option<i64> {
        self.value(name).and_then(values::integer)
    }

    fn unsigned(&self, name: &str) -> Option<u64> {
        self.value(name).and_then(values::unsigned)
    }

    fn counter(&self, name: &str) -> Option<Counter> {
        self.value(name).and_then(values::counter)
    }

    /// Whether the octet and packet counters are the 64-bit ones.
    pub fn high_capacity(&self) -> bool {
        matches!(self.value("ifHCInOctets"), Some(Value::Counter64(_)))
    }

    /// `ifHighSpeed` in bit/s, else `ifSpeed` (which tops out at 4.29 Gbit/s) when it is 0 or absent.
    pub fn speed_bits_per_second(&self) -> Option<u64> {
        match self.unsigned("ifHighSpeed") {
            Some(megabits) if megabits > 0 => Some(megabits.saturating_mul(1_000_000)),
            _ => self.unsigned("ifSpeed"),
        }
    }

    pub fn counters(&self) -> Counters {
        let high_capacity = self.high_capacity();
        let pick = |wide: &str, narrow: &str| {
            if high_capacity {
                self.counter(wide)
            } else {
                self.counter(narrow)
            }
        };
        Counters {
            in_octets: pick("ifHCInOctets", "ifInOctets"),
            out_octets: pick("ifHCOutOctets", "ifOutOctets"),
            in_unicast: pick("ifHCInUcastPkts", "ifInUcastPkts"),
            out_unicast: pick("ifHCOutUcastPkts", "ifOutUcastPkts"),
            in_multicast: pick("ifHCInMulticastPkts", "ifInMulticastPkts"),
            out_multicast: pick("ifHCOutMulticastPkts", "ifOutMulticastPkts"),
            in_broadcast: pick("ifHCInBroadcastPkts", "ifInBroadcastPkts"),
            out_broadcast: pick("ifHCOutBroadcastPkts", "ifOutBroadcastPkts"),
            in_errors: self.counter("ifInErrors"),
            out_errors: self.counter("ifOutErrors"),
            in_discards: self.counter("ifInDiscards"),
            out_discards: self.counter("ifOutDiscards"),
        }
    }

    pub fn sample(&self) -> InterfaceSample {
        InterfaceSample {
            if_index: self.if_index,
            if_name: self.text("ifName"),
            if_descr: self.text("ifDescr"),
            speed_bits_per_second: self.speed_bits_per_second(),
            counters: self.counters(),
        }
    }

    /// The record of this interface, with `rates` (or why there are none).
    pub fn record(&self, device: &PolledDevice<'_>, rates: Result<Rates, RateGap>) -> SnmpInterfaceRecord {
        let high_capacity = self.high_capacity();
        let counters = self.counters();
        let wide = |counter: Option<Counter>| counter.filter(|_| high_capacity).map(|counter| counter.value);
        let narrow =
            |counter: Option<Counter>| counter.filter(|_| !high_capacity).map(|counter| counter.value);
        let value = |counter: Option<Counter>| counter.map(|counter| counter.value);
        let if_type_code = self.integer("ifType");
        let status = |name: &str| {
            self.integer(name)
                .and_then(mib::if_status_name)
                .map(str::to_owned)
        };
        let (rates, gap) = match rates {
            Ok(rates) => (rates, None),
            Err(gap) => (Rates::default(), Some(record_gap(gap))),
        };
        let interval = gap.is_none().then_some(rates.interval_seconds);
        SnmpInterfaceRecord {
            ts: device.ts,
            source: device.source.to_owned(),
            target: device.target,
            device: device.identity.clone(),
            sys_name: device.sys_name.clone(),
            if_index: self.if_index,
            if_name: self.text("ifName"),
            if_alias: self.text("ifAlias"),
            if_descr: self.text("ifDescr"),
            if_type: if_type_code.and_then(mib::if_type_name).map(str::to_owned),
            if_type_code,
            if_admin_status: status("ifAdminStatus"),
            if_oper_status: status("ifOperStatus"),
            if_high_speed: self.unsigned("ifHighSpeed"),
            speed_bits_per_second: self.speed_bits_per_second(),
            if_hc_in_octets: wide(counters.in_octets),
            if_hc_out_octets: wide(counters.out_octets),
            if_hc_in_ucast_pkts: wide(counters.in_unicast),
            if_hc_out_ucast_pkts: wide(counters.out_unicast),
            if_hc_in_multicast_pkts: wide(counters.in_multicast),
            if_hc_out_multicast_pkts: wide(counters.out_multicast),
            if_hc_in_broadcast_pkts: wide(counters.in_broadcast),
            if_hc_out_broadcast_pkts: wide(counters.out_broadcast),
            if_in_octets: narrow(counters.in_octets),
            if_out_octets: narrow(counters.out_octets),
            if_in_ucast_pkts: narrow(counters.in_unicast),
            if_out_ucast_pkts: narrow(counters.out_unicast),
            if_in_multicast_pkts: narrow(counters.in_multicast),
            if_out_multicast_pkts: narrow(counters.out_multicast),
            if_in_broadcast_pkts: narrow(counters.in_broadcast),
            if_out_broadcast_pkts: narrow(counters.out_broadcast),
            if_in_errors: value(counters.in_errors),
            if_out_errors: value(counters.out_errors),
            if_in_discards: value(counters.in_discards),
            if_out_discards: value(counters.out_discards),
            counter_bits: if high_capacity { 64 } else { 32 },
            in_bits_per_second: rates.in_bits,
            out_bits_per_second: rates.out_bits,
            in_packets_per_second: rates.in_packets,
            out_packets_per_second: rates.out_packets,
            in_errors_per_second: rates.in_errors,
            out_errors_per_second: rates.out_errors,
            in_discards_per_second: rates.in_discards,
            out_discards_per_second: rates.out_discards,
            in_utilization_percent: rates.in_utilization,
            out_utilization_percent: rates.out_utilization,
            rate_interval_seconds: interval,
            rate_gap: gap,
        }
    }
}

/// The record's name for a gap.
pub fn record_gap(gap: RateGap) -> SnmpRateGap {
    match gap {
        RateGap::FirstPoll => SnmpRateGap::FirstPoll,
        RateGap::Rebooted => SnmpRateGap::Rebooted,
        RateGap::CounterReset => SnmpRateGap::CounterReset,
        RateGap::Renumbered => SnmpRateGap::Renumbered,
    }
}
