//! The names semaphore knows without a MIB file: SNMPv2-MIB's system group and notification objects, the
//! generic traps, and IF-MIB's `ifTable` and `ifXTable`. Built in because Debian ships no IF-MIB file and
//! nothing is downloaded at run time; anything else is configured by numeric OID with the user's own name.

use crate::sources::snmp::wire::Oid;

pub const SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1];
pub const SYS_OBJECT_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 2];
pub const SYS_UP_TIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3];
pub const SYS_CONTACT: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 4];
pub const SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5];
pub const SYS_LOCATION: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 6];

/// `snmpTrapOID`: the varbind of an SNMPv2 notification that says which one it is.
pub const SNMP_TRAP_OID: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 1];
pub const SNMP_TRAP_ENTERPRISE: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 3];
/// `snmpTrapAddress` (SNMP-COMMUNITY-MIB): the v1 agent address of a trap a proxy converted.
pub const SNMP_TRAP_ADDRESS: &[u32] = &[1, 3, 6, 1, 6, 3, 18, 1, 3];
pub const SNMP_TRAP_COMMUNITY: &[u32] = &[1, 3, 6, 1, 6, 3, 18, 1, 4];

/// The generic notifications (`snmpTraps`, 1.3.6.1.6.3.1.1.5.N).
const SNMP_TRAPS: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 5];
/// Their names, in order (`coldStart` is 1.3.6.1.6.3.1.1.5.1); configuration that names a notification
/// lists them.
pub const TRAP_NAMES: [&str; 6] = [
    "coldStart",
    "warmStart",
    "linkDown",
    "linkUp",
    "authenticationFailure",
    "egpNeighborLoss",
];

pub const IF_NUMBER: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 1];
pub const IF_TABLE_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];
pub const IF_X_TABLE_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1];

/// One column of a table: its entry's OID and its sub-identifier under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub entry: &'static [u32],
    pub sub_id: u32,
}

const fn if_column(name: &'static str, sub_id: u32) -> Column {
    Column {
        name,
        entry: IF_TABLE_ENTRY,
        sub_id,
    }
}

const fn if_x_column(name: &'static str, sub_id: u32) -> Column {
    Column {
        name,
        entry: IF_X_TABLE_ENTRY,
        sub_id,
    }
}

/// Every column of `ifTable` (RFC 2863 §6) and `ifXTable`, in OID order.
pub static IF_COLUMNS: &[Column] = &[
    if_column("ifIndex", 1),
    if_column("ifDescr", 2),
    if_column("ifType", 3),
    if_column("ifMtu", 4),
    if_column("ifSpeed", 5),
    if_column("ifPhysAddress", 6),
    if_column("ifAdminStatus", 7),
    if_column("ifOperStatus", 8),
    if_column("ifLastChange", 9),
    if_column("ifInOctets", 10),
    if_column("ifInUcastPkts", 11),
    if_column("ifInNUcastPkts", 12),
    if_column("ifInDiscards", 13),
    if_column("ifInErrors", 14),
    if_column("ifInUnknownProtos", 15),
    if_column("ifOutOctets", 16),
    if_column("ifOutUcastPkts", 17),
    if_column("ifOutNUcastPkts", 18),
    if_column("ifOutDiscards", 19),
    if_column("ifOutErrors", 20),
    if_column("ifOutQLen", 21),
    if_x_column("ifName", 1),
    if_x_column("ifInMulticastPkts", 2),
    if_x_column("ifInBroadcastPkts", 3),
    if_x_column("ifOutMulticastPkts", 4),
    if_x_column("ifOutBroadcastPkts", 5),
    if_x_column("ifHCInOctets", 6),
    if_x_column("ifHCInUcastPkts", 7),
    if_x_column("ifHCInMulticastPkts", 8),
    if_x_column("ifHCInBroadcastPkts", 9),
    if_x_column("ifHCOutOctets", 10),
    if_x_column("ifHCOutUcastPkts", 11),
    if_x_column("ifHCOutMulticastPkts", 12),
    if_x_column("ifHCOutBroadcastPkts", 13),
    if_x_column("ifLinkUpDownTrapEnable", 14),
    if_x_column("ifHighSpeed", 15),
    if_x_column("ifPromiscuousMode", 16),
    if_x_column("ifConnectorPresent", 17),
    if_x_column("ifAlias", 18),
    if_x_column("ifCounterDiscontinuityTime", 19),
];

