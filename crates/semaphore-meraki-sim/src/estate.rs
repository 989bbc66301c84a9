//! The simulated estate: organizations, networks, MX appliances and their uplinks, generated from a seed.
//!
//! Networks are laid out one of two ways (see [`EstateShape::networks`]). With an explicit count, the
//! appliances are spread round-robin over that many networks per organization, as tests and benchmarks
//! sized by network count expect. Sized to the appliances, the estate looks like a real one: mostly branches
//! with one MX, some with an HA pair, and now and then a hub or data centre with 4 to 8. Clients are not
//! stored: they are generated per network on request (see `clients`), so a large estate costs memory only for
//! its devices.

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
    /// Networks per organization, with the appliances spread round-robin over them; or
    /// [`SIZED_TO_APPLIANCES`] (0): as many as a real estate of that many appliances has. Then most networks
    /// are branches with one MX, about a quarter have an HA pair, and every 40th (the first included) is a hub
    /// or data centre with 4 to 8; there are never more networks than appliances (one empty network when
    /// there are no appliances).
    pub networks: usize,
    /// MX appliances per organization.
    pub appliances: usize,
    pub clients_per_network: usize,
}

/// [`EstateShape::networks`] asking for a real-looking estate: networks made to fit the appliances.
pub const SIZED_TO_APPLIANCES: usize = 0;

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
/// Most networks per organization, as an explicit count; sized to the appliances there are at most as many
/// as appliances.
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
    /// Networks and appliances of all organizations together, what the estate's memory is spent on; for
    /// networks sized to the appliances, their bound ([`EstateShape::networks_at_most`]). It saturates
    /// instead of overflowing, so an absurd shape compares as too large.
    pub fn size(&self) -> usize {
        self.organizations
            .saturating_mul(self.networks_at_most().saturating_add(self.appliances))
    }

    /// Networks per organization: the explicit count, or, sized to the appliances, one per appliance at most
    /// (and one when there are none). A bound, not the count: counting exactly would mean laying the estate
    /// out, which checking an absurd shape must not cost.
    pub fn networks_at_most(&self) -> usize {
        if self.networks == SIZED_TO_APPLIANCES {
            self.appliances.max(1)
        } else {
            self.networks
        }
    }
}

/// Counts over all organizations, for banners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub organizations: usize,
    pub networks: usize,
    pub appliances: usize,
    /// Two per MX ([`UPLINKS`]).
    pub uplinks: usize,
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
/// What the sized layout calls its hubs, in turn.
const HUB_KINDS: &[&str] = &["Hub", "Data Center"];
/// In the sized layout, every how many networks one is a hub (the first included, so even a small estate,
/// the demo's, shows one).
const HUB_EVERY: usize = 40;
/// In the sized layout, the share of sites (not hubs) with a single MX; the others have an HA pair.
const SINGLE_MX_SHARE: f64 = 0.72;
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
        let mut organizations = Vec::new();
        let mut networks = HashMap::new();
        let mut appliances = HashMap::new();
        // Serials are unique across organizations, as at Meraki.
        let mut used_serials = HashSet::new();
        for organization_index in 0..shape.organizations {
            let organization = generate_organization(shape.seed, organization_index);
            let (organization_networks, organization_appliances) =
                generate_sites(&shape, &organization.id, &mut used_serials);
            networks.insert(organization.id.clone(), organization_networks);
            appliances.insert(organization.id.clone(), organization_appliances);
            organizations.push(organization);
        }
        let network_index = index_by_id(&networks, |network: &Network| network.id.clone());
        let serial_index = index_by_id(&appliances, |appliance: &Appliance| {
            appliance.device.serial.clone()
        });
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

    /// Organizations, networks, appliances and uplinks over the whole estate, for the demo's banner: what was
    /// made, which for networks sized to the appliances only generating tells.
    pub fn totals(&self) -> Totals {
        let appliances: usize = self.appliances.values().map(Vec::len).sum();
        Totals {
            organizations: self.organizations.len(),
            networks: self.networks.values().map(Vec::len).sum(),
            appliances,
            uplinks: appliances * UPLINKS.len(),
        }
    }
}

