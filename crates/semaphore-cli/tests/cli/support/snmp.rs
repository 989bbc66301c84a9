//! net-snmp for the SNMP tests: `snmpd` as a real agent on 127.0.0.1 (a v2c community and two v3 `authPriv`
//! users, serving this machine's own interfaces), and its command-line tools (`snmpget`, `snmpbulkwalk`,
//! `snmptrap`, `snmpinform`) as the reference a test compares semaphore with and as real senders. Every tool
//! runs with no MIB loaded (`-m ""`, numeric OIDs): Debian ships no IF-MIB, and its absence is noisy.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{all_output, eventually, have};

/// The v2c community snmpd answers.
pub const COMMUNITY: &str = "semaphore-test-ro";

/// A v3 user as snmpd's `createUser` and net-snmp's tools name its protocols.
pub struct V3User {
    pub name: &'static str,
    pub auth_protocol: &'static str,
    pub auth_passphrase: &'static str,
    pub priv_protocol: &'static str,
    pub priv_passphrase: &'static str,
}

pub const SHA256_AES128: V3User = V3User {
    name: "ops-sha256",
    auth_protocol: "SHA-256",
    auth_passphrase: "auth-pass-256-xyz",
    priv_protocol: "AES",
    priv_passphrase: "priv-pass-128-xyz",
};

pub const SHA512_AES256: V3User = V3User {
    name: "ops-sha512",
    auth_protocol: "SHA-512",
    auth_passphrase: "auth-pass-512-xyz",
    priv_protocol: "AES-256",
    priv_passphrase: "priv-pass-256-xyz",
};

impl V3User {
    /// net-snmp's command-line options for this user at `authPriv`.
    pub fn tool_arguments(&self) -> Vec<&'static str> {
        vec![
            "-v3",
            "-l",
            "authPriv",
            "-u",
            self.name,
            "-a",
            self.auth_protocol,
            "-A",
            self.auth_passphrase,
            "-x",
            self.priv_protocol,
            "-X",
            self.priv_passphrase,
        ]
    }
}

/// Whether net-snmp's agent and tools are here (Debian's `snmpd` and `snmp`).
pub fn have_net_snmp() -> bool {
    snmpd_program().is_some() && have("snmpget") && have("snmpbulkwalk") && have("snmptrap")
}

fn snmpd_program() -> Option<PathBuf> {
    if have("snmpd") {
        return Some(PathBuf::from("snmpd"));
    }
    let debian = PathBuf::from("/usr/sbin/snmpd");
    debian.exists().then_some(debian)
}

/// A UDP port on 127.0.0.1 that was free a moment ago (snmpd cannot bind port 0 and say which it got).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `snmpd` in the foreground with its own configuration and persistent directory (nothing of a system agent
/// is touched). Killed when dropped.
pub struct Snmpd {
    child: Child,
    /// `127.0.0.1:PORT`, where it answers.
    pub address: String,
    pub directory: PathBuf,
}

