//! The syslog output: RFC 5424 over UDP, over TCP and over TLS (RFC 5425), and an unreachable destination.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::support;
use crate::support::{Simulate, all_output, eventually, free_port, temp_dir};

use super::publish_once;

/// Syslog output: RFC 5424 over UDP and over TCP with octet counting, structured data carrying the fields.
#[test]
fn publish_to_syslog_over_udp_and_tcp() {
    let simulator = Simulate::start(&["--appliances", "5"]);
    // UDP: a datagram per record.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let endpoint = format!("udp://{}", socket.local_addr().unwrap());
    let data = temp_dir("syslog");
    publish_once_to_syslog(&simulator, &endpoint, &data.join("udp"));
    let mut buffer = vec![0u8; 65_536];
    let mut messages = Vec::new();
    while messages.len() < 5 * 2 * 5 {
        let length = socket.recv(&mut buffer).expect("a syslog datagram arrives");
        messages.push(String::from_utf8(buffer[..length].to_vec()).unwrap());
    }
    for message in &messages {
        // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG; local0 informational (134) or warning (132).
        assert!(
            message.starts_with("<134>1 ") || message.starts_with("<132>1 "),
            "{message}"
        );
        let fields: Vec<&str> = message.splitn(8, ' ').collect();
        assert!(fields[1].parse::<DateTime<Utc>>().is_ok(), "{message}");
        assert_eq!(fields[3], "semaphore");
        assert!(fields[4].parse::<u32>().is_ok(), "PROCID: {message}");
        assert_eq!(fields[5], "uplink_loss_latency");
        assert!(
            fields[6] == "[uplink@32473" && message.contains(" serial=\""),
            "{message}"
        );
        let json = &message[message.find("] {").unwrap() + 2..];
        let record: Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            message.starts_with("<132>"),
            record["lossPercent"].is_null(),
            "down uplinks are warnings"
        );
    }
    // TCP: octet counting, `LENGTH SP MESSAGE`.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let receiver = std::thread::spawn(move || {
        use std::io::Read;
        let (mut stream, _) = listener.accept().unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).unwrap();
        bytes
    });
    publish_once_to_syslog(&simulator, &endpoint, &data.join("tcp"));
    let bytes = receiver.join().unwrap();
    let mut rest = bytes.as_slice();
    let mut frames = 0;
    while !rest.is_empty() {
        let space = rest.iter().position(|byte| *byte == b' ').unwrap();
        let length: usize = std::str::from_utf8(&rest[..space]).unwrap().parse().unwrap();
        let message = std::str::from_utf8(&rest[space + 1..space + 1 + length]).unwrap();
        assert!(
            message.starts_with("<13") && message.contains("[uplink@32473 "),
            "{message}"
        );
        rest = &rest[space + 1 + length..];
        frames += 1;
    }
    assert_eq!(
        frames,
        5 * 2 * 5,
        "five minutes of two uplinks of five appliances"
    );
    std::fs::remove_dir_all(&data).unwrap();
}

/// Syslog over TLS (RFC 5425) to a real TLS server (`openssl s_server`) with a self-signed certificate.
#[test]
fn publish_to_syslog_over_tls() {
    if !support::have("openssl") {
        // Only where the package is absent; .ci/run installs it, so CI never skips this.
        eprintln!("SKIPPED: openssl is not installed (apt-get install openssl)");
        return;
    }
    let simulator = Simulate::start(&["--appliances", "3"]);
    let directory = temp_dir("syslog-tls");
    let (certificate, key) = support::self_signed(
        &directory,
        "syslog",
        "/CN=localhost",
        // rustls refuses a certificate that is both CA and server (CaUsedAsEndEntity): a plain leaf, trusted
        // as is.
        &[
            "subjectAltName=DNS:localhost",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
    // openssl s_server -quiet does not say which port it bound (and without -quiet its banner would mix with
    // the syslog frames on stdout), so the port is picked here.
    let port = free_port();
    let server = std::process::Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            // The readiness probe below is the first connection, semaphore's the second.
            "-naccept",
            "2",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
        ])
        .arg(&certificate)
        .arg("-key")
        .arg(&key)
        // Held open and never written: s_server sends what it reads on stdin, and closes at its end.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let endpoint = format!("tls://localhost:{port}");
    let arguments = [
        "loss-latency",
        "--output",
        "syslog",
        "--syslog",
        &endpoint,
        "--syslog-ca",
        certificate.to_str().unwrap(),
    ];
    let publish = publish_once(&simulator, &directory.join("data"), &arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, finished) = support::finish_within(publish, Duration::from_secs(60));
    assert!(
        finished,
        "publish over TLS did not finish: {}",
        all_output(&output)
    );
    assert!(output.status.success(), "{}", all_output(&output));
    let received = server.wait_with_output().unwrap();
    let text = String::from_utf8(received.stdout).unwrap();
    let frames = text.matches(" [uplink@32473 ").count();
    assert_eq!(
        frames,
        3 * 2 * 5,
        "five minutes of two uplinks of three appliances: {text}"
    );
    assert!(
        text.starts_with(|character: char| character.is_ascii_digit()),
        "octet counting: {text}"
    );
    // An unreachable destination is retried (nothing is dropped), the log says why, and Ctrl-C then ends
    // `--once` after the grace period with exit code 1: its records were not delivered.
    let arguments = [
        "loss-latency",
        "--output",
        "syslog",
        "--syslog",
        "tls://localhost:9",
        "--grace-period-s",
        "1",
    ];
    // The log goes to a file the test can read while the process runs.
    let log_path = directory.join("unreachable.log");
    let unreachable = publish_once(&simulator, &directory.join("data2"), &arguments)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    // Ctrl-C once the output has met the unreachable destination and retries: the source is then writing.
    // Should that never happen, the assertions below say what the process did instead.
    eventually(Duration::from_secs(60), || {
        std::fs::read_to_string(&log_path)
            .is_ok_and(|log| log.contains("cannot reach syslog at tls://localhost:9"))
    });
    std::process::Command::new("kill")
        .args(["-INT", &unreachable.id().to_string()])
        .status()
        .unwrap();
    let (output, finished) = support::finish_within(unreachable, Duration::from_secs(10));
    let text = format!(
        "{}{}",
        all_output(&output),
        std::fs::read_to_string(&log_path).unwrap()
    );
    assert!(finished, "Ctrl-C ends it within the grace period: {text}");
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot reach syslog at tls://localhost:9"),
        "{text}"
    );
    assert!(
        text.contains("stopped at the end of the 1s grace period: source meraki_uplinks was still writing"),
        "{text}"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

/// `publish loss-latency --once --output syslog --syslog ENDPOINT`, which must succeed.
fn publish_once_to_syslog(simulator: &Simulate, endpoint: &str, data: &Path) {
    let output = publish_once(
        simulator,
        data,
        &["loss-latency", "--output", "syslog", "--syslog", endpoint],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
}
