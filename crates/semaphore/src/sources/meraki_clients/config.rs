//! `[[sources.meraki_clients]]`: the table as written, its validation and how the source is built.

use std::path::PathBuf;

use semaphore_meraki::query::{CLIENTS_MAX_LOOKBACK, CLIENTS_PER_PAGE};
use serde::Deserialize;

use super::{ClientsSettings, ClientsSource};
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::record::KeyStrategy;
use crate::sources::client_filter::ClientFilter;
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::uplink_filter::NetworkMatcher;

pub const CLIENTS_TOPIC: &str = "meraki.clients";

/// `[[sources.meraki_clients]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsSourceFile {
    pub id: Option<String>,
    pub organizations: Option<Vec<String>>,
    pub networks: Option<Vec<String>>,
    /// Seconds between polls (default 300).
    pub interval_s: Option<u64>,
    /// How far back Meraki looks for clients, seconds (default 86400, at most 31 days).
    pub timespan_s: Option<u64>,
    /// Clients per page, 3-5000 (default 1000; Meraki's own default is 10).
    pub per_page: Option<u32>,
    /// The original's JSON filter file (`match`, `conditions`, `fuzzy`).
    pub filter: Option<PathBuf>,
    /// Kafka topic (default `meraki.clients`).
    pub topic: Option<String>,
    /// Default `networkId`.
    pub key: Option<String>,
}

impl SourceFile for ClientsSourceFile {
    type Config = ClientsSettings;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<ClientsSettings, ConfigError> {
        let per_page = CLIENTS_PER_PAGE
            .check(Some(self.per_page.unwrap_or(1000)))
            .map_err(|violation| validation.invalid(at.key("per_page"), violation.reason))?;
        let filter = match &self.filter {
            Some(filter) => Some(
                ClientFilter::read(&validation.relative(filter))
                    .map_err(|error| validation.invalid(at.key("filter"), error.to_string()))?,
            ),
            None => None,
        };
        let networks = validation
            .listed(at.key("networks"), &self.networks)?
            .iter()
            .map(|text| {
                NetworkMatcher::parse(text).map_err(|reason| validation.invalid(at.key("networks"), reason))
            })
            .collect::<Result<_, _>>()?;
        Ok(ClientsSettings {
            id: validation.unique_id(at, &self.id)?,
            organizations: validation.listed(at.key("organizations"), &self.organizations)?,
            networks,
            interval: validation.poll_interval(at.key("interval_s"), self.interval_s, 300)?,
            timespan: validation.seconds(
                at.key("timespan_s"),
                self.timespan_s,
                86_400,
                Some(CLIENTS_MAX_LOOKBACK),
            )?,
            per_page,
            filter,
            topic: validation.topic(at.key("topic"), &self.topic, CLIENTS_TOPIC)?,
            key: validation.key_strategy(at.key("key"), &self.key, KeyStrategy::NetworkId)?,
        })
    }
}

impl Source for ClientsSettings {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        format!("meraki_clients -> {}", self.topic)
    }

    fn uses_meraki(&self) -> bool {
        true
    }

    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        let source = ClientsSource {
            settings: self.clone(),
            client: context.meraki_client()?,
            outputs: context.outputs.clone(),
            telemetry: context.telemetry.clone(),
            once: context.once,
            devices: context.meraki_device_feed(),
        };
        Ok(Box::pin(source.run(context.stop.clone())))
    }
}
