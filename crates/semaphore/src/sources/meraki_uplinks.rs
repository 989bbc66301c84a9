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
use semaphore_meraki::Client;
use semaphore_meraki::model::{Organization, UplinkLossAndLatency};
use semaphore_meraki::query::{TimeWindow, Uplink, UplinksLossAndLatencyQuery};

use crate::inventory::Inventory;
use crate::record::UplinkRecord;
use crate::send_future::boxed;
use crate::shutdown::Stop;
use crate::sources::cycles::Cycles;
use crate::sources::uplink_filter::UplinkFilter;
use crate::sources::window::{self, Window};
use crate::sources::window_writer::{WindowError, WindowWriter};
use crate::sources::{SourceFailure, organizations};
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{BACKFILL_WINDOWS, LOST_SECONDS, POLL_ERRORS, WATERMARK_LAG_SECONDS};

/// How often back-fill progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

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
        .map_err(|reason| SourceFailure::new(&source, reason))?
        else {
            return Ok(());
        };
        let inventories: Vec<Arc<Inventory>> = organizations
            .iter()
            .map(|organization| Arc::new(Inventory::new(organization.id.clone())))
            .collect();
        let refresher = tokio::spawn(refresh_inventories(
            inventories.clone(),
            self.inventory_client.clone(),
            self.settings.clone(),
            self.telemetry.clone(),
            stop.clone(),
        ));
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
                .for_each(|reason| cycles.failed(reason));
        }
        refresher.abort();
        cycles.outcome()
    }

    /// Reads and writes windows until the organization is caught up or stopped; `Err` says why it stopped
    /// short (already logged; retried next interval).
    async fn catch_up(
        &self,
        organization: &Organization,
        inventory: &Inventory,
        stop: &Stop,
    ) -> Result<(), String> {
        let source = &self.settings.id;
        let organization_id = &organization.id;
        if !inventory.is_loaded()
            && let Err(error) = inventory.refresh(&self.inventory_client).await
        {
            self.telemetry.add(&POLL_ERRORS, &[source], 1.0);
            tracing::warn!(%source, organization = %organization_id, %error, "Cannot read the inventory; polling without names until it can be read.");
        }
        let mut backfilled = 0u64;
        let mut last_progress = tokio::time::Instant::now();
        // The cycle reads up to what Meraki serves when it starts; minutes that become available meanwhile are
        // the next cycle's, so a cycle always ends.
        let now = Utc::now();
        while !stop.is_stopped() {
            let (window, behind) = match self.writer.in_flight(organization_id) {
                Some(window) => (window, TimeDelta::zero()),
                None => {
                    let plan = window::plan(
                        self.writer.watermark(organization_id),
                        now,
                        self.settings.initial_lookback,
                    );
                    if let Some(lost) = plan.lost {
                        let seconds = (lost.t1 - lost.t0).num_seconds();
                        self.telemetry
                            .add(&LOST_SECONDS, &[source, organization_id], seconds as f64);
                        tracing::error!(%source, organization = %organization_id, from = %lost.t0, to = %lost.t1,
                            "Samples older than Meraki's 60-day retention cannot be read any more; skipping them.");
                        if let Err(error) = self.writer.store.advance(organization_id, lost.t1) {
                            tracing::error!(%source, %error, "Cannot persist the watermark.");
                            return Err(format!("organization {organization_id}: {error}"));
                        }
                    }
                    match plan.window {
                        Some(window) => (window, plan.behind),
                        None => break,
                    }
                }
            };
            let series = match self.fetch(organization_id, window).await {
                Ok(series) => series,
                Err(error) => {
                    self.telemetry.add(&POLL_ERRORS, &[source], 1.0);
                    if organizations::unreachable(&error) {
                        self.telemetry.meraki_not_reached(source, &error);
                    }
                    tracing::warn!(%source, organization = %organization_id, %error, "Polling loss and latency failed; the window is retried next interval.");
                    return Err(format!("organization {organization_id}: {error}"));
                }
            };
            self.telemetry.meraki_reached(source);
            let records = to_records(organization_id, series, inventory, &self.settings.filter);
            match self.writer.write(organization_id, window, records).await {
                Ok(_) => {}
                // Not a failure to report: the pipeline stops on it (see `Outputs::stdout_closed`).
                Err(WindowError::StdoutClosed(_)) => return Ok(()),
                Err(error) => {
                    tracing::error!(%source, organization = %organization_id, %error, "Cannot write the window; retrying next interval.");
                    return Err(format!(
                        "organization {organization_id}: cannot write the window: {error}"
                    ));
                }
            }
            self.telemetry.set(
                &WATERMARK_LAG_SECONDS,
                &[source, organization_id],
                (Utc::now() - window.t1).num_milliseconds() as f64 / 1000.0,
            );
            if behind > TimeDelta::zero() {
                backfilled += 1;
                self.telemetry
                    .add(&BACKFILL_WINDOWS, &[source, organization_id], 1.0);
                if last_progress.elapsed() >= PROGRESS_EVERY {
                    last_progress = tokio::time::Instant::now();
                    tracing::info!(%source, organization = %organization_id, windows = backfilled,
                        reached = %window.t1, behind_minutes = behind.num_minutes(),
                        "Back-filling a gap.");
                }
            } else if backfilled > 0 {
                tracing::info!(%source, organization = %organization_id, windows = backfilled, "Gap back-filled; caught up.");
                backfilled = 0;
            }
        }
        Ok(())
    }

    async fn fetch(
        &self,
        organization_id: &str,
        window: Window,
    ) -> Result<Vec<UplinkLossAndLatency>, semaphore_meraki::MerakiError> {
        let filter = &self.settings.filter;
        let query = UplinksLossAndLatencyQuery {
            window: TimeWindow::between(window.t0, window.t1),
            uplink: filter
                .single_uplink()
                .and_then(|uplink| uplink.parse::<Uplink>().ok()),
            ip: filter.single_ip().map(str::to_owned),
        };
        self.poll_client
            .organization_uplinks_loss_and_latency(organization_id, &query)
            .await
    }
}

/// One record per sample, enriched and filtered.
pub fn to_records(
    organization_id: &str,
    series: Vec<UplinkLossAndLatency>,
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
            device.as_ref(),
            &uplink.uplink,
            &uplink.ip,
        ) {
            continue;
        }
        let ddns = device
            .as_ref()
            .and_then(|device| device.ddns.clone())
            .unwrap_or_default();
        for point in uplink.time_series {
            records.push(UplinkRecord {
                organization_id: organization_id.to_owned(),
                network_id: uplink.network_id.clone(),
                network_name: network.as_ref().map(|network| network.name.clone()),
                serial: uplink.serial.clone(),
                device_name: device.as_ref().and_then(|device| device.name.clone()),
                model: device.as_ref().map(|device| device.model.clone()),
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
                tracing::warn!(source = %settings.id, organization = %inventory.organization_id, %error, "Cannot refresh the inventory; keeping the old one.");
            }
        }
    }
}
