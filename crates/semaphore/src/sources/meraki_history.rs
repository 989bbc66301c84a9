//! Source `meraki_device_history`: the original scripts' per-device `lossAndLatencyHistory`, one call per
//! appliance per uplink per window, towards one destination IP at a chosen resolution. Costlier than the
//! org-wide source (O(appliances) calls per cycle) but it carries jitter and goodput, and at a coarse
//! resolution it back-fills weeks in few calls. Written window by window from its own watermark.

mod config;

pub use config::{HISTORY_TOPIC, HistoryConfig, HistorySourceFile};

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use futures::StreamExt;
use semaphore_meraki::model::Organization;
use semaphore_meraki::query::{HistoryQuery, TimeWindow, Uplink};
use semaphore_meraki::{Client, MerakiError};

use crate::device_identity::DeviceDirectory;
use crate::inventory::Inventory;
use crate::record::UplinkRecord;
use crate::send_future::{SendFuture, boxed};
use crate::shutdown::Stop;
use crate::sources::cycles::Cycles;
use crate::sources::uplink_filter::UplinkFilter;
use crate::sources::window::{Rules, Window};
use crate::sources::window_writer::WindowWriter;
use crate::sources::windowed::{self, CatchUpError, RecordChunks, WindowReader};
use crate::sources::{SourceFailure, organizations};
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::POLL_ERRORS;

/// Per-device calls in flight at once; the organization's token bucket sets the real pace.
const CALLS_IN_FLIGHT: usize = 8;

#[derive(Clone, Debug)]
pub struct HistorySettings {
    pub id: String,
    pub organizations: Vec<String>,
    pub ip: String,
    pub uplinks: Vec<Uplink>,
    pub resolution: u32,
    /// Longest window asked for in one call (Meraki allows 31 days).
    pub timespan: TimeDelta,
    pub interval: Duration,
    pub initial_lookback: TimeDelta,
    pub filter: UplinkFilter,
}

/// Why an organization's cycle stopped short: already logged, retried next interval, and failing `--once`.
#[derive(Debug, thiserror::Error)]
pub enum HistoryPollError {
    /// The device list, which the calls are made from, could not be read.
    #[error("organization {organization_id}: cannot list the devices")]
    Devices {
        organization_id: String,
        #[source]
        source: MerakiError,
    },
    #[error(transparent)]
    Windows(#[from] CatchUpError),
}

pub struct HistorySource {
    pub settings: HistorySettings,
    pub client: Client,
    pub writer: WindowWriter,
    pub telemetry: Arc<Telemetry>,
    pub once: bool,
    /// Fed each organization's devices at every inventory refresh, when another source names senders.
    pub devices: Option<Arc<DeviceDirectory>>,
}

impl HistorySource {
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
        let inventories: Vec<Inventory> = organizations
            .iter()
            .map(|organization| Inventory::new(organization.id.clone()).feeding(self.devices.clone()))
            .collect();
        let mut cycles = Cycles::new(
            &source,
            self.settings.interval,
            self.once,
            &self.client,
            &self.telemetry,
            &stop,
        );
        while cycles.next().await {
            for (organization, inventory) in organizations.iter().zip(&inventories) {
                if let Err(error) = self.catch_up(organization, inventory, &stop).await {
                    cycles.failed(error);
                }
            }
        }
        cycles.outcome()
    }

    fn rules(&self) -> Rules {
        Rules {
            max_span: self.settings.timespan,
            min_age: TimeDelta::minutes(2),
            step: TimeDelta::seconds(i64::from(self.settings.resolution)),
        }
    }

    /// Lists the organization's devices, then reads and writes its windows until it is caught up or stopped
    /// (see [`windowed::catch_up`]); `Err` says why it stopped short (already logged; retried next interval).
    async fn catch_up(
        &self,
        organization: &Organization,
        inventory: &Inventory,
        stop: &Stop,
    ) -> Result<(), HistoryPollError> {
        let source = self.settings.id.as_str();
        let organization_id = &organization.id;
        // The device list is re-read every cycle: this source's cost is per device anyway.
        if let Err(error) = inventory.refresh(&self.client).await {
            self.telemetry.add(&POLL_ERRORS, &[source], 1.0);
            if organizations::unreachable(&error) {
                self.telemetry.meraki_not_reached(source, &error);
            }
            tracing::warn!(organization = %organization_id, %error, "Cannot list the devices; retrying next interval.");
            return Err(HistoryPollError::Devices {
                organization_id: organization_id.clone(),
                source: error,
            });
        }
        self.telemetry.meraki_reached(source);
        let reader = HistoryReader {
            source: self,
            inventory,
        };
        windowed::catch_up(&reader, &self.writer, organization_id, Utc::now(), stop)
            .await
            .map_err(HistoryPollError::Windows)
    }

