//! What a poller polls: [`Target`]s written as `host[:port]` (in `targets` or, one a line, in
//! `targets_file`), and the inventory's devices an [`InventorySelection`] picks.
//!
//! A name is resolved at each poll (as a DNS change would be seen by anyone polling it), an address is used
//! as written; the port defaults to SNMP's 161.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::device_identity::DeviceIdentity;

/// SNMP's port (RFC 3417).
pub const DEFAULT_PORT: u16 = 161;

/// One agent to poll.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub host: Host,
    pub port: u16,
}

/// An address, or a name to resolve at each poll.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    Address(IpAddr),
    Name(String),
}

impl Target {
    pub fn address(address: IpAddr, port: u16) -> Self {
        Self {
            host: Host::Address(address.to_canonical()),
            port,
        }
    }

    /// `host[:port]`: an IPv4 address, an IPv6 address (in brackets when a port follows) or a DNS name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (host, port) = split_port(text)?;
        let port = match port {
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| format!("{text:?}: the port {port:?} is not a number from 1 to 65535"))?,
            None => DEFAULT_PORT,
        };
        if let Ok(address) = host.parse::<IpAddr>() {
            return Ok(Self::address(address, port));
        }
        if !is_host_name(host) {
            return Err(format!(
                "{text:?} is no address or host name; write HOST or HOST:PORT (127.0.0.1:16161, \
                 [2001:db8::1]:161, core1.example.net)"
            ));
        }
        Ok(Self {
            host: Host::Name(host.to_ascii_lowercase()),
            port,
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Address(address) => write!(formatter, "{}", SocketAddr::new(*address, self.port)),
            Host::Name(name) => write!(formatter, "{name}:{}", self.port),
        }
    }
}

/// The host and the port text: `[v6]:port`, `[v6]`, a bare IPv6 address (no port), `host:port` or `host`.
fn split_port(text: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(format!("{text:?}: a '[' without its ']'"));
        };
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("{text:?}: write [ADDRESS]:PORT")),
            },
        };
    }
    match text.matches(':').count() {
        0 => Ok((text, None)),
        1 => Ok(text
            .split_once(':')
            .map(|(host, port)| (host, Some(port)))
            .unwrap_or((text, None))),
        // Several colons and no brackets: an IPv6 address alone.
        _ => Ok((text, None)),
    }
}

/// Letters, digits, '-', '_' and dots between labels (RFC 1123, with the underscore some inventories use).
fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_'))
        })
}

/// `targets_file`: one target a line; blank lines and `#` comments (whole lines or after a target) skipped.
/// The error names the line.
pub fn parse_targets_file(text: &str) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let target = Target::parse(content).map_err(|reason| format!("line {}: {reason}", index + 1))?;
        targets.push(target);
    }
    Ok(targets)
}

/// `inventory = { sites, roles, tags, port }`: which of `[inventory] file`'s devices to poll, each at its
/// address. A list left out selects all; a device must match every list given (any of a list's values).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InventorySelection {
    pub sites: Vec<String>,
    pub roles: Vec<String>,
    /// Any one of these tags.
    pub tags: Vec<String>,
    pub port: u16,
}

impl InventorySelection {
    pub fn selects(&self, device: &DeviceIdentity) -> bool {
        let listed = |list: &[String], value: Option<&String>| {
            list.is_empty() || value.is_some_and(|value| list.contains(value))
        };
        listed(&self.sites, device.site.as_ref())
            && listed(&self.roles, device.role.as_ref())
            && (self.tags.is_empty() || device.tags.iter().any(|tag| self.tags.contains(tag)))
    }

    /// The targets of the devices selected.
    pub fn targets(&self, devices: &[(IpAddr, Arc<DeviceIdentity>)]) -> Vec<Target> {
        devices
            .iter()
            .filter(|(_, device)| self.selects(device))
            .map(|(address, _)| Target::address(*address, self.port))
            .collect()
    }

