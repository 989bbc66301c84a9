//! Issue 4's promise: a daemon killed with SIGKILL in the middle of a window and started again, and a
//! two-minute broker outage, each leave every simulated sample on the topic exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use semaphore_meraki_sim::Simulator;
use semaphore_meraki_sim::estate::{PROBE_DESTINATION, UPLINKS};

use crate::support::{Broker, Daemon, Simulate, consume_all, eventually, http_get, metric, temp_dir};

use super::{
    UPLINKS_TOPIC, assert_valid, caught_up, progress, schema, simulator_model, watermark, write_config,
};

/// Issue 4: kill the daemon with SIGKILL while it writes a window, restart it: the topic holds every
/// simulated sample of the covered time exactly once.
#[test]
fn sigkill_in_the_middle_of_a_window_then_restart_writes_every_sample_exactly_once() {
    let simulator = Simulate::start(&["--appliances", "300"]);
    let broker = Broker::start();
    let setup = write_config(
        "sigkill",
        &simulator,
        &broker.address,
        "initial_lookback_s = 3600",
    );
    let log = setup.directory.join("run.log");
    let mut killed_in_flight = 0;
    for _ in 0..2 {
        let mut daemon = Daemon::start(&setup.config, &log);
        // Kill the moment a window is in flight, after at least one was written (polled every 2 ms: a window
        // takes a few hundred milliseconds to write).
        let deadline = std::time::SystemTime::now() + Duration::from_secs(90);
        let mut in_flight = false;
        while std::time::SystemTime::now() < deadline && !in_flight {
            in_flight = progress(&setup).is_some_and(|progress| {
                progress["watermark"].is_string() && progress["in_flight"].is_object()
            });
            std::thread::sleep(Duration::from_millis(2));
        }
        daemon.signal("KILL");
        daemon
            .wait_exit(Duration::from_secs(10))
            .expect("SIGKILL ends the daemon");
        if in_flight {
            killed_in_flight += 1;
        }
    }
    assert!(
        killed_in_flight > 0,
        "the daemon was never caught writing a window: {}",
        std::fs::read_to_string(&log).unwrap()
    );
    let mut daemon = Daemon::start(&setup.config, &log);
    assert!(
        eventually(Duration::from_secs(120), || caught_up(&setup)),
        "not caught up: {}",
        daemon.log_text()
    );
    daemon.signal("TERM");
    let status = daemon
        .wait_exit(Duration::from_secs(20))
        .expect("SIGTERM stops the daemon within its grace period");
    assert!(status.success(), "{status:?}");
    let text = daemon.log_text();
    assert!(text.contains("Resuming a window interrupted by a stop"), "{text}");
    assert!(text.contains("semaphore stopped."), "{text}");
    let watermark = watermark(&setup).unwrap();
    let samples = assert_exactly_once(&broker.address, &simulator_model(300, 1), watermark);
    assert!(
        samples >= 300 * 2 * 60,
        "an hour of back-fill for 300 appliances: {samples}"
    );
    std::fs::remove_dir_all(&setup.directory).unwrap();
}

/// Issue 4: stop the broker for two minutes while the daemon runs: readiness and metrics show the outage,
/// and once it is back nothing is lost or duplicated.
#[test]
fn a_two_minute_broker_outage_loses_and_duplicates_nothing() {
    let simulator = Simulate::start(&["--appliances", "40"]);
    let broker_data = temp_dir("outage-broker");
    let data_argument = broker_data.display().to_string();
    let mut broker = Broker::start_with("127.0.0.1:0", &["--data-dir", &data_argument]);
    let brokers = broker.address.clone();
    let setup = write_config("outage", &simulator, &brokers, "initial_lookback_s = 600");
    let log = setup.directory.join("run.log");
    let mut daemon = Daemon::start(&setup.config, &log);
    let admin = daemon.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || caught_up(&setup)),
        "{}",
        daemon.log_text()
    );
    assert!(eventually(Duration::from_secs(15), || http_get(
        &admin, "/readyz"
    )
    .is_some_and(|(status, _)| status == 200)));
    let before_outage = watermark(&setup).unwrap();

    broker.stop().expect("the broker stops on SIGTERM");
    let outage_started = std::time::SystemTime::now();
    assert!(
        eventually(Duration::from_secs(30), || http_get(&admin, "/readyz")
            .is_some_and(
                |(status, body)| status == 503 && body.contains("kafka: not reached")
            )),
        "readiness shows the outage"
    );
    let (_, metrics) = http_get(&admin, "/metrics").unwrap();
    assert_eq!(metric(&metrics, "semaphore_kafka_up"), Some(0.0), "{metrics}");
    let outage = Duration::from_secs(120);
    std::thread::sleep(outage.saturating_sub(outage_started.elapsed().unwrap()));
    assert_eq!(
        watermark(&setup).unwrap(),
        before_outage,
        "no window advanced while Kafka was down"
    );

    // Back where the daemon's config says the broker is (the port the first start picked).
    let _broker = Broker::start_with(&brokers, &["--data-dir", &data_argument]);
    assert!(
        eventually(Duration::from_secs(120), || caught_up(&setup)
            && watermark(&setup).unwrap() > before_outage),
        "{}",
        daemon.log_text()
    );
    assert!(eventually(Duration::from_secs(30), || http_get(
        &admin, "/readyz"
    )
    .is_some_and(|(status, _)| status == 200)));
    let (_, metrics) = http_get(&admin, "/metrics").unwrap();
    assert_eq!(metric(&metrics, "semaphore_kafka_up"), Some(1.0), "{metrics}");
    daemon.signal("TERM");
    assert!(
        daemon
            .wait_exit(Duration::from_secs(20))
            .expect("stops")
            .success()
    );
    let watermark = watermark(&setup).unwrap();
    assert_exactly_once(&brokers, &simulator_model(40, 1), watermark);
    std::fs::remove_dir_all(&setup.directory).unwrap();
    std::fs::remove_dir_all(&broker_data).unwrap();
}

