//! Sinks run as a user runs them: a broker, a collector writing the simulator's samples once, and a
//! `semaphore run` of sinks in its own process against real InfluxDB (Debian `influxdb`), a real Prometheus
//! server (Debian `prometheus`, plus `promtool`), Chromium (Debian `chromium`, driven by Playwright) and
//! webhook receivers. Every destination is compared with the records Kafka holds.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    Broker, DASHBOARD_LISTENING, Daemon, EXPORTER_LISTENING, Simulate, all_output, consume_all, eventually,
    free_port, have, http_get, http_post, metric, python_has, required, semaphore, temp_dir, url_encode,
};

const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";
const DEAD_LETTER_TOPIC: &str = "semaphore.dead_letter";
const ALERTS_TOPIC: &str = "semaphore.alerts";

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

/// A Prometheus server scraping `target` every second, on a port it picks.
fn start_prometheus(target: &str) -> Server {
    let directory = temp_dir("prometheus");
    let config = directory.join("prometheus.yml");
    let log = directory.join("prometheus.log");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: semaphore\n    \
             static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            directory.join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("prometheus starts");
    // Made before the address is known, so that a failed wait kills Prometheus too.
    let mut server = Server {
        child,
        address: String::new(),
    };
    // Prometheus (2.42, Debian 12) logs the address it bound, port 0 resolved.
    server.address = logfmt_value(&log, "msg=\"Listening on\"", "address").unwrap_or_else(|| {
        panic!(
            "prometheus did not say where it listens: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    assert!(
        eventually(Duration::from_secs(30), || http_get(&server.address, "/-/ready")
            .is_some_and(|(status, _)| status == 200)),
        "prometheus did not become ready"
    );
    server
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

/// An instant PromQL query; the result vector.
fn prometheus_query(prometheus: &str, query: &str) -> Vec<Value> {
    let (status, body) = http_get(prometheus, &format!("/api/v1/query?query={}", url_encode(query))).unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    answer["data"]["result"].as_array().cloned().unwrap_or_default()
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

/// Every sample Kafka holds: id → (loss, latency).
fn kafka_samples(envelopes: &[Value]) -> BTreeMap<SampleId, (Option<f64>, Option<f64>)> {
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

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

/// One collector, three consumer groups (InfluxDB, the Prometheus exporter, the dashboard) reading the same
/// topic: each ends complete and equal to what Kafka holds; Prometheus scrapes the exporter and `promtool`
/// finds its exposition clean.
#[test]
fn three_consumer_groups_agree_with_kafka() {
    if !required("influxd (Debian influxdb)", have("influxd"))
        || !required(
            "prometheus and promtool (Debian prometheus)",
            have("prometheus") && have("promtool"),
        )
    {
        return;
    }
    // 55 minutes of 20 appliances: the simulator's flapping wan2 uplinks are down in the first 10 minutes of
    // every hour, so the window holds down samples; all of it stays inside the dashboard's hour.
    let simulator = Simulate::start(&["--appliances", "20"]);
    let broker = Broker::start();
    let envelopes = collect_once(&simulator, &broker.address, 3300);
    let in_kafka = kafka_samples(&envelopes);
    assert_eq!(in_kafka.len(), envelopes.len(), "each sample once in Kafka");
    assert!(
        in_kafka.len() >= 20 * 2 * 50,
        "55 minutes of 40 uplinks: {}",
        in_kafka.len()
    );
    assert!(
        in_kafka.values().any(|(loss, _)| loss.is_none()),
        "the simulator's estate has a down uplink in the window (null samples)"
    );

    let influxdb = start_influxdb();
    let directory = temp_dir("three-groups");
    let config = sinks_config(
        &directory,
        &broker.address,
        &format!(
            "[[sinks.influxdb]]\nendpoint = \"http://{influx}\"\ndatabase = \"meraki\"\nbatch_size = 50\n\
             [[sinks.prometheus]]\nlisten = \"127.0.0.1:0\"\n[sinks.dashboard]\nlisten = \"127.0.0.1:0\"\n",
            influx = influxdb.address,
        ),
    );
    let sinks = Daemon::start(&config, &directory.join("sinks.log"));
    let admin = sinks.admin_address();
    let exporter = sinks.listening_address(EXPORTER_LISTENING);
    let dashboard = sinks.listening_address(DASHBOARD_LISTENING);
    let total = envelopes.len() as f64;
    assert!(
        eventually(Duration::from_secs(90), || [
            "influxdb",
            "prometheus",
            "dashboard"
        ]
        .iter()
        .all(|sink| delivered(&admin, sink) >= total)),
        "every sink delivers every record: influxdb {} prometheus {} dashboard {} of {total}\n{}",
        delivered(&admin, "influxdb"),
        delivered(&admin, "prometheus"),
        delivered(&admin, "dashboard"),
        sinks.log_text()
    );

    // InfluxDB: every sample, the same values, `up` false exactly where Meraki reported no loss.
    let in_influx = influx_samples(&influxdb.address);
    assert_eq!(
        in_influx.keys().collect::<BTreeSet<_>>(),
        in_kafka.keys().collect::<BTreeSet<_>>(),
        "InfluxDB holds exactly the samples Kafka holds"
    );
    for (id, (loss, latency)) in &in_kafka {
        let (influx_loss, influx_latency, up) = in_influx[id];
        assert_eq!((influx_loss, influx_latency), (*loss, *latency), "{id:?}");
        assert_eq!(up, loss.is_some(), "{id:?}");
    }

    // Prometheus: the exporter's gauges, as scraped by a real server, equal each uplink's newest sample.
    let prometheus = start_prometheus(&exporter);
    let newest = newest_per_uplink(&envelopes);
    assert!(
        eventually(Duration::from_secs(30), || prometheus_query(
            &prometheus.address,
            "meraki_uplink_up"
        )
        .len()
            == newest.len()),
        "Prometheus scraped one meraki_uplink_up series per uplink"
    );
    let scraped = |query: &str| -> BTreeMap<UplinkId, f64> {
        prometheus_query(&prometheus.address, query)
            .iter()
            .map(|sample| {
                let label = |name: &str| sample["metric"][name].as_str().unwrap().to_owned();
                (
                    (label("serial"), label("uplink"), label("ip")),
                    sample["value"][1].as_str().unwrap().parse::<f64>().unwrap(),
                )
            })
            .collect()
    };
    let latency = scraped("meraki_uplink_latency_seconds");
    let loss = scraped("meraki_uplink_loss_ratio");
    let up = scraped("meraki_uplink_up");
    for (uplink, (_, newest_loss, newest_latency)) in &newest {
        assert_eq!(
            up[uplink],
            if newest_loss.is_some() { 1.0 } else { 0.0 },
            "{uplink:?}"
        );
        match (newest_loss, newest_latency) {
            (Some(newest_loss), Some(newest_latency)) => {
                assert!(close(latency[uplink], newest_latency / 1000.0), "{uplink:?}");
                assert!(close(loss[uplink], newest_loss / 100.0), "{uplink:?}");
            }
            _ => assert!(
                !latency.contains_key(uplink) && !loss.contains_key(uplink),
                "{uplink:?} is down"
            ),
        }
    }
    let exposition = http_get(&exporter, "/metrics").unwrap().1;
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), exposition.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success() && all_output(&checked).trim().is_empty(),
        "promtool check metrics: {}",
        all_output(&checked)
    );

    // The dashboard: every sample of the last hour, per uplink, equal to Kafka's.
    let (status, body) = http_get(&dashboard, "/api/snapshot").unwrap();
    assert_eq!(status, 200);
    let snapshot: Value = serde_json::from_str(&body).unwrap();
    let mut on_dashboard = BTreeMap::new();
    for uplink in snapshot["uplinks"].as_array().unwrap() {
        for point in uplink["points"].as_array().unwrap() {
            on_dashboard.insert(
                (
                    uplink["serial"].as_str().unwrap().to_owned(),
                    uplink["uplink"].as_str().unwrap().to_owned(),
                    uplink["ip"].as_str().unwrap().to_owned(),
                    point["t"].as_i64().unwrap(),
                ),
                (point["loss"].as_f64(), point["latency"].as_f64()),
            );
        }
    }
    assert_eq!(
        on_dashboard, in_kafka,
        "the dashboard shows every sample of the last hour"
    );

    // The Grafana dashboard's InfluxQL queries run against this data.
    for query in grafana_influxql_queries() {
        let series = influx_query(&influxdb.address, &query);
        assert!(!series.is_empty(), "the Grafana query returns data: {query}");
    }
}

/// The InfluxQL of every InfluxDB panel in `grafana/semaphore-uplinks.json`, Grafana's macros replaced as
/// Grafana replaces them for a "last hour" view.
fn grafana_influxql_queries() -> Vec<String> {
    grafana_targets("influxdb")
        .iter()
        .map(|target| {
            target["query"]
                .as_str()
                .expect("InfluxDB targets are raw InfluxQL")
                .replace("$timeFilter", "time > now() - 1h")
                .replace("$__interval", "1m")
                .replace("=~ /^$serial$/", "=~ /.*/")
                .replace("=~ /^$network$/", "=~ /.*/")
        })
        .collect()
}

/// The targets of the Grafana dashboard's panels on datasources of `kind`.
fn grafana_targets(kind: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../grafana/semaphore-uplinks.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|panel| panel["datasource"]["type"] == kind)
        .flat_map(|panel| panel["targets"].as_array().unwrap().clone())
        .collect()
}

/// The Grafana dashboard is what Grafana's import takes: datasource inputs for Prometheus and InfluxDB, every
/// panel bound to one of them, unique ids, and PromQL that Prometheus's own parser accepts (`promtool check
/// rules` on a rule per expression).
#[test]
fn grafana_dashboard_is_importable() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../grafana/semaphore-uplinks.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let inputs: BTreeMap<&str, &str> = dashboard["__inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| {
            (
                input["name"].as_str().unwrap(),
                input["pluginId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        inputs,
        BTreeMap::from([("DS_INFLUXDB", "influxdb"), ("DS_PROMETHEUS", "prometheus")])
    );
    assert!(dashboard["uid"].is_string() && dashboard["title"].is_string());
    assert!(dashboard["schemaVersion"].as_i64().unwrap() >= 36);
    let panels = dashboard["panels"].as_array().unwrap();
    let ids: BTreeSet<i64> = panels.iter().map(|panel| panel["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for panel in panels.iter().filter(|panel| panel["type"] != "row") {
        let uid = panel["datasource"]["uid"].as_str().unwrap();
        assert!(uid == "${DS_PROMETHEUS}" || uid == "${DS_INFLUXDB}", "{panel}");
        assert!(!panel["targets"].as_array().unwrap().is_empty(), "{panel}");
        assert!(panel["gridPos"]["w"].as_i64().unwrap() > 0);
    }
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        let uid = variable["datasource"]["uid"].as_str().unwrap();
        assert!(uid.starts_with("${DS_"), "{variable}");
    }
    let promql: Vec<String> = grafana_targets("prometheus")
        .iter()
        .map(|target| {
            target["expr"]
                .as_str()
                .unwrap()
                .replace("$serial", ".*")
                .replace("$network", ".*")
                .replace("$__rate_interval", "5m")
        })
        .collect();
    assert!(promql.len() >= 3, "{promql:?}");
    if !required("promtool (Debian prometheus)", have("promtool")) {
        return;
    }
    let directory = temp_dir("grafana");
    let rules = directory.join("rules.yml");
    let mut text = String::from("groups:\n  - name: grafana\n    rules:\n");
    for (index, expression) in promql.iter().enumerate() {
        text.push_str(&format!(
            "      - record: grafana:panel{index}\n        expr: {}\n",
            json!(expression)
        ));
    }
    std::fs::write(&rules, text).unwrap();
    let checked = Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert!(checked.status.success(), "{}", all_output(&checked));
}

/// Kill the InfluxDB sink's process (SIGKILL) in the middle of the topic and start it again: InfluxDB ends
/// with every sample, values equal to Kafka's. Records after the last commit are written twice, which InfluxDB
/// absorbs (same series and time: one point).
#[test]
fn killed_sink_restarts_without_a_gap() {
    if !required("influxd (Debian influxdb)", have("influxd")) {
        return;
    }
    let simulator = Simulate::start(&["--appliances", "40"]);
    let broker = Broker::start();
    let envelopes = collect_once(&simulator, &broker.address, 600);
    let total = envelopes.len() as f64;
    assert!(total >= 600.0, "{total}");
    let influxdb = start_influxdb();
    let directory = temp_dir("kill-sink");
    // One record per write, so the run lasts long enough to be killed in the middle.
    let config = sinks_config(
        &directory,
        &broker.address,
        &format!(
            "[[sinks.influxdb]]\nendpoint = \"http://{}\"\ndatabase = \"meraki\"\nbatch_size = 1\n",
            influxdb.address
        ),
    );
    let mut first = Daemon::start(&config, &directory.join("first.log"));
    let admin = first.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "influxdb")
            >= total / 4.0),
        "{}",
        first.log_text()
    );
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10)).expect("SIGKILL ends it");
    let before_restart = influx_samples(&influxdb.address).len() as f64;
    assert!(
        before_restart > 0.0 && before_restart < total,
        "killed in the middle: {before_restart} of {total} in InfluxDB"
    );

    let second = Daemon::start(&config, &directory.join("second.log"));
    let admin = second.admin_address();
    assert!(
        eventually(
            Duration::from_secs(120),
            || influx_samples(&influxdb.address).len() as f64 >= total
        ),
        "after the restart InfluxDB reaches every sample\n{}",
        second.log_text()
    );
    let resumed = delivered(&admin, "influxdb");
    assert!(
        resumed < total,
        "the restart resumed from the group's commit ({resumed} records read again of {total}), not from the start"
    );
    let in_kafka = kafka_samples(&envelopes);
    let in_influx = influx_samples(&influxdb.address);
    assert_eq!(in_influx.len(), in_kafka.len());
    for (id, (loss, latency)) in &in_kafka {
        let (influx_loss, influx_latency, _) = in_influx[id];
        assert_eq!((influx_loss, influx_latency), (*loss, *latency), "{id:?}");
    }
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

