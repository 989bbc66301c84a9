//! The environment variables semaphore reads, in one place, and a lookup trait so tests pass a map instead of
//! changing the process environment.

use std::collections::HashMap;

pub use semaphore_meraki::MERAKI_DASHBOARD_API_KEY;

/// Meraki base URL or region name (`global`, `ca`, `cn`, `in`, `us-fed`); same as `--meraki-url`.
pub const SEMAPHORE_MERAKI_URL: &str = "SEMAPHORE_MERAKI_URL";
/// Log filter in `tracing` syntax, e.g. `info` or `semaphore_meraki=debug`.
pub const SEMAPHORE_LOG: &str = "SEMAPHORE_LOG";
/// Log format: `plain` (default) or `json`.
pub const SEMAPHORE_LOG_FORMAT: &str = "SEMAPHORE_LOG_FORMAT";

/// Reads environment variables.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}