/// Where each network or appliance of every organization's list sits, by its id (network id or serial).
fn index_by_id<T>(
    lists: &HashMap<String, Vec<T>>,
    id: impl Fn(&T) -> String,
) -> HashMap<String, (String, usize)> {
    let mut index = HashMap::new();
    for (organization_id, list) in lists {
        for (position, item) in list.iter().enumerate() {
            index.insert(id(item), (organization_id.clone(), position));
        }
    }
    index
}

fn generate_organization(seed: u64, organization_index: usize) -> Organization {
    let organization_id =
        (500_000 + hash(seed, &[&"org"]) % 100_000 * 10 + organization_index as u64).to_string();
    let base_name = ORG_NAMES[organization_index % ORG_NAMES.len()];
    let name = if organization_index < ORG_NAMES.len() {
        base_name.to_owned()
    } else {
        format!("{base_name} {}", organization_index / ORG_NAMES.len() + 1)
    };
    Organization {
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
    }
}

/// One organization's networks, sorted by id, and appliances, sorted by serial (the pagination orders), laid
/// out as the shape asks.
fn generate_sites(
    shape: &EstateShape,
    organization_id: &str,
    used_serials: &mut HashSet<String>,
) -> (Vec<Network>, Vec<Appliance>) {
    let seed = shape.seed;
    let (mut networks, placements) = if shape.networks == SIZED_TO_APPLIANCES {
        sized_layout(seed, organization_id, shape.appliances)
    } else {
        round_robin_layout(seed, organization_id, shape.networks, shape.appliances)
    };
    let started = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("constant timestamp is valid");
    let mut appliances: Vec<Appliance> = placements
        .iter()
        .enumerate()
        .map(|(appliance_index, placement)| {
            let serial = unique_serial(seed, organization_id, appliance_index, &mut *used_serials);
            let network = &networks[placement.network];
            generate_appliance(
                seed,
                organization_id,
                network,
                appliance_index,
                placement,
                serial,
                started,
            )
        })
        .collect();
    networks.sort_by(|left, right| left.id.cmp(&right.id));
    appliances.sort_by(|left, right| left.device.serial.cmp(&right.device.serial));
    (networks, appliances)
}

/// Where one appliance goes: its network (by position in the organization's list as generated), the number
/// its name ends with ("… MX2"), and whether it is tagged a hub (else a spoke).
#[derive(Clone, Copy, Debug)]
struct Placement {
    network: usize,
    number: usize,
    hub: bool,
}

/// What a network's name, time zone and tags are made of: "{city} {kind} {number}".
struct Site {
    city: &'static str,
    time_zone: &'static str,
    kind: &'static str,
    number: usize,
}

/// An explicit network count: the appliances spread round-robin over that many networks, named and tagged as
/// they always were (every tenth appliance a hub), so tests and benchmarks sized by network count keep their
/// estate.
fn round_robin_layout(
    seed: u64,
    organization_id: &str,
    count: usize,
    appliances: usize,
) -> (Vec<Network>, Vec<Placement>) {
    let networks: Vec<Network> = (0..count.max(1))
        .map(|network_index| {
            let (city, time_zone) = city_of(seed, organization_id, network_index);
            let kind = SITE_KINDS[network_index % SITE_KINDS.len()];
            let site = Site {
                city,
                time_zone,
                kind,
                number: network_index + 1,
            };
            generate_network(seed, organization_id, network_index, &site)
        })
        .collect();
    let placements = (0..appliances)
        .map(|appliance_index| Placement {
            network: appliance_index % networks.len(),
            number: appliance_index / 1000 + appliance_index % 1000 + 1,
            hub: appliance_index.is_multiple_of(10),
        })
        .collect();
    (networks, placements)
}

