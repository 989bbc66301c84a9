//! The webhook sink: one POST per record with the configured headers and token, and what keeps failing
//! dead-lettered.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Broker, Daemon, consume_all, eventually, temp_dir};

use super::{
    DEAD_LETTER_TOPIC, admin_metric, delivered, have_python_kafka, produce, sinks_config, uplink_item,
    webhook_receiver,
};

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
