//! One poll of one device → its records, pure (no socket, no clock): the varbinds its GETs and its walk
//! answered, the device's identity and its previous poll's counters go in; one `snmp.interface/1` per
//! interface, one `snmp.system/1` and one `snmp.row/1` per row of each configured table come out, with the
//! rate gaps to count.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use crate::device_identity::DeviceIdentity;
use crate::record::device::DeviceFields;
use crate::record::{SnmpInterfaceRecord, SnmpRowRecord, SnmpSystemRecord};
use crate::sources::snmp::poller::custom::{NamedOid, TableConfig};
use crate::sources::snmp::poller::interface::InterfaceRow;
use crate::sources::snmp::poller::profile::{WalkPlan, WalkedColumn};
use crate::sources::snmp::poller::rates::{DeviceRates, InterfaceSample, RateGap, Rates};
use crate::sources::snmp::poller::table::{self, dotted};
use crate::sources::snmp::poller::values;
use crate::sources::snmp::wire::{Oid, Value, VarBind};

/// What one poll of one device answered.
#[derive(Clone, Debug)]
pub struct Poll {
    /// The address polled.
    pub target: SocketAddr,
    /// When the poll's answers were all in, in UTC: the records' `ts`.
    pub ts: DateTime<Utc>,
    /// When the walk's first answer came, on the poller's monotonic clock: the instant the counters were read
    /// (near enough) for rates, which a retry later in the walk does not move.
    pub at: Duration,
    pub poll_seconds: f64,
    /// The answer to [`WalkPlan::system`].
    pub system: Vec<VarBind>,
    /// The answer to [`WalkPlan::scalars`] (empty when there are none, or when the agent refused them).
    pub scalars: Vec<VarBind>,
    /// The answer to [`WalkPlan::columns`], index-aligned.
    pub walked: Vec<Vec<VarBind>>,
}

/// What the source's config says about records.
pub struct RecordSettings<'a> {
    pub source: &'a str,
    pub plan: &'a WalkPlan,
    pub scalars: &'a [NamedOid],
    pub tables: &'a [TableConfig],
}

/// One poll's records, in the order they are published, and the interfaces' rate gaps.
#[derive(Debug)]
pub struct TargetRecords {
    pub interfaces: Vec<SnmpInterfaceRecord>,
    pub system: SnmpSystemRecord,
    pub rows: Vec<SnmpRowRecord>,
    pub gaps: Vec<RateGap>,
}

/// What every record of one poll says of the device.
pub struct PolledDevice<'a> {
    pub ts: DateTime<Utc>,
    pub source: &'a str,
    pub target: SocketAddr,
    /// Its identity in `[inventory]`, as every record that names a device carries it.
    pub identity: DeviceFields,
    pub sys_name: Option<String>,
}

/// The system group as the device answered it: each value, or `None` when it had none.
struct SystemValues {
    sys_descr: Option<String>,
    sys_object_id: Option<String>,
    /// Hundredths of a second.
    sys_up_time: Option<u32>,
    sys_name: Option<String>,
}

/// The records of one poll; `rates` holds the device's previous poll and takes this one.
pub fn build(
    poll: Poll,
    identity: Option<&DeviceIdentity>,
    settings: &RecordSettings<'_>,
    rates: &mut DeviceRates,
) -> TargetRecords {
    let system = SystemValues::of(&poll.system, settings.plan);
    let device = PolledDevice {
        ts: poll.ts,
        source: settings.source,
        target: poll.target,
        identity: DeviceFields::of(identity),
        sys_name: system.sys_name.clone(),
    };
    let walked = settings.plan.split(settings.tables, poll.walked);
    let interfaces = interface_rows(walked.interfaces);
    let samples: Vec<InterfaceSample> = interfaces.iter().map(InterfaceRow::sample).collect();
    let polled = rates.poll(poll.at, system.sys_up_time, &samples);
    let summary = PollSummary {
        rebooted: polled.rebooted,
        interfaces: interfaces.len(),
        poll_seconds: poll.poll_seconds,
    };
    let custom_values = custom(settings.scalars, &poll.scalars);
    let system_record = system_record(&device, system, summary, custom_values);
    let (interface_records, gaps) = interface_records(&device, &interfaces, polled.interfaces);
    TargetRecords {
        interfaces: interface_records,
        system: system_record,
        rows: table_records(&device, settings.tables, walked.tables),
        gaps,
    }
}

