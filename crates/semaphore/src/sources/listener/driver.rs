//! Binding a listener and running it until stop: [`Listener::bind`] opens the socket now (so a taken port
//! fails the start, naming it), logs the bound address and spawns the loop of its transport.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::shutdown::Stop;
use crate::sources::listener::address::{ListenAddress, Transport};
use crate::sources::listener::config::ListenerConfig;
use crate::sources::listener::frame::{Frame, FrameHandler, Handled};
use crate::sources::listener::framing::FramerOutput;
use crate::sources::listener::stats::ListenerStats;
use crate::sources::listener::tls::{self, TlsSetupError};
use crate::sources::listener::{tcp, udp};

/// Why a listener did not start. Each variant names the `listen` address.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("cannot listen on {listen}: {source}{hint}")]
    Bind {
        listen: ListenAddress,
        source: std::io::Error,
        /// What to do about it, when the cause is known (empty otherwise).
        hint: &'static str,
    },
    #[error("cannot set the receive buffer of {listen} to {bytes} bytes: {source}")]
    ReceiveBuffer {
        listen: ListenAddress,
        bytes: usize,
        source: std::io::Error,
    },
    #[error("{listen}: TLS needs a certificate and a key")]
    TlsFilesMissing { listen: ListenAddress },
    #[error("{listen}: a TLS certificate and key are only used with tls://")]
    TlsFilesUnused { listen: ListenAddress },
    #[error("{listen}: {source}")]
    Tls {
        listen: ListenAddress,
        source: TlsSetupError,
    },
}

/// A running listener: its bound address, its counters, and the task that ends after stop.
#[derive(Debug)]
pub struct Listener {
    bound: ListenAddress,
    stats: Arc<ListenerStats>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Binds `config.listen` and starts serving it in a task of its own (instrumented with the caller's span,
    /// so its log lines carry the owning component). Frames go to `handler`; everything stops with `stop`.
    pub async fn bind(
        config: ListenerConfig,
        handler: Arc<dyn FrameHandler>,
        stop: Stop,
    ) -> Result<Self, ListenerError> {
        let listen = config.listen;
        let tls = tls_acceptor(&config)?;
        let stats = Arc::new(ListenerStats::default());
        let context = Arc::new(Context {
            config,
            handler,
            stats: stats.clone(),
            stop,
        });
        let (bound, task) = match listen.transport {
            Transport::Udp => {
                let socket = udp::bind(&context.config).await?;
                let bound = socket.local_addr().map_err(|source| bind_error(listen, source))?;
                (bound, tokio::spawn(udp::run(socket, context).in_current_span()))
            }
            Transport::Tcp | Transport::Tls | Transport::Relp => {
                let listener = tcp::bind(&context.config)?;
                let bound = listener
                    .local_addr()
                    .map_err(|source| bind_error(listen, source))?;
                (
                    bound,
                    tokio::spawn(tcp::run(listener, tls, context).in_current_span()),
                )
            }
        };
        let bound = ListenAddress {
            transport: listen.transport,
            address: bound,
        };
        tracing::info!(listen = %bound, "Listening.");
        Ok(Self { bound, stats, task })
    }

    /// The address actually bound (with the port the kernel chose for port 0).
    pub fn local_address(&self) -> SocketAddr {
        self.bound.address
    }

    /// The bound address with its transport, as `tcp://127.0.0.1:40123`.
    pub fn listen_address(&self) -> ListenAddress {
        self.bound
    }

    pub fn stats(&self) -> &Arc<ListenerStats> {
        &self.stats
    }

    /// Completes once the listener stopped: no longer accepting or receiving, every connection closed, every
    /// handler call it made returned.
    pub async fn wait(self) {
        if let Err(error) = self.task.await {
            tracing::error!(listen = %self.bound, %error, "A listener ended abnormally.");
        }
    }

    /// The listener's task, for an owner that aborts what outlives its grace period; aborting it closes the
    /// connections too.
    pub fn into_task(self) -> JoinHandle<()> {
        self.task
    }
}

/// What a listener's tasks share.
pub(super) struct Context {
    pub(super) config: ListenerConfig,
    pub(super) handler: Arc<dyn FrameHandler>,
    pub(super) stats: Arc<ListenerStats>,
    pub(super) stop: Stop,
}

impl Context {
    /// Hands a framer's output to the handler (when it holds frames) and returns once the handler did.
    pub(super) async fn deliver(&self, output: FramerOutput, peer: SocketAddr) -> Handled {
        self.stats.record_framing(&output);
        if output.frames.is_empty() {
            return Handled::Delivered;
        }
        let received_at = chrono::Utc::now();
        let transport = self.config.listen.transport;
        let frames: Vec<Frame> = output
            .frames
            .into_iter()
            .map(|raw| Frame {
                bytes: raw.bytes,
                peer,
                transport,
                truncated: raw.truncated,
                received_at,
            })
            .collect();
        self.deliver_frames(frames).await
    }

