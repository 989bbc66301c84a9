//! One method per Meraki operation semaphore uses (the operations of `shared/meraki/openapi-subset.json`).
//!
//! Each method checks its parameters first ([`crate::query`]), so a request Meraki would refuse is never sent,
//! and charges the call to the organization it concerns.

use chrono::Utc;

use crate::client::Client;
use crate::error::MerakiError;
use crate::model::{
    Device, LossAndLatencyInterval, ManagementInterface, Network, NetworkClient, NetworkDevice, Organization,
    UplinkLossAndLatency, UplinkStatuses,
};
use crate::query::{
    ClientsQuery, DevicesQuery, HistoryQuery, NetworksQuery, QueryPairs, RuleViolation, UplinkStatusesQuery,
    UplinksLossAndLatencyQuery,
};
use crate::series_stream::SeriesStream;

impl Client {
    fn checked(
        &self,
        operation: &'static str,
        pairs: Result<QueryPairs, RuleViolation>,
    ) -> Result<QueryPairs, MerakiError> {
        pairs.map_err(|violation| self.refused(Client::invalid(operation, violation)))
    }

    /// `getOrganizations`: the organizations the key can see. Not paginated in v1.42.0; later revisions are,
    /// so a `Link` header is followed when present.
    pub async fn organizations(&self) -> Result<Vec<Organization>, MerakiError> {
        let url = self.endpoint(&["organizations"], &QueryPairs::new());
        self.get_all("getOrganizations", url, None, None).await
    }

    /// `getOrganizationNetworks`, every page.
    pub async fn organization_networks(
        &self,
        organization_id: &str,
        query: &NetworksQuery,
    ) -> Result<Vec<Network>, MerakiError> {
        let operation = "getOrganizationNetworks";
        let pairs = self.checked(operation, query.to_pairs())?;
        let url = self.endpoint(&["organizations", organization_id, "networks"], &pairs);
        let networks: Vec<Network> = self
            .get_all(operation, url, Some(organization_id), query.max_items)
            .await?;
        for network in &networks {
            self.remember_organization(&network.id, organization_id);
        }
        Ok(networks)
    }

    /// `getOrganizationDevices`, every page.
    pub async fn organization_devices(
        &self,
        organization_id: &str,
        query: &DevicesQuery,
    ) -> Result<Vec<Device>, MerakiError> {
        let mut devices = Vec::new();
        self.organization_devices_by_page(organization_id, query, |page| devices.extend(page))
            .await?;
        Ok(devices)
    }

    /// As [`Client::organization_devices`], each page handed to `each` as it is read: a large organization's
    /// devices (50,000 appliances are 50 pages) are never all held as [`Device`] values at once.
    pub async fn organization_devices_by_page(
        &self,
        organization_id: &str,
        query: &DevicesQuery,
        mut each: impl FnMut(Vec<Device>),
    ) -> Result<(), MerakiError> {
        let operation = "getOrganizationDevices";
        let pairs = self.checked(operation, query.to_pairs())?;
        let url = self.endpoint(&["organizations", organization_id, "devices"], &pairs);
        self.for_each_page(
            operation,
            url,
            Some(organization_id),
            query.max_items,
            |page: Vec<Device>| {
                for device in &page {
                    self.remember_organization(&device.serial, organization_id);
                }
                each(page);
            },
        )
        .await
    }

    /// `getNetworkDevices`. Deprecated by Meraki in favour of [`Client::organization_devices`] with
    /// `network_ids`; kept for parity with the original scripts.
    pub async fn network_devices(&self, network_id: &str) -> Result<Vec<NetworkDevice>, MerakiError> {
        let url = self.endpoint(&["networks", network_id, "devices"], &QueryPairs::new());
        let organization_id = self.organization_of(network_id);
        self.get("getNetworkDevices", url, organization_id.as_deref())
            .await
    }

    /// `getDeviceManagementInterface`: WAN settings and the DDNS host names.
    pub async fn device_management_interface(
        &self,
        serial: &str,
    ) -> Result<ManagementInterface, MerakiError> {
        let url = self.endpoint(&["devices", serial, "managementInterface"], &QueryPairs::new());
        let organization_id = self.organization_of(serial);
        self.get("getDeviceManagementInterface", url, organization_id.as_deref())
            .await
    }

