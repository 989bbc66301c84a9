//! [`DeviceDirectory`]: the device an address belongs to, shared by every source of a process.
//!
//! The file's devices are fixed at start and read without a lock. Meraki's change with each inventory
//! refresh: every organization's addresses are kept as fed, and their union is rebuilt beside the map
//! lookups read, which is then swapped in, so a lookup waits at most for that swap (syslog looks up every
//! line).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::device_identity::identity::DeviceIdentity;
use crate::device_identity::static_file::StaticDevices;

/// Addresses, each with the identity of the device that has it.
type Addresses = Vec<(IpAddr, Arc<DeviceIdentity>)>;

/// One organization's device addresses, as its Meraki inventory read them at a refresh.
#[derive(Debug)]
pub struct MerakiAddresses {
    pub organization_id: String,
    /// Each device's LAN IP, from the devices listing.
    pub lan: Addresses,
    /// Each uplink's IP and public IP, from the uplink statuses; `None` when they could not be read, so the
    /// ones read before stand (a device's public address rarely changes, and losing it would rename the
    /// device's lines to its bare address until the next refresh).
    pub uplinks: Option<Addresses>,
}

/// Who each address is, for every source of the process.
pub struct DeviceDirectory {
    /// `[inventory] file`: read at start, never changed.
    configured: Arc<StaticDevices>,
    /// Whether Meraki sources feed it (`[inventory] meraki`, and a source of the process looks devices up).
    wants_meraki: bool,
    /// What each organization's inventory fed last. Taken only by the feeders, once per refresh.
    fed: Mutex<HashMap<String, FedOrganization>>,
    /// The union of `fed`, without the addresses two devices claim: what lookups read.
    meraki: RwLock<HashMap<IpAddr, Arc<DeviceIdentity>>>,
}

/// One organization's addresses as last fed.
#[derive(Default)]
struct FedOrganization {
    lan: Addresses,
    uplinks: Addresses,
}

impl DeviceDirectory {
    /// A directory of the file's devices; `wants_meraki`: whether the Meraki sources are to feed theirs.
    pub fn new(configured: Arc<StaticDevices>, wants_meraki: bool) -> Self {
        Self {
            configured,
            wants_meraki,
            fed: Mutex::default(),
            meraki: RwLock::default(),
        }
    }

    /// The device at `address`: the file's, else Meraki's, else none. An IPv4 address seen through a
    /// dual-stack socket (`::ffff:a.b.c.d`) is the IPv4 address.
    pub fn lookup(&self, address: IpAddr) -> Option<Arc<DeviceIdentity>> {
        let address = address.to_canonical();
        // The file first: where it and Meraki disagree, the operator said which is right.
        if let Some(identity) = self.configured.get(address) {
            return Some(identity.clone());
        }
        read(&self.meraki).get(&address).cloned()
    }

    /// The devices of `[inventory] file`, in address order: what a poller polls when told to poll the
    /// inventory. Meraki's are left out: they come and go with each refresh, and Meraki reports on them itself.
    pub fn configured_devices(&self) -> Vec<(IpAddr, Arc<DeviceIdentity>)> {
        self.configured.devices()
    }

    /// Whether the Meraki sources should feed their devices (and read the uplink statuses to do so).
    pub fn wants_meraki(&self) -> bool {
        self.wants_meraki
    }

    /// Replaces what one organization's inventory said (its uplink addresses only when they were read).
    pub fn feed_meraki(&self, addresses: MerakiAddresses) {
        if !self.wants_meraki {
            return;
        }
        let mut fed = lock(&self.fed);
        let organization = fed.entry(addresses.organization_id).or_default();
        organization.lan = addresses.lan;
        if let Some(uplinks) = addresses.uplinks {
            organization.uplinks = uplinks;
        }
        let (merged, ambiguous) = merge(fed.values());
        tracing::debug!(
            addresses = merged.len(),
            ambiguous,
            "Meraki devices fed to the device directory; an address two devices claim names neither."
        );
        *write(&self.meraki) = merged;
    }
}

impl fmt::Debug for DeviceDirectory {
    // Thousands of devices: their count says enough.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DeviceDirectory")
            .field("configured", &self.configured)
            .field("wants_meraki", &self.wants_meraki)
            .field("meraki_addresses", &read(&self.meraki).len())
            .finish()
    }
}

/// The union of what every organization fed, and how many addresses were left out because two devices
/// claim them: private ranges overlap across sites (every branch's `192.168.1.1`), and a guess would put one
/// device's lines under the other's name.
fn merge<'a>(
    organizations: impl Iterator<Item = &'a FedOrganization>,
) -> (HashMap<IpAddr, Arc<DeviceIdentity>>, usize) {
    let mut merged: HashMap<IpAddr, Arc<DeviceIdentity>> = HashMap::new();
    let mut ambiguous = HashSet::new();
    let addresses = organizations.flat_map(|fed| fed.lan.iter().chain(&fed.uplinks));
    for (address, identity) in addresses {
        match merged.entry(*address) {
            Entry::Vacant(vacant) => {
                vacant.insert(identity.clone());
            }
            // The same device under two of its addresses' sources (LAN and uplink, or two sources polling
            // one organization) is one claim.
            Entry::Occupied(occupied) => {
                if occupied.get().serial != identity.serial {
                    ambiguous.insert(*address);
                }
            }
        }
    }
    for address in &ambiguous {
        merged.remove(address);
    }
    (merged, ambiguous.len())
}

