//! The web dashboard in headless Chromium, driven by Playwright, updating live.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support;
use crate::support::{
    Broker, DASHBOARD_LISTENING, Daemon, Simulate, all_output, eventually, python_has, required, temp_dir,
};

use super::{
    LossLatency, collect_once, delivered, kafka_samples, newest_per_uplink, produce, sinks_config,
    syslog_item, uplink_item,
};

/// The dashboard of a small estate in headless Chromium: the page loads with every uplink a row of the
/// overview and a card, grouped by organization and network, charts drawn, down uplinks marked; records
/// produced while it is open appear without a reload, one with its firing alert, one marked down, and a
/// syslog line's log alert in its rule's group (and in `/api/snapshot`); the filter box narrows the cards. The screenshot is saved under the build output.
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
         metric = \"loss_percent\"\nabove = 5\nfor_samples = 1\n\
         [[sinks.alerts.syslog_rule]]\nname = \"link-down\"\nmnemonic = \"LINK-*-UPDOWN\"\n",
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
            syslog_item("10.9.0.2", chrono::Utc::now().timestamp()),
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
    assert_eq!(report["log_alerts"], 1, "{report}");
    assert_eq!(report["log_alert_rule"], "link-down", "{report}");
    let log_text = report["log_alert_text"].as_str().unwrap();
    assert!(log_text.contains("LINK-3-UPDOWN: Interface Gi0/1"), "{log_text}");
    assert_eq!(
        report["rows"],
        uplinks.len(),
        "a small estate: every uplink a row: {report}"
    );
    let (status, body) = support::http_get(&dashboard, "/api/snapshot").unwrap();
    assert_eq!(status, 200, "{body}");
    let snapshot: Value = serde_json::from_str(&body).unwrap();
    let log_alert = &snapshot["logAlerts"][0];
    assert_eq!(log_alert["rule"], "link-down", "{snapshot}");
    assert_eq!(log_alert["status"], "firing", "{snapshot}");
    assert_eq!(log_alert["serial"], "10.9.0.2", "{snapshot}");
    assert_eq!(report["cards_after_filter"], 1, "{report}");
    assert_eq!(report["errors"], json!([]), "no script errors: {report}");
    assert!(
        std::fs::metadata(&screenshot).unwrap().len() > 10_000,
        "screenshot saved"
    );
    eprintln!("dashboard screenshot: {}", screenshot.display());
}

/// How an uplink did over the samples Kafka holds, as the dashboard judges it: down now, down minutes, mean
/// loss and mean latency (over the minutes that have one, summed in time order as the server sums them).
#[derive(Debug)]
struct Judged {
    id: String,
    down_now: bool,
    down: usize,
    loss: Option<f64>,
    latency: Option<f64>,
}

