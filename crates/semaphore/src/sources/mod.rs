//! Sources: what semaphore reads. Today the Meraki Dashboard API, three ways:
//! - [`meraki_uplinks`]: org-wide loss and latency, one call per organization per window (the default).
//! - [`meraki_history`]: per-device loss/latency history (the original scripts' way; jitter and goodput).
//! - [`meraki_clients`]: the clients of every network, with the original's filter file ([`client_filter`]).
//!
//! And [`generator`]: synthetic, numbered records at a steady rate, for trying a pipeline and checking
//! delivery (it publishes as the push sources will, through the Kafka output's spool).
//!
//! And [`syslog`]: a push source, syslog received over UDP, TCP or TLS ([`listener`]) and parsed (RFC 5424,
//! RFC 3164, Cisco, Junos, Arista, Meraki), published as the generator does.
//!
//! And [`snmp`]: its wire layer ([`snmp::wire`]), SNMP v1, v2c and v3 (USM) to and from bytes, and on it the
//! `[[sources.snmp_traps]]` receiver ([`snmp::traps`]: traps and informs over UDP, an inform answered only
//! once Kafka has its record) and the `[[sources.snmp]]` poller ([`snmp::poller`]: interface counters and
//! rates, the system group, configured scalars and tables), which reuses [`cycles`].
//!
//! Every kind has the same shape ([`component`]: its table, its validated config, `build`) and one line in
//! [`registry`], the list of kinds.
//!
//! Shared pieces: [`cycles`] (the poll loop of the Meraki and SNMP sources), [`failure`] (why a source ends on its own, with every cause), [`organizations`] (which organizations to poll), [`uplink_filter`],
//! [`windowed`] (the catch-up loop of the windowed sources), [`window`] (which window to read next) and
//! [`window_writer`] (exactly-once writing of a window across restarts).
//!
//! Every source runs inside a `source` span carrying its `id` and `kind` ([`SourceConfig::build`]), so its log
//! lines do not repeat the id.
//!
//! **Architecture Invariant:** a source's watermark moves only after [`crate::outputs::Outputs::publish`]
//! returned, that is after every output acknowledged every record of the window. An output that is down
//! (Kafka unreachable, syslog refusing connections) holds the window back and is retried; nothing is dropped.
//! Standard output closed by its reader (`| head`) is the exception that is not retried: the window stays
//! unacknowledged and the pipeline stops.

pub mod accept_queue;
pub mod client_filter;
pub mod component;
pub mod cycles;
pub mod failure;
pub mod generator;
pub mod listener;
#[cfg(test)]
mod log_capture;
pub mod meraki_clients;
pub mod meraki_history;
pub mod meraki_uplinks;
pub mod organizations;
pub mod registry;
pub mod snmp;
pub mod syslog;
pub mod uplink_filter;
pub mod window;
pub mod window_writer;
pub mod windowed;

pub use component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
pub use failure::{SourceError, SourceFailure};
pub use registry::{SourceConfig, SourcesSection};
