//! A notification as decoded ([`Notification`]): a v1 Trap, an SNMPv2-Trap or an InformRequest that passed
//! the source's checks (community, user, digest), with who sent it and how; [`super::convert`] makes its
//! record.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use crate::record::{SnmpTrapPdu, SnmpTrapVersion};
use crate::sources::snmp::wire::{AnyPdu, PduType, Version};

#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub sender: SocketAddr,
    pub received_at: DateTime<Utc>,
    pub version: Version,
    /// The SNMPv3 user; `None` for v1 and v2c.
    pub security_name: Option<String>,
    /// The SNMPv3 context name; `None` for v1 and v2c.
    pub context_name: Option<String>,
    /// SNMPv1's Trap, or an SNMPv2-Trap or InformRequest.
    pub pdu: AnyPdu,
}

impl Notification {
    pub fn pdu_kind(&self) -> SnmpTrapPdu {
        if self.pdu.pdu_type() == PduType::Inform {
            SnmpTrapPdu::Inform
        } else {
            SnmpTrapPdu::Trap
        }
    }

    pub fn record_version(&self) -> SnmpTrapVersion {
        match self.version {
            Version::V1 => SnmpTrapVersion::V1,
            Version::V2c => SnmpTrapVersion::V2c,
            Version::V3 => SnmpTrapVersion::V3,
        }
    }
}
