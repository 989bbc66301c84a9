//! Issue 14's alerts through the binary: one daemon receives traps (`[[sources.snmp_traps]]`), polls one
//! snmpsim agent every 2 s (`[[sources.snmp]]`) and alerts on both (`[[sinks.alerts]]` with a trap rule,
//! linkDown resolved by linkUp, and an interface rule, inbound utilisation above 50 % for 2 polls).
//!
//! net-snmp's `snmptrap` sends linkDown for ifIndex 3: the alert fires, keyed by the device and the
//! interface; linkUp for ifIndex 4 does not resolve it, linkUp for ifIndex 3 does. The agent's recording is
//! then edited so that port 1's inbound counter grows by 100,000,000 octets a second (snmpsim's `numeric`
//! variation: 800 Mbit/s on a 1 Gbit/s port): the utilisation alert fires on the second poll above, and
//! resolves once the counter is put back (a poll with no rate, the counter having gone backwards, then a
//! poll at 0 %).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::support::snmp::{have_net_snmp, link_varbinds, send, sender, with_marker};
use crate::support::snmpsim::{Counters, Snmpsim, have_snmpsim, poll_source, switch_recording};
use crate::support::{Broker, Daemon, eventually, required, temp_dir, try_consume_all};

const ALERTS_TOPIC: &str = "semaphore.alerts";
const TRAPS_TOPIC: &str = "snmp.traps";
const LINK_DOWN: &str = "1.3.6.1.6.3.1.1.5.3";
const LINK_UP: &str = "1.3.6.1.6.3.1.1.5.4";
/// The receiver's start-up line, with its bound address.
const TRAPS_LISTENING: &str = "SNMP traps listening";
/// The recording's name is the community snmpsim answers.
const AGENT_COMMUNITY: &str = "edge";
const SYS_NAME: &str = "edge-sw";
/// Port 1's `ifHCInOctets` while it is quiet.
const QUIET_OCTETS: u64 = 1_000;

fn config(data: &Path, brokers: &str, agent: &str) -> String {
    format!(
        "data_dir = \"{data}\"\n[kafka]\nbrokers = \"{brokers}\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         [[sources.snmp_traps]]\nid = \"traps\"\nlisten = \"udp://127.0.0.1:0\"\n{poll}\
         [[sinks.alerts]]\n\
         [[sinks.alerts.trap_rule]]\nname = \"port-down\"\ntrap = \"linkDown\"\nresolve_trap = \"linkUp\"\n\
         [[sinks.alerts.interface_rule]]\nname = \"busy\"\nmetric = \"inUtilizationPercent\"\nabove = 50\n\
         for_polls = 2\n",
        data = data.display(),
        poll = poll_source("edge", "EDGE_COMMUNITY", &[agent.to_owned()], 2, 1),
    )
}

/// A 64-bit switch with four quiet ports; with `growing`, port 1's inbound counter grows by 100,000,000
/// octets a second from snmpsim's start (its `numeric` variation), from [`QUIET_OCTETS`] on.
fn recording(growing: bool) -> String {
    let ports: Vec<Counters> = (1..=4)
        .map(|port| Counters {
            in_octets: QUIET_OCTETS * port,
            out_octets: QUIET_OCTETS * port,
        })
        .collect();
    let quiet = switch_recording(SYS_NAME, 100_000, &ports, true);
    if !growing {
        return quiet;
    }
    let line = format!("1.3.6.1.2.1.31.1.1.1.6.1|70|{QUIET_OCTETS}\n");
    assert!(quiet.contains(&line), "port 1's ifHCInOctets in {quiet}");
    quiet.replace(
        &line,
        &format!("1.3.6.1.2.1.31.1.1.1.6.1|70:numeric|rate=100000000,initial={QUIET_OCTETS}\n"),
    )
}

/// The alerts topic's events of `rule`, each with its key, in the order of their partition.
fn alert_events(brokers: &str, rule: &str) -> Vec<(String, Value)> {
    try_consume_all(brokers, ALERTS_TOPIC)
        .unwrap_or_default()
        .into_iter()
        .filter(|envelope| envelope["value"]["rule"] == rule)
        .map(|envelope| {
            let key = envelope["key"].as_str().unwrap_or_default().to_owned();
            (key, envelope["value"].clone())
        })
        .collect()
}

