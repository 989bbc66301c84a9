//! What the listener's tests share: a handler that collects (and can hold) frames, waiting for a condition,
//! and certificates made with openssl.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::{TlsConnector, rustls};

use crate::shutdown::{StopTrigger, stop_pair};
use crate::sources::listener::config::ListenerConfig;
use crate::sources::listener::driver::Listener;
use crate::sources::listener::frame::{Frame, FrameHandler, Handled};

/// Keeps every frame and the size of every batch; a gated one holds each call until the gate opens.
pub(super) struct Collector {
    frames: Mutex<Vec<Frame>>,
    batch_sizes: Mutex<Vec<usize>>,
    gate: Option<watch::Receiver<bool>>,
}

impl Collector {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            frames: Mutex::default(),
            batch_sizes: Mutex::default(),
            gate: None,
        })
    }

    /// A collector whose calls return only once `true` is sent on the returned gate.
    pub(super) fn gated() -> (Arc<Self>, watch::Sender<bool>) {
        let (open, gate) = watch::channel(false);
        let collector = Arc::new(Self {
            frames: Mutex::default(),
            batch_sizes: Mutex::default(),
            gate: Some(gate),
        });
        (collector, open)
    }

    pub(super) fn frame_count(&self) -> usize {
        lock(&self.frames).len()
    }

    pub(super) fn frames(&self) -> Vec<Frame> {
        lock(&self.frames).clone()
    }

    pub(super) fn batch_sizes(&self) -> Vec<usize> {
        lock(&self.batch_sizes).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FrameHandler for Collector {
    fn handle(&self, frames: Vec<Frame>) -> BoxFuture<'_, Handled> {
        Box::pin(async move {
            lock(&self.batch_sizes).push(frames.len());
            lock(&self.frames).extend(frames);
            if let Some(gate) = &self.gate {
                let mut gate = gate.clone();
                let _ = gate.wait_for(|open| *open).await;
            }
            Handled::Delivered
        })
    }
}

/// Polls `condition` every 10 ms; fails the test after 10 s.
pub(super) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(super) fn tcp_config() -> ListenerConfig {
    ListenerConfig::new("tcp://127.0.0.1:0".parse().expect("a valid address"))
}

pub(super) async fn start(config: ListenerConfig, handler: Arc<dyn FrameHandler>) -> (Listener, StopTrigger) {
    let (trigger, stop) = stop_pair();
    let listener = Listener::bind(config, handler, stop)
        .await
        .expect("the listener binds");
    (listener, trigger)
}

pub(super) fn temp_directory(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("semaphore-listener-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).expect("the temporary directory can be made");
    directory
}

/// Whether openssl is here to make certificates. In CI (`CI` set) its absence fails the test, since
/// `.ci/run` installs it; elsewhere the test says SKIPPED and passes.
pub(super) fn openssl_available() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is missing, and .ci/run installs it: the CI set-up is broken"
        );
        eprintln!("SKIPPED: openssl is not installed (apt-get install openssl)");
    }
    found
}

/// A self-signed certificate for `localhost` and its key, as PEM files in `directory`.
pub(super) fn self_signed(directory: &Path, name: &str) -> (PathBuf, PathBuf) {
    let certificate = directory.join(format!("{name}-cert.pem"));
    let key = directory.join(format!("{name}-key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        // rustls refuses a certificate that is both CA and end entity: a plain leaf, trusted as it is.
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    (certificate, key)
}

/// A TLS client trusting `trusted`, presenting `identity` (certificate, key) when given.
pub(super) fn tls_connector(trusted: &Path, identity: Option<(&Path, &Path)>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(trusted).expect("the certificate file opens") {
        roots
            .add(certificate.expect("PEM"))
            .expect("a usable certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the default protocol versions")
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((certificate, key)) => {
            let chain = CertificateDer::pem_file_iter(certificate)
                .expect("the certificate file opens")
                .collect::<Result<Vec<_>, _>>()
                .expect("PEM");
            let key = PrivateKeyDer::from_pem_file(key).expect("a key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("a client identity")
        }
    };
    TlsConnector::from(Arc::new(config))
}

/// Sends `bytes` over TLS to `localhost` at `address` and closes cleanly: close_notify, then reading until
/// the server closes too (unread session tickets would make the close a reset, and a reset can make the
/// server drop what it had not read yet). Returns the client's address, the frames' expected peer.
pub(super) async fn send_tls(connector: &TlsConnector, address: SocketAddr, bytes: &[u8]) -> SocketAddr {
    let tcp = TcpStream::connect(address).await.expect("the listener accepts");
    let local = tcp.local_addr().expect("a local address");
    let name = ServerName::try_from("localhost").expect("a valid name");
    let mut stream = connector
        .connect(name, tcp)
        .await
        .expect("the TLS handshake succeeds");
    stream.write_all(bytes).await.expect("the listener reads");
    stream.shutdown().await.expect("a clean close");
    let mut discard = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut discard)).await;
    local
}
