//! The records semaphore writes, one type per file, each with a versioned JSON Schema in `schemas/`.
//!
//! **Architecture Invariant:** records know nothing about Kafka or syslog; [`encoded`] turns one into bytes,
//! a key, a timestamp and headers, and only `outputs/*` puts those on a wire.

pub mod alert;
pub mod clients;
pub mod encoded;
pub mod key;
pub mod uplink;

pub use alert::{AlertEvent, AlertStatus};
pub use clients::ClientsRecord;
pub use encoded::EncodedRecord;
pub use key::KeyStrategy;
pub use uplink::UplinkRecord;
