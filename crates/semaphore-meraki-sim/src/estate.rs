//! The simulated estate: organizations, networks, MX appliances and their uplinks, generated from a seed.
//!
//! Appliances are spread round-robin over their organization's networks. Clients are not stored: they are
//! generated per network on request (see `clients`), so a large estate costs memory only for its devices.

use std::collections::{BTreeMap, HashMap, HashSet};

use semaphore_meraki::model::{
    BeaconIdParams, DdnsHostnames, Device, ManagementInterface, NameValue, Network, NetworkDevice,
    Organization, OrganizationApi, OrganizationCloud, OrganizationLicensing, OrganizationManagement,
    OrganizationRegion, UplinkStatus, UplinkStatuses, WanInterface,
};

use crate::noise::{hash, unit};

/// How big an estate to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EstateShape {
    pub seed: u64,
    pub organizations: usize,
    /// Networks per organization.
    pub networks: usize,
    /// MX appliances per organization.
    pub appliances: usize,
    pub clients_per_network: usize,
}

impl Default for EstateShape {
    fn default() -> Self {
        Self {
            seed: 1,
            organizations: 1,
            networks: 3,
            appliances: 6,
            clients_per_network: 20,
        }
    }
}

/// Most organizations in an estate.
pub const MAX_ORGANIZATIONS: usize = 10_000;
/// Most networks per organization.
pub const MAX_NETWORKS: usize = 100_000;
/// Most MX appliances per organization: far above the largest real organizations and the benchmarks' 50,000.
pub const MAX_APPLIANCES: usize = 1_000_000;
/// Most clients per network. Clients are generated for each request, so this bounds one answer's work.
pub const MAX_CLIENTS_PER_NETWORK: usize = 100_000;
/// Most networks and appliances of all organizations together ([`EstateShape::size`]). Each is held in memory
/// (about a kilobyte), so this keeps an estate within a few gigabytes; without a bound a mistyped size aborts
/// on an impossible allocation.
pub const MAX_ESTATE: usize = 2_000_000;

impl EstateShape {
    /// Networks and appliances of all organizations together, what the estate's memory is spent on. It
    /// saturates instead of overflowing, so an absurd shape compares as too large.
    pub fn size(&self) -> usize {
        self.organizations
            .saturating_mul(self.networks.max(1).saturating_add(self.appliances))
    }
}

/// The destination every simulated uplink probes; Meraki's default loss/latency target.
pub const PROBE_DESTINATION: &str = "8.8.8.8";
/// The uplinks every simulated MX has.
pub const UPLINKS: [&str; 2] = ["wan1", "wan2"];

const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Berlin", "Europe/Berlin", 52.52, 13.40),
    ("Chicago", "America/Chicago", 41.88, -87.63),
    ("London", "Europe/London", 51.51, -0.13),
    ("Madrid", "Europe/Madrid", 40.42, -3.70),
    ("Mumbai", "Asia/Kolkata", 19.08, 72.88),
    ("New York", "America/New_York", 40.71, -74.01),
    ("Paris", "Europe/Paris", 48.86, 2.35),
    ("San Jose", "America/Los_Angeles", 37.34, -121.89),
    ("Sao Paulo", "America/Sao_Paulo", -23.55, -46.63),
    ("Singapore", "Asia/Singapore", 1.35, 103.82),
    ("Sydney", "Australia/Sydney", -33.87, 151.21),
    ("Tokyo", "Asia/Tokyo", 35.68, 139.69),
    ("Toronto", "America/Toronto", 43.65, -79.38),
    ("Warsaw", "Europe/Warsaw", 52.23, 21.01),
];
const SITE_KINDS: &[&str] = &["Branch", "Store", "Office", "Clinic", "Warehouse", "Campus"];
const ORG_NAMES: &[&str] = &[
    "Acme Retail",
    "Globex Health",
    "Initech",
    "Umbrella Logistics",
    "Stark Industries",
];
const MX_MODELS: &[&str] = &[
    "MX64", "MX67", "MX68", "MX75", "MX85", "MX95", "MX105", "MX250", "MX450",
];
const SERIAL_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// One simulated MX appliance with what the simulator needs to answer about it.
#[derive(Clone, Debug)]
pub struct Appliance {
    pub organization_id: String,
    pub device: Device,
    pub wan_ips: [String; 2],
    pub ddns: DdnsHostnames,
    pub last_reported_at: chrono::DateTime<chrono::Utc>,
}

