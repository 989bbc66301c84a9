//! Issue 12: SASL_SSL end to end, as Confluent Cloud users connect. `semaphore broker` speaks TLS itself
//! (a self-signed certificate made here) and requires a SASL/SCRAM login (nisshi has no PLAIN; Confluent
//! Cloud's PLAIN goes through the same client settings); semaphore's commands (`topics`, `publish`,
//! `consume`, and `run` with a sink) connect with the credentials in the environment and in a Confluent
//! `client.properties`, and Python's confluent-kafka with the same credentials is the independent client. A
//! wrong password and an untrusted certificate each end a command within seconds with exit code 1 and the
//! fix, and no password is ever printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::{
    Broker, Daemon, Simulate, all_output, eventually, have, http_get, metric, output_within, python_has,
    required, self_signed, semaphore, temp_dir,
};

const USER: &str = "alice";
/// Distinct enough that finding it in any output means it was printed.
const PASSWORD: &str = "alice-Pa55-7f3e9c";
const WRONG_PASSWORD: &str = "not-alices-Pa55-b41d";
const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";
/// A refusal is seen within a second or two; a command that waited for its 10 s timeout did not see it.
const REFUSED_WITHIN: Duration = Duration::from_secs(8);

/// `semaphore broker` on a port it picks, in memory, speaking TLS and requiring a login, with what a client
/// needs to connect to it.
struct SecureBroker {
    broker: Broker,
    directory: PathBuf,
    /// The broker's self-signed certificate, which is also the CA clients trust.
    certificate: PathBuf,
}

impl SecureBroker {
    /// `None` (the test skips, or fails in CI) where openssl is absent.
    fn start(name: &str) -> Option<Self> {
        if !required("openssl (apt-get install openssl)", have("openssl")) {
            return None;
        }
        let directory = temp_dir(name);
        let (certificate, key) = broker_certificate(&directory);
        let users = directory.join("users.txt");
        std::fs::write(
            &users,
            format!("# who may log in\n{USER}:{PASSWORD}\nbob : bobs-Pa55-0a9e\n"),
        )
        .unwrap();
        let broker = Broker::start_with(
            "127.0.0.1:0",
            &[
                "--memory",
                "--tls-cert",
                path_text(&certificate),
                "--tls-key",
                path_text(&key),
                "--sasl-users",
                path_text(&users),
            ],
        );
        Some(Self {
            broker,
            directory,
            certificate,
        })
    }

    /// `semaphore ARGUMENTS` over SASL_SSL with SCRAM-SHA-256 from flags, the credentials in
    /// SEMAPHORE_KAFKA_USERNAME / SEMAPHORE_KAFKA_PASSWORD.
    fn with_flags(&self, arguments: &[&str], password: &str) -> Command {
        let mut command = self.without_ca(arguments, password);
        command.arg("--ssl-ca-location").arg(&self.certificate);
        command
    }

    /// As [`SecureBroker::with_flags`], without trusting the broker's certificate.
    fn without_ca(&self, arguments: &[&str], password: &str) -> Command {
        let mut command = semaphore();
        command
            .args(arguments)
            .args(["--brokers", &self.broker.address])
            .args([
                "--security-protocol",
                "SASL_SSL",
                "--sasl-mechanism",
                "SCRAM-SHA-256",
            ])
            .env("SEMAPHORE_KAFKA_USERNAME", USER)
            .env("SEMAPHORE_KAFKA_PASSWORD", password)
            .env_remove("CLUSTER_API_KEY")
            .env_remove("CLUSTER_API_SECRET");
        command
    }

    /// A `client.properties` as Confluent Cloud hands it out, with placeholders for the key and secret, here
    /// SCRAM-SHA-512 and the broker's certificate as the CA.
    fn client_properties(&self) -> PathBuf {
        let path = self.directory.join("client.properties");
        std::fs::write(
            &path,
            format!(
                "# Required connection configs for Kafka producer, consumer, and admin\n\
                 bootstrap.servers={brokers}\nsecurity.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-512\n\
                 sasl.username={{{{ CLUSTER_API_KEY }}}}\nsasl.password={{{{ CLUSTER_API_SECRET }}}}\n\
                 ssl.ca.location={ca}\n\
                 # Best practice for higher availability in librdkafka clients prior to 1.7\n\
                 session.timeout.ms=45000\n",
                brokers = self.broker.address,
                ca = self.certificate.display(),
            ),
        )
        .unwrap();
        path
    }

