//! Issue 13, `[[sources.syslog]]` through the binary: util-linux `logger` sends RFC 5424 over UDP and
//! RFC 3164 octet-counted over TCP, a Cisco line arrives newline-framed over TCP, and all three are in Kafka
//! as `syslog.message/1` records, valid against the JSON Schema. Their sender, 127.0.0.1, is a device of the
//! `[inventory]` file, so they carry its identity and are keyed by its serial; a line from 127.0.0.2, which
//! the file does not list, carries none and is keyed by its address. One daemon for all of it: each start
//! costs seconds.

use std::io::Write;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Broker, Daemon, all_output, eventually, have, http_get, metric, port_of, required, syslog_schema_errors,
    temp_dir, try_consume_all,
};

const TOPIC: &str = "syslog.messages";
const CISCO: &str =
    "<189>58: *Mar  1 18:46:11.123 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down\n";
/// The device file: this host's loopback address as a NetBox export names a core switch.
const DEVICES: &str =
    "ip,hostname,serial,site,role,tags\n127.0.0.1,core-sw1,FOC1234X,madrid,core,\"dc;core\"\n";
const STRANGER: &str = "<13>1 2026-12-03T10:00:00Z stranger app - - - hello from a stranger";
/// What a record says of its sending device.
const IDENTITY_FIELDS: [&str; 7] = [
    "deviceName",
    "serial",
    "site",
    "role",
    "networkId",
    "networkName",
    "tags",
];

/// Sends one message with `logger` to 127.0.0.1 at `port`, with the given transport and format arguments.
fn logger(port: &str, arguments: &[&str], message: &str) {
    let output = Command::new("logger")
        .args([
            "--server",
            "127.0.0.1",
            "--port",
            port,
            "--tag",
            "app",
            "-p",
            "local0.warning",
        ])
        .args(arguments)
        .arg(message)
        .output()
        .expect("logger runs");
    assert!(output.status.success(), "logger failed: {}", all_output(&output));
}

/// The envelope whose record's message is `message`.
fn by_message<'a>(envelopes: &'a [Value], message: &str) -> &'a Value {
    envelopes
        .iter()
        .find(|envelope| envelope["value"]["message"] == message)
        .unwrap_or_else(|| panic!("no record with message {message:?} in {envelopes:#?}"))
}

