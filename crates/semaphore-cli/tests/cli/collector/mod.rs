//! The collector run as a user runs it (issue 4): `semaphore run -c`, `publish`, `check -c` and `demo`
//! against `semaphore simulate` and `semaphore broker` processes, checked against the simulator's own series
//! and the project's JSON Schemas.
//!
//! One module per area (issue 10); this one holds what they share: the schemas, the simulator's model, a
//! collector's config and its watermark, and `publish --once`.

mod check;
mod demo;
mod exactly_once;
mod publish;
mod publish_errors;
mod run;
mod scale;
mod syslog;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use semaphore_meraki_sim::{EstateShape, SimConfig, Simulator};
use serde_json::Value;

use crate::support::{Simulate, semaphore, temp_dir};

const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(name);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn assert_valid(validator: &jsonschema::Validator, record: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(record)
        .map(|error| error.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?} in {record}");
}

/// The simulator `semaphore simulate --appliances N` runs (seed 1, 1 organization, 3 networks).
fn simulator_model(appliances: usize, organizations: usize) -> Simulator {
    Simulator::new(SimConfig {
        shape: EstateShape {
            seed: 1,
            organizations,
            networks: 3,
            appliances,
            clients_per_network: 20,
        },
        ..SimConfig::default()
    })
}

struct Setup {
    directory: PathBuf,
    config: PathBuf,
}

/// A collector's config, its admin server on a port it picks ([`Daemon::admin_address`] reads it from the
/// log).
fn write_config(name: &str, simulator: &Simulate, brokers: &str, extra: &str) -> Setup {
    let directory = temp_dir(name);
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [meraki]\nurl = \"{url}\"\ntimeout_s = 5\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [[sources.meraki_uplinks]]\ninterval_s = 6\nddns = false\n{extra}\n",
            data = directory.join("data").display(),
            url = simulator.base_url,
        ),
    )
    .unwrap();
    Setup { directory, config }
}

/// The organization's progress from the watermark file.
fn progress(setup: &Setup) -> Option<Value> {
    let path = setup.directory.join("data/watermarks/meraki_uplinks.json");
    let text = std::fs::read_to_string(path).ok()?;
    let state: Value = serde_json::from_str(&text).ok()?;
    state["organizations"].as_object()?.values().next().cloned()
}

fn watermark(setup: &Setup) -> Option<DateTime<Utc>> {
    progress(setup)?["watermark"].as_str()?.parse().ok()
}

/// Caught up: the watermark is within a minute of the newest window Meraki serves.
fn caught_up(setup: &Setup) -> bool {
    watermark(setup).is_some_and(|watermark| Utc::now() - watermark < TimeDelta::seconds(185))
}

/// `semaphore publish ARGUMENTS… --once --meraki-url SIMULATOR --data-dir DATA`, with an API key set.
fn publish_once(simulator: &Simulate, data: &Path, arguments: &[&str]) -> std::process::Command {
    let mut command = semaphore();
    command
        .arg("publish")
        .args(arguments)
        .args(["--once", "--meraki-url", &simulator.base_url, "--data-dir"])
        .arg(data)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key");
    command
}
