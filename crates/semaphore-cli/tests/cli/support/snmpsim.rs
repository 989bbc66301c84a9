//! snmpsim (PyPI, in /opt/snmpsim: `.ci/install-snmpsim`) as many SNMP agents at once for the tests: one
//! `snmpsim-command-responder` serving recorded walks (`.snmprec` files, one per community) on as many
//! addresses as asked, each agent its own loopback address (127.x.y.z, all Linux's) on one port. It refuses
//! to run as root, so it runs as `nobody`. It reads a recording again when the file changes, so a test can
//! edit a device's counters between two polls.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::eventually;
use crate::support::snmp::{free_udp_port, net_snmp};

const RESPONDER: &str = "/opt/snmpsim/bin/snmpsim-command-responder";

pub fn have_snmpsim() -> bool {
    Path::new(RESPONDER).exists() && Command::new("runuser").arg("--help").output().is_ok()
}

/// A running snmpsim; killed when dropped.
pub struct Snmpsim {
    child: Child,
    /// `ADDRESS:PORT` of every agent, in the order they were asked for.
    pub agents: Vec<String>,
    pub data: PathBuf,
}

impl Snmpsim {
    /// `count` agents, each serving every recording of `data` (a directory of `COMMUNITY.snmprec` files, made
    /// readable to `nobody`): the first on 127.`octet`.0.1, then .2, ...
    pub fn start(directory: &Path, data: &Path, count: usize) -> Self {
        let cache = directory.join("snmpsim-cache");
        std::fs::create_dir_all(&cache).unwrap();
        for path in [directory, data, &cache] {
            Command::new("chmod")
                .args(["-R", "a+rwX"])
                .arg(path)
                .status()
                .unwrap();
        }
        let port = free_udp_port();
        // A second octet of its own per run, so parallel tests' agents never share an address.
        let octet = 2 + port % 250;
        let agents: Vec<String> = (0..count)
            .map(|index| format!("127.{octet}.{}.{}:{port}", index / 250, index % 250 + 1))
            .collect();
        let mut command = Command::new("runuser");
        command
            .args(["-u", "nobody", "--", RESPONDER])
            .arg(format!("--data-dir={}", data.display()))
            .arg(format!("--cache-dir={}", cache.display()))
            .arg("--log-level=error")
            .args(
                agents
                    .iter()
                    .map(|agent| format!("--agent-udpv4-endpoint={agent}")),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(directory.join("snmpsim.log")).unwrap());
        let child = command.spawn().expect("snmpsim starts");
        let snmpsim = Self {
            child,
            agents,
            data: data.to_owned(),
        };
        let last = snmpsim.agents.last().expect("at least one agent").clone();
        let community = first_community(data);
        let answering = eventually(Duration::from_secs(120), || {
            net_snmp(
                "snmpget",
                &["-v2c", "-c", &community],
                &last,
                &["1.3.6.1.2.1.1.3.0"],
            )
            .is_ok()
        });
        let log = std::fs::read_to_string(directory.join("snmpsim.log")).unwrap_or_default();
        assert!(answering, "snmpsim's agent {last} did not answer: {log}");
        snmpsim
    }
}

impl Drop for Snmpsim {
    fn drop(&mut self) {
        // runuser's child is snmpsim itself; killing runuser alone would leave it running.
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn first_community(data: &Path) -> String {
    std::fs::read_dir(data)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find_map(|name| name.strip_suffix(".snmprec").map(str::to_owned))
        .expect("a .snmprec recording")
}

/// What one interface's counters hold in a recording.
#[derive(Clone, Copy, Debug)]
pub struct Counters {
    pub in_octets: u64,
    pub out_octets: u64,
}

/// A column of a recorded table: its sub-identifier, snmprec's type tag, and the value of a port (index and
/// counters).
type Column<'a> = (u32, u8, &'a dyn Fn(usize, &Counters) -> String);

/// A switch's recording in snmprec's `OID|TYPE|VALUE` lines: the system group and `ifTable`, plus `ifXTable`
/// with 64-bit counters when `high_capacity`, for `ports` Ethernet ports named `Gi1/0/N`.
pub fn switch_recording(
    sys_name: &str,
    uptime_ticks: u32,
    ports: &[Counters],
    high_capacity: bool,
) -> String {
    let mut lines = String::new();
    let mut line = |oid: String, tag: u8, value: String| writeln!(lines, "{oid}|{tag}|{value}").unwrap();
    line(
        "1.3.6.1.2.1.1.1.0".into(),
        4,
        "Cisco IOS Software, C3850 (simulated)".into(),
    );
    line("1.3.6.1.2.1.1.2.0".into(), 6, "1.3.6.1.4.1.9.1.1745".into());
    line("1.3.6.1.2.1.1.3.0".into(), 67, uptime_ticks.to_string());
    line("1.3.6.1.2.1.1.5.0".into(), 4, sys_name.into());
    line("1.3.6.1.2.1.2.1.0".into(), 2, ports.len().to_string());
    let indexes = 1..=ports.len();
    // snmprec files list OIDs in order: column by column, row by row.
    let if_table: [Column; 9] = [
        (1, 2, &|index, _| index.to_string()),
        (2, 4, &|index, _| format!("GigabitEthernet1/0/{index}")),
        (3, 2, &|_, _| "6".into()),
        (5, 66, &|_, _| "1000000000".into()),
        (7, 2, &|_, _| "1".into()),
        (8, 2, &|index, _| {
            if index % 2 == 1 { "1".into() } else { "2".into() }
        }),
        (10, 65, &|_, counters| {
            (counters.in_octets % (1 << 32)).to_string()
        }),
        (14, 65, &|_, _| "0".into()),
        (16, 65, &|_, counters| {
            (counters.out_octets % (1 << 32)).to_string()
        }),
    ];
    for (column, tag, value) in if_table {
        for (index, counters) in indexes.clone().zip(ports) {
            line(
                format!("1.3.6.1.2.1.2.2.1.{column}.{index}"),
                tag,
                value(index, counters),
            );
        }
    }
    if high_capacity {
        let if_x_table: [Column; 5] = [
            (1, 4, &|index, _| format!("Gi1/0/{index}")),
            (6, 70, &|_, counters| counters.in_octets.to_string()),
            (10, 70, &|_, counters| counters.out_octets.to_string()),
            (15, 66, &|_, _| "1000".into()),
            (18, 4, &|index, _| format!("uplink {index}")),
        ];
        for (column, tag, value) in if_x_table {
            for (index, counters) in indexes.clone().zip(ports) {
                line(
                    format!("1.3.6.1.2.1.31.1.1.1.{column}.{index}"),
                    tag,
                    value(index, counters),
                );
            }
        }
    }
    lines
}

/// A `[[sources.snmp]]` table polling `targets` with SNMPv2c, the community in the variable `community_env`.
pub fn poll_source(
    id: &str,
    community_env: &str,
    targets: &[String],
    interval_s: u64,
    timeout_s: u64,
) -> String {
    let targets: Vec<String> = targets.iter().map(|target| format!("\"{target}\"")).collect();
    format!(
        "[[sources.snmp]]\nid = \"{id}\"\nversion = \"2c\"\ncommunity_env = \"{community_env}\"\n\
         targets = [{}]\ninterval_s = {interval_s}\ntimeout_s = {timeout_s}\n",
        targets.join(", ")
    )
}