// Std locks, held only to copy a pointer or swap a map, never across an await; a panic elsewhere does not
// make the map wrong, so a poisoned lock is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(guarded: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    guarded.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(guarded: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    guarded.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meraki(serial: &str, name: &str) -> Arc<DeviceIdentity> {
        Arc::new(DeviceIdentity {
            name: Some(name.to_owned()),
            serial: Some(serial.to_owned()),
            network_id: Some("N_1".to_owned()),
            network_name: Some("Madrid Branch".to_owned()),
            tags: vec!["spoke".to_owned()],
            ..DeviceIdentity::default()
        })
    }

    fn address(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn fed(organization_id: &str, lan: Addresses, uplinks: Option<Addresses>) -> MerakiAddresses {
        MerakiAddresses {
            organization_id: organization_id.to_owned(),
            lan,
            uplinks,
        }
    }

    /// The serial of the device at `text`, or "unknown".
    fn serial_at(directory: &DeviceDirectory, text: &str) -> String {
        directory
            .lookup(address(text))
            .and_then(|identity| identity.serial.clone())
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// Issue 13: the operator's file wins over Meraki for the same address.
    #[test]
    fn the_file_wins_over_meraki() {
        let file = StaticDevices::parse("ip,hostname,serial,site\n10.0.0.1,core-sw1,FOC1,madrid\n").unwrap();
        let directory = DeviceDirectory::new(Arc::new(file), true);
        let lan = vec![
            (address("10.0.0.1"), meraki("Q2AA-0001", "mx-1")),
            (address("10.0.0.2"), meraki("Q2AA-0002", "mx-2")),
        ];
        directory.feed_meraki(fed("1", lan, None));
        let from_file = directory.lookup(address("10.0.0.1")).unwrap();
        assert_eq!(from_file.name.as_deref(), Some("core-sw1"));
        assert_eq!(from_file.site.as_deref(), Some("madrid"));
        // The file's row as it is, not merged with Meraki's.
        assert_eq!(from_file.network_id, None);
        let from_meraki = directory.lookup(address("10.0.0.2")).unwrap();
        assert_eq!(*from_meraki, *meraki("Q2AA-0002", "mx-2"));
        assert!(directory.lookup(address("10.0.0.3")).is_none());
    }

    #[test]
    fn an_ipv4_sender_on_a_dual_stack_socket_is_found() {
        let file = StaticDevices::parse("ip,serial\n10.0.0.1,FOC1\n").unwrap();
        let directory = DeviceDirectory::new(Arc::new(file), false);
        assert_eq!(serial_at(&directory, "::ffff:10.0.0.1"), "FOC1");
    }

    #[test]
    fn an_address_two_meraki_devices_claim_names_neither() {
        let directory = DeviceDirectory::new(Arc::default(), true);
        let mx = meraki("Q2AA-0001", "mx-1");
        let lan = vec![(address("192.168.1.1"), mx.clone())];
        // The same device by its LAN IP and its uplink IP is one claim.
        let uplinks = vec![
            (address("192.168.1.1"), mx),
            (address("203.0.113.1"), meraki("Q2AA-0001", "mx-1")),
        ];
        directory.feed_meraki(fed("1", lan, Some(uplinks)));
        assert_eq!(serial_at(&directory, "192.168.1.1"), "Q2AA-0001");
        // Another organization's branch uses the same private range.
        let other = vec![(address("192.168.1.1"), meraki("Q2BB-0001", "other-mx"))];
        directory.feed_meraki(fed("2", other, None));
        assert_eq!(serial_at(&directory, "192.168.1.1"), "unknown");
        assert_eq!(serial_at(&directory, "203.0.113.1"), "Q2AA-0001");
    }

    #[test]
    fn uplink_addresses_stand_when_a_refresh_could_not_read_them() {
        let directory = DeviceDirectory::new(Arc::default(), true);
        let uplinks = vec![(address("203.0.113.1"), meraki("Q2AA-0001", "mx-1"))];
        directory.feed_meraki(fed("1", Vec::new(), Some(uplinks)));
        let renamed = vec![(address("10.0.0.1"), meraki("Q2AA-0001", "mx-1-renamed"))];
        directory.feed_meraki(fed("1", renamed, None));
        assert_eq!(serial_at(&directory, "203.0.113.1"), "Q2AA-0001");
        assert_eq!(serial_at(&directory, "10.0.0.1"), "Q2AA-0001");
        // Read again, they are replaced: an address given up is forgotten.
        directory.feed_meraki(fed("1", Vec::new(), Some(Vec::new())));
        assert_eq!(serial_at(&directory, "203.0.113.1"), "unknown");
        assert_eq!(serial_at(&directory, "10.0.0.1"), "unknown");
    }

    #[test]
    fn without_a_reader_meraki_feeds_nothing() {
        let directory = DeviceDirectory::new(Arc::default(), false);
        let lan = vec![(address("10.0.0.2"), meraki("Q2AA-0002", "mx-2"))];
        directory.feed_meraki(fed("1", lan, None));
        assert!(directory.lookup(address("10.0.0.2")).is_none());
    }
}
