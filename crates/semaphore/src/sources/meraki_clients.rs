//! Source `meraki_clients`: the original clients publisher. Every interval, the clients of every network
//! (over `timespan`, all pages), each enriched with `organizationId` and `networkName`, filtered and scored
//! by the filter file, written as one record per network keyed by network id.
//!
//! A snapshot source: no watermark (each poll is a fresh picture of the last `timespan`).

mod config;

pub use config::{CLIENTS_TOPIC, ClientsSourceFile};

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use semaphore_meraki::query::ClientsQuery;
use semaphore_meraki::{Client, MerakiError};
use serde_json::Value;

use crate::device_identity::DeviceDirectory;
use crate::inventory::Inventory;
use crate::outputs::Outputs;
use crate::record::{ClientsRecord, EncodedRecord, KeyStrategy};
use crate::send_future::boxed;
use crate::shutdown::Stop;
use crate::sources::client_filter::ClientFilter;
use crate::sources::cycles::Cycles;
use crate::sources::failure::ErrorList;
use crate::sources::uplink_filter::NetworkMatcher;
use crate::sources::{SourceFailure, organizations};
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::POLL_ERRORS;

/// Networks read at once; the organization's token bucket sets the real pace.
const NETWORKS_IN_FLIGHT: usize = 4;

/// What an organization's poll could not do: already logged, retried next interval, and failing `--once`.
#[derive(Debug, thiserror::Error)]
pub enum ClientsPollError {
    /// Its networks could not be listed, so none was read.
    #[error("organization {organization_id}: cannot list the networks")]
    Networks {
        organization_id: String,
        #[source]
        source: MerakiError,
    },
    /// Some networks' clients could not be read; the others were published.
    #[error("organization {organization_id}: cannot read the clients of {} networks", .unread.0.len())]
    Clients {
        organization_id: String,
        #[source]
        unread: ErrorList<NetworkClientsError>,
    },
}

/// One network whose clients could not be read.
#[derive(Debug, thiserror::Error)]
#[error("network {network_id}")]
pub struct NetworkClientsError {
    pub network_id: String,
    #[source]
    pub source: MerakiError,
}

#[derive(Clone, Debug)]
pub struct ClientsSettings {
    pub id: String,
    pub organizations: Vec<String>,
    pub networks: Vec<NetworkMatcher>,
    pub interval: Duration,
    pub timespan: Duration,
    pub per_page: u32,
    pub filter: Option<ClientFilter>,
    pub topic: String,
    pub key: KeyStrategy,
}

pub struct ClientsSource {
    pub settings: ClientsSettings,
    pub client: Client,
    pub outputs: Arc<Outputs>,
    pub telemetry: Arc<Telemetry>,
    pub once: bool,
    /// Fed each organization's devices at every poll, when another source names senders.
    pub devices: Option<Arc<DeviceDirectory>>,
}

impl ClientsSource {
    pub async fn run(self, stop: Stop) -> Result<(), SourceFailure> {
        let source = self.settings.id.clone();
        self.telemetry.register_source_clients(&source, [&self.client]);
        let Some(organizations) = organizations::discover(
            &self.client,
            &self.settings.organizations,
            &source,
            &self.telemetry,
            &stop,
            self.once,
        )
        .await
        .map_err(|error| SourceFailure::new(&source, error))?
        else {
            return Ok(());
        };
        let mut cycles = Cycles::new(
            &source,
            self.settings.interval,
            self.once,
            &self.client,
            &self.telemetry,
            &stop,
        );
        while cycles.next().await {
            for organization in &organizations {
                if stop.is_stopped() {
                    break;
                }
                if let Err(error) = self.poll_organization(&organization.id).await {
                    cycles.failed(error);
                }
            }
        }
        cycles.outcome()
    }

    /// Publishes a record per network; `Err` names what could not be read (already logged; retried next
    /// interval). The networks that were read are published either way.
    async fn poll_organization(&self, organization_id: &str) -> Result<(), ClientsPollError> {
        let settings = &self.settings;
        let inventory = Inventory::new(organization_id).feeding(self.devices.clone());
        if let Err(error) = inventory.refresh(&self.client).await {
            self.telemetry.add(&POLL_ERRORS, &[settings.id.as_str()], 1.0);
            if organizations::unreachable(&error) {
                self.telemetry.meraki_not_reached(&settings.id, &error);
            }
            tracing::warn!(organization = %organization_id, %error, "Cannot list the networks; retrying next interval.");
            return Err(ClientsPollError::Networks {
                organization_id: organization_id.to_owned(),
                source: error,
            });
        }
        self.telemetry.meraki_reached(&settings.id);
        let networks: Vec<_> = inventory
            .networks()
            .into_iter()
            .filter(|(id, network)| {
                settings.networks.is_empty()
                    || settings
                        .networks
                        .iter()
                        .any(|matcher| matcher.matches(id, Some(network)))
            })
            .collect();
        let polled_at = Utc::now();
        let records: Vec<Result<EncodedRecord, NetworkClientsError>> = futures::stream::iter(networks)
            // Boxed: see `send_future`.
            .map(|(network_id, network)| boxed(async move {
                let query = ClientsQuery {
                    timespan: Some(settings.timespan),
                    per_page: Some(settings.per_page),
                    ..Default::default()
                };
                let clients = match self.client.network_clients(&network_id, &query).await {
                    Ok(clients) => clients,
                    Err(error) => {
                        self.telemetry.add(&POLL_ERRORS, &[settings.id.as_str()], 1.0);
                        tracing::warn!(network = %network_id, %error, "Cannot read the network's clients; retrying next interval.");
                        return Err(NetworkClientsError {
                            network_id,
                            source: error,
                        });
                    }
                };
                let mut kept = Vec::new();
                for client in clients {
                    let Ok(Value::Object(mut fields)) = serde_json::to_value(&client) else {
                        continue;
                    };
                    fields.insert("organizationId".into(), organization_id.into());
                    fields.insert("networkName".into(), network.name.clone().into());
                    if let Some(filter) = &settings.filter {
                        if !filter.keeps(&fields) {
                            continue;
                        }
                        filter.score(&mut fields);
                    }
                    kept.push(fields);
                }
                let record = ClientsRecord {
                    organization_id: organization_id.to_owned(),
                    network_id: network_id.clone(),
                    network_name: Some(network.name.clone()),
                    ts: polled_at,
                    timespan_seconds: settings.timespan.as_secs(),
                    clients: kept,
                };
                Ok(EncodedRecord::clients(&record, &settings.key, &settings.id))
            }))
            .buffer_unordered(NETWORKS_IN_FLIGHT)
            .collect()
            .await;
        let (records, unread): (Vec<_>, Vec<_>) = records.into_iter().partition(Result::is_ok);
        let records: Vec<EncodedRecord> = records.into_iter().filter_map(Result::ok).collect();
        // A closed stdout needs nothing more here: the pipeline stops on it (see `Outputs::stdout_closed`),
        // and clients records have no watermark to hold back.
        let _ = self.outputs.publish(&settings.topic, &records).await;
        let unread: Vec<NetworkClientsError> = unread.into_iter().filter_map(Result::err).collect();
        if unread.is_empty() {
            return Ok(());
        }
        Err(ClientsPollError::Clients {
            organization_id: organization_id.to_owned(),
            unread: ErrorList(unread),
        })
    }
}
