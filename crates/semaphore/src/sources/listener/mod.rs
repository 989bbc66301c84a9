//! The listener driver push sources share (syslog now; SNMP traps and dial-out telemetry next): bind a
//! `udp://`, `tcp://`, `tls://` or `relp://` address, cut what arrives into [`Frame`]s, and hand them to the
//! source's [`FrameHandler`] in batches, until the [`Stop`](crate::shutdown::Stop) handle says stop.
//!
//! What it guarantees, per transport:
//! - **TCP and TLS push back.** A connection is read again only after the handler's future for its last
//!   read completed. While the handler waits (its outputs are full, Kafka is away) nothing more is read from
//!   that socket, its receive buffer fills, and the sender's TCP window closes: the sender slows down instead
//!   of semaphore buffering without limit. At most one read buffer (16 KiB) per connection is ahead of the
//!   handler.
//! - **RELP acknowledges only what was delivered.** A RELP connection pushes back as TCP does, and answers
//!   each message (in transaction order) only once the handler's future for its batch completed with the
//!   batch delivered ([`Handled`]); a connection that ends before leaves the sender holding what was not
//!   answered, and it sends that again.
//! - **UDP cannot push back.** While the handler waits, datagrams queue in the socket's receive buffer
//!   (`receive_buffer_bytes`, `SO_RCVBUF`) and the kernel drops what does not fit; the listener cannot see
//!   those drops (the kernel counts them, in `/proc/net/udp`). Datagrams already queued are handed over
//!   together, up to `udp_batch` per call.
//! - **One bad peer hurts only itself.** Every connection is its own task: a failed or slow TLS handshake, a
//!   silent or half-open connection (closed after `idle_timeout`), or garbage in the stream never delays the
//!   others. Connections beyond `max_connections` are closed as soon as they are accepted.
//! - **Bad input is counted, never fatal.** Frames longer than `max_frame_bytes` are delivered cut and
//!   flagged; input that cannot be framed is skipped to the next boundary (RELP has none: its connection is
//!   closed, as librelp does); nothing the peer sends can panic the listener. Every such event is in
//!   [`ListenerStats`], and repeated ones are logged sparingly.
//! - **Stop is graceful.** On stop the listener stops accepting (closing its socket) and reading; a handler
//!   call in progress completes first. [`Listener::wait`] returns once every connection has closed.
//!
//! One concept per file: [`address`] (parsing `listen`), [`config`] (the settings and their defaults),
//! [`frame`] (what the handler gets, and what it says back), [`framing`] (newline, octet counting,
//! auto-detection), [`kernel_drops`] (what the kernel dropped for a UDP socket, from `/proc/net/udp`),
//! [`tls`] (the server configuration from PEM files), [`relp`] (RELP's frames, sessions and connections),
//! [`stats`] (the counters), `driver` (bind and the [`Listener`] handle), `udp` and `tcp` (the loops; `tcp`
//! serves TLS too, and accepts RELP's connections).

pub mod address;
pub mod config;
mod driver;
pub mod frame;
pub mod framing;
pub mod kernel_drops;
pub mod relp;
pub mod stats;
mod tcp;
#[cfg(test)]
mod test_support;
pub mod tls;
mod udp;

pub use address::{AddressError, ListenAddress, Transport};
pub use config::ListenerConfig;
pub(crate) use driver::bind_error;
pub use driver::{Listener, ListenerError};
pub use frame::{Frame, FrameHandler, Handled};
pub use framing::{Framer, Framing};
pub use stats::{ListenerStats, ListenerStatsSnapshot};
pub use tls::{TlsFiles, TlsSetupError};
pub(crate) use udp::bind as bind_udp;
