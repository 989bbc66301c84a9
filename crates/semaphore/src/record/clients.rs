//! `meraki.network_clients` v1: the clients of one network seen over the poll's timespan, one record per
//! network (keyed by network id, as the original publisher did). Each client is Meraki's client object as
//! sent, plus `organizationId` and `networkName`, plus `fuzzy` scores when the filter file asks for them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Schema name and version, as carried in the `semaphore-schema` header.
pub const CLIENTS_SCHEMA: &str = "meraki.network_clients/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientsRecord {
    pub organization_id: String,
    pub network_id: String,
    pub network_name: Option<String>,
    /// When the clients were read.
    pub ts: DateTime<Utc>,
    /// How far back Meraki looked for clients.
    pub timespan_seconds: u64,
    pub clients: Vec<serde_json::Map<String, serde_json::Value>>,
}