/// Malformed messages between good ones: each counted, logged with its offset, written to the dead-letter
/// topic with the reason; the good ones after them still reach the destination.
#[test]
fn malformed_messages_are_dead_lettered_and_the_sink_goes_on() {
    if !have_python_kafka() {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("malformed");
    let config = sinks_config(
        &directory,
        &broker.address,
        "[[sinks.prometheus]]\nlisten = \"127.0.0.1:0\"\n",
    );
    let sinks = Daemon::start(&config, &directory.join("sinks.log"));
    let admin = sinks.admin_address();
    let exporter = sinks.listening_address(EXPORTER_LISTENING);
    let mut wrong_schema = uplink_item("Q2XX-BAD-0003", -1, Some(1.0), Some(2.0));
    wrong_schema["headers"]["semaphore-schema"] = json!("meraki.network_clients/1");
    // One partition (same key) so the order is the order written.
    let items = vec![
        uplink_item("Q2AA-GOOD-0001", -3, Some(1.0), Some(10.0)),
        json!({"topic": UPLINKS_TOPIC, "key": "k", "value": "this is not JSON"}),
        json!({"topic": UPLINKS_TOPIC, "key": "k", "value": "{\"serial\": 42}"}),
        json!({"topic": UPLINKS_TOPIC, "key": "k", "value": wrong_schema["value"], "headers": wrong_schema["headers"]}),
        uplink_item("Q2AA-GOOD-0002", -2, Some(2.0), Some(20.0)),
    ];
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut item| {
            item["key"] = json!("same-partition");
            item
        })
        .collect();
    produce(&broker.address, &items);
    assert!(
        eventually(Duration::from_secs(60), || admin_metric(
            &admin,
            "semaphore_sink_dead_lettered_total{sink=\"prometheus\"}"
        ) >= 3.0
            && delivered(&admin, "prometheus") >= 2.0),
        "{}",
        sinks.log_text()
    );
    assert_eq!(
        admin_metric(&admin, "semaphore_sink_malformed_total{sink=\"prometheus\"}"),
        3.0
    );
    let exposition = http_get(&exporter, "/metrics").unwrap().1;
    assert!(
        exposition.contains("serial=\"Q2AA-GOOD-0002\""),
        "the record after the bad ones: {exposition}"
    );

    let dead = consume_all(&broker.address, DEAD_LETTER_TOPIC);
    assert_eq!(dead.len(), 3, "{dead:?}");
    let reasons: Vec<&str> = dead
        .iter()
        .map(|envelope| {
            envelope["headers"]["semaphore-dead-letter-reason"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(reasons[0].starts_with("not JSON"), "{reasons:?}");
    assert!(
        reasons[1].contains("not meraki.uplink_loss_latency/1"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("meraki.network_clients/1 is not one this sink takes"),
        "{reasons:?}"
    );
    let log = sinks.log_text();
    for envelope in &dead {
        assert_eq!(envelope["headers"]["semaphore-dead-letter-sink"], "prometheus");
        let origin = envelope["headers"]["semaphore-dead-letter-origin"]
            .as_str()
            .unwrap();
        assert!(origin.starts_with(&format!("{UPLINKS_TOPIC}/")), "{origin}");
        assert!(log.contains(origin), "the log names the offset {origin}");
    }
    assert_eq!(dead[0]["value"], "this is not JSON", "the payload kept as it was");
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

/// The webhook sink POSTs each record as its own JSON body with the configured header and bearer token; a
/// webhook that keeps failing has its records dead-lettered after `max_attempts`.
#[test]
fn webhook_posts_records_and_dead_letters_what_fails() {
    if !have_python_kafka() {
        return;
    }
    let broker = Broker::start();
    let (receiver, received) = webhook_receiver();
    let directory = temp_dir("webhook");
    let config = sinks_config(
        &directory,
        &broker.address,
        &format!(
            "[[sinks.webhook]]\nid = \"eda\"\nurl = \"http://{receiver}/endpoint\"\nheaders = {{ X-Team = \"noc\" }}\n\
             token_env = \"EDA_TOKEN\"\n\
             [[sinks.webhook]]\nid = \"broken\"\nurl = \"http://{receiver}/fail\"\nmax_attempts = 2\nbatch_size = 10\n"
        ),
    );
    let secret = "s3cr3t-eda-token";
    let sinks = Daemon::start_with_env(&config, &directory.join("sinks.log"), &[("EDA_TOKEN", secret)]);
    let admin = sinks.admin_address();
    let items: Vec<Value> = (0..3)
        .map(|index| uplink_item(&format!("Q2WH-0000-000{index}"), -index, Some(0.5), Some(12.0)))
        .collect();
    produce(&broker.address, &items);
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "eda") >= 3.0
            && admin_metric(
                &admin,
                "semaphore_sink_dead_lettered_total{sink=\"broken\"}"
            ) >= 3.0),
        "{}",
        sinks.log_text()
    );
    let got: Vec<(String, BTreeMap<String, String>, Value)> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(path, headers, body)| (path.clone(), headers.clone(), serde_json::from_str(body).unwrap()))
        .collect();
    let to_endpoint: Vec<&(String, BTreeMap<String, String>, Value)> =
        got.iter().filter(|(path, _, _)| path == "/endpoint").collect();
    assert_eq!(to_endpoint.len(), 3, "one POST per record (batch_size 1)");
    let mut serials: Vec<&str> = to_endpoint
        .iter()
        .map(|(_, _, body)| body["serial"].as_str().unwrap())
        .collect();
    serials.sort_unstable();
    assert_eq!(serials, ["Q2WH-0000-0000", "Q2WH-0000-0001", "Q2WH-0000-0002"]);
    for (_, headers, body) in &to_endpoint {
        assert_eq!(headers["authorization"], format!("Bearer {secret}"));
        assert_eq!(headers["x-team"], "noc");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            body["lossPercent"], 0.5,
            "the record itself is the body: EDA's event.payload"
        );
    }
    let dead = consume_all(&broker.address, DEAD_LETTER_TOPIC);
    assert_eq!(dead.len(), 3);
    for envelope in &dead {
        assert_eq!(envelope["headers"]["semaphore-dead-letter-sink"], "broken");
        let reason = envelope["headers"]["semaphore-dead-letter-reason"]
            .as_str()
            .unwrap();
        assert!(
            reason.contains("failed 2 times") && reason.contains("500"),
            "{reason}"
        );
    }
    assert!(
        !sinks.log_text().contains(secret),
        "the token never reaches the log"
    );
}

