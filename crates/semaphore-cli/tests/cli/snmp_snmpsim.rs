//! Issue 14 at scale and at the edges, with snmpsim's agents: 300 simulated 48-port switches and a recorded
//! Linux host polled by one daemon (every device, every interface, one record each per poll; five dead
//! addresses among them time out without holding the others up); and a device
//! whose recording is edited between polls: a 32-bit counter wraps (the rate is still right), the device
//! reboots (no rate that poll, and the system record says so), an interface is renumbered (no rate for it).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::snmp::have_net_snmp;
use crate::support::snmpsim::{Counters, Snmpsim, have_snmpsim, poll_source, switch_recording};
use crate::support::{
    Broker, Daemon, eventually, metrics_text, port_of, required, temp_dir, try_consume_all,
};

const PORTS: usize = 48;
const SWITCHES: usize = 300;
const LINUX_HOSTS: usize = 5;
/// snmpsim's recording of a real Linux host's full walk.
const LINUX_WALK: &str =
    "/opt/snmpsim/lib/python3.11/site-packages/snmpsim/data/recorded/linux-full-walk.snmprec";

fn records(brokers: &str, topic: &str, source: &str) -> Vec<Value> {
    try_consume_all(brokers, topic)
        .unwrap_or_default()
        .into_iter()
        .filter(|envelope| envelope["value"]["source"] == source)
        .collect()
}

fn daemon_config(data: &Path, brokers: &str, sources: &str) -> String {
    format!(
        "data_dir = \"{}\"\n[kafka]\nbrokers = \"{brokers}\"\n[admin]\nlisten = \"127.0.0.1:0\"\n{sources}",
        data.display()
    )
}