    /// `semaphore ARGUMENTS --client-properties FILE`, the key and secret in CLUSTER_API_KEY /
    /// CLUSTER_API_SECRET as the file's placeholders name them.
    fn with_properties(&self, arguments: &[&str], properties: &Path, secret: &str) -> Command {
        let mut command = semaphore();
        command
            .args(arguments)
            .arg("--client-properties")
            .arg(properties)
            .env("CLUSTER_API_KEY", USER)
            .env("CLUSTER_API_SECRET", secret)
            .env_remove("SEMAPHORE_KAFKA_USERNAME")
            .env_remove("SEMAPHORE_KAFKA_PASSWORD");
        command
    }
}

impl Drop for SecureBroker {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// A self-signed certificate for 127.0.0.1, which librdkafka checks the broker's address against.
fn broker_certificate(directory: &Path) -> (PathBuf, PathBuf) {
    self_signed(
        directory,
        "broker",
        "/CN=localhost",
        &["subjectAltName=IP:127.0.0.1,DNS:localhost"],
    )
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Runs `command`, which must end on its own within a minute, and fails the test unless it succeeded.
fn succeeds(command: &mut Command) -> Output {
    let output = output_within(command, Duration::from_secs(60));
    assert!(output.status.success(), "{}", all_output(&output));
    assert_no_password(&all_output(&output));
    output
}

fn assert_no_password(text: &str) {
    assert!(
        !text.contains(PASSWORD) && !text.contains(WRONG_PASSWORD),
        "a password was printed: {text}"
    );
}

/// What `consume -e -f %k\n` prints: one key per record.
fn keys(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Issue 12: every command a Confluent Cloud user runs, over SASL_SSL, with the credentials from the
/// environment and from a Confluent `client.properties`; Python's confluent-kafka reads what semaphore
/// wrote and writes what semaphore reads.
#[test]
fn commands_and_a_sink_work_over_sasl_ssl_with_credentials_from_the_environment_and_client_properties() {
    let Some(secure) = SecureBroker::start("sasl-ssl") else {
        return;
    };
    let properties = secure.client_properties();

    // topics: created with the flags and the environment, listed with the properties file.
    let created = succeeds(&mut secure.with_flags(
        &["topics", "create", "sasl.checks", "--partitions", "2"],
        PASSWORD,
    ));
    assert!(
        all_output(&created).contains("created topic sasl.checks: 2 partitions"),
        "{}",
        all_output(&created)
    );
    let listed = succeeds(&mut secure.with_properties(&["topics", "list"], &properties, PASSWORD));
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("sasl.checks\t2 partitions"),
        "{}",
        all_output(&listed)
    );

    // publish: the simulator's last ten minutes, with the properties file.
    let simulator = Simulate::start(&["--appliances", "2"]);
    let data = secure.directory.join("publish-data");
    let mut publish = secure.with_properties(
        &["publish", "loss-latency", "--once", "--initial-lookback", "600"],
        &properties,
        PASSWORD,
    );
    publish
        .args(["--meraki-url", &simulator.base_url, "--data-dir"])
        .arg(&data)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key");
    succeeds(&mut publish);

    // consume: what publish wrote, with the flags and the environment.
    let consumed =
        succeeds(&mut secure.with_flags(&["consume", UPLINKS_TOPIC, "-e", "-f", "%k\\n"], PASSWORD));
    let published = keys(&consumed).len();
    assert!(
        published >= 8,
        "ten minutes of 2 appliances' uplinks: {published} records"
    );

    // Python, with the same credentials: reads every record semaphore wrote, and writes one semaphore reads.
    if required(
        "Python confluent-kafka (pip install -r .ci/requirements.txt)",
        python_has("confluent_kafka"),
    ) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/support/sasl_client.py");
        let python = output_within(
            Command::new("python3")
                .arg(script)
                .args([secure.broker.address.as_str(), path_text(&secure.certificate)])
                .args([
                    "SCRAM-SHA-256",
                    "sasl.checks",
                    UPLINKS_TOPIC,
                    &published.to_string(),
                ])
                .env("KAFKA_USERNAME", USER)
                .env("KAFKA_PASSWORD", PASSWORD),
            Duration::from_secs(120),
        );
        assert!(python.status.success(), "{}", all_output(&python));
        let answer: serde_json::Value = serde_json::from_slice(&python.stdout).unwrap();
        assert_eq!(answer["read"], published, "{}", all_output(&python));
        let from_python = succeeds(&mut secure.with_properties(
            &["consume", "sasl.checks", "-e", "-f", "%k\\n"],
            &properties,
            PASSWORD,
        ));
        assert_eq!(
            keys(&from_python),
            ["from-python"],
            "{}",
            all_output(&from_python)
        );
    }

    // run: a sink (the Prometheus exporter) reading the topic, configured with the properties file.
    let config = secure.directory.join("sinks.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[kafka]\nclient_properties = \"{properties}\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n[[sinks.prometheus]]\nlisten = \"127.0.0.1:0\"\n",
            data = secure.directory.join("sinks-data").display(),
            properties = properties.display(),
        ),
    )
    .unwrap();
    let log = secure.directory.join("sinks.log");
    let mut sinks = Daemon::start_with_env(
        &config,
        &log,
        &[("CLUSTER_API_KEY", USER), ("CLUSTER_API_SECRET", PASSWORD)],
    );
    let admin = sinks.admin_address();
    let delivered = || {
        http_get(&admin, "/metrics")
            .and_then(|(_, text)| metric(&text, "semaphore_sink_records_total{sink=\"prometheus\"}"))
            .unwrap_or(0.0)
    };
    assert!(
        eventually(Duration::from_secs(90), || delivered() >= published as f64),
        "the exporter delivered {} of {published}: {}",
        delivered(),
        sinks.log_text()
    );
    sinks.signal("TERM");
    let status = sinks.wait_exit(Duration::from_secs(20));
    assert!(
        status.is_some_and(|status| status.success()),
        "{}",
        sinks.log_text()
    );
    assert_no_password(&sinks.log_text());
}

