//! The alerts sink: rules on uplinks and on syslog lines that fire and resolve once each, across a restart
//! too, and a failing alert webhook's events dead-lettered.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support;
use crate::support::{Broker, Daemon, consume_all, eventually, temp_dir};

use super::{
    DEAD_LETTER_TOPIC, admin_metric, base_minute, delivered, have_python_kafka, produce, sinks_config,
    syslog_item, uplink_item, webhook_receiver,
};

const ALERTS_TOPIC: &str = "semaphore.alerts";

/// Rules fire once and resolve once per uplink; a syslog rule fires on a line from the syslog topic and
/// resolves a window later, once the stream is quiet; the events are valid `semaphore.alert/1`, reach the
/// alerts topic and the webhook; a second process reading every sample and line again (a new group) fires
/// nothing twice.
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
             [[sinks.alerts.rule]]\nname = \"slow\"\nmetric = \"latency_ms\"\nabove = 150\naverage_over_s = 300\n\
             [[sinks.alerts.syslog_rule]]\nname = \"link-down\"\nseverity_at_least = \"err\"\n\
             mnemonic = \"%LINK-*\"\nwithin_s = 60\n"
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
    // One interface-down line, received ten minutes ago: the log alert fires at it and, no other line
    // coming, resolves 60 s after it (the sink's clock moved on by its idle tick).
    let line_received = base_minute() - 600;
    let line_resolved = line_received + 60;
    items.push(syslog_item("10.9.0.1", line_received));
    produce(&broker.address, &items);
    let events = || -> Vec<Value> {
        support::try_consume_all(&broker.address, ALERTS_TOPIC)
            .unwrap_or_default()
            .into_iter()
            .map(|envelope| envelope["value"].clone())
            .collect()
    };
    assert!(
        eventually(Duration::from_secs(60), || events().len() >= 5),
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
    let iso = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let expected = vec![
        ("high-loss".to_owned(), "firing".to_owned(), minute(-8)),
        ("high-loss".to_owned(), "resolved".to_owned(), minute(-5)),
        ("link-down".to_owned(), "firing".to_owned(), iso(line_received)),
        ("link-down".to_owned(), "resolved".to_owned(), iso(line_resolved)),
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
    let log_alert = events()
        .into_iter()
        .find(|event| event["rule"] == "link-down")
        .unwrap();
    assert_eq!(log_alert["serial"], "10.9.0.1", "the device: {log_alert}");
    assert_eq!(log_alert["deviceName"], "core-sw1");
    assert_eq!(log_alert["syslog"]["mnemonic"], "LINK-3-UPDOWN");
    assert_eq!(
        log_alert["syslog"]["message"],
        "Interface Gi0/1, changed state to down"
    );
    assert!(
        eventually(Duration::from_secs(30), || received.lock().unwrap().len() >= 5),
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

    // A new process in a new group reads every sample and line again: the alert state comes from the
    // alerts topic, so nothing fires twice; one more sample then resolves the latency alert, once.
    let config = sinks_config(&directory, &broker.address, &rules("alerts-b"));
    let second = Daemon::start(&config, &directory.join("second.log"));
    let admin = second.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "alerts") >= 7.0),
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
        eventually(Duration::from_secs(60), || events().len() >= 6),
        "{}",
        second.log_text()
    );
    // Not a pause but proof that a duplicate would be there by now: the sink counts a batch delivered only
    // after Kafka took the batch's events, so once all 12 records (6 samples and the line read again, 5 new
    // samples) are counted, every event they caused is on the alerts topic.
    assert!(
        eventually(Duration::from_secs(60), || delivered(&admin, "alerts") >= 12.0),
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