    /// `getDeviceLossAndLatencyHistory`: one uplink of one device towards one destination IP.
    pub async fn device_loss_and_latency_history(
        &self,
        serial: &str,
        query: &HistoryQuery,
    ) -> Result<Vec<LossAndLatencyInterval>, MerakiError> {
        let operation = "getDeviceLossAndLatencyHistory";
        let pairs = self.checked(operation, query.to_pairs(Utc::now()))?;
        let url = self.endpoint(&["devices", serial, "lossAndLatencyHistory"], &pairs);
        let organization_id = self.organization_of(serial);
        self.get(operation, url, organization_id.as_deref()).await
    }

    /// `getOrganizationDevicesUplinksLossAndLatency`: every MX uplink of the organization in one call.
    pub async fn organization_uplinks_loss_and_latency(
        &self,
        organization_id: &str,
        query: &UplinksLossAndLatencyQuery,
    ) -> Result<Vec<UplinkLossAndLatency>, MerakiError> {
        let mut stream = self
            .organization_uplinks_loss_and_latency_stream(organization_id, query)
            .await?;
        let mut series = Vec::new();
        while let Some(chunk) = stream.next_chunk(usize::MAX).await? {
            series.extend(chunk);
        }
        Ok(series)
    }

    /// As [`Client::organization_uplinks_loss_and_latency`], the answer read as it arrives, a chunk at a time
    /// ([`SeriesStream`]): what a large organization's window costs in memory is one chunk, not the answer.
    /// Retried as any call until Meraki answers 2xx; an error while reading the body ends the stream.
    pub async fn organization_uplinks_loss_and_latency_stream(
        &self,
        organization_id: &str,
        query: &UplinksLossAndLatencyQuery,
    ) -> Result<SeriesStream, MerakiError> {
        let operation = "getOrganizationDevicesUplinksLossAndLatency";
        let pairs = self.checked(operation, query.to_pairs(Utc::now()))?;
        let url = self.endpoint(
            &[
                "organizations",
                organization_id,
                "devices",
                "uplinksLossAndLatency",
            ],
            &pairs,
        );
        let response = self.get_streamed(operation, &url, Some(organization_id)).await?;
        Ok(SeriesStream::new(self.clone(), url, response))
    }

    /// `getOrganizationApplianceUplinkStatuses`, every page.
    pub async fn organization_appliance_uplink_statuses(
        &self,
        organization_id: &str,
        query: &UplinkStatusesQuery,
    ) -> Result<Vec<UplinkStatuses>, MerakiError> {
        let operation = "getOrganizationApplianceUplinkStatuses";
        let pairs = self.checked(operation, query.to_pairs())?;
        let url = self.endpoint(
            &[
                "organizations",
                organization_id,
                "appliance",
                "uplink",
                "statuses",
            ],
            &pairs,
        );
        self.get_all(operation, url, Some(organization_id), query.max_items)
            .await
    }

    /// `getOrganizationUplinksStatuses` (MX, MG and Z devices), every page.
    pub async fn organization_uplinks_statuses(
        &self,
        organization_id: &str,
        query: &UplinkStatusesQuery,
    ) -> Result<Vec<UplinkStatuses>, MerakiError> {
        let operation = "getOrganizationUplinksStatuses";
        let pairs = self.checked(operation, query.to_pairs())?;
        let url = self.endpoint(&["organizations", organization_id, "uplinks", "statuses"], &pairs);
        self.get_all(operation, url, Some(organization_id), query.max_items)
            .await
    }

    /// `getNetworkClients`, every page (Meraki's default page is only 10 clients: set `per_page`).
    pub async fn network_clients(
        &self,
        network_id: &str,
        query: &ClientsQuery,
    ) -> Result<Vec<NetworkClient>, MerakiError> {
        let operation = "getNetworkClients";
        let pairs = self.checked(operation, query.to_pairs(Utc::now()))?;
        let url = self.endpoint(&["networks", network_id, "clients"], &pairs);
        let organization_id = self.organization_of(network_id);
        self.get_all(operation, url, organization_id.as_deref(), query.max_items)
            .await
    }
}
