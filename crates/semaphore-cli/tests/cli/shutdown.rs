//! Issue 10: every command exits within its grace period plus a few seconds, whatever its broker does: gone
//! before the signal, right after it, or in the middle of the run; for `run -c` with a source, with a source
//! and a sink, for `publish --once`, and for `consume` (with a group, and to the end with `-e`).
//! Each test runs the built binary against a `semaphore broker` process of its own and kills that broker with
//! SIGKILL, as a crash or a pulled cable would: nothing is closed politely.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use crate::support::snmp;
use crate::support::{
    Broker, Daemon, Simulate, all_output, consume_all, eventually, free_port, http_get, metric,
    output_within, semaphore, temp_dir,
};

const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";

/// The grace period the tests give `run` and `publish`, in seconds: short, so a drain that waits it out keeps
/// the test short.
const GRACE_S: u64 = 3;
/// The "few seconds" beyond the grace period: ending the runtime and the process once the drain gave up, on a
/// shared two-core machine.
const SLACK: Duration = Duration::from_secs(5);
/// `consume` has no grace period: a stop signal ends it after the poll in progress (1 s) and its last commit.
const CONSUME_STOPS_WITHIN: Duration = Duration::from_secs(10);
/// README, `consume`: "an unreachable broker is an error within 10 s"; the rest is slack for a busy machine.
const CONSUME_GIVES_UP_WITHIN: Duration = Duration::from_secs(20);

/// librdkafka options that make `consume` read a topic a few records at a time: each fetch asks for at most
/// 4000 bytes (the embedded broker honours a fetch's byte limit), and once more than a kilobyte waits to be
/// printed the next fetch is postponed (`fetch.queue.backoff.ms`, 1 s). A topic of a thousand records then
/// takes far longer to read than the test takes to kill the broker.
const SMALL_FETCHES: [&str; 3] = [
    "fetch.max.bytes=4000",
    // librdkafka refuses a fetch.max.bytes below message.max.bytes (1 MB by default).
    "message.max.bytes=4000",
    "queued.max.messages.kbytes=1",
];

/// Issue 10: `run -c` with a source only, writing an hour of back-fill; its broker is killed (SIGKILL) once a
/// window reached Kafka, and SIGTERM follows once the process noticed (`semaphore_kafka_up 0`). It exits
/// within its grace period plus a few seconds: with 0, or with 1 and a line naming what was left
/// unacknowledged.
#[test]
fn run_with_a_source_exits_in_time_when_its_broker_died_before_the_signal() {
    run_exits_in_time("shutdown-source-before", false, BrokerDeath::BeforeTheSignal);
}

/// Issue 10: as above, but SIGTERM comes first and the broker is killed at once, while the drain waits for
/// Kafka to acknowledge the window being written.
#[test]
fn run_with_a_source_exits_in_time_when_its_broker_dies_right_after_the_signal() {
    run_exits_in_time("shutdown-source-after", false, BrokerDeath::RightAfterTheSignal);
}

/// Issue 10: `run -c` with a source and a sink (the Prometheus exporter) in one process; once the source
/// wrote and the sink delivered (and so joined its group), the broker is killed, and SIGTERM follows once the
/// process noticed. It exits within its grace period plus a few seconds: neither the producer's records nor
/// the sink's last commit, which has no coordinator left to go to, may hold the exit.
#[test]
fn run_with_a_source_and_a_sink_exits_in_time_when_its_broker_died_before_the_signal() {
    run_exits_in_time("shutdown-both-before", true, BrokerDeath::BeforeTheSignal);
}

