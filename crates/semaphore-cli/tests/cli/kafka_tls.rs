//! Kafka over TLS end to end: a self-signed certificate made here, stunnel (Debian's TLS terminator) in front
//! of `semaphore broker`, which advertises the TLS port; semaphore's commands connect with
//! `--security-protocol SSL --ssl-ca-location`, and refuse a server they cannot verify.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{all_output, have, self_signed, semaphore};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn topics_and_consume_over_tls_with_a_self_signed_certificate() {
    if !have("stunnel4") || !have("openssl") {
        // Only where the packages are absent; .ci/run installs them, so CI never skips this.
        eprintln!("SKIPPED: stunnel4 or openssl is not installed (apt-get install stunnel4 openssl)");
        return;
    }
    let directory = std::env::temp_dir().join(format!("semaphore-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    let (certificate, key) = self_signed(
        &directory,
        "server",
        "/CN=localhost",
        &["subjectAltName=IP:127.0.0.1,DNS:localhost"],
    );

    let (plain_port, tls_port) = (free_port(), free_port());
    let config = directory.join("stunnel.conf");
    std::fs::write(
        &config,
        format!(
            "foreground = yes\npid =\n[kafka]\naccept = 127.0.0.1:{tls_port}\nconnect = 127.0.0.1:{plain_port}\n\
             cert = {}\nkey = {}\n",
            certificate.display(),
            key.display()
        ),
    )
    .unwrap();
    let _stunnel = Killed(
        Command::new("stunnel4")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let _broker = Killed(
        semaphore()
            .args([
                "broker",
                "--memory",
                "--listen",
                &format!("127.0.0.1:{plain_port}"),
            ])
            .args(["--advertise", &format!("127.0.0.1:{tls_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let tls = |arguments: &[&str], ca: &PathBuf| {
        semaphore()
            .args(arguments)
            .args([
                "--brokers",
                &format!("127.0.0.1:{tls_port}"),
                "--security-protocol",
                "SSL",
                "--ssl-ca-location",
            ])
            .arg(ca)
            .output()
            .unwrap()
    };
    // Wait for both to listen.
    let mut created = tls(&["topics", "create", "secure", "--partitions", "2"], &certificate);
    for _ in 0..50 {
        if created.status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        created = tls(&["topics", "create", "secure", "--partitions", "2"], &certificate);
    }
    assert!(created.status.success(), "{}", all_output(&created));
    let described = tls(&["topics", "describe", "secure"], &certificate);
    assert!(
        String::from_utf8_lossy(&described.stdout).contains("topic secure: 2 partitions, 0 records"),
        "{}",
        all_output(&described)
    );
    let consumed = tls(&["consume", "secure", "-e"], &certificate);
    assert!(consumed.status.success(), "{}", all_output(&consumed));
    assert!(String::from_utf8_lossy(&consumed.stderr).contains("0 records"));

    // A CA that did not sign the server's certificate: refused.
    let (other_ca, _) = self_signed(&directory, "other", "/CN=other", &[]);
    let refused = tls(&["topics", "list"], &other_ca);
    assert_eq!(refused.status.code(), Some(1), "{}", all_output(&refused));
    assert!(
        all_output(&refused).contains("cannot reach Kafka"),
        "{}",
        all_output(&refused)
    );
    let _ = std::fs::remove_dir_all(&directory);
}