    /// Hands frames to the handler and returns what it said; no frames are delivered as they are.
    pub(super) async fn deliver_frames(&self, frames: Vec<Frame>) -> Handled {
        if frames.is_empty() {
            return Handled::Delivered;
        }
        self.stats.frames.add(frames.len() as u64);
        self.handler.handle(frames).await
    }
}

pub(crate) fn bind_error(listen: ListenAddress, source: std::io::Error) -> ListenerError {
    let hint = match source.kind() {
        // Syslog's own ports (514, 601, 6514) are below 1024, which only root or the capability may bind.
        std::io::ErrorKind::PermissionDenied if listen.address.port() < 1024 => {
            " (a port below 1024 needs CAP_NET_BIND_SERVICE: `sudo setcap cap_net_bind_service=+ep` on the \
             binary, or AmbientCapabilities=CAP_NET_BIND_SERVICE under systemd; or listen on a port above 1023)"
        }
        std::io::ErrorKind::AddrInUse => {
            " (something listens there already: another program, or another `listen` of this config on the \
             same port; pick another port, or stop it)"
        }
        _ => "",
    };
    ListenerError::Bind { listen, source, hint }
}

/// The TLS acceptor for `tls://` (reading the files now), `None` for the others; TLS files given to a plain
/// transport are refused rather than silently ignored.
fn tls_acceptor(config: &ListenerConfig) -> Result<Option<TlsAcceptor>, ListenerError> {
    let listen = config.listen;
    match (listen.transport, &config.tls) {
        (Transport::Tls, Some(files)) => {
            let server_config =
                tls::server_config(files).map_err(|source| ListenerError::Tls { listen, source })?;
            Ok(Some(TlsAcceptor::from(server_config)))
        }
        (Transport::Tls, None) => Err(ListenerError::TlsFilesMissing { listen }),
        (Transport::Udp | Transport::Tcp | Transport::Relp, Some(_)) => {
            Err(ListenerError::TlsFilesUnused { listen })
        }
        (Transport::Udp | Transport::Tcp | Transport::Relp, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(listen: &str, kind: std::io::ErrorKind) -> String {
        bind_error(listen.parse().unwrap(), std::io::Error::from(kind)).to_string()
    }

    #[test]
    fn a_refused_bind_says_how_to_fix_it() {
        let privileged = refused("udp://0.0.0.0:514", std::io::ErrorKind::PermissionDenied);
        assert!(
            privileged.starts_with("cannot listen on udp://0.0.0.0:514: "),
            "{privileged}"
        );
        assert!(privileged.contains("CAP_NET_BIND_SERVICE"), "{privileged}");
        let taken = refused("tcp://127.0.0.1:5514", std::io::ErrorKind::AddrInUse);
        assert!(taken.contains("something listens there already"), "{taken}");
        let unprivileged = refused("tcp://127.0.0.1:5514", std::io::ErrorKind::PermissionDenied);
        assert!(!unprivileged.contains("CAP_NET_BIND_SERVICE"), "{unprivileged}");
        let other = refused("tcp://127.0.0.1:5514", std::io::ErrorKind::Other);
        assert!(!other.contains('('), "{other}");
    }
}
