//! How a session authenticates to its agent: a community (SNMPv1, SNMPv2c) or a USM user (SNMPv3). Shared
//! by reference count, since every target of a source usually has the same; `Debug` never shows the community.

use std::fmt;
use std::sync::Arc;

use crate::sources::snmp::wire::{UsmUser, Version};

/// How a session authenticates.
#[derive(Clone)]
pub enum Security {
    /// SNMPv1 or v2c with a community (redacted in Debug). `Version::V3` here is taken as v2c.
    Community { version: Version, community: Arc<[u8]> },
    /// SNMPv3 USM; the user's security level is the session's.
    Usm(Arc<UsmUser>),
}

impl Security {
    /// The SNMP version requests go out in.
    pub fn version(&self) -> Version {
        match self {
            Security::Community {
                version: Version::V1, ..
            } => Version::V1,
            Security::Community { .. } => Version::V2c,
            Security::Usm(_) => Version::V3,
        }
    }
}

impl fmt::Debug for Security {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Security::Community { version, .. } => formatter
                .debug_struct("Community")
                .field("version", version)
                .field("community", &"<redacted>")
                .finish(),
            // UsmUser's Debug shows its name and protocols, never a key.
            Security::Usm(user) => formatter.debug_tuple("Usm").field(user).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_show_the_community() {
        let security = Security::Community {
            version: Version::V2c,
            community: Arc::from(&b"s3cret-community"[..]),
        };
        let shown = format!("{security:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert_eq!(security.version(), Version::V2c);
    }
}
