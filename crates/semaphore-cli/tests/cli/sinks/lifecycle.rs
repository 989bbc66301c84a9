//! A sinks process killed and started again (no gap), and one stopped while its broker is gone (it exits in
//! time).

use std::time::Duration;

use crate::support::{Broker, Daemon, Simulate, eventually, have, http_get, required, temp_dir};

use super::{
    admin_metric, collect_once, delivered, have_python_kafka, influx_samples, kafka_samples, produce,
    sinks_config, start_influxdb, uplink_item,
};

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

/// A sinks-only process that has just delivered a batch, stopped while its broker is gone (killed before the
/// signal, or right after it), exits within its grace period plus a few seconds: its last commit waits for a
/// coordinator that never answers, and that wait must not hold the exit. It built no output (issue 10: the
/// sinks read through the Kafka handle, and a Kafka output would have nothing to write).
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
        assert_eq!(
            sinks.logged("Outputs ready.", "outputs").as_deref(),
            Some("[]"),
            "sinks alone build no output\n{}",
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
