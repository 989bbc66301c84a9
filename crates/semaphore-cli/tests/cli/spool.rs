//! Issue 12 part 4, the Kafka output's disk spool, through the binary: a `[[sources.generator]]` publishes
//! numbered records as a push source does (it cannot hold its senders back), the broker goes away, and the
//! topic must end up with every record, in order per key, and none twice (what was in flight when the broker
//! went away is read back before the replay): across a two-minute outage at 500 records/s, across SIGKILL
//! during an outage, and past a damaged segment (named in the log, the rest replayed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{
    Broker, Daemon, consume_all, eventually, free_port, metric, metrics_text, sit_out_broker_outage, temp_dir,
};

const TOPIC: &str = "semaphore.generated";

/// A config with the generator (`generator` settings lines) and the Kafka output (`kafka` lines).
fn write_config(directory: &Path, brokers: &str, generator: &str, kafka: &str) -> PathBuf {
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [[sources.generator]]\nid = \"gen\"\nkeys = 20\n{generator}\n\
             [outputs.kafka]\n{kafka}\n",
            data = directory.join("data").display(),
        ),
    )
    .unwrap();
    config
}

fn spool_figure(admin: &str, name: &str) -> f64 {
    metric(&metrics_text(admin), name).unwrap_or(-1.0)
}

/// The records of `TOPIC` per generator run, each run's `sequence` numbers in the order read. With
/// `in_order`, per key every `keySequence` number arrives in order in partition order (a key is one
/// partition), the only exception a repeat of a number already seen (a duplicate, counted by
/// [`assert_complete`]): a number that skips ahead fails here.
fn runs_in_kafka(brokers: &str, in_order: bool) -> BTreeMap<String, Vec<u64>> {
    let mut runs: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut next_per_key: BTreeMap<(String, String), u64> = BTreeMap::new();
    for envelope in consume_all(brokers, TOPIC) {
        let record = &envelope["value"];
        let run = record["run"].as_str().unwrap().to_owned();
        let key = record["key"].as_str().unwrap().to_owned();
        assert_eq!(envelope["key"].as_str(), Some(key.as_str()), "keyed by its key");
        let key_sequence = record["keySequence"].as_u64().unwrap();
        let expected = next_per_key.entry((run.clone(), key.clone())).or_default();
        if in_order {
            assert!(
                key_sequence <= *expected,
                "run {run} key {key}: {key_sequence} arrived before {expected}: out of order or missing"
            );
        }
        *expected = (*expected).max(key_sequence + 1);
        runs.entry(run)
            .or_default()
            .push(record["sequence"].as_u64().unwrap());
    }
    runs
}

/// Every number from 0 to the highest at least once; how many arrived twice.
fn assert_complete(run: &str, sequences: &[u64]) -> usize {
    let distinct: BTreeSet<u64> = sequences.iter().copied().collect();
    let highest = distinct.last().copied().unwrap_or(0);
    assert_eq!(
        distinct.len() as u64,
        highest + 1,
        "run {run}: gaps below {highest}"
    );
    sequences.len() - distinct.len()
}

/// The figures: a two-minute outage while 500 records/s arrive; afterwards every record is in Kafka,
/// per key in order, none twice, and `/readyz` said the spool was in use.
#[test]
fn a_two_minute_outage_at_500_records_a_second_loses_nothing_and_repeats_nothing() {
    let directory = temp_dir("spool-outage");
    let broker_data = directory.join("broker").display().to_string();
    let mut broker = Broker::start_with("127.0.0.1:0", &["--data-dir", &broker_data]);
    let brokers = broker.address.clone();
    let outage = Duration::from_secs(120);
    let count = 500 * (10 + outage.as_secs() + 20);
    let config = write_config(
        &directory,
        &brokers,
        &format!("rate_per_second = 500\ncount = {count}"),
        "spool_after_s = 2",
    );
    let mut daemon = Daemon::start(&config, &directory.join("run.log"));
    let admin = daemon.admin_address();
    sit_out_broker_outage(&mut broker, &daemon, &admin, outage);
    let spooled = spool_figure(&admin, "semaphore_spool_records");
    assert!(
        spooled >= 500.0 * 100.0,
        "about 2 minutes at 500/s spooled: {spooled}"
    );
    assert!(spool_figure(&admin, "semaphore_spool_oldest_age_seconds") >= 100.0);

    let _broker = Broker::start_with(&brokers, &["--data-dir", &broker_data]);
    assert!(
        eventually(Duration::from_secs(240), || {
            let text = metrics_text(&admin);
            metric(&text, "semaphore_spool_records") == Some(0.0)
                && metric(&text, "semaphore_spool_replayed_records_total").unwrap_or(0.0) >= spooled
                && daemon.log_text().contains("Generator done.")
        }),
        "the spool was replayed: {}",
        metrics_text(&admin)
    );
    daemon.stop_cleanly();
    let text = daemon.log_text();
    assert!(text.contains("spooling them to disk"), "{text}");
    assert!(
        text.contains("The spool is empty: every spooled record is in Kafka"),
        "{text}"
    );

    let runs = runs_in_kafka(&brokers, true);
    assert_eq!(runs.len(), 1, "one run");
    let (run, sequences) = runs.iter().next().unwrap();
    let duplicates = assert_complete(run, sequences);
    assert_eq!(
        (sequences.len() - duplicates) as u64,
        count,
        "every record generated is in Kafka"
    );
    assert_eq!(duplicates, 0, "records twice");
    std::fs::remove_dir_all(&directory).unwrap();
}

