//! Which samples a loss/latency source keeps: by network (id, name glob or `tag:NAME`), device model (glob),
//! device tag, uplink and destination IP. An empty list keeps everything; within a list any entry matches.
//! Organizations are chosen earlier, when the source lists them.

use glob::Pattern;

use crate::inventory::{DeviceInfo, NetworkInfo};

/// Compiled filters; built by config validation, so a bad glob is a config error.
#[derive(Clone, Debug, Default)]
pub struct UplinkFilter {
    pub networks: Vec<NetworkMatcher>,
    pub models: Vec<Pattern>,
    pub device_tags: Vec<String>,
    pub uplinks: Vec<String>,
    pub ips: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum NetworkMatcher {
    Id(String),
    Tag(String),
    Name(Pattern),
}

impl NetworkMatcher {
    /// `N_…`/`L_…` ids, `tag:NAME`, or a glob on the network name.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(tag) = text.strip_prefix("tag:") {
            return Ok(NetworkMatcher::Tag(tag.to_owned()));
        }
        if text.starts_with("N_") || text.starts_with("L_") {
            return Ok(NetworkMatcher::Id(text.to_owned()));
        }
        Pattern::new(text)
            .map(NetworkMatcher::Name)
            .map_err(|error| format!("{text:?} is not a valid glob: {error}"))
    }

    pub fn matches(&self, network_id: &str, network: Option<&NetworkInfo>) -> bool {
        match self {
            NetworkMatcher::Id(id) => id == network_id,
            NetworkMatcher::Tag(tag) => network.is_some_and(|network| network.tags.contains(tag)),
            NetworkMatcher::Name(pattern) => network.is_some_and(|network| pattern.matches(&network.name)),
        }
    }
}

impl UplinkFilter {
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
            && self.models.is_empty()
            && self.device_tags.is_empty()
            && self.uplinks.is_empty()
            && self.ips.is_empty()
    }

    /// The one uplink to ask Meraki for, when the filter names exactly one (fewer bytes on the wire).
    pub fn single_uplink(&self) -> Option<&str> {
        match self.uplinks.as_slice() {
            [uplink] => Some(uplink),
            _ => None,
        }
    }

    pub fn single_ip(&self) -> Option<&str> {
        match self.ips.as_slice() {
            [ip] => Some(ip),
            _ => None,
        }
    }

    pub fn keeps(
        &self,
        network_id: &str,
        network: Option<&NetworkInfo>,
        device: Option<&DeviceInfo>,
        uplink: &str,
        ip: &str,
    ) -> bool {
        (self.uplinks.is_empty() || self.uplinks.iter().any(|wanted| wanted == uplink))
            && (self.ips.is_empty() || self.ips.iter().any(|wanted| wanted == ip))
            && (self.networks.is_empty()
                || self
                    .networks
                    .iter()
                    .any(|matcher| matcher.matches(network_id, network)))
            && (self.models.is_empty()
                || device.is_some_and(|device| self.models.iter().any(|model| model.matches(&device.model))))
            && (self.device_tags.is_empty()
                || device.is_some_and(|device| device.tags.iter().any(|tag| self.device_tags.contains(tag))))
    }
}

/// The filter the lists of a source's table describe, each entry checked; `Err` names the key at fault.
pub fn from_lists(
    networks: &[String],
    models: &[String],
    device_tags: &[String],
    uplinks: &[String],
    ips: &[String],
) -> Result<UplinkFilter, (&'static str, String)> {
    for uplink in uplinks {
        uplink
            .parse::<semaphore_meraki::query::Uplink>()
            .map_err(|violation| ("uplinks", violation.reason))?;
    }
    for ip in ips {
        ip.parse::<std::net::IpAddr>()
            .map_err(|_| ("ips", format!("{ip:?} is not an IP address")))?;
    }
    Ok(UplinkFilter {
        networks: networks
            .iter()
            .map(|text| NetworkMatcher::parse(text))
            .collect::<Result<_, _>>()
            .map_err(|reason| ("networks", reason))?,
        models: models
            .iter()
            .map(|text| {
                glob::Pattern::new(text)
                    .map_err(|error| ("models", format!("{text:?} is not a valid glob: {error}")))
            })
            .collect::<Result<_, _>>()?,
        device_tags: device_tags.to_vec(),
        uplinks: uplinks.to_vec(),
        ips: ips.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_filter_narrows() {
        let network = NetworkInfo {
            name: "Branch 12".into(),
            tags: vec!["retail".into()],
        };
        let device = DeviceInfo {
            model: "MX68".into(),
            tags: vec!["critical".into()],
            ..Default::default()
        };
        let keeps =
            |filter: &UplinkFilter| filter.keeps("N_1", Some(&network), Some(&device), "wan1", "8.8.8.8");
        assert!(keeps(&UplinkFilter::default()));
        let by_network = |text: &str| UplinkFilter {
            networks: vec![NetworkMatcher::parse(text).unwrap()],
            ..Default::default()
        };
        assert!(keeps(&by_network("Branch*")));
        assert!(!keeps(&by_network("HQ*")));
        assert!(keeps(&by_network("N_1")));
        assert!(!keeps(&by_network("N_2")));
        assert!(keeps(&by_network("tag:retail")));
        assert!(!keeps(&by_network("tag:office")));
        let models = |glob: &str| UplinkFilter {
            models: vec![Pattern::new(glob).unwrap()],
            ..Default::default()
        };
        assert!(keeps(&models("MX6*")));
        assert!(!keeps(&models("MX8*")));
        assert!(!keeps(&UplinkFilter {
            device_tags: vec!["spare".into()],
            ..Default::default()
        }));
        assert!(!keeps(&UplinkFilter {
            uplinks: vec!["wan2".into()],
            ..Default::default()
        }));
        assert!(keeps(&UplinkFilter {
            ips: vec!["1.1.1.1".into(), "8.8.8.8".into()],
            ..Default::default()
        }));
        // A network the inventory does not know yet only passes a filter by id.
        assert!(!by_network("Branch*").keeps("N_1", None, None, "wan1", "8.8.8.8"));
        assert!(NetworkMatcher::parse("Branch[").is_err());
    }
}
