//! The built `semaphore` binary run as a user runs it, as one test binary (issue 10: each file under
//! `tests/` is its own binary, linked separately). Each module is one area; `support` starts the processes.

mod support;

mod collector;
mod kafka;
mod kafka_sasl_ssl;
mod kafka_tls;
mod meraki_python_sdk;
mod shutdown;
mod simulate_and_check;
mod sinks;
mod snmp_alerts;
mod snmp_poll;
mod snmp_snmpsim;
mod snmp_traps;
mod spool;
mod syslog_corpus;
mod syslog_outage;
mod syslog_relp;
mod syslog_senders;
mod syslog_source;
