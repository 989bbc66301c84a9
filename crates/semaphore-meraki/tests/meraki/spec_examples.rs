//! The client's model types read Meraki's own response examples from the official spec
//! (`../shared/meraki/openapi-subset.json`): what Meraki documents, the client understands.

use semaphore_meraki::model::{
    Device, LossAndLatencyInterval, ManagementInterface, Network, NetworkClient, NetworkDevice, Organization,
    UplinkLossAndLatency, UplinkStatuses,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn spec() -> Value {
    semaphore_meraki_sim::spec::load().unwrap_or_else(|reason| panic!("{reason}"))
}

fn example(spec: &Value, operation_id: &str) -> Value {
    let operation = spec["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|operation| operation["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("{operation_id} is in the subset"));
    operation["responses"]["200"]["example"].clone()
}

fn read<T: DeserializeOwned>(spec: &Value, operation_id: &str) -> T {
    serde_json::from_value(example(spec, operation_id))
        .unwrap_or_else(|error| panic!("{operation_id}: Meraki's example does not fit the model: {error}"))
}

#[test]
fn every_example_reads_into_the_model() {
    let spec = spec();
    let organizations: Vec<Organization> = read(&spec, "getOrganizations");
    assert_eq!(organizations[0].id, "2930418");
    let networks: Vec<Network> = read(&spec, "getOrganizationNetworks");
    assert_eq!(networks[0].tags, ["tag1", "tag2"]);
    let devices: Vec<Device> = read(&spec, "getOrganizationDevices");
    assert_eq!(devices[0].serial, "Q234-ABCD-5678");
    let network_devices: Vec<NetworkDevice> = read(&spec, "getNetworkDevices");
    assert_eq!(network_devices[0].device.model, "MR34");
    assert!(network_devices[0].beacon_id_params.is_some());
    let management: ManagementInterface = read(&spec, "getDeviceManagementInterface");
    assert_eq!(
        management.ddns_hostnames.unwrap().ddns_hostname_wan2.as_deref(),
        Some("mx1-sample-2.dynamic-m.com")
    );
    let history: Vec<LossAndLatencyInterval> = read(&spec, "getDeviceLossAndLatencyHistory");
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].goodput, Some(1493.0));
    let uplinks: Vec<UplinkLossAndLatency> = read(&spec, "getOrganizationDevicesUplinksLossAndLatency");
    assert_eq!(uplinks[0].time_series[0].loss_percent, Some(5.3));
    let appliance_statuses: Vec<UplinkStatuses> = read(&spec, "getOrganizationApplianceUplinkStatuses");
    assert_eq!(appliance_statuses[0].uplinks.len(), 2);
    assert!(appliance_statuses[0].high_availability.is_some());
    let statuses: Vec<UplinkStatuses> = read(&spec, "getOrganizationUplinksStatuses");
    assert_eq!(statuses[0].model, "MX68C");
    // The spec shows one client object for this list operation; the API sends an array of them.
    let client: NetworkClient = read(&spec, "getNetworkClients");
    assert_eq!(client.other["os"], "iOS");
    assert_eq!(client.other["groupPolicy8021x"], "Student_Access");
}
