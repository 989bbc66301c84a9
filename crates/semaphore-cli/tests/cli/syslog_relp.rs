//! Issue 13, RELP through the binary with a real sender: rsyslogd takes octet-counted RFC 5424 lines on
//! `imtcp` and relays them with `omrelp` to `[[sources.syslog]] listen = ["relp://…"]`. Every line is in
//! Kafka exactly once, with the fields sent. Then semaphore is killed (SIGKILL) mid-stream and started again
//! on the same port: rsyslog, which keeps every message until it is acknowledged, sends again what was not,
//! so every line is in Kafka at least once; the ones delivered whose acknowledgement died with the process
//! are there twice, and the test counts them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::rsyslog::{Rsyslog, rsyslogd_with_omrelp};
use crate::support::{
    Broker, Daemon, eventually, http_get, metric, port_of, required, syslog_schema_errors, temp_dir,
    try_consume_all,
};

const TOPIC: &str = "syslog.messages";
const LISTENING: &str = "Syslog listening (relp)";
/// The fields of every line sent; `<132>` is local0.warning.
const TIMESTAMP: &str = "2026-12-03T10:00:00.000001Z";
const HOSTNAME: &str = "relp-host";
const APP_NAME: &str = "relp-app";

/// The message of line `index`.
fn message(index: usize) -> String {
    format!("relp message {index:04}")
}

fn line(index: usize) -> String {
    format!(
        "<132>1 {TIMESTAMP} {HOSTNAME} {APP_NAME} 4242 ID47 - {}",
        message(index)
    )
}

/// A `semaphore.toml` with one syslog source listening on `listen`, its Kafka the test's broker.
fn write_config(directory: &Path, broker: &Broker, listen: &str) -> PathBuf {
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [[sources.syslog]]\nlisten = [\"{listen}\"]\n",
            data = directory.join("data").display(),
            brokers = broker.address,
        ),
    )
    .unwrap();
    config
}

/// How many times each line's message is in the topic, by line index.
fn arrivals(envelopes: &[Value]) -> HashMap<usize, usize> {
    let mut arrivals = HashMap::new();
    for envelope in envelopes {
        let index = envelope["value"]["message"]
            .as_str()
            .and_then(|message| message.strip_prefix("relp message "))
            .and_then(|index| index.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("a record that was not sent: {envelope}"));
        *arrivals.entry(index).or_default() += 1;
    }
    arrivals
}

/// Consumes the topic until each of the `count` lines is in it (up to `limit`); returns what it holds.
fn wait_for_every_line(broker: &Broker, count: usize, limit: Duration) -> Vec<Value> {
    let mut envelopes = Vec::new();
    eventually(limit, || {
        envelopes = try_consume_all(&broker.address, TOPIC).unwrap_or_default();
        arrivals(&envelopes).len() >= count
    });
    envelopes
}

/// A record has every field as sent, and says it came over RELP.
fn assert_fields(envelope: &Value) {
    let record = &envelope["value"];
    assert_eq!(envelope["key"], "127.0.0.1", "keyed by the sender: {envelope}");
    assert_eq!(record["transport"], "relp", "{record}");
    assert_eq!(record["sourceIp"], "127.0.0.1", "{record}");
    assert_eq!(record["facility"], 16, "{record}");
    assert_eq!(record["severity"], 4, "{record}");
    assert_eq!(record["hostname"], HOSTNAME, "{record}");
    assert_eq!(record["appName"], APP_NAME, "{record}");
    assert_eq!(record["procId"], "4242", "{record}");
    assert_eq!(record["msgId"], "ID47", "{record}");
    assert_eq!(record["tsSource"], "message", "{record}");
    let ts: chrono::DateTime<chrono::Utc> = record["ts"].as_str().unwrap().parse().unwrap();
    let sent: chrono::DateTime<chrono::Utc> = TIMESTAMP.parse().unwrap();
    assert_eq!(ts, sent, "{record}");
    assert_eq!(record["parseError"], Value::Null, "{record}");
    assert_eq!(record["truncated"], false, "{record}");
    let errors = syslog_schema_errors(record);
    assert!(errors.is_empty(), "{errors:?} in {record}");
}

