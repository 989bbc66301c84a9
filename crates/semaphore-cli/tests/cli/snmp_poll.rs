//! Issue 14, `[[sources.snmp]]` through the binary against Debian's net-snmp `snmpd` serving this machine's
//! own interfaces: v2c and v3 `authPriv` (SHA-256 with AES-128, SHA-512 with AES-256) give the values
//! `snmpbulkwalk` gives for the same OIDs; bytes sent over loopback between two polls appear in `lo`'s
//! computed rate; a wrong v3 pass phrase and a wrong community each end in their documented error, on
//! `/metrics` and in the log, without a secret in either. One daemon polls the one agent as five sources.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde_json::Value;

use crate::support::snmp::{COMMUNITY, SHA256_AES128, SHA512_AES256, Snmpd, have_net_snmp, net_snmp};
use crate::support::{Broker, Daemon, eventually, metrics_text, required, temp_dir, try_consume_all};

const INTERFACES: &str = "snmp.interfaces";
const SYSTEM: &str = "snmp.system";
/// Bytes sent over loopback between polls.
const BLAST_BYTES: usize = 64 * 1024 * 1024;
const WRONG_PASSPHRASE: &str = "not-the-pass-phrase";
const WRONG_COMMUNITY: &str = "not-the-community";

/// Five sources on one agent: the three that must work and the two that must fail.
fn config(data: &str, brokers: &str, agent: &str) -> String {
    let v3 = |id: &str, user: &crate::support::snmp::V3User, auth_env: &str, priv_env: &str| {
        format!(
            "[[sources.snmp]]\nid = \"{id}\"\ntargets = [\"{agent}\"]\nversion = \"3\"\nuser = \"{}\"\n\
             security_level = \"authPriv\"\nauth_protocol = \"{}\"\npriv_protocol = \"{}\"\n\
             auth_passphrase_env = \"{auth_env}\"\npriv_passphrase_env = \"{priv_env}\"\ninterval_s = 4\n\
             timeout_s = 1\n",
            user.name, user.auth_protocol, user.priv_protocol,
        )
    };
    format!(
        "data_dir = \"{data}\"\n[kafka]\nbrokers = \"{brokers}\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         [[sources.snmp]]\nid = \"v2c\"\ntargets = [\"{agent}\"]\nversion = \"2c\"\n\
         community_env = \"SNMP_COMMUNITY\"\ninterval_s = 4\ntimeout_s = 1\n\
         {sha256}{sha512}{wrong_pass}\
         [[sources.snmp]]\nid = \"wrong-community\"\ntargets = [\"{agent}\"]\nversion = \"2c\"\n\
         community_env = \"SNMP_WRONG_COMMUNITY\"\ninterval_s = 4\ntimeout_s = 1\nretries = 0\n",
        sha256 = v3("sha256", &SHA256_AES128, "SHA256_AUTH", "SHA256_PRIV"),
        sha512 = v3("sha512", &SHA512_AES256, "SHA512_AUTH", "SHA512_PRIV"),
        wrong_pass = v3("wrong-pass", &SHA512_AES256, "WRONG_AUTH", "SHA512_PRIV"),
    )
}

/// Sends `bytes` over a loopback TCP connection and waits until the other end read them all.
fn blast_loopback(bytes: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut total = 0;
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let read = stream.read(&mut buffer).unwrap();
            if read == 0 {
                return total;
            }
            total += read;
        }
    });
    let mut stream = TcpStream::connect(address).unwrap();
    let chunk = vec![0x5a_u8; 1 << 20];
    for _ in 0..bytes / chunk.len() {
        stream.write_all(&chunk).unwrap();
    }
    drop(stream);
    assert_eq!(reader.join().unwrap(), bytes);
}

/// The records of `topic` whose `source` is `source`.
fn records_of(brokers: &str, topic: &str, source: &str) -> Vec<Value> {
    try_consume_all(brokers, topic)
        .unwrap_or_default()
        .into_iter()
        .filter(|envelope| envelope["value"]["source"] == source)
        .collect()
}

/// The `lo` records (ifIndex 1 on Linux) of a source, in poll order.
fn loopback_polls(brokers: &str, source: &str) -> Vec<Value> {
    records_of(brokers, INTERFACES, source)
        .into_iter()
        .map(|envelope| envelope["value"].clone())
        .filter(|record| record["ifName"] == "lo")
        .collect()
}

