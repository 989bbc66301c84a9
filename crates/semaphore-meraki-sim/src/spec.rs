//! Where Meraki's OpenAPI subset is found for conformance tests: `SEMAPHORE_MERAKI_SPEC`, else
//! `shared/meraki/openapi-subset.json` beside the checkout (as CI lays it out). It is not copied into the repo.

use std::path::PathBuf;

use serde_json::Value;

/// The environment variable that points at `openapi-subset.json` when it is elsewhere.
pub const SEMAPHORE_MERAKI_SPEC: &str = "SEMAPHORE_MERAKI_SPEC";

/// The spec's path: the variable if set, else `../shared/meraki/openapi-subset.json` relative to the workspace.
pub fn path() -> PathBuf {
    std::env::var_os(SEMAPHORE_MERAKI_SPEC)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/meraki/openapi-subset.json")
        })
}

/// Loads the spec, or explains where it was looked for and how to provide it.
pub fn load() -> Result<Value, String> {
    let path = path();
    let text = std::fs::read_to_string(&path).map_err(|error| {
        format!(
            "Meraki's OpenAPI subset is absent at {} ({error}): conformance tests need ../shared/meraki/ beside \
             the checkout (CI has it), or {SEMAPHORE_MERAKI_SPEC} pointing at openapi-subset.json",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|error| format!("{} is not JSON: {error}", path.display()))
}
