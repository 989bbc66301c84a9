//! The SNMP manager side the poller uses: a [`Session`] with one agent over tokio UDP, GET and GETBULK walks
//! for SNMPv1, v2c and v3 (USM), built on [`crate::sources::snmp::wire`].
//!
//! - [`session`]: the session and what it keeps between polls; [`security`]: community or USM user;
//!   [`error`]: why a poll failed, with the target, the fix and a metric label.
//! - `exchange`: one request's tries and timeouts, for any `Conversation`: `community` (v1/v2c),
//!   `discovery` and `usm_request` (v3, with `engine`: what is known of the agent).
//! - `walk`: a multi-column walk's bookkeeping, and what a walk answers ([`Walked`]: each column's rows, and
//!   the [`ColumnEnd`] of a column cut short); `socket`: the lazily bound, connected UDP socket; `ids`:
//!   request-ids and msgIDs.
//!
//! The tests run sessions against `test_agent`, an agent written on the wire layer, over loopback.

mod community;
mod discovery;
mod engine;
pub mod error;
mod exchange;
mod ids;
pub mod security;
pub mod session;
mod socket;
#[cfg(test)]
pub(crate) mod test_agent;
#[cfg(test)]
mod tests;
mod usm_request;
mod walk;

pub use error::{PollError, PollErrorKind};
pub use security::Security;
pub use session::{Session, SessionOptions};
pub use walk::{ColumnEnd, Walked};