    /// What it selects, for `check -c`: `inventory (site madrid, role core)`.
    pub fn describe(&self) -> String {
        let mut filters = Vec::new();
        for (what, list) in [("site", &self.sites), ("role", &self.roles), ("tag", &self.tags)] {
            if !list.is_empty() {
                filters.push(format!("{what} {}", list.join("|")));
            }
        }
        if filters.is_empty() {
            "the inventory's devices".to_owned()
        } else {
            format!("the inventory's devices ({})", filters.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(text: &str) -> String {
        Target::parse(text)
            .map(|target| target.to_string())
            .unwrap_or_else(|error| error)
    }

    #[test]
    fn hosts_with_and_without_ports() {
        assert_eq!(target("127.0.0.1:16161"), "127.0.0.1:16161");
        assert_eq!(target("10.0.0.1"), "10.0.0.1:161");
        assert_eq!(target(" Core1.Example.NET "), "core1.example.net:161");
        assert_eq!(target("core1.example.net:1161"), "core1.example.net:1161");
        assert_eq!(target("[2001:db8::1]:1161"), "[2001:db8::1]:1161");
        assert_eq!(target("[2001:db8::1]"), "[2001:db8::1]:161");
        assert_eq!(target("2001:db8::1"), "[2001:db8::1]:161");
        assert_eq!(target("::ffff:10.0.0.1"), "10.0.0.1:161");
    }

    #[test]
    fn bad_targets_say_how_to_write_one() {
        for bad in [
            "",
            "core1:0",
            "core1:70000",
            "core1:snmp",
            "under score!",
            "a..b",
            "[2001:db8::1",
            "[::1]x",
        ] {
            let error = Target::parse(bad).unwrap_err();
            assert!(error.contains(&format!("{:?}", bad.trim())), "{bad}: {error}");
        }
        assert!(target("core1:x").contains("not a number from 1 to 65535"));
        assert!(target("no spaces please").contains("HOST:PORT"));
    }

    #[test]
    fn a_targets_file_skips_comments_and_names_a_bad_line() {
        let text = "# core\n10.0.0.1\n\n  10.0.0.2:1161   # lab\ncore1.example.net\n";
        let targets = parse_targets_file(text).unwrap();
        let shown: Vec<String> = targets.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.1:161", "10.0.0.2:1161", "core1.example.net:161"]);
        let error = parse_targets_file("10.0.0.1\nbad host\n").unwrap_err();
        assert!(error.starts_with("line 2: \"bad host\""), "{error}");
    }

    #[test]
    fn the_inventory_selection_matches_every_list_given() {
        let device = |site: &str, role: &str, tags: &[&str]| DeviceIdentity {
            site: Some(site.to_owned()),
            role: Some(role.to_owned()),
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            ..DeviceIdentity::default()
        };
        let devices = vec![
            (
                "10.0.0.1".parse().unwrap(),
                Arc::new(device("madrid", "core", &["dc"])),
            ),
            (
                "10.0.0.2".parse().unwrap(),
                Arc::new(device("madrid", "access", &[])),
            ),
            (
                "10.0.0.3".parse().unwrap(),
                Arc::new(device("paris", "core", &["dc", "edge"])),
            ),
            ("10.0.0.4".parse().unwrap(), Arc::new(DeviceIdentity::default())),
        ];
        let all = InventorySelection {
            port: 161,
            ..InventorySelection::default()
        };
        assert_eq!(all.targets(&devices).len(), 4);
        assert_eq!(all.describe(), "the inventory's devices");
        let madrid_core = InventorySelection {
            sites: vec!["madrid".to_owned()],
            roles: vec!["core".to_owned()],
            port: 16161,
            ..InventorySelection::default()
        };
        let shown: Vec<String> = madrid_core
            .targets(&devices)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["10.0.0.1:16161"]);
        assert_eq!(
            madrid_core.describe(),
            "the inventory's devices (site madrid, role core)"
        );
        let edge_or_dc = InventorySelection {
            tags: vec!["edge".to_owned(), "dc".to_owned()],
            port: 161,
            ..InventorySelection::default()
        };
        let shown: Vec<String> = edge_or_dc
            .targets(&devices)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["10.0.0.1:161", "10.0.0.3:161"]);
    }
}