/// Rules fire once and resolve once per uplink; the events are valid `semaphore.alert/1`, reach the alerts
/// topic and the webhook; a second process reading every sample again (a new group) fires nothing twice.
#[test]
fn alerts_fire_once_resolve_once_and_survive_a_restart() {
    if !have_python_kafka() {
        return;
    }
    let broker = Broker::start();
    let (receiver, received) = webhook_receiver();
    let directory = temp_dir("alerts");
    let rules = |group: &str| {
        format!(
            "[[sinks.alerts]]\ngroup = \"{group}\"\n[sinks.alerts.webhook]\nurl = \"http://{receiver}/alerts\"\n\
             [[sinks.alerts.rule]]\nname = \"high-loss\"\nmetric = \"loss_percent\"\nabove = 5\nfor_samples = 3\n\
             [[sinks.alerts.rule]]\nname = \"slow\"\nmetric = \"latency_ms\"\nabove = 150\naverage_over_s = 300\n"
        )
    };
    let config = sinks_config(&directory, &broker.address, &rules("alerts-a"));
    let first = Daemon::start(&config, &directory.join("first.log"));
    // Loss 9 % for minutes -10..-6 (fires at the third), then 0 % (resolves); latency 200 ms all along
    // (the 5-minute average fires once the window is full, and stays firing).
    let mut items: Vec<Value> = (0..5)
        .map(|minute| uplink_item("Q2AL-0000-0001", minute - 10, Some(9.0), Some(200.0)))
        .collect();
    items.push(uplink_item("Q2AL-0000-0001", -5, Some(0.0), Some(200.0)));
    produce(&broker.address, &items);
    let events = || -> Vec<Value> {
        support::try_consume_all(&broker.address, ALERTS_TOPIC)
            .unwrap_or_default()
            .into_iter()
            .map(|envelope| envelope["value"].clone())
            .collect()
    };
    assert!(
        eventually(Duration::from_secs(60), || events().len() >= 3),
        "{}",
        first.log_text()
    );
    let summary = |events: &[Value]| -> Vec<(String, String, String)> {
        let mut summary: Vec<(String, String, String)> = events
            .iter()
            .map(|event| {
                (
                    event["rule"].as_str().unwrap().to_owned(),
                    event["status"].as_str().unwrap().to_owned(),
                    event["ts"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        summary.sort();
        summary
    };
    let minute = |offset: i64| {
        uplink_item("Q2AL-0000-0001", offset, None, None)["value"]
            .as_str()
            .map(|text| {
                serde_json::from_str::<Value>(text).unwrap()["ts"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .unwrap()
    };
    let expected = vec![
        ("high-loss".to_owned(), "firing".to_owned(), minute(-8)),
        ("high-loss".to_owned(), "resolved".to_owned(), minute(-5)),
        ("slow".to_owned(), "firing".to_owned(), minute(-6)),
    ];
    assert_eq!(summary(&events()), expected);
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/semaphore.alert.v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for event in events() {
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {event}");
    }
    let firing = events()
        .into_iter()
        .find(|event| event["rule"] == "high-loss")
        .unwrap();
    assert_eq!(firing["condition"], "lossPercent > 5 for 3 consecutive samples");
    assert_eq!(firing["startsAt"], minute(-10));
    assert!(
        eventually(Duration::from_secs(30), || received.lock().unwrap().len() >= 3),
        "the webhook receives the events"
    );
    let posted: Vec<Value> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, body)| serde_json::from_str(body).unwrap())
        .collect();
    assert_eq!(summary(&posted), expected);
    drop(first);

    // A new process in a new group reads every sample again: the alert state comes from the alerts topic,
    // so nothing fires twice; one more sample then resolves the latency alert, once.
    let config = sinks_config(&directory, &broker.address, &rules("alerts-b"));
    let second = Daemon::start(&config, &directory.join("second.log"));
    let admin = second.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "alerts") >= 6.0),
        "{}",
        second.log_text()
    );
    // Latency drops to 20 ms from minute -4. The restored alert's window starts after the sample it was
    // decided at (-6): -5 (200 ms) … -1 is the first full window, average (200 + 4 × 20) / 5 = 56 ms, so it
    // resolves at -1 (two minutes later than a run without the restart: delayed, never repeated).
    let recovery: Vec<Value> = (-4..=0)
        .map(|offset| uplink_item("Q2AL-0000-0001", offset, Some(0.0), Some(20.0)))
        .collect();
    produce(&broker.address, &recovery);
    assert!(
        eventually(Duration::from_secs(60), || events().len() >= 4),
        "{}",
        second.log_text()
    );
    // Not a pause but proof that a duplicate would be there by now: the sink counts a batch delivered only
    // after Kafka took the batch's events, so once all 11 samples (6 read again, 5 new) are counted, every
    // event they caused is on the alerts topic.
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "alerts") >= 11.0),
        "every sample after the restart was evaluated: {}",
        second.log_text()
    );
    let after = summary(&events());
    let mut expected_after = expected.clone();
    expected_after.push(("slow".to_owned(), "resolved".to_owned(), minute(-1)));
    expected_after.sort();
    assert_eq!(after, expected_after, "no duplicate firing after the restart");
    assert!(
        second.log_text().contains("\"firing\":1"),
        "the restored state: {}",
        second.log_text()
    );
}

