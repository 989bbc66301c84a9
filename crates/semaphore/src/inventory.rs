//! The cached inventory of one organization: network names and tags, device names, models and tags, and the
//! DDNS host names of each appliance's management interface. Records are enriched from it; it is refreshed on
//! its own, slower interval than the polls.
//!
//! Networks and devices cost one paginated call each per organization. DDNS host names cost one call per
//! appliance, so they are fetched in the background at a capped pace ([`Inventory::fill_ddns`]) that leaves
//! most of the organization's budget to the polls; records carry null host names until they are known.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use semaphore_meraki::model::DdnsHostnames;
use semaphore_meraki::query::{DevicesQuery, NetworksQuery};
use semaphore_meraki::{Client, MerakiError};

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

/// One organization's inventory, shared by the tasks of a source. A std `RwLock`: held only to copy or
/// replace entries, never across an await.
#[derive(Debug)]
pub struct Inventory {
    pub organization_id: String,
    snapshot: RwLock<Snapshot>,
}

impl Inventory {
    pub fn new(organization_id: impl Into<String>) -> Self {
        Self {
            organization_id: organization_id.into(),
            snapshot: RwLock::default(),
        }
    }

    pub fn is_loaded(&self) -> bool {
        self.read().loaded
    }

    /// Reads networks and devices again (two paginated calls); known DDNS host names are kept. Devices are
    /// kept page by page as they are read, only the fields records carry.
    pub async fn refresh(&self, client: &Client) -> Result<(), MerakiError> {
        let networks = client
            .organization_networks(&self.organization_id, &NetworksQuery::default())
            .await?;
        // A list while paging, hashed once at the end (into a table sized once).
        let mut devices = Vec::new();
        let mut interned = Interned::default();
        client
            .organization_devices_by_page(&self.organization_id, &DevicesQuery::default(), |page| {
                devices.extend(page.into_iter().map(|device| {
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
                    (device.serial.into_boxed_str(), info)
                }));
            })
            .await?;
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
        Ok(())
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
