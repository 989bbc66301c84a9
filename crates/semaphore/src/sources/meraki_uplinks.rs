//! Source `meraki_uplinks`: the org-wide `uplinksLossAndLatency` call, one per organization per window
//! (O(organizations) calls per cycle, whatever the number of appliances), enriched from the cached
//! inventory, filtered, and written window by window from a persisted watermark (see [`WindowWriter`]).
//!
//! Each tick, every organization catches up to "2 minutes ago": normally one window of about one interval;
//! after downtime, the gap is read back 5 minutes at a time within the rate budget, with progress logged.

mod config;

pub use config::{UPLINKS_TOPIC, UplinksConfig, UplinksSourceFile};

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use futures::StreamExt;
use semaphore_meraki::model::{LossAndLatencyPoint, Organization, UplinkLossAndLatency};
use semaphore_meraki::query::{TimeWindow, Uplink, UplinksLossAndLatencyQuery};
use semaphore_meraki::{Client, MerakiError, SeriesStream};
use tracing::Instrument;

use crate::device_identity::DeviceDirectory;
use crate::inventory::Inventory;
use crate::record::UplinkRecord;
use crate::send_future::{SendFuture, boxed};
use crate::shutdown::Stop;
use crate::sources::cycles::Cycles;
use crate::sources::uplink_filter::UplinkFilter;
use crate::sources::window::{self, Rules, Window};
use crate::sources::window_writer::WindowWriter;
use crate::sources::windowed::{self, CatchUpError, RecordChunks, WindowReader};
use crate::sources::{SourceFailure, organizations};
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::POLL_ERRORS;

#[derive(Clone, Debug)]
pub struct UplinksSettings {
    pub id: String,
    pub organizations: Vec<String>,
    pub interval: Duration,
    pub inventory_interval: Duration,
    pub initial_lookback: TimeDelta,
    pub filter: UplinkFilter,
    pub ddns: bool,
    /// Management-interface calls per second per organization for DDNS host names.
    pub ddns_per_second: f64,
}

pub struct UplinksSource {
    pub settings: UplinksSettings,
    /// Spends only the org-wide loss/latency calls, so its request count is the cycle's cost.
    pub poll_client: Client,
    /// Organizations, networks, devices and management interfaces.
    pub inventory_client: Client,
    pub writer: WindowWriter,
    pub telemetry: Arc<Telemetry>,
    /// Stop after the first cycle (`publish --once`).
    pub once: bool,
    /// Fed each organization's devices at every inventory refresh, when another source names senders.
    pub devices: Option<Arc<DeviceDirectory>>,
}

impl UplinksSource {
    pub async fn run(self, stop: Stop) -> Result<(), SourceFailure> {
        let source = self.settings.id.clone();
        self.telemetry
            .register_source_clients(&source, [&self.poll_client, &self.inventory_client]);
        let Some(organizations) = organizations::discover(
            &self.inventory_client,
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
        let inventories: Vec<Arc<Inventory>> = organizations
            .iter()
            .map(|organization| {
                let inventory = Inventory::new(organization.id.clone()).feeding(self.devices.clone());
                Arc::new(inventory)
            })
            .collect();
        // In the source's span, as every line the source logs.
        let refresher = tokio::spawn(
            refresh_inventories(
                inventories.clone(),
                self.inventory_client.clone(),
                self.settings.clone(),
                self.telemetry.clone(),
                stop.clone(),
            )
            .in_current_span(),
        );
        let mut cycles = Cycles::new(
            &source,
            self.settings.interval,
            self.once,
            &self.poll_client,
            &self.telemetry,
            &stop,
        );
        while cycles.next().await {
            let caught_up = futures::future::join_all(
                organizations
                    .iter()
                    .zip(&inventories)
                    // Boxed: see `send_future`.
                    .map(|(organization, inventory)| boxed(self.catch_up(organization, inventory, &stop))),
            )
            .await;
            caught_up
                .into_iter()
                .filter_map(Result::err)
                .for_each(|error| cycles.failed(error));
        }
        refresher.abort();
        cycles.outcome()
    }

    /// Loads the organization's inventory if it is not yet, then reads and writes its windows until it is
    /// caught up or stopped (see [`windowed::catch_up`]); `Err` says why it stopped short (already logged;
    /// retried next interval).
    async fn catch_up(
        &self,
        organization: &Organization,
        inventory: &Inventory,
        stop: &Stop,
    ) -> Result<(), CatchUpError> {
        let organization_id = &organization.id;
        if !inventory.is_loaded()
            && let Err(error) = inventory.refresh(&self.inventory_client).await
        {
            self.telemetry
                .add(&POLL_ERRORS, &[self.settings.id.as_str()], 1.0);
            tracing::warn!(organization = %organization_id, %error, "Cannot read the inventory; polling without names until it can be read.");
        }
        let reader = UplinksReader {
            source: self,
            inventory,
        };
        windowed::catch_up(&reader, &self.writer, organization_id, Utc::now(), stop).await
    }

    async fn fetch(&self, organization_id: &str, window: Window) -> Result<SeriesStream, MerakiError> {
        let filter = &self.settings.filter;
        let query = UplinksLossAndLatencyQuery {
            window: TimeWindow::between(window.t0, window.t1),
            uplink: filter
                .single_uplink()
                .and_then(|uplink| uplink.parse::<Uplink>().ok()),
            ip: filter.single_ip().map(str::to_owned),
        };
        self.poll_client
            .organization_uplinks_loss_and_latency_stream(organization_id, &query)
            .await
    }
}

/// Uplink series read, turned into records and written at a time: a large organization's window (50,000
/// appliances are 100,000 series a minute) is never held whole, as text, records or encoded bytes.
const SERIES_PER_CHUNK: usize = 500;

/// Reads one organization's windows: the org-wide call, enriched from the organization's inventory and
/// filtered.
struct UplinksReader<'a> {
    source: &'a UplinksSource,
    inventory: &'a Inventory,
}

