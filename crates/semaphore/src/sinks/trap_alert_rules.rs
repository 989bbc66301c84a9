//! SNMP trap alert rules: what an `snmp.trap/1` record is to a rule (the notification that fires its alert,
//! the one that resolves it, or neither), the rule in words, and what its events say of the trap (pure: no
//! I/O). What the traps do over time is the evaluator's ([`crate::sinks::trap_alert_evaluator`]).
//!
//! A rule holds its notifications as dotted OIDs, as records write `trapOid`: a name from the built-in MIB
//! (`linkDown`) is turned into its OID when the config is read, so a v1 trap (whose record carries the
//! RFC 3584 identity) and an SNMPv2 one match alike, and `linkDown` and `1.3.6.1.6.3.1.1.5.3` are one rule.

use chrono::TimeDelta;

use crate::record::{SnmpAlert, SnmpTrapRecord};
use crate::sinks::syslog_alert_rules::IpNetwork;
use crate::sources::snmp::mib;
use crate::sources::snmp::wire::Oid;

/// A validated `[[sinks.alerts.trap_rule]]`.
#[derive(Clone, Debug)]
pub struct TrapRule {
    pub name: String,
    /// The notification that fires the alert, dotted (`1.3.6.1.6.3.1.1.5.3`).
    pub trap: String,
    pub resolution: TrapResolution,
    /// Senders: addresses or networks; empty: any sender.
    pub source_ips: Vec<IpNetwork>,
}

/// How a trap alert ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapResolution {
    /// On this notification (dotted) from the same device for the same `ifIndex`: `linkUp` for `linkDown`.
    Trap(String),
    /// This long after the last matching trap: the alert is an event that clears itself.
    After(TimeDelta),
}

/// What one trap is to one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapRole {
    Fires,
    Resolves,
}

impl TrapRule {
    /// Whether the trap fires or resolves this rule's alert, or neither (another notification, another
    /// sender, or no `snmpTrapOID` at all).
    pub fn role(&self, record: &SnmpTrapRecord) -> Option<TrapRole> {
        let oid = record.trap_oid.as_deref()?;
        if !self.sender_matches(record) {
            return None;
        }
        if oid == self.trap {
            return Some(TrapRole::Fires);
        }
        match &self.resolution {
            TrapResolution::Trap(resolving) if resolving == oid => Some(TrapRole::Resolves),
            _ => None,
        }
    }

    /// The rule in words, carried in every event: `trap linkDown, resolved by linkUp for the same ifIndex`.
    pub fn condition(&self) -> String {
        let trap = notification_label(&self.trap);
        let mut condition = match &self.resolution {
            TrapResolution::Trap(resolving) => format!(
                "trap {trap}, resolved by {} for the same ifIndex",
                notification_label(resolving)
            ),
            TrapResolution::After(after) => {
                format!("trap {trap}, resolved {} s after the last", after.num_seconds())
            }
        };
        if !self.source_ips.is_empty() {
            let networks: Vec<String> = self.source_ips.iter().map(IpNetwork::to_string).collect();
            condition.push_str(&format!(", from {}", networks.join(" or ")));
        }
        condition
    }

    /// What an event of this rule says about the trap that decided it.
    pub fn alert_of(&self, record: &SnmpTrapRecord) -> SnmpAlert {
        SnmpAlert {
            address: record.source_ip,
            trap_oid: record.trap_oid.clone(),
            trap_name: record.trap_name.clone(),
            if_index: record.if_index,
            if_name: record.if_name.clone(),
            metric: None,
            resolve_after_seconds: match &self.resolution {
                TrapResolution::Trap(_) => None,
                TrapResolution::After(after) => Some(after.num_seconds().unsigned_abs()),
            },
        }
    }

    fn sender_matches(&self, record: &SnmpTrapRecord) -> bool {
        let sender = record.source_ip;
        self.source_ips.is_empty() || self.source_ips.iter().any(|network| network.contains(sender))
    }
}

/// A well-known notification by its name (`linkDown`), any other by its OID.
fn notification_label(oid: &str) -> String {
    oid.parse::<Oid>()
        .ok()
        .and_then(|parsed| mib::trap_name(&parsed))
        .map_or_else(|| oid.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::snmp_trap;

    const LINK_DOWN: &str = "1.3.6.1.6.3.1.1.5.3";
    const LINK_UP: &str = "1.3.6.1.6.3.1.1.5.4";

    fn link_rule() -> TrapRule {
        TrapRule {
            name: "link".into(),
            trap: LINK_DOWN.into(),
            resolution: TrapResolution::Trap(LINK_UP.into()),
            source_ips: Vec::new(),
        }
    }

    fn trap(oid: Option<&str>) -> SnmpTrapRecord {
        SnmpTrapRecord {
            trap_oid: oid.map(str::to_owned),
            ..snmp_trap::sample()
        }
    }

    #[test]
    fn the_firing_and_the_resolving_notification_and_nothing_else() {
        let rule = link_rule();
        assert_eq!(rule.role(&trap(Some(LINK_DOWN))), Some(TrapRole::Fires));
        assert_eq!(rule.role(&trap(Some(LINK_UP))), Some(TrapRole::Resolves));
        assert_eq!(rule.role(&trap(Some("1.3.6.1.6.3.1.1.5.1"))), None);
        assert_eq!(rule.role(&trap(None)), None);
        let one_shot = TrapRule {
            resolution: TrapResolution::After(TimeDelta::seconds(300)),
            ..link_rule()
        };
        assert_eq!(one_shot.role(&trap(Some(LINK_UP))), None);
    }

    #[test]
    fn senders_outside_the_networks_are_not_the_rules() {
        let rule = TrapRule {
            source_ips: vec![IpNetwork::parse("192.0.2.0/24").unwrap()],
            ..link_rule()
        };
        assert_eq!(
            rule.role(&trap(Some(LINK_DOWN))),
            None,
            "the sample's sender is 10.0.0.1"
        );
        let inside = TrapRule {
            source_ips: vec![IpNetwork::parse("10.0.0.0/8").unwrap()],
            ..link_rule()
        };
        assert_eq!(inside.role(&trap(Some(LINK_DOWN))), Some(TrapRole::Fires));
        assert_eq!(
            inside.condition(),
            "trap linkDown, resolved by linkUp for the same ifIndex, from 10.0.0.0/8"
        );
    }

    #[test]
    fn condition_names_well_known_notifications() {
        let enterprise = TrapRule {
            trap: "1.3.6.1.4.1.9.9.41.2.0.1".into(),
            resolution: TrapResolution::After(TimeDelta::seconds(600)),
            ..link_rule()
        };
        assert_eq!(
            enterprise.condition(),
            "trap 1.3.6.1.4.1.9.9.41.2.0.1, resolved 600 s after the last"
        );
    }

    #[test]
    fn the_event_says_the_trap_and_its_interface() {
        let alert = link_rule().alert_of(&snmp_trap::sample());
        assert_eq!(alert.address.to_string(), "10.0.0.1");
        assert_eq!(alert.trap_name.as_deref(), Some("linkDown"));
        assert_eq!(alert.trap_oid.as_deref(), Some(LINK_DOWN));
        assert_eq!(
            (alert.if_index, alert.if_name.as_deref()),
            (Some(2), Some("Gi0/2"))
        );
        assert_eq!((alert.metric, alert.resolve_after_seconds), (None, None));
    }
}
