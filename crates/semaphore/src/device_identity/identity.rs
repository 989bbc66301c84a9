//! What the device directory knows of one device: the fields a record carries about the device that sent it.

/// One device as the operator's file or Meraki names it. Any field may be unknown: a file row may give only
/// a hostname, and Meraki knows no site or role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// The file's `hostname`, or Meraki's device name.
    pub name: Option<String>,
    pub serial: Option<String>,
    /// The file's `site`. Meraki gives none: a network is not a site by any rule semaphore could know.
    pub site: Option<String>,
    /// The file's `role` (core, access, firewall…).
    pub role: Option<String>,
    /// The Meraki network the device is in.
    pub network_id: Option<String>,
    pub network_name: Option<String>,
    /// The file's tags, or Meraki's device tags; empty when there are none.
    pub tags: Vec<String>,
}
