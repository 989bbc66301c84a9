//! Sinks run as a user runs them: a broker, a collector writing the simulator's samples once, and a
//! `semaphore run` of sinks in its own process against real InfluxDB (Debian `influxdb`), a real Prometheus
//! server (Debian `prometheus`, plus `promtool`), Chromium (Debian `chromium`, driven by Playwright) and
//! webhook receivers. Every destination is compared with the records Kafka holds.
//!
//! One module per area (issue 10); this one holds what they share: InfluxDB started by the test, the
//! collector's run, the sinks' config and metrics, records produced as another team's client would, and a
//! webhook receiver.

mod alerts;
mod check;
mod dashboard;
mod influxdb;
mod lifecycle;
mod malformed;
mod prometheus;
mod webhook;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    Simulate, all_output, consume_all, eventually, http_get, http_post, metric, python_has, required,
    semaphore, temp_dir, url_encode,
};

const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";

const SYSLOG_TOPIC: &str = "syslog.messages";

const DEAD_LETTER_TOPIC: &str = "semaphore.dead_letter";

/// A server process the test started; killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `influxd` (1.x, Debian's) on ports it picks, its data in a temporary directory, database `meraki` made.
fn start_influxdb() -> Server {
    let directory = temp_dir("influxdb");
    let config = directory.join("influxdb.conf");
    let log = directory.join("influxd.log");
    std::fs::write(
        &config,
        format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:0\"\n[meta]\n  dir = \"{dir}/meta\"\n\
             [data]\n  dir = \"{dir}/data\"\n  wal-dir = \"{dir}/wal\"\n  query-log-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:0\"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n",
            dir = directory.display(),
        ),
    )
    .unwrap();
    let child = Command::new("influxd")
        .arg("-config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("influxd starts");
    // Made before the address is known, so that a failed wait kills influxd too.
    let mut server = Server {
        child,
        address: String::new(),
    };
    // influxd logs the HTTP address it bound, port 0 resolved (the RPC port is not used here).
    server.address = logfmt_value(&log, "msg=\"Listening on HTTP\"", "addr").unwrap_or_else(|| {
        panic!(
            "influxd did not say where it listens: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    assert!(
        eventually(Duration::from_secs(30), || http_get(&server.address, "/ping")
            .is_some_and(|(status, _)| status == 204)),
        "influxd did not answer /ping"
    );
    let (status, body) = http_post(
        &server.address,
        "/query",
        "application/x-www-form-urlencoded",
        "q=CREATE%20DATABASE%20meraki",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    server
}

/// An InfluxQL query against database `meraki`, times in seconds; the first statement's series.
fn influx_query(influxdb: &str, query: &str) -> Vec<Value> {
    let path = format!("/query?db=meraki&epoch=s&q={}", url_encode(query));
    let (status, body) = http_get(influxdb, &path).expect("influxd answers");
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert!(answer["results"][0]["error"].is_null(), "{query}: {answer}");
    answer["results"][0]["series"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The value of `key` in the first complete logfmt line of `log` that contains `message`, waiting up to 30 s
/// for it: how influxd and Prometheus say which address they bound.
fn logfmt_value(log: &Path, message: &str, key: &str) -> Option<String> {
    let mut value = None;
    eventually(Duration::from_secs(30), || {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        // A line still being written could end in the middle of the address.
        let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
        value = complete
            .lines()
            .filter(|line| line.contains(message))
            .find_map(|line| {
                line.split(' ')
                    .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
                    .map(str::to_owned)
            });
        value.is_some()
    });
    value
}

/// `run --once` of a collector into `brokers`: the simulator's last `lookback_s` seconds; returns what Kafka
/// holds.
fn collect_once(simulator: &Simulate, brokers: &str, lookback_s: u64) -> Vec<Value> {
    let directory = temp_dir("collector");
    let config = directory.join("collector.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[meraki]\nurl = \"{url}\"\n[kafka]\nbrokers = \"{brokers}\"\n[admin]\nlisten = \"\"\n\
             [[sources.meraki_uplinks]]\ninitial_lookback_s = {lookback_s}\n",
            data = directory.join("data").display(),
            url = simulator.base_url,
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
    consume_all(brokers, UPLINKS_TOPIC)
}

/// A config of sinks only, reading from `brokers`, its admin server (for its `/metrics`) on a port it picks:
/// [`Daemon::admin_address`] reads it from the log.
fn sinks_config(directory: &Path, brokers: &str, sinks: &str) -> PathBuf {
    let config = directory.join("sinks.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[kafka]\nbrokers = \"{brokers}\"\n[admin]\nlisten = \"127.0.0.1:0\"\n{sinks}",
            data = directory.join("data").display(),
        ),
    )
    .unwrap();
    config
}

/// Python's confluent-kafka, the outside client the tests produce with.
fn have_python_kafka() -> bool {
    required(
        "Python confluent-kafka (pip install -r .ci/requirements.txt)",
        python_has("confluent_kafka"),
    )
}

/// A sink's delivered-records counter from the process's `/metrics`.
fn delivered(admin: &str, sink: &str) -> f64 {
    http_get(admin, "/metrics")
        .and_then(|(_, text)| metric(&text, &format!("semaphore_sink_records_total{{sink=\"{sink}\"}}")))
        .unwrap_or(0.0)
}

fn admin_metric(admin: &str, name_and_labels: &str) -> f64 {
    http_get(admin, "/metrics")
        .and_then(|(_, text)| metric(&text, name_and_labels))
        .unwrap_or(0.0)
}

/// What identifies a sample: serial, uplink, ip, sample time (Unix seconds).
type SampleId = (String, String, String, i64);

fn sample_id(record: &Value) -> SampleId {
    let ts = chrono::DateTime::parse_from_rfc3339(record["ts"].as_str().unwrap())
        .unwrap()
        .timestamp();
    (
        record["serial"].as_str().unwrap().to_owned(),
        record["uplink"].as_str().unwrap().to_owned(),
        record["ip"].as_str().unwrap().to_owned(),
        ts,
    )
}

/// A sample's loss and latency, both absent when the uplink was down.
type LossLatency = (Option<f64>, Option<f64>);

/// Every sample Kafka holds: id → (loss, latency).
fn kafka_samples(envelopes: &[Value]) -> BTreeMap<SampleId, LossLatency> {
    envelopes
        .iter()
        .map(|envelope| {
            let record = &envelope["value"];
            (
                sample_id(record),
                (record["lossPercent"].as_f64(), record["latencyMs"].as_f64()),
            )
        })
        .collect()
}

/// Every point of measurement `meraki_uplink`: id → (loss, latency, up).
fn influx_samples(influxdb: &str) -> BTreeMap<SampleId, (Option<f64>, Option<f64>, bool)> {
    let series = influx_query(influxdb, "SELECT * FROM meraki_uplink");
    let mut samples = BTreeMap::new();
    for serie in series {
        let columns: Vec<&str> = serie["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|column| column.as_str().unwrap())
            .collect();
        let at = |name: &str| columns.iter().position(|column| *column == name).unwrap();
        for row in serie["values"].as_array().unwrap() {
            let text = |name: &str| row[at(name)].as_str().unwrap_or_default().to_owned();
            samples.insert(
                (
                    text("serial"),
                    text("uplink"),
                    text("ip"),
                    row[at("time")].as_i64().unwrap(),
                ),
                (
                    row[at("loss")].as_f64(),
                    row[at("latency")].as_f64(),
                    row[at("up")].as_bool().unwrap(),
                ),
            );
        }
    }
    samples
}

/// An uplink towards a destination: serial, uplink, ip.
type UplinkId = (String, String, String);

/// A sample's time (Unix seconds), loss and latency.
type Sample = (i64, Option<f64>, Option<f64>);

/// The newest sample of each uplink in Kafka.
fn newest_per_uplink(envelopes: &[Value]) -> BTreeMap<UplinkId, Sample> {
    let mut newest: BTreeMap<UplinkId, Sample> = BTreeMap::new();
    for (id, (loss, latency)) in kafka_samples(envelopes) {
        let (serial, uplink, ip, ts) = id;
        let entry = newest.entry((serial, uplink, ip)).or_insert((ts, loss, latency));
        if ts >= entry.0 {
            *entry = (ts, loss, latency);
        }
    }
    newest
}

/// Produces `items` (topic, key, value, headers) with Python's confluent-kafka, as another team's client would.
fn produce(brokers: &str, items: &[Value]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/support/produce.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(brokers)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for item in items {
        std::io::Write::write_all(&mut stdin, format!("{item}\n").as_bytes()).unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
}

/// The whole minute the test started in: sample times are minutes before it, the same for the whole test
/// even when the clock passes a minute boundary (nextest runs each test in its own process).
fn base_minute() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| chrono::Utc::now().timestamp().div_euclid(60) * 60)
}

/// An uplink record as the collector writes it, with the schema header, `minute_offset` minutes from the
/// test's start.
fn uplink_item(serial: &str, minute_offset: i64, loss: Option<f64>, latency: Option<f64>) -> Value {
    let ts = base_minute() + minute_offset * 60;
    let ts = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let record = json!({
        "organizationId": "1", "networkId": "N_TEST", "networkName": "Test lab", "serial": serial,
        "deviceName": format!("{serial} mx"), "model": "MX68", "tags": [], "uplink": "wan1", "ip": "8.8.8.8",
        "ts": ts, "lossPercent": loss, "latencyMs": latency, "jitter": null, "goodput": null,
        "activeDdnsHostname": null, "ddnsHostnameWan1": null, "ddnsHostnameWan2": null
    });
    json!({
        "topic": UPLINKS_TOPIC,
        "key": serial,
        "value": record.to_string(),
        "headers": {"content-type": "application/json", "semaphore-schema": "meraki.uplink_loss_latency/1"}
    })
}

/// A Cisco interface-down line (`%LINK-3-UPDOWN`, severity err) as the syslog source writes it, from
/// `sender`, received at `received_at` (Unix seconds), with the schema header.
fn syslog_item(sender: &str, received_at: i64) -> Value {
    let time = chrono::DateTime::from_timestamp(received_at, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let record = json!({
        "ts": time, "tsSource": "received", "receivedAt": time, "facility": 23, "facilityName": "local7",
        "severity": 3, "severityName": "err", "hostname": "core-sw1", "appName": null, "procId": null,
        "msgId": null, "structuredData": null, "message": "Interface Gi0/1, changed state to down",
        "vendor": "cisco", "mnemonic": "LINK-3-UPDOWN", "sequence": 58, "eventType": null, "fields": null,
        "parseError": null, "invalidUtf8": false, "sourceIp": sender, "sourcePort": 51514, "transport": "udp",
        "truncated": false, "raw": null
    });
    json!({
        "topic": SYSLOG_TOPIC,
        "key": sender,
        "value": record.to_string(),
        "headers": {"content-type": "application/json", "semaphore-schema": "syslog.message/1"}
    })
}

/// What a receiver got: path (with query), headers (lower-case names) and body of each request it accepted.
type Received = Arc<Mutex<Vec<(String, BTreeMap<String, String>, String)>>>;

/// A webhook receiver in the shape of Event-Driven Ansible's `ansible.eda.webhook` source: any path, a JSON
/// body (anything else is a 400), 200 on success. Paths under `/fail` answer 500. It also stands in for an
/// InfluxDB 2.x write endpoint: `/api/v2/write` takes any body with 204, as InfluxDB does.
fn webhook_receiver() -> (String, Received) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let received: Received = Arc::default();
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let store = store.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
                    let mut headers = BTreeMap::new();
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap();
                        headers.insert(name.trim().to_lowercase(), value.trim().to_owned());
                    }
                    let length: usize = headers
                        .get("content-length")
                        .map_or(0, |value| value.parse().unwrap());
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let text = String::from_utf8_lossy(&body).into_owned();
                    let status = if path.starts_with("/fail") {
                        "500 Internal Server Error"
                    } else if path.starts_with("/api/v2/write") {
                        "204 No Content"
                    } else if serde_json::from_str::<Value>(&text).is_ok() {
                        "200 OK"
                    } else {
                        "400 Bad Request"
                    };
                    if !status.starts_with('4') && !status.starts_with('5') {
                        store.lock().unwrap().push((path, headers, text));
                    }
                    let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                    if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (address, received)
}