/// Waits until `rule` has `count` events, and returns them.
fn wait_for_events(brokers: &str, rule: &str, count: usize, daemon: &Daemon) -> Vec<(String, Value)> {
    let mut events = Vec::new();
    let arrived = eventually(Duration::from_secs(60), || {
        events = alert_events(brokers, rule);
        events.len() >= count
    });
    assert!(
        arrived,
        "{rule}: {count} events expected, {events:#?}\n{}",
        daemon.log_text()
    );
    events
}

/// `snmptrap` (v2c) sends `trap` for interface `if_index` to `receiver`.
fn send_link_trap(receiver: &str, trap: &str, if_index: u32, marker: &str) {
    let oper_status = if trap == LINK_DOWN { "2" } else { "1" };
    let arguments: Vec<String> = ["".to_owned(), trap.to_owned()]
        .into_iter()
        .chain(link_varbinds(if_index, oper_status))
        .collect();
    send(sender(
        "snmptrap",
        &["-v2c", "-c", "trap-community"],
        receiver,
        &arguments,
        marker,
    ));
}

/// The time the trap record with `marker` says it arrived, as records and events write it.
fn trap_arrival(brokers: &str, marker: &str, daemon: &Daemon) -> String {
    let mut arrival = None;
    eventually(Duration::from_secs(30), || {
        let records = try_consume_all(brokers, TRAPS_TOPIC).unwrap_or_default();
        arrival = with_marker(&records, marker)
            .first()
            .and_then(|record| record["receivedAt"].as_str())
            .map(str::to_owned);
        arrival.is_some()
    });
    arrival.unwrap_or_else(|| panic!("no trap record {marker}: {}", daemon.log_text()))
}

/// A time as records and events write it (RFC 3339, as many fraction digits as it has, so never compared as
/// text).
fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("{value} is not a time"))
}

