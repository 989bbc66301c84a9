//! Sinks: consumer pipelines that read topics through a consumer group and deliver to a destination,
//! committing offsets only after the destination accepted the records ([`runner`]).
//!
//! - [`influxdb`] (line protocol: [`line_protocol`]), [`prometheus`] (exporter), [`webhook`] (Event-Driven
//!   Ansible), [`alerts`] (rules on uplinks: [`alert_rules`]; on syslog lines: [`syslog_alert_rules`] and
//!   [`syslog_alert_evaluator`]; on SNMP traps: [`trap_alert_rules`] and [`trap_alert_evaluator`]; on
//!   polled SNMP interfaces: [`interface_alert_rules`]), [`dashboard`] (live web page);
//! - [`component`]: the shape of a sink kind (its table, its validated config, what it is to the runner);
//!   [`registry`]: the one list of kinds; [`sink`]: accepted batches and delivery errors; [`message`]:
//!   decoding what was read, malformed or not.

pub mod alert_rules;
pub mod alerts;
pub mod arrival_clock;
pub mod component;
pub mod dashboard;
pub mod influxdb;
pub mod interface_alert_rules;
pub mod line_protocol;
pub mod message;
pub mod prometheus;
pub mod registry;
pub mod runner;
pub mod sink;
pub mod syslog_alert_evaluator;
pub mod syslog_alert_rules;
pub mod trap_alert_evaluator;
pub mod trap_alert_rules;
pub mod webhook;
