//! `[[sources.meraki_uplinks]]`: the table as written, its validation and how the source is built.

use semaphore_meraki::query::LOSS_LATENCY_MAX_LOOKBACK;
use serde::Deserialize;

use super::{UplinksSettings, UplinksSource};
use crate::config::ConfigError;
use crate::config::validation::{At, Validation, lookback};
use crate::record::KeyStrategy;
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::uplink_filter;

pub const UPLINKS_TOPIC: &str = "meraki.uplinks.loss_latency";

/// `[[sources.meraki_uplinks]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UplinksSourceFile {
    /// Names this source in logs, metrics, the `source` header and its watermark file. Default
    /// `meraki_uplinks` (with `_2`, `_3`… for more).
    pub id: Option<String>,
    /// Organization ids or names; default every organization the key can see.
    pub organizations: Option<Vec<String>>,
    /// Networks: ids (`N_…`), name globs (`Branch*`) or `tag:NAME`.
    pub networks: Option<Vec<String>>,
    /// Device model globs (`MX6*`).
    pub models: Option<Vec<String>>,
    /// Device tags (any).
    pub device_tags: Option<Vec<String>>,
    /// `wan1`, `wan2`, `wan3`, `cellular`.
    pub uplinks: Option<Vec<String>>,
    /// Destination IPs.
    pub ips: Option<Vec<String>>,
    /// Seconds between polls (default 60).
    pub interval_s: Option<u64>,
    /// Seconds between inventory refreshes (default 3600).
    pub inventory_interval_s: Option<u64>,
    /// On the very first run, how far back to start, seconds (default 300; up to 60 days).
    pub initial_lookback_s: Option<u64>,
    /// Enrich with DDNS host names (one management-interface call per appliance, in the background).
    pub ddns: Option<bool>,
    /// Management-interface calls per second per organization for DDNS (default 2, of Meraki's 10).
    pub ddns_per_second: Option<f64>,
    /// Kafka topic (default `meraki.uplinks.loss_latency`).
    pub topic: Option<String>,
    /// `serial` (default), `serial/uplink`, `networkId`, `none` or a fixed string.
    pub key: Option<String>,
}

/// A validated `meraki_uplinks` source.
#[derive(Clone, Debug)]
pub struct UplinksConfig {
    pub settings: UplinksSettings,
    pub topic: String,
    pub key: KeyStrategy,
}

impl SourceFile for UplinksSourceFile {
    type Config = UplinksConfig;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<UplinksConfig, ConfigError> {
        let ddns_per_second = self.ddns_per_second.unwrap_or(2.0);
        if !(0.01..=10.0).contains(&ddns_per_second) {
            return Err(validation.invalid(
                at.key("ddns_per_second"),
                "must be between 0.01 and 10 (Meraki allows 10 calls a second per organization)",
            ));
        }
        let filter = uplink_filter::from_lists(
            &validation.listed(at.key("networks"), &self.networks)?,
            &validation.listed(at.key("models"), &self.models)?,
            &validation.listed(at.key("device_tags"), &self.device_tags)?,
            &validation.listed(at.key("uplinks"), &self.uplinks)?,
            &validation.listed(at.key("ips"), &self.ips)?,
        )
        .map_err(|(key, reason)| validation.invalid(at.key(key), reason))?;
        let initial_lookback = validation.seconds(
            at.key("initial_lookback_s"),
            self.initial_lookback_s,
            300,
            Some(LOSS_LATENCY_MAX_LOOKBACK),
        )?;
        Ok(UplinksConfig {
            settings: UplinksSettings {
                id: validation.unique_id(at, &self.id)?,
                organizations: validation.listed(at.key("organizations"), &self.organizations)?,
                interval: validation.poll_interval(at.key("interval_s"), self.interval_s, 60)?,
                inventory_interval: validation.seconds(
                    at.key("inventory_interval_s"),
                    self.inventory_interval_s,
                    3600,
                    None,
                )?,
                initial_lookback: lookback(initial_lookback),
                filter,
                ddns: self.ddns.unwrap_or(true),
                ddns_per_second,
            },
            topic: validation.topic(at.key("topic"), &self.topic, UPLINKS_TOPIC)?,
            key: validation.key_strategy(at.key("key"), &self.key, KeyStrategy::Serial)?,
        })
    }
}

impl Source for UplinksConfig {
    fn id(&self) -> &str {
        &self.settings.id
    }

    fn describe(&self) -> String {
        format!("meraki_uplinks -> {}", self.topic)
    }

    fn uses_meraki(&self) -> bool {
        true
    }

    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        let source = UplinksSource {
            settings: self.settings.clone(),
            poll_client: context.meraki_client()?,
            inventory_client: context.meraki_client()?,
            writer: context.window_writer(&self.settings.id, &self.topic, &self.key)?,
            telemetry: context.telemetry.clone(),
            once: context.once,
            devices: context.meraki_device_feed(),
        };
        Ok(Box::pin(source.run(context.stop.clone())))
    }
}
