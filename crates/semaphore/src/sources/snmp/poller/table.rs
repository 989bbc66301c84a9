//! Walked columns → rows: each varbind's instance is what follows its column's OID, and a row is every
//! column's value at one instance. Exceptions and varbinds outside their column are left out; a row missing
//! a column simply lacks it.

use std::collections::BTreeMap;

use crate::sources::snmp::poller::profile::WalkedColumn;
use crate::sources::snmp::wire::Value;

/// A row: each column's value by the column's name.
pub type Row<'a> = BTreeMap<&'a str, Value>;

/// The rows of `columns` by instance, in OID order.
pub fn rows(columns: Vec<WalkedColumn<'_>>) -> BTreeMap<Vec<u32>, Row<'_>> {
    let mut rows: BTreeMap<Vec<u32>, Row<'_>> = BTreeMap::new();
    for column in columns {
        let prefix = column.oid.arcs();
        for varbind in column.varbinds {
            if varbind.value.is_exception() {
                continue;
            }
            let Some(instance) = varbind.oid.arcs().strip_prefix(prefix) else {
                continue;
            };
            if instance.is_empty() {
                continue;
            }
            rows.entry(instance.to_vec())
                .or_default()
                .insert(column.name, varbind.value);
        }
    }
    rows
}

/// An instance as records write it: `3`, `10.0.0.1`, `1.4.101`.
pub fn dotted(instance: &[u32]) -> String {
    let parts: Vec<String> = instance.iter().map(ToString::to_string).collect();
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::{Oid, VarBind};

    fn oid(text: &str) -> Oid {
        text.parse().unwrap()
    }

    fn varbind(text: &str, value: Value) -> VarBind {
        VarBind::new(oid(text), value)
    }

    #[test]
    fn columns_become_rows_by_instance() {
        let descr = oid("1.3.6.1.2.1.2.2.1.2");
        let status = oid("1.3.6.1.2.1.2.2.1.8");
        let columns = vec![
            WalkedColumn {
                oid: &descr,
                name: "ifDescr",
                varbinds: vec![
                    varbind("1.3.6.1.2.1.2.2.1.2.1", Value::OctetString(b"lo".to_vec())),
                    varbind("1.3.6.1.2.1.2.2.1.2.2", Value::OctetString(b"eth0".to_vec())),
                    // Outside its column, and the column itself: neither is a row.
                    varbind("1.3.6.1.2.1.2.2.1.3.1", Value::Integer(24)),
                    varbind("1.3.6.1.2.1.2.2.1.2", Value::Null),
                ],
            },
            WalkedColumn {
                oid: &status,
                name: "ifOperStatus",
                varbinds: vec![
                    varbind("1.3.6.1.2.1.2.2.1.8.2", Value::Integer(1)),
                    varbind("1.3.6.1.2.1.2.2.1.8.1", Value::NoSuchInstance),
                    varbind("1.3.6.1.2.1.2.2.1.8.10.1", Value::Integer(2)),
                ],
            },
        ];
        let rows = rows(columns);
        let instances: Vec<String> = rows.keys().map(|instance| dotted(instance)).collect();
        assert_eq!(instances, ["1", "2", "10.1"]);
        assert_eq!(rows[&[1_u32][..]].len(), 1, "the exception is left out");
        assert_eq!(
            rows[&[2_u32][..]]["ifDescr"],
            Value::OctetString(b"eth0".to_vec())
        );
        assert_eq!(rows[&[2_u32][..]]["ifOperStatus"], Value::Integer(1));
        assert_eq!(rows[&[10_u32, 1][..]]["ifOperStatus"], Value::Integer(2));
    }
}