/// The system group's scalars, each named as its object (the instance is `.0`).
static SYSTEM_SCALARS: &[(&str, &[u32])] = &[
    ("sysDescr", SYS_DESCR),
    ("sysObjectID", SYS_OBJECT_ID),
    ("sysUpTime", SYS_UP_TIME),
    ("sysContact", SYS_CONTACT),
    ("sysName", SYS_NAME),
    ("sysLocation", SYS_LOCATION),
    ("ifNumber", IF_NUMBER),
    ("snmpTrapOID", SNMP_TRAP_OID),
    ("snmpTrapEnterprise", SNMP_TRAP_ENTERPRISE),
    ("snmpTrapAddress", SNMP_TRAP_ADDRESS),
    ("snmpTrapCommunity", SNMP_TRAP_COMMUNITY),
];

/// The OID of a column (entry + sub-identifier), to walk.
pub fn column_oid(column: &Column) -> Oid {
    known(&[column.entry, &[column.sub_id]].concat())
}

/// A built-in OID: every constant here is a valid one (the tests build each).
fn known(arcs: &[u32]) -> Oid {
    Oid::new(arcs).expect("a built-in OID is valid")
}

/// An object's name and the instance after it: `ifOperStatus` and `[3]` for 1.3.6.1.2.1.2.2.1.8.3, `linkDown`
/// and `[]` for the notification 1.3.6.1.6.3.1.1.5.3. `None` for an OID outside what is built in.
pub fn name_of(oid: &Oid) -> Option<(&'static str, &[u32])> {
    let arcs = oid.arcs();
    if let Some(name) = trap_name(oid) {
        return Some((name, &[]));
    }
    for column in IF_COLUMNS {
        if let Some(rest) = arcs.strip_prefix(column.entry)
            && rest.first() == Some(&column.sub_id)
        {
            return Some((column.name, &rest[1..]));
        }
    }
    SYSTEM_SCALARS
        .iter()
        .find_map(|(name, prefix)| arcs.strip_prefix(*prefix).map(|rest| (*name, rest)))
}

/// `ifOperStatus.3`, `sysUpTime.0`, `linkDown`: the name a record shows for an OID, when it is built in.
pub fn display_name(oid: &Oid) -> Option<String> {
    let (name, instance) = name_of(oid)?;
    let mut text = name.to_owned();
    for arc in instance {
        text.push('.');
        text.push_str(&arc.to_string());
    }
    Some(text)
}

/// The generic notification's name, for `snmpTrapOID` values under `snmpTraps`.
pub fn trap_name(oid: &Oid) -> Option<&'static str> {
    match oid.arcs().strip_prefix(SNMP_TRAPS)? {
        [number] => TRAP_NAMES.get((*number as usize).checked_sub(1)?).copied(),
        _ => None,
    }
}

/// The OID a built-in name stands for: a notification (`linkDown`), a column (`ifOperStatus`) or a system
/// scalar (`sysName`, without its `.0`). For configuration that names objects.
pub fn oid_of_name(name: &str) -> Option<Oid> {
    if let Some(position) = TRAP_NAMES.iter().position(|known| *known == name) {
        return Some(known(&[SNMP_TRAPS, &[position as u32 + 1]].concat()));
    }
    if let Some(column) = IF_COLUMNS.iter().find(|column| column.name == name) {
        return Some(column_oid(column));
    }
    SYSTEM_SCALARS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, arcs)| known(arcs))
}

