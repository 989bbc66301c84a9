//! Config loading: the shipped examples load, mistakes are named with their key (and line for unknown keys).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::record::KeyStrategy;
use crate::sources::meraki_uplinks::UplinksConfig;
use crate::sources::syslog::SYSLOG_TOPIC;

/// The `index`-th source, which must be a `meraki_uplinks` one.
fn uplinks(config: &Config, index: usize) -> &UplinksConfig {
    match &config.sources[index] {
        SourceConfig::MerakiUplinks(uplinks) => uplinks,
        other => panic!("source {index} is {}", other.kind()),
    }
}

/// The first `meraki_clients` source.
fn clients(config: &Config) -> &crate::sources::meraki_clients::ClientsSettings {
    config
        .sources
        .iter()
        .find_map(|source| match source {
            SourceConfig::MerakiClients(clients) => Some(clients),
            _ => None,
        })
        .expect("a meraki_clients source")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn env() -> HashMap<String, String> {
    HashMap::from([(
        "SEMAPHORE_DATA_DIR".to_owned(),
        "/tmp/semaphore-test-data".to_owned(),
    )])
}

fn load_text(text: &str) -> Result<Config, ConfigError> {
    let path = std::env::temp_dir().join(format!("semaphore-config-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).unwrap();
    let result = load(&path, &env());
    std::fs::remove_file(&path).unwrap();
    result
}

fn error(text: &str) -> String {
    load_text(text).unwrap_err().to_string()
}

#[test]
fn every_example_loads() {
    for name in ["semaphore.toml", "confluent-cloud.toml", "syslog-only.toml"] {
        let config = load(&examples().join(name), &env()).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(config.source_count() >= 1, "{name}");
    }
    let full = load(&examples().join("semaphore.toml"), &env()).unwrap();
    assert_eq!(uplinks(&full, 0).topic, UPLINKS_TOPIC);
    assert_eq!(clients(&full).key, KeyStrategy::NetworkId);
    assert_eq!(full.admin_listen.unwrap().to_string(), "127.0.0.1:9464");
    assert_eq!(full.data_dir, PathBuf::from("/tmp/semaphore-test-data"));
    let confluent = load(&examples().join("confluent-cloud.toml"), &env()).unwrap();
    assert!(
        clients(&confluent).filter.is_some(),
        "the filter file is read relative to the config"
    );
    let sinks = load(&examples().join("sinks.toml"), &env()).unwrap();
    assert_eq!(sinks.sinks.len(), 5);
    assert_eq!(sinks.source_count(), 0);
    let syslog = load(&examples().join("syslog-only.toml"), &env()).unwrap();
    assert!(syslog.kafka_output().is_none());
    let kinds: Vec<&str> = syslog.outputs.iter().map(OutputConfig::kind).collect();
    assert_eq!(kinds, ["syslog"]);
}

#[test]
fn minimal_config_defaults_to_kafka_and_safe_admin() {
    let config = load_text("[[sources.meraki_uplinks]]\n").unwrap();
    let uplinks = uplinks(&config, 0);
    assert_eq!(uplinks.settings.id, "meraki_uplinks");
    assert_eq!(uplinks.settings.interval, Duration::from_secs(60));
    assert_eq!(uplinks.key, KeyStrategy::Serial);
    assert!(config.kafka_output().is_some());
    assert_eq!(config.outputs.len(), 1);
    assert!(config.admin_listen.unwrap().ip().is_loopback());
    assert_eq!(config.embedded_listen.to_string(), "127.0.0.1:9092");
}

/// Issue 10: a config of sinks alone has no output, rather than a Kafka output nothing writes to (the sinks
/// reach Kafka through the pipeline's Kafka handle); an `[outputs.kafka]` written there is still kept.
#[test]
fn sinks_alone_imply_no_output() {
    let config = load_text("[[sinks.prometheus]]\n").unwrap();
    assert!(config.outputs.is_empty(), "{:?}", config.outputs);
    assert!(config.kafka_output().is_none());
    let config = load_text("[[sinks.prometheus]]\n[outputs.kafka]\npartitions = 3\n").unwrap();
    assert_eq!(config.kafka_output().map(|kafka| kafka.partitions), Some(3));
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    let message = error("[[sources.meraki_uplinks]]\ninterval_s = 60\nintervall_s = 30\n");
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("unknown field `intervall_s`"), "{message}");
    let message = error("[meraki]\nurl = \"global\"\napi_key = \"secret\"\n");
    assert!(
        message.contains("unknown field `api_key`") && message.contains("line 3"),
        "{message}"
    );
}

/// Issue 11: a syntax error shows toml's snippet as toml prints it: the line, the text, a caret under the
/// mistake, each on its own line.
#[test]
fn syntax_errors_keep_the_snippet_on_its_lines() {
    let message = error("[[sources.meraki_uplinks]]\ninterval_s = = 60\n");
    let lines: Vec<&str> = message.lines().collect();
    assert!(
        lines[0].contains(".toml: TOML parse error at line 2, column "),
        "{message}"
    );
    let text = lines
        .iter()
        .position(|line| *line == "2 | interval_s = = 60")
        .unwrap_or_else(|| panic!("the line is not shown on its own: {message}"));
    assert!(
        lines[text + 1].starts_with("  |") && lines[text + 1].contains('^'),
        "the caret is not under the line: {message}"
    );
}

/// Issue 11: `[]` reads as "none" but would mean all (or the default): refused, naming the key.
#[test]
fn empty_lists_are_refused() {
    let check = |text: &str, key: &str, reason: &str| {
        let message = error(text);
        assert!(
            message.contains(&format!("{key}: {reason}")),
            "{key}: {reason:?} not in {message}"
        );
    };
    let all = "an empty list would mean all; remove the key to mean all";
    for key in [
        "organizations",
        "networks",
        "models",
        "device_tags",
        "uplinks",
        "ips",
    ] {
        check(
            &format!("[[sources.meraki_uplinks]]\n{key} = []\n"),
            &format!("sources.meraki_uplinks[0].{key}"),
            all,
        );
    }
    for key in ["organizations", "networks", "models", "device_tags"] {
        check(
            &format!("[[sources.meraki_device_history]]\n{key} = []\n"),
            &format!("sources.meraki_device_history[0].{key}"),
            all,
        );
    }
    check(
        "[[sources.meraki_device_history]]\nuplinks = []\n",
        "sources.meraki_device_history[0].uplinks",
        "an empty list would mean the default (wan1, wan2)",
    );
    for key in ["organizations", "networks"] {
        check(
            &format!("[[sources.meraki_clients]]\n{key} = []\n"),
            &format!("sources.meraki_clients[0].{key}"),
            all,
        );
    }
    check(
        "[[sinks.prometheus]]\ntopics = []\n",
        "sinks.prometheus[0].topics",
        "an empty list would mean the default (meraki.uplinks.loss_latency)",
    );
    check(
        "[sinks.dashboard]\ntopics = []\n",
        "sinks.dashboard.topics",
        "an empty list would mean the default (meraki.uplinks.loss_latency, semaphore.alerts)",
    );
    // Left out, the same keys mean all, or the default.
    let config =
        load_text("[[sources.meraki_uplinks]]\nuplinks = [\"wan1\"]\n[[sinks.prometheus]]\n").unwrap();
    assert!(uplinks(&config, 0).settings.organizations.is_empty());
    assert_eq!(uplinks(&config, 0).settings.filter.uplinks, ["wan1"]);
    assert_eq!(config.sinks[0].reading.topics, [UPLINKS_TOPIC]);
}

/// Issue 11: a clients filter file whose top level is a list is an error naming the file.
#[test]
fn a_filter_file_that_is_a_list_is_refused() {
    let filter = std::env::temp_dir().join(format!("semaphore-filter-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&filter, "[]").unwrap();
    let message = error(&format!(
        "[[sources.meraki_clients]]\nfilter = \"{}\"\n",
        filter.display()
    ));
    std::fs::remove_file(&filter).unwrap();
    assert!(
        message.contains("sources.meraki_clients[0].filter")
            && message.contains(&filter.display().to_string())
            && message.contains("must be a JSON object"),
        "{message}"
    );
}

#[test]
fn bad_values_name_their_key() {
    let check = |text: &str, expected: &[&str]| {
        let message = error(text);
        for part in expected {
            assert!(message.contains(part), "{part:?} not in {message}");
        }
    };
    check("", &["sources", "no source or sink configured"]);
    check(
        "[[sources.meraki_uplinks]]\ninterval_s = 10\n",
        &[
            "sources.meraki_uplinks[0].interval_s",
            "longer than meraki.timeout_s",
        ],
    );
    check(
        "[[sources.meraki_uplinks]]\nuplinks = [\"wan9\"]\n",
        &["sources.meraki_uplinks[0].uplinks", "wan9"],
    );
    check(
        "[[sources.meraki_uplinks]]\nnetworks = [\"Branch[\"]\n",
        &["networks", "not a valid glob"],
    );
    check(
        "[[sources.meraki_uplinks]]\nips = [\"eight\"]\n",
        &["ips", "not an IP address"],
    );
    check(
        "[[sources.meraki_uplinks]]\ntopic = \"bad topic\"\n",
        &["topic", "not a valid Kafka topic"],
    );
    check(
        "[[sources.meraki_uplinks]]\nkey = \"\"\n",
        &["key", "may not be empty"],
    );
    check(
        "[[sources.meraki_uplinks]]\n[[sources.meraki_uplinks]]\nid = \"meraki_uplinks\"\n",
        &["used by two sources"],
    );
    check(
        "[[sources.meraki_uplinks]]\ninitial_lookback_s = 9999999\n",
        &["initial_lookback_s", "at most 5184000"],
    );
    check(
        "[[sources.meraki_device_history]]\nresolution_s = 30\n",
        &["resolution_s", "[60, 600, 3600, 86400]"],
    );
    check("[[sources.meraki_clients]]\nper_page = 2\n", &["per_page"]);
    check(
        "[[sources.meraki_clients]]\nfilter = \"/no/such/filter.json\"\n",
        &["sources.meraki_clients[0].filter", "cannot read"],
    );
    check(
        "[[sources.meraki_uplinks]]\n[[outputs.syslog]]\nendpoint = \"syslog.example:514\"\n",
        &["outputs.syslog[0].endpoint", "udp://"],
    );
    check(
        "[[sources.meraki_uplinks]]\n[[outputs.syslog]]\nendpoint = \"udp://h:514\"\nfacility = \"kern\"\n",
        &["facility"],
    );
    check(
        "[[sources.meraki_uplinks]]\n[kafka]\nsecurity_protocol = \"TLS\"\n",
        &["kafka.security_protocol"],
    );
    check(
        "[[sources.meraki_uplinks]]\n[admin]\nlisten = \"localhost\"\n",
        &["admin.listen"],
    );
    check(
        "[[sources.meraki_uplinks]]\n[outputs.kafka]\npartitions = 0\n",
        &["outputs.kafka.partitions"],
    );
    check(
        "[[sources.meraki_uplinks]]\n[outputs.kafka]\npartitions = 100000\n",
        &["outputs.kafka.partitions", "1 to 1000"],
    );
    check(
        "[[sources.meraki_uplinks]]\ntopic = \"..\"\n",
        &["topic", "not a valid Kafka topic"],
    );
}

/// Issue 10: outputs are components. Every kind keeps its keys, its `check -c` line and JSON; a kind may be
/// written as one table or an array of them; relative paths start from the config file.
#[test]
fn outputs_keep_their_keys_lines_and_json() {
    let config = load_text(
        "[[sources.meraki_uplinks]]\n\
         [outputs.kafka]\npartitions = 3\n\
         [outputs.syslog]\nendpoint = \"tcp://logs.example.net:601\"\nca_file = \"ca.pem\"\n\
         [outputs.stdout]\n\
         [[outputs.file]]\npath = \"records.jsonl\"\n",
    )
    .unwrap();
    let directory = std::env::temp_dir();
    let records = directory.join("records.jsonl").display().to_string();
    let kinds: Vec<&str> = config.outputs.iter().map(OutputConfig::kind).collect();
    assert_eq!(kinds, ["kafka", "syslog", "stdout", "file"]);
    let kafka = config.kafka_output().expect("declared");
    assert!(kafka.create_topics);
    assert_eq!(kafka.partitions, 3);
    let lines: Vec<Option<String>> = config.outputs.iter().map(OutputConfig::describe).collect();
    assert_eq!(
        lines,
        [
            None,
            Some("syslog tcp://logs.example.net:601".to_owned()),
            Some("stdout".to_owned()),
            Some(format!("file {records}")),
        ]
    );
    let json: Vec<serde_json::Value> = config.outputs.iter().map(OutputConfig::json).collect();
    assert_eq!(
        json,
        [
            serde_json::json!({"kind": "kafka", "create_topics": true, "partitions": 3,
                "spool": {"max_bytes": 1u64 << 30, "when_full": "refuse_newest", "after_s": 5}}),
            serde_json::json!({"kind": "syslog", "endpoint": "tcp://logs.example.net:601"}),
            serde_json::json!({"kind": "stdout"}),
            serde_json::json!({"kind": "file", "path": records}),
        ]
    );
    match &config.outputs[1] {
        OutputConfig::Syslog(syslog) => {
            assert_eq!(syslog.ca_file, Some(directory.join("ca.pem")));
            assert_eq!(syslog.format.app_name, "semaphore");
            assert_eq!(syslog.format.facility, 16, "local0");
        }
        other => panic!("output 1 is {}", other.kind()),
    }
}

/// Issue 10: a kind written once (`[outputs.kafka]`, `[outputs.stdout]`) refuses a second table, naming it;
/// the others take as many as are written.
#[test]
fn single_output_kinds_refuse_a_second_table() {
    for kind in ["kafka", "stdout"] {
        let message = error(&format!(
            "[[sources.meraki_uplinks]]\n[[outputs.{kind}]]\n[[outputs.{kind}]]\n"
        ));
        assert!(
            message.contains(&format!("outputs.{kind}: only one per process")),
            "{message}"
        );
    }
    let config = load_text(
        "[[sources.meraki_uplinks]]\n\
         [[outputs.file]]\npath = \"/tmp/a.jsonl\"\n[[outputs.file]]\npath = \"/tmp/b.jsonl\"\n",
    )
    .unwrap();
    assert_eq!(config.outputs.len(), 2);
    assert!(config.kafka_output().is_none());
    let message = error("[[sources.meraki_uplinks]]\n[outputs.stdout]\nformat = \"json\"\n");
    assert!(message.contains("unknown field `format`"), "{message}");
}

/// Issue 11: Kafka's topic name rule, shared by config files, `publish --topic` and `topics`.
#[test]
fn topic_names_follow_kafka() {
    let longest = "x".repeat(249);
    let too_long = "x".repeat(250);
    for valid in [
        "meraki.uplinks.loss_latency",
        "a",
        "A-b_c.9",
        "...",
        ".a",
        longest.as_str(),
    ] {
        assert_eq!(topic_name(valid), Ok(()), "{valid}");
    }
    for invalid in ["", ".", "..", "a b", "a/b", "é", too_long.as_str()] {
        let reason = topic_name(invalid).unwrap_err();
        assert!(
            reason.contains("not a valid Kafka topic name") && reason.contains("1 to 249 characters"),
            "{invalid}: {reason}"
        );
    }
}

#[test]
fn sinks_alone_are_a_config_with_their_defaults() {
    let config = load_text(
        "[[sinks.influxdb]]\nendpoint = \"http://127.0.0.1:8086\"\ndatabase = \"meraki\"\n\
         [[sinks.prometheus]]\n[[sinks.webhook]]\nurl = \"http://127.0.0.1:5000/endpoint\"\n\
         [[sinks.alerts]]\n[[sinks.alerts.rule]]\nname = \"loss\"\nmetric = \"loss_percent\"\nabove = 5\nfor_samples = 3\n\
         [sinks.dashboard]\n",
    )
    .unwrap();
    assert_eq!(config.source_count(), 0);
    let ids: Vec<&str> = config.sinks.iter().map(|sink| sink.id.as_str()).collect();
    assert_eq!(ids, ["influxdb", "prometheus", "webhook", "alerts", "dashboard"]);
    let influx = &config.sinks[0];
    assert_eq!(influx.reading.group, "semaphore-influxdb");
    assert_eq!(influx.reading.topics, [UPLINKS_TOPIC]);
    assert_eq!(influx.reading.dead_letter_topic, DEAD_LETTER_TOPIC);
    let SinkKind::Prometheus(prometheus) = &config.sinks[1].kind else {
        panic!("prometheus")
    };
    assert_eq!(prometheus.listen.to_string(), "127.0.0.1:9273");
    assert_eq!(
        config.sinks[2].reading.batch_size, 1,
        "one record per POST: one EDA event"
    );
    let SinkKind::Dashboard(dashboard) = &config.sinks[4].kind else {
        panic!("dashboard")
    };
    assert!(dashboard.listen.ip().is_loopback());
    assert_eq!(config.sinks[4].reading.topics, [UPLINKS_TOPIC, ALERTS_TOPIC]);
}

#[test]
fn alert_syslog_rules_read_the_syslog_topic() {
    let config = load_text(
        "[[sinks.alerts]]\n[[sinks.alerts.syslog_rule]]\nname = \"link\"\nseverity_at_least = \"err\"\n\
         mnemonic = \"%LINK-*\"\n[[sinks.alerts]]\n[[sinks.alerts.rule]]\nname = \"down\"\nmetric = \"down\"\n\
         [[sinks.alerts.syslog_rule]]\nname = \"storm\"\ncount = 100\nwithin_s = 10\nsource_ip = [\"10.0.0.0/8\"]\n",
    )
    .unwrap();
    assert_eq!(config.sinks[0].reading.topics, [SYSLOG_TOPIC]);
    assert_eq!(config.sinks[1].reading.topics, [UPLINKS_TOPIC, SYSLOG_TOPIC]);
    let SinkKind::Alerts(alerts) = &config.sinks[0].kind else {
        panic!("alerts")
    };
    assert_eq!(alerts.syslog_rules[0].severity_at_least, Some(3));
    assert_eq!(alerts.syslog_rules[0].count, 1);
    assert_eq!(alerts.syslog_rules[0].within.num_seconds(), 300);
    assert_eq!(
        config.sinks[1].kind.describe(),
        "1 alert rules, 1 syslog rules -> semaphore.alerts"
    );
}

/// Issue 14: trap and interface rules read the SNMP topics; a trap named or numbered is one dotted OID.
#[test]
fn alert_snmp_rules_read_the_snmp_topics() {
    let config = load_text(
        "[[sinks.alerts]]\n[[sinks.alerts.trap_rule]]\nname = \"port-down\"\ntrap = \"linkDown\"\n\
         resolve_trap = \"linkUp\"\n[[sinks.alerts]]\n[[sinks.alerts.interface_rule]]\nname = \"busy\"\n\
         metric = \"inUtilizationPercent\"\nabove = 90\nfor_polls = 3\n[[sinks.alerts.trap_rule]]\n\
         name = \"restart\"\ntrap = \".1.3.6.1.6.3.1.1.5.1\"\n",
    )
    .unwrap();
    assert_eq!(config.sinks[0].reading.topics, ["snmp.traps"]);
    assert_eq!(config.sinks[1].reading.topics, ["snmp.traps", "snmp.interfaces"]);
    let SinkKind::Alerts(first) = &config.sinks[0].kind else {
        panic!("alerts")
    };
    assert_eq!(first.trap_rules[0].trap, "1.3.6.1.6.3.1.1.5.3");
    assert_eq!(
        first.trap_rules[0].resolution,
        crate::sinks::trap_alert_rules::TrapResolution::Trap("1.3.6.1.6.3.1.1.5.4".to_owned())
    );
    let SinkKind::Alerts(second) = &config.sinks[1].kind else {
        panic!("alerts")
    };
    assert_eq!(second.trap_rules[0].trap, "1.3.6.1.6.3.1.1.5.1");
    assert_eq!(
        second.trap_rules[0].resolution,
        crate::sinks::trap_alert_rules::TrapResolution::After(chrono::TimeDelta::seconds(300))
    );
    assert_eq!(second.interface_rules[0].for_polls, 3);
    assert_eq!(
        config.sinks[1].kind.describe(),
        "0 alert rules, 1 trap rules, 1 interface rules -> semaphore.alerts"
    );
}

/// Issue 14: an unknown trap name names the key and the names known; an unknown metric lists the metrics.
#[test]
fn bad_snmp_alert_rules_name_their_key() {
    let check = |text: &str, expected: &[&str]| {
        let message = error(text);
        for part in expected {
            assert!(message.contains(part), "{part:?} not in {message}");
        }
    };
    let trap_rule =
        |keys: &str| format!("[[sinks.alerts]]\n[[sinks.alerts.trap_rule]]\nname = \"port-down\"\n{keys}");
    check(
        &trap_rule("trap = \"linkDwn\"\n"),
        &[
            "sinks.alerts[0].trap_rule[0].trap",
            "\"port-down\"",
            "\"linkDwn\"",
            "coldStart, warmStart, linkDown, linkUp, authenticationFailure, egpNeighborLoss",
            "dotted OID",
        ],
    );
    check(
        &trap_rule("trap = \"linkDown\"\nresolve_trap = \"ifOperStatus\"\n"),
        &[
            "trap_rule[0].resolve_trap",
            "\"ifOperStatus\" is not a notification",
        ],
    );
    check(
        &trap_rule("trap = \"linkDown\"\nresolve_trap = \"1.3.6.1.6.3.1.1.5.3\"\n"),
        &["trap_rule[0].resolve_trap", "is the trap that fires the alert"],
    );
    check(
        &trap_rule("trap = \"linkDown\"\nresolve_trap = \"linkUp\"\nresolve_after_s = 60\n"),
        &["trap_rule[0].resolve_after_s", "not both"],
    );
    check(
        &trap_rule("trap = \"coldStart\"\nresolve_after_s = 0\n"),
        &["trap_rule[0].resolve_after_s", "1 to 86400"],
    );
    check(
        &trap_rule("trap = \"linkDown\"\nsource_ip = [\"10.0.0.0/40\"]\n"),
        &["trap_rule[0].source_ip", "0 to 32"],
    );
    let interface_rule =
        |keys: &str| format!("[[sinks.alerts]]\n[[sinks.alerts.interface_rule]]\nname = \"busy\"\n{keys}");
    check(
        &interface_rule("metric = \"utilization\"\nabove = 90\n"),
        &[
            "sinks.alerts[0].interface_rule[0].metric",
            "\"busy\"",
            "inUtilizationPercent, outUtilizationPercent, inErrorsPerSecond, outErrorsPerSecond, \
             inDiscardsPerSecond, outDiscardsPerSecond, inBitsPerSecond, outBitsPerSecond, inPacketsPerSecond, \
             outPacketsPerSecond",
        ],
    );
    check(
        &interface_rule("metric = \"inErrorsPerSecond\"\nabove = -1\n"),
        &["interface_rule[0].above", "at least 0"],
    );
    check(
        &interface_rule("metric = \"outUtilizationPercent\"\nabove = 100\n"),
        &["interface_rule[0].above", "less than 100"],
    );
    check(
        &interface_rule("metric = \"inErrorsPerSecond\"\n"),
        &["interface_rule[0].above", "the threshold is required"],
    );
    check(
        &interface_rule("metric = \"inErrorsPerSecond\"\nabove = 1\nfor_polls = 0\n"),
        &["interface_rule[0].for_polls", "at least 1"],
    );
    check(
        &interface_rule("metric = \"inErrorsPerSecond\"\nabove = 1\ninterfaces = [\"Gi[\"]\n"),
        &["interface_rule[0].interfaces", "is not a glob"],
    );
    check(
        &interface_rule("metric = \"inErrorsPerSecond\"\nabove = 1\ninterfaces = []\n"),
        &["interface_rule[0].interfaces", "an empty list"],
    );
    check(
        "[[sinks.alerts]]\n[[sinks.alerts.syslog_rule]]\nname = \"x\"\n[[sinks.alerts.interface_rule]]\n\
         name = \"x\"\nmetric = \"inBitsPerSecond\"\nabove = 1\n",
        &["sinks.alerts[0].interface_rule[0].name", "used by two rules"],
    );
}

#[test]
fn bad_sink_values_name_their_key() {
    let check = |text: &str, expected: &[&str]| {
        let message = error(text);
        for part in expected {
            assert!(message.contains(part), "{part:?} not in {message}");
        }
    };
    check(
        "[[sinks.influxdb]]\nendpoint = \"influx:8086\"\ndatabase = \"m\"\n",
        &["sinks.influxdb[0].endpoint", "http://"],
    );
    check(
        "[[sinks.influxdb]]\nendpoint = \"http://h:8086\"\ndatabase = \"m\"\nbucket = \"b\"\n",
        &["sinks.influxdb[0].database", "not both"],
    );
    check(
        "[[sinks.influxdb]]\nendpoint = \"http://user:pw@h:8086\"\ndatabase = \"m\"\n",
        &["credentials do not belong in the URL"],
    );
    check(
        "[[sinks.prometheus]]\nlisten = \"9273\"\n",
        &["sinks.prometheus[0].listen"],
    );
    check(
        "[[sinks.webhook]]\nurl = \"http://h/\"\nheaders = { Authorization = \"Bearer x\" }\n",
        &["sinks.webhook[0].headers", "token_env"],
    );
    check("[[sinks.alerts]]\n", &["sinks.alerts[0].rule", "at least one"]);
    check(
        "[[sinks.alerts]]\n[[sinks.alerts.rule]]\nname = \"x\"\nmetric = \"jitter\"\nabove = 1\n",
        &["sinks.alerts[0].rule[0].metric", "loss_percent"],
    );
    check(
        "[[sinks.alerts]]\n[[sinks.alerts.rule]]\nname = \"x\"\nmetric = \"latency_ms\"\nabove = 1\nfor_samples = 2\naverage_over_s = 300\n",
        &["not both"],
    );
    check(
        "[[sinks.alerts]]\nalerts_topic = \"meraki.uplinks.loss_latency\"\n[[sinks.alerts.rule]]\nname = \"x\"\nmetric = \"down\"\n",
        &["alerts_topic", "must not be one of the topics"],
    );
    let syslog_rule =
        |keys: &str| format!("[[sinks.alerts]]\n[[sinks.alerts.syslog_rule]]\nname = \"flap\"\n{keys}");
    check(
        &syslog_rule("message_regex = \"(down\"\n"),
        &["syslog_rule[0].message_regex", "\"flap\"", "unclosed group"],
    );
    check(
        &syslog_rule("severity_at_least = \"loud\"\n"),
        &["syslog_rule[0].severity_at_least", "\"flap\"", "0 (emerg) to 7"],
    );
    check(
        &syslog_rule("severity_at_least = 9\n"),
        &["syslog_rule[0].severity_at_least", "\"9\": use 0 (emerg)"],
    );
    check(
        &syslog_rule("mnemonic = \"LINK-[\"\n"),
        &["syslog_rule[0].mnemonic", "is not a glob"],
    );
    check(
        &syslog_rule("source_ip = [\"10.0.0.0/40\"]\n"),
        &["syslog_rule[0].source_ip", "0 to 32"],
    );
    check(
        &syslog_rule("count = 3\nwithin_s = 0\n"),
        &["syslog_rule[0].within_s", "1 to 86400"],
    );
    check(
        "[[sinks.alerts]]\n[[sinks.alerts.rule]]\nname = \"flap\"\nmetric = \"down\"\n[[sinks.alerts.syslog_rule]]\nname = \"flap\"\n",
        &["sinks.alerts[0].syslog_rule[0].name", "used by two rules"],
    );
    check(
        "[sinks.dashboard]\nlisten = \"localhost\"\n",
        &["sinks.dashboard.listen"],
    );
    check(
        "[sinks.dashboard]\nhistory_s = 0\n",
        &["sinks.dashboard.history_s"],
    );
    check(
        "[[sinks.prometheus]]\nstart = \"middle\"\n",
        &["sinks.prometheus[0].start"],
    );
}

/// Issue 10: a kind written once (`[sinks.dashboard]`) is one table; written twice as an array it is refused,
/// and an unknown key in it is still named with its line.
#[test]
fn the_dashboard_is_one_table() {
    let config = load_text("[sinks.dashboard]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    assert_eq!(config.sinks.len(), 1);
    assert_eq!(config.sinks[0].id, "dashboard");
    assert_eq!(config.sinks[0].kind.table(), "dashboard");
    let message = error("[[sinks.dashboard]]\n[[sinks.dashboard]]\n");
    assert!(
        message.contains("sinks.dashboard") && message.contains("only one"),
        "{message}"
    );
    let message = error("[sinks.dashboard]\nlisten = \"127.0.0.1:0\"\nlistne = 1\n");
    assert!(
        message.contains("line 3") && message.contains("listne"),
        "{message}"
    );
}

/// The spool's keys: off with 0, a policy by name, and a size too small or a policy unknown named.
#[test]
fn the_kafka_spool_is_configured_and_its_mistakes_named() {
    let config = load_text("[[sources.meraki_uplinks]]\n[outputs.kafka]\nspool_max_bytes = 0\n").unwrap();
    assert!(config.kafka_output().expect("declared").spool.is_none());
    let config = load_text(
        "[[sources.meraki_uplinks]]\n[outputs.kafka]\nspool_max_bytes = 10485760\nspool_when_full = \"drop_oldest\"\nspool_after_s = 2\n",
    )
    .unwrap();
    let kafka = config.kafka_output().expect("declared");
    let spool = kafka.spool.as_ref().expect("on");
    assert_eq!(
        (spool.max_bytes, spool.when_full),
        (10 << 20, crate::spool::WhenFull::DropOldest)
    );
    assert_eq!(kafka.spool_after, std::time::Duration::from_secs(2));
    for (text, key) in [
        ("spool_max_bytes = 1024", "outputs.kafka.spool_max_bytes"),
        ("spool_when_full = \"block\"", "outputs.kafka.spool_when_full"),
        ("spool_after_s = 0", "outputs.kafka.spool_after_s"),
    ] {
        let error = load_text(&format!("[[sources.meraki_uplinks]]\n[outputs.kafka]\n{text}\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains(key), "{text}: {error}");
    }
}

/// A syslog source, for configs whose other tables are under test.
const SYSLOG_SOURCE: &str = "[[sources.syslog]]\nlisten = [\"udp://127.0.0.1:0\"]\n";

/// Issue 13: `[inventory] file` is read at load, relative to the config file, and a row semaphore cannot use
/// stops the load naming the key, the file, the line and the column.
#[test]
fn the_inventory_file_is_read_at_load_and_its_mistakes_named() {
    let config = load_text(SYSLOG_SOURCE).unwrap();
    assert!(config.inventory.file.is_none());
    assert!(config.inventory.devices.is_empty());
    assert!(
        config.inventory.meraki,
        "Meraki's devices name senders by default"
    );
    let name = format!("semaphore-devices-{}.csv", uuid::Uuid::new_v4());
    let devices = std::env::temp_dir().join(&name);
    std::fs::write(&devices, "ip,hostname\n10.0.0.1,sw1\n").unwrap();
    let text = format!("[inventory]\nfile = \"{name}\"\nmeraki = false\n{SYSLOG_SOURCE}");
    let config = load_text(&text).unwrap();
    assert_eq!(config.inventory.file.as_deref(), Some(devices.as_path()));
    assert_eq!(config.inventory.devices.len(), 1);
    assert!(!config.inventory.meraki);
    std::fs::write(&devices, "ip,hostname\n10.0.0.1,sw1\n10.0.0.x,sw2\n").unwrap();
    let message = error(&text);
    std::fs::remove_file(&devices).unwrap();
    let expected = format!(
        "inventory.file: the device file {}, line 3, column 1 (ip): \"10.0.0.x\" is not an IP address",
        devices.display()
    );
    assert!(message.contains(&expected), "{message}");
    let message = error(&format!("[inventory]\nfiles = \"{name}\"\n{SYSLOG_SOURCE}"));
    assert!(message.contains("unknown field `files`"), "{message}");
}
