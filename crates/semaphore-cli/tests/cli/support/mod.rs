//! Running the built `semaphore` binary as a user would: a simulator in the background, commands against it.

#![allow(dead_code)]

pub mod rsyslog;
pub mod snmp;
pub mod snmpsim;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

pub const BINARY: &str = env!("CARGO_BIN_EXE_semaphore");

/// A `semaphore` command with a clean environment for the variables semaphore reads.
pub fn semaphore() -> Command {
    let mut command = Command::new(BINARY);
    for name in [
        "MERAKI_DASHBOARD_API_KEY",
        "SEMAPHORE_MERAKI_URL",
        "SEMAPHORE_LOG",
        "SEMAPHORE_LOG_FORMAT",
        "SEMAPHORE_SIM_API_KEY",
        "NO_COLOR",
    ] {
        command.env_remove(name);
    }
    command
}

type StdoutLines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// Starts `semaphore ARGUMENTS` in the background and reads the first line it prints (its address); returns
/// the child, the line's last word and the rest of stdout, which the caller keeps open.
fn spawn_announcing(arguments: &[&str]) -> (Child, String, String, StdoutLines) {
    spawn_announcing_with_env(arguments, &[])
}

/// As [`spawn_announcing`], with extra environment variables (the broker's users).
fn spawn_announcing_with_env(
    arguments: &[&str],
    env: &[(&str, &str)],
) -> (Child, String, String, StdoutLines) {
    let mut child = semaphore()
        .args(arguments)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the semaphore binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let first = lines
        .next()
        .expect("the command announces its address")
        .expect("stdout is UTF-8");
    let address = first
        .rsplit(' ')
        .next()
        .expect("the line ends with the address")
        .to_owned();
    (child, first, address, lines)
}

/// `semaphore simulate` running in the background; stopped with SIGTERM when dropped.
pub struct Simulate {
    pub child: Child,
    pub base_url: String,
    pub banner: Vec<String>,
    /// Held open: a closed pipe would make the simulator's next line to stdout fail.
    _stdout: StdoutLines,
}

impl Simulate {
    pub fn start(arguments: &[&str]) -> Self {
        let simulate = [&["simulate", "--listen", "127.0.0.1:0"], arguments].concat();
        let (child, first, base_url, mut lines) = spawn_announcing(&simulate);
        assert!(
            base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/api/v1"),
            "{first}"
        );
        let banner = std::iter::once(first)
            .chain(lines.by_ref().take(2).map_while(Result::ok))
            .collect();
        Self {
            child,
            base_url,
            banner,
            _stdout: lines,
        }
    }

    /// Sends `signal` (e.g. "TERM", "INT") and waits for the exit.
    pub fn stop_with(&mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the simulator did not stop within 5 s of SIG{signal}");
    }
}

impl Drop for Simulate {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `semaphore broker --memory` on a port it picks; stopped with SIGTERM when dropped.
pub struct Broker {
    pub child: Child,
    /// Where it listens, as it announced it.
    pub address: String,
    /// Held open: a closed pipe would make the broker's next line to stdout fail.
    _stdout: StdoutLines,
}

impl Broker {
    /// In memory, on a port the broker picks (port 0) and announces: no port is chosen here and then raced
    /// for by parallel tests.
    pub fn start() -> Self {
        Self::start_with("127.0.0.1:0", &["--memory"])
    }

    /// On `listen` with extra arguments (e.g. `--data-dir DIR`): `127.0.0.1:0` for a port the broker picks,
    /// or the address a stopped broker had, to restart it where its clients look.
    pub fn start_with(listen: &str, arguments: &[&str]) -> Self {
        Self::start_with_env(listen, arguments, &[])
    }

    /// As [`Broker::start_with`], with extra environment variables (`SEMAPHORE_BROKER_USERNAME`, ...).
    pub fn start_with_env(listen: &str, arguments: &[&str], env: &[(&str, &str)]) -> Self {
        let broker = [&["broker", "--listen", listen], arguments].concat();
        let (child, first, address, lines) = spawn_announcing_with_env(&broker, env);
        if listen.ends_with(":0") {
            assert!(
                address.starts_with("127.0.0.1:") && !address.ends_with(":0"),
                "{first}"
            );
        } else {
            assert_eq!(address, listen, "{first}");
        }
        Self {
            child,
            address,
            _stdout: lines,
        }
    }
}

impl Broker {
    /// Stops with SIGTERM; the exit status if it stopped within 5 s.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().ok().flatten() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

/// Whether a Python module can be imported.
pub fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Everything a command printed, both streams.
pub fn all_output(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("semaphore-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// A TCP port on 127.0.0.1 that was free a moment ago. Racy under parallel tests (another test may take it
/// before the caller's program binds it): only for programs that cannot bind port 0 and say which port they
/// got, and for a port that must stay closed. semaphore's own servers bind port 0 and log their address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET http://ADDRESS/PATH` with HTTP/1.0: the status code and body.
pub fn http_get(address: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())?;
    Some((status, body))
}

/// `POST http://ADDRESS/PATH` with HTTP/1.0: the status code and body.
pub fn http_post(address: &str, path: &str, content_type: &str, body: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())?;
    Some((status, body))
}

/// Percent-encodes a query-string value.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Whether a tool the test needs is here. In CI (`CI` set) a missing tool fails the test, since `.ci/run`
/// installs every one; on a developer's machine the test says SKIPPED and passes.
pub fn required(what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} is missing, and .ci/run installs it: the CI set-up is broken"
    );
    eprintln!("SKIPPED: {what} is not installed");
    false
}

