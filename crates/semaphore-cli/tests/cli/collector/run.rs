//! `semaphore run -c` beyond loss/latency into Kafka: device history into a file, and the embedded broker
//! with DDNS enrichment.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::support;
use crate::support::{
    Daemon, EMBEDDED_BROKER_STARTED, Simulate, all_output, eventually, http_get, semaphore, temp_dir,
};

use super::{UPLINKS_TOPIC, assert_valid, schema, simulator_model};

/// Source `meraki_device_history` (the original scripts' per-device calls) through `run --once` into a JSON
/// lines file: intervals with jitter and goodput, equal to the simulator's, valid against the schema.
#[test]
fn device_history_once_into_a_file() {
    let simulator = Simulate::start(&["--appliances", "4"]);
    let directory = temp_dir("history");
    let records = directory.join("out/history.jsonl");
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[meraki]\nurl = \"{url}\"\n[admin]\nlisten = \"\"\n\
             [[sources.meraki_device_history]]\nip = \"8.8.8.8\"\nresolution_s = 600\ntimespan_s = 7200\ninitial_lookback_s = 7200\n\
             [[outputs.file]]\npath = \"{records}\"\n",
            data = directory.join("data").display(),
            url = simulator.base_url,
            records = records.display(),
        ),
    )
    .unwrap();
    let output = semaphore()
        .args(["run", "--once", "-c"])
        .arg(&config)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let validator = schema("meraki.uplink_loss_latency.v1.json");
    let model = simulator_model(4, 1);
    let lines = std::fs::read_to_string(&records).unwrap();
    let mut count = 0;
    for line in lines.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        assert_valid(&validator, &record);
        let start: DateTime<Utc> = record["startTs"].as_str().unwrap().parse().unwrap();
        let end: DateTime<Utc> = record["endTs"].as_str().unwrap().parse().unwrap();
        assert_eq!(end - start, TimeDelta::minutes(10));
        assert_eq!(record["ts"], record["startTs"]);
        let expected = model.series.aggregate(
            record["serial"].as_str().unwrap(),
            record["uplink"].as_str().unwrap(),
            "8.8.8.8",
            start,
            600,
        );
        assert_eq!(record["lossPercent"].as_f64(), expected.loss_percent, "{line}");
        assert_eq!(record["latencyMs"].as_f64(), expected.latency_ms, "{line}");
        assert_eq!(record["jitter"].as_f64(), expected.jitter_ms, "{line}");
        assert_eq!(record["goodput"].as_f64(), expected.goodput, "{line}");
        count += 1;
    }
    // Two hours at 10 minutes, two uplinks, four appliances.
    assert_eq!(count, 12 * 2 * 4, "{lines}");
    std::fs::remove_dir_all(&directory).unwrap();
}

/// `run` without brokers starts the embedded broker (issue 3) and says where in one log line; records carry
/// DDNS host names once the background inventory read them.
#[test]
fn run_without_brokers_starts_the_embedded_broker_and_enriches_with_ddns() {
    let simulator = Simulate::start(&["--appliances", "5"]);
    let directory = temp_dir("embedded");
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[meraki]\nurl = \"{url}\"\ntimeout_s = 5\n\
             [kafka]\nembedded_listen = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
             [[sources.meraki_uplinks]]\ninterval_s = 6\ninitial_lookback_s = 300\nddns_per_second = 10\n",
            data = directory.join("data").display(),
            url = simulator.base_url,
        ),
    )
    .unwrap();
    let mut daemon = Daemon::start(&config, &directory.join("run.log"));
    // Both on ports they picked, which the log gives.
    let brokers = daemon.listening_address(EMBEDDED_BROKER_STARTED);
    let admin = daemon.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || daemon
            .log_text()
            .contains(&format!("other Kafka clients can use --brokers {brokers}"))),
        "{}",
        daemon.log_text()
    );
    assert!(
        directory.join("data/broker.db").exists(),
        "the broker keeps its data under the data directory"
    );
    // The first windows go out before DDNS is known; a window written later carries the host names.
    let enriched = eventually(Duration::from_secs(150), || {
        support::try_consume_all(&brokers, UPLINKS_TOPIC).is_ok_and(|envelopes| {
            envelopes
                .iter()
                .any(|envelope| envelope["value"]["activeDdnsHostname"].is_string())
        })
    });
    assert!(
        enriched,
        "no record carries a DDNS host name: {}",
        daemon.log_text()
    );
    assert!(http_get(&admin, "/readyz").is_some_and(|(status, _)| status == 200));
    assert_eq!(http_get(&admin, "/healthz"), Some((200, "ok\n".to_owned())));
    daemon.signal("INT");
    assert!(
        daemon
            .wait_exit(Duration::from_secs(20))
            .expect("SIGINT stops it")
            .success()
    );
    std::fs::remove_dir_all(&directory).unwrap();
}
