//! Meraki's official Python SDK (`pip install meraki`) against `semaphore simulate`: organizations, networks
//! and 10,000 devices through pagination, then a 429 storm survived by the SDK's own retry logic.

use std::path::Path;
use std::process::Command;

use crate::support::Simulate;

#[test]
fn official_sdk_lists_ten_thousand_devices_and_survives_a_storm() {
    let probe = Command::new("python3").args(["-c", "import meraki"]).output();
    if !probe.as_ref().is_ok_and(|output| output.status.success()) {
        // Only where the SDK is absent; .ci/run installs it, so CI never skips this.
        eprintln!("SKIPPED: Meraki's Python SDK is not installed (pip install meraki)");
        return;
    }
    let simulator = Simulate::start(&["--appliances", "10000", "--networks", "50", "--seed", "8"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/meraki_sdk_client.py");
    let cache = std::env::temp_dir().join(format!("semaphore-meraki-sdk-{}", std::process::id()));
    let output = Command::new("python3")
        .arg(&script)
        .arg(&simulator.base_url)
        .arg(&cache)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&cache);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");
    assert_eq!(seen["organizations"], 1);
    assert_eq!(seen["networks"], 50);
    assert_eq!(seen["devices"], 10_000);
    assert_eq!(seen["distinct_serials"], 10_000);
    assert_eq!(seen["uplink_series"], 20_000);
    assert_eq!(
        seen["after_storm_organizations"], 1,
        "the SDK got through the storm"
    );
    assert_eq!(seen["storm_429s"], 3, "and it did meet the storm");
}
