//! The cached inventory of one organization: network names and tags, device names, models and tags, and the
//! DDNS host names of each appliance's management interface. Records are enriched from it; it is refreshed on
//! its own, slower interval than the polls.
//!
//! Networks and devices cost one paginated call each per organization. DDNS host names cost one call per
//! appliance, so they are fetched in the background at a capped pace ([`Inventory::fill_ddns`]) that leaves
//! most of the organization's budget to the polls; records carry null host names until they are known.
//!
//! When the process's device directory wants Meraki's devices (a source looks senders up, see
//! `device_identity`), each refresh also reads the uplink statuses (one org-wide call) and feeds the
//! directory every device's LAN IP, uplink IPs and public IPs with its name, network and tags.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use semaphore_meraki::model::{DdnsHostnames, Network};
use semaphore_meraki::query::{DevicesQuery, NetworksQuery, UplinkStatusesQuery};
use semaphore_meraki::{Client, MerakiError};

use crate::device_identity::{DeviceDirectory, MerakiAddresses, meraki_feed};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkInfo {
    pub name: String,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceInfo {
    pub name: Option<String>,
    /// Shared among the devices of the same model, network and type (see [`Interned`]).
    pub model: Arc<str>,
    pub tags: Vec<String>,
    pub network_id: Option<Arc<str>>,
    pub product_type: Option<Arc<str>>,
    /// Boxed: most devices have none, and an organization can hold 50,000 of these.
    pub ddns: Option<Box<DdnsHostnames>>,
}

impl DeviceInfo {
    /// Appliances (MX, Z) and cellular gateways (MG): the devices with WAN uplinks.
    pub fn has_uplinks(&self) -> bool {
        matches!(
            self.product_type.as_deref(),
            Some("appliance" | "cellularGateway")
        ) || ["MX", "Z", "MG"]
            .iter()
            .any(|prefix| self.model.starts_with(prefix))
    }
}

/// Texts most devices share (a model, a network id, a product type), kept once: an organization can hold
/// 50,000 devices in a handful of models.
#[derive(Default)]
struct Interned(HashSet<Arc<str>>);

impl Interned {
    fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(known) = self.0.get(text) {
            return known.clone();
        }
        let text: Arc<str> = text.into();
        self.0.insert(text.clone());
        text
    }
}

#[derive(Clone, Debug, Default)]
struct Snapshot {
    networks: HashMap<String, NetworkInfo>,
    /// Shared, so a record's lookup copies a pointer, and the table's slots stay small for a large estate.
    devices: HashMap<Box<str>, Arc<DeviceInfo>>,
    loaded: bool,
}

/// Device addresses by serial, as read at a refresh.
type SerialAddresses = Vec<(Box<str>, IpAddr)>;

/// One organization's inventory, shared by the tasks of a source. A std `RwLock`: held only to copy or
/// replace entries, never across an await.
#[derive(Debug)]
pub struct Inventory {
    pub organization_id: String,
    snapshot: RwLock<Snapshot>,
    /// The process's device directory, fed after every refresh; `None` when it does not want Meraki's
    /// devices (then the uplink statuses are not read either).
    directory: Option<Arc<DeviceDirectory>>,
}

impl Inventory {
    pub fn new(organization_id: impl Into<String>) -> Self {
        Self {
            organization_id: organization_id.into(),
            snapshot: RwLock::default(),
            directory: None,
        }
    }

    /// Feeds `directory`, when there is one, with the organization's device addresses after every refresh.
    pub fn feeding(mut self, directory: Option<Arc<DeviceDirectory>>) -> Self {
        self.directory = directory;
        self
    }

    pub fn is_loaded(&self) -> bool {
        self.read().loaded
    }