/// The value of an unlabelled (or exactly labelled) sample in Prometheus text.
pub fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(name_and_labels)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// Every record of `topic` as `consume -e -f json` envelopes. A broker that does not answer metadata within
/// `consume`'s 10 s is asked twice more: on this shared 2-core machine the embedded broker (then tansu 0.6 on
/// SQLite) has been seen to stall that long under parallel tests, and these tests are about what the topic
/// holds.
pub fn consume_all(brokers: &str, topic: &str) -> Vec<serde_json::Value> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_consume_all(brokers, topic) {
            Ok(records) => return records,
            Err(error) if attempt < 3 && error.contains("cannot reach Kafka") => {
                eprintln!("consume attempt {attempt} failed, asking again: {error}");
            }
            Err(error) => panic!("{error}"),
        }
    }
}

/// As [`consume_all`], or what `consume` said when it failed (for instance: no such topic yet).
pub fn try_consume_all(brokers: &str, topic: &str) -> Result<Vec<serde_json::Value>, String> {
    let output = semaphore()
        .args(["consume", topic, "-e", "-f", "json", "--brokers", brokers])
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(all_output(&output));
    }
    Ok(String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("consume -f json prints JSON lines"))
        .collect())
}

/// The start of the message of the log line that gives the admin server's address.
pub const ADMIN_LISTENING: &str = "Admin server listening";
/// The start of the message of the log line that gives a Prometheus exporter sink's address.
pub const EXPORTER_LISTENING: &str = "Prometheus exporter listening";
/// The start of the message of the log line that gives the dashboard's address.
pub const DASHBOARD_LISTENING: &str = "Dashboard listening";
/// The start of the message of the log line that gives the embedded broker's address in `semaphore run`.
pub const EMBEDDED_BROKER_STARTED: &str = "No Kafka brokers configured: started the embedded broker";

/// `semaphore run -c CONFIG` in the background, its log in a file.
pub struct Daemon {
    pub child: Child,
    pub log: std::path::PathBuf,
}

impl Daemon {
    pub fn start(config: &std::path::Path, log: &std::path::Path) -> Self {
        Self::start_with_env(config, log, &[])
    }