/// Issue 10: `publish --once` writing an hour of 2000 appliances; its broker is killed while records wait for
/// Kafka's acknowledgement, and SIGTERM follows at once. `--once` waits for every record to be acknowledged,
/// so without the signal it would wait for ever; with it, it ends within its grace period plus a few seconds,
/// with exit 1 and a line naming what was not acknowledged.
#[test]
fn publish_once_ends_in_time_after_a_signal_when_its_broker_dies_mid_run() {
    let simulator = Simulate::start(&["--appliances", "2000"]);
    let mut broker = Broker::start();
    let directory = temp_dir("shutdown-publish");
    let admin = format!("127.0.0.1:{}", free_port());
    let grace = GRACE_S.to_string();
    let mut command = semaphore();
    command
        .args(["publish", "loss-latency", "--once", "--initial-lookback", "3600"])
        .args(["--brokers", &broker.address, "--meraki-url", &simulator.base_url])
        .args(["--admin-listen", &admin, "--grace-period-s", &grace, "--data-dir"])
        .arg(directory.join("data"))
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .stdout(Stdio::null());
    let mut publish = spawn_logged(&mut command, &directory.join("publish.log"));
    // Records handed to the producer and not acknowledged yet: the broker dies with records in flight.
    assert!(
        eventually(Duration::from_secs(90), || {
            admin_metric(&admin, "semaphore_kafka_queue_depth").is_some_and(|depth| depth > 0.0)
        }),
        "no record ever waited for Kafka: {}",
        publish.log_text()
    );
    kill(&mut broker);
    publish.signal("TERM");
    let limit = Duration::from_secs(GRACE_S) + SLACK;
    let status = publish.wait_exit(limit);
    let log = publish.log_text();
    let status = status.unwrap_or_else(|| panic!("publish --once still ran {limit:?} after SIGTERM:\n{log}"));
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        error_line(&log).is_some_and(names_what_was_left),
        "exit 1 without a line naming what was not acknowledged:\n{log}"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

/// Issue 10: `consume -G` (no `-e`) that has read a topic and waits for more; its broker is killed, and
/// SIGTERM follows once consume reported the lost broker, or at once. It ends within a few seconds either
/// way, though its last commit has no coordinator left to go to.
#[test]
fn consume_with_a_group_stops_in_time_when_its_broker_is_gone() {
    let simulator = Simulate::start(&["--appliances", "20"]);
    for noticed_first in [true, false] {
        let mut broker = Broker::start();
        let directory = temp_dir("shutdown-consume-group");
        publish_records(&simulator, &broker.address, &directory.join("data"), "600");
        let printed = directory.join("records.jsonl");
        let mut command = semaphore();
        command
            .args(["consume", UPLINKS_TOPIC, "-G", "shutdown-test"])
            .args(["--brokers", &broker.address])
            .stdout(std::fs::File::create(&printed).unwrap());
        let mut consume = spawn_logged(&mut command, &directory.join("consume.log"));
        assert!(
            eventually(Duration::from_secs(60), || {
                std::fs::read_to_string(&printed).is_ok_and(|text| text.contains('\n'))
            }),
            "consume -G printed no record: {}",
            consume.log_text()
        );
        kill(&mut broker);
        if noticed_first {
            assert!(
                eventually(Duration::from_secs(30), || {
                    let log = consume.log_text();
                    log.contains("Kafka consumer error") || log.contains("Kafka client error")
                }),
                "consume -G never reported that its broker was gone: {}",
                consume.log_text()
            );
        }
        consume.signal("TERM");
        let limit = CONSUME_STOPS_WITHIN;
        let status = consume.wait_exit(limit);
        let log = consume.log_text();
        let status = status.unwrap_or_else(|| {
            panic!("consume -G (noticed first: {noticed_first}) still ran {limit:?} after SIGTERM:\n{log}")
        });
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "consume -G ended with {status:?}:\n{log}"
        );
        std::fs::remove_dir_all(&directory).unwrap();
    }
}

