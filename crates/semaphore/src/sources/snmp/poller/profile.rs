//! What one poll asks a device: the default profile (SNMPv2-MIB's system scalars, and the `ifTable` and
//! `ifXTable` columns operators graph first), plus what the config adds ([`WalkPlan`]). Every column, the
//! profile's and the configured tables', is walked in one `Session::walk`, so a device answers one GETBULK
//! stream per poll.

use crate::sources::snmp::mib::{self, Column};
use crate::sources::snmp::poller::custom::{NamedOid, TableConfig};
use crate::sources::snmp::wire::{Oid, VarBind};

/// The system scalars every poll reads (their instance `.0` added), by name.
pub const SYSTEM_SCALARS: [(&str, &[u32]); 4] = [
    ("sysDescr", mib::SYS_DESCR),
    ("sysObjectID", mib::SYS_OBJECT_ID),
    ("sysUpTime", mib::SYS_UP_TIME),
    ("sysName", mib::SYS_NAME),
];

/// The interface columns the default profile walks: names, statuses, speeds and the counters, 64-bit and
/// 32-bit (a device without `ifHC` counters still has rates). Left out: what changes rarely or says little
/// (`ifMtu`, `ifPhysAddress`, `ifLastChange`, `ifInUnknownProtos`, `ifOutQLen`, the deprecated
/// `ifInNUcastPkts`/`ifOutNUcastPkts`, the trap, promiscuous and connector flags).
pub const INTERFACE_COLUMNS: [&str; 28] = [
    "ifDescr",
    "ifType",
    "ifSpeed",
    "ifAdminStatus",
    "ifOperStatus",
    "ifInOctets",
    "ifInUcastPkts",
    "ifInDiscards",
    "ifInErrors",
    "ifOutOctets",
    "ifOutUcastPkts",
    "ifOutDiscards",
    "ifOutErrors",
    "ifName",
    "ifInMulticastPkts",
    "ifInBroadcastPkts",
    "ifOutMulticastPkts",
    "ifOutBroadcastPkts",
    "ifHCInOctets",
    "ifHCInUcastPkts",
    "ifHCInMulticastPkts",
    "ifHCInBroadcastPkts",
    "ifHCOutOctets",
    "ifHCOutUcastPkts",
    "ifHCOutMulticastPkts",
    "ifHCOutBroadcastPkts",
    "ifHighSpeed",
    "ifAlias",
];

/// One poll's requests: the GETs' OIDs and the one walk's columns, and which column is which.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkPlan {
    /// `sysDescr.0`, `sysObjectID.0`, `sysUpTime.0`, `sysName.0`.
    pub system: Vec<Oid>,
    /// The configured scalars, read with a GET of their own: an agent that refuses one (SNMPv1 fails the
    /// whole request for one unknown OID) does not cost the system record.
    pub scalars: Vec<Oid>,
    /// Every column walked: the profile's interface columns, then each configured table's, in order.
    pub columns: Vec<Oid>,
    /// The names of the first `interface_names.len()` columns.
    pub interface_names: Vec<&'static str>,
    /// How many columns each configured table has, in order, after the interface columns.
    pub table_widths: Vec<usize>,
}

/// One walk's answer, split back: each column's OID, name and varbinds.
pub struct Walked<'a> {
    pub interfaces: Vec<WalkedColumn<'a>>,
    /// Per configured table, its columns.
    pub tables: Vec<Vec<WalkedColumn<'a>>>,
}

pub struct WalkedColumn<'a> {
    pub oid: &'a Oid,
    pub name: &'a str,
    pub varbinds: Vec<VarBind>,
}

impl WalkPlan {
    pub fn new(scalars: &[NamedOid], tables: &[TableConfig]) -> Self {
        let interface_columns = interface_columns();
        let mut columns: Vec<Oid> = interface_columns
            .iter()
            .map(|column| mib::column_oid(column))
            .collect();
        columns.extend(
            tables
                .iter()
                .flat_map(|table| table.columns.iter().map(|column| column.oid.clone())),
        );
        Self {
            system: SYSTEM_SCALARS
                .iter()
                .map(|(_, arcs)| Oid::new(&[*arcs, &[0_u32][..]].concat()).expect("a built-in OID is valid"))
                .collect(),
            scalars: scalars.iter().map(|scalar| scalar.oid.clone()).collect(),
            columns,
            interface_names: interface_columns.iter().map(|column| column.name).collect(),
            table_widths: tables.iter().map(|table| table.columns.len()).collect(),
        }
    }