#[test]
fn logger_and_a_cisco_line_over_udp_and_tcp_arrive_as_records() {
    if !required("logger (util-linux)", have("logger")) {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("syslog-source");
    let config = directory.join("semaphore.toml");
    // Relative to the config file, as every path the config names.
    std::fs::write(directory.join("devices.csv"), DEVICES).unwrap();
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [inventory]\nfile = \"devices.csv\"\n\
             [[sources.syslog]]\nlisten = [\"udp://127.0.0.1:0\", \"tcp://127.0.0.1:0\"]\n",
            data = directory.join("data").display(),
            brokers = broker.address,
        ),
    )
    .unwrap();
    let daemon = Daemon::start(&config, &directory.join("semaphore.log"));
    let udp = daemon.listening_address("Syslog listening (udp)");
    let tcp = daemon.listening_address("Syslog listening (tcp)");

    logger(port_of(&udp), &["--udp", "--rfc5424"], "hello udp");
    logger(
        port_of(&tcp),
        &["--tcp", "--octet-count", "--rfc3164"],
        "hello tcp",
    );
    let mut stream = std::net::TcpStream::connect(&tcp).expect("the syslog listener accepts");
    stream.write_all(CISCO.as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    // Linux's loopback answers the whole of 127.0.0.0/8: a second sender on this host.
    let stranger_socket = UdpSocket::bind("127.0.0.2:0").expect("127.0.0.2 is a loopback address");
    stranger_socket
        .send_to(STRANGER.as_bytes(), udp.as_str())
        .unwrap();

    let mut envelopes = Vec::new();
    let arrived = eventually(Duration::from_secs(60), || {
        envelopes = try_consume_all(&broker.address, TOPIC).unwrap_or_default();
        envelopes.len() >= 4
    });
    assert!(
        arrived,
        "{} records of 4 arrived: {envelopes:#?}\n{}",
        envelopes.len(),
        daemon.log_text()
    );
    assert_eq!(envelopes.len(), 4, "{envelopes:#?}");
    for envelope in &envelopes {
        let record = &envelope["value"];
        assert_eq!(
            envelope["headers"]["semaphore-schema"], "syslog.message/1",
            "{envelope}"
        );
        assert!(
            record["sourcePort"].as_u64().is_some_and(|port| port > 0),
            "{record}"
        );
        assert_eq!(record["truncated"], false, "{record}");
        let errors = syslog_schema_errors(record);
        assert!(errors.is_empty(), "{errors:?} in {record}");
    }
    // The device file's core switch: named, and keyed by its serial.
    let known: Vec<&Value> = envelopes
        .iter()
        .filter(|envelope| envelope["value"]["sourceIp"] == "127.0.0.1")
        .collect();
    assert_eq!(known.len(), 3, "{envelopes:#?}");
    for envelope in known {
        let record = &envelope["value"];
        assert_eq!(envelope["key"], "FOC1234X", "{envelope}");
        assert_eq!(record["deviceName"], "core-sw1", "{record}");
        assert_eq!(record["serial"], "FOC1234X", "{record}");
        assert_eq!(record["site"], "madrid", "{record}");
        assert_eq!(record["role"], "core", "{record}");
        assert_eq!(record["tags"], serde_json::json!(["dc", "core"]), "{record}");
        // Not a Meraki device.
        assert_eq!(record["networkId"], Value::Null, "{record}");
        assert_eq!(record["networkName"], Value::Null, "{record}");
    }
    // A sender the file does not list: no identity, keyed by its address.
    let stranger = by_message(&envelopes, "hello from a stranger");
    assert_eq!(stranger["key"], "127.0.0.2", "{stranger}");
    let record = &stranger["value"];
    assert_eq!(record["sourceIp"], "127.0.0.2", "{record}");
    for field in IDENTITY_FIELDS {
        assert_eq!(record[field], Value::Null, "{field}: {record}");
    }

    let udp_record = &by_message(&envelopes, "hello udp")["value"];
    assert_eq!(udp_record["transport"], "udp", "{udp_record}");
    assert_eq!(udp_record["facility"], 16, "{udp_record}");
    assert_eq!(udp_record["facilityName"], "local0", "{udp_record}");
    assert_eq!(udp_record["severity"], 4, "{udp_record}");
    assert_eq!(udp_record["appName"], "app", "{udp_record}");
    assert_eq!(udp_record["tsSource"], "message", "{udp_record}");
    assert!(udp_record["hostname"].is_string(), "{udp_record}");
    assert_eq!(udp_record["parseError"], Value::Null, "{udp_record}");
    assert_eq!(
        udp_record["raw"],
        Value::Null,
        "raw = on_error by default: {udp_record}"
    );

    let tcp_record = &by_message(&envelopes, "hello tcp")["value"];
    assert_eq!(tcp_record["transport"], "tcp", "{tcp_record}");
    assert_eq!(tcp_record["facility"], 16, "{tcp_record}");
    assert_eq!(tcp_record["severity"], 4, "{tcp_record}");
    assert_eq!(tcp_record["appName"], "app", "{tcp_record}");
    assert!(tcp_record["hostname"].is_string(), "{tcp_record}");
    assert_eq!(tcp_record["parseError"], Value::Null, "{tcp_record}");

    let cisco = &by_message(&envelopes, "Interface Gi0/1, changed state to down")["value"];
    assert_eq!(cisco["transport"], "tcp", "{cisco}");
    assert_eq!(cisco["facility"], 23, "{cisco}");
    assert_eq!(cisco["severity"], 5, "{cisco}");
    assert_eq!(cisco["severityName"], "notice", "{cisco}");
    assert_eq!(cisco["vendor"], "cisco", "{cisco}");
    assert_eq!(cisco["mnemonic"], "LINK-3-UPDOWN", "{cisco}");
    assert_eq!(cisco["sequence"], 58, "{cisco}");
    assert_eq!(
        cisco["tsSource"], "received",
        "a `*` time is not authoritative: {cisco}"
    );

    // Each listener's counters, by source and bound address, and the kernel's drops for the UDP one.
    let (_, metrics) = http_get(&daemon.admin_address(), "/metrics").expect("/metrics answers");
    let (udp, tcp) = (format!("udp://{udp}"), format!("tcp://{tcp}"));
    let series = |name: &str, listener: &str| {
        metric(
            &metrics,
            &format!("{name}{{source=\"syslog\",listener=\"{listener}\"}}"),
        )
    };
    assert_eq!(
        series("semaphore_listener_messages_total", &udp),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        series("semaphore_listener_messages_total", &tcp),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        series("semaphore_listener_kernel_drops_total", &udp),
        Some(0.0),
        "{metrics}"
    );
    assert!(series("semaphore_listener_bytes_total", &tcp).is_some_and(|bytes| bytes > 100.0));
    assert_eq!(
        metric(
            &metrics,
            "semaphore_syslog_messages_total{source=\"syslog\",parsed=\"true\"}"
        ),
        Some(4.0),
        "{metrics}"
    );
}