/// Issue 10: `consume -e` reading a topic a few records at a time; its broker is killed long before the end.
/// The end can no longer be reached, so it ends by itself within README's bound for an unreachable broker,
/// with a non-zero exit and an error naming the broker, instead of waiting for ever. (Exit 0 is right only
/// had it printed every record the topic holds.)
#[test]
fn consume_to_the_end_ends_in_time_when_its_broker_dies_before_the_end() {
    let simulator = Simulate::start(&["--appliances", "20"]);
    let mut broker = Broker::start();
    let directory = temp_dir("shutdown-consume-end");
    publish_records(&simulator, &broker.address, &directory.join("data"), "1800");
    let held = consume_all(&broker.address, UPLINKS_TOPIC).len();
    let mut command = semaphore();
    command.args(["consume", UPLINKS_TOPIC, "-e", "--brokers", &broker.address]);
    for option in SMALL_FETCHES {
        command.args(["-X", option]);
    }
    command.stdout(Stdio::piped());
    let mut consume = spawn_logged(&mut command, &directory.join("consume.log"));
    // Read on a thread of its own, so a consume that prints nothing cannot hang the test, and one that prints
    // never blocks on a full pipe.
    let stdout = consume.child.stdout.take().expect("stdout is piped");
    let (line_sender, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if line.is_err() || line_sender.send(()).is_err() {
                break;
            }
        }
    });
    assert!(
        lines.recv_timeout(Duration::from_secs(60)).is_ok(),
        "consume -e printed no record: {}",
        consume.log_text()
    );
    kill(&mut broker);
    let limit = CONSUME_GIVES_UP_WITHIN;
    let status = consume.wait_exit(limit);
    let log = consume.log_text();
    let status = status
        .unwrap_or_else(|| panic!("consume -e still ran {limit:?} after its broker was killed:\n{log}"));
    // The process is gone, so its standard output is closed and the reader has seen every line.
    reader.join().expect("the reader thread does not panic");
    let printed = 1 + lines.try_iter().count();
    if status.success() {
        assert_eq!(printed, held, "exit 0 before the end of the topic:\n{log}");
    } else {
        let error = error_line(&log)
            .unwrap_or_else(|| panic!("exit {status:?} without a `semaphore: error:` line:\n{log}"));
        assert!(
            error.contains(&broker.address),
            "the error does not name the broker {}: {error}",
            broker.address
        );
    }
    std::fs::remove_dir_all(&directory).unwrap();
}

/// How the broker goes away around the daemon's SIGTERM.
#[derive(Clone, Copy, Debug)]
enum BrokerDeath {
    /// Killed first; the signal comes once `/metrics` shows `semaphore_kafka_up 0` (the process noticed).
    BeforeTheSignal,
    /// Killed at once after the signal, while the drain runs.
    RightAfterTheSignal,
}

