//! The InfluxDB sink: a database that does not exist yet is named and retried until it does, and InfluxDB
//! 2.x's write API (org, bucket, token).

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Broker, Daemon, Simulate, eventually, have, http_get, http_post, required, temp_dir, url_encode,
};

use super::{
    admin_metric, base_minute, collect_once, delivered, have_python_kafka, produce, sinks_config,
    start_influxdb, uplink_item, webhook_receiver,
};

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
