//! Response types of the operations semaphore uses, with Meraki's own (camelCase) field names.
//!
//! The simulator serializes these same types, so client and simulator cannot drift apart; the simulator's tests
//! check the serialized form against Meraki's OpenAPI schemas. Optional fields are skipped when absent, except
//! loss and latency values, which Meraki sends as `null` when an uplink is down: that is data, not an error.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /organizations` item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<OrganizationApi>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licensing: Option<OrganizationLicensing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<OrganizationCloud>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<OrganizationManagement>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationApi {
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationLicensing {
    pub model: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationCloud {
    pub region: OrganizationRegion,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationRegion {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationManagement {
    #[serde(default)]
    pub details: Vec<NameValue>,
}

/// A `{name, value}` pair, as in organization management details and device details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

/// `GET /organizations/{organizationId}/networks` item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    #[serde(default)]
    pub product_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_string: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default)]
    pub is_bound_to_config_template: bool,
}

/// `GET /organizations/{organizationId}/devices` item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    pub serial: String,
    #[serde(default)]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    #[serde(default)]
    pub details: Vec<NameValue>,
}

/// `GET /networks/{networkId}/devices` item (deprecated operation, kept for parity with the original scripts):
/// an organization device plus the fields only this operation returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkDevice {
    #[serde(flatten)]
    pub device: Device,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon_id_params: Option<BeaconIdParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_plan_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeaconIdParams {
    pub uuid: String,
    pub major: u32,
    pub minor: u32,
}

/// `GET /devices/{serial}/managementInterface`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementInterface {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ddns_hostnames: Option<DdnsHostnames>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wan1: Option<WanInterface>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wan2: Option<WanInterface>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DdnsHostnames {
    #[serde(default)]
    pub active_ddns_hostname: Option<String>,
    #[serde(default)]
    pub ddns_hostname_wan1: Option<String>,
    #[serde(default)]
    pub ddns_hostname_wan2: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WanInterface {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wan_enabled: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using_static_ip: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_subnet_mask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_gateway_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_dns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u32>,
}

/// `GET /devices/{serial}/lossAndLatencyHistory` item: one interval of the per-device history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LossAndLatencyInterval {
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub loss_percent: Option<f64>,
    pub latency_ms: Option<f64>,
    pub goodput: Option<f64>,
    pub jitter: Option<f64>,
}

/// `GET /organizations/{organizationId}/devices/uplinksLossAndLatency` item: one uplink's series towards one
/// destination IP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UplinkLossAndLatency {
    pub network_id: String,
    pub serial: String,
    pub uplink: String,
    pub ip: String,
    #[serde(default)]
    pub time_series: Vec<LossAndLatencyPoint>,
}

/// One sample of [`UplinkLossAndLatency`]; `null` loss and latency mean the uplink was down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LossAndLatencyPoint {
    pub ts: DateTime<Utc>,
    pub loss_percent: Option<f64>,
    pub latency_ms: Option<f64>,
}

/// `GET /organizations/{organizationId}/appliance/uplink/statuses` and `.../uplinks/statuses` item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UplinkStatuses {
    pub network_id: String,
    pub serial: String,
    #[serde(default)]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reported_at: Option<DateTime<Utc>>,
    /// Only the appliance-specific operation returns this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_availability: Option<HighAvailability>,
    #[serde(default)]
    pub uplinks: Vec<UplinkStatus>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HighAvailability {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UplinkStatus {
    pub interface: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_assigned_by: Option<String>,
}

/// `GET /networks/{networkId}/clients` item. Fields Meraki adds later are kept in `other`, so a consumer still
/// receives everything Meraki sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkClient {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ClientUsage>,
    /// Everything else Meraki sent for the client (os, vlan, ssid, firstSeen, ...), as sent.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientUsage {
    pub sent: f64,
    pub recv: f64,
}

/// Meraki's error body: `{"errors": ["..."]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_uplink_serializes_nulls() {
        let point = LossAndLatencyPoint {
            ts: "2019-01-31T18:46:13Z".parse().unwrap(),
            loss_percent: None,
            latency_ms: None,
        };
        assert_eq!(
            serde_json::to_string(&point).unwrap(),
            r#"{"ts":"2019-01-31T18:46:13Z","lossPercent":null,"latencyMs":null}"#
        );
    }

    #[test]
    fn client_keeps_unknown_fields() {
        let text = r#"{"id":"k1","mac":"aa","os":"iOS","vlan":100,"somethingNew":{"x":1}}"#;
        let client: NetworkClient = serde_json::from_str(text).unwrap();
        assert_eq!(client.other["os"], "iOS");
        assert_eq!(client.other["vlan"], 100);
        let back: serde_json::Value = serde_json::to_value(&client).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());
    }
}