/// Issue 14: `run -c` with both SNMP sources, an SNMP poller of net-snmp's snmpd every 2 s and a trap
/// receiver holding an inform that waits for Kafka; the broker is killed (SIGKILL), and once the process
/// noticed, SIGTERM: it exits within its grace period plus a few seconds, having drained or named what was
/// left, and the inform is left unanswered (its sender would send it again).
#[test]
fn run_with_snmp_sources_exits_in_time_with_an_inform_waiting_when_its_broker_died() {
    if !crate::support::required("net-snmp (snmpd, snmpinform)", snmp::have_net_snmp()) {
        return;
    }
    let mut broker = Broker::start();
    let directory = temp_dir("shutdown-snmp");
    let agent = snmp::Snmpd::start(&directory);
    let admin = format!("127.0.0.1:{}", free_port());
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[kafka]\nbrokers = \"{brokers}\"\n[admin]\nlisten = \"{admin}\"\n\
             [[sources.snmp]]\ntargets = [\"{agent}\"]\nversion = \"2c\"\ncommunity_env = \"COMMUNITY\"\n\
             interval_s = 2\ntimeout_s = 1\n\
             [[sources.snmp_traps]]\nlisten = \"udp://127.0.0.1:0\"\n",
            data = directory.join("data").display(),
            brokers = broker.address,
            agent = agent.address,
        ),
    )
    .unwrap();
    let grace = GRACE_S.to_string();
    let mut daemon = Daemon::start_with_env(
        &config,
        &directory.join("run.log"),
        &[
            ("SEMAPHORE_GRACE_PERIOD_S", grace.as_str()),
            ("COMMUNITY", snmp::COMMUNITY),
        ],
    );
    let receiver = daemon.listening_address("SNMP traps listening");
    assert!(
        eventually(Duration::from_secs(60), || {
            admin_metric(&admin, "semaphore_records_produced_total{output=\"kafka\"}")
                .is_some_and(|records| records > 0.0)
        }),
        "no poll reached Kafka: {}",
        daemon.log_text()
    );
    kill(&mut broker);
    assert!(
        eventually(Duration::from_secs(30), || admin_metric(
            &admin,
            "semaphore_kafka_up"
        ) == Some(0.0)),
        "the daemon never noticed that its broker was gone: {}",
        daemon.log_text()
    );
    let trap: Vec<String> = ["".to_owned(), "1.3.6.1.6.3.1.1.5.4".to_owned()]
        .into_iter()
        .chain(snmp::link_varbinds(3, "1"))
        .collect();
    let security = ["-v2c", "-c", "public", "-t", "5", "-r", "10"];
    let mut inform = snmp::sender("snmpinform", &security, &receiver, &trap, "waiting");
    let inform = inform
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("snmpinform starts");
    std::thread::sleep(Duration::from_secs(2));
    daemon.signal("TERM");
    let signalled = Instant::now();
    let limit = Duration::from_secs(GRACE_S) + SLACK;
    let status = daemon.wait_exit(limit.saturating_sub(signalled.elapsed()));
    let log = daemon.log_text();
    let status = status.unwrap_or_else(|| panic!("the daemon still ran {limit:?} after SIGTERM:\n{log}"));
    assert_drained_or_named_what_was_left(status, &log);
    let (output, finished) = crate::support::finish_within(inform, Duration::from_secs(1));
    assert!(
        !finished || !output.status.success(),
        "the inform was answered without Kafka: {log}"
    );
}

/// `run -c` with the `meraki_uplinks` source (an hour of back-fill of 200 appliances, so windows are still
/// being written when the broker dies) and, `with_sink`, a Prometheus exporter sink; grace period
/// [`GRACE_S`]. Once a window reached Kafka (and the sink delivered), the broker dies as `death` says; the
/// daemon must exit within the grace period plus [`SLACK`] of SIGTERM, having drained or named what was left.
fn run_exits_in_time(name: &str, with_sink: bool, death: BrokerDeath) {
    let simulator = Simulate::start(&["--appliances", "200"]);
    let mut broker = Broker::start();
    let directory = temp_dir(name);
    let admin = format!("127.0.0.1:{}", free_port());
    let sink = if with_sink {
        format!("[[sinks.prometheus]]\nlisten = \"127.0.0.1:{}\"\n", free_port())
    } else {
        String::new()
    };
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [meraki]\nurl = \"{url}\"\ntimeout_s = 5\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [admin]\nlisten = \"{admin}\"\n\
             [[sources.meraki_uplinks]]\ninterval_s = 6\nddns = false\ninitial_lookback_s = 3600\n{sink}",
            data = directory.join("data").display(),
            url = simulator.base_url,
            brokers = broker.address,
        ),
    )
    .unwrap();
    let grace = GRACE_S.to_string();
    let mut daemon = Daemon::start_with_env(
        &config,
        &directory.join("run.log"),
        &[("SEMAPHORE_GRACE_PERIOD_S", grace.as_str())],
    );
    assert!(
        eventually(Duration::from_secs(90), || {
            admin_metric(&admin, "semaphore_records_produced_total{output=\"kafka\"}")
                .is_some_and(|records| records > 0.0)
        }),
        "no window reached Kafka: {}",
        daemon.log_text()
    );
    if with_sink {
        assert!(
            eventually(Duration::from_secs(60), || {
                admin_metric(&admin, "semaphore_sink_records_total{sink=\"prometheus\"}")
                    .is_some_and(|records| records > 0.0)
            }),
            "the sink delivered nothing: {}",
            daemon.log_text()
        );
    }
    let signalled = match death {
        BrokerDeath::BeforeTheSignal => {
            kill(&mut broker);
            assert!(
                eventually(Duration::from_secs(30), || {
                    admin_metric(&admin, "semaphore_kafka_up") == Some(0.0)
                }),
                "the daemon never noticed that its broker was gone: {}",
                daemon.log_text()
            );
            daemon.signal("TERM");
            Instant::now()
        }
        BrokerDeath::RightAfterTheSignal => {
            daemon.signal("TERM");
            let signalled = Instant::now();
            kill(&mut broker);
            signalled
        }
    };
    let limit = Duration::from_secs(GRACE_S) + SLACK;
    let status = daemon.wait_exit(limit.saturating_sub(signalled.elapsed()));
    let log = daemon.log_text();
    let status = status.unwrap_or_else(|| {
        panic!("broker killed {death:?}: the daemon still ran {limit:?} after SIGTERM:\n{log}")
    });
    assert_drained_or_named_what_was_left(status, &log);
    std::fs::remove_dir_all(&directory).unwrap();
}