    /// Reads networks and devices again (two paginated calls, and the uplink statuses when feeding a device
    /// directory); known DDNS host names are kept. Devices are kept page by page as they are read, only the
    /// fields records carry.
    pub async fn refresh(&self, client: &Client) -> Result<(), MerakiError> {
        let networks = client
            .organization_networks(&self.organization_id, &NetworksQuery::default())
            .await?;
        // A list while paging, hashed once at the end (into a table sized once).
        let mut devices = Vec::new();
        let mut interned = Interned::default();
        let feeding = self.directory.is_some();
        let mut lan_addresses = Vec::new();
        client
            .organization_devices_by_page(&self.organization_id, &DevicesQuery::default(), |page| {
                devices.extend(page.into_iter().map(|device| {
                    let serial = device.serial.into_boxed_str();
                    let lan_address = device.lan_ip.as_deref().and_then(meraki_feed::address);
                    if let Some(address) = lan_address.filter(|_| feeding) {
                        lan_addresses.push((serial.clone(), address));
                    }
                    let mut tags = device.tags;
                    tags.shrink_to_fit();
                    let info = DeviceInfo {
                        name: device.name,
                        model: interned.get(&device.model),
                        tags,
                        network_id: device.network_id.as_deref().map(|id| interned.get(id)),
                        product_type: device.product_type.as_deref().map(|kind| interned.get(kind)),
                        ddns: None,
                    };
                    (serial, info)
                }));
            })
            .await?;
        let uplink_addresses = if feeding {
            self.read_uplink_addresses(client).await
        } else {
            None
        };
        self.replace(devices, networks);
        if let Some(directory) = &self.directory {
            directory.feed_meraki(self.meraki_addresses(lan_addresses, uplink_addresses));
        }
        Ok(())
    }

    /// Puts what a refresh read in place of the old, keeping the DDNS host names already known.
    fn replace(&self, devices: Vec<(Box<str>, DeviceInfo)>, networks: Vec<Network>) {
        let mut snapshot = self.write();
        snapshot.devices = devices
            .into_iter()
            .map(|(serial, mut device)| {
                device.ddns = snapshot.devices.get(&serial).and_then(|known| known.ddns.clone());
                (serial, Arc::new(device))
            })
            .collect();
        snapshot.networks = networks
            .into_iter()
            .map(|network| {
                (
                    network.id,
                    NetworkInfo {
                        name: network.name,
                        tags: network.tags,
                    },
                )
            })
            .collect();
        snapshot.loaded = true;
    }

    /// Each uplink's IP and public IP by serial (one org-wide call, every page); `None` when they cannot be
    /// read, so the directory keeps the ones read before.
    async fn read_uplink_addresses(&self, client: &Client) -> Option<SerialAddresses> {
        let query = UplinkStatusesQuery::default();
        let statuses = client
            .organization_uplinks_statuses(&self.organization_id, &query)
            .await;
        match statuses {
            Ok(statuses) => Some(meraki_feed::uplink_addresses(&statuses)),
            Err(error) => {
                tracing::warn!(organization = %self.organization_id, %error, "Cannot read the uplink statuses; senders keep the uplink addresses read before.");
                None
            }
        }
    }

    /// The addresses a refresh read, each with its device's identity, for the device directory.
    fn meraki_addresses(&self, lan: SerialAddresses, uplinks: Option<SerialAddresses>) -> MerakiAddresses {
        let snapshot = self.read();
        let identity_of = |serial: &str| {
            let device = snapshot.devices.get(serial).map(|device| &**device);
            let network = device
                .and_then(|device| device.network_id.as_deref())
                .and_then(|network_id| snapshot.networks.get(network_id));
            meraki_feed::identity(serial, device, network)
        };
        let mut identities = HashMap::new();
        MerakiAddresses {
            organization_id: self.organization_id.clone(),
            lan: meraki_feed::identified(lan, &mut identities, identity_of),
            uplinks: uplinks.map(|uplinks| meraki_feed::identified(uplinks, &mut identities, identity_of)),
        }
    }

