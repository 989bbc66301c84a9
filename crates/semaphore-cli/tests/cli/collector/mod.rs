//! The collector run as a user runs it (issue 4): `semaphore run -c`, `publish`, `check -c` and `demo`
//! against `semaphore simulate` and `semaphore broker` processes, checked against the simulator's own series
//! and the project's JSON Schemas.

use crate::support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use semaphore_meraki_sim::estate::{PROBE_DESTINATION, UPLINKS};
use semaphore_meraki_sim::{EstateShape, SimConfig, Simulator};
use serde_json::Value;

use crate::support::{
    Broker, Daemon, EMBEDDED_BROKER_STARTED, Simulate, all_output, consume_all, eventually, finish_within,
    free_port, http_get, metric, semaphore, temp_dir,
};

const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";
const ORG_UPLINKS_OPERATION: &str = "GET /organizations/{organizationId}/devices/uplinksLossAndLatency";

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

/// Issue 4: one cycle costs one call per organization, whatever the number of appliances; `/metrics` says so.
#[test]
fn one_cycle_costs_one_call_per_organization_at_500_and_10000_appliances() {
    for (organizations, appliances) in [(2, 500), (1, 10_000)] {
        let simulator = Simulate::start(&[
            "--organizations",
            &organizations.to_string(),
            "--appliances",
            &appliances.to_string(),
        ]);
        let broker = Broker::start();
        let setup = write_config("cycle", &simulator, &broker.address, "initial_lookback_s = 60");
        let mut daemon = Daemon::start(&setup.config, &setup.directory.join("run.log"));
        let admin = daemon.admin_address();
        assert!(
            eventually(Duration::from_secs(120), || caught_up(&setup)),
            "{}",
            daemon.log_text()
        );
        // The next cycles find nothing new or one new minute: still one call per organization at most.
        let cycle =
            |metrics: &str| metric(metrics, "semaphore_cycle_api_requests{source=\"meraki_uplinks\"}");
        assert!(eventually(Duration::from_secs(30), || {
            http_get(&admin, "/metrics")
                .and_then(|(_, text)| cycle(&text))
                .is_some()
        }));
        let (_, metrics) = http_get(&admin, "/metrics").unwrap();
        assert!(cycle(&metrics).unwrap() <= organizations as f64, "{metrics}");
        assert_eq!(
            metric(&metrics, "semaphore_meraki_rate_limited_total"),
            Some(0.0),
            "{metrics}"
        );
        // Keeping up is checked by the watermark (caught up above), not by timing a cycle: this machine is
        // shared, and cycle times are measured in bench/collector_cycle.py.
        assert!(
            metric(&metrics, "semaphore_cycle_seconds{source=\"meraki_uplinks\"}").is_some(),
            "{metrics}"
        );
        let address = simulator
            .base_url
            .trim_start_matches("http://")
            .trim_end_matches("/api/v1")
            .to_owned();
        let (_, stats) = http_get(&address, "/_sim/stats").unwrap();
        let stats: Value = serde_json::from_str(&stats).unwrap();
        let polls = stats["by_operation"][ORG_UPLINKS_OPERATION].as_u64().unwrap();
        let cycles = metric(&metrics, "semaphore_polls_total{source=\"meraki_uplinks\"}").unwrap() as u64;
        assert!(
            polls <= cycles * organizations as u64 + organizations as u64,
            "{polls} org-wide calls for {cycles} cycles: {stats}"
        );
        assert_eq!(stats["rate_limited"], 0, "{stats}");
        daemon.signal("TERM");
        assert!(
            daemon
                .wait_exit(Duration::from_secs(20))
                .expect("stops")
                .success()
        );
        let records = consume_all(&broker.address, UPLINKS_TOPIC);
        assert!(
            records.len() >= organizations * appliances * 2,
            "{} records",
            records.len()
        );
        std::fs::remove_dir_all(&setup.directory).unwrap();
    }
}

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

