//! `semaphore demo`: data flowing within a minute, and the demo stopping when its reader goes away.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::{eventually, finish_within, http_get, semaphore, temp_dir};

/// `semaphore demo` on a fresh machine shows data flowing within a minute, and Ctrl-C ends it cleanly.
#[test]
fn demo_shows_data_flowing_within_a_minute() {
    // Port 0 everywhere: the demo binds ports it picks, and its banner says which.
    let mut child = semaphore()
        .args([
            "demo",
            "--appliances",
            "8",
            "--broker-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--dashboard-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = std::time::SystemTime::now();
    let mut banner = Vec::new();
    let mut flowing = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(count) = line.split("records read back from Kafka: ").nth(1) {
            let records: u64 = count.split(' ').next().unwrap().parse().unwrap();
            if records > 0 {
                flowing = Some(line);
                break;
            }
        } else {
            banner.push(line);
        }
        assert!(
            started.elapsed().unwrap() < Duration::from_secs(60),
            "no data within a minute: {banner:?}"
        );
    }
    let flowing = flowing.expect("the demo reports records");
    assert!(flowing.contains("uplinks: 16"), "{flowing}");
    let banner = banner.join("\n");
    // Issue 15: the banner says what the simulator made; the networks' number follows from the layout.
    assert!(
        banner.contains("(1 organization, ") && banner.contains(", 8 MX appliances, 16 uplinks)"),
        "{banner}"
    );
    assert!(
        banner.contains("Kafka (embedded)")
            && banner.contains("semaphore consume meraki.uplinks.loss_latency --brokers 127.0.0.1:"),
        "{banner}"
    );
    let dashboard = banner
        .lines()
        .filter(|line| line.contains("dashboard (browser)"))
        .find_map(|line| line.split_once("http://"))
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_else(|| panic!("the banner names no dashboard address: {banner}"));
    assert!(banner.contains(&format!("http://{dashboard}/")), "{banner}");
    let (status, page) = http_get(&dashboard, "/").expect("the dashboard answers");
    assert!(status == 200 && page.contains("<title>semaphore"), "{page}");
    assert!(
        eventually(Duration::from_secs(30), || {
            let (_, snapshot) = http_get(&dashboard, "/api/snapshot").unwrap();
            let snapshot: Value = serde_json::from_str(&snapshot).unwrap();
            snapshot["uplinks"].as_array().unwrap().len() == 16
        }),
        "the demo's dashboard shows every uplink"
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = std::time::SystemTime::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::SystemTime::now() < deadline,
            "demo did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
}

/// Issue 11, item 5: `semaphore demo | head -3` ends the demo with exit 0, instead of running on unseen.
#[test]
fn demo_stops_when_its_reader_goes_away() {
    let directory = temp_dir("demo-head");
    let log_path = directory.join("stderr.log");
    // The log goes to a file, not a pipe nobody reads while the demo runs, so it can never block the demo.
    let log_file = std::fs::File::create(&log_path).unwrap();
    let mut child = semaphore()
        .args([
            "demo",
            "--appliances",
            "4",
            "--broker-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--dashboard-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..3 {
        lines.next().expect("the demo prints its banner").unwrap();
    }
    // As `head -3` exits: the pipe's only read end closes.
    drop(lines);
    // The next status line (every 3 s when piped) meets the closed pipe; then the drain has the default 10 s
    // grace period; the rest is slack for a busy machine.
    let (output, finished) = finish_within(child, Duration::from_secs(30));
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        finished,
        "the demo still ran 30 s after its reader went away:\n{log}"
    );
    assert!(output.status.success(), "{:?}\n{log}", output.status);
    assert!(log.contains("Standard output was closed by its reader"), "{log}");
    std::fs::remove_dir_all(&directory).unwrap();
}
