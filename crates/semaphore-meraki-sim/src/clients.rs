//! Network clients, generated per network on request from the seed: laptops, phones, printers and cameras
//! with every field Meraki's example shows.

use chrono::{DateTime, Utc};
use semaphore_meraki::model::{ClientUsage, Network, NetworkClient};
use serde_json::{Map, Value, json};

use crate::noise::{hash, unit};

const PEOPLE: &[&str] = &[
    "Miles", "Ana", "Kenji", "Priya", "Lars", "Chloe", "Omar", "Zoe", "Ravi", "Ines",
];
/// (description suffix, manufacturer, os, device type prediction, wired)
const KINDS: &[(&str, &str, &str, &str, bool)] = &[
    ("phone", "Apple", "iOS", "iPhone 15, iOS17.4", false),
    ("laptop", "Dell", "Windows 11", "Windows 11 laptop", false),
    ("MacBook", "Apple", "Mac OS X", "MacBook Pro, macOS 14", false),
    ("tablet", "Samsung", "Android", "Galaxy Tab S9, Android 14", false),
    ("printer", "HP", "Other", "HP LaserJet", true),
    ("camera", "Axis", "Linux", "Axis IP camera", true),
];

/// The clients of `network`, sorted by id (the pagination order), last seen within the past two hours.
pub fn network_clients(seed: u64, network: &Network, count: usize, now: DateTime<Utc>) -> Vec<NetworkClient> {
    let network_number = hash(seed, &[&network.id]) % 200 + 1;
    let mut clients: Vec<NetworkClient> = (0..count)
        .map(|index| {
            let value = hash(seed, &[&network.id, &"client", &(index as u64)]);
            let (what, manufacturer, os, prediction, wired) = KINDS[(value % KINDS.len() as u64) as usize];
            let person = PEOPLE[((value >> 8) % PEOPLE.len() as u64) as usize];
            let octet = |shift: u32| (value >> shift) as u8;
            let mac = format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                octet(0) & 0xfe,
                octet(8),
                octet(16),
                octet(24),
                octet(32),
                octet(40)
            );
            let last_seen = now.timestamp() - (value % 7200) as i64;
            let first_seen = last_seen - 86_400 * (1 + (value >> 20) as i64 % 90);
            let online = last_seen > now.timestamp() - 600;
            let mut other = Map::new();
            let mut put = |name: &str, value: Value| {
                other.insert(name.to_owned(), value);
            };
            put(
                "ip6",
                json!(format!("2001:db8:{network_number:x}::{:x}", index + 16)),
            );
            put(
                "ip6Local",
                json!(format!("fe80::{:x}:{:x}", octet(48), octet(56))),
            );
            put("firstSeen", json!(first_seen));
            put("lastSeen", json!(last_seen));
            put("manufacturer", json!(manufacturer));
            put("os", json!(os));
            put(
                "user",
                json!(format!("{}{}", person.to_ascii_lowercase(), index % 100)),
            );
            put("vlan", json!(if wired { "20" } else { "100" }));
            put("namedVlan", json!(if wired { "Devices" } else { "Staff" }));
            put("ssid", json!(if wired { "" } else { "Corp WiFi" }));
            put(
                "switchport",
                json!(if wired {
                    format!("{}", index % 48 + 1)
                } else {
                    String::new()
                }),
            );
            put(
                "wirelessCapabilities",
                json!(if wired { "" } else { "802.11ax - 2.4 and 5 GHz" }),
            );
            put("smInstalled", json!(unit(value >> 30) < 0.3));
            put(
                "recentDeviceMac",
                json!(format!("e0:55:3d:10:{:02x}:{:02x}", network_number, index % 8)),
            );
            put(
                "recentDeviceSerial",
                json!(format!("Q2XX-AP{:02}-{:04}", index % 8, network_number)),
            );
            put(
                "recentDeviceName",
                json!(format!("{} AP{}", network.name, index % 8 + 1)),
            );
            put(
                "recentDeviceConnection",
                json!(if wired { "Wired" } else { "Wireless" }),
            );
            put("adaptivePolicyGroup", json!("2: Infrastructure"));
            put("deviceTypePrediction", json!(prediction));
            put("notes", json!(""));
            put(
                "groupPolicy8021x",
                json!(if wired { "Devices" } else { "Staff_Access" }),
            );
            put("pskGroup", json!("Group 1"));
            NetworkClient {
                id: format!("k{:03x}{index:04x}", value & 0xfff),
                mac: Some(mac),
                ip: Some(format!(
                    "10.{}.{}.{}",
                    network_number,
                    index / 250 % 250,
                    index % 250 + 2
                )),
                description: Some(format!("{person}'s {what}")),
                status: Some(if online { "Online".into() } else { "Offline".into() }),
                usage: Some(ClientUsage {
                    sent: ((value >> 12) % 500_000) as f64,
                    recv: ((value >> 32) % 2_000_000) as f64,
                }),
                other,
            }
        })
        .collect();
    clients.sort_by(|left, right| left.id.cmp(&right.id));
    clients
}
