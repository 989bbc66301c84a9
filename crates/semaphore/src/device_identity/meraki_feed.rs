//! What a Meraki organization's inventory tells the device directory: the addresses each device sends from
//! (its LAN IP from the devices listing; each uplink's IP and public IP from
//! `getOrganizationUplinksStatuses`, one org-wide call per refresh), each with the device's name, serial,
//! network and tags. Pure: the inventory reads, this module pairs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use semaphore_meraki::model::UplinkStatuses;

use crate::device_identity::identity::DeviceIdentity;
use crate::inventory::{DeviceInfo, NetworkInfo};

/// An address as Meraki writes it; `None` for none (empty, `0.0.0.0`, or not an address).
pub fn address(text: &str) -> Option<IpAddr> {
    let address: IpAddr = text.trim().parse().ok()?;
    Some(address.to_canonical()).filter(|canonical| !canonical.is_unspecified())
}

/// Each uplink's IP and public IP, with the serial of the device whose uplink it is.
pub fn uplink_addresses(statuses: &[UplinkStatuses]) -> Vec<(Box<str>, IpAddr)> {
    let mut addresses = Vec::new();
    for device in statuses {
        for uplink in &device.uplinks {
            for text in [&uplink.ip, &uplink.public_ip].into_iter().flatten() {
                if let Some(found) = address(text) {
                    addresses.push((Box::<str>::from(device.serial.as_str()), found));
                }
            }
        }
    }
    addresses
}

/// The identity of device `serial`, from what the inventory knows of it and of its network.
pub fn identity(serial: &str, device: Option<&DeviceInfo>, network: Option<&NetworkInfo>) -> DeviceIdentity {
    DeviceIdentity {
        name: device
            .and_then(|device| device.name.clone())
            .filter(|name| !name.is_empty()),
        serial: Some(serial.to_owned()),
        site: None,
        role: None,
        network_id: device.and_then(|device| device.network_id.as_deref().map(str::to_owned)),
        network_name: network.map(|network| network.name.clone()),
        tags: device.map(|device| device.tags.clone()).unwrap_or_default(),
    }
}

/// Pairs each `(serial, address)` with its device's identity, made once per device by `identity_of` and
/// shared by all its addresses (and by the calls that pass the same `identities`).
pub fn identified(
    addresses: Vec<(Box<str>, IpAddr)>,
    identities: &mut HashMap<Box<str>, Arc<DeviceIdentity>>,
    identity_of: impl Fn(&str) -> DeviceIdentity,
) -> Vec<(IpAddr, Arc<DeviceIdentity>)> {
    addresses
        .into_iter()
        .map(|(serial, address)| {
            let identity = identities
                .entry(serial)
                .or_insert_with_key(|serial| Arc::new(identity_of(serial)));
            (address, identity.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use semaphore_meraki::model::UplinkStatus;

    use super::*;

    fn uplink(interface: &str, ip: Option<&str>, public_ip: Option<&str>) -> UplinkStatus {
        UplinkStatus {
            interface: interface.to_owned(),
            status: "active".to_owned(),
            ip: ip.map(str::to_owned),
            gateway: None,
            public_ip: public_ip.map(str::to_owned),
            primary_dns: None,
            secondary_dns: None,
            ip_assigned_by: None,
        }
    }

    #[test]
    fn addresses_as_meraki_writes_them() {
        assert_eq!(address(" 10.0.0.1 "), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(address("::ffff:10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(address("0.0.0.0"), None);
        assert_eq!(address(""), None);
        assert_eq!(address("dhcp"), None);
    }

    #[test]
    fn every_uplink_ip_and_public_ip_with_its_serial() {
        let statuses = [UplinkStatuses {
            network_id: "N_1".to_owned(),
            serial: "Q2AA-0001".to_owned(),
            model: "MX68".to_owned(),
            last_reported_at: None,
            high_availability: None,
            uplinks: vec![
                uplink("wan1", Some("192.168.0.2"), Some("203.0.113.1")),
                uplink("wan2", None, Some("198.51.100.1")),
                uplink("cellular", None, None),
            ],
        }];
        let found: Vec<(String, String)> = uplink_addresses(&statuses)
            .into_iter()
            .map(|(serial, address)| (serial.into_string(), address.to_string()))
            .collect();
        let pair = |address: &str| ("Q2AA-0001".to_owned(), address.to_owned());
        let expected = [pair("192.168.0.2"), pair("203.0.113.1"), pair("198.51.100.1")];
        assert_eq!(found, expected);
    }

    #[test]
    fn a_device_is_named_from_the_inventory_and_shared_by_its_addresses() {
        let device = DeviceInfo {
            name: Some("Madrid MX1".to_owned()),
            model: Arc::from("MX68"),
            tags: vec!["spoke".to_owned()],
            network_id: Some(Arc::from("N_1")),
            ..DeviceInfo::default()
        };
        let network = NetworkInfo {
            name: "Madrid Branch".to_owned(),
            tags: Vec::new(),
        };
        let expected = DeviceIdentity {
            name: Some("Madrid MX1".to_owned()),
            serial: Some("Q2AA-0001".to_owned()),
            site: None,
            role: None,
            network_id: Some("N_1".to_owned()),
            network_name: Some("Madrid Branch".to_owned()),
            tags: vec!["spoke".to_owned()],
        };
        let identity_of = |serial: &str| identity(serial, Some(&device), Some(&network));
        let mut identities = HashMap::new();
        let serial = Box::<str>::from("Q2AA-0001");
        let lan = vec![(serial.clone(), address("10.0.0.1").unwrap())];
        let uplinks = vec![(serial, address("203.0.113.1").unwrap())];
        let lan = identified(lan, &mut identities, identity_of);
        let uplinks = identified(uplinks, &mut identities, identity_of);
        assert_eq!(*lan[0].1, expected);
        assert!(Arc::ptr_eq(&lan[0].1, &uplinks[0].1), "one identity per device");
        // A device the uplink statuses list before the devices listing does: its serial is all that is known.
        let unlisted = identity("Q2AA-0002", None, None);
        assert_eq!(unlisted.serial.as_deref(), Some("Q2AA-0002"));
        assert_eq!(unlisted.name, None);
        assert!(unlisted.tags.is_empty());
    }
}
