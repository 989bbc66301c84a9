//! The records semaphore writes, one type per file, each with a versioned JSON Schema in `schemas/`, and
//! [`registry`], the one list of them: each kind's schema name and version, `semaphore-schema` header value,
//! JSON Schema file, default key and decoder.
//!
//! **Architecture Invariant:** records know nothing about Kafka or syslog; [`encoded`] turns one into bytes,
//! a key, a timestamp and headers, and only `outputs/*` puts those on a wire.
//!
//! Adding a record type: its module here (the type and its [`RecordKind`] impl), its JSON Schema under
//! `schemas/`, and its line in [`registry`]'s `record_kinds!`.

pub mod alert;
pub mod clients;
pub mod device;
pub mod encoded;
pub mod generated;
pub mod key;
pub mod registry;
pub mod snmp_interface;
pub mod snmp_row;
pub mod snmp_system;
pub mod snmp_trap;
pub mod syslog;
pub mod uplink;

pub use alert::{AlertEvent, AlertStatus, SnmpAlert, SyslogAlert};
pub use clients::ClientsRecord;
pub use encoded::EncodedRecord;
pub use generated::GeneratedRecord;
pub use key::KeyStrategy;
pub use registry::{Decoded, RECORD_KINDS, RecordDescriptor, RecordKind};
pub use snmp_interface::{SnmpInterfaceRecord, SnmpRateGap};
pub use snmp_row::SnmpRowRecord;
pub use snmp_system::SnmpSystemRecord;
pub use snmp_trap::{SnmpTrapPdu, SnmpTrapRecord, SnmpTrapVersion, SnmpVarbind};
pub use syslog::{SyslogRecord, SyslogTimeSource, SyslogTransport};
pub use uplink::UplinkRecord;
