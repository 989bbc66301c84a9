//! `semaphore publish … --once`: loss/latency and clients to stdout or Kafka, with the topic, key and
//! filters from flags, ending quietly when stdout's reader goes away.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Broker, Simulate, all_output, consume_all, finish_within, semaphore, temp_dir};

use super::{assert_valid, publish_once, schema, simulator_model};

/// `publish loss-latency --once --output stdout`: the original script's job from flags; JSON lines that
/// validate, with nulls (not zeros) for down uplinks.
#[test]
fn publish_loss_latency_once_to_stdout() {
    let simulator = Simulate::start(&["--appliances", "60"]);
    let data = temp_dir("publish");
    let output = publish_once(
        &simulator,
        &data,
        &["loss-latency", "--output", "stdout", "--initial-lookback", "3600"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let validator = schema("meraki.uplink_loss_latency.v1.json");
    let records: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(records.len() >= 60 * 2 * 55, "{} records", records.len());
    for record in &records {
        assert_valid(&validator, record);
    }
    let down: Vec<&Value> = records
        .iter()
        .filter(|record| record["lossPercent"].is_null())
        .collect();
    assert!(!down.is_empty(), "an hour of 60 appliances includes down uplinks");
    assert!(down.iter().all(|record| record["latencyMs"].is_null()));
    assert!(
        records
            .iter()
            .all(|record| record["networkName"].is_string() && record["model"].is_string()),
        "enriched from the inventory"
    );
    // A second --once run starts at the watermark: nothing old again.
    let again = publish_once(&simulator, &data, &["loss-latency", "--output", "stdout"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", all_output(&again));
    let newest = records
        .iter()
        .map(|record| record["ts"].as_str().unwrap().to_owned())
        .max()
        .unwrap();
    for line in String::from_utf8(again.stdout).unwrap().lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        assert!(record["ts"].as_str().unwrap() > newest.as_str(), "{line}");
    }
    std::fs::remove_dir_all(&data).unwrap();
}

/// Issue 11, item 5: `publish loss-latency --output stdout --once | head -1` ends with exit 0 once its reader
/// is gone, instead of retrying the closed pipe with backoff until killed.
#[test]
fn publish_to_stdout_ends_quietly_when_the_reader_goes_away() {
    let simulator = Simulate::start(&["--appliances", "60"]);
    let data = temp_dir("publish-head");
    // An hour of 60 appliances is megabytes, far more than a pipe holds, so writes meet the closed pipe.
    let mut child = publish_once(
        &simulator,
        &data,
        &["loss-latency", "--output", "stdout", "--initial-lookback", "3600"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert!(first.starts_with('{'), "{first}");
    // As `head -1` exits: the pipe's only read end closes.
    drop(reader);
    let (output, finished) = finish_within(child, Duration::from_secs(30));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        finished,
        "publish still ran 30 s after its reader went away:\n{log}"
    );
    assert!(output.status.success(), "{:?}\n{log}", output.status);
    assert!(log.contains("Standard output was closed by its reader"), "{log}");
    assert!(!log.contains("retrying") && !log.contains("ERROR"), "{log}");
    std::fs::remove_dir_all(&data).unwrap();
}

/// `publish clients --filter`: one record per network keyed by network id, clients enriched, filtered and
/// scored; a bad filter file is a config error naming the problem.
#[test]
fn publish_clients_with_the_original_filter_file() {
    let simulator = Simulate::start(&["--appliances", "6", "--clients-per-network", "30"]);
    let broker = Broker::start();
    let data = temp_dir("clients");
    let filter = data.join("filter.json");
    std::fs::write(&filter, r#"{"match": "any", "conditions": [{"key": "status", "value": "Online"}], "fuzzy": {"key": "description", "value": "iPhone"}}"#).unwrap();
    let filter_path = filter.to_str().unwrap();
    let arguments = ["clients", "--brokers", &broker.address, "--filter", filter_path];
    let output = publish_once(&simulator, &data, &arguments).output().unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let validator = schema("meraki.network_clients.v1.json");
    let envelopes = consume_all(&broker.address, "meraki.clients");
    assert_eq!(envelopes.len(), 3, "one record per network");
    let mut clients = 0;
    for envelope in &envelopes {
        let record = &envelope["value"];
        assert_valid(&validator, record);
        assert_eq!(envelope["key"], record["networkId"]);
        for client in record["clients"].as_array().unwrap() {
            clients += 1;
            assert_eq!(client["status"], "Online", "the filter keeps only online clients");
            assert_eq!(client["organizationId"], record["organizationId"]);
            assert_eq!(client["networkName"], record["networkName"]);
            assert!(client["fuzzy"]["ratio"].is_u64() && client["fuzzy"]["partial"].is_u64());
        }
    }
    assert!(clients > 0 && clients < 90, "{clients} of 90 clients are online");
    std::fs::write(&filter, r#"{"match": "most"}"#).unwrap();
    let bad = publish_once(&simulator, &data, &arguments).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", all_output(&bad));
    assert!(
        all_output(&bad).contains("unknown variant `most`, expected `any` or `all`"),
        "{}",
        all_output(&bad)
    );
    std::fs::remove_dir_all(&data).unwrap();
}

/// `publish --topic --key`: the topic and the record key are the user's; the headers say what the record is.
#[test]
fn publish_with_a_chosen_topic_and_key() {
    let simulator = Simulate::start(&["--appliances", "3"]);
    let broker = Broker::start();
    let data = temp_dir("topic-key");
    let arguments = [
        "loss-latency",
        "--brokers",
        &broker.address,
        "--topic",
        "noc.wan.quality",
        "--key",
        "serial/uplink",
    ];
    let output = publish_once(&simulator, &data, &arguments).output().unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let envelopes = consume_all(&broker.address, "noc.wan.quality");
    assert_eq!(envelopes.len(), 3 * 2 * 5);
    for envelope in &envelopes {
        let record = &envelope["value"];
        assert_eq!(
            envelope["key"].as_str().unwrap(),
            format!(
                "{}/{}",
                record["serial"].as_str().unwrap(),
                record["uplink"].as_str().unwrap()
            )
        );
        assert_eq!(
            envelope["headers"]["semaphore-schema"], "meraki.uplink_loss_latency/1",
            "{envelope}"
        );
        assert_eq!(
            envelope["headers"]["content-type"], "application/json",
            "{envelope}"
        );
        assert_eq!(envelope["headers"]["source"], "meraki_uplinks", "{envelope}");
    }
    std::fs::remove_dir_all(&data).unwrap();
}

/// Filters from flags: one organization by name, its networks by tag; only their appliances' samples come out.
#[test]
fn publish_filters_by_organization_and_network_tag() {
    let simulator = Simulate::start(&["--organizations", "2", "--appliances", "9"]);
    let model = simulator_model(9, 2);
    let globex = model
        .estate
        .organizations
        .iter()
        .find(|organization| organization.name == "Globex Health")
        .expect("the second simulated organization")
        .id
        .clone();
    let wanted: std::collections::BTreeSet<String> = model.estate.appliances[&globex]
        .iter()
        .filter(|appliance| {
            let network = model
                .estate
                .network(appliance.device.network_id.as_deref().unwrap())
                .unwrap();
            network.tags.contains(&"store".to_owned())
        })
        .map(|appliance| appliance.device.serial.clone())
        .collect();
    assert!(!wanted.is_empty());
    let data = temp_dir("filters");
    let arguments = [
        "loss-latency",
        "--output",
        "stdout",
        "--organization",
        "Globex Health",
        "--network",
        "tag:store",
    ];
    let output = publish_once(&simulator, &data, &arguments).output().unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let serials: std::collections::BTreeSet<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).unwrap();
            assert_eq!(record["organizationId"], globex.as_str());
            record["serial"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(serials, wanted);
    std::fs::remove_dir_all(&data).unwrap();
}

/// Issue 11: `--initial-lookback` is loss/latency's; `publish clients --help` does not offer it.
#[test]
fn publish_clients_does_not_offer_the_loss_latency_lookback() {
    let help = |what: &str| {
        let output = semaphore().args(["publish", what, "--help"]).output().unwrap();
        assert!(output.status.success(), "{}", all_output(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(help("loss-latency").contains("--initial-lookback"));
    let clients = help("clients");
    assert!(
        !clients.contains("--initial-lookback") && clients.contains("--timespan"),
        "{clients}"
    );
}
