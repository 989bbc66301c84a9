//! `meraki.network_clients` v1: the clients of one network seen over the poll's timespan, one record per
//! network (keyed by network id, as the original publisher did). Each client is Meraki's client object as
//! sent, plus `organizationId` and `networkName`, plus `fuzzy` scores when the filter file asks for them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::record::KeyStrategy;
use crate::record::registry::RecordKind;

/// Schema name and version, as carried in the `semaphore-schema` header.
pub const CLIENTS_SCHEMA: &str = <ClientsRecord as RecordKind>::HEADER;

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

impl RecordKind for ClientsRecord {
    const SCHEMA: &'static str = "meraki.network_clients";
    const VERSION: u32 = 1;
    const HEADER: &'static str = "meraki.network_clients/1";
    const JSON_SCHEMA: &'static str = "meraki.network_clients.v1.json";
    /// One record per network, keyed by it, as the original publisher did.
    const DEFAULT_KEY: Option<KeyStrategy> = Some(KeyStrategy::NetworkId);

    fn timestamp_ms(&self) -> i64 {
        self.ts.timestamp_millis()
    }
}

impl ClientsRecord {
    /// The Kafka key under `strategy`; the record has no serial or uplink, so `serial` and `serial/uplink`
    /// key by the network too.
    pub fn key(&self, strategy: &KeyStrategy) -> Option<String> {
        strategy.key(None, None, &self.network_id)
    }
}
