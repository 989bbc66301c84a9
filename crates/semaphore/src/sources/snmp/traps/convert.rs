//! A notification → its `snmp.trap/1` record: which notification it is (snmpTrapOID, or a v1 trap's SNMPv2
//! identity, RFC 3584 §3.1.2), the sender's uptime, the interface a linkDown or linkUp is about, every
//! variable binding named where semaphore knows the object ([`mib`]), and the sending device from the
//! directory. Pure, so it is tested without a socket.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::device_identity::DeviceIdentity;
use crate::record::device::DeviceFields;
use crate::record::{SnmpTrapRecord, SnmpVarbind};
use crate::sources::snmp::mib;
use crate::sources::snmp::traps::notification::Notification;
use crate::sources::snmp::wire::{AnyPdu, Oid, Value, VarBind};

/// The sending device: the sender's address in the directory, else (a v1 trap relayed by a proxy, or sent
/// from another interface) its agent address.
pub fn device(
    notification: &Notification,
    lookup: impl Fn(IpAddr) -> Option<Arc<DeviceIdentity>>,
) -> Option<Arc<DeviceIdentity>> {
    lookup(notification.sender.ip()).or_else(|| {
        let AnyPdu::TrapV1(trap) = &notification.pdu else {
            return None;
        };
        let agent = Ipv4Addr::from(trap.agent_address);
        (!agent.is_unspecified())
            .then(|| lookup(IpAddr::V4(agent)))
            .flatten()
    })
}

/// The record of `notification`, received by source `source_id`; `device` is the sender's identity.
pub fn record(
    notification: &Notification,
    source_id: &str,
    device: Option<&DeviceIdentity>,
) -> SnmpTrapRecord {
    let varbinds = notification.pdu.varbinds();
    let trap = match &notification.pdu {
        AnyPdu::TrapV1(trap) => Some(trap),
        AnyPdu::Pdu(_) => None,
    };
    let trap_oid = match trap {
        Some(trap) => trap.snmp_trap_oid().ok(),
        None => trap_oid_binding(varbinds),
    };
    let uptime_ticks = match trap {
        Some(trap) => Some(trap.time_stamp),
        None => uptime_binding(varbinds),
    };
    let interface = Interface::of(varbinds);
    SnmpTrapRecord {
        ts: notification.received_at,
        received_at: notification.received_at,
        source: source_id.to_owned(),
        // A dual-stack `[::]` socket reports IPv4 senders as `::ffff:a.b.c.d`: the plain address keeps one
        // device one key whichever socket it reached.
        source_ip: notification.sender.ip().to_canonical(),
        source_port: notification.sender.port(),
        version: notification.record_version(),
        pdu_type: notification.pdu_kind(),
        security_name: notification.security_name.clone(),
        context_name: notification.context_name.clone(),
        trap_name: trap_oid.as_ref().and_then(mib::trap_name).map(str::to_owned),
        trap_oid: trap_oid.as_ref().map(Oid::to_string),
        sys_up_time_seconds: uptime_ticks.map(|ticks| f64::from(ticks) / 100.0),
        enterprise: trap.map(|trap| trap.enterprise.to_string()),
        agent_address: trap.map(|trap| Ipv4Addr::from(trap.agent_address)),
        generic_trap: trap.map(|trap| trap.generic_trap.code()),
        specific_trap: trap.map(|trap| trap.specific_trap),
        if_index: interface.index,
        if_name: interface.name,
        if_admin_status: interface.admin_status,
        if_oper_status: interface.oper_status,
        varbinds: varbinds.iter().map(varbind).collect(),
        device: DeviceFields::of(device),
    }
}

/// snmpTrapOID.0's value: the second binding of an SNMPv2 notification (RFC 3416 §4.2.6), looked for
/// anywhere, as some agents misplace it.
fn trap_oid_binding(varbinds: &[VarBind]) -> Option<Oid> {
    varbinds.iter().find_map(|varbind| match &varbind.value {
        Value::ObjectIdentifier(oid) if is_instance_zero(&varbind.oid, mib::SNMP_TRAP_OID) => {
            Some(oid.clone())
        }
        _ => None,
    })
}

