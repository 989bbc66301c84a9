//! rsyslogd as a real RELP sender for the tests: its own configuration, work directory and pid file, `imtcp`
//! in, `omrelp` out (Debian's rsyslog-relp), so a test feeds it lines and semaphore receives them as rsyslog
//! relays them.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{eventually, have, temp_dir};

/// rsyslogd, from `PATH` or Debian's `/usr/sbin` (not in a user's `PATH` everywhere), when it can load
/// `omrelp` (Debian's `rsyslog-relp`): a configuration check that loads the module says.
pub fn rsyslogd_with_omrelp() -> Option<PathBuf> {
    let program = if have("rsyslogd") {
        PathBuf::from("rsyslogd")
    } else {
        PathBuf::from("/usr/sbin/rsyslogd")
    };
    let directory = temp_dir("rsyslog-check");
    let config = directory.join("check.conf");
    // Without an action rsyslogd refuses any configuration; this one is checked, never run.
    let check = "module(load=\"omrelp\")\n\
                 action(type=\"omrelp\" target=\"127.0.0.1\" port=\"1\")\n";
    std::fs::write(&config, check).unwrap();
    let checked = Command::new(&program)
        .args(["-N1", "-f"])
        .arg(config)
        .output()
        .is_ok_and(|output| output.status.success());
    checked.then_some(program)
}

/// rsyslogd in the foreground, with its own configuration, pid file and work directory (nothing of a system
/// rsyslog is touched): `imtcp` on a port it picks and writes to a file, every line relayed by `omrelp` to
/// `relp_port`, retried every second for ever from an in-memory action queue while semaphore is away.
/// Killed when dropped.
pub struct Rsyslog {
    child: Child,
    directory: PathBuf,
    /// Where `imtcp` listens.
    pub input: String,
}

impl Rsyslog {
    pub fn start(program: &Path, directory: &Path, relp_port: &str) -> Self {
        let work = directory.join("rsyslog-work");
        std::fs::create_dir_all(&work).unwrap();
        let port_file = directory.join("imtcp.port");
        let config = directory.join("rsyslog.conf");
        std::fs::write(
            &config,
            format!(
                "global(workDirectory=\"{work}\" net.enableDNS=\"off\")\n\
                 module(load=\"imtcp\")\n\
                 module(load=\"omrelp\")\n\
                 input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{port_file}\" \
                       ruleset=\"relay\")\n\
                 ruleset(name=\"relay\") {{\n\
                   action(type=\"omrelp\" target=\"127.0.0.1\" port=\"{relp_port}\" \
                          template=\"RSYSLOG_SyslogProtocol23Format\" \
                          action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\" \
                          queue.type=\"LinkedList\" queue.size=\"100000\")\n\
                 }}\n\
                 *.* action(type=\"omfile\" file=\"{internal}\")\n",
                work = work.display(),
                port_file = port_file.display(),
                internal = directory.join("rsyslog-internal.log").display(),
            ),
        )
        .unwrap();
        let stderr = std::fs::File::create(directory.join("rsyslogd.stderr")).unwrap();
        let child = Command::new(program)
            .args(["-n", "-f"])
            .arg(config)
            .arg("-i")
            .arg(directory.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("rsyslogd starts");
        let mut rsyslog = Self {
            child,
            directory: directory.to_owned(),
            input: String::new(),
        };
        let mut port = None;
        eventually(Duration::from_secs(30), || {
            port = std::fs::read_to_string(port_file.as_path())
                .ok()
                .and_then(|text| text.trim().parse::<u16>().ok())
                .filter(|port| *port > 0);
            port.is_some() || rsyslog.child.try_wait().ok().flatten().is_some()
        });
        let port = port.unwrap_or_else(|| panic!("rsyslogd did not start:\n{}", rsyslog.log_text()));
        rsyslog.input = format!("127.0.0.1:{port}");
        rsyslog
    }

    /// Sends `lines` to `imtcp`, octet-counted, over one connection, pausing `pause` after each.
    pub fn send(&self, lines: impl IntoIterator<Item = String>, pause: Duration) {
        let mut stream = TcpStream::connect(self.input.as_str()).expect("rsyslog's imtcp accepts");
        for line in lines {
            write!(stream, "{} {line}", line.len()).expect("rsyslog reads");
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
        stream.flush().unwrap();
    }

    /// What rsyslogd said: its standard error and its internal messages.
    pub fn log_text(&self) -> String {
        ["rsyslogd.stderr", "rsyslog-internal.log"]
            .iter()
            .map(|name| std::fs::read_to_string(self.directory.join(name)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