#[test]
fn snmpd_polled_over_v2c_and_v3_gives_net_snmps_values_and_loopback_rates() {
    if !required("net-snmp (snmpd, snmpget, snmpbulkwalk)", have_net_snmp()) {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("snmp-poll");
    let agent = Snmpd::start(&directory);
    let config_path = directory.join("semaphore.toml");
    let data = directory.join("data");
    std::fs::write(
        &config_path,
        config(&data.display().to_string(), &broker.address, &agent.address),
    )
    .unwrap();
    let daemon = Daemon::start_with_env(
        &config_path,
        &directory.join("semaphore.log"),
        &[
            ("SNMP_COMMUNITY", COMMUNITY),
            ("SNMP_WRONG_COMMUNITY", WRONG_COMMUNITY),
            ("SHA256_AUTH", SHA256_AES128.auth_passphrase),
            ("SHA256_PRIV", SHA256_AES128.priv_passphrase),
            ("SHA512_AUTH", SHA512_AES256.auth_passphrase),
            ("SHA512_PRIV", SHA512_AES256.priv_passphrase),
            ("WRONG_AUTH", WRONG_PASSPHRASE),
        ],
    );
    let admin = daemon.admin_address();

    // The first poll of each working source.
    let first_polled = eventually(Duration::from_secs(60), || {
        ["v2c", "sha256", "sha512"]
            .iter()
            .all(|source| !loopback_polls(&broker.address, source).is_empty())
    });
    assert!(first_polled, "no first poll: {}", daemon.log_text());
    // Loopback traffic between polls, then two more polls so that one rate spans it.
    let before = loopback_polls(&broker.address, "v2c").len();
    blast_loopback(BLAST_BYTES);
    let rated = eventually(Duration::from_secs(60), || {
        loopback_polls(&broker.address, "v2c").len() >= before + 2
    });
    assert!(rated, "no poll after the traffic: {}", daemon.log_text());

    same_values_as_net_snmp(&broker.address, &agent.address);
    loopback_rate_shows_the_traffic(&broker.address);
    system_records_match(&broker.address, &agent.address);
    failures_are_documented(&admin, &daemon.log_text(), &agent.address);
}

/// For every interface: what does not move (names, type, speed, statuses) equals snmpbulkwalk's, and each
/// counter of the first poll is at most what snmpbulkwalk reads afterwards; the three sources agree.
fn same_values_as_net_snmp(brokers: &str, agent: &str) {
    let walked = |column: &str| {
        net_snmp("snmpbulkwalk", &["-v2c", "-c", COMMUNITY], agent, &[column]).expect("snmpbulkwalk answers")
    };
    let names = walked("1.3.6.1.2.1.31.1.1.1.1");
    let descriptions = walked("1.3.6.1.2.1.2.2.1.2");
    let speeds = walked("1.3.6.1.2.1.31.1.1.1.15");
    let in_octets = walked("1.3.6.1.2.1.31.1.1.1.6");
    let admin_statuses = walked("1.3.6.1.2.1.2.2.1.7");
    assert!(!names.is_empty(), "snmpd serves no ifName");
    for source in ["v2c", "sha256", "sha512"] {
        let records = records_of(brokers, INTERFACES, source);
        for name in &names {
            let index: u64 = name.oid.rsplit('.').next().unwrap().parse().unwrap();
            let record = records
                .iter()
                .map(|envelope| &envelope["value"])
                .find(|record| record["ifIndex"] == index)
                .unwrap_or_else(|| panic!("{source}: no record of ifIndex {index}"));
            assert_eq!(record["ifName"], name.value.as_str(), "{source}: {record}");
            let description = descriptions
                .iter()
                .find(|row| row.oid.ends_with(&format!(".{index}")));
            assert_eq!(
                record["ifDescr"],
                description.unwrap().value.as_str(),
                "{source}: {record}"
            );
            let speed = speeds
                .iter()
                .find(|row| row.oid.ends_with(&format!(".{index}")))
                .unwrap();
            assert_eq!(
                record["ifHighSpeed"].to_string(),
                speed.value,
                "{source}: {record}"
            );
            let later: u64 = in_octets
                .iter()
                .find(|row| row.oid.ends_with(&format!(".{index}")))
                .unwrap()
                .value
                .parse()
                .unwrap();
            let polled = record["ifHCInOctets"].as_u64().expect("an HC counter");
            assert!(
                polled <= later,
                "{source}: {polled} > {later} read later: {record}"
            );
            let admin = admin_statuses
                .iter()
                .find(|row| row.oid.ends_with(&format!(".{index}")))
                .unwrap();
            let admin_name = match admin.value.as_str() {
                "1" => "up",
                "2" => "down",
                other => panic!("ifAdminStatus {other}"),
            };
            assert_eq!(record["ifAdminStatus"], admin_name, "{source}: {record}");
        }
    }
}

/// The polls spanning the traffic count it: the bits their rates cover (rate × interval) add up to the
/// counter's growth, which is at least what was sent.
fn loopback_rate_shows_the_traffic(brokers: &str) {
    let polls = loopback_polls(brokers, "v2c");
    assert_eq!(polls[0]["rateGap"], "firstPoll", "{}", polls[0]);
    assert_eq!(polls[0]["inBitsPerSecond"], Value::Null, "{}", polls[0]);
    let rated: Vec<&Value> = polls[1..]
        .iter()
        .filter(|record| record["rateGap"].is_null())
        .collect();
    assert_eq!(
        rated.len(),
        polls.len() - 1,
        "every later poll has a rate: {polls:#?}"
    );
    let covered_bits: f64 = rated
        .iter()
        .map(|record| {
            record["inBitsPerSecond"].as_f64().unwrap() * record["rateIntervalSeconds"].as_f64().unwrap()
        })
        .sum();
    let first = polls[0]["ifHCInOctets"].as_u64().unwrap();
    let last = polls.last().unwrap()["ifHCInOctets"].as_u64().unwrap();
    let grown_bits = (last - first) as f64 * 8.0;
    assert!(
        (covered_bits - grown_bits).abs() <= grown_bits * 0.001 + 8.0,
        "rates cover {covered_bits} bits, the counter grew {grown_bits}"
    );
    assert!(
        grown_bits >= (BLAST_BYTES * 8) as f64,
        "{grown_bits} bits < the {BLAST_BYTES} bytes sent"
    );
    let busiest = rated
        .iter()
        .map(|record| record["inBitsPerSecond"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let interval = rated[0]["rateIntervalSeconds"].as_f64().unwrap();
    assert!(
        busiest * 2.0 * interval >= (BLAST_BYTES * 8) as f64,
        "no poll's rate carries the traffic: busiest {busiest} bit/s over {interval} s"
    );
    assert!(
        rated
            .iter()
            .all(|record| record["outBitsPerSecond"].as_f64().is_some())
    );
}

/// One system record per poll, its scalars equal to snmpget's.
fn system_records_match(brokers: &str, agent: &str) {
    let scalars = net_snmp(
        "snmpget",
        &["-v2c", "-c", COMMUNITY],
        agent,
        &["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"],
    )
    .expect("snmpget answers");
    for source in ["v2c", "sha256", "sha512"] {
        let records = records_of(brokers, SYSTEM, source);
        let record = &records
            .first()
            .unwrap_or_else(|| panic!("{source}: no system record"))["value"];
        assert_eq!(record["sysName"], scalars[0].value.as_str(), "{record}");
        assert_eq!(record["sysDescr"], scalars[1].value.as_str(), "{record}");
        assert_eq!(
            record["sysObjectID"],
            scalars[2].value.trim_start_matches('.'),
            "{record}"
        );
        assert!(
            record["sysUpTimeSeconds"].as_f64().is_some_and(|up| up > 0.0),
            "{record}"
        );
        assert!(
            record["interfaces"].as_u64().is_some_and(|count| count >= 1),
            "{record}"
        );
    }
}

/// The wrong pass phrase ends in `wrong_digest`, the wrong community (an agent stays silent) in `timeout`
/// with the community named as the likely fix; the working sources are up; no secret in the log.
fn failures_are_documented(admin: &str, log: &str, agent: &str) {
    let metrics = metrics_text(admin);
    let errors = |source: &str, kind: &str| {
        metrics.lines().any(|line| {
            line.starts_with("semaphore_snmp_poll_errors_total{")
                && line.contains(&format!("source=\"{source}\""))
                && line.contains(&format!("kind=\"{kind}\""))
        })
    };
    assert!(errors("wrong-pass", "wrong_digest"), "{metrics}");
    assert!(errors("wrong-community", "timeout"), "{metrics}");
    for source in ["v2c", "sha256", "sha512"] {
        let up = format!("semaphore_snmp_target_up{{source=\"{source}\",target=\"{agent}\"}} 1");
        assert!(metrics.contains(&up), "{up} not in {metrics}");
    }
    let down = format!("semaphore_snmp_target_up{{source=\"wrong-community\",target=\"{agent}\"}} 0");
    assert!(metrics.contains(&down), "{down} not in {metrics}");
    // Each failing source's WARN names the likely fix: the community's variable, the pass phrase's.
    let warned = |source: &str, fix: &str| {
        log.lines().any(|line| {
            line.contains("\"level\":\"WARN\"")
                && line.contains(&format!("\"id\":\"{source}\""))
                && line.contains(fix)
        })
    };
    assert!(
        warned(
            "wrong-community",
            "an agent ignores a request with a wrong community"
        ),
        "{log}"
    );
    assert!(warned("wrong-community", "community_env"), "{log}");
    assert!(warned("wrong-pass", "usmStatsWrongDigests"), "{log}");
    assert!(warned("wrong-pass", "auth_passphrase_env"), "{log}");
    for secret in [
        COMMUNITY,
        WRONG_COMMUNITY,
        WRONG_PASSPHRASE,
        SHA256_AES128.auth_passphrase,
        SHA512_AES256.priv_passphrase,
    ] {
        assert!(!log.contains(secret), "a secret in the log: {secret}");
        assert!(!metrics.contains(secret), "a secret on /metrics: {secret}");
    }
}
