//! SNMP (issue 14). Today only [`wire`]: SNMP's bytes, v1 to v3 with the User-based Security Model, on which
//! the `[[sources.snmp]]` poller and the `[[sources.snmp_traps]]` receiver will be built.

pub mod wire;