/// The dashboard in headless Chromium: the page loads with every uplink grouped by organization and
/// network, charts drawn, down uplinks marked; records produced while it is open appear without a reload,
/// one with its firing alert, one marked down; the filter box narrows the cards. The screenshot is saved under the build output.
#[test]
fn dashboard_in_chromium_updates_live() {
    if !required(
        "Chromium (Debian chromium)",
        Path::new("/usr/bin/chromium").exists(),
    ) || !required(
        "Python playwright (pip install -r .ci/requirements.txt)",
        python_has("playwright"),
    ) || !required(
        "Python confluent-kafka (pip install -r .ci/requirements.txt)",
        python_has("confluent_kafka"),
    ) {
        return;
    }
    let simulator = Simulate::start(&["--appliances", "6"]);
    let broker = Broker::start();
    let envelopes = collect_once(&simulator, &broker.address, 600);
    let uplinks = newest_per_uplink(&envelopes);
    let directory = temp_dir("dashboard");
    let config = sinks_config(
        &directory,
        &broker.address,
        "[sinks.dashboard]\nlisten = \"127.0.0.1:0\"\n[[sinks.alerts]]\n[[sinks.alerts.rule]]\nname = \"high-loss\"\n\
         metric = \"loss_percent\"\nabove = 5\nfor_samples = 1\n",
    );
    let sinks = Daemon::start(&config, &directory.join("sinks.log"));
    let admin = sinks.admin_address();
    let dashboard = sinks.listening_address(DASHBOARD_LISTENING);
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "dashboard")
            >= envelopes.len() as f64),
        "{}",
        sinks.log_text()
    );
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let ready = directory.join("page-ready");
    let live_serial = "Q2LV-0000-0001";
    let down_serial = "Q2DN-0000-0001";
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/support/dashboard_check.py");
    let browser = Command::new("python3")
        .arg(script)
        .arg(format!("http://{dashboard}/"))
        .arg(&screenshot)
        .arg(live_serial)
        .arg(down_serial)
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        eventually(Duration::from_secs(90), || ready.exists()),
        "the page became ready"
    );
    produce(
        &broker.address,
        &[
            uplink_item(live_serial, 0, Some(12.5), Some(48.0)),
            uplink_item(down_serial, 0, None, None),
        ],
    );
    let (output, finished) = support::finish_within(browser, Duration::from_secs(120));
    assert!(finished && output.status.success(), "{}", all_output(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cards"], uplinks.len(), "{report}");
    assert_eq!(report["organizations"], 1, "{report}");
    assert!(report["networks"].as_u64().unwrap() >= 2, "{report}");
    assert_eq!(
        report["points"],
        envelopes.len(),
        "every sample charted: {report}"
    );
    assert!(
        report["polylines"].as_u64().unwrap() >= uplinks.len() as u64,
        "{report}"
    );
    let down_now = uplinks.values().filter(|(_, loss, _)| loss.is_none()).count();
    assert_eq!(report["down_cards"], down_now, "{report}");
    assert_eq!(report["not_reloaded"], true, "{report}");
    let live_text = report["live_card_text"].as_str().unwrap();
    assert!(
        live_text.contains("loss 12.5 %") && live_text.contains("latency 48.0 ms"),
        "{live_text}"
    );
    assert_eq!(report["live_card_alerting"], true, "{report}");
    assert_eq!(report["alerts_section_visible"], true, "{report}");
    let down_text = report["down_card_text"].as_str().unwrap();
    assert!(
        down_text.contains("DOWN") && down_text.contains("loss —"),
        "{down_text}"
    );
    assert_eq!(report["cards_after_filter"], 1, "{report}");
    assert_eq!(report["errors"], json!([]), "no script errors: {report}");
    assert!(
        std::fs::metadata(&screenshot).unwrap().len() > 10_000,
        "screenshot saved"
    );
    eprintln!("dashboard screenshot: {}", screenshot.display());
}

/// InfluxDB's answers that need the operator: a database that does not exist is named with the fix and
/// retried (nothing committed, nothing lost); once it exists every sample arrives.
#[test]
fn influxdb_missing_database_is_named_retried_and_nothing_is_lost() {
    if !required("influxd (Debian influxdb)", have("influxd")) {
        return;
    }
    let simulator = Simulate::start(&["--appliances", "3"]);
    let broker = Broker::start();
    let envelopes = collect_once(&simulator, &broker.address, 600);
    let influxdb = start_influxdb();
    let directory = temp_dir("influx-404");
    let config = sinks_config(
        &directory,
        &broker.address,
        &format!(
            "[[sinks.influxdb]]\nendpoint = \"http://{}\"\ndatabase = \"created_later\"\n",
            influxdb.address
        ),
    );
    let sinks = Daemon::start_with_env(
        &config,
        &directory.join("sinks.log"),
        &[("SEMAPHORE_INFLUXDB_PASSWORD", "influx-pass-never-logged")],
    );
    let admin = sinks.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || sinks
            .log_text()
            .contains("CREATE DATABASE")
            && admin_metric(
                &admin,
                "semaphore_sink_retries_total{sink=\"influxdb\"}"
            ) >= 2.0),
        "{}",
        sinks.log_text()
    );
    assert!(
        sinks.log_text().contains("no such database or bucket"),
        "{}",
        sinks.log_text()
    );
    assert_eq!(delivered(&admin, "influxdb"), 0.0);
    let (status, body) = http_post(
        &influxdb.address,
        "/query",
        "application/x-www-form-urlencoded",
        "q=CREATE%20DATABASE%20created_later",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        eventually(Duration::from_secs(90), || delivered(&admin, "influxdb")
            >= envelopes.len() as f64),
        "{}",
        sinks.log_text()
    );
    let path = format!(
        "/query?db=created_later&epoch=s&q={}",
        url_encode("SELECT count(latency) FROM meraki_uplink")
    );
    let (_, body) = http_get(&influxdb.address, &path).unwrap();
    let answer: Value = serde_json::from_str(&body).unwrap();
    let up_samples = envelopes
        .iter()
        .filter(|envelope| !envelope["value"]["latencyMs"].is_null())
        .count();
    assert_eq!(
        answer["results"][0]["series"][0]["values"][0][1], up_samples,
        "{answer}"
    );
    assert!(!sinks.log_text().contains("influx-pass-never-logged"));
}