#[test]
fn rsyslog_relays_over_relp_and_every_line_arrives_once_with_its_fields() {
    const COUNT: usize = 200;
    let Some(program) = rsyslogd_with_omrelp() else {
        required("rsyslogd with omrelp (rsyslog, rsyslog-relp)", false);
        return;
    };
    let broker = Broker::start();
    let directory = temp_dir("syslog-relp");
    let config = write_config(&directory, &broker, "relp://127.0.0.1:0");
    let daemon = Daemon::start(&config, &directory.join("semaphore.log"));
    let relp = daemon.listening_address(LISTENING);
    let rsyslog = Rsyslog::start(&program, &directory, port_of(&relp));

    rsyslog.send((0..COUNT).map(line), Duration::ZERO);
    let envelopes = wait_for_every_line(&broker, COUNT, Duration::from_secs(120));
    let arrived = arrivals(&envelopes);
    assert_eq!(
        arrived.len(),
        COUNT,
        "lines missing\nsemaphore:\n{}\nrsyslog:\n{}",
        daemon.log_text(),
        rsyslog.log_text()
    );
    assert_eq!(envelopes.len(), COUNT, "each line exactly once: {arrived:?}");
    for envelope in &envelopes {
        assert_fields(envelope);
    }

    // The listener's counters, by its bound address: every message, no framing error.
    let (_, metrics) = http_get(&daemon.admin_address(), "/metrics").expect("/metrics answers");
    let series = |name: &str| {
        metric(
            &metrics,
            &format!("{name}{{source=\"syslog\",listener=\"relp://{relp}\"}}"),
        )
    };
    assert_eq!(
        series("semaphore_listener_messages_total"),
        Some(COUNT as f64),
        "{metrics}"
    );
    assert_eq!(
        series("semaphore_listener_framing_errors_total"),
        Some(0.0),
        "{metrics}"
    );
}

#[test]
fn killed_mid_stream_semaphore_loses_nothing_as_rsyslog_sends_again_what_was_not_acknowledged() {
    // 3000 lines 10 ms apart: half a minute of stream, so the kill lands in its middle.
    const COUNT: usize = 3000;
    const PAUSE: Duration = Duration::from_millis(10);
    let Some(program) = rsyslogd_with_omrelp() else {
        required("rsyslogd with omrelp (rsyslog, rsyslog-relp)", false);
        return;
    };
    let broker = Broker::start();
    let directory = temp_dir("syslog-relp-kill");
    let config = write_config(&directory, &broker, "relp://127.0.0.1:0");
    let mut first = Daemon::start(&config, &directory.join("semaphore-1.log"));
    let relp = first.listening_address(LISTENING);
    let rsyslog = std::sync::Arc::new(Rsyslog::start(&program, &directory, port_of(&relp)));
    let sending = {
        let rsyslog = rsyslog.clone();
        std::thread::spawn(move || rsyslog.send((0..COUNT).map(line), PAUSE))
    };

    // Some lines are through: kill semaphore while the rest stream in (received, in Kafka or not, but not
    // acknowledged yet: rsyslog holds them).
    let through = eventually(Duration::from_secs(120), || {
        let envelopes = try_consume_all(&broker.address, TOPIC).unwrap_or_default();
        envelopes.len() >= 50
    });
    assert!(through, "no line came through:\n{}", first.log_text());
    first.signal("KILL");
    assert!(
        first.wait_exit(Duration::from_secs(10)).is_some(),
        "SIGKILL did not end semaphore"
    );
    assert!(
        !sending.is_finished(),
        "the stream ended before the kill: nothing was in flight"
    );

    // Again on the same port, where rsyslog reconnects.
    write_config(&directory, &broker, &format!("relp://{relp}"));
    let second = Daemon::start(&config, &directory.join("semaphore-2.log"));
    assert_eq!(second.listening_address(LISTENING), relp);
    sending.join().expect("every line went to rsyslog");

    let envelopes = wait_for_every_line(&broker, COUNT, Duration::from_secs(180));
    let arrived = arrivals(&envelopes);
    let missing: Vec<usize> = (0..COUNT).filter(|index| !arrived.contains_key(index)).collect();
    assert!(
        missing.is_empty(),
        "{} lines lost, from {:?}\nsemaphore (after the restart):\n{}\nrsyslog:\n{}",
        missing.len(),
        missing.first(),
        second.log_text(),
        rsyslog.log_text()
    );
    let duplicates = envelopes.len() - COUNT;
    let twice = arrived.values().filter(|times| **times > 1).count();
    eprintln!(
        "RELP across a SIGKILL: all {COUNT} lines in Kafka, {duplicates} extra records, {twice} lines twice"
    );
    for envelope in &envelopes {
        assert_fields(envelope);
    }
}
