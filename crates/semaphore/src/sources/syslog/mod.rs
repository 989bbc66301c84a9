//! `[[sources.syslog]]` (issue 13): syslog over `udp://`, `tcp://`, `tls://` and `relp://` into Kafka as
//! `syslog.message/1` records. [`config`] is the table and its validation, `source` the listeners and the
//! handler that publishes what they receive, `convert` one frame → its record, and [`parse`] one received
//! line, whatever its bytes, → a [`parse::ParsedMessage`].

pub mod config;
mod convert;
pub mod parse;
mod source;

pub use config::{RawPolicy, SYSLOG_TOPIC, SyslogSettings, SyslogSourceFile};
pub use source::SyslogSource;