#[test]
fn link_traps_and_a_busy_interface_fire_and_resolve_their_alerts() {
    if !required(
        "snmpsim (/opt/snmpsim) and net-snmp",
        have_snmpsim() && have_net_snmp(),
    ) {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("snmp-alerts");
    let recordings = directory.join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    let recording_path = recordings.join(format!("{AGENT_COMMUNITY}.snmprec"));
    std::fs::write(&recording_path, recording(false)).unwrap();
    let agents = Snmpsim::start(&directory, &recordings, 1);
    let agent = agents.agents[0].clone();
    let agent_ip = agent.split(':').next().unwrap().to_owned();
    let config_path = directory.join("semaphore.toml");
    std::fs::write(
        &config_path,
        config(&directory.join("data"), &broker.address, &agent),
    )
    .unwrap();
    let daemon = Daemon::start_with_env(
        &config_path,
        &directory.join("semaphore.log"),
        &[("EDGE_COMMUNITY", AGENT_COMMUNITY)],
    );
    let receiver = daemon.listening_address(TRAPS_LISTENING);
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/semaphore.alert.v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();

    // linkDown on port 3: one alert for the device (the sender, unknown to [inventory]) and the interface.
    send_link_trap(&receiver, LINK_DOWN, 3, "down-3");
    let events = wait_for_events(&broker.address, "port-down", 1, &daemon);
    let (key, firing) = &events[0];
    assert_eq!(key, "port-down/127.0.0.1/3", "{firing}");
    assert_eq!(firing["status"], "firing", "{firing}");
    assert_eq!(firing["serial"], "127.0.0.1", "{firing}");
    assert_eq!(
        firing["condition"], "trap linkDown, resolved by linkUp for the same ifIndex",
        "{firing}"
    );
    assert_eq!(firing["snmp"]["trapName"], "linkDown", "{firing}");
    assert_eq!(firing["snmp"]["trapOid"], LINK_DOWN, "{firing}");
    assert_eq!(firing["snmp"]["ifIndex"], 3, "{firing}");
    assert_eq!(firing["snmp"]["ifName"], "Gi0/3", "{firing}");
    assert_eq!(firing["snmp"]["address"], "127.0.0.1", "{firing}");
    assert_eq!(firing["ts"], trap_arrival(&broker.address, "down-3", &daemon));

    // linkUp on port 4, then on port 3: the traps of one device are one partition, read in order, so the
    // resolution dated by port 3's linkUp proves port 4's resolved nothing.
    send_link_trap(&receiver, LINK_UP, 4, "up-4");
    send_link_trap(&receiver, LINK_UP, 3, "up-3");
    let events = wait_for_events(&broker.address, "port-down", 2, &daemon);
    let up_4 = trap_arrival(&broker.address, "up-4", &daemon);
    let up_3 = trap_arrival(&broker.address, "up-3", &daemon);
    // Not later: the receiver may read both in one batch and stamp them alike.
    assert!(
        time(&Value::from(up_4.as_str())) <= time(&Value::from(up_3.as_str())),
        "port 4's linkUp came first: {up_4}, {up_3}"
    );
    let (key, resolved) = &events[1];
    assert_eq!(key, "port-down/127.0.0.1/3", "{resolved}");
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert_eq!(resolved["ts"], up_3, "resolved by port 3's linkUp: {resolved}");
    assert_eq!(resolved["endsAt"], up_3, "{resolved}");
    assert_eq!(resolved["startsAt"], firing["ts"], "{resolved}");
    assert_eq!(resolved["snmp"]["trapName"], "linkUp", "{resolved}");
    assert_eq!(resolved["snmp"]["ifIndex"], 3, "{resolved}");
    assert_eq!(events.len(), 2, "one firing, one resolution: {events:#?}");

    // Port 1 has been quiet: no utilisation alert. Then its counter grows at 800 Mbit/s.
    assert_eq!(alert_events(&broker.address, "busy"), vec![], "port 1 was quiet");
    let grown_from = Utc::now();
    std::fs::write(&recording_path, recording(true)).unwrap();
    let events = wait_for_events(&broker.address, "busy", 1, &daemon);
    let (key, busy) = &events[0];
    assert_eq!(key, &format!("busy/{agent_ip}/1"), "{busy}");
    assert_eq!(busy["status"], "firing", "{busy}");
    assert_eq!(busy["serial"], agent_ip, "{busy}");
    assert_eq!(busy["deviceName"], SYS_NAME, "the sysName: {busy}");
    assert_eq!(
        busy["condition"], "inUtilizationPercent > 50 for 2 consecutive polls",
        "{busy}"
    );
    assert_eq!(busy["threshold"], 50.0, "{busy}");
    assert!(busy["value"].as_f64().unwrap() > 50.0, "{busy}");
    assert_eq!(busy["snmp"]["metric"], "inUtilizationPercent", "{busy}");
    assert_eq!(busy["snmp"]["ifIndex"], 1, "{busy}");
    assert_eq!(busy["snmp"]["ifName"], "Gi1/0/1", "{busy}");
    assert_eq!(busy["snmp"]["address"], agent_ip, "{busy}");
    assert_eq!(busy["snmp"]["trapOid"], Value::Null, "{busy}");
    assert!(
        time(&busy["startsAt"]) > grown_from && time(&busy["ts"]) > time(&busy["startsAt"]),
        "two polls after the counter started growing ({grown_from}): {busy}"
    );

    // The counter is put back: a poll without a rate (it went backwards) resolves nothing, the next at 0 %
    // resolves.
    std::fs::write(&recording_path, recording(false)).unwrap();
    let events = wait_for_events(&broker.address, "busy", 2, &daemon);
    let (key, resolved) = &events[1];
    assert_eq!(key, &format!("busy/{agent_ip}/1"), "{resolved}");
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert_eq!(resolved["value"], 0.0, "{resolved}");
    assert_eq!(resolved["startsAt"], busy["startsAt"], "{resolved}");

    for (_, event) in alert_events(&broker.address, "port-down")
        .into_iter()
        .chain(alert_events(&broker.address, "busy"))
    {
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {event}");
    }
}
