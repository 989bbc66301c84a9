//! Issue 13, RELP through the binary with a real sender: rsyslogd takes octet-counted RFC 5424 lines on
//! `imtcp` and relays them with `omrelp` to `[[sources.syslog]] listen = ["relp://…"]`. Every line is in
//! Kafka exactly once, with the fields sent. Then semaphore is killed (SIGKILL) mid-stream and started again
//! on the same port: rsyslog, which keeps every message until it is acknowledged, sends again what was not,
//! so every line is in Kafka at least once; the ones delivered whose acknowledgement died with the process
//! are there twice, and the test counts them.

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Broker, Daemon, eventually, have, http_get, metric, port_of, required, syslog_schema_errors, temp_dir,
    try_consume_all,
};

const TOPIC: &str = "syslog.messages";
const LISTENING: &str = "Syslog listening (relp)";
/// The fields of every line sent; `<132>` is local0.warning.
const TIMESTAMP: &str = "2026-12-03T10:00:00.000001Z";
const HOSTNAME: &str = "relp-host";
const APP_NAME: &str = "relp-app";

/// The message of line `index`.
fn message(index: usize) -> String {
    format!("relp message {index:04}")
}

fn line(index: usize) -> String {
    format!(
        "<132>1 {TIMESTAMP} {HOSTNAME} {APP_NAME} 4242 ID47 - {}",
        message(index)
    )
}

/// rsyslogd, from `PATH` or Debian's `/usr/sbin` (not in a user's `PATH` everywhere), when it can load
/// `omrelp` (Debian's `rsyslog-relp`): a configuration check that loads the module says.
fn rsyslogd() -> Option<PathBuf> {
    let program = if have("rsyslogd") {
        PathBuf::from("rsyslogd")
    } else {
        PathBuf::from("/usr/sbin/rsyslogd")
    };
    let directory = temp_dir("rsyslog-check");
    let config = directory.join("check.conf");
    // Without an action rsyslogd refuses any configuration; this one is checked, never run.
    let check = "module(load=\"omrelp\")\n\
                 action(type=\"omrelp\" target=\"127.0.0.1\" port=\"1\")\n";
    std::fs::write(&config, check).unwrap();
    let checked = Command::new(&program)
        .args(["-N1", "-f"])
        .arg(config)
        .output()
        .is_ok_and(|output| output.status.success());
    checked.then_some(program)
}

/// rsyslogd in the foreground, with its own configuration, pid file and work directory (nothing of a system
/// rsyslog is touched): `imtcp` on a port it picks and writes to a file, every line relayed by `omrelp` to
/// `relp_port`, retried every second for ever from an in-memory action queue while semaphore is away.
/// Killed when dropped.
struct Rsyslog {
    child: Child,
    directory: PathBuf,
    /// Where `imtcp` listens.
    input: String,
}