/// Issue 11: publish's errors name its flags, not config keys its user never wrote: a taken `--admin-listen`
/// address is named as `--admin-listen`, with the OS error once.
#[test]
fn publish_names_a_taken_admin_address_by_its_flag() {
    let simulator = Simulate::start(&["--appliances", "2"]);
    let data = temp_dir("publish-admin");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = publish_once(
        &simulator,
        &data,
        &["loss-latency", "--output", "stdout", "--admin-listen", &address],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(1 | 2)), "{stderr}");
    let error = stderr
        .lines()
        .find(|line| line.starts_with("semaphore: error: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert!(
        error.contains(&format!("cannot listen on {address} for the admin server"))
            && error.contains("set --admin-listen")
            && !error.contains("[admin] listen"),
        "{error}"
    );
    assert_eq!(error.matches("(os error").count(), 1, "{error}");
    drop(taken);
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

/// `publish loss-latency --once --output syslog --syslog ENDPOINT`, which must succeed.
fn publish_once_to_syslog(simulator: &Simulate, endpoint: &str, data: &Path) {
    let output = publish_once(
        simulator,
        data,
        &["loss-latency", "--output", "syslog", "--syslog", endpoint],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
}

/// Syslog output: RFC 5424 over UDP and over TCP with octet counting, structured data carrying the fields.
#[test]
fn publish_to_syslog_over_udp_and_tcp() {
    let simulator = Simulate::start(&["--appliances", "5"]);
    // UDP: a datagram per record.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let endpoint = format!("udp://{}", socket.local_addr().unwrap());
    let data = temp_dir("syslog");
    publish_once_to_syslog(&simulator, &endpoint, &data.join("udp"));
    let mut buffer = vec![0u8; 65_536];
    let mut messages = Vec::new();
    while messages.len() < 5 * 2 * 5 {
        let length = socket.recv(&mut buffer).expect("a syslog datagram arrives");
        messages.push(String::from_utf8(buffer[..length].to_vec()).unwrap());
    }
    for message in &messages {
        // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG; local0 informational (134) or warning (132).
        assert!(
            message.starts_with("<134>1 ") || message.starts_with("<132>1 "),
            "{message}"
        );
        let fields: Vec<&str> = message.splitn(8, ' ').collect();
        assert!(fields[1].parse::<DateTime<Utc>>().is_ok(), "{message}");
        assert_eq!(fields[3], "semaphore");
        assert!(fields[4].parse::<u32>().is_ok(), "PROCID: {message}");
        assert_eq!(fields[5], "uplink_loss_latency");
        assert!(
            fields[6] == "[uplink@32473" && message.contains(" serial=\""),
            "{message}"
        );
        let json = &message[message.find("] {").unwrap() + 2..];
        let record: Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            message.starts_with("<132>"),
            record["lossPercent"].is_null(),
            "down uplinks are warnings"
        );
    }
    // TCP: octet counting, `LENGTH SP MESSAGE`.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let receiver = std::thread::spawn(move || {
        use std::io::Read;
        let (mut stream, _) = listener.accept().unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).unwrap();
        bytes
    });
    publish_once_to_syslog(&simulator, &endpoint, &data.join("tcp"));
    let bytes = receiver.join().unwrap();
    let mut rest = bytes.as_slice();
    let mut frames = 0;
    while !rest.is_empty() {
        let space = rest.iter().position(|byte| *byte == b' ').unwrap();
        let length: usize = std::str::from_utf8(&rest[..space]).unwrap().parse().unwrap();
        let message = std::str::from_utf8(&rest[space + 1..space + 1 + length]).unwrap();
        assert!(
            message.starts_with("<13") && message.contains("[uplink@32473 "),
            "{message}"
        );
        rest = &rest[space + 1 + length..];
        frames += 1;
    }
    assert_eq!(
        frames,
        5 * 2 * 5,
        "five minutes of two uplinks of five appliances"
    );
    std::fs::remove_dir_all(&data).unwrap();
}