impl WindowReader for UplinksReader<'_> {
    const WHAT: &'static str = "loss and latency";

    fn rules(&self) -> Rules {
        window::ORG_UPLINKS
    }

    fn initial_lookback(&self) -> TimeDelta {
        self.source.settings.initial_lookback
    }

    fn fetch<'a>(
        &'a self,
        organization_id: &'a str,
        window: Window,
    ) -> SendFuture<'a, Result<RecordChunks<'a>, MerakiError>> {
        boxed(async move {
            let series = self.source.fetch(organization_id, window).await?;
            let filter = &self.source.settings.filter;
            let chunks = futures::stream::try_unfold(series, move |mut series| async move {
                let chunk = series.next_chunk(SERIES_PER_CHUNK).await?;
                let records = |chunk| to_records(organization_id, chunk, window, self.inventory, filter);
                Ok::<_, MerakiError>(chunk.map(|chunk| (records(chunk), series)))
            });
            Ok(chunks.boxed())
        })
    }
}

/// One record per sample inside `window` (Meraki answers at least 5 minutes, more than a window of one
/// interval), enriched and filtered.
fn to_records(
    organization_id: &str,
    series: Vec<UplinkLossAndLatency>,
    window: Window,
    inventory: &Inventory,
    filter: &UplinkFilter,
) -> Vec<UplinkRecord> {
    let mut records = Vec::new();
    for uplink in series {
        let network = inventory.network(&uplink.network_id);
        let device = inventory.device(&uplink.serial);
        if !filter.keeps(
            &uplink.network_id,
            network.as_ref(),
            device.as_deref(),
            &uplink.uplink,
            &uplink.ip,
        ) {
            continue;
        }
        let ddns = device
            .as_ref()
            .and_then(|device| device.ddns.as_deref().cloned())
            .unwrap_or_default();
        let inside = |point: &LossAndLatencyPoint| point.ts >= window.t0 && point.ts < window.t1;
        for point in uplink.time_series.into_iter().filter(inside) {
            records.push(UplinkRecord {
                organization_id: organization_id.to_owned(),
                network_id: uplink.network_id.clone(),
                network_name: network.as_ref().map(|network| network.name.clone()),
                serial: uplink.serial.clone(),
                device_name: device.as_ref().and_then(|device| device.name.clone()),
                model: device.as_ref().map(|device| device.model.to_string()),
                tags: device
                    .as_ref()
                    .map(|device| device.tags.clone())
                    .unwrap_or_default(),
                uplink: uplink.uplink.clone(),
                ip: uplink.ip.clone(),
                ts: point.ts,
                start_ts: None,
                end_ts: None,
                loss_percent: point.loss_percent,
                latency_ms: point.latency_ms,
                jitter: None,
                goodput: None,
                active_ddns_hostname: ddns.active_ddns_hostname.clone(),
                ddns_hostname_wan1: ddns.ddns_hostname_wan1.clone(),
                ddns_hostname_wan2: ddns.ddns_hostname_wan2.clone(),
            });
        }
    }
    records
}

/// Refreshes every organization's inventory on the inventory interval, and fills DDNS host names in between.
pub async fn refresh_inventories(
    inventories: Vec<Arc<Inventory>>,
    client: Client,
    settings: UplinksSettings,
    telemetry: Arc<Telemetry>,
    stop: Stop,
) {
    let mut ticker = tokio::time::interval(settings.inventory_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first refresh happens inline in the first cycle; this task does the later ones.
    ticker.tick().await;
    loop {
        while !inventories.iter().all(|inventory| inventory.is_loaded()) {
            if !stop.sleep(Duration::from_secs(1)).await {
                return;
            }
        }
        if settings.ddns {
            futures::future::join_all(
                inventories
                    .iter()
                    .map(|inventory| boxed(inventory.fill_ddns(&client, settings.ddns_per_second, &stop))),
            )
            .await;
        }
        tokio::select! {
            _ = ticker.tick() => {}
            () = stop.stopped() => return,
        }
        for inventory in &inventories {
            if let Err(error) = inventory.refresh(&client).await {
                telemetry.add(&POLL_ERRORS, &[settings.id.as_str()], 1.0);
                tracing::warn!(organization = %inventory.organization_id, %error, "Cannot refresh the inventory; keeping the old one.");
            }
        }
    }
}