impl Rsyslog {
    fn start(program: &Path, directory: &Path, relp_port: &str) -> Self {
        let work = directory.join("rsyslog-work");
        std::fs::create_dir_all(&work).unwrap();
        let port_file = directory.join("imtcp.port");
        let config = directory.join("rsyslog.conf");
        std::fs::write(
            &config,
            format!(
                "global(workDirectory=\"{work}\" net.enableDNS=\"off\")\n\
                 module(load=\"imtcp\")\n\
                 module(load=\"omrelp\")\n\
                 input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{port_file}\" \
                       ruleset=\"relay\")\n\
                 ruleset(name=\"relay\") {{\n\
                   action(type=\"omrelp\" target=\"127.0.0.1\" port=\"{relp_port}\" \
                          template=\"RSYSLOG_SyslogProtocol23Format\" \
                          action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\" \
                          queue.type=\"LinkedList\" queue.size=\"100000\")\n\
                 }}\n\
                 *.* action(type=\"omfile\" file=\"{internal}\")\n",
                work = work.display(),
                port_file = port_file.display(),
                internal = directory.join("rsyslog-internal.log").display(),
            ),
        )
        .unwrap();
        let stderr = std::fs::File::create(directory.join("rsyslogd.stderr")).unwrap();
        let child = Command::new(program)
            .args(["-n", "-f"])
            .arg(config)
            .arg("-i")
            .arg(directory.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("rsyslogd starts");
        let mut rsyslog = Self {
            child,
            directory: directory.to_owned(),
            input: String::new(),
        };
        let mut port = None;
        eventually(Duration::from_secs(30), || {
            port = std::fs::read_to_string(port_file.as_path())
                .ok()
                .and_then(|text| text.trim().parse::<u16>().ok())
                .filter(|port| *port > 0);
            port.is_some() || rsyslog.child.try_wait().ok().flatten().is_some()
        });
        let port = port.unwrap_or_else(|| panic!("rsyslogd did not start:\n{}", rsyslog.log_text()));
        rsyslog.input = format!("127.0.0.1:{port}");
        rsyslog
    }

    /// Sends lines `indexes` to `imtcp`, octet-counted, over one connection, pausing `pause` after each.
    fn send(&self, indexes: std::ops::Range<usize>, pause: Duration) {
        let mut stream = TcpStream::connect(self.input.as_str()).expect("rsyslog's imtcp accepts");
        for index in indexes {
            let line = line(index);
            write!(stream, "{} {line}", line.len()).expect("rsyslog reads");
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
        stream.flush().unwrap();
    }

    /// What rsyslogd said: its standard error and its internal messages.
    fn log_text(&self) -> String {
        ["rsyslogd.stderr", "rsyslog-internal.log"]
            .iter()
            .map(|name| std::fs::read_to_string(self.directory.join(name)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `semaphore.toml` with one syslog source listening on `listen`, its Kafka the test's broker.
fn write_config(directory: &Path, broker: &Broker, listen: &str) -> PathBuf {
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [[sources.syslog]]\nlisten = [\"{listen}\"]\n",
            data = directory.join("data").display(),
            brokers = broker.address,
        ),
    )
    .unwrap();
    config
}

/// How many times each line's message is in the topic, by line index.
fn arrivals(envelopes: &[Value]) -> HashMap<usize, usize> {
    let mut arrivals = HashMap::new();
    for envelope in envelopes {
        let index = envelope["value"]["message"]
            .as_str()
            .and_then(|message| message.strip_prefix("relp message "))
            .and_then(|index| index.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("a record that was not sent: {envelope}"));
        *arrivals.entry(index).or_default() += 1;
    }
    arrivals
}

/// Consumes the topic until each of the `count` lines is in it (up to `limit`); returns what it holds.
fn wait_for_every_line(broker: &Broker, count: usize, limit: Duration) -> Vec<Value> {
    let mut envelopes = Vec::new();
    eventually(limit, || {
        envelopes = try_consume_all(&broker.address, TOPIC).unwrap_or_default();
        arrivals(&envelopes).len() >= count
    });
    envelopes
}

/// A record has every field as sent, and says it came over RELP.
fn assert_fields(envelope: &Value) {
    let record = &envelope["value"];
    assert_eq!(envelope["key"], "127.0.0.1", "keyed by the sender: {envelope}");
    assert_eq!(record["transport"], "relp", "{record}");
    assert_eq!(record["sourceIp"], "127.0.0.1", "{record}");
    assert_eq!(record["facility"], 16, "{record}");
    assert_eq!(record["severity"], 4, "{record}");
    assert_eq!(record["hostname"], HOSTNAME, "{record}");
    assert_eq!(record["appName"], APP_NAME, "{record}");
    assert_eq!(record["procId"], "4242", "{record}");
    assert_eq!(record["msgId"], "ID47", "{record}");
    assert_eq!(record["tsSource"], "message", "{record}");
    let ts: chrono::DateTime<chrono::Utc> = record["ts"].as_str().unwrap().parse().unwrap();
    let sent: chrono::DateTime<chrono::Utc> = TIMESTAMP.parse().unwrap();
    assert_eq!(ts, sent, "{record}");
    assert_eq!(record["parseError"], Value::Null, "{record}");
    assert_eq!(record["truncated"], false, "{record}");
    let errors = syslog_schema_errors(record);
    assert!(errors.is_empty(), "{errors:?} in {record}");
}

#[test]
fn rsyslog_relays_over_relp_and_every_line_arrives_once_with_its_fields() {
    const COUNT: usize = 200;
    let Some(program) = rsyslogd() else {
        required("rsyslogd with omrelp (rsyslog, rsyslog-relp)", false);
        return;
    };
    let broker = Broker::start();
    let directory = temp_dir("syslog-relp");
    let config = write_config(&directory, &broker, "relp://127.0.0.1:0");
    let daemon = Daemon::start(&config, &directory.join("semaphore.log"));
    let relp = daemon.listening_address(LISTENING);
    let rsyslog = Rsyslog::start(&program, &directory, port_of(&relp));

    rsyslog.send(0..COUNT, Duration::ZERO);
    let envelopes = wait_for_every_line(&broker, COUNT, Duration::from_secs(120));
    let arrived = arrivals(&envelopes);
    assert_eq!(
        arrived.len(),
        COUNT,
        "lines missing\nsemaphore:\n{}\nrsyslog:\n{}",
        daemon.log_text(),
        rsyslog.log_text()
    );
    assert_eq!(envelopes.len(), COUNT, "each line exactly once: {arrived:?}");
    for envelope in &envelopes {
        assert_fields(envelope);
    }

    // The listener's counters, by its bound address: every message, no framing error.
    let (_, metrics) = http_get(&daemon.admin_address(), "/metrics").expect("/metrics answers");
    let series = |name: &str| {
        metric(
            &metrics,
            &format!("{name}{{source=\"syslog\",listener=\"relp://{relp}\"}}"),
        )
    };
    assert_eq!(
        series("semaphore_listener_messages_total"),
        Some(COUNT as f64),
        "{metrics}"
    );
    assert_eq!(
        series("semaphore_listener_framing_errors_total"),
        Some(0.0),
        "{metrics}"
    );
}

#[test]
fn killed_mid_stream_semaphore_loses_nothing_as_rsyslog_sends_again_what_was_not_acknowledged() {
    // 3000 lines 10 ms apart: half a minute of stream, so the kill lands in its middle.
    const COUNT: usize = 3000;
    const PAUSE: Duration = Duration::from_millis(10);
    let Some(program) = rsyslogd() else {
        required("rsyslogd with omrelp (rsyslog, rsyslog-relp)", false);
        return;
    };
    let broker = Broker::start();
    let directory = temp_dir("syslog-relp-kill");
    let config = write_config(&directory, &broker, "relp://127.0.0.1:0");
    let mut first = Daemon::start(&config, &directory.join("semaphore-1.log"));
    let relp = first.listening_address(LISTENING);
    let rsyslog = std::sync::Arc::new(Rsyslog::start(&program, &directory, port_of(&relp)));
    let sending = {
        let rsyslog = rsyslog.clone();
        std::thread::spawn(move || rsyslog.send(0..COUNT, PAUSE))
    };

    // Some lines are through: kill semaphore while the rest stream in (received, in Kafka or not, but not
    // acknowledged yet: rsyslog holds them).
    let through = eventually(Duration::from_secs(120), || {
        let envelopes = try_consume_all(&broker.address, TOPIC).unwrap_or_default();
        envelopes.len() >= 50
    });
    assert!(through, "no line came through:\n{}", first.log_text());
    first.signal("KILL");
    assert!(
        first.wait_exit(Duration::from_secs(10)).is_some(),
        "SIGKILL did not end semaphore"
    );
    assert!(
        !sending.is_finished(),
        "the stream ended before the kill: nothing was in flight"
    );

    // Again on the same port, where rsyslog reconnects.
    write_config(&directory, &broker, &format!("relp://{relp}"));
    let second = Daemon::start(&config, &directory.join("semaphore-2.log"));
    assert_eq!(second.listening_address(LISTENING), relp);
    sending.join().expect("every line went to rsyslog");

    let envelopes = wait_for_every_line(&broker, COUNT, Duration::from_secs(180));
    let arrived = arrivals(&envelopes);
    let missing: Vec<usize> = (0..COUNT).filter(|index| !arrived.contains_key(index)).collect();
    assert!(
        missing.is_empty(),
        "{} lines lost, from {:?}\nsemaphore (after the restart):\n{}\nrsyslog:\n{}",
        missing.len(),
        missing.first(),
        second.log_text(),
        rsyslog.log_text()
    );
    let duplicates = envelopes.len() - COUNT;
    let twice = arrived.values().filter(|times| **times > 1).count();
    eprintln!(
        "RELP across a SIGKILL: all {COUNT} lines in Kafka, {duplicates} extra records, {twice} lines twice"
    );
    for envelope in &envelopes {
        assert_fields(envelope);
    }
}