impl SystemValues {
    /// The values of `answer`, the answer to `plan`'s system GET.
    fn of(answer: &[VarBind], plan: &WalkPlan) -> Self {
        // In the order of `SYSTEM_SCALARS`, which `plan.system` keeps.
        let value = |index: usize| answered(answer, &plan.system[index]);
        Self {
            sys_descr: value(0).and_then(values::text),
            sys_object_id: value(1).and_then(values::text),
            sys_up_time: match value(2) {
                Some(Value::TimeTicks(ticks)) => Some(*ticks),
                _ => None,
            },
            sys_name: value(3).and_then(values::text),
        }
    }
}

/// What the system record says of the poll itself.
struct PollSummary {
    rebooted: bool,
    interfaces: usize,
    poll_seconds: f64,
}

/// The device's `snmp.system/1`.
fn system_record(
    device: &PolledDevice<'_>,
    system: SystemValues,
    summary: PollSummary,
    custom: Map<String, Json>,
) -> SnmpSystemRecord {
    SnmpSystemRecord {
        ts: device.ts,
        source: device.source.to_owned(),
        target: device.target,
        device: device.identity.clone(),
        sys_name: system.sys_name,
        sys_descr: system.sys_descr,
        sys_object_id: system.sys_object_id,
        sys_up_time_seconds: system.sys_up_time.map(|ticks| f64::from(ticks) / 100.0),
        rebooted: summary.rebooted,
        interfaces: u32::try_from(summary.interfaces).unwrap_or(u32::MAX),
        poll_seconds: summary.poll_seconds,
        custom,
    }
}

/// Each interface's record, with its rates or why it has none, and those reasons to count.
fn interface_records(
    device: &PolledDevice<'_>,
    interfaces: &[InterfaceRow<'_>],
    outcomes: Vec<Result<Rates, RateGap>>,
) -> (Vec<SnmpInterfaceRecord>, Vec<RateGap>) {
    let gaps = outcomes.iter().filter_map(|outcome| outcome.err()).collect();
    let records = interfaces
        .iter()
        .zip(outcomes)
        .map(|(interface, outcome)| interface.record(device, outcome))
        .collect();
    (records, gaps)
}

/// One record per row of each configured table, `walked` holding each table's columns.
fn table_records(
    device: &PolledDevice<'_>,
    tables: &[TableConfig],
    walked: Vec<Vec<WalkedColumn<'_>>>,
) -> Vec<SnmpRowRecord> {
    tables
        .iter()
        .zip(walked)
        .flat_map(|(table, columns)| table_rows(device, table, columns))
        .collect()
}

/// The value answered for `oid`, unless it is an exception.
fn answered<'v>(varbinds: &'v [VarBind], oid: &Oid) -> Option<&'v Value> {
    varbinds
        .iter()
        .find(|varbind| varbind.oid == *oid)
        .map(|varbind| &varbind.value)
        .filter(|value| !value.is_exception())
}

