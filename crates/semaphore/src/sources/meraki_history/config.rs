//! `[[sources.meraki_device_history]]`: the table as written, its validation and how the source is built.

use semaphore_meraki::query::{HISTORY_MAX_SPAN, HISTORY_RESOLUTIONS, LOSS_LATENCY_MAX_LOOKBACK, Uplink};
use serde::Deserialize;

use super::{HistorySettings, HistorySource};
use crate::config::ConfigError;
use crate::config::validation::{At, Validation, lookback};
use crate::record::KeyStrategy;
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::uplink_filter;

pub const HISTORY_TOPIC: &str = "meraki.uplinks.loss_latency_history";

/// `[[sources.meraki_device_history]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySourceFile {
    pub id: Option<String>,
    pub organizations: Option<Vec<String>>,
    pub networks: Option<Vec<String>>,
    pub models: Option<Vec<String>>,
    pub device_tags: Option<Vec<String>>,
    /// Destination IP (required by Meraki; default 8.8.8.8).
    pub ip: Option<String>,
    /// Uplinks to read (default `wan1`, `wan2`).
    pub uplinks: Option<Vec<String>>,
    /// 60, 600, 3600 or 86400 seconds (default 60).
    pub resolution_s: Option<u32>,
    /// Longest window per call, seconds (default 3600; at most 31 days).
    pub timespan_s: Option<u64>,
    /// Seconds between polls (default 300).
    pub interval_s: Option<u64>,
    /// First run: how far back to start, seconds (default 3600; up to 60 days).
    pub initial_lookback_s: Option<u64>,
    /// Kafka topic (default `meraki.uplinks.loss_latency_history`).
    pub topic: Option<String>,
    pub key: Option<String>,
}

/// A validated `meraki_device_history` source.
#[derive(Clone, Debug)]
pub struct HistoryConfig {
    pub settings: HistorySettings,
    pub topic: String,
    pub key: KeyStrategy,
}

impl SourceFile for HistorySourceFile {
    type Config = HistoryConfig;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<HistoryConfig, ConfigError> {
        let resolution = self.resolution_s.unwrap_or(60);
        if !HISTORY_RESOLUTIONS.contains(&resolution) {
            return Err(validation.invalid(
                at.key("resolution_s"),
                format!("must be one of {HISTORY_RESOLUTIONS:?} (Meraki's resolutions)"),
            ));
        }
        let ip = self.ip.clone().unwrap_or_else(|| "8.8.8.8".into());
        if ip.trim().is_empty() {
            return Err(validation.invalid(at.key("ip"), "Meraki requires a destination IP"));
        }
        let timespan = validation.seconds(
            at.key("timespan_s"),
            self.timespan_s,
            3600,
            Some(HISTORY_MAX_SPAN),
        )?;
        if timespan.as_secs() < u64::from(resolution) {
            return Err(validation.invalid(
                at.key("timespan_s"),
                format!("must be at least the resolution ({resolution} s)"),
            ));
        }
        let filter = uplink_filter::from_lists(
            &validation.listed(at.key("networks"), &self.networks)?,
            &validation.listed(at.key("models"), &self.models)?,
            &validation.listed(at.key("device_tags"), &self.device_tags)?,
            &[],
            &[],
        )
        .map_err(|(key, reason)| validation.invalid(at.key(key), reason))?;
        let initial_lookback = validation.seconds(
            at.key("initial_lookback_s"),
            self.initial_lookback_s,
            3600,
            Some(LOSS_LATENCY_MAX_LOOKBACK),
        )?;
        Ok(HistoryConfig {
            settings: HistorySettings {
                id: validation.unique_id(at, &self.id)?,
                organizations: validation.listed(at.key("organizations"), &self.organizations)?,
                ip,
                uplinks: self.uplinks(validation, at)?,
                resolution,
                timespan: lookback(timespan),
                interval: validation.poll_interval(at.key("interval_s"), self.interval_s, 300)?,
                initial_lookback: lookback(initial_lookback),
                filter,
            },
            topic: validation.topic(at.key("topic"), &self.topic, HISTORY_TOPIC)?,
            key: validation.key_strategy(at.key("key"), &self.key, KeyStrategy::Serial)?,
        })
    }
}

impl HistorySourceFile {
    /// The uplinks to read: `wan1` and `wan2` unless the table names others.
    fn uplinks(&self, validation: &Validation<'_>, at: &At) -> Result<Vec<Uplink>, ConfigError> {
        let names = match &self.uplinks {
            None => vec!["wan1".to_owned(), "wan2".to_owned()],
            Some(names) if names.is_empty() => {
                return Err(validation.invalid(
                    at.key("uplinks"),
                    "an empty list would mean the default (wan1, wan2); remove the key for the default",
                ));
            }
            Some(names) => names.clone(),
        };
        names
            .iter()
            .map(|name| {
                name.parse::<Uplink>()
                    .map_err(|violation| validation.invalid(at.key("uplinks"), violation.reason))
            })
            .collect()
    }
}

impl Source for HistoryConfig {
    fn id(&self) -> &str {
        &self.settings.id
    }

    fn describe(&self) -> String {
        format!("meraki_device_history -> {}", self.topic)
    }

    fn uses_meraki(&self) -> bool {
        true
    }

    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        let source = HistorySource {
            settings: self.settings.clone(),
            client: context.meraki_client()?,
            writer: context.window_writer(&self.settings.id, &self.topic, &self.key)?,
            telemetry: context.telemetry.clone(),
            once: context.once,
            devices: context.meraki_device_feed(),
        };
        Ok(Box::pin(source.run(context.stop.clone())))
    }
}
