//! The sending device as records name it: the identity fields the device directory (`[inventory]`) gives a
//! sender's address ([`DeviceFields`]), and the Kafka key that keeps one device's records in order
//! ([`device_key`]). Shared by every record whose source names its senders (syslog lines, SNMP polls and
//! traps), so that a device is named and keyed the same way whichever protocol it spoke.
//!
//! The SNMP records hold a [`DeviceFields`] flattened (`#[serde(flatten)]`): its fields are the record's own
//! in JSON, as the schemas have them, and the record's `deny_unknown_fields` still refuses any other (serde
//! checks what no flattened field took).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::device_identity::DeviceIdentity;

/// What a record says of the device that sent it: every field null when the directory does not know the
/// sender, `tags` then null too (and `[]` for a known device without tags). No `deny_unknown_fields` here:
/// flattened into a record, it sees the record's other fields too.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceFields {
    /// The device file's hostname, or Meraki's device name.
    pub device_name: Option<String>,
    pub serial: Option<String>,
    pub site: Option<String>,
    pub role: Option<String>,
    pub network_id: Option<String>,
    pub network_name: Option<String>,
    pub tags: Option<Vec<String>>,
}

impl DeviceFields {
    /// The fields of `device`, or all null when the sender is not known.
    pub fn of(device: Option<&DeviceIdentity>) -> Self {
        let Some(device) = device else {
            return Self::default();
        };
        Self {
            device_name: device.name.clone(),
            serial: device.serial.clone(),
            site: device.site.clone(),
            role: device.role.clone(),
            network_id: device.network_id.clone(),
            network_name: device.network_name.clone(),
            tags: Some(device.tags.clone()),
        }
    }

    /// The Kafka key of the device's records: see [`device_key`]; `sender` is its address.
    pub fn key(&self, sender: IpAddr) -> String {
        device_key(self.serial.as_deref(), self.device_name.as_deref(), sender)
    }
}

/// The Kafka key of a device's records: its serial when `[inventory]` knows it (a serial never changes,
/// while names do, and two addresses of one device share it), else its inventory name, else the sender's
/// address. Never what the message says of itself (a syslog hostname, an SNMP agent address): that is
/// whatever the device was told to call itself.
pub fn device_key(serial: Option<&str>, device_name: Option<&str>, sender: IpAddr) -> String {
    serial
        .or(device_name)
        .map(str::to_owned)
        .unwrap_or_else(|| sender.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_sender_has_null_fields_and_a_known_one_its_own() {
        assert_eq!(DeviceFields::of(None), DeviceFields::default());
        assert_eq!(DeviceFields::of(None).tags, None);
        let device = DeviceIdentity {
            name: Some("core-sw1".to_owned()),
            serial: None,
            site: Some("madrid".to_owned()),
            role: None,
            network_id: None,
            network_name: None,
            tags: Vec::new(),
        };
        let fields = DeviceFields::of(Some(&device));
        assert_eq!(fields.device_name.as_deref(), Some("core-sw1"));
        assert_eq!(fields.site.as_deref(), Some("madrid"));
        assert_eq!(fields.tags, Some(Vec::new()));
    }

    #[test]
    fn the_key_is_the_serial_else_the_name_else_the_sender() {
        let sender: IpAddr = "10.0.0.9".parse().unwrap();
        assert_eq!(device_key(Some("FOC1234X"), Some("core-sw1"), sender), "FOC1234X");
        assert_eq!(device_key(None, Some("core-sw1"), sender), "core-sw1");
        assert_eq!(device_key(None, None, sender), "10.0.0.9");
    }
}
