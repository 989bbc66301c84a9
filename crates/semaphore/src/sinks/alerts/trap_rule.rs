//! `[[sinks.alerts.trap_rule]]`: an SNMP trap alert rule as written, and its validation into a [`TrapRule`].
//! Every mistake names the rule and the key (`sinks.alerts[0].trap_rule[0].trap: rule "port-down": …`).

use chrono::TimeDelta;
use serde::Deserialize;

use super::syslog_rule::networks;
use crate::config::ConfigError;
use crate::config::validation::{EMPTY_LIST, Validation};
use crate::sinks::trap_alert_rules::{TrapResolution, TrapRule};
use crate::sources::snmp::mib;
use crate::sources::snmp::wire::Oid;

/// A trap alert without a resolving trap stays firing this long after the last matching trap: five
/// minutes, as a log alert's default window, so a trap repeated every few minutes stays one alert.
const DEFAULT_RESOLVE_AFTER_S: u64 = 300;

/// The longest a self-clearing trap alert fires after its trap: a day, as a log alert's longest window.
const MAX_RESOLVE_AFTER_S: u64 = 86_400;

/// `[[sinks.alerts.trap_rule]]`: a notification that fires an alert per device and interface, and what
/// resolves it: another notification for the same device and `ifIndex`, or time.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapRuleFile {
    /// Names the alert in events (unique within the sink, every kind of rule included).
    pub name: String,
    /// The notification that fires the alert: `coldStart`, `warmStart`, `linkDown`, `linkUp`,
    /// `authenticationFailure`, `egpNeighborLoss`, or any as a dotted OID (`1.3.6.1.4.1.9.9.41.2.0.1`).
    pub trap: String,
    /// The notification that resolves it when it comes from the same device for the same `ifIndex`
    /// (`linkUp`); without it the alert resolves `resolve_after_s` after the last matching trap.
    pub resolve_trap: Option<String>,
    /// Without `resolve_trap`: seconds the alert stays firing after the last matching trap (default 300).
    pub resolve_after_s: Option<u64>,
    /// Senders: addresses or networks (`10.0.0.0/8`).
    pub source_ip: Option<Vec<String>>,
}

/// Checks one rule; `key` names a key of this rule (`sinks.alerts[0].trap_rule[1].KEY`).
pub fn validate_trap_rule(
    rule: &TrapRuleFile,
    validation: &Validation<'_>,
    key: &dyn Fn(&str) -> String,
) -> Result<TrapRule, ConfigError> {
    if rule.name.is_empty() || rule.name.contains('/') {
        return Err(validation.invalid(key("name"), "must be non-empty and without '/'"));
    }
    let invalid =
        |name: &str, reason: String| validation.invalid(key(name), format!("rule {:?}: {reason}", rule.name));
    let trap = notification(&rule.trap).map_err(|reason| invalid("trap", reason))?;
    let resolving = rule
        .resolve_trap
        .as_deref()
        .map(notification)
        .transpose()
        .map_err(|reason| invalid("resolve_trap", reason))?;
    let resolution = match (resolving, rule.resolve_after_s) {
        (Some(resolving), None) if resolving == trap => {
            return Err(invalid("resolve_trap", "is the trap that fires the alert".into()));
        }
        (Some(resolving), None) => TrapResolution::Trap(resolving),
        (Some(_), Some(_)) => {
            return Err(invalid(
                "resolve_after_s",
                "set resolve_trap or resolve_after_s, not both".into(),
            ));
        }
        (None, seconds) => {
            let seconds = seconds.unwrap_or(DEFAULT_RESOLVE_AFTER_S);
            if !(1..=MAX_RESOLVE_AFTER_S).contains(&seconds) {
                return Err(invalid(
                    "resolve_after_s",
                    format!("must be 1 to {MAX_RESOLVE_AFTER_S} seconds"),
                ));
            }
            TrapResolution::After(TimeDelta::seconds(seconds as i64))
        }
    };
    let source_ips = match &rule.source_ip {
        None => Vec::new(),
        Some(texts) if texts.is_empty() => return Err(invalid("source_ip", EMPTY_LIST.into())),
        Some(texts) => networks(texts).map_err(|reason| invalid("source_ip", reason))?,
    };
    Ok(TrapRule {
        name: rule.name.clone(),
        trap,
        resolution,
        source_ips,
    })
}

/// A notification as written, dotted as records write `trapOid`: a name the built-in MIB gives a
/// notification, or an OID (a leading dot allowed).
fn notification(text: &str) -> Result<String, String> {
    let named = mib::oid_of_name(text).filter(|oid| mib::trap_name(oid).is_some());
    match named {
        Some(oid) => Ok(oid.to_string()),
        None => text.parse::<Oid>().map(|oid| oid.to_string()).map_err(|_| {
            format!(
                "{text:?} is not a notification semaphore knows by name ({}) nor a dotted OID",
                mib::TRAP_NAMES.join(", ")
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_oids_are_one_notification() {
        assert_eq!(notification("linkDown"), Ok("1.3.6.1.6.3.1.1.5.3".to_owned()));
        assert_eq!(
            notification(".1.3.6.1.6.3.1.1.5.3"),
            Ok("1.3.6.1.6.3.1.1.5.3".to_owned())
        );
        assert_eq!(
            notification("1.3.6.1.4.1.9.9.41.2.0.1"),
            Ok("1.3.6.1.4.1.9.9.41.2.0.1".to_owned())
        );
        // A column has a built-in name too, but it is no notification.
        for wrong in ["ifOperStatus", "linkdown", "link-down", ""] {
            let reason = notification(wrong).unwrap_err();
            assert!(reason.contains("coldStart, warmStart, linkDown"), "{reason}");
        }
    }
}
