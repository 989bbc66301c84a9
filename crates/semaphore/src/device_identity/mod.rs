//! Device identity shared by every source (issue 13): who sent a line (and, later, a trap or a sample), by
//! the address it came from.
//!
//! [`DeviceDirectory`] is the one lookup the sources of a process share (an `Arc`), filled from two places:
//! the operator's file (`[inventory] file`, [`static_file`]: `ip,hostname,serial,site,role,tags`, what a
//! NetBox export template or a spreadsheet writes; its CSV syntax in `csv_rows`) and the Meraki sources'
//! organization inventories ([`meraki_feed`]: each device's LAN IP, each uplink's IP and public IP). The file
//! wins over Meraki for the same address: it is what the operator said. [`config`] is the `[inventory]`
//! table.
//!
//! Records carry what is known (`deviceName`, `serial`, `site`, `role`, `networkId`, `networkName`, `tags`)
//! and null otherwise: an address the directory does not know, or that two Meraki devices claim, names no
//! device rather than a guessed one.

pub mod config;
mod csv_rows;
mod directory;
mod identity;
pub mod meraki_feed;
pub mod static_file;

pub use config::{InventoryConfig, InventorySection};
pub use directory::{DeviceDirectory, MerakiAddresses};
pub use identity::DeviceIdentity;
pub use static_file::{DeviceFileError, FileProblem, StaticDevices};