    async fn fetch(
        &self,
        organization_id: &str,
        inventory: &Inventory,
        window: Window,
    ) -> Result<Vec<UplinkRecord>, MerakiError> {
        let settings = &self.settings;
        let mut calls = Vec::new();
        for (serial, device) in inventory.uplink_devices() {
            let network_id = device.network_id.as_deref().unwrap_or_default().to_owned();
            let network = inventory.network(&network_id);
            for uplink in &settings.uplinks {
                if settings.filter.keeps(
                    &network_id,
                    network.as_ref(),
                    Some(device.as_ref()),
                    uplink.as_str(),
                    &settings.ip,
                ) {
                    calls.push((
                        serial.clone(),
                        device.clone(),
                        network.clone(),
                        network_id.clone(),
                        *uplink,
                    ));
                }
            }
        }
        let results: Vec<Result<Vec<UplinkRecord>, MerakiError>> = futures::stream::iter(calls)
            // Boxed: see `send_future`.
            .map(|(serial, device, network, network_id, uplink)| {
                boxed(async move {
                    let query = HistoryQuery {
                        ip: settings.ip.clone(),
                        window: TimeWindow::between(window.t0, window.t1),
                        resolution: Some(settings.resolution),
                        uplink: Some(uplink),
                    };
                    let intervals = self
                        .client
                        .device_loss_and_latency_history(&serial, &query)
                        .await?;
                    let ddns = device.ddns.as_deref().cloned().unwrap_or_default();
                    Ok(intervals
                        .into_iter()
                        .map(|interval| UplinkRecord {
                            organization_id: organization_id.to_owned(),
                            network_id: network_id.clone(),
                            network_name: network.as_ref().map(|network| network.name.clone()),
                            serial: serial.clone(),
                            device_name: device.name.clone(),
                            model: Some(device.model.to_string()),
                            tags: device.tags.clone(),
                            uplink: uplink.as_str().to_owned(),
                            ip: settings.ip.clone(),
                            ts: interval.start_time,
                            start_ts: Some(interval.start_time),
                            end_ts: Some(interval.end_time),
                            loss_percent: interval.loss_percent,
                            latency_ms: interval.latency_ms,
                            jitter: interval.jitter,
                            goodput: interval.goodput,
                            active_ddns_hostname: ddns.active_ddns_hostname.clone(),
                            ddns_hostname_wan1: ddns.ddns_hostname_wan1.clone(),
                            ddns_hostname_wan2: ddns.ddns_hostname_wan2.clone(),
                        })
                        .collect())
                })
            })
            .buffer_unordered(CALLS_IN_FLIGHT)
            .collect()
            .await;
        let mut records = Vec::new();
        for result in results {
            records.extend(result?);
        }
        Ok(records)
    }
}

/// Reads one organization's windows: a call per appliance and uplink, from the organization's device list.
struct HistoryReader<'a> {
    source: &'a HistorySource,
    inventory: &'a Inventory,
}

impl WindowReader for HistoryReader<'_> {
    const WHAT: &'static str = "the per-device history";

    fn rules(&self) -> Rules {
        self.source.rules()
    }

    fn initial_lookback(&self) -> TimeDelta {
        self.source.settings.initial_lookback
    }

    fn fetch<'a>(
        &'a self,
        organization_id: &'a str,
        window: Window,
    ) -> SendFuture<'a, Result<RecordChunks<'a>, MerakiError>> {
        // Per-device calls come back one device at a time anyway; the window is written as one chunk.
        boxed(async move {
            let records = self.source.fetch(organization_id, self.inventory, window).await?;
            Ok(futures::stream::iter([Ok(records)]).boxed())
        })
    }
}