/// Issue 12: a wrong secret ends each command within seconds, exit code 1, naming authentication and the
/// variables to fix; an untrusted certificate the same, naming the certificate and --ssl-ca-location. Run
/// with trace logging, and the password is in none of it.
#[test]
fn a_wrong_password_or_an_untrusted_certificate_ends_at_once_with_the_fix() {
    let Some(secure) = SecureBroker::start("sasl-ssl-refused") else {
        return;
    };
    let properties = secure.client_properties();
    let simulator = Simulate::start(&["--appliances", "2"]);
    let config = secure.directory.join("sinks.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[kafka]\nclient_properties = \"{properties}\"\n\
             [admin]\nlisten = \"\"\n[[sinks.prometheus]]\nlisten = \"127.0.0.1:0\"\n",
            data = secure.directory.join("sinks-data").display(),
            properties = properties.display(),
        ),
    )
    .unwrap();
    let data = secure.directory.join("publish-data");
    let mut publish = secure.with_flags(&["publish", "loss-latency", "--once"], WRONG_PASSWORD);
    publish
        .args(["--meraki-url", &simulator.base_url, "--data-dir"])
        .arg(&data)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key");
    let wrong_password: Vec<(&str, Command)> = vec![
        (
            "topics list",
            secure.with_flags(&["topics", "list"], WRONG_PASSWORD),
        ),
        (
            "consume",
            secure.with_properties(&["consume", UPLINKS_TOPIC, "-e"], &properties, WRONG_PASSWORD),
        ),
        ("publish --once", publish),
        ("run (a sink)", {
            // `run` takes its connection from the config file, which names the same properties.
            let mut run = semaphore();
            run.args(["run", "-c"])
                .arg(&config)
                .env("CLUSTER_API_KEY", USER)
                .env("CLUSTER_API_SECRET", WRONG_PASSWORD);
            run
        }),
    ];
    for (what, command) in wrong_password {
        let text = refused(what, command);
        assert!(
            text.contains("refused SASL authentication")
                && text.contains("SEMAPHORE_KAFKA_PASSWORD")
                && text.contains("CLUSTER_API_SECRET"),
            "{what}: {text}"
        );
    }

    let untrusted = [
        ("topics list", secure.without_ca(&["topics", "list"], PASSWORD)),
        (
            "consume",
            secure.without_ca(&["consume", UPLINKS_TOPIC, "-e"], PASSWORD),
        ),
    ];
    for (what, command) in untrusted {
        let text = refused(what, command);
        assert!(
            text.contains("cannot verify the TLS certificate") && text.contains("--ssl-ca-location"),
            "{what}: {text}"
        );
    }
}

/// Runs a command that Kafka refuses, with trace logging: it ends with exit code 1 within
/// [`REFUSED_WITHIN`], its last line is the error, and no password is anywhere in what it printed. Returns
/// the error line.
fn refused(what: &str, mut command: Command) -> String {
    command.env("SEMAPHORE_LOG", "trace");
    let started = tokio::time::Instant::now();
    let output = output_within(&mut command, Duration::from_secs(30));
    let took = started.elapsed();
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(1), "{what}: {text}");
    assert!(took < REFUSED_WITHIN, "{what} took {took:?} to give up: {text}");
    assert_no_password(&text);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("semaphore: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{what}: {text}");
    errors[0].to_owned()
}

