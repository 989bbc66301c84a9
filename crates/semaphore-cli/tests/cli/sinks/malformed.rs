//! Malformed messages on the topic: counted, logged with their offset and dead-lettered, while the sink
//! goes on.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Broker, Daemon, EXPORTER_LISTENING, consume_all, eventually, http_get, temp_dir};

use super::{
    DEAD_LETTER_TOPIC, UPLINKS_TOPIC, admin_metric, delivered, have_python_kafka, produce, sinks_config,
    uplink_item,
};

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
