//! `relp://`: rsyslog's Reliable Event Logging Protocol, the server side as librelp runs it, in three parts:
//! [`frame`] (the wire format: frames parsed from a byte stream and encoded), [`session`] (the protocol's
//! rules: `open` first, transaction numbers without a gap, `syslog`, `close`) and `connection` (one
//! connection's loop: read, hand the messages over, and acknowledge them only once they were delivered).
//!
//! TLS for RELP (librelp's `tls="on"`) is not served yet; a `relp://` listener is plain TCP.

mod connection;
pub mod frame;
pub mod session;

pub(super) use connection::serve;