/// sysUpTime.0's value: the first binding of an SNMPv2 notification.
fn uptime_binding(varbinds: &[VarBind]) -> Option<u32> {
    varbinds.iter().find_map(|varbind| match varbind.value {
        Value::TimeTicks(ticks) if is_instance_zero(&varbind.oid, mib::SYS_UP_TIME) => Some(ticks),
        _ => None,
    })
}

fn is_instance_zero(oid: &Oid, object: &[u32]) -> bool {
    oid.arcs().strip_prefix(object) == Some(&[0][..])
}

/// The interface a notification's bindings are about (linkDown and linkUp carry ifIndex, ifAdminStatus and
/// ifOperStatus, RFC 2863 §6; many agents add ifName or ifDescr). The first of each counts.
#[derive(Debug, Default, PartialEq)]
struct Interface {
    index: Option<i64>,
    name: Option<String>,
    admin_status: Option<String>,
    oper_status: Option<String>,
}

impl Interface {
    fn of(varbinds: &[VarBind]) -> Self {
        let mut interface = Interface::default();
        let mut instance = None;
        for varbind in varbinds {
            let Some((name, suffix)) = mib::name_of(&varbind.oid) else {
                continue;
            };
            let value = &varbind.value;
            match (name, value) {
                ("ifIndex", Value::Integer(index)) => fill(&mut interface.index, || i64::from(*index)),
                ("ifName", Value::OctetString(_)) => fill(&mut interface.name, || value.to_string()),
                ("ifAdminStatus", Value::Integer(code)) => {
                    fill(&mut interface.admin_status, || status(*code))
                }
                ("ifOperStatus", Value::Integer(code)) => fill(&mut interface.oper_status, || status(*code)),
                _ => continue,
            }
            if let [index] = suffix {
                fill(&mut instance, || i64::from(*index));
            }
        }
        // No ifIndex binding: the instance of the interface's other bindings says which it is.
        interface.index = interface.index.or(instance);
        interface
    }
}

/// Sets `slot` unless an earlier binding did.
fn fill<T>(slot: &mut Option<T>, value: impl FnOnce() -> T) {
    if slot.is_none() {
        *slot = Some(value());
    }
}

/// `up`, `down`… for the statuses RFC 2863 names, the number otherwise.
fn status(code: i32) -> String {
    mib::if_status_name(i64::from(code)).map_or_else(|| code.to_string(), str::to_owned)
}

fn varbind(varbind: &VarBind) -> SnmpVarbind {
    SnmpVarbind {
        oid: varbind.oid.to_string(),
        name: mib::display_name(&varbind.oid),
        value_type: varbind.value.type_name().to_owned(),
        value: json_value(&varbind.value),
    }
}

