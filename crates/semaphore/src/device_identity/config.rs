//! `[inventory]`: where device identity comes from. The table as written ([`InventorySection`]) and its
//! validation, which reads the device file, so a file semaphore cannot use stops `run` and `check -c` with
//! its line and column named (exit code 2).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::Validation;
use crate::device_identity::static_file::StaticDevices;

/// `[inventory]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySection {
    /// A CSV of devices, `ip,hostname,serial,site,role,tags` (relative to the config file).
    pub file: Option<PathBuf>,
    /// Whether the Meraki sources of the process name their devices too (default true).
    pub meraki: Option<bool>,
}

/// `[inventory]`, validated: the file's devices read.
#[derive(Clone, Debug)]
pub struct InventoryConfig {
    /// The device file, resolved against the config file's directory.
    pub file: Option<PathBuf>,
    pub devices: Arc<StaticDevices>,
    pub meraki: bool,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            file: None,
            devices: Arc::default(),
            meraki: true,
        }
    }
}

impl InventorySection {
    /// Reads the device file (relative to the config file), naming `inventory.file` in errors.
    pub fn validate(&self, validation: &Validation<'_>) -> Result<InventoryConfig, ConfigError> {
        let file = self.file.as_deref().map(|file| validation.relative(file));
        let devices = match &file {
            Some(path) => read_devices(path, validation)?,
            None => StaticDevices::default(),
        };
        Ok(InventoryConfig {
            file,
            devices: Arc::new(devices),
            // Meraki's inventory is read anyway when a Meraki source runs: naming its devices is the default.
            meraki: self.meraki.unwrap_or(true),
        })
    }
}

fn read_devices(path: &Path, validation: &Validation<'_>) -> Result<StaticDevices, ConfigError> {
    StaticDevices::read(path).map_err(|error| validation.invalid("inventory.file", error.to_string()))
}