/// InfluxDB 2.x's write API: `/api/v2/write?org=…&bucket=…&precision=s`, the token from
/// `SEMAPHORE_INFLUXDB_TOKEN` as `Authorization: Token …`, line protocol in the body. Debian ships InfluxDB
/// 1.6 only (no `/api/v2/write`, which came in 1.8), so a receiver stands in for the server here.
#[test]
fn influxdb_2_writes_with_org_bucket_and_token() {
    if !have_python_kafka() {
        return;
    }
    let broker = Broker::start();
    let (receiver, received) = webhook_receiver();
    let directory = temp_dir("influx-2");
    let config = sinks_config(
        &directory,
        &broker.address,
        &format!(
            "[[sinks.influxdb]]\nendpoint = \"http://{receiver}\"\norg = \"noc team\"\nbucket = \"meraki\"\n"
        ),
    );
    let token = "influx-v2-token-never-logged";
    let sinks = Daemon::start_with_env(
        &config,
        &directory.join("sinks.log"),
        &[("SEMAPHORE_INFLUXDB_TOKEN", token)],
    );
    let admin = sinks.admin_address();
    produce(
        &broker.address,
        &[
            uplink_item("Q2V2-0000-0001", -2, Some(1.5), Some(22.0)),
            uplink_item("Q2V2-0000-0001", -1, None, None),
        ],
    );
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "influxdb") >= 2.0),
        "{}",
        sinks.log_text()
    );
    let got = received.lock().unwrap().clone();
    let lines: Vec<&str> = got.iter().flat_map(|(_, _, body)| body.lines()).collect();
    let (path, headers, _) = &got[0];
    assert_eq!(path, "/api/v2/write?org=noc+team&bucket=meraki&precision=s");
    assert_eq!(headers["authorization"], format!("Token {token}"));
    let minute = |offset: i64| base_minute() + offset * 60;
    assert_eq!(
        lines,
        [
            format!(
                "meraki_uplink,device_name=Q2V2-0000-0001\\ mx,ip=8.8.8.8,network=N_TEST,network_name=Test\\ lab,org=1,\
                 serial=Q2V2-0000-0001,uplink=wan1 loss=1.5,latency=22.0,up=true {}",
                minute(-2)
            ),
            format!(
                "meraki_uplink,device_name=Q2V2-0000-0001\\ mx,ip=8.8.8.8,network=N_TEST,network_name=Test\\ lab,org=1,\
                 serial=Q2V2-0000-0001,uplink=wan1 up=false {}",
                minute(-1)
            ),
        ]
    );
    assert!(!sinks.log_text().contains(token));
}