/// The real-looking layout: sites are opened one after another until every appliance has one (the last takes
/// what is left), each numbered within its city and kind ("Madrid Branch 12"), as an estate grown one site at
/// a time is. Organizations without appliances still get one (empty) network, as with an explicit count.
fn sized_layout(seed: u64, organization_id: &str, appliances: usize) -> (Vec<Network>, Vec<Placement>) {
    let mut numbers: HashMap<(&str, &str), usize> = HashMap::new();
    let mut networks: Vec<Network> = Vec::new();
    let mut placements: Vec<Placement> = Vec::with_capacity(appliances);
    while placements.len() < appliances || networks.is_empty() {
        let network_index = networks.len();
        let (city, time_zone) = city_of(seed, organization_id, network_index);
        let (kind, wanted, hub) = sized_site(seed, organization_id, network_index);
        let number = numbers.entry((city, kind)).or_insert(0);
        *number += 1;
        let site = Site {
            city,
            time_zone,
            kind,
            number: *number,
        };
        networks.push(generate_network(seed, organization_id, network_index, &site));
        let count = wanted.min(appliances - placements.len());
        placements.extend((0..count).map(|position| Placement {
            network: network_index,
            number: position + 1,
            hub,
        }));
    }
    (networks, placements)
}

/// The kind of the sized layout's network `network_index`, how many appliances it wants, and whether it is a
/// hub: every [`HUB_EVERY`]th a hub or data centre of 4 to 8 (a real head end runs several MX in concentrator
/// mode), the others a branch, store, office… with one MX or, in about a quarter, an HA pair.
fn sized_site(seed: u64, organization_id: &str, network_index: usize) -> (&'static str, usize, bool) {
    let index = network_index as u64;
    let size = hash(seed, &[&organization_id, &"size", &index]);
    if network_index.is_multiple_of(HUB_EVERY) {
        let kind = HUB_KINDS[network_index / HUB_EVERY % HUB_KINDS.len()];
        return (kind, 4 + (size % 5) as usize, true);
    }
    let kind_hash = hash(seed, &[&organization_id, &"kind", &index]);
    let kind = SITE_KINDS[(kind_hash % SITE_KINDS.len() as u64) as usize];
    let wanted = if unit(size) < SINGLE_MX_SHARE { 1 } else { 2 };
    (kind, wanted, false)
}

/// The city of network `network_index`, and its time zone.
fn city_of(seed: u64, organization_id: &str, network_index: usize) -> (&'static str, &'static str) {
    let (city, time_zone, _, _) =
        CITIES[(hash(seed, &[&organization_id, &(network_index as u64)]) % CITIES.len() as u64) as usize];
    (city, time_zone)
}

