//! What `semaphore publish --once` says, and exits with, when something is wrong: a taken admin address, a
//! misaddressed or unreachable Kafka, a refused API key, an unreachable Meraki.

use std::process::Stdio;
use std::time::Duration;

use crate::support;
use crate::support::{Simulate, all_output, semaphore, temp_dir};

use super::publish_once;

/// Issue 11: publish's errors name its flags, not config keys its user never wrote: a taken `--admin-listen`
/// address is named as `--admin-listen`, with the OS error once.
#[test]
fn publish_names_a_taken_admin_address_by_its_flag() {
    let simulator = Simulate::start(&["--appliances", "2"]);
    let data = temp_dir("publish-admin");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = publish_once(
        &simulator,
        &data,
        &["loss-latency", "--output", "stdout", "--admin-listen", &address],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(1 | 2)), "{stderr}");
    let error = stderr
        .lines()
        .find(|line| line.starts_with("semaphore: error: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert!(
        error.contains(&format!("cannot listen on {address} for the admin server"))
            && error.contains("set --admin-listen")
            && !error.contains("[admin] listen"),
        "{error}"
    );
    assert_eq!(error.matches("(os error").count(), 1, "{error}");
    drop(taken);
    std::fs::remove_dir_all(&data).unwrap();
}

/// A cron job must learn that `--once` wrote nothing: a misaddressed broker is a usage error before anything
/// runs, an unreachable one ends the run with exit 1 and one line saying so.
#[test]
fn publish_once_fails_clearly_when_kafka_is_misaddressed_or_unreachable() {
    let simulator = Simulate::start(&["--appliances", "2"]);
    let data = temp_dir("publish-no-kafka");
    for bad in ["127.0.0.1:0", "127.0.0.1:65536", "ftp://x", ""] {
        let output = publish_once(&simulator, &data, &["loss-latency", "--brokers", bad])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {}", all_output(&output));
        assert!(
            all_output(&output).contains("--brokers"),
            "{bad:?}: {}",
            all_output(&output)
        );
    }
    // A raw option against a producer default names the fix itself, not a file users do not have.
    let output = publish_once(
        &simulator,
        &data,
        &["loss-latency", "--brokers", "127.0.0.1:9", "-X", "acks=1"],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(
        text.contains("remove the option") && !text.contains("DESIGN.md"),
        "{text}"
    );
    let child = publish_once(&simulator, &data, &["loss-latency", "--brokers", "127.0.0.1:1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, finished) = support::finish_within(child, Duration::from_secs(60));
    assert!(finished, "publish --once kept waiting for an unreachable Kafka");
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    let errors: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with("semaphore: error:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(errors.len(), 1, "{}", all_output(&output));
    assert!(
        errors[0].contains("cannot reach Kafka at 127.0.0.1:1"),
        "{errors:?}"
    );
    std::fs::remove_dir_all(&data).unwrap();
}

/// A 401 is final: `--once` ends at once with the fix named; an unreachable Meraki ends it after a bound.
#[test]
fn publish_once_ends_on_a_refused_key_and_on_an_unreachable_meraki() {
    let simulator = Simulate::start(&["--appliances", "2", "--api-key", "the-right-key"]);
    let data = temp_dir("publish-401");
    let child = publish_once(&simulator, &data, &["loss-latency", "--output", "stdout"])
        .env("MERAKI_DASHBOARD_API_KEY", "a-wrong-key")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, finished) = support::finish_within(child, Duration::from_secs(30));
    assert!(finished, "publish --once retried a 401: {}", all_output(&output));
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    assert!(
        all_output(&output).contains("MERAKI_DASHBOARD_API_KEY"),
        "{}",
        all_output(&output)
    );
    let child = semaphore()
        .args(["publish", "loss-latency", "--once", "--output", "stdout"])
        .args(["--meraki-url", "http://127.0.0.1:1/api/v1", "--data-dir"])
        .arg(&data)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The documented bound is 60 s; the client's own retries usually end it sooner.
    let (output, finished) = support::finish_within(child, Duration::from_secs(75));
    assert!(
        finished,
        "publish --once waited for an unreachable Meraki without end"
    );
    assert_eq!(output.status.code(), Some(1), "{}", all_output(&output));
    assert!(
        all_output(&output).contains("cannot list the Meraki organizations"),
        "{}",
        all_output(&output)
    );
    std::fs::remove_dir_all(&data).unwrap();
}
