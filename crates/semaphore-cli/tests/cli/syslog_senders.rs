//! Issue 13, real syslog senders into `[[sources.syslog]]`: rsyslog forwards over TCP with octet counting
//! (it counts its trailing LF inside the frame) and over TLS (gtls, newline framing), syslog-ng forwards over
//! TLS (RFC 5425, octet counted). `logger` feeds each relay. Every message sent is in Kafka once per path,
//! with the fields it was sent with.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Broker, Daemon, all_output, eventually, free_port, have, port_of, required, self_signed, temp_dir,
    try_consume_all,
};

const TOPIC: &str = "syslog.messages";
/// Messages per relay: enough for several frames per read, few enough to check one by one.
const MESSAGES: usize = 50;

/// A relay (rsyslogd, syslog-ng) running in the foreground, killed when the test ends.
struct Relay {
    child: Child,
    name: &'static str,
    log: std::path::PathBuf,
}

impl Relay {
    fn start(name: &'static str, command: &mut Command, log: &Path) -> Self {
        let log_file = std::fs::File::create(log).unwrap();
        let child = command
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("{name} starts: {error}"));
        Self {
            child,
            name,
            log: log.to_owned(),
        }
    }

    /// Waits until the relay accepts connections on `port`, failing the test with its log if it exited.
    fn wait_listening(&mut self, port: u16) {
        let listening = eventually(Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                || self.child.try_wait().ok().flatten().is_some()
        });
        let exited = self.child.try_wait().ok().flatten();
        assert!(
            listening && exited.is_none(),
            "{} is not listening on {port} ({exited:?}): {}",
            self.name,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `lines` with `logger` over TCP (newline framing, RFC 5424) to 127.0.0.1:`port`, as
/// `local3.err` from the app `sender`: one message per line.
fn send_with_logger(port: u16, lines: &[String]) {
    let mut child = Command::new("logger")
        .args(["--tcp", "--rfc5424", "--server", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args(["--tag", "sender", "-p", "local3.err"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("logger runs");
    let mut input = child.stdin.take().unwrap();
    for line in lines {
        writeln!(input, "{line}").unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "logger failed: {}", all_output(&output));
}

fn messages(prefix: &str) -> Vec<String> {
    (0..MESSAGES)
        .map(|index| format!("{prefix} message {index}"))
        .collect()
}

fn rsyslog_config(directory: &Path, input: u16, tcp: u16, tls: u16, ca: &Path) -> std::path::PathBuf {
    let config = directory.join("rsyslog.conf");
    std::fs::write(
        &config,
        format!(
            "global(workDirectory=\"{work}\" defaultNetstreamDriverCAFile=\"{ca}\")\n\
             module(load=\"imtcp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{input}\")\n\
             action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tcp}\" protocol=\"tcp\" \
                    TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n\
             action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tls}\" protocol=\"tcp\" \
                    StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/certvalid\" \
                    template=\"RSYSLOG_SyslogProtocol23Format\")\n",
            work = directory.display(),
            ca = ca.display(),
        ),
    )
    .unwrap();
    config
}

fn syslog_ng_config(directory: &Path, input: u16, tls: u16, ca: &Path) -> std::path::PathBuf {
    let config = directory.join("syslog-ng.conf");
    std::fs::write(
        &config,
        format!(
            "@version: 3.38\n\
             options {{ keep-hostname(yes); }};\n\
             source s_in {{ network(ip(\"127.0.0.1\") port({input}) transport(\"tcp\") flags(syslog-protocol)); }};\n\
             destination d_semaphore {{ syslog(\"127.0.0.1\" port({tls}) transport(\"tls\") \
                 tls(ca-file(\"{ca}\") peer-verify(required-trusted))); }};\n\
             log {{ source(s_in); destination(d_semaphore); }};\n",
            ca = ca.display(),
        ),
    )
    .unwrap();
    config
}

/// The records of `TOPIC` by (message, transport), counting repeats.
fn received(brokers: &str) -> BTreeMap<(String, String), Vec<Value>> {
    let mut by_message: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for envelope in try_consume_all(brokers, TOPIC).unwrap_or_default() {
        let record = envelope["value"].clone();
        let message = record["message"].as_str().unwrap_or_default().to_owned();
        let transport = record["transport"].as_str().unwrap_or_default().to_owned();
        by_message.entry((message, transport)).or_default().push(record);
    }
    by_message
}

/// Each of `lines` arrived exactly once over `transport`, with the fields `logger` sent.
fn assert_each_once(records: &BTreeMap<(String, String), Vec<Value>>, lines: &[String], transport: &str) {
    for line in lines {
        let copies = records
            .get(&(line.clone(), transport.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_eq!(copies.len(), 1, "{line:?} over {transport}: {copies:#?}");
        let record = &copies[0];
        assert_eq!(record["appName"], "sender", "{record}");
        assert_eq!(record["facilityName"], "local3", "{record}");
        assert_eq!(record["severityName"], "err", "{record}");
        assert_eq!(record["tsSource"], "message", "{record}");
        assert_eq!(record["parseError"], Value::Null, "{record}");
        assert!(record["hostname"].is_string(), "{record}");
    }
}

#[test]
fn rsyslog_over_tcp_and_tls_and_syslog_ng_over_tls_deliver_every_message_once() {
    let rsyslog = required("rsyslogd (rsyslog, rsyslog-gnutls)", have("rsyslogd"));
    let syslog_ng = required(
        "syslog-ng (.ci/install-syslog-ng)",
        have("syslog-ng") && have("logger"),
    );
    if !(rsyslog && syslog_ng) {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("syslog-senders");
    let (certificate, key) = self_signed(
        &directory,
        "syslog",
        "/CN=127.0.0.1",
        &["subjectAltName=IP:127.0.0.1"],
    );
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [[sources.syslog]]\nlisten = [\"tcp://127.0.0.1:0\", \"tls://127.0.0.1:0\"]\n\
             tls_cert = \"{certificate}\"\ntls_key = \"{key}\"\n",
            data = directory.join("data").display(),
            brokers = broker.address,
            certificate = certificate.display(),
            key = key.display(),
        ),
    )
    .unwrap();
    let daemon = Daemon::start(&config, &directory.join("semaphore.log"));
    let port = |address: String| -> u16 { port_of(&address).parse().unwrap() };
    let tcp = port(daemon.listening_address("Syslog listening (tcp)"));
    let tls = port(daemon.listening_address("Syslog listening (tls)"));

    let rsyslog_input = free_port();
    let mut rsyslogd = Relay::start(
        "rsyslogd",
        Command::new("rsyslogd")
            .args(["-n", "-i"])
            .arg(directory.join("rsyslogd.pid"))
            .arg("-f")
            .arg(rsyslog_config(&directory, rsyslog_input, tcp, tls, &certificate)),
        &directory.join("rsyslogd.log"),
    );
    let syslog_ng_input = free_port();
    let mut syslog_ng = Relay::start(
        "syslog-ng",
        Command::new("syslog-ng")
            .args(["-F", "--no-caps", "-e", "-f"])
            .arg(syslog_ng_config(&directory, syslog_ng_input, tls, &certificate))
            .arg("-R")
            .arg(directory.join("syslog-ng.persist"))
            .arg("-p")
            .arg(directory.join("syslog-ng.pid"))
            .arg("-c")
            .arg(directory.join("syslog-ng.ctl")),
        &directory.join("syslog-ng.log"),
    );
    rsyslogd.wait_listening(rsyslog_input);
    syslog_ng.wait_listening(syslog_ng_input);

    let (from_rsyslog, from_syslog_ng) = (messages("rsyslog"), messages("syslog-ng"));
    send_with_logger(rsyslog_input, &from_rsyslog);
    send_with_logger(syslog_ng_input, &from_syslog_ng);

    // rsyslog sends each of its messages twice (one action per transport); syslog-ng once.
    let expected = 3 * MESSAGES;
    let mut records = BTreeMap::new();
    let arrived = eventually(Duration::from_secs(90), || {
        records = received(&broker.address);
        records.values().map(Vec::len).sum::<usize>() >= expected
    });
    let relay_logs = || {
        format!(
            "rsyslogd:\n{}\nsyslog-ng:\n{}\nsemaphore:\n{}",
            std::fs::read_to_string(&rsyslogd.log).unwrap_or_default(),
            std::fs::read_to_string(&syslog_ng.log).unwrap_or_default(),
            daemon.log_text()
        )
    };
    assert!(
        arrived,
        "{} of {expected} arrived: {:#?}\n{}",
        records.values().map(Vec::len).sum::<usize>(),
        records.keys().collect::<Vec<_>>(),
        relay_logs()
    );
    // Whatever came late would be a duplicate: give it a moment, then read everything again.
    std::thread::sleep(Duration::from_secs(2));
    let records = received(&broker.address);
    assert_eq!(
        records.values().map(Vec::len).sum::<usize>(),
        expected,
        "{:#?}",
        records.keys().collect::<Vec<_>>()
    );
    assert_each_once(&records, &from_rsyslog, "tcp");
    assert_each_once(&records, &from_rsyslog, "tls");
    assert_each_once(&records, &from_syslog_ng, "tls");
}