fn generate_network(seed: u64, organization_id: &str, network_index: usize, site: &Site) -> Network {
    let Site {
        city,
        time_zone,
        kind,
        number,
    } = *site;
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
        name: format!("{city} {kind} {number}"),
        product_types: vec!["appliance".into(), "switch".into(), "wireless".into()],
        time_zone: Some(time_zone.to_owned()),
        // Tags are single words at Meraki: "data-center".
        tags: vec![kind.to_ascii_lowercase().replace(' ', "-"), region.to_owned()],
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
    placement: &Placement,
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
    let name = format!("{} MX{}", network.name, placement.number);
    let spoke = !placement.hub;
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

    /// Issue 15: networks sized to the appliances are bounded by them, so the largest organization still fits
    /// and an absurd one is still too large; the banner's totals count what was made.
    #[test]
    fn sized_networks_are_bounded_by_the_appliances() {
        let sized = |appliances| EstateShape {
            networks: SIZED_TO_APPLIANCES,
            appliances,
            ..EstateShape::default()
        };
        assert_eq!(sized(0).size(), 1, "no appliances, one empty network");
        assert_eq!(sized(MAX_APPLIANCES).size(), MAX_ESTATE);
        assert_eq!(sized(usize::MAX).size(), usize::MAX);
        let empty = Estate::generate(sized(0)).totals();
        let expected = Totals {
            organizations: 1,
            networks: 1,
            appliances: 0,
            uplinks: 0,
        };
        assert_eq!(empty, expected);
        let demo = Estate::generate(sized(20)).totals();
        assert!(
            demo.networks < 20 && demo.appliances == 20 && demo.uplinks == 40,
            "{demo:?}"
        );
    }

    /// One organization's estate with networks sized to its appliances.
    fn sized_estate(seed: u64, appliances: usize) -> Estate {
        Estate::generate(EstateShape {
            seed,
            organizations: 1,
            networks: SIZED_TO_APPLIANCES,
            appliances,
            clients_per_network: 1,
        })
    }

    /// Every organization's appliances by network id.
    fn by_network(estate: &Estate) -> HashMap<&str, Vec<&Appliance>> {
        let mut by_network: HashMap<&str, Vec<&Appliance>> = HashMap::new();
        for appliance in estate.appliances.values().flatten() {
            let network_id = appliance
                .device
                .network_id
                .as_deref()
                .expect("every appliance has a network");
            by_network.entry(network_id).or_default().push(appliance);
        }
        by_network
    }

    /// Issue 15: at 5,000 appliances most networks hold one MX or an HA pair, every 40th is a hub of 4 to 8
    /// (the last network may be cut short), none holds more, and every appliance is in one of its
    /// organization's networks, none of which is empty.
    #[test]
    fn sized_networks_look_like_a_real_estate() {
        let estate = sized_estate(3, 5_000);
        let organization_id = &estate.organizations[0].id;
        let networks = estate.networks[organization_id].len();
        let by_network = by_network(&estate);
        assert_eq!(by_network.values().map(Vec::len).sum::<usize>(), 5_000);
        assert_eq!(by_network.len(), networks, "every network holds an appliance");
        assert!(by_network.keys().all(|id| {
            estate
                .network(id)
                .is_some_and(|network| &network.organization_id == organization_id)
        }));
        let sizes: Vec<usize> = by_network.values().map(Vec::len).collect();
        let count = |range: std::ops::RangeInclusive<usize>| {
            sizes.iter().filter(|size| range.contains(*size)).count()
        };
        assert_eq!(count(1..=8), networks, "none above 8: {sizes:?}");
        assert!(count(1..=1) * 100 >= networks * 65, "mostly one MX: {sizes:?}");
        assert!(
            count(1..=2) * 100 >= networks * 95,
            "mostly one or two: {sizes:?}"
        );
        let hubs = networks.div_ceil(HUB_EVERY);
        assert!(hubs >= 50, "{networks} networks");
        assert!(
            count(4..=8) + 1 >= hubs && count(4..=8) <= hubs,
            "{hubs} hubs: {sizes:?}"
        );
    }

    /// Issue 15: network names read like sites, numbered within their city and kind ("Madrid Branch 12",
    /// "Tokyo Data Center 1") and so unique in the organization, tagged with kind and region.
    #[test]
    fn sized_networks_are_named_like_sites() {
        let estate = sized_estate(3, 5_000);
        let by_network = by_network(&estate);
        let mut numbers: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for network in estate.networks.values().flatten() {
            let (site, number) = network.name.rsplit_once(' ').expect("a numbered site");
            let kind = *SITE_KINDS
                .iter()
                .chain(HUB_KINDS)
                .find(|kind| site.ends_with(&format!(" {kind}")))
                .expect("a known kind");
            let city = &site[..site.len() - kind.len() - 1];
            assert!(CITIES.iter().any(|(name, ..)| *name == city), "{}", network.name);
            assert_eq!(network.tags[0], kind.to_ascii_lowercase().replace(' ', "-"));
            numbers
                .entry((city, kind))
                .or_default()
                .push(number.parse().unwrap());
            let hub = HUB_KINDS.contains(&kind);
            check_appliances(network, &by_network[network.id.as_str()], hub);
        }
        assert!(numbers.keys().any(|(_, kind)| HUB_KINDS.contains(kind)));
        for ((city, kind), mut list) in numbers {
            list.sort_unstable();
            assert_eq!(list, (1..=list.len()).collect::<Vec<_>>(), "{city} {kind}");
        }
    }

    /// A network's appliances are "<network> MX1" to "MXn", tagged hub exactly when the network is one.
    fn check_appliances(network: &Network, appliances: &[&Appliance], hub: bool) {
        let mut names: Vec<&str> = appliances
            .iter()
            .map(|appliance| appliance.device.name.as_deref().unwrap())
            .collect();
        names.sort_unstable();
        let expected: Vec<String> = (1..=appliances.len())
            .map(|number| format!("{} MX{number}", network.name))
            .collect();
        assert_eq!(names, expected);
        let tag = if hub { "hub" } else { "spoke" };
        assert!(
            appliances.iter().all(|appliance| appliance.device.tags[0] == tag),
            "{}",
            network.name
        );
    }

    /// Every device of an estate, in a stable order.
    fn devices(estate: &Estate) -> Vec<&Device> {
        let mut devices: Vec<&Device> = estate.appliances.values().flatten().map(|a| &a.device).collect();
        devices.sort_by(|left, right| left.serial.cmp(&right.serial));
        devices
    }

    /// Issue 15: the same seed lays out the same sites and appliances; another seed, others.
    #[test]
    fn sized_networks_are_the_same_for_the_same_seed() {
        let first = sized_estate(9, 500);
        let second = sized_estate(9, 500);
        let organization_id = &first.organizations[0].id;
        assert_eq!(first.networks[organization_id], second.networks[organization_id]);
        assert_eq!(devices(&first), devices(&second));
        let other = sized_estate(10, 500);
        let names = |estate: &Estate| -> Vec<String> {
            let mut names: Vec<String> = estate
                .networks
                .values()
                .flatten()
                .map(|n| n.name.clone())
                .collect();
            names.sort_unstable();
            names
        };
        assert_ne!(names(&first), names(&other));
    }

    /// An explicit network count keeps the round-robin layout tests and benchmarks were written against:
    /// "<city> Branch 1", "Store 2", "Office 3", appliances MX1 to MXn over them in turn, every tenth a hub.
    #[test]
    fn an_explicit_network_count_spreads_appliances_round_robin() {
        let estate = Estate::generate(EstateShape {
            seed: 4,
            organizations: 1,
            networks: 3,
            appliances: 30,
            clients_per_network: 1,
        });
        let organization_id = &estate.organizations[0].id;
        let networks = &estate.networks[organization_id];
        for (index, kind) in SITE_KINDS[..3].iter().enumerate() {
            let suffix = format!(" {kind} {}", index + 1);
            assert!(
                networks.iter().any(|network| network.name.ends_with(&suffix)),
                "{networks:?}"
            );
        }
        assert!(by_network(&estate).values().all(|list| list.len() == 10));
        let appliances = &estate.appliances[organization_id];
        let mut numbers: Vec<usize> = appliances
            .iter()
            .map(|a| {
                a.device
                    .name
                    .as_deref()
                    .unwrap()
                    .rsplit_once(" MX")
                    .unwrap()
                    .1
                    .parse()
                    .unwrap()
            })
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=30).collect::<Vec<_>>());
        let hubs: Vec<&str> = appliances
            .iter()
            .filter(|a| a.device.tags[0] == "hub")
            .map(|a| a.device.name.as_deref().unwrap())
            .collect();
        assert_eq!(hubs.len(), 3);
        assert!(
            hubs.iter().any(|name| name.ends_with(" Branch 1 MX1")),
            "{hubs:?}"
        );
    }
}