fn judge(envelopes: &[Value]) -> Vec<Judged> {
    let mut by_uplink: std::collections::BTreeMap<String, Vec<LossLatency>> = Default::default();
    // Keys sort by time within an uplink.
    for ((serial, uplink, ip, _), sample) in kafka_samples(envelopes) {
        by_uplink
            .entry(format!("{serial}/{uplink}/{ip}"))
            .or_default()
            .push(sample);
    }
    let mean =
        |values: Vec<f64>| (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    by_uplink
        .into_iter()
        .map(|(id, samples)| Judged {
            down_now: samples.last().is_some_and(|(loss, _)| loss.is_none()),
            down: samples.iter().filter(|(loss, _)| loss.is_none()).count(),
            loss: mean(samples.iter().filter_map(|(loss, _)| *loss).collect()),
            latency: mean(samples.iter().filter_map(|(_, latency)| *latency).collect()),
            id,
        })
        .collect()
}

/// The README's "worst" order: down now, then most down minutes, highest mean loss, highest mean latency.
fn worst(judged: &[Judged]) -> &Judged {
    let highest = |left: Option<f64>, right: Option<f64>| match (left, right) {
        (Some(left), Some(right)) => right.total_cmp(&left),
        (left, right) => right.is_some().cmp(&left.is_some()),
    };
    judged
        .iter()
        .min_by(|left, right| {
            right
                .down_now
                .cmp(&left.down_now)
                .then(right.down.cmp(&left.down))
                .then(highest(left.loss, right.loss))
                .then(highest(left.latency, right.latency))
                .then(left.id.cmp(&right.id))
        })
        .expect("an estate")
}

/// Issue 15: the dashboard at 10,000 uplinks (5,000 simulated MX appliances in real-looking networks) in
/// headless Chromium. The overview renders one page of rows, the worst uplink of what Kafka holds first; the
/// answer stays small; filtering by a serial narrows to that device's two uplinks and draws their charts; an
/// uplink that goes down for the hour moves to the top without a reload; an alert group expands; a row opens
/// its uplink's detail.
#[test]
fn dashboard_at_ten_thousand_uplinks_shows_the_worst_first() {
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
    let simulator = Simulate::start(&["--appliances", "5000", "--networks", "0", "--rate-limit", "0"]);
    let broker = Broker::start();
    let envelopes = collect_once(&simulator, &broker.address, 600);
    let judged = judge(&envelopes);
    assert_eq!(judged.len(), 10_000, "two uplinks per MX");
    let expected_worst = worst(&judged).id.clone();
    let directory = temp_dir("dashboard-scale");
    let config = sinks_config(
        &directory,
        &broker.address,
        "[sinks.dashboard]\nlisten = \"127.0.0.1:0\"\n[[sinks.alerts]]\n[[sinks.alerts.rule]]\nname = \"uplink-down\"\n\
         metric = \"down\"\nabove = 0\nfor_samples = 1\n[[sinks.alerts.rule]]\nname = \"high-loss\"\nmetric = \"loss_percent\"\n\
         above = 5\nfor_samples = 1\n",
    );
    let sinks = Daemon::start(&config, &directory.join("sinks.log"));
    let admin = sinks.admin_address();
    let dashboard = sinks.listening_address(DASHBOARD_LISTENING);
    assert!(
        eventually(Duration::from_secs(120), || delivered(&admin, "dashboard")
            >= envelopes.len() as f64),
        "{}",
        sinks.log_text()
    );
    let (status, body) = support::http_get(&dashboard, "/api/overview").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.len() < 500_000, "the first answer is {} bytes", body.len());
    let (status, refusal) = support::http_get(&dashboard, "/api/overview?sort=speed").unwrap();
    assert_eq!(status, 400, "{refusal}");
    assert!(refusal.contains("worst, down, loss"), "{refusal}");
    // A healthy device's wan1 goes down for the whole hour: the live uplink.
    let live = judged
        .iter()
        .find(|uplink| uplink.down == 0 && uplink.id.ends_with("/wan1/8.8.8.8"))
        .expect("a healthy wan1");
    let live_serial = live.id.split('/').next().unwrap().to_owned();
    let filter_serial = judged[judged.len() / 2].id.split('/').next().unwrap().to_owned();
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-10000.png");
    let ready = directory.join("page-ready");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/support/dashboard_scale_check.py");
    let browser = Command::new("python3")
        .arg(script)
        .arg(format!("http://{dashboard}/"))
        .arg(&screenshot)
        .arg(&expected_worst)
        .arg(&filter_serial)
        .arg(&live.id)
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        eventually(Duration::from_secs(90), || ready.exists()),
        "the page became ready"
    );
    let down_hour: Vec<Value> = (-59..=0)
        .map(|minute| uplink_item(&live_serial, minute, None, None))
        .collect();
    produce(&broker.address, &down_hour);
    let (output, finished) = support::finish_within(browser, Duration::from_secs(120));
    assert!(finished && output.status.success(), "{}", all_output(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["first_row"], expected_worst.as_str(), "{report}");
    assert_eq!(report["rows"], 50, "{report}");
    assert!(report["dom_elements"].as_u64().unwrap() < 5_000, "{report}");
    assert_eq!(report["status_live"], true, "{report}");
    assert_eq!(report["filtered_rows"], 2, "{report}");
    assert_eq!(report["filtered_cards"], 2, "{report}");
    assert_eq!(report["rows_after_clear"], 50, "{report}");
    assert_eq!(report["live_first_row"], live.id.as_str(), "{report}");
    assert_eq!(report["not_reloaded"], true, "{report}");
    let group_events = report["group_events"].as_u64().unwrap();
    assert!((1..=20).contains(&group_events), "{report}");
    assert_eq!(report["detail_cards"], 1, "{report}");
    assert_eq!(report["selection_visible"], true, "{report}");
    assert_eq!(report["errors"], json!([]), "no script errors: {report}");
    eprintln!("dashboard screenshot: {}", screenshot.display());
}