/// The whole generated estate, with indexes for the lookups the API needs.
#[derive(Debug)]
pub struct Estate {
    pub shape: EstateShape,
    pub organizations: Vec<Organization>,
    /// Networks per organization id, sorted by id (the pagination order).
    pub networks: HashMap<String, Vec<Network>>,
    /// Appliances per organization id, sorted by serial (the pagination order).
    pub appliances: HashMap<String, Vec<Appliance>>,
    network_index: HashMap<String, (String, usize)>,
    serial_index: HashMap<String, (String, usize)>,
}

impl Estate {
    pub fn generate(shape: EstateShape) -> Self {
        let seed = shape.seed;
        let mut organizations = Vec::new();
        let mut networks = HashMap::new();
        let mut appliances = HashMap::new();
        let mut used_serials = HashSet::new();
        let started =
            chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("constant timestamp is valid");
        for organization_index in 0..shape.organizations {
            let organization_id =
                (500_000 + hash(seed, &[&"org"]) % 100_000 * 10 + organization_index as u64).to_string();
            let base_name = ORG_NAMES[organization_index % ORG_NAMES.len()];
            let name = if organization_index < ORG_NAMES.len() {
                base_name.to_owned()
            } else {
                format!("{base_name} {}", organization_index / ORG_NAMES.len() + 1)
            };
            organizations.push(Organization {
                id: organization_id.clone(),
                name,
                url: Some(format!(
                    "https://n1.meraki.com/o/{organization_id}/manage/organization/overview"
                )),
                api: Some(OrganizationApi { enabled: true }),
                licensing: Some(OrganizationLicensing {
                    model: "co-term".into(),
                }),
                cloud: Some(OrganizationCloud {
                    region: OrganizationRegion {
                        name: "North America".into(),
                    },
                }),
                management: Some(OrganizationManagement {
                    details: vec![NameValue {
                        name: "MSP ID".into(),
                        value: format!("{}", 100_000 + organization_index),
                    }],
                }),
            });
            let organization_networks: Vec<Network> = (0..shape.networks.max(1))
                .map(|network_index| generate_network(seed, &organization_id, network_index))
                .collect();
            let mut organization_appliances: Vec<Appliance> = (0..shape.appliances)
                .map(|appliance_index| {
                    let network = &organization_networks[appliance_index % organization_networks.len()];
                    let serial = unique_serial(seed, &organization_id, appliance_index, &mut used_serials);
                    generate_appliance(seed, &organization_id, network, appliance_index, serial, started)
                })
                .collect();
            let mut sorted_networks = organization_networks;
            sorted_networks.sort_by(|left, right| left.id.cmp(&right.id));
            organization_appliances.sort_by(|left, right| left.device.serial.cmp(&right.device.serial));
            networks.insert(organization_id.clone(), sorted_networks);
            appliances.insert(organization_id, organization_appliances);
        }
        let mut network_index = HashMap::new();
        for (organization_id, list) in &networks {
            for (position, network) in list.iter().enumerate() {
                network_index.insert(network.id.clone(), (organization_id.clone(), position));
            }
        }
        let mut serial_index = HashMap::new();
        for (organization_id, list) in &appliances {
            for (position, appliance) in list.iter().enumerate() {
                serial_index.insert(
                    appliance.device.serial.clone(),
                    (organization_id.clone(), position),
                );
            }
        }
        Self {
            shape,
            organizations,
            networks,
            appliances,
            network_index,
            serial_index,
        }
    }