/// SIGKILL while records are spooled, then a restart after Kafka is back: the spool survives, and the killed
/// run's records are all in Kafka with no gap: nothing accepted was lost, and nothing repeated.
#[test]
fn sigkill_during_an_outage_then_restart_loses_nothing() {
    let directory = temp_dir("spool-sigkill");
    let broker_data = directory.join("broker").display().to_string();
    let mut broker = Broker::start_with("127.0.0.1:0", &["--data-dir", &broker_data]);
    let brokers = broker.address.clone();
    let config = write_config(&directory, &brokers, "rate_per_second = 500", "spool_after_s = 1");
    let mut daemon = Daemon::start(&config, &directory.join("run-1.log"));
    let admin = daemon.admin_address();
    assert!(eventually(Duration::from_secs(60), || metric(
        &metrics_text(&admin),
        "semaphore_records_produced_total{output=\"kafka\"}"
    )
    .is_some_and(|produced| produced >= 1_000.0)));
    broker.stop().expect("the broker stops on SIGTERM");
    assert!(
        eventually(Duration::from_secs(60), || spool_figure(
            &admin,
            "semaphore_spool_records"
        ) >= 3_000.0),
        "{}",
        daemon.log_text()
    );
    let spooled_before_kill = spool_figure(&admin, "semaphore_spool_records");
    daemon.signal("KILL");
    daemon
        .wait_exit(Duration::from_secs(10))
        .expect("SIGKILL ends it");

    let _broker = Broker::start_with(&brokers, &["--data-dir", &broker_data]);
    let mut daemon = Daemon::start(&config, &directory.join("run-2.log"));
    let admin = daemon.admin_address();
    assert!(
        eventually(Duration::from_secs(120), || {
            let text = metrics_text(&admin);
            metric(&text, "semaphore_spool_records") == Some(0.0)
                && metric(&text, "semaphore_spool_replayed_records_total").unwrap_or(0.0)
                    >= spooled_before_kill
        }),
        "{}",
        daemon.log_text()
    );
    assert!(
        daemon
            .log_text()
            .contains("The spool holds records from an earlier run")
    );
    daemon.stop_cleanly();

    let runs = runs_in_kafka(&brokers, true);
    assert_eq!(runs.len(), 2, "the killed run and the next");
    for (run, sequences) in &runs {
        let duplicates = assert_complete(run, sequences);
        assert_eq!(duplicates, 0, "run {run}: records twice");
    }
    let killed_run_records = runs.values().map(Vec::len).max().unwrap();
    assert!(
        killed_run_records as f64 >= spooled_before_kill,
        "the killed run's spooled records are all in Kafka: {killed_run_records} < {spooled_before_kill}"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

/// A segment damaged on disk while semaphore was stopped: the log names the file, the damaged bytes are
/// counted, the file is kept aside, and every record of the other segment and before the damage reaches Kafka.
#[test]
fn a_damaged_spool_segment_is_named_and_the_rest_replayed() {
    let directory = temp_dir("spool-damaged");
    // Nothing listens here yet: every record is spooled.
    let brokers = format!("127.0.0.1:{}", free_port());
    // 1 MiB: 64 KiB segments, so 600 records of ~350 bytes fill several.
    let config = write_config(
        &directory,
        &brokers,
        "rate_per_second = 2000\ncount = 600\nmessage_bytes = 200",
        "spool_after_s = 1\nspool_max_bytes = 1048576",
    );
    let mut daemon = Daemon::start(&config, &directory.join("run-1.log"));
    let admin = daemon.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || spool_figure(
            &admin,
            "semaphore_spool_records"
        ) == 600.0),
        "{}",
        daemon.log_text()
    );
    daemon.stop_cleanly();

    let spool = directory.join("data/spool/kafka");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "spool"))
        .collect();
    segments.sort();
    assert!(segments.len() >= 3, "{segments:?}");
    let damaged = &segments[0];
    let mut bytes = std::fs::read(damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(damaged, &bytes).unwrap();

    let _broker = Broker::start_with(&brokers, &["--memory"]);
    let mut daemon = Daemon::start(&config, &directory.join("run-2.log"));
    let admin = daemon.admin_address();
    assert!(
        eventually(Duration::from_secs(60), || spool_figure(
            &admin,
            "semaphore_spool_records"
        ) == 0.0
            && daemon.log_text().contains("Generator done.")),
        "{}",
        daemon.log_text()
    );
    let log = daemon.log_text();
    let name = damaged.file_name().unwrap().to_str().unwrap();
    assert!(
        log.contains("A spool segment is damaged") && log.contains(name),
        "{log}"
    );
    assert!(spool_figure(&admin, "semaphore_spool_corrupt_bytes_total") > 0.0);
    assert!(damaged.with_extension("spool.corrupt").exists());
    daemon.stop_cleanly();

    // The damaged run has a hole by design: no order check.
    let runs = runs_in_kafka(&brokers, false);
    let first_run = runs
        .values()
        .find(|sequences| sequences.len() < 600)
        .expect("the damaged run");
    // Before the damage, and all of the later segments: most of the 600, none twice.
    assert!(first_run.len() > 300, "{}", first_run.len());
    let distinct: BTreeSet<&u64> = first_run.iter().collect();
    assert_eq!(distinct.len(), first_run.len(), "no duplicates");
    assert!(first_run.contains(&599), "the last segment was replayed");
    std::fs::remove_dir_all(&directory).unwrap();
}