#[test]
fn hundreds_of_simulated_switches_and_a_recorded_linux_host_are_polled_in_one_cycle() {
    if !required(
        "snmpsim (/opt/snmpsim) and net-snmp",
        have_snmpsim() && have_net_snmp(),
    ) {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("snmp-scale");
    let data = directory.join("recordings");
    std::fs::create_dir_all(&data).unwrap();
    let ports: Vec<Counters> = (0..PORTS as u64)
        .map(|port| Counters {
            in_octets: 1_000_000 * port,
            out_octets: 2_000_000 * port,
        })
        .collect();
    std::fs::write(
        data.join("switch.snmprec"),
        switch_recording("access-sw", 123_456, &ports, true),
    )
    .unwrap();
    std::fs::copy(LINUX_WALK, data.join("linux.snmprec")).unwrap();
    let agents = Snmpsim::start(&directory, &data, SWITCHES);
    let config = directory.join("semaphore.toml");
    // Five addresses where nothing answers, among the switches: they time out without holding the others up.
    let dead: Vec<String> = (1..=5)
        .map(|host| format!("127.1.254.{host}:{}", port_of(&agents.agents[0])))
        .collect();
    let targets = [
        &agents.agents[..SWITCHES / 2],
        &dead[..],
        &agents.agents[SWITCHES / 2..],
    ]
    .concat();
    let sources = [
        poll_source("switches", "SWITCH_COMMUNITY", &targets, 300, 3),
        poll_source("linux", "LINUX_COMMUNITY", &agents.agents[..LINUX_HOSTS], 300, 3),
    ]
    .concat();
    std::fs::write(
        &config,
        daemon_config(&directory.join("data"), &broker.address, &sources),
    )
    .unwrap();
    let daemon = Daemon::start_with_env(
        &config,
        &directory.join("semaphore.log"),
        &[("SWITCH_COMMUNITY", "switch"), ("LINUX_COMMUNITY", "linux")],
    );

    let mut systems = Vec::new();
    let polled = eventually(Duration::from_secs(120), || {
        systems = records(&broker.address, "snmp.system", "switches");
        systems.len() >= SWITCHES
    });
    assert!(
        polled,
        "{} of {SWITCHES} switches polled: {}",
        systems.len(),
        daemon.log_text()
    );
    assert_eq!(systems.len(), SWITCHES, "one system record per switch per poll");
    let interfaces = records(&broker.address, "snmp.interfaces", "switches");
    assert_eq!(
        interfaces.len(),
        SWITCHES * PORTS,
        "one record per interface per poll"
    );
    for agent in &agents.agents {
        let ip = agent.split(':').next().unwrap();
        let of_agent: Vec<&Value> = interfaces
            .iter()
            .filter(|envelope| envelope["key"] == ip)
            .collect();
        assert_eq!(of_agent.len(), PORTS, "{agent}: keyed by the device's address");
    }
    let port_7 = interfaces
        .iter()
        .map(|envelope| &envelope["value"])
        .find(|record| record["ifIndex"] == 7)
        .unwrap();
    assert_eq!(port_7["ifName"], "Gi1/0/7", "{port_7}");
    assert_eq!(port_7["ifDescr"], "GigabitEthernet1/0/7", "{port_7}");
    assert_eq!(port_7["ifAlias"], "uplink 7", "{port_7}");
    assert_eq!(port_7["ifType"], "ethernetCsmacd", "{port_7}");
    assert_eq!(port_7["ifOperStatus"], "up", "{port_7}");
    assert_eq!(port_7["ifHCInOctets"], 6_000_000, "{port_7}");
    assert_eq!(port_7["ifHCOutOctets"], 12_000_000, "{port_7}");
    assert_eq!(port_7["counterBits"], 64, "{port_7}");
    assert_eq!(port_7["sysName"], "access-sw", "{port_7}");

    // A real host's tables, as snmpsim recorded them: its two interfaces, named as recorded.
    let linux = records(&broker.address, "snmp.interfaces", "linux");
    assert_eq!(linux.len(), LINUX_HOSTS * 2, "{linux:#?}");
    let names: Vec<&str> = linux
        .iter()
        .filter_map(|envelope| envelope["value"]["ifName"].as_str())
        .collect();
    assert!(names.contains(&"lo") && names.contains(&"eth0"), "{names:?}");
    // The dead ones are given up on after their tries (3 s each, two tries).
    let admin = daemon.admin_address();
    let mut metrics = String::new();
    let settled = eventually(Duration::from_secs(30), || {
        metrics = metrics_text(&admin);
        dead.iter().all(|target| {
            let timed_out = format!(
                "semaphore_snmp_poll_errors_total{{source=\"switches\",target=\"{target}\",kind=\"timeout\"}} 1"
            );
            metrics.contains(&timed_out)
        })
    });
    assert!(
        settled,
        "the dead targets' timeouts are not on /metrics: {metrics}"
    );
    let up = metrics
        .lines()
        .filter(|line| {
            line.starts_with("semaphore_snmp_target_up{source=\"switches\"") && line.ends_with(" 1")
        })
        .count();
    assert_eq!(up, SWITCHES, "every switch is up on /metrics");
    for target in &dead {
        let down = format!("semaphore_snmp_target_up{{source=\"switches\",target=\"{target}\"}} 0");
        assert!(metrics.contains(&down), "{target}: {metrics}");
    }
}

/// The interface records of port `if_index` of the one device, in poll order.
fn port_polls(brokers: &str, if_index: u64) -> Vec<Value> {
    records(brokers, "snmp.interfaces", "edge")
        .into_iter()
        .map(|envelope| envelope["value"].clone())
        .filter(|record| record["ifIndex"] == if_index)
        .collect()
}

/// Waits for a poll of port `if_index` whose `ifInOctets` is `octets` (the edited recording was read), and
/// returns it with the poll before it.
fn poll_reading(brokers: &str, daemon: &Daemon, if_index: u64, octets: u64) -> (Value, Value) {
    let mut found = None;
    let seen = eventually(Duration::from_secs(30), || {
        let polls = port_polls(brokers, if_index);
        found = polls
            .iter()
            .position(|record| record["ifInOctets"] == octets)
            .filter(|at| *at > 0)
            .map(|at| (polls[at - 1].clone(), polls[at].clone()));
        found.is_some()
    });
    assert!(seen, "no poll read ifInOctets {octets}: {}", daemon.log_text());
    found.unwrap()
}

#[test]
fn a_wrapped_32_bit_counter_a_reboot_and_a_renumbered_interface_between_polls() {
    if !required(
        "snmpsim (/opt/snmpsim) and net-snmp",
        have_snmpsim() && have_net_snmp(),
    ) {
        return;
    }
    let broker = Broker::start();
    let directory = temp_dir("snmp-edges");
    let data = directory.join("recordings");
    std::fs::create_dir_all(&data).unwrap();
    let recording = data.join("edge.snmprec");
    let near_wrap = Counters {
        in_octets: 4_294_967_000,
        out_octets: 10,
    };
    let other = Counters {
        in_octets: 5_000,
        out_octets: 5_000,
    };
    // 32-bit counters only (no ifXTable), as an old device has.
    std::fs::write(
        &recording,
        switch_recording("old-router", 100_000, &[near_wrap, other], false),
    )
    .unwrap();
    let agents = Snmpsim::start(&directory, &data, 1);
    let config = directory.join("semaphore.toml");
    let sources = poll_source("edge", "EDGE_COMMUNITY", &agents.agents, 2, 1);
    std::fs::write(
        &config,
        daemon_config(&directory.join("data"), &broker.address, &sources),
    )
    .unwrap();
    let daemon = Daemon::start_with_env(
        &config,
        &directory.join("semaphore.log"),
        &[("EDGE_COMMUNITY", "edge")],
    );
    assert!(
        eventually(Duration::from_secs(60), || !port_polls(&broker.address, 1)
            .is_empty()),
        "{}",
        daemon.log_text()
    );

    // The counter passes 2^32: 1,000 octets later it reads 704.
    let wrapped = Counters {
        in_octets: near_wrap.in_octets + 1_000,
        out_octets: 10,
    };
    std::fs::write(
        &recording,
        switch_recording("old-router", 100_500, &[wrapped, other], false),
    )
    .unwrap();
    let (before, after) = poll_reading(&broker.address, &daemon, 1, 704);
    assert_eq!(before["ifInOctets"], near_wrap.in_octets, "{before}");
    assert_eq!(after["counterBits"], 32, "{after}");
    assert_eq!(after["rateGap"], Value::Null, "{after}");
    let bits = after["inBitsPerSecond"].as_f64().unwrap() * after["rateIntervalSeconds"].as_f64().unwrap();
    assert!(
        (bits - 8_000.0).abs() < 0.01,
        "1,000 octets across the wrap, {bits} bits: {after}"
    );
    assert_eq!(after["outBitsPerSecond"], 0.0, "{after}");

    // The device reboots: its uptime goes back and its counters start again.
    let rebooted = Counters {
        in_octets: 12,
        out_octets: 3,
    };
    std::fs::write(
        &recording,
        switch_recording("old-router", 50, &[rebooted, other], false),
    )
    .unwrap();
    let (_, after) = poll_reading(&broker.address, &daemon, 1, 12);
    assert_eq!(after["rateGap"], "rebooted", "{after}");
    assert_eq!(after["inBitsPerSecond"], Value::Null, "{after}");
    let rebooted_systems = records(&broker.address, "snmp.system", "edge");
    assert!(
        rebooted_systems
            .iter()
            .any(|envelope| envelope["value"]["rebooted"] == true),
        "{rebooted_systems:#?}"
    );

    // Port 2 is renumbered: another interface answers under its index.
    let renamed = switch_recording(
        "old-router",
        60_000,
        &[
            rebooted,
            Counters {
                in_octets: 77,
                out_octets: 77,
            },
        ],
        false,
    )
    .replace("GigabitEthernet1/0/2", "Tunnel42");
    std::fs::write(&recording, renamed).unwrap();
    let (_, after) = poll_reading(&broker.address, &daemon, 2, 77);
    assert_eq!(after["ifDescr"], "Tunnel42", "{after}");
    assert_eq!(after["rateGap"], "renumbered", "{after}");

    let metrics = metrics_text(&daemon.admin_address());
    for reason in ["rebooted", "renumbered"] {
        let line = format!("semaphore_snmp_rate_gaps_total{{source=\"edge\",reason=\"{reason}\"}}");
        assert!(
            metrics.lines().any(|sample| sample.starts_with(&line)),
            "{line} not in {metrics}"
        );
    }
}
