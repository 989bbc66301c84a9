//! What a listener is told: where to listen and the limits that keep one bad sender from hurting the rest.
//! Sources build it from their own validated config (this module reads no file and parses no TOML).

use std::time::Duration;

use crate::sources::listener::address::ListenAddress;
use crate::sources::listener::framing::Framing;
use crate::sources::listener::tls::TlsFiles;

/// A listener's settings; [`ListenerConfig::new`] fills in the defaults below.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerConfig {
    /// `udp://`, `tcp://`, `tls://` or `relp://` with an IP address and a port (0: any free port).
    pub listen: ListenAddress,
    /// Certificate and key (and, for mutual TLS, the client CA): required for `tls://`, refused otherwise.
    pub tls: Option<TlsFiles>,
    /// How TCP and TLS streams are cut into frames; a UDP datagram is one frame as it is.
    pub framing: Framing,
    /// Longer frames are delivered cut to this many bytes and flagged `truncated`.
    pub max_frame_bytes: usize,
    /// TCP/TLS connections open at once; one more is closed as soon as it is accepted, and counted.
    pub max_connections: usize,
    /// A TCP/TLS connection that sends no byte for this long is closed (and a TLS handshake must finish
    /// within it). Time spent waiting for the handler does not count: that wait is ours, not the sender's.
    pub idle_timeout: Duration,
    /// Most datagrams handed to the handler in one call.
    pub udp_batch: usize,
    /// `SO_RCVBUF` of the listening socket (UDP; for TCP, inherited by accepted connections). The kernel's
    /// default when unset; Linux doubles the value asked for and caps it at `net.core.rmem_max`.
    pub receive_buffer_bytes: Option<usize>,
}

impl ListenerConfig {
    pub fn new(listen: ListenAddress) -> Self {
        Self {
            listen,
            tls: None,
            framing: Framing::Auto,
            max_frame_bytes: default_max_frame_bytes(),
            max_connections: default_max_connections(),
            idle_timeout: default_idle_timeout(),
            udp_batch: default_udp_batch(),
            receive_buffer_bytes: None,
        }
    }
}

/// syslog-ng's default `log-msg-size`; RFC 5425 asks TLS receivers to take at least 2 KiB, RFC 6587 8 KiB.
pub const fn default_max_frame_bytes() -> usize {
    65_536
}

/// Half the usual 1024 open-file soft limit, leaving the rest for Kafka connections, the spool and logs.
pub const fn default_max_connections() -> usize {
    512
}

/// Long enough for a quiet device that keeps its connection open, short enough to reclaim connections whose
/// peer vanished without closing (rsyslog and syslog-ng reconnect on their own when closed).
pub const fn default_idle_timeout() -> Duration {
    Duration::from_secs(600)
}

/// Enough datagrams per call to amortize the handler's work at high rates, few enough to keep the latency of
/// one call small.
pub const fn default_udp_batch() -> usize {
    256
}
