//! The Meraki side of the commands: a client built from `--meraki-url` / environment, and the reachability
//! report of `semaphore check`.

use std::time::Duration;

use semaphore_meraki::query::DevicesQuery;
use semaphore_meraki::{ApiKey, BaseUrl, Client, ClientBuilder, MerakiError, MetricsSnapshot};
use serde::Serialize;

use crate::env::{Env, SEMAPHORE_MERAKI_URL};

/// Builds the client: base URL from the flag, else `SEMAPHORE_MERAKI_URL`, else Meraki's global API; key from
/// `MERAKI_DASHBOARD_API_KEY`.
pub fn client(meraki_url: Option<&str>, env: &dyn Env) -> Result<Client, MerakiError> {
    client_builder(meraki_url, env)?
        .timeout(Duration::from_secs(30))
        .build()
}

/// The same settings as [`client`], as a builder (to share a rate budget or set a timeout).
pub fn client_builder(meraki_url: Option<&str>, env: &dyn Env) -> Result<ClientBuilder, MerakiError> {
    let base_url: BaseUrl = match meraki_url
        .map(str::to_owned)
        .or_else(|| env.get(SEMAPHORE_MERAKI_URL))
    {
        Some(text) => text.parse()?,
        None => BaseUrl::default(),
    };
    let api_key = ApiKey::from_lookup(|name| env.get(name))?;
    Ok(Client::builder(api_key).base_url(base_url))
}

/// What `semaphore check` found at Meraki.
#[derive(Debug, Serialize)]
pub struct MerakiReport {
    pub base_url: String,
    pub organizations: Vec<OrganizationReport>,
    pub api: MetricsSnapshot,
}

#[derive(Debug, Serialize)]
pub struct OrganizationReport {
    pub id: String,
    pub name: String,
    pub networks: usize,
    pub devices: usize,
    pub appliances: usize,
}

/// Lists every organization the key can see with its networks and devices, as discovery will.
pub async fn check(client: &Client) -> Result<MerakiReport, MerakiError> {
    let mut organizations = Vec::new();
    for organization in client.organizations().await? {
        let networks = client
            .organization_networks(&organization.id, &Default::default())
            .await?;
        let devices = client
            .organization_devices(&organization.id, &DevicesQuery::default())
            .await?;
        let appliances = devices
            .iter()
            .filter(|device| device.product_type.as_deref() == Some("appliance"))
            .count();
        tracing::info!(organization = %organization.id, networks = networks.len(), devices = devices.len(), "Organization reached.");
        organizations.push(OrganizationReport {
            id: organization.id,
            name: organization.name,
            networks: networks.len(),
            devices: devices.len(),
            appliances,
        });
    }
    Ok(MerakiReport {
        base_url: client.base_url().to_string(),
        organizations,
        api: client.metrics().snapshot(),
    })
}
