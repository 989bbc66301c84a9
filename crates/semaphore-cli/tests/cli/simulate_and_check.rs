//! `semaphore simulate` and `semaphore check` run as a user runs them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{Simulate, all_output, finish_within, free_port, output_within, semaphore, temp_dir};

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

/// Issue 11: absurd estate sizes are usage errors (exit 2) naming the flag and its limit, not a 2 TB
/// allocation (exit 134) or a "capacity overflow" panic (exit 101); so is an estate whose counts multiply
/// past the total.
#[test]
fn absurd_estate_sizes_are_refused_with_the_limit() {
    let listen = ["--listen", "127.0.0.1:0"];
    let quiet_demo = [
        "--broker-listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--dashboard-listen",
        "127.0.0.1:0",
    ];
    let cases: [(&str, &[&str], &str); 8] = [
        ("simulate", &["--appliances", "4294967295"], "--appliances"),
        (
            "simulate",
            &["--appliances", "18446744073709551615"],
            "--appliances",
        ),
        ("simulate", &["--appliances", "-1"], "--appliances"),
        ("simulate", &["--organizations", "4294967295"], "--organizations"),
        ("simulate", &["--networks", "4294967295"], "--networks"),
        (
            "simulate",
            &["--clients-per-network", "4294967295"],
            "--clients-per-network",
        ),
        ("demo", &["--appliances", "4294967295"], "--appliances"),
        (
            "demo",
            &["--organizations", "18446744073709551615"],
            "--organizations",
        ),
    ];
    for (command, arguments, expected) in cases {
        let extra: &[&str] = if command == "demo" { &quiet_demo } else { &listen };
        let output = output_within(
            semaphore().arg(command).args(arguments).args(extra),
            Duration::from_secs(30),
        );
        let text = all_output(&output);
        assert_eq!(output.status.code(), Some(2), "{command} {arguments:?}: {text}");
        assert!(
            text.contains(&format!("invalid value '{}' for '{expected}", arguments[1]))
                && text.contains("must be a whole number from 0 to "),
            "{command} {arguments:?}: {text}"
        );
    }
    for command in ["simulate", "demo"] {
        let extra: &[&str] = if command == "demo" { &quiet_demo } else { &listen };
        let output = output_within(
            semaphore()
                .args([command, "--organizations", "10000", "--appliances", "1000"])
                .args(extra),
            Duration::from_secs(30),
        );
        let text = all_output(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {text}");
        assert!(
            text.contains("the simulated estate is too large")
                && text.contains("at most 2000000")
                && text.contains("--organizations or --appliances"),
            "{command}: {text}"
        );
    }
}

/// Issue 11: a taken port is named with the OS error once, not twice ("…: Address in use (os error 98):
/// Address in use (os error 98)").
#[test]
fn a_taken_port_is_reported_with_its_cause_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let commands: [&[&str]; 2] = [
        &["simulate", "--listen", address.as_str()],
        &["broker", "--listen", address.as_str(), "--memory"],
    ];
    for arguments in commands {
        let output = output_within(semaphore().args(arguments), Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {stderr}");
        let error = stderr
            .lines()
            .find(|line| line.starts_with("semaphore: error: "))
            .unwrap_or_else(|| panic!("{arguments:?}: no error line in {stderr}"));
        assert!(error.contains(&address), "{error}");
        assert_eq!(error.matches("(os error").count(), 1, "{error}");
    }
    drop(taken);
}

/// Issue 11: what is wrong in a config file is shown as written: toml's snippet on its own lines (the line,
/// then a caret under the mistake), and an empty list or a list-shaped filter file named, not taken as "all".
#[test]
fn config_mistakes_are_shown_as_written() {
    let directory = temp_dir("config-mistakes");
    let config = directory.join("semaphore.toml");
    let check = |text: &str| {
        std::fs::write(&config, text).unwrap();
        let output = semaphore().args(["check", "-c"]).arg(&config).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };

    let stderr = check("[[sources.meraki_uplinks]]\ninterval_s = = 60\n");
    let lines: Vec<&str> = stderr.lines().collect();
    let first = lines
        .iter()
        .position(|line| line.starts_with("semaphore: error: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert!(lines[first].contains("TOML parse error at line 2"), "{stderr}");
    let text = lines
        .iter()
        .position(|line| *line == "2 | interval_s = = 60")
        .unwrap_or_else(|| panic!("the line is not shown on its own: {stderr}"));
    assert!(
        lines[text + 1].starts_with("  |") && lines[text + 1].contains('^'),
        "no caret under the line: {stderr}"
    );

    let stderr = check("[[sources.meraki_uplinks]]\nuplinks = []\n");
    assert!(
        stderr.contains(
            "sources.meraki_uplinks[0].uplinks: an empty list would mean all; remove the key to mean all"
        ),
        "{stderr}"
    );

    let filter = directory.join("filter.json");
    std::fs::write(&filter, "[]").unwrap();
    let stderr = check("[[sources.meraki_clients]]\nfilter = \"filter.json\"\n");
    assert!(
        stderr.contains("sources.meraki_clients[0].filter")
            && stderr.contains(&filter.display().to_string())
            && stderr.contains("must be a JSON object"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

/// Issue 11: `--interval -5` is an invalid value of `--interval`, not an unexpected argument.
#[test]
fn a_negative_interval_is_an_invalid_value() {
    let output = semaphore()
        .args(["publish", "loss-latency", "--interval", "-5"])
        .output()
        .unwrap();
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("invalid value '-5' for '--interval")
            && text.contains("must be a positive number of seconds")
            && !text.contains("unexpected argument"),
        "{text}"
    );
}

/// Issue 11: `check -c` reports every sink (two unreachable InfluxDBs, not just the first), still reaches
/// Meraki, then fails; with `--format json` the same report is one JSON document.
#[test]
fn check_reports_every_sink_then_fails_and_speaks_json() {
    let simulator = Simulate::start(&["--appliances", "3"]);
    let directory = temp_dir("check-report");
    // Ports nobody listens on (two unreachable InfluxDBs): they must stay closed, so cannot be held, only
    // picked.
    let (first, second) = (free_port(), free_port());
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[meraki]\nurl = \"{url}\"\n[[sources.meraki_uplinks]]\n[outputs.stdout]\n\
             [[sinks.influxdb]]\nendpoint = \"http://127.0.0.1:{first}\"\ndatabase = \"meraki\"\n\
             [[sinks.influxdb]]\nendpoint = \"http://127.0.0.1:{second}\"\ndatabase = \"meraki\"\n\
             [[sinks.prometheus]]\n",
            data = directory.join("data").display(),
            url = simulator.base_url,
        ),
    )
    .unwrap();
    let check = |format: &str| {
        semaphore()
            .args(["check", "--format", format, "-c"])
            .arg(&config)
            .env("MERAKI_DASHBOARD_API_KEY", "test-key")
            .output()
            .unwrap()
    };

    let output = check("text");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    for port in [first, second] {
        assert!(
            stdout.contains(&format!("InfluxDB at http://127.0.0.1:{port}/: FAILED: ")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("sink: prometheus (") && stdout.contains("Meraki: reached"),
        "{stdout}"
    );
    assert!(
        stderr.contains("2 checks failed: sink influxdb: ") && stderr.contains("; sink influxdb_2: "),
        "{stderr}"
    );

    let output = check("json");
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", all_output(&output)));
    assert_eq!(report["sources"][0]["id"], "meraki_uplinks");
    assert_eq!(
        report["sources"][0]["description"],
        "meraki_uplinks -> meraki.uplinks.loss_latency"
    );
    assert_eq!(report["outputs"], serde_json::json!([{"kind": "stdout"}]));
    let sinks = report["sinks"].as_array().unwrap();
    assert_eq!(sinks.len(), 3, "{report}");
    for (sink, port) in sinks.iter().zip([first, second]) {
        assert_eq!(sink["kind"], "influxdb");
        assert_eq!(
            sink["check"]["target"],
            format!("InfluxDB at http://127.0.0.1:{port}/")
        );
        assert_eq!(sink["check"]["ok"], false);
        assert!(
            sink["check"]["error"]
                .as_str()
                .unwrap()
                .contains("did not answer"),
            "{sink}"
        );
    }
    assert_eq!(sinks[2]["kind"], "prometheus");
    assert!(sinks[2]["check"].is_null());
    assert_eq!(report["kafka"]["embedded"], true);
    assert_eq!(report["meraki"]["reached"], true);
    assert_eq!(report["meraki"]["organizations"].as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(&directory).unwrap();
}