    /// The walk's answer (index-aligned with [`WalkPlan::columns`]) as the profile's columns and each
    /// table's; `tables` gives the configured columns' names. A shorter answer leaves the rest empty.
    pub fn split<'a>(&'a self, tables: &'a [TableConfig], walked: Vec<Vec<VarBind>>) -> Walked<'a> {
        let mut answers = walked.into_iter();
        let mut next = || answers.next().unwrap_or_default();
        let interfaces: Vec<WalkedColumn<'a>> = self
            .interface_names
            .iter()
            .zip(&self.columns)
            .map(|(name, oid)| WalkedColumn {
                oid,
                name,
                varbinds: next(),
            })
            .collect();
        let mut oids = self.columns[self.interface_names.len()..].iter();
        let tables: Vec<Vec<WalkedColumn<'a>>> = tables
            .iter()
            .map(|table| {
                table
                    .columns
                    .iter()
                    .zip(oids.by_ref())
                    .map(|(column, oid)| WalkedColumn {
                        oid,
                        name: column.name.as_str(),
                        varbinds: next(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        Walked { interfaces, tables }
    }
}

/// The profile's interface columns, in OID order.
fn interface_columns() -> Vec<&'static Column> {
    mib::IF_COLUMNS
        .iter()
        .filter(|column| INTERFACE_COLUMNS.contains(&column.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::Value;

    fn oid(text: &str) -> Oid {
        text.parse().unwrap()
    }

    #[test]
    fn every_profile_column_is_built_in() {
        let columns = interface_columns();
        assert_eq!(columns.len(), INTERFACE_COLUMNS.len());
        let plan = WalkPlan::new(&[], &[]);
        assert_eq!(plan.columns.len(), INTERFACE_COLUMNS.len());
        assert_eq!(plan.columns[0], oid("1.3.6.1.2.1.2.2.1.2"));
        assert!(plan.columns.windows(2).all(|pair| pair[0] < pair[1]), "OID order");
        assert_eq!(plan.interface_names[0], "ifDescr");
        assert_eq!(
            plan.system,
            [
                oid("1.3.6.1.2.1.1.1.0"),
                oid("1.3.6.1.2.1.1.2.0"),
                oid("1.3.6.1.2.1.1.3.0"),
                oid("1.3.6.1.2.1.1.5.0"),
            ]
        );
        assert!(plan.scalars.is_empty());
    }

    #[test]
    fn configured_columns_follow_the_profile_and_split_back() {
        let scalar = NamedOid {
            name: "cpu5min".to_owned(),
            oid: oid("1.3.6.1.4.1.9.9.109.1.1.1.1.8.1"),
        };
        let tables = [
            TableConfig {
                name: "cpu".to_owned(),
                columns: vec![
                    NamedOid {
                        name: "load".to_owned(),
                        oid: oid("1.3.6.1.4.1.9.9.109.1.1.1.1.8"),
                    },
                    NamedOid {
                        name: "physical".to_owned(),
                        oid: oid("1.3.6.1.4.1.9.9.109.1.1.1.1.2"),
                    },
                ],
            },
            TableConfig {
                name: "temperature".to_owned(),
                columns: vec![NamedOid {
                    name: "celsius".to_owned(),
                    oid: oid("1.3.6.1.4.1.9.9.13.1.3.1.3"),
                }],
            },
        ];
        let plan = WalkPlan::new(std::slice::from_ref(&scalar), &tables);
        assert_eq!(plan.scalars, std::slice::from_ref(&scalar.oid));
        assert_eq!(plan.columns.len(), INTERFACE_COLUMNS.len() + 3);
        assert_eq!(plan.table_widths, [2, 1]);
        let mut walked: Vec<Vec<VarBind>> = vec![Vec::new(); plan.columns.len()];
        let celsius = VarBind::new(oid("1.3.6.1.4.1.9.9.13.1.3.1.3.1"), Value::Gauge32(41));
        walked[INTERFACE_COLUMNS.len() + 2].push(celsius.clone());
        walked[0].push(VarBind::new(
            oid("1.3.6.1.2.1.2.2.1.2.1"),
            Value::OctetString(b"lo".to_vec()),
        ));
        let split = plan.split(&tables, walked);
        assert_eq!(split.interfaces.len(), INTERFACE_COLUMNS.len());
        assert_eq!(split.interfaces[0].name, "ifDescr");
        assert_eq!(split.interfaces[0].varbinds.len(), 1);
        assert_eq!(split.tables.len(), 2);
        assert_eq!(split.tables[0][1].name, "physical");
        assert_eq!(*split.tables[0][1].oid, oid("1.3.6.1.4.1.9.9.109.1.1.1.1.2"));
        assert_eq!(split.tables[1][0].name, "celsius");
        assert_eq!(split.tables[1][0].varbinds, [celsius]);
        // An answer cut short leaves the columns after it empty rather than failing.
        let short = plan.split(&tables, Vec::new());
        assert!(short.tables[1][0].varbinds.is_empty());
    }
}