/// Issue 12: the users come from the file and the environment; with `--data-dir`, a user taken out of the
/// file since the last start can no longer log in, and one still in it can.
#[test]
fn users_come_from_the_file_and_the_environment_and_leaving_one_out_revokes_it() {
    if !required("openssl (apt-get install openssl)", have("openssl")) {
        return;
    }
    let directory = temp_dir("sasl-users");
    let (certificate, key) = broker_certificate(&directory);
    let users = directory.join("users.txt");
    std::fs::write(&users, format!("{USER}:{PASSWORD}\nbob:bobs-Pa55-0a9e\n")).unwrap();
    let data = directory.join("broker-data");
    let arguments = [
        "--data-dir",
        path_text(&data),
        "--tls-cert",
        path_text(&certificate),
        "--tls-key",
        path_text(&key),
        "--sasl-users",
        path_text(&users),
    ];
    let list_as = |broker: &Broker, user: &str, password: &str| {
        let mut command = semaphore();
        command
            .args(["topics", "list", "--brokers", &broker.address])
            .args([
                "--security-protocol",
                "SASL_SSL",
                "--sasl-mechanism",
                "SCRAM-SHA-512",
            ])
            .arg("--ssl-ca-location")
            .arg(&certificate)
            .env("SEMAPHORE_KAFKA_USERNAME", user)
            .env("SEMAPHORE_KAFKA_PASSWORD", password);
        output_within(&mut command, Duration::from_secs(30))
    };

    let mut broker = Broker::start_with_env(
        "127.0.0.1:0",
        &arguments,
        &[
            ("SEMAPHORE_BROKER_USERNAME", "carol"),
            ("SEMAPHORE_BROKER_PASSWORD", "carols-Pa55-5e2d"),
        ],
    );
    for (user, password) in [
        (USER, PASSWORD),
        ("bob", "bobs-Pa55-0a9e"),
        ("carol", "carols-Pa55-5e2d"),
    ] {
        let listed = list_as(&broker, user, password);
        assert!(listed.status.success(), "{user}: {}", all_output(&listed));
    }
    let address = broker.address.clone();
    assert!(broker.stop().is_some_and(|status| status.success()));

    // Bob is taken out of the file, and carol's variables are not set any more.
    std::fs::write(&users, format!("{USER}:{PASSWORD}\n")).unwrap();
    let broker = Broker::start_with(&address, &arguments);
    let listed = list_as(&broker, USER, PASSWORD);
    assert!(listed.status.success(), "{}", all_output(&listed));
    for (user, password) in [("bob", "bobs-Pa55-0a9e"), ("carol", "carols-Pa55-5e2d")] {
        let refused = list_as(&broker, user, password);
        assert_eq!(refused.status.code(), Some(1), "{user}: {}", all_output(&refused));
        assert!(
            all_output(&refused).contains("refused SASL authentication"),
            "{user}: {}",
            all_output(&refused)
        );
    }
    drop(broker);
    let _ = std::fs::remove_dir_all(&directory);
}

/// Issue 12: a users file or certificate the broker cannot use ends its start with exit code 1, naming the
/// file (and line) and the fix, without quoting the line.
#[test]
fn a_bad_users_file_or_certificate_is_named_at_start() {
    let directory = temp_dir("sasl-bad-files");
    let users = directory.join("users.txt");
    std::fs::write(&users, "alice:one\nhunter2-on-its-own\n").unwrap();
    let missing = directory.join("missing.pem");
    let broker = |arguments: &[&str]| {
        let mut command = semaphore();
        command
            .args(["broker", "--memory", "--listen", "127.0.0.1:0"])
            .args(arguments);
        output_within(&mut command, Duration::from_secs(30))
    };

    let output = broker(&["--sasl-users", path_text(&users)]);
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("users.txt, line 2: no ':' between the username and the password")
            && text.contains("USERNAME:PASSWORD"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");

    let output = broker(&[
        "--tls-cert",
        path_text(&missing),
        "--tls-key",
        path_text(&missing),
    ]);
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot read the TLS certificate file") && text.contains("missing.pem"),
        "{text}"
    );

    // The certificate goes with its key: one without the other is a usage error.
    let output = broker(&["--tls-cert", path_text(&missing)]);
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    assert!(
        all_output(&output).contains("--tls-key"),
        "{}",
        all_output(&output)
    );
    let _ = std::fs::remove_dir_all(&directory);
}