/// `semaphore check -c` on a consumer process's config: lists each sink with what it reads, pings InfluxDB,
/// reaches Kafka, says Meraki is not used; an unset `token_env` variable and an unreachable InfluxDB are
/// named, with exit codes 2 (config) and 1 (runtime).
#[test]
fn check_describes_sinks_and_reaches_their_destinations() {
    if !required("influxd (Debian influxdb)", have("influxd")) {
        return;
    }
    let broker = Broker::start();
    let influxdb = start_influxdb();
    let directory = temp_dir("check-sinks");
    let sinks = |endpoint: &str| {
        format!(
            "[[sinks.influxdb]]\nendpoint = \"{endpoint}\"\ndatabase = \"meraki\"\n[[sinks.prometheus]]\n\
             [[sinks.webhook]]\nurl = \"http://127.0.0.1:5000/endpoint\"\ntoken_env = \"CHECK_EDA_TOKEN\"\n"
        )
    };
    let config = sinks_config(
        &directory,
        &broker.address,
        &sinks(&format!("http://{}", influxdb.address)),
    );
    let check = |env: &[(&str, &str)]| {
        semaphore()
            .args(["check", "-c"])
            .arg(&config)
            .env_remove("CHECK_EDA_TOKEN")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let unset = check(&[]);
    assert_eq!(unset.status.code(), Some(2), "{}", all_output(&unset));
    assert!(
        all_output(&unset).contains("token_env names CHECK_EDA_TOKEN, which is not set"),
        "{}",
        all_output(&unset)
    );

    let output = check(&[("CHECK_EDA_TOKEN", "t0ken-value")]);
    let text = all_output(&output);
    assert!(output.status.success(), "{text}");
    for expected in [
        "sink: influxdb (InfluxDB http://".to_owned(),
        format!("InfluxDB at http://{}/: reached", influxdb.address),
        "sink: prometheus (Prometheus exporter on http://127.0.0.1:9273/metrics; reads meraki.uplinks.loss_latency as group semaphore-prometheus)".to_owned(),
        "sink: webhook (webhook POST http://127.0.0.1:5000/endpoint".to_owned(),
        format!("Kafka at {}: reached", broker.address),
        "Meraki: not used".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in {text}");
    }
    assert!(!text.contains("t0ken-value"));

    // A port nobody listens on: it must stay closed, so it cannot be held, only picked.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let config = sinks_config(&directory, &broker.address, &sinks(&closed));
    let output = semaphore()
        .args(["check", "-c"])
        .arg(&config)
        .env("CHECK_EDA_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    assert!(
        all_output(&output).contains("sink influxdb: InfluxDB at 127.0.0.1:")
            && all_output(&output).contains("did not answer"),
        "{}",
        all_output(&output)
    );
}

/// An uplink that stops reporting disappears from the exporter after `expire_after_s`, rather than staying at
/// its last value; one that keeps reporting stays.
#[test]
fn exporter_series_expire_when_an_uplink_stops_reporting() {
    if !have_python_kafka() {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("expire");
    let config = sinks_config(
        &directory,
        &broker.address,
        "[[sinks.prometheus]]\nlisten = \"127.0.0.1:0\"\nexpire_after_s = 6\n",
    );
    let sinks = Daemon::start(&config, &directory.join("sinks.log"));
    let exporter = sinks.listening_address(EXPORTER_LISTENING);
    produce(
        &broker.address,
        &[
            uplink_item("Q2EX-GONE-0001", -3, Some(1.0), Some(10.0)),
            uplink_item("Q2EX-KEEP-0001", -3, Some(1.0), Some(10.0)),
        ],
    );
    let shown = |serial: &str| {
        http_get(&exporter, "/metrics")
            .is_some_and(|(_, text)| text.contains(&format!("serial=\"{serial}\"")))
    };
    assert!(
        eventually(Duration::from_secs(30), || shown("Q2EX-GONE-0001")
            && shown("Q2EX-KEEP-0001")),
        "{}",
        sinks.log_text()
    );
    // Only one uplink keeps reporting, every 2 seconds (the pause paces the reports; it waits for nothing).
    let mut minute = -2;
    assert!(
        eventually(Duration::from_secs(40), || {
            produce(
                &broker.address,
                &[uplink_item("Q2EX-KEEP-0001", minute, Some(1.0), Some(10.0))],
            );
            minute += 1;
            std::thread::sleep(Duration::from_secs(2));
            !shown("Q2EX-GONE-0001")
        }),
        "the silent uplink expired"
    );
    assert!(shown("Q2EX-KEEP-0001"), "the reporting uplink stays");
}

/// An alert webhook that fails every attempt: the event is still on the alerts topic, and the copy the
/// webhook did not take is in the dead-letter topic with the webhook's answer.
#[test]
fn alert_webhook_failures_are_dead_lettered() {
    if !have_python_kafka() {
        return;
    }
    let broker = Broker::start();
    let (receiver, _) = webhook_receiver();
    let directory = temp_dir("alert-webhook-fails");
    let config = sinks_config(
        &directory,
        &broker.address,
        &format!(
            "[[sinks.alerts]]\n[sinks.alerts.webhook]\nurl = \"http://{receiver}/fail\"\nmax_attempts = 2\n\
             [[sinks.alerts.rule]]\nname = \"down\"\nmetric = \"down\"\n"
        ),
    );
    let sinks = Daemon::start(&config, &directory.join("sinks.log"));
    let admin = sinks.admin_address();
    produce(&broker.address, &[uplink_item("Q2WF-0000-0001", -1, None, None)]);
    assert!(
        eventually(Duration::from_secs(60), || admin_metric(
            &admin,
            "semaphore_sink_dead_lettered_total{sink=\"alerts\"}"
        ) >= 1.0),
        "{}",
        sinks.log_text()
    );
    let events = consume_all(&broker.address, ALERTS_TOPIC);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["value"]["status"], "firing");
    let dead = consume_all(&broker.address, DEAD_LETTER_TOPIC);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["value"], events[0]["value"], "the event itself");
    assert_eq!(dead[0]["key"], "down/Q2WF-0000-0001/wan1/8.8.8.8");
    assert_eq!(dead[0]["headers"]["semaphore-schema"], "semaphore.alert/1");
    let reason = dead[0]["headers"]["semaphore-dead-letter-reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.starts_with("alert webhook: ") && reason.contains("failed 2 times") && reason.contains("500"),
        "{reason}"
    );
}

