//! SNMP (issue 14): [`wire`], SNMP's bytes, v1 to v3 with the User-based Security Model, [`mib`], the
//! names semaphore knows without a MIB file, and [`secrets`], the communities and pass phrases read from the
//! environment; the `[[sources.snmp]]` poller and the `[[sources.snmp_traps]]` receiver are built on them.

pub mod client;
pub mod mib;
// The [[sources.snmp]] poller.
pub mod poller;
pub mod secrets;
// `[[sources.snmp_traps]]`: traps and informs received.
pub mod traps;
pub mod wire;
