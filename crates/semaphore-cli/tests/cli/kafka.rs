//! `semaphore broker`, `topics` and `consume` run as a user runs them, with Python's confluent-kafka as the
//! outside producer.

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{Broker, all_output, finish_within, python_has, semaphore};

fn produce_with_python(broker: &Broker, topic: &str, count: usize) -> bool {
    python_client(broker, "produce", topic, count)
}

/// Runs `kafka_client.py MODE BROKER TOPIC COUNT`; false (skipped) where confluent-kafka is absent.
fn python_client(broker: &Broker, mode: &str, topic: &str, count: usize) -> bool {
    if !python_has("confluent_kafka") {
        // Only where the package is absent; .ci/run installs it, so CI never skips this.
        eprintln!("SKIPPED: Python confluent-kafka is not installed (pip install confluent-kafka)");
        return false;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../semaphore/tests/python/kafka_client.py");
    let output = Command::new("python3")
        .arg(script)
        .args([mode, &broker.address, topic, &count.to_string()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

fn run(broker: &Broker, arguments: &[&str]) -> std::process::Output {
    semaphore()
        .args(arguments)
        .env("SEMAPHORE_BROKERS", &broker.address)
        .output()
        .unwrap()
}

#[test]
fn topics_create_list_describe_delete() {
    let broker = Broker::start();
    let created = run(&broker, &["topics", "create", "meraki.test"]);
    assert!(created.status.success(), "{}", all_output(&created));
    assert!(
        all_output(&created).contains("6 partitions, replication factor 1"),
        "{}",
        all_output(&created)
    );
    let listed = run(&broker, &["topics", "list"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("meraki.test\t6 partitions"),
        "{}",
        all_output(&listed)
    );
    let described = run(
        &broker,
        &["topics", "describe", "meraki.test", "--format", "json"],
    );
    let description: serde_json::Value =
        serde_json::from_slice(&described.stdout).expect("describe --format json is JSON");
    assert_eq!(description["partitions"].as_array().unwrap().len(), 6);
    assert!(description["partitions"][0]["leader"].as_i64().is_some());
    let deleted = run(&broker, &["topics", "delete", "meraki.test"]);
    assert!(deleted.status.success(), "{}", all_output(&deleted));
    let missing = run(&broker, &["topics", "describe", "meraki.test"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        all_output(&missing).contains("no topic meraki.test"),
        "{}",
        all_output(&missing)
    );
}

/// tansu 0.6, the embedded broker before nisshi, deleted every topic of the cluster when asked to delete
/// one (semaphore guarded its schema with a trigger); nisshi deletes the named topic only, and this test
/// keeps it so.
#[test]
fn deleting_one_topic_keeps_the_others_and_their_records() {
    let broker = Broker::start();
    for topic in ["alpha", "beta", "gamma", "delta"] {
        let created = run(&broker, &["topics", "create", topic, "--partitions", "2"]);
        assert!(created.status.success(), "{}", all_output(&created));
    }
    if !produce_with_python(&broker, "alpha", 20) {
        return;
    }
    assert!(produce_with_python(&broker, "gamma", 30));
    let deleted = run(&broker, &["topics", "delete", "beta"]);
    assert!(deleted.status.success(), "{}", all_output(&deleted));
    // The same through an independent client's AdminClient.
    assert!(python_client(&broker, "delete", "delta", 0));
    let listed = run(&broker, &["topics", "list"]);
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains("alpha\t2 partitions"), "{listing}");
    assert!(listing.contains("gamma\t2 partitions"), "{listing}");
    assert!(!listing.contains("beta"), "{listing}");
    assert!(!listing.contains("delta"), "{listing}");
    for (topic, count) in [("alpha", 20), ("gamma", 30)] {
        assert_eq!(
            support::consume_all(&broker.address, topic).len(),
            count,
            "{topic}"
        );
    }
}

/// Issue 11: names, partition counts and replication factors Kafka forbids (or above semaphore's cap) are
/// usage errors that state the rule, and nothing is created; `describe` and `delete` check names the same
/// way instead of blaming the connection.
#[test]
fn topics_refuse_what_kafka_forbids() {
    let broker = Broker::start();
    let too_long = "x".repeat(300);
    let name_rule = ["NAME", "not a valid Kafka topic name", "1 to 249 characters"];
    let partitions_rule = "a topic has 1 to 1000 partitions";
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["topics", "create", ""], name_rule.to_vec()),
        (vec!["topics", "create", "a b"], name_rule.to_vec()),
        (vec!["topics", "create", too_long.as_str()], name_rule.to_vec()),
        (vec!["topics", "create", "."], name_rule.to_vec()),
        (vec!["topics", "create", ".."], name_rule.to_vec()),
        (
            vec!["topics", "create", "t", "--partitions", "0"],
            vec!["--partitions 0", partitions_rule],
        ),
        (
            vec!["topics", "create", "t", "--partitions", "-1"],
            vec!["--partitions -1", partitions_rule],
        ),
        (
            vec!["topics", "create", "t", "--partitions", "100000"],
            vec!["--partitions 100000", partitions_rule],
        ),
        (
            vec!["topics", "create", "t", "--replication-factor", "0"],
            vec!["--replication-factor 0", "at least 1"],
        ),
        (
            vec!["topics", "create", "t", "--replication-factor", "-1"],
            vec!["--replication-factor -1", "at least 1"],
        ),
        (
            vec!["topics", "create", "t", "--replication-factor", "2"],
            vec!["--replication-factor 2", "it has 1 broker,"],
        ),
        (vec!["topics", "describe", ""], name_rule.to_vec()),
        (vec!["topics", "delete", "a b"], name_rule.to_vec()),
    ];
    for (arguments, expected) in &cases {
        let output = run(&broker, arguments);
        let text = all_output(&output);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {text}");
        for part in expected {
            assert!(text.contains(*part), "{arguments:?}: {part:?} not in {text}");
        }
    }
    let listed = run(&broker, &["topics", "list"]);
    assert!(listed.status.success(), "{}", all_output(&listed));
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    for name in ["", "a b", too_long.as_str(), ".", "..", "t"] {
        assert!(
            !listed.lines().any(|line| line.split('\t').next() == Some(name)),
            "{name:?} was created: {listed}"
        );
    }

    // The bounds themselves are fine.
    let created = run(
        &broker,
        &[
            "topics",
            "create",
            "bounds",
            "--partitions",
            "1",
            "--replication-factor",
            "1",
        ],
    );
    assert!(created.status.success(), "{}", all_output(&created));
    let listed = run(&broker, &["topics", "list"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("bounds\t1 partitions"),
        "{}",
        all_output(&listed)
    );
}

/// Issue 11: `-o` past the end is the end. A time after the newest record (which tansu 0.6 answered with
/// offset 0, nisshi and Kafka with none) and an offset beyond the last one print nothing, and `-e` exits; a
/// time between two batches prints the second batch only, including where a partition holds only older
/// records.
#[test]
fn consume_offsets_past_the_end_are_the_end() {
    let broker = Broker::start();
    assert!(run(&broker, &["topics", "create", "ends"]).status.success());
    // Seven keys: records on several partitions.
    if !produce_with_python(&broker, "ends", 14) {
        return;
    }
    for offset in ["@2099-01-01T00:00:00Z", "99999999999"] {
        let child = semaphore()
            .args(["consume", "ends", "-o", offset, "-e"])
            .env("SEMAPHORE_BROKERS", &broker.address)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Seconds are enough; the margin is for a loaded machine. Before the fix, `-o N -e` never exited.
        let (output, finished) = finish_within(child, Duration::from_secs(30));
        assert!(finished, "-o {offset} -e did not exit: {}", all_output(&output));
        assert!(output.status.success(), "{}", all_output(&output));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "",
            "-o {offset} prints nothing"
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("0 records"),
            "{}",
            all_output(&output)
        );
    }

    // The python producer stamps records with the time they are produced.
    std::thread::sleep(Duration::from_millis(50));
    let between = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    std::thread::sleep(Duration::from_millis(50));
    // Keys 0 and 1 only: a partition that only the other keys reach holds only older records, for which
    // tansu 0.6 answered 0 (nisshi answers none).
    if !produce_with_python(&broker, "ends", 2) {
        return;
    }
    let at_between = format!("@{between}");
    let output = run(
        &broker,
        &["consume", "ends", "-o", &at_between, "-e", "-f", "%k\\n"],
    );
    assert!(output.status.success(), "{}", all_output(&output));
    let mut keys: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    keys.sort();
    assert_eq!(keys, ["python-key-0", "python-key-1"], "{}", all_output(&output));
}

#[test]
fn consume_with_a_group_twice_prints_nothing_new() {
    let broker = Broker::start();
    assert!(run(&broker, &["topics", "create", "twice"]).status.success());
    if !produce_with_python(&broker, "twice", 40) {
        return;
    }
    let first = run(&broker, &["consume", "twice", "-G", "g1", "-e"]);
    assert!(first.status.success(), "{}", all_output(&first));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&first.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 40);
    assert!(
        lines
            .iter()
            .all(|envelope| envelope["topic"] == "twice" && envelope["value"]["from"] == "python")
    );
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("40 records"),
        "summary: {}",
        all_output(&first)
    );
    let second = run(&broker, &["consume", "twice", "-G", "g1", "-e"]);
    assert!(second.status.success(), "{}", all_output(&second));
    assert_eq!(
        String::from_utf8_lossy(&second.stdout),
        "",
        "nothing new for the group"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("0 records"));

    // Without a group: formats, counts, partitions and offsets as kcat users expect.
    let template = run(&broker, &["consume", "twice", "-e", "-f", "%t/%p/%o %k\\n"]);
    let text = String::from_utf8_lossy(&template.stdout).to_string();
    assert_eq!(text.lines().count(), 40, "{text}");
    assert!(
        text.lines()
            .all(|line| line.starts_with("twice/") && line.contains(" python-key-")),
        "{text}"
    );
    let counted = run(&broker, &["consume", "twice", "-c", "5", "-f", "value"]);
    assert_eq!(String::from_utf8_lossy(&counted.stdout).lines().count(), 5);
    let partition_zero = run(&broker, &["consume", "twice", "-e", "-p", "0", "-f", "%p\\n"]);
    assert!(
        String::from_utf8_lossy(&partition_zero.stdout)
            .lines()
            .all(|line| line == "0")
    );
    let tail = run(&broker, &["consume", "twice", "-e", "-o", "-1", "-f", "%o\\n"]);
    let partitions_with_data = String::from_utf8_lossy(&tail.stdout).lines().count();
    assert!(
        (1..=6).contains(&partitions_with_data),
        "one record per non-empty partition: {}",
        all_output(&tail)
    );
}

#[test]
fn broker_restart_keeps_records_and_group_offsets() {
    let directory = std::env::temp_dir().join(format!("semaphore-broker-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    let data_dir = directory.to_str().unwrap().to_owned();
    let mut broker = Broker::start_with("127.0.0.1:0", &["--data-dir", &data_dir]);
    let address = broker.address.clone();
    assert!(
        run(&broker, &["topics", "create", "durable", "--partitions", "3"])
            .status
            .success()
    );
    if !produce_with_python(&broker, "durable", 50) {
        return;
    }
    let first = run(
        &broker,
        &["consume", "durable", "-G", "keeper", "-c", "20", "-f", "%k %s\\n"],
    );
    assert!(first.status.success(), "{}", all_output(&first));
    let first_lines: Vec<String> = String::from_utf8_lossy(&first.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(first_lines.len(), 20);
    assert!(
        broker.stop().is_some_and(|status| status.success()),
        "the broker stops cleanly on SIGTERM"
    );
    assert!(
        directory.join("broker.db").exists(),
        "SQLite database under the data directory"
    );

    // Where it was before, as a restarted broker is: the port the first start picked.
    let broker = Broker::start_with(&address, &["--data-dir", &data_dir]);
    let described = run(&broker, &["topics", "describe", "durable"]);
    assert!(
        String::from_utf8_lossy(&described.stdout).contains("3 partitions, 50 records"),
        "{}",
        all_output(&described)
    );
    let rest = run(
        &broker,
        &["consume", "durable", "-G", "keeper", "-e", "-f", "%k %s\\n"],
    );
    assert!(rest.status.success(), "{}", all_output(&rest));
    let rest_lines: Vec<String> = String::from_utf8_lossy(&rest.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        rest_lines.len(),
        30,
        "the group resumed after its 20 committed records"
    );
    let mut all: Vec<String> = first_lines.into_iter().chain(rest_lines).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 50, "nothing lost, nothing repeated");
    drop(broker);
    let _ = std::fs::remove_dir_all(&directory);
}

#[test]
fn broken_pipe_exits_quietly() {
    let broker = Broker::start();
    assert!(run(&broker, &["topics", "create", "piped"]).status.success());
    if !produce_with_python(&broker, "piped", 500) {
        return;
    }
    let script = format!(
        "'{}' consume piped -e -f pretty | head -n 1 >/dev/null; echo \"exit=${{PIPESTATUS[0]}}\"",
        support::BINARY
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .env("SEMAPHORE_BROKERS", &broker.address)
        .output()
        .unwrap();
    let text = all_output(&output);
    assert!(text.contains("exit=0"), "{text}");
    assert!(!text.contains("error"), "{text}");
}

#[test]
fn unreachable_broker_fails_fast_and_clearly() {
    // A port nobody listens on: it must stay closed, so it cannot be held, only picked.
    let port = support::free_port();
    let output = semaphore()
        .args([
            "consume",
            "anything",
            "-e",
            "--brokers",
            &format!("127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = all_output(&output);
    assert!(
        text.contains("cannot reach Kafka") && text.contains(&port.to_string()),
        "{text}"
    );
    // Bounded: the error comes from the 10 s metadata limit, not from the test's own time-out.
    assert!(text.contains("within 10s"), "{text}");
}

#[test]
fn consume_usage_mistakes_exit_2() {
    let output = semaphore()
        .args(["consume", "t", "-G", "g", "-o", "42", "--brokers", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    assert!(all_output(&output).contains("with a group (-G)"));
    let output = semaphore()
        .args(["consume", "t", "-o", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = semaphore().args(["consume", "t", "-X", "acks"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(all_output(&output).contains("KEY=VALUE"));
}

/// Issue 12: semaphore added an index on the header table to tansu 0.6's schema, whose header lookups
/// scanned every header of the database. nisshi's own schema keys headers by record (its primary key is
/// topition, offset_id, ordinal), so semaphore adds nothing to it any more; this test fails if a later nisshi
/// drops that key, which would bring the scan back.
#[test]
fn a_broker_database_finds_headers_by_record_without_additions() {
    let directory = support::temp_dir("broker-schema");
    let mut broker = Broker::start_with("127.0.0.1:0", &["--data-dir", directory.to_str().unwrap()]);
    broker.stop();
    let database = directory.join("broker.db");
    let output = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             keys = [[column for (_, _, column) in db.execute(f\"pragma index_info('{name}')\")]\n\
                     for (_, name, *_) in db.execute(\"pragma index_list('header')\")]\n\
             print(any(key[:2] == ['topition', 'offset_id'] for key in keys),\n\
                   sorted(name for (name,) in db.execute(\"select name from sqlite_master \
                   where name like 'semaphore_%'\")))",
        ])
        .arg(&database)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "True []",
        "{}",
        database.display()
    );
    std::fs::remove_dir_all(directory).unwrap();
}

/// Issue 12: a `broker.db` that tansu 0.6 wrote (semaphore's embedded broker before nisshi) is refused at
/// start with the fix, and left as it was. nisshi would adopt it and then fail every produce with headers,
/// since tansu's header table has no `ordinal` column.
#[test]
fn a_tansu_broker_database_is_refused_with_the_fix() {
    let directory = support::temp_dir("tansu-database");
    let database = directory.join("broker.db");
    // tansu 0.6's cluster and header tables (tansu-storage 0.6.0, src/ddl), enough to be recognised.
    let created = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             db.execute('create table cluster (id integer primary key autoincrement, name text not null, \
               last_updated datetime default current_timestamp not null, \
               created_at datetime default current_timestamp not null, unique (name))')\n\
             db.execute('create table header (topition integer, offset_id integer, k blob, v blob, \
               last_updated datetime default current_timestamp not null, \
               created_at datetime default current_timestamp not null)')\n\
             db.commit()",
        ])
        .arg(&database)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", all_output(&created));
    let output = support::output_within(
        semaphore().args([
            "broker",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            directory.to_str().unwrap(),
        ]),
        Duration::from_secs(30),
    );
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for expected in [database.to_str().unwrap(), "tansu 0.6", "move it away"] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    // Untouched: nisshi did not record its schema version in it.
    let tables = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             print(sorted(name for (name,) in db.execute(\"select name from sqlite_master \
               where type = 'table' and name not like 'sqlite_%'\")))",
        ])
        .arg(&database)
        .output()
        .unwrap();
    assert!(tables.status.success(), "{}", all_output(&tables));
    assert_eq!(
        String::from_utf8_lossy(&tables.stdout).trim(),
        "['cluster', 'header']"
    );
    std::fs::remove_dir_all(directory).unwrap();
}