impl Snmpd {
    pub fn start(directory: &Path) -> Self {
        let program = snmpd_program().expect("snmpd is installed");
        let port = free_udp_port();
        let address = format!("127.0.0.1:{port}");
        let config = directory.join("snmpd.conf");
        let mut text = format!("agentAddress udp:{address}\nrocommunity {COMMUNITY} 127.0.0.1\n");
        for user in [&SHA256_AES128, &SHA512_AES256] {
            text.push_str(&format!(
                "createUser {} {} \"{}\" {} \"{}\"\nrouser {} authPriv\n",
                user.name,
                user.auth_protocol,
                user.auth_passphrase,
                user.priv_protocol,
                user.priv_passphrase,
                user.name
            ));
        }
        std::fs::write(&config, text).unwrap();
        let log = std::fs::File::create(directory.join("snmpd.log")).unwrap();
        let child = Command::new(program)
            .args(["-f", "-Le", "-C", "-m", "", "-c"])
            .arg(&config)
            .arg("-p")
            .arg(directory.join("snmpd.pid"))
            .env("SNMP_PERSISTENT_DIR", directory.join("snmpd-persist"))
            .env("MIBS", "")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("snmpd starts");
        let snmpd = Self {
            child,
            address,
            directory: directory.to_owned(),
        };
        let answering = eventually(Duration::from_secs(15), || {
            net_snmp(
                "snmpget",
                &["-v2c", "-c", COMMUNITY],
                &snmpd.address,
                &["1.3.6.1.2.1.1.5.0"],
            )
            .is_ok()
        });
        assert!(answering, "snmpd did not answer: {}", snmpd.log());
        snmpd
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.join("snmpd.log")).unwrap_or_default()
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One variable as a net-snmp tool prints it with `-On`: `.1.3.6.1.2.1.1.5.0 = STRING: "vm"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Printed {
    /// Without the leading dot.
    pub oid: String,
    /// `STRING`, `Counter64`, `INTEGER`, `Timeticks`, ...
    pub kind: String,
    /// As printed, quotes removed from strings.
    pub value: String,
}

/// Runs a net-snmp tool (`snmpget`, `snmpbulkwalk`) against `agent` with security `arguments` on `oids`, and
/// reads what it printed; `Err` with its output when it failed.
pub fn net_snmp(tool: &str, arguments: &[&str], agent: &str, oids: &[&str]) -> Result<Vec<Printed>, String> {
    let output = Command::new(tool)
        .args(["-m", "", "-On", "-t", "1", "-r", "1"])
        .args(arguments)
        .arg(agent)
        .args(oids)
        .env("MIBS", "")
        .output()
        .expect("a net-snmp tool runs");
    if !output.status.success() {
        return Err(all_output(&output));
    }
    Ok(printed(&output))
}

fn printed(output: &Output) -> Vec<Printed> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (oid, rest) = line.split_once(" = ")?;
            let (kind, value) = rest.split_once(": ").unwrap_or((rest, ""));
            Some(Printed {
                oid: oid.trim_start_matches('.').to_owned(),
                kind: kind.to_owned(),
                value: value.trim_matches('"').to_owned(),
            })
        })
        .collect()
}

/// linkDown's or linkUp's varbinds for interface `if_index` (`ifIndex`, `ifAdminStatus` up, `ifOperStatus`,
/// `ifName` `Gi0/N`), as `snmptrap` takes them after the trap OID.
pub fn link_varbinds(if_index: u32, oper_status: &str) -> Vec<String> {
    let index = if_index.to_string();
    let name = format!("Gi0/{if_index}");
    [
        ("1.3.6.1.2.1.2.2.1.1", "i", index.as_str()),
        ("1.3.6.1.2.1.2.2.1.7", "i", "1"),
        ("1.3.6.1.2.1.2.2.1.8", "i", oper_status),
        ("1.3.6.1.2.1.31.1.1.1.1", "s", name.as_str()),
    ]
    .iter()
    .flat_map(|(column, kind, value)| {
        [
            format!("{column}.{if_index}"),
            kind.to_string(),
            value.to_string(),
        ]
    })
    .collect()
}

/// A net-snmp sender (`snmptrap` or `snmpinform`) to `receiver`, with a marker varbind so each record can be
/// told apart: `1.3.6.1.4.1.8072.9999.1 s MARKER`.
pub fn sender(tool: &str, security: &[&str], receiver: &str, trap: &[String], marker: &str) -> Command {
    let mut command = Command::new(tool);
    command
        .args(["-m", "", "-t", "2", "-r", "2"])
        .args(security)
        .arg(receiver)
        .args(trap)
        .args(["1.3.6.1.4.1.8072.9999.1", "s", marker])
        .env("MIBS", "");
    command
}

/// Runs a sender, failing the test with its output when it fails.
pub fn send(mut command: Command) {
    let output = command.output().expect("a net-snmp sender runs");
    assert!(output.status.success(), "{command:?}: {}", all_output(&output));
}

/// The `snmp.trap/1` records (of `consume` envelopes) whose marker varbind is `marker`.
pub fn with_marker<'a>(records: &'a [Value], marker: &str) -> Vec<&'a Value> {
    records
        .iter()
        .map(|envelope| &envelope["value"])
        .filter(|record| {
            record["varbinds"]
                .as_array()
                .is_some_and(|varbinds| varbinds.iter().any(|varbind| varbind["value"] == marker))
        })
        .collect()
}