/// A sinks-only process that has just delivered a batch, stopped while its broker is gone (killed before the
/// signal, or right after it), exits within its grace period plus a few seconds: its last commit waits for a
/// coordinator that never answers, and that wait must not hold the exit.
#[test]
fn a_sink_process_exits_in_time_whatever_its_broker_does() {
    if !have_python_kafka() {
        return;
    }
    for broker_dies_first in [true, false] {
        let mut broker = Broker::start();
        let directory = temp_dir("shutdown");
        let config = sinks_config(
            &directory,
            &broker.address,
            "[[sinks.prometheus]]\nlisten = \"127.0.0.1:0\"\n",
        );
        let mut sinks = Daemon::start(&config, &directory.join("sinks.log"));
        let admin = sinks.admin_address();
        produce(
            &broker.address,
            &[uplink_item("Q2SD-STOP-0001", -1, Some(1.0), Some(10.0))],
        );
        assert!(
            eventually(Duration::from_secs(60), || delivered(&admin, "prometheus") >= 1.0),
            "{}",
            sinks.log_text()
        );
        if broker_dies_first {
            broker.child.kill().unwrap();
            broker.child.wait().unwrap();
            // Until the process has noticed, as in the reported hang ("all brokers down").
            assert!(
                eventually(Duration::from_secs(30), || admin_metric(
                    &admin,
                    "semaphore_kafka_up"
                ) == 0.0
                    && http_get(&admin, "/metrics").is_some()),
                "{}",
                sinks.log_text()
            );
            sinks.signal("TERM");
        } else {
            sinks.signal("TERM");
            broker.child.kill().unwrap();
            broker.child.wait().unwrap();
        }
        // The default grace period is 10 s; a few seconds more for the process to end.
        let status = sinks.wait_exit(Duration::from_secs(15));
        assert!(
            status.is_some(),
            "broker killed {}: the sink process did not exit within the grace period\n{}",
            if broker_dies_first {
                "before the signal"
            } else {
                "after the signal"
            },
            sinks.log_text()
        );
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