    /// Fetches the DDNS host names of appliances that have none yet, at most `per_second` calls a second,
    /// until every one is known or `stop` fires. Errors are logged and the device tried on the next pass.
    pub async fn fill_ddns(&self, client: &Client, per_second: f64, stop: &crate::shutdown::Stop) {
        let pending: Vec<String> = {
            let snapshot = self.read();
            snapshot
                .devices
                .iter()
                .filter(|(_, device)| device.has_uplinks() && device.ddns.is_none())
                .map(|(serial, _)| serial.to_string())
                .collect()
        };
        if pending.is_empty() {
            return;
        }
        tracing::info!(organization = %self.organization_id, appliances = pending.len(), per_second,
            "Reading DDNS host names in the background; records carry them once known.");
        let mut known = 0usize;
        let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second.max(0.01)));
        for serial in &pending {
            tokio::select! {
                _ = pace.tick() => {}
                () = stop.stopped() => return,
            }
            match client.device_management_interface(serial).await {
                Ok(interface) => {
                    let ddns = interface.ddns_hostnames.unwrap_or_default();
                    if let Some(device) = self.write().devices.get_mut(serial.as_str()) {
                        Arc::make_mut(device).ddns = Some(Box::new(ddns));
                        known += 1;
                    }
                }
                Err(error) => {
                    tracing::debug!(%serial, %error, "Cannot read the management interface; will try again.");
                }
            }
        }
        tracing::info!(organization = %self.organization_id, known, of = pending.len(), "DDNS host names read.");
    }

    pub fn network(&self, network_id: &str) -> Option<NetworkInfo> {
        self.read().networks.get(network_id).cloned()
    }

    pub fn device(&self, serial: &str) -> Option<Arc<DeviceInfo>> {
        self.read().devices.get(serial).cloned()
    }

    /// Networks by id, for sources that walk every network.
    pub fn networks(&self) -> Vec<(String, NetworkInfo)> {
        let mut networks: Vec<_> = self
            .read()
            .networks
            .iter()
            .map(|(id, info)| (id.clone(), info.clone()))
            .collect();
        networks.sort_by(|left, right| left.0.cmp(&right.0));
        networks
    }

    /// Devices with uplinks, by serial.
    pub fn uplink_devices(&self) -> Vec<(String, Arc<DeviceInfo>)> {
        let mut devices: Vec<_> = self
            .read()
            .devices
            .iter()
            .filter(|(_, device)| device.has_uplinks())
            .map(|(serial, info)| (serial.to_string(), info.clone()))
            .collect();
        devices.sort_by(|left, right| left.0.cmp(&right.0));
        devices
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Snapshot> {
        self.snapshot
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use semaphore_meraki::ApiKey;
    use semaphore_meraki_sim::SimConfig;

    use super::*;
    use crate::device_identity::StaticDevices;

    const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

    /// Issue 13: a refresh feeds the device directory each device's LAN IP and uplink addresses, named from
    /// the inventory, as read from the simulator over HTTP.
    #[tokio::test]
    async fn a_refresh_feeds_the_device_directory() {
        let simulator = semaphore_meraki_sim::spawn(SimConfig::default())
            .await
            .expect("the simulator starts");
        let client = Client::builder(ApiKey::new(KEY).expect("a valid key"))
            .base_url(simulator.base_url().parse().expect("a valid base URL"))
            .build()
            .expect("the client builds");
        let estate = &simulator.simulator.estate;
        let organization_id = estate.organizations[0].id.clone();
        let appliance = &estate.appliances[&organization_id][0];
        let device = &appliance.device;
        let network = estate.networks[&organization_id]
            .iter()
            .find(|network| device.network_id.as_ref() == Some(&network.id))
            .expect("the appliance's network");
        let directory = Arc::new(DeviceDirectory::new(Arc::new(StaticDevices::default()), true));
        let inventory = Inventory::new(organization_id.clone()).feeding(Some(directory.clone()));
        inventory.refresh(&client).await.expect("the inventory is read");

        let lan_ip = device.lan_ip.as_deref().expect("a LAN IP");
        let identity = directory
            .lookup(lan_ip.parse().unwrap())
            .expect("the LAN IP names the device");
        assert_eq!(identity.serial.as_deref(), Some(device.serial.as_str()));
        assert_eq!(identity.name, device.name);
        assert_eq!(identity.network_id, device.network_id);
        assert_eq!(identity.network_name.as_deref(), Some(network.name.as_str()));
        assert_eq!(identity.tags, device.tags);
        assert_eq!(identity.site, None);
        // The simulator's uplinks are on the public Internet: their IP is their public IP.
        let public = directory
            .lookup(appliance.wan_ips[1].parse().unwrap())
            .expect("the uplink's public IP names the device");
        assert!(Arc::ptr_eq(&identity, &public), "one identity per device");
    }
}
