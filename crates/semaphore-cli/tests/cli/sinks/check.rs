//! `semaphore check -c` on a config of sinks: what each reads, and whether its destination answers.

use crate::support::{Broker, all_output, free_port, have, required, semaphore, temp_dir};

use super::{sinks_config, start_influxdb};

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