/// `check -c`: a valid config is reported and its Meraki reached; a typo fails with exit code 2, naming the
/// key and its line.
#[test]
fn check_validates_a_config_and_names_mistakes() {
    let simulator = Simulate::start(&[]);
    let broker = Broker::start();
    let setup = write_config("check", &simulator, &broker.address, "");
    let output = semaphore()
        .args(["check", "-c"])
        .arg(&setup.config)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(
        text.contains("valid")
            && text.contains("meraki_uplinks (meraki_uplinks -> meraki.uplinks.loss_latency)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Kafka at {}: reached", broker.address)),
        "{text}"
    );
    assert!(text.contains("Meraki: reached"), "{text}");
    std::fs::write(
        &setup.config,
        "[[sources.meraki_uplinks]]\ninterval_s = 60\nintreval_s = 5\n",
    )
    .unwrap();
    let output = semaphore()
        .args(["check", "-c"])
        .arg(&setup.config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(
        text.contains("line 3") && text.contains("unknown field `intreval_s`"),
        "{text}"
    );
    // A broker address Kafka cannot have is a config error naming the key, not an unreachable Kafka.
    std::fs::write(
        &setup.config,
        "[kafka]\nbrokers = \"127.0.0.1:65536\"\n[[sources.meraki_uplinks]]\n",
    )
    .unwrap();
    let output = semaphore()
        .args(["check", "-c"])
        .arg(&setup.config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(text.contains("kafka.brokers") && text.contains("65535"), "{text}");
    std::fs::remove_dir_all(&setup.directory).unwrap();
}

/// A cron job must learn that `--once` wrote nothing: a misaddressed broker is a usage error before anything
/// runs, an unreachable one ends the run with exit 1 and one line saying so.
#[test]
fn publish_once_fails_clearly_when_kafka_is_misaddressed_or_unreachable() {
    let simulator = Simulate::start(&["--appliances", "2"]);
    let data = temp_dir("publish-no-kafka");
    for bad in ["127.0.0.1:0", "127.0.0.1:65536", "ftp://x", ""] {
        let output = publish_once(&simulator, &data, &["loss-latency", "--brokers", bad])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {}", all_output(&output));
        assert!(
            all_output(&output).contains("--brokers"),
            "{bad:?}: {}",
            all_output(&output)
        );
    }
    // A raw option against a producer default names the fix itself, not a file users do not have.
    let output = publish_once(
        &simulator,
        &data,
        &["loss-latency", "--brokers", "127.0.0.1:9", "-X", "acks=1"],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(
        text.contains("remove the option") && !text.contains("DESIGN.md"),
        "{text}"
    );
    let child = publish_once(&simulator, &data, &["loss-latency", "--brokers", "127.0.0.1:1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, finished) = support::finish_within(child, Duration::from_secs(60));
    assert!(finished, "publish --once kept waiting for an unreachable Kafka");
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    let errors: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with("semaphore: error:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(errors.len(), 1, "{}", all_output(&output));
    assert!(
        errors[0].contains("cannot reach Kafka at 127.0.0.1:1"),
        "{errors:?}"
    );
    std::fs::remove_dir_all(&data).unwrap();
}

/// A 401 is final: `--once` ends at once with the fix named; an unreachable Meraki ends it after a bound.
#[test]
fn publish_once_ends_on_a_refused_key_and_on_an_unreachable_meraki() {
    let simulator = Simulate::start(&["--appliances", "2", "--api-key", "the-right-key"]);
    let data = temp_dir("publish-401");
    let child = publish_once(&simulator, &data, &["loss-latency", "--output", "stdout"])
        .env("MERAKI_DASHBOARD_API_KEY", "a-wrong-key")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, finished) = support::finish_within(child, Duration::from_secs(30));
    assert!(finished, "publish --once retried a 401: {}", all_output(&output));
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    assert!(
        all_output(&output).contains("MERAKI_DASHBOARD_API_KEY"),
        "{}",
        all_output(&output)
    );
    let child = semaphore()
        .args(["publish", "loss-latency", "--once", "--output", "stdout"])
        .args(["--meraki-url", "http://127.0.0.1:1/api/v1", "--data-dir"])
        .arg(&data)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The documented bound is 60 s; the client's own retries usually end it sooner.
    let (output, finished) = support::finish_within(child, Duration::from_secs(75));
    assert!(
        finished,
        "publish --once waited for an unreachable Meraki without end"
    );
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    assert!(
        all_output(&output).contains("cannot list the Meraki organizations"),
        "{}",
        all_output(&output)
    );
    std::fs::remove_dir_all(&data).unwrap();
}

/// README's Quick start: the example config says `url = "global"`, and `--meraki-url` or
/// `SEMAPHORE_MERAKI_URL` must still win over it.
#[test]
fn flags_and_environment_override_the_files_meraki_url() {
    let simulator = Simulate::start(&["--appliances", "2"]);
    let data = temp_dir("meraki-url");
    let config = data.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[meraki]\nurl = \"global\"\n[admin]\nlisten = \"\"\n[[sources.meraki_uplinks]]\n[outputs.stdout]\n",
            data.join("state")
        ),
    )
    .unwrap();
    let reached = format!("Meraki: reached {}", simulator.base_url);
    let by_flag = semaphore()
        .args(["check", "-c"])
        .arg(&config)
        .args(["--meraki-url", &simulator.base_url])
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(by_flag.status.success(), "{}", all_output(&by_flag));
    assert!(
        all_output(&by_flag).contains(&reached),
        "{}",
        all_output(&by_flag)
    );
    let by_environment = semaphore()
        .args(["check", "-c"])
        .arg(&config)
        .env("SEMAPHORE_MERAKI_URL", &simulator.base_url)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(
        all_output(&by_environment).contains(&reached),
        "{}",
        all_output(&by_environment)
    );
    let run = semaphore()
        .args(["run", "--once", "-c"])
        .arg(&config)
        .env("SEMAPHORE_MERAKI_URL", &simulator.base_url)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", all_output(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("\"serial\""),
        "run --once wrote the simulator's samples: {}",
        all_output(&run)
    );
    std::fs::remove_dir_all(&data).unwrap();
}

