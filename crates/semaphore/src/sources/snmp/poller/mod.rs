//! `[[sources.snmp]]` (issue 14): polling SNMP agents, v1, v2c and v3 (USM), into `snmp.interface/1`,
//! `snmp.system/1` and `snmp.row/1` records.
//!
//! - [`config`]: the table, its validation and the build; [`security`]: the version and its secrets;
//!   [`targets`]: `host[:port]`, the targets file and the inventory's devices; [`custom`]: scalars and tables
//!   added by numeric OID.
//! - [`profile`]: what a poll asks (the system scalars, the `ifTable`/`ifXTable` columns, the configured
//!   ones); [`table`]: walked columns into rows; [`interface`]: an interface's row into its sample and
//!   record; [`values`]: SNMP values as text, numbers and JSON; [`rates`]: per-second rates from two polls;
//!   [`records`]: one poll's varbinds into its records (pure).
//! - [`target`]: one target's poll (resolve, ask, publish, metrics, logs); [`source`]: the cycles.

pub mod config;
pub mod custom;
pub mod interface;
pub mod profile;
pub mod rates;
pub mod records;
pub mod security;
pub mod source;
pub mod table;
pub mod target;
pub mod targets;
pub mod values;

pub use config::{SnmpBuildError, SnmpPollerConfig, SnmpSourceFile};