    /// As [`Daemon::start`], with extra environment variables (tokens a sink's config names).
    pub fn start_with_env(config: &std::path::Path, log: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = semaphore()
            .args(["run", "-c"])
            .arg(config)
            .env("MERAKI_DASHBOARD_API_KEY", "test-key")
            .env("SEMAPHORE_LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("the semaphore binary starts");
        Self {
            child,
            log: log.to_owned(),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `address` field of the first JSON log line whose message starts with `message_prefix` (one of the
    /// `*_LISTENING` constants): where a server configured on port 0 listens. Waits up to 60 s for the line;
    /// `None` if it did not come, or if the process reported an error first. The first line of the file: a
    /// test that restarts a daemon and reads an address gives each process its own log file.
    pub fn address_of(&self, message_prefix: &str) -> Option<String> {
        let mut address = None;
        eventually(Duration::from_secs(60), || {
            let log = self.log_text();
            address = log
                .lines()
                .find_map(|line| logged_field(line, message_prefix, "address"));
            address.is_some() || log.contains("semaphore: error: ")
        });
        address
    }

    /// As [`Daemon::address_of`], failing the test with the log when the line does not come.
    pub fn listening_address(&self, message_prefix: &str) -> String {
        self.address_of(message_prefix).unwrap_or_else(|| {
            panic!(
                "no log line starting {message_prefix:?} with an address:\n{}",
                self.log_text()
            )
        })
    }

    /// The `field` of the first JSON log line so far whose message starts with `message_prefix`, as logged
    /// (a Debug value as its text): what the process said at start, read once it is known to have started.
    pub fn logged(&self, message_prefix: &str, field: &str) -> Option<String> {
        self.log_text()
            .lines()
            .find_map(|line| logged_field(line, message_prefix, field))
    }

    /// The admin server's address (the config says `[admin] listen = "127.0.0.1:0"`).
    pub fn admin_address(&self) -> String {
        self.listening_address(ADMIN_LISTENING)
    }

    pub fn signal(&self, signal: &str) {
        Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
    }

    /// SIGTERM, then asserts that it exits successfully within 20 s (its grace period and some).
    pub fn stop_cleanly(&mut self) {
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(20));
        assert!(
            status.is_some_and(|status| status.success()),
            "{status:?}: {}",
            self.log_text()
        );
    }

    /// Waits up to `limit` for the exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let mut status = None;
        eventually(limit, || {
            status = self.child.try_wait().expect("the child can be waited for");
            status.is_some()
        });
        status
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `field` of one line of a `SEMAPHORE_LOG_FORMAT=json` log when its message starts with
/// `message_prefix`. tracing-subscriber's JSON format puts an event's fields under `fields` (it does not
/// flatten them unless asked), each Display or Debug value as a string; a flattened line is read as well. A
/// line still being written is not JSON yet and is skipped.
fn logged_field(line: &str, message_prefix: &str, field: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = if event["fields"].is_object() {
        &event["fields"]
    } else {
        &event
    };
    if !fields["message"].as_str()?.starts_with(message_prefix) {
        return None;
    }
    fields[field].as_str().map(str::to_owned)
}

/// Polls `condition` every 100 ms for up to `limit`; says whether it became true.
pub fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    condition()
}

/// A self-signed certificate and key for `subject`, made with openssl.
pub fn self_signed(
    directory: &std::path::Path,
    name: &str,
    subject: &str,
    extensions: &[&str],
) -> (PathBuf, PathBuf) {
    let certificate = directory.join(format!("{name}-cert.pem"));
    let key = directory.join(format!("{name}-key.pem"));
    let mut command = Command::new("openssl");
    command.args([
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", subject,
    ]);
    for extension in extensions {
        command.args(["-addext", extension]);
    }
    let made = command
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", all_output(&made));
    (certificate, key)
}

/// The port of `ADDRESS:PORT`.
pub fn port_of(address: &str) -> &str {
    address.rsplit_once(':').expect("ADDRESS:PORT").1
}

/// What `schemas/syslog.message.v1.json` finds wrong with a `syslog.message/1` record.
pub fn syslog_schema_errors(record: &serde_json::Value) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/syslog.message.v1.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(record)
        .map(|error| error.to_string())
        .collect()
}

pub fn have(program: &str) -> bool {
    Command::new("which")
        .arg(program)
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Waits up to `limit` for a spawned command (stdout and stderr piped); kills it if it is still running.
/// Returns its output and whether it finished on its own.
pub fn finish_within(mut child: Child, limit: Duration) -> (Output, bool) {
    let finished = eventually(limit, || {
        child.try_wait().expect("the child can be waited for").is_some()
    });
    if !finished {
        let _ = child.kill();
    }
    (
        child.wait_with_output().expect("the child's output can be read"),
        finished,
    )
}

/// Runs `command` with stdout and stderr captured and returns its output; fails the test if it is still
/// running after `limit` (it is killed then). For commands that must end on their own, such as refusals: a
/// refusal that does not happen would otherwise leave a server running and the test hanging.
pub fn output_within(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the semaphore binary starts");
    let (output, finished) = finish_within(child, limit);
    assert!(finished, "still running after {limit:?}: {}", all_output(&output));
    output
}

/// The admin server's `/metrics` text, empty while it does not answer.
pub fn metrics_text(admin: &str) -> String {
    http_get(admin, "/metrics")
        .map(|(_, text)| text)
        .unwrap_or_default()
}

/// A broker outage under a push source, as the spool tests make it: waits until 2,000 records reached Kafka,
/// stops the broker, waits until `/readyz` says the spool is in use, and returns once `outage` has passed
/// since the broker stopped.
pub fn sit_out_broker_outage(broker: &mut Broker, daemon: &Daemon, admin: &str, outage: Duration) {
    assert!(
        eventually(Duration::from_secs(60), || metric(
            &metrics_text(admin),
            "semaphore_records_produced_total{output=\"kafka\"}"
        )
        .is_some_and(|produced| produced >= 2_000.0)),
        "{}",
        daemon.log_text()
    );
    broker.stop().expect("the broker stops on SIGTERM");
    let outage_started = tokio::time::Instant::now();
    assert!(
        eventually(Duration::from_secs(30), || http_get(admin, "/readyz")
            .is_some_and(|(_, body)| body.contains("spool: in use"))),
        "readiness says the spool is in use: {}",
        daemon.log_text()
    );
    std::thread::sleep(outage.saturating_sub(outage_started.elapsed()));
}