/// Numbers as JSON numbers, NULL as null, everything else as its text.
fn json_value(value: &Value) -> serde_json::Value {
    match value {
        Value::Integer(number) => serde_json::Value::from(*number),
        Value::Counter32(number) | Value::Gauge32(number) | Value::TimeTicks(number) => {
            serde_json::Value::from(*number)
        }
        Value::Counter64(number) => serde_json::Value::from(*number),
        Value::Null => serde_json::Value::Null,
        other => serde_json::Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::record::{SnmpTrapPdu, SnmpTrapVersion};
    use crate::sources::snmp::traps::decode::{Datagram, Outcome, TrapDecoder};
    use crate::sources::snmp::traps::test_support::{decoder, received, sender};
    use crate::sources::snmp::wire::fixtures::{self, hex};

    /// The record of a captured packet, as the source makes it, with `device` as the sender's identity.
    fn record_of(decoder: &TrapDecoder, fixture: &str, device: Option<&DeviceIdentity>) -> SnmpTrapRecord {
        let bytes = hex(fixture);
        let datagram = Datagram {
            bytes: &bytes,
            sender: sender(),
            received_at: received(),
            engine_time: 1,
        };
        match decoder.decode(&datagram) {
            Outcome::Trap(notification) | Outcome::Inform { notification, .. } => {
                record(&notification, "traps", device)
            }
            other => panic!("{fixture}: a notification, not {other:?}"),
        }
    }

    fn core_switch() -> DeviceIdentity {
        DeviceIdentity {
            name: Some("core-sw1".to_owned()),
            serial: Some("FOC1234X".to_owned()),
            site: Some("madrid".to_owned()),
            role: Some("core".to_owned()),
            network_id: None,
            network_name: None,
            tags: vec!["dc".to_owned()],
        }
    }

    #[test]
    fn a_v1_enterprise_trap_keeps_its_v1_fields() {
        let record = record_of(&decoder(), fixtures::TRAP_V1, None);
        assert_eq!(record.version, SnmpTrapVersion::V1);
        assert_eq!(record.pdu_type, SnmpTrapPdu::Trap);
        assert_eq!(record.trap_oid.as_deref(), Some("1.3.6.1.4.1.8072.2.3.0.17"));
        assert_eq!(record.trap_name, None);
        assert_eq!(record.enterprise.as_deref(), Some("1.3.6.1.4.1.8072.2.3"));
        assert_eq!(record.agent_address, Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!((record.generic_trap, record.specific_trap), (Some(6), Some(17)));
        assert_eq!(record.sys_up_time_seconds, Some(123.45));
        assert_eq!(record.security_name, None);
        assert_eq!(record.varbinds.len(), 1);
        let system_name = &record.varbinds[0];
        assert_eq!(system_name.name.as_deref(), Some("sysName.0"));
        assert_eq!(system_name.value_type, "octetString");
        assert_eq!(system_name.value, serde_json::json!("router1"));
        assert_eq!(record.if_index, None);
        assert_eq!(record.ts, received());
        assert_eq!(record.source, "traps");
        assert_eq!(record.key(), "192.0.2.77");
    }

    #[test]
    fn a_v2c_link_down_names_its_interface() {
        let device = core_switch();
        let record = record_of(&decoder(), fixtures::TRAP_V2C_LINK_DOWN, Some(&device));
        assert_eq!(record.version, SnmpTrapVersion::V2c);
        assert_eq!(record.trap_oid.as_deref(), Some("1.3.6.1.6.3.1.1.5.3"));
        assert_eq!(record.trap_name.as_deref(), Some("linkDown"));
        assert_eq!(record.sys_up_time_seconds, Some(123.45));
        assert_eq!(record.if_index, Some(2));
        assert_eq!(record.if_admin_status.as_deref(), Some("up"));
        assert_eq!(record.if_oper_status.as_deref(), Some("down"));
        assert_eq!(record.enterprise, None);
        let names: Vec<Option<&str>> = record
            .varbinds
            .iter()
            .map(|varbind| varbind.name.as_deref())
            .collect();
        assert_eq!(
            names,
            [
                Some("sysUpTime.0"),
                Some("snmpTrapOID.0"),
                Some("ifIndex.2"),
                Some("ifAdminStatus.2"),
                Some("ifOperStatus.2"),
            ]
        );
        assert_eq!(record.varbinds[0].value, serde_json::json!(12_345));
        assert_eq!(record.varbinds[1].value, serde_json::json!("1.3.6.1.6.3.1.1.5.3"));
        assert_eq!(record.device.device_name.as_deref(), Some("core-sw1"));
        assert_eq!(record.device.tags, Some(vec!["dc".to_owned()]));
        assert_eq!(record.key(), "FOC1234X");
    }

    #[test]
    fn a_v2c_inform_shows_every_value_type() {
        let record = record_of(&decoder(), fixtures::INFORM_V2C_VALUES, None);
        assert_eq!(record.pdu_type, SnmpTrapPdu::Inform);
        assert_eq!(record.trap_name.as_deref(), Some("linkUp"));
        assert_eq!(record.if_index, Some(3));
        let shown: Vec<(&str, serde_json::Value)> = record
            .varbinds
            .iter()
            .map(|varbind| (varbind.value_type.as_str(), varbind.value.clone()))
            .collect();
        assert_eq!(shown[3], ("counter32", serde_json::json!(4_294_967_295_u32)));
        assert_eq!(shown[4], ("ipAddress", serde_json::json!("10.0.0.1")));
        assert_eq!(shown[6], ("gauge32", serde_json::json!(1_000_000_000)));
        assert_eq!(record.varbinds[3].name.as_deref(), Some("ifHCInOctets.3"));
        assert_eq!(record.varbinds[4].name, None);
    }

    #[test]
    fn v3_records_carry_the_user_and_context() {
        let decoder = decoder();
        let trap = record_of(&decoder, fixtures::TRAP_V3_SHA_AES, None);
        assert_eq!(trap.version, SnmpTrapVersion::V3);
        assert_eq!(trap.pdu_type, SnmpTrapPdu::Trap);
        assert_eq!(trap.security_name.as_deref(), Some("bob"));
        assert_eq!(trap.context_name.as_deref(), Some(""));
        assert_eq!(trap.trap_name.as_deref(), Some("linkDown"));
        assert_eq!(trap.if_index, Some(7));
        assert_eq!(trap.sys_up_time_seconds, Some(0.42));
        let inform = record_of(&decoder, fixtures::INFORM_V3_SHA_AES, None);
        assert_eq!(inform.pdu_type, SnmpTrapPdu::Inform);
        assert_eq!(inform.security_name.as_deref(), Some("bob"));
        assert_eq!(inform.trap_name.as_deref(), Some("linkUp"));
        assert_eq!(inform.if_index, Some(2));
        let json = serde_json::to_value(&inform).unwrap();
        assert_eq!(json["version"], "3");
        assert!(!json.to_string().contains("authpassword"));
    }

    #[test]
    fn the_device_is_the_sender_else_the_v1_agent_address() {
        let decoder = decoder();
        let bytes = hex(fixtures::TRAP_V1);
        let datagram = Datagram {
            bytes: &bytes,
            sender: sender(),
            received_at: received(),
            engine_time: 1,
        };
        let Outcome::Trap(notification) = decoder.decode(&datagram) else {
            panic!("a trap");
        };
        let mut directory: HashMap<IpAddr, Arc<DeviceIdentity>> = HashMap::new();
        let lookup = |directory: &HashMap<IpAddr, Arc<DeviceIdentity>>| {
            let directory = directory.clone();
            move |address: IpAddr| directory.get(&address).cloned()
        };
        assert_eq!(device(&notification, lookup(&directory)), None);
        let agent = Arc::new(core_switch());
        directory.insert("192.0.2.1".parse().unwrap(), agent.clone());
        assert_eq!(device(&notification, lookup(&directory)), Some(agent));
        let sender_device = Arc::new(DeviceIdentity {
            serial: Some("SENDER".to_owned()),
            ..core_switch()
        });
        directory.insert(sender().ip(), sender_device.clone());
        assert_eq!(device(&notification, lookup(&directory)), Some(sender_device));
    }

    #[test]
    fn interfaces_come_from_any_of_their_bindings() {
        let binding = |oid: &str, value: Value| VarBind::new(oid.parse().unwrap(), value);
        let bindings = [
            binding("1.3.6.1.2.1.31.1.1.1.1.9", Value::OctetString(b"Gi0/9".to_vec())),
            binding("1.3.6.1.2.1.2.2.1.8.9", Value::Integer(7)),
            binding("1.3.6.1.2.1.2.2.1.7.9", Value::Integer(42)),
        ];
        assert_eq!(
            Interface::of(&bindings),
            Interface {
                index: Some(9),
                name: Some("Gi0/9".to_owned()),
                admin_status: Some("42".to_owned()),
                oper_status: Some("lowerLayerDown".to_owned()),
            }
        );
        assert_eq!(Interface::of(&[]), Interface::default());
    }
}