    pub fn organization(&self, organization_id: &str) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|organization| organization.id == organization_id)
    }

    pub fn network(&self, network_id: &str) -> Option<&Network> {
        let (organization_id, position) = self.network_index.get(network_id)?;
        self.networks.get(organization_id).map(|list| &list[*position])
    }

    pub fn appliance(&self, serial: &str) -> Option<&Appliance> {
        let (organization_id, position) = self.serial_index.get(serial)?;
        self.appliances.get(organization_id).map(|list| &list[*position])
    }

    /// The organization a network id or serial belongs to (for the per-organization rate limit).
    pub fn organization_of(&self, network_id_or_serial: &str) -> Option<&str> {
        self.network_index
            .get(network_id_or_serial)
            .or_else(|| self.serial_index.get(network_id_or_serial))
            .map(|(organization_id, _)| organization_id.as_str())
    }

    /// Appliances of one network, by serial.
    pub fn network_appliances(&self, network: &Network) -> Vec<&Appliance> {
        self.appliances
            .get(&network.organization_id)
            .map(|list| {
                list.iter()
                    .filter(|appliance| appliance.device.network_id.as_deref() == Some(&network.id))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn network_device(&self, appliance: &Appliance) -> NetworkDevice {
        NetworkDevice {
            // This older operation does not report productType (see its example in Meraki's spec).
            device: Device {
                product_type: None,
                ..appliance.device.clone()
            },
            beacon_id_params: Some(BeaconIdParams {
                uuid: "00000000-0000-0000-0000-000000000000".into(),
                major: 5,
                minor: (hash(self.shape.seed, &[&appliance.device.serial, &"beacon"]) % 1000) as u32,
            }),
            floor_plan_id: Some(format!(
                "g_{}",
                hash(self.shape.seed, &[&appliance.device.serial]) % 10_000_000
            )),
        }
    }

    pub fn management_interface(&self, appliance: &Appliance) -> ManagementInterface {
        let static_wan1 = hash(self.shape.seed, &[&appliance.device.serial, &"static"]).is_multiple_of(3);
        let wan1 = if static_wan1 {
            WanInterface {
                wan_enabled: Some("enabled".into()),
                using_static_ip: Some(true),
                static_ip: Some(appliance.wan_ips[0].clone()),
                static_subnet_mask: Some("255.255.255.248".into()),
                static_gateway_ip: Some(gateway_of(&appliance.wan_ips[0])),
                static_dns: vec!["8.8.8.8".into(), "1.1.1.1".into()],
                vlan: None,
            }
        } else {
            WanInterface {
                wan_enabled: Some("enabled".into()),
                using_static_ip: Some(false),
                ..Default::default()
            }
        };
        let wan2 = WanInterface {
            wan_enabled: Some("enabled".into()),
            using_static_ip: Some(false),
            ..Default::default()
        };
        ManagementInterface {
            ddns_hostnames: Some(appliance.ddns.clone()),
            wan1: Some(wan1),
            wan2: Some(wan2),
        }
    }

    /// Uplink statuses; `appliance_flavour` adds `highAvailability`, as the appliance-specific operation does.
    pub fn uplink_statuses(&self, appliance: &Appliance, appliance_flavour: bool) -> UplinkStatuses {
        let uplinks = UPLINKS
            .iter()
            .zip(&appliance.wan_ips)
            .map(|(interface, ip)| UplinkStatus {
                interface: (*interface).into(),
                status: if *interface == "wan1" {
                    "active".into()
                } else {
                    "ready".into()
                },
                ip: Some(ip.clone()),
                gateway: Some(gateway_of(ip)),
                public_ip: Some(ip.clone()),
                primary_dns: Some("8.8.8.8".into()),
                secondary_dns: Some("8.8.4.4".into()),
                ip_assigned_by: Some("dhcp".into()),
            })
            .collect();
        UplinkStatuses {
            network_id: appliance.device.network_id.clone().unwrap_or_default(),
            serial: appliance.device.serial.clone(),
            model: appliance.device.model.clone(),
            last_reported_at: Some(appliance.last_reported_at),
            high_availability: appliance_flavour.then(|| semaphore_meraki::model::HighAvailability {
                enabled: false,
                role: Some("primary".into()),
            }),
            uplinks,
        }
    }

    /// Counts by organization, for the start-up banner.
    pub fn summary(&self) -> BTreeMap<&str, (usize, usize)> {
        self.organizations
            .iter()
            .map(|organization| {
                let networks = self.networks.get(&organization.id).map_or(0, Vec::len);
                let appliances = self.appliances.get(&organization.id).map_or(0, Vec::len);
                (organization.id.as_str(), (networks, appliances))
            })
            .collect()
    }
}

fn generate_network(seed: u64, organization_id: &str, network_index: usize) -> Network {
    let (city, time_zone, _, _) =
        CITIES[(hash(seed, &[&organization_id, &(network_index as u64)]) % CITIES.len() as u64) as usize];
    let kind = SITE_KINDS[network_index % SITE_KINDS.len()];
    let id = format!(
        "L_{}",
        600_000_000_000_000u64
            + hash(seed, &[&organization_id, &"net", &(network_index as u64)]) % 100_000_000_000_000
    );
    let region = match time_zone.split('/').next() {
        Some("Europe" | "Asia" | "Australia") => "intl",
        _ => "amer",
    };
    Network {
        id: id.clone(),
        organization_id: organization_id.to_owned(),
        name: format!("{city} {kind} {}", network_index + 1),
        product_types: vec!["appliance".into(), "switch".into(), "wireless".into()],
        time_zone: Some(time_zone.to_owned()),
        tags: vec![kind.to_ascii_lowercase(), region.to_owned()],
        enrollment_string: None,
        url: Some(format!(
            "https://n1.meraki.com/{}/n/{id}/manage/usage/list",
            city.replace(' ', "-").to_ascii_lowercase()
        )),
        notes: Some(format!("{kind} site in {city}")),
        is_bound_to_config_template: false,
    }
}

fn unique_serial(
    seed: u64,
    organization_id: &str,
    appliance_index: usize,
    used: &mut HashSet<String>,
) -> String {
    let mut salt = 0u64;
    loop {
        let value = hash(
            seed,
            &[&organization_id, &"serial", &(appliance_index as u64), &salt],
        );
        let characters: String = (0..10)
            .map(|position| SERIAL_ALPHABET[((value >> (position * 5)) & 31) as usize] as char)
            .collect();
        let serial = format!(
            "Q2{}-{}-{}",
            &characters[0..2],
            &characters[2..6],
            &characters[6..10]
        );
        if used.insert(serial.clone()) {
            return serial;
        }
        salt += 1;
    }
}

fn generate_appliance(
    seed: u64,
    organization_id: &str,
    network: &Network,
    appliance_index: usize,
    serial: String,
    started: chrono::DateTime<chrono::Utc>,
) -> Appliance {
    let value = hash(seed, &[&serial]);
    let model = MX_MODELS[(value % MX_MODELS.len() as u64) as usize];
    let city = network.name.split_whitespace().next().unwrap_or("Site");
    let (_, _, lat, lng) = CITIES
        .iter()
        .find(|(name, ..)| name.starts_with(city))
        .copied()
        .unwrap_or(CITIES[0]);
    let octet = |shift: u32| (value >> shift) as u8;
    let wan_ips = [
        format!("203.0.{}.{}", octet(8) % 200 + 1, octet(16) % 250 + 2),
        format!("198.51.{}.{}", octet(24) % 200 + 1, octet(32) % 250 + 2),
    ];
    let slug: String = network
        .name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let host = format!("{slug}-{:04x}", value % 0x10000);
    let name = format!(
        "{} MX{}",
        network.name,
        appliance_index / 1000 + appliance_index % 1000 + 1
    );
    let spoke = !appliance_index.is_multiple_of(10);
    Appliance {
        organization_id: organization_id.to_owned(),
        device: Device {
            name: Some(name),
            lat: Some(lat + (unit(value) - 0.5) / 10.0),
            lng: Some(lng + (unit(value >> 7) - 0.5) / 10.0),
            address: Some(format!("{} Main Street, {city}", value % 900 + 100)),
            notes: Some(String::new()),
            tags: vec![if spoke { "spoke".into() } else { "hub".into() }, "sdwan".into()],
            network_id: Some(network.id.clone()),
            serial: serial.clone(),
            model: model.to_owned(),
            imei: None,
            mac: Some(format!(
                "e0:55:3d:{:02x}:{:02x}:{:02x}",
                octet(40),
                octet(48),
                octet(56)
            )),
            lan_ip: Some(format!(
                "10.{}.{}.1",
                appliance_index / 250 % 250,
                appliance_index % 250
            )),
            firmware: Some("wired-18-211".into()),
            product_type: Some("appliance".into()),
            details: vec![],
        },
        ddns: DdnsHostnames {
            active_ddns_hostname: Some(format!("{host}.dynamic-m.com")),
            ddns_hostname_wan1: Some(format!("{host}-1.dynamic-m.com")),
            ddns_hostname_wan2: Some(format!("{host}-2.dynamic-m.com")),
        },
        wan_ips,
        last_reported_at: started,
    }
}

fn gateway_of(ip: &str) -> String {
    match ip.rsplit_once('.') {
        Some((prefix, _)) => format!("{prefix}.1"),
        None => ip.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: the documented scale fits, an absurd one is too large instead of overflowing.
    #[test]
    fn estate_size_bounds_the_documented_scale_but_not_absurd_ones() {
        assert!(EstateShape::default().size() <= MAX_ESTATE);
        let benchmark = EstateShape {
            appliances: 50_000,
            ..EstateShape::default()
        };
        assert_eq!(benchmark.size(), 50_003);
        let largest_organization = EstateShape {
            networks: MAX_NETWORKS,
            appliances: MAX_APPLIANCES,
            ..EstateShape::default()
        };
        assert!(largest_organization.size() <= MAX_ESTATE);
        let no_networks = EstateShape {
            networks: 0,
            appliances: 0,
            ..EstateShape::default()
        };
        assert_eq!(no_networks.size(), 1, "0 networks means one");
        let absurd = EstateShape {
            organizations: usize::MAX,
            appliances: usize::MAX,
            ..EstateShape::default()
        };
        assert_eq!(absurd.size(), usize::MAX);
        let too_many_organizations = EstateShape {
            organizations: MAX_ORGANIZATIONS,
            appliances: 1_000,
            ..EstateShape::default()
        };
        assert!(too_many_organizations.size() > MAX_ESTATE);
    }

    #[test]
    fn same_seed_same_estate_and_unique_serials() {
        let shape = EstateShape {
            seed: 42,
            organizations: 2,
            networks: 5,
            appliances: 3000,
            clients_per_network: 1,
        };
        let first = Estate::generate(shape.clone());
        let second = Estate::generate(shape);
        assert_eq!(first.organizations, second.organizations);
        let organization_id = &first.organizations[1].id;
        assert_eq!(first.networks[organization_id], second.networks[organization_id]);
        assert_eq!(first.appliances[organization_id].len(), 3000);
        let serials: HashSet<_> = first
            .appliances
            .values()
            .flatten()
            .map(|a| a.device.serial.clone())
            .collect();
        assert_eq!(serials.len(), 6000);
        let appliance = &first.appliances[organization_id][17];
        assert_eq!(
            first.organization_of(&appliance.device.serial),
            Some(organization_id.as_str())
        );
        assert!(
            first
                .network(appliance.device.network_id.as_ref().unwrap())
                .is_some()
        );
        let other = Estate::generate(EstateShape {
            seed: 43,
            ..first.shape.clone()
        });
        assert_ne!(
            other.appliances.values().next().unwrap()[0].device.serial,
            first.appliances.values().next().unwrap()[0].device.serial
        );
    }
}
