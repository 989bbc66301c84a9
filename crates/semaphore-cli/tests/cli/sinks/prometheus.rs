//! The Prometheus exporter as a real Prometheus server scrapes it, in the test that holds all three consumer
//! groups (InfluxDB, the exporter, the dashboard) against Kafka; its series expiring; and the Grafana
//! dashboard's import and queries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    Broker, DASHBOARD_LISTENING, Daemon, EXPORTER_LISTENING, Simulate, all_output, eventually, have,
    http_get, required, temp_dir, url_encode,
};

use super::{
    Server, UplinkId, collect_once, delivered, have_python_kafka, influx_query, influx_samples,
    kafka_samples, logfmt_value, newest_per_uplink, produce, sinks_config, start_influxdb, uplink_item,
};

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

/// An instant PromQL query; the result vector.
fn prometheus_query(prometheus: &str, query: &str) -> Vec<Value> {
    let (status, body) = http_get(prometheus, &format!("/api/v1/query?query={}", url_encode(query))).unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    answer["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
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
