//! `semaphore simulate` and `semaphore check` run as a user runs them.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{Simulate, all_output, finish_within, semaphore};

const SECRET: &str = "5ecr3t-0123456789abcdef0123456789abcdef";

#[test]
fn check_reports_what_the_simulator_serves() {
    let simulator = Simulate::start(&[
        "--organizations",
        "2",
        "--networks",
        "7",
        "--appliances",
        "1500",
        "--seed",
        "4",
    ]);
    assert!(
        simulator.banner[1].contains("7 networks, 1500 appliances"),
        "{:?}",
        simulator.banner
    );
    let output = semaphore()
        .args(["check", "--meraki-url", &simulator.base_url])
        .env("MERAKI_DASHBOARD_API_KEY", SECRET)
        .output()
        .unwrap();
    let text = all_output(&output);
    assert!(output.status.success(), "{text}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("Meraki: reached {}", simulator.base_url)),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("7 networks, 1500 devices, 1500 appliances")
            .count(),
        2,
        "{stdout}"
    );
    // One call for organizations, then per organization one networks page and two device pages.
    assert!(
        stdout.contains("API calls: 7 requests, 7 pages, 0 rate-limited (429), 0 retries"),
        "{stdout}"
    );
    assert!(!text.contains(SECRET));

    let json = semaphore()
        .args(["check", "--format", "json"])
        .env("SEMAPHORE_MERAKI_URL", &simulator.base_url)
        .env("MERAKI_DASHBOARD_API_KEY", SECRET)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("--format json prints JSON");
    assert_eq!(report["organizations"].as_array().unwrap().len(), 2);
    assert_eq!(report["api"]["rate_limited"], 0);
}

#[test]
fn simulator_stops_cleanly_on_sigterm_and_sigint() {
    for signal in ["TERM", "INT"] {
        let mut simulator = Simulate::start(&[]);
        let status = simulator.stop_with(signal);
        assert!(status.success(), "SIG{signal}: {status:?}");
    }
}

/// Issue 11, item 11: logs written into a pipe (as into a file or journald) carry no ANSI colour codes.
#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    let mut child = semaphore()
        .args(["simulate", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("the address line").unwrap();
    assert!(first.contains("http://127.0.0.1:"), "{first}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let (output, finished) = finish_within(child, Duration::from_secs(10));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(finished && output.status.success(), "{:?}\n{log}", output.status);
    assert!(log.contains("Meraki API simulator listening."), "{log}");
    assert!(!log.contains("\x1b["), "{log:?}");
    drop(lines);
}

#[test]
fn failing_runs_never_print_the_key() {
    // Wrong key: the simulator accepts only another one.
    let strict = Simulate::start(&["--api-key", "the-only-valid-key"]);
    let output = semaphore()
        .args(["check", "--meraki-url", &strict.base_url])
        .env("MERAKI_DASHBOARD_API_KEY", SECRET)
        .env("SEMAPHORE_LOG", "trace")
        .output()
        .unwrap();
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("401") && text.contains("check MERAKI_DASHBOARD_API_KEY"),
        "{text}"
    );
    assert!(
        text.contains("TRACE") || text.contains("DEBUG"),
        "trace logging was on: {text}"
    );
    assert!(!text.contains(SECRET), "the key leaked:\n{text}");

    // A redirect to a foreign host: refused, key kept.
    let redirecting = Simulate::start(&["--fault", "redirect-to=http://127.0.0.1:9/api/v1"]);
    let output = semaphore()
        .args(["check", "--meraki-url", &redirecting.base_url])
        .env("MERAKI_DASHBOARD_API_KEY", SECRET)
        .env("SEMAPHORE_LOG", "trace")
        .output()
        .unwrap();
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("refused to follow the redirect") && text.contains("127.0.0.1:9"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "the key leaked:\n{text}");

    // The simulator's own key stays out of --help even when set in the environment.
    let help = semaphore()
        .args(["simulate", "--help"])
        .env("SEMAPHORE_SIM_API_KEY", SECRET)
        .output()
        .unwrap();
    let text = all_output(&help);
    assert!(text.contains("--api-key") && !text.contains(SECRET), "{text}");
}

#[test]
fn configuration_mistakes_exit_2_with_the_fix() {
    let output = semaphore()
        .args(["check", "--meraki-url", "http://127.0.0.1:9/api/v1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        all_output(&output).contains("set MERAKI_DASHBOARD_API_KEY"),
        "{}",
        all_output(&output)
    );

    let output = semaphore()
        .args(["check", "--meraki-url", "mars"])
        .env("MERAKI_DASHBOARD_API_KEY", SECRET)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        all_output(&output).contains("region: global, ca, cn, in, us-fed"),
        "{}",
        all_output(&output)
    );

    let output = semaphore()
        .args(["simulate", "--listen", "127.0.0.1:0", "--fault", "error-rate=7"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        all_output(&output).contains("between 0 and 1"),
        "{}",
        all_output(&output)
    );
}