/// `publish loss-latency --once` of the simulator's last `lookback_s` seconds into `brokers`, which must
/// succeed: the records the `consume` tests read.
fn publish_records(simulator: &Simulate, brokers: &str, data: &Path, lookback_s: &str) {
    let output = output_within(
        semaphore()
            .args(["publish", "loss-latency", "--once"])
            .args(["--initial-lookback", lookback_s, "--brokers", brokers])
            .args(["--meraki-url", &simulator.base_url, "--data-dir"])
            .arg(data)
            .env("MERAKI_DASHBOARD_API_KEY", "test-key"),
        Duration::from_secs(120),
    );
    assert!(output.status.success(), "{}", all_output(&output));
}

/// Starts `command` in the background with its standard error in the file `log` (never a pipe nobody reads,
/// which could block it), held as a [`Daemon`] for its signals, its bounded wait and its kill when dropped.
fn spawn_logged(command: &mut Command, log: &Path) -> Daemon {
    let log_file = std::fs::File::create(log).unwrap();
    let child = command
        .stderr(log_file)
        .spawn()
        .expect("the semaphore binary starts");
    Daemon {
        child,
        log: log.to_owned(),
    }
}

/// SIGKILL: the broker vanishes without closing a connection, as a crashed one does.
fn kill(broker: &mut Broker) {
    broker.child.kill().expect("the broker can be killed");
    broker.child.wait().expect("the broker can be waited for");
}

/// A sample of the process's `/metrics`, if it answers and has it.
fn admin_metric(admin: &str, name_and_labels: &str) -> Option<f64> {
    http_get(admin, "/metrics").and_then(|(_, text)| metric(&text, name_and_labels))
}

/// Exit 0 after a finished drain, or exit 1 with the `semaphore: error:` line naming what the grace period
/// cut short (README, `run`: "anything still writing then is stopped, named in the log ... and the exit code
/// is 1").
fn assert_drained_or_named_what_was_left(status: ExitStatus, log: &str) {
    match status.code() {
        Some(0) => assert!(
            log.contains("semaphore stopped."),
            "exit 0 without a finished drain:\n{log}"
        ),
        Some(1) => assert!(
            error_line(log).is_some_and(names_what_was_left),
            "exit 1 without a line naming what was left:\n{log}"
        ),
        _ => panic!("exit {status:?}, neither 0 nor 1:\n{log}"),
    }
}

/// The last `semaphore: error:` line a command printed.
fn error_line(log: &str) -> Option<&str> {
    log.lines()
        .rev()
        .find(|line| line.starts_with("semaphore: error:"))
}

/// Whether an error line names what the grace period cut short: a source still writing, a sink still
/// delivering, records Kafka had not acknowledged, or the spool's replay (a push source's records spooled
/// while Kafka was away, sent at the next start).
fn names_what_was_left(line: &str) -> bool {
    line.contains("grace period")
        && [
            "was still writing",
            "was still delivering",
            "not acknowledged",
            "the spool's replay was still sending",
        ]
        .iter()
        .any(|what| line.contains(what))
}