type Sample = (Option<f64>, Option<f64>);

/// What the simulator serves for every appliance, uplink and minute of `[from, to)`.
fn expected_samples(
    model: &Simulator,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<(String, String, DateTime<Utc>), Sample> {
    let mut expected = BTreeMap::new();
    for appliances in model.estate.appliances.values() {
        for appliance in appliances {
            for uplink in UPLINKS {
                let mut ts = from;
                while ts < to {
                    let sample = model
                        .series
                        .sample(&appliance.device.serial, uplink, PROBE_DESTINATION, ts);
                    expected.insert(
                        (appliance.device.serial.clone(), uplink.to_owned(), ts),
                        (sample.loss_percent, sample.latency_ms),
                    );
                    ts += TimeDelta::minutes(1);
                }
            }
        }
    }
    expected
}

/// Checks that the topic holds every simulated sample from its first one up to `watermark` exactly once,
/// each equal to the simulator's, each valid against the schema with its key and timestamp as DESIGN.md says.
fn assert_exactly_once(brokers: &str, model: &Simulator, watermark: DateTime<Utc>) -> usize {
    let validator = schema("meraki.uplink_loss_latency.v1.json");
    let envelopes = consume_all(brokers, UPLINKS_TOPIC);
    let mut seen: BTreeMap<(String, String, DateTime<Utc>), Sample> = BTreeMap::new();
    let mut duplicates = Vec::new();
    for envelope in &envelopes {
        let record = &envelope["value"];
        assert_valid(&validator, record);
        assert_eq!(envelope["key"], record["serial"], "the default key is the serial");
        let ts: DateTime<Utc> = record["ts"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            envelope["timestamp"].as_i64(),
            Some(ts.timestamp_millis()),
            "record time = sample time"
        );
        let key = (
            record["serial"].as_str().unwrap().to_owned(),
            record["uplink"].as_str().unwrap().to_owned(),
            ts,
        );
        let value = (record["lossPercent"].as_f64(), record["latencyMs"].as_f64());
        if seen.insert(key.clone(), value).is_some() {
            duplicates.push(key);
        }
    }
    assert!(
        duplicates.is_empty(),
        "{} duplicated samples, e.g. {:?}",
        duplicates.len(),
        &duplicates[..duplicates.len().min(3)]
    );
    let first = seen
        .keys()
        .map(|(_, _, ts)| *ts)
        .min()
        .expect("the topic has records");
    let expected = expected_samples(model, first, watermark);
    let missing: Vec<_> = expected
        .keys()
        .filter(|key| !seen.contains_key(*key))
        .take(3)
        .collect();
    assert!(missing.is_empty(), "samples missing (gap), e.g. {missing:?}");
    let extra: Vec<_> = seen
        .keys()
        .filter(|key| !expected.contains_key(*key))
        .take(3)
        .collect();
    assert!(
        extra.is_empty(),
        "samples the simulator did not serve or beyond the watermark {watermark}: {extra:?}"
    );
    for (key, value) in &expected {
        assert_eq!(&seen[key], value, "{key:?} differs from the simulator's series");
    }
    expected.len()
}