/// `ifAdminStatus` / `ifOperStatus` values (RFC 2863).
pub fn if_status_name(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "up",
        2 => "down",
        3 => "testing",
        4 => "unknown",
        5 => "dormant",
        6 => "notPresent",
        7 => "lowerLayerDown",
        _ => return None,
    })
}

/// The `ifType` values (IANAifType-MIB) a network device's interfaces mostly have.
pub fn if_type_name(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "other",
        6 => "ethernetCsmacd",
        23 => "ppp",
        24 => "softwareLoopback",
        32 => "frameRelay",
        37 => "atm",
        53 => "propVirtual",
        71 => "ieee80211",
        117 => "gigabitEthernet",
        131 => "tunnel",
        135 => "l2vlan",
        136 => "l3ipvlan",
        161 => "ieee8023adLag",
        166 => "mpls",
        209 => "bridge",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        text.parse().expect("a valid OID")
    }

    #[test]
    fn columns_and_scalars_are_named_with_their_instance() {
        let status = oid("1.3.6.1.2.1.2.2.1.8.3");
        assert_eq!(name_of(&status), Some(("ifOperStatus", &[3][..])));
        assert_eq!(display_name(&status).as_deref(), Some("ifOperStatus.3"));
        assert_eq!(
            display_name(&oid("1.3.6.1.2.1.31.1.1.1.6.12")).as_deref(),
            Some("ifHCInOctets.12")
        );
        assert_eq!(
            display_name(&oid("1.3.6.1.2.1.1.3.0")).as_deref(),
            Some("sysUpTime.0")
        );
        assert_eq!(
            display_name(&oid("1.3.6.1.6.3.1.1.4.1.0")).as_deref(),
            Some("snmpTrapOID.0")
        );
        assert_eq!(name_of(&oid("1.3.6.1.4.1.9.9.109")), None);
    }

    #[test]
    fn the_generic_traps_are_named_and_found_by_name() {
        assert_eq!(trap_name(&oid("1.3.6.1.6.3.1.1.5.3")), Some("linkDown"));
        assert_eq!(
            trap_name(&oid("1.3.6.1.6.3.1.1.5.5")),
            Some("authenticationFailure")
        );
        assert_eq!(trap_name(&oid("1.3.6.1.6.3.1.1.5.0")), None);
        assert_eq!(trap_name(&oid("1.3.6.1.6.3.1.1.5.7")), None);
        assert_eq!(trap_name(&oid("1.3.6.1.6.3.1.1.5.4.1")), None);
        assert_eq!(oid_of_name("linkUp"), Some(oid("1.3.6.1.6.3.1.1.5.4")));
        assert_eq!(oid_of_name("ifHighSpeed"), Some(oid("1.3.6.1.2.1.31.1.1.1.15")));
        assert_eq!(oid_of_name("sysName"), Some(oid("1.3.6.1.2.1.1.5")));
        assert_eq!(oid_of_name("nothing"), None);
    }

    #[test]
    fn every_column_is_in_oid_order_under_its_entry() {
        let oids: Vec<Oid> = IF_COLUMNS.iter().map(column_oid).collect();
        assert!(oids.windows(2).all(|pair| pair[0] < pair[1]));
        for column in IF_COLUMNS {
            assert_eq!(oid_of_name(column.name), Some(column_oid(column)));
        }
    }

    #[test]
    fn statuses_and_types_have_names() {
        assert_eq!(if_status_name(1), Some("up"));
        assert_eq!(if_status_name(7), Some("lowerLayerDown"));
        assert_eq!(if_status_name(8), None);
        assert_eq!(if_type_name(6), Some("ethernetCsmacd"));
        assert_eq!(if_type_name(24), Some("softwareLoopback"));
        assert_eq!(if_type_name(9999), None);
    }
}
