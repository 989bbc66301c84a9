//! `[[sources.snmp_traps]]` (issue 14): SNMP notifications received over UDP into Kafka as `snmp.trap/1`
//! records: v1 traps, v2c traps and informs, v3 traps and informs (USM users from the config, pass phrases
//! from the environment).
//!
//! **Informs are acknowledged only after Kafka accepted the record** ([`informs`]): their batch is published
//! (never spooled) and only then answered, so an inform is never lost across a crash; its sender holds it
//! until then, sending copies, which are not published again ([`retransmission`]). Traps, which no sender
//! sends twice, go through the spool while Kafka is away, as syslog's UDP lines do.
//!
//! **Order per device is kept for traps, not for informs.** Traps go through one queue, in the order they
//! came. Informs are acknowledged one by one, each batch in a task of its own, so a device's informs may
//! reach Kafka out of order among themselves and among its traps: no simple fix, since an inform waits for
//! Kafka's acknowledgement and a trap does not (it may be spooled). A consumer that needs the order uses
//! the records' `sysUpTimeSeconds` (the sender's clock) or `ts` (ours, at arrival).
//!
//! One concept per file: [`config`] and [`user_config`] (the table and its users), [`setup`] (secrets from the
//! environment, our engine, the running source), [`engine`] (our engine ID and boots, kept in the data
//! directory), [`users`] (the users' keys, localized per engine), [`decode`] (a datagram → a notification, a
//! Report or a refusal, pure) with `v3` (USM: discovery, time window, the sender's engine) and `report` (our
//! Reports), [`notification`], [`convert`] (a notification → its record), [`error`] (why a datagram was
//! refused, and its metric label), [`warnings`] (logging refusals once a minute per sender), [`report_limit`]
//! (a few Reports a second per address), [`retransmission`] (copies of an inform, and the bytes informs
//! hold), [`informs`] (publish, then answer) and [`source`] (the socket and its loop).

pub mod config;
pub mod convert;
pub mod decode;
pub mod engine;
pub mod error;
pub mod informs;
pub mod notification;
#[cfg(test)]
mod property_tests;
mod report;
pub mod report_limit;
pub mod retransmission;
pub mod setup;
pub mod source;
#[cfg(test)]
mod test_support;
pub mod user_config;
pub mod users;
mod v3;
pub mod warnings;

pub use config::{SNMP_TRAPS_TOPIC, SnmpTrapsSettings, SnmpTrapsSourceFile};
pub use decode::{Datagram, Outcome, TrapDecoder};
pub use error::TrapError;
pub use setup::TrapSetupError;