/// The interfaces of the walked `ifTable`/`ifXTable` columns, by `ifIndex`.
fn interface_rows(columns: Vec<WalkedColumn<'_>>) -> Vec<InterfaceRow<'_>> {
    table::rows(columns)
        .into_iter()
        .filter_map(|(instance, row)| match instance[..] {
            [if_index] => Some(InterfaceRow { if_index, row }),
            _ => None,
        })
        .collect()
}

/// The configured scalars by name: their values, or null when the device has none.
fn custom(scalars: &[NamedOid], answer: &[VarBind]) -> Map<String, Json> {
    scalars
        .iter()
        .map(|scalar| {
            let value = answered(answer, &scalar.oid).map_or(Json::Null, values::json);
            (scalar.name.clone(), value)
        })
        .collect()
}

/// One record per row of a configured table.
fn table_rows(
    device: &PolledDevice<'_>,
    table: &TableConfig,
    columns: Vec<WalkedColumn<'_>>,
) -> Vec<SnmpRowRecord> {
    table::rows(columns)
        .into_iter()
        .map(|(instance, row)| SnmpRowRecord {
            ts: device.ts,
            source: device.source.to_owned(),
            target: device.target,
            device: device.identity.clone(),
            sys_name: device.sys_name.clone(),
            table: table.name.clone(),
            index: dotted(&instance),
            columns: row
                .iter()
                .map(|(name, value)| ((*name).to_owned(), values::json(value)))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::record::{RecordKind, SnmpRateGap};

    const MINUTE: Duration = Duration::from_secs(60);

    fn oid(text: &str) -> Oid {
        text.parse().unwrap()
    }

    fn varbind(text: &str, value: Value) -> VarBind {
        VarBind::new(oid(text), value)
    }

    fn text(value: &str) -> Value {
        Value::OctetString(value.as_bytes().to_vec())
    }

    /// The system group of a Linux net-snmp agent up `ticks` hundredths of a second.
    fn system(ticks: u32) -> Vec<VarBind> {
        vec![
            varbind(
                "1.3.6.1.2.1.1.1.0",
                text("Linux edge-1 6.1.0-13-amd64 #1 SMP x86_64"),
            ),
            varbind(
                "1.3.6.1.2.1.1.2.0",
                Value::ObjectIdentifier(oid("1.3.6.1.4.1.8072.3.2.10")),
            ),
            varbind("1.3.6.1.2.1.1.3.0", Value::TimeTicks(ticks)),
            varbind("1.3.6.1.2.1.1.5.0", text("edge-1")),
        ]
    }

    /// A walk's answer: `columns` by name, each with its (instance, value) pairs, the rest empty.
    fn walked(plan: &WalkPlan, columns: &[(&str, Vec<(&str, Value)>)]) -> Vec<Vec<VarBind>> {
        let mut walked = vec![Vec::new(); plan.columns.len()];
        for (name, cells) in columns {
            let index = plan
                .interface_names
                .iter()
                .position(|known| known == name)
                .unwrap_or_else(|| panic!("{name} is a profile column"));
            walked[index] = cells
                .iter()
                .map(|(instance, value)| {
                    let oid = plan.columns[index].extended(&instance_arcs(instance)).unwrap();
                    VarBind::new(oid, value.clone())
                })
                .collect();
        }
        walked
    }

    fn instance_arcs(instance: &str) -> Vec<u32> {
        instance.split('.').map(|arc| arc.parse().unwrap()).collect()
    }

    /// eth0 (ifIndex 2) with 64-bit counters at `octets` in, and lo (1) without ifXTable.
    fn linux_interfaces(plan: &WalkPlan, octets: u64) -> Vec<Vec<VarBind>> {
        walked(
            plan,
            &[
                ("ifDescr", vec![("1", text("lo")), ("2", text("eth0"))]),
                (
                    "ifType",
                    vec![("1", Value::Integer(24)), ("2", Value::Integer(6))],
                ),
                (
                    "ifSpeed",
                    vec![("1", Value::Gauge32(10_000_000)), ("2", Value::Gauge32(u32::MAX))],
                ),
                (
                    "ifAdminStatus",
                    vec![("1", Value::Integer(1)), ("2", Value::Integer(1))],
                ),
                (
                    "ifOperStatus",
                    vec![("1", Value::Integer(1)), ("2", Value::Integer(7))],
                ),
                (
                    "ifInOctets",
                    vec![
                        ("1", Value::Counter32(500)),
                        ("2", Value::Counter32(octets as u32)),
                    ],
                ),
                (
                    "ifOutOctets",
                    vec![("1", Value::Counter32(500)), ("2", Value::Counter32(7))],
                ),
                (
                    "ifInUcastPkts",
                    vec![("1", Value::Counter32(5)), ("2", Value::Counter32(70))],
                ),
                (
                    "ifInErrors",
                    vec![("1", Value::Counter32(0)), ("2", Value::Counter32(3))],
                ),
                ("ifName", vec![("2", text("eth0"))]),
                ("ifAlias", vec![("2", text("uplink"))]),
                ("ifHighSpeed", vec![("2", Value::Gauge32(10_000))]),
                ("ifHCInOctets", vec![("2", Value::Counter64(octets))]),
                ("ifHCOutOctets", vec![("2", Value::Counter64(octets / 2))]),
                ("ifHCInUcastPkts", vec![("2", Value::Counter64(octets / 1000))]),
                // A device without broadcast counters says so per instance.
                ("ifHCInBroadcastPkts", vec![("2", Value::NoSuchInstance)]),
            ],
        )
    }

    fn settings<'a>(
        plan: &'a WalkPlan,
        scalars: &'a [NamedOid],
        tables: &'a [TableConfig],
    ) -> RecordSettings<'a> {
        RecordSettings {
            source: "snmp",
            plan,
            scalars,
            tables,
        }
    }

    fn poll(at: Duration, ticks: u32, walked: Vec<Vec<VarBind>>) -> Poll {
        Poll {
            target: "127.0.0.1:16161".parse().unwrap(),
            ts: "2026-12-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + at,
            at,
            poll_seconds: 0.02,
            system: system(ticks),
            scalars: Vec::new(),
            walked,
        }
    }

    fn validate<R: RecordKind>(record: &R) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas")
            .join(R::JSON_SCHEMA);
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let instance = serde_json::to_value(record).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?} in {instance}", R::HEADER);
        let back: R = serde_json::from_value(instance).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(record).unwrap()
        );
    }

    #[test]
    fn a_device_s_varbinds_become_its_records() {
        let plan = WalkPlan::new(&[], &[]);
        let settings = settings(&plan, &[], &[]);
        let mut rates = DeviceRates::default();
        let first = build(
            poll(MINUTE, 100_000, linux_interfaces(&plan, 1_000_000)),
            None,
            &settings,
            &mut rates,
        );
        assert_eq!(first.interfaces.len(), 2);
        assert_eq!(first.gaps, [RateGap::FirstPoll, RateGap::FirstPoll]);
        let eth0 = &first.interfaces[1];
        assert_eq!(eth0.if_index, 2);
        assert_eq!(eth0.if_name.as_deref(), Some("eth0"));
        assert_eq!(eth0.if_alias.as_deref(), Some("uplink"));
        assert_eq!(eth0.if_type.as_deref(), Some("ethernetCsmacd"));
        assert_eq!(eth0.if_type_code, Some(6));
        assert_eq!(eth0.if_admin_status.as_deref(), Some("up"));
        assert_eq!(eth0.if_oper_status.as_deref(), Some("lowerLayerDown"));
        assert_eq!(eth0.if_high_speed, Some(10_000));
        assert_eq!(eth0.speed_bits_per_second, Some(10_000_000_000));
        assert_eq!(eth0.counter_bits, 64);
        assert_eq!(eth0.if_hc_in_octets, Some(1_000_000));
        assert_eq!(eth0.if_hc_out_octets, Some(500_000));
        assert_eq!(
            eth0.if_in_octets, None,
            "the 32-bit counter is not repeated beside the 64-bit one"
        );
        assert_eq!(eth0.if_hc_in_broadcast_pkts, None);
        assert_eq!(eth0.if_in_errors, Some(3));
        assert_eq!(eth0.rate_gap, Some(SnmpRateGap::FirstPoll));
        assert_eq!(eth0.in_bits_per_second, None);
        assert_eq!(eth0.rate_interval_seconds, None);
        assert_eq!(eth0.sys_name.as_deref(), Some("edge-1"));
        assert_eq!(eth0.key(), "127.0.0.1");
        assert_eq!(eth0.device.serial, None);
        assert_eq!(eth0.device.tags, None);
        let lo = &first.interfaces[0];
        assert_eq!(lo.counter_bits, 32);
        assert_eq!(lo.if_in_octets, Some(500));
        assert_eq!(lo.if_hc_in_octets, None);
        assert_eq!(lo.if_name, None);
        assert_eq!(lo.if_type.as_deref(), Some("softwareLoopback"));
        assert_eq!(lo.speed_bits_per_second, Some(10_000_000));
        let system = &first.system;
        assert_eq!(
            system.sys_descr.as_deref(),
            Some("Linux edge-1 6.1.0-13-amd64 #1 SMP x86_64")
        );
        assert_eq!(system.sys_object_id.as_deref(), Some("1.3.6.1.4.1.8072.3.2.10"));
        assert_eq!(system.sys_up_time_seconds, Some(1_000.0));
        assert_eq!(system.interfaces, 2);
        assert!(!system.rebooted);
        assert!(system.custom.is_empty());
        assert!(first.rows.is_empty());
        validate(eth0);
        validate(lo);
        validate(system);

        // A minute later: 75,000,000 octets more in on eth0 is 10 Mbit/s, 0.1% of 10 Gbit/s.
        let second = build(
            poll(2 * MINUTE, 106_000, linux_interfaces(&plan, 76_000_000)),
            None,
            &settings,
            &mut rates,
        );
        assert!(second.gaps.is_empty());
        let eth0 = &second.interfaces[1];
        assert_eq!(eth0.rate_gap, None);
        assert_eq!(eth0.rate_interval_seconds, Some(60.0));
        assert_eq!(eth0.in_bits_per_second, Some(10_000_000.0));
        assert_eq!(eth0.out_bits_per_second, Some(5_000_000.0));
        assert_eq!(eth0.in_utilization_percent, Some(0.1));
        assert_eq!(eth0.in_packets_per_second, Some(1_250.0));
        assert_eq!(eth0.in_errors_per_second, Some(0.0));
        assert_eq!(second.interfaces[0].in_bits_per_second, Some(0.0));
        validate(eth0);

        // The agent restarted: no rates, and the system record says so.
        let third = build(
            poll(3 * MINUTE, 500, linux_interfaces(&plan, 1_000)),
            None,
            &settings,
            &mut rates,
        );
        assert!(third.system.rebooted);
        assert_eq!(third.gaps, [RateGap::Rebooted, RateGap::Rebooted]);
        assert_eq!(third.interfaces[1].rate_gap, Some(SnmpRateGap::Rebooted));
        validate(&third.system);
    }

    #[test]
    fn a_known_device_is_named_on_every_record() {
        let scalars = [
            NamedOid {
                name: "cpu5min".to_owned(),
                oid: oid("1.3.6.1.4.1.9.9.109.1.1.1.1.8.1"),
            },
            NamedOid {
                name: "missing".to_owned(),
                oid: oid("1.3.6.1.4.1.9.9.999.0"),
            },
        ];
        let tables = [TableConfig {
            name: "cpu".to_owned(),
            columns: vec![
                NamedOid {
                    name: "cpmCPUTotal5minRev".to_owned(),
                    oid: oid("1.3.6.1.4.1.9.9.109.1.1.1.1.8"),
                },
                NamedOid {
                    name: "cpmCPUTotalName".to_owned(),
                    oid: oid("1.3.6.1.4.1.9.9.109.1.1.1.1.30"),
                },
            ],
        }];
        let plan = WalkPlan::new(&scalars, &tables);
        let settings = settings(&plan, &scalars, &tables);
        let identity = DeviceIdentity {
            name: Some("core-sw1".to_owned()),
            serial: Some("FOC1234X".to_owned()),
            site: Some("madrid".to_owned()),
            role: Some("core".to_owned()),
            network_id: None,
            network_name: None,
            tags: vec!["dc".to_owned()],
        };
        let mut walked = linux_interfaces(&plan, 1_000);
        let first_table_column = plan.interface_names.len();
        walked[first_table_column] = vec![
            varbind("1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", Value::Gauge32(7)),
            varbind("1.3.6.1.4.1.9.9.109.1.1.1.1.8.2", Value::Gauge32(12)),
        ];
        walked[first_table_column + 1] = vec![varbind("1.3.6.1.4.1.9.9.109.1.1.1.1.30.1", text("CPU of RP"))];
        let mut polled = poll(MINUTE, 100, walked);
        polled.scalars = vec![
            varbind("1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", Value::Gauge32(7)),
            varbind("1.3.6.1.4.1.9.9.999.0", Value::NoSuchObject),
        ];
        let records = build(polled, Some(&identity), &settings, &mut DeviceRates::default());
        assert_eq!(records.system.custom["cpu5min"], serde_json::json!(7));
        assert_eq!(records.system.custom["missing"], Json::Null);
        assert_eq!(records.system.key(), "FOC1234X");
        assert_eq!(
            records.system.device.tags.as_deref(),
            Some(&["dc".to_owned()][..])
        );
        assert_eq!(records.interfaces[0].device.site.as_deref(), Some("madrid"));
        assert_eq!(records.interfaces[0].key(), "FOC1234X");
        assert_eq!(records.rows.len(), 2);
        let row = &records.rows[0];
        assert_eq!(row.table, "cpu");
        assert_eq!(row.index, "1");
        assert_eq!(row.columns["cpmCPUTotal5minRev"], serde_json::json!(7));
        assert_eq!(row.columns["cpmCPUTotalName"], serde_json::json!("CPU of RP"));
        assert_eq!(row.device.device_name.as_deref(), Some("core-sw1"));
        assert_eq!(records.rows[1].index, "2");
        assert!(!records.rows[1].columns.contains_key("cpmCPUTotalName"));
        validate(row);
        validate(&records.system);
        validate(&records.interfaces[1]);
    }

    #[test]
    fn an_agent_without_if_mib_or_system_values_still_has_a_system_record() {
        let plan = WalkPlan::new(&[], &[]);
        let settings = settings(&plan, &[], &[]);
        let mut polled = poll(MINUTE, 0, vec![Vec::new(); plan.columns.len()]);
        polled.system = plan
            .system
            .iter()
            .map(|oid| VarBind::new(oid.clone(), Value::NoSuchObject))
            .collect();
        let records = build(polled, None, &settings, &mut DeviceRates::default());
        assert!(records.interfaces.is_empty());
        assert_eq!(records.system.interfaces, 0);
        assert_eq!(records.system.sys_name, None);
        assert_eq!(records.system.sys_up_time_seconds, None);
        validate(&records.system);
    }
}