/// `semaphore demo` on a fresh machine shows data flowing within a minute, and Ctrl-C ends it cleanly.
#[test]
fn demo_shows_data_flowing_within_a_minute() {
    // Port 0 everywhere: the demo binds ports it picks, and its banner says which.
    let mut child = semaphore()
        .args([
            "demo",
            "--appliances",
            "8",
            "--broker-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--dashboard-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = std::time::SystemTime::now();
    let mut banner = Vec::new();
    let mut flowing = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(count) = line.split("records read back from Kafka: ").nth(1) {
            let records: u64 = count.split(' ').next().unwrap().parse().unwrap();
            if records > 0 {
                flowing = Some(line);
                break;
            }
        } else {
            banner.push(line);
        }
        assert!(
            started.elapsed().unwrap() < Duration::from_secs(60),
            "no data within a minute: {banner:?}"
        );
    }
    let flowing = flowing.expect("the demo reports records");
    assert!(flowing.contains("uplinks: 16"), "{flowing}");
    let banner = banner.join("\n");
    assert!(
        banner.contains("Kafka (embedded)")
            && banner.contains("semaphore consume meraki.uplinks.loss_latency --brokers 127.0.0.1:"),
        "{banner}"
    );
    let dashboard = banner
        .lines()
        .filter(|line| line.contains("dashboard (browser)"))
        .find_map(|line| line.split_once("http://"))
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_else(|| panic!("the banner names no dashboard address: {banner}"));
    assert!(banner.contains(&format!("http://{dashboard}/")), "{banner}");
    let (status, page) = http_get(&dashboard, "/").expect("the dashboard answers");
    assert!(status == 200 && page.contains("<title>semaphore"), "{page}");
    assert!(
        eventually(Duration::from_secs(30), || {
            let (_, snapshot) = http_get(&dashboard, "/api/snapshot").unwrap();
            let snapshot: Value = serde_json::from_str(&snapshot).unwrap();
            snapshot["uplinks"].as_array().unwrap().len() == 16
        }),
        "the demo's dashboard shows every uplink"
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = std::time::SystemTime::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::SystemTime::now() < deadline,
            "demo did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
}

/// Issue 11, item 5: `semaphore demo | head -3` ends the demo with exit 0, instead of running on unseen.
#[test]
fn demo_stops_when_its_reader_goes_away() {
    let directory = temp_dir("demo-head");
    let log_path = directory.join("stderr.log");
    // The log goes to a file, not a pipe nobody reads while the demo runs, so it can never block the demo.
    let log_file = std::fs::File::create(&log_path).unwrap();
    let mut child = semaphore()
        .args([
            "demo",
            "--appliances",
            "4",
            "--broker-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--dashboard-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..3 {
        lines.next().expect("the demo prints its banner").unwrap();
    }
    // As `head -3` exits: the pipe's only read end closes.
    drop(lines);
    // The next status line (every 3 s when piped) meets the closed pipe; then the drain has the default 10 s
    // grace period; the rest is slack for a busy machine.
    let (output, finished) = finish_within(child, Duration::from_secs(30));
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        finished,
        "the demo still ran 30 s after its reader went away:\n{log}"
    );
    assert!(output.status.success(), "{:?}\n{log}", output.status);
    assert!(log.contains("Standard output was closed by its reader"), "{log}");
    std::fs::remove_dir_all(&directory).unwrap();
}

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

/// Syslog over TLS (RFC 5425) to a real TLS server (`openssl s_server`) with a self-signed certificate.
#[test]
fn publish_to_syslog_over_tls() {
    if !support::have("openssl") {
        // Only where the package is absent; .ci/run installs it, so CI never skips this.
        eprintln!("SKIPPED: openssl is not installed (apt-get install openssl)");
        return;
    }
    let simulator = Simulate::start(&["--appliances", "3"]);
    let directory = temp_dir("syslog-tls");
    let (certificate, key) = support::self_signed(
        &directory,
        "syslog",
        "/CN=localhost",
        // rustls refuses a certificate that is both CA and server (CaUsedAsEndEntity): a plain leaf, trusted
        // as is.
        &[
            "subjectAltName=DNS:localhost",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    // openssl s_server -quiet does not say which port it bound (and without -quiet its banner would mix with
    // the syslog frames on stdout), so the port is picked here.
    let port = free_port();
    let server = std::process::Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            // The readiness probe below is the first connection, semaphore's the second.
            "-naccept",
            "2",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
        ])
        .arg(&certificate)
        .arg("-key")
        .arg(&key)
        // Held open and never written: s_server sends what it reads on stdin, and closes at its end.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let endpoint = format!("tls://localhost:{port}");
    let arguments = [
        "loss-latency",
        "--output",
        "syslog",
        "--syslog",
        &endpoint,
        "--syslog-ca",
        certificate.to_str().unwrap(),
    ];
    let publish = publish_once(&simulator, &directory.join("data"), &arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, finished) = support::finish_within(publish, Duration::from_secs(60));
    assert!(
        finished,
        "publish over TLS did not finish: {}",
        all_output(&output)
    );
    assert!(output.status.success(), "{}", all_output(&output));
    let received = server.wait_with_output().unwrap();
    let text = String::from_utf8(received.stdout).unwrap();
    let frames = text.matches(" [uplink@32473 ").count();
    assert_eq!(
        frames,
        3 * 2 * 5,
        "five minutes of two uplinks of three appliances: {text}"
    );
    assert!(
        text.starts_with(|character: char| character.is_ascii_digit()),
        "octet counting: {text}"
    );
    // An unreachable destination is retried (nothing is dropped), the log says why, and Ctrl-C then ends
    // `--once` after the grace period with exit code 1: its records were not delivered.
    let arguments = [
        "loss-latency",
        "--output",
        "syslog",
        "--syslog",
        "tls://localhost:9",
        "--grace-period-s",
        "1",
    ];
    // The log goes to a file the test can read while the process runs.
    let log_path = directory.join("unreachable.log");
    let unreachable = publish_once(&simulator, &directory.join("data2"), &arguments)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    // Ctrl-C once the output has met the unreachable destination and retries: the source is then writing.
    // Should that never happen, the assertions below say what the process did instead.
    eventually(Duration::from_secs(60), || {
        std::fs::read_to_string(&log_path)
            .is_ok_and(|log| log.contains("cannot reach syslog at tls://localhost:9"))
    });
    std::process::Command::new("kill")
        .args(["-INT", &unreachable.id().to_string()])
        .status()
        .unwrap();
    let (output, finished) = support::finish_within(unreachable, Duration::from_secs(10));
    let text = format!(
        "{}{}",
        all_output(&output),
        std::fs::read_to_string(&log_path).unwrap()
    );
    assert!(finished, "Ctrl-C ends it within the grace period: {text}");
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot reach syslog at tls://localhost:9"),
        "{text}"
    );
    assert!(
        text.contains("stopped at the end of the 1s grace period: source meraki_uplinks was still writing"),
        "{text}"
    );
    std::fs::remove_dir_all(&directory).unwrap();
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
