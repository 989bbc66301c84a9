//! `[[sinks.influxdb]]`: the table as written, its validation, its check and how the sink is built.

use futures::future::BoxFuture;
use serde::Deserialize;

use super::{InfluxApi, InfluxCredentials, InfluxSettings, InfluxSink};
use crate::check::Problem;
use crate::config::ConfigError;
use crate::config::sinks::{http_url, non_empty};
use crate::config::validation::{At, Validation};
use crate::env::Env;
use crate::error_text::one_line;
use crate::record::uplink::UPLINK_SCHEMA;
use crate::secret::Secret;
use crate::sinks::component::{
    BuiltSink, Deliver, SinkBuildError, SinkComponent, SinkContext, SinkFile, reading_keys,
};
use crate::sinks::runner::SinkReading;
use crate::sinks::sink::{Accepted, SinkError};

/// `[[sinks.influxdb]]`: line protocol to InfluxDB 1.x (`database`) or 2.x (`org` + `bucket`, token from
/// `SEMAPHORE_INFLUXDB_TOKEN`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfluxSinkFile {
    /// Names the sink in logs and metrics (default `influxdb`, `influxdb_2`…).
    pub id: Option<String>,
    /// Topics to read (default `meraki.uplinks.loss_latency`).
    pub topics: Option<Vec<String>>,
    /// Consumer group (default `semaphore-<id>`).
    pub group: Option<String>,
    /// Where a new group starts: `earliest` (default: everything the topic holds) or `latest`.
    pub start: Option<String>,
    /// Records per write (default 1000).
    pub batch_size: Option<usize>,
    /// Where malformed or refused records go (default `semaphore.dead_letter`).
    pub dead_letter_topic: Option<String>,
    /// `http://HOST:8086`.
    pub endpoint: String,
    /// 1.x: the database.
    pub database: Option<String>,
    /// 1.x: the retention policy (default: the database's default).
    pub retention_policy: Option<String>,
    /// 2.x: the organization.
    pub org: Option<String>,
    /// 2.x: the bucket.
    pub bucket: Option<String>,
    /// Measurement name (default `meraki_uplink`).
    pub measurement: Option<String>,
    /// Time limit of one write, seconds (default 10).
    pub timeout_s: Option<u64>,
}

impl SinkFile for InfluxSinkFile {
    type Config = InfluxSettings;

    reading_keys!();

    fn validate(
        &self,
        validation: &mut Validation<'_>,
        at: &At,
        _reading: &mut SinkReading,
    ) -> Result<InfluxSettings, ConfigError> {
        let api = match (&self.database, &self.org, &self.bucket) {
            (Some(database), None, None) => InfluxApi::V1 {
                database: database.clone(),
                retention_policy: self.retention_policy.clone(),
            },
            (None, Some(org), Some(bucket)) => InfluxApi::V2 {
                org: org.clone(),
                bucket: bucket.clone(),
            },
            _ => {
                return Err(validation.invalid(
                    at.key("database"),
                    "set database (InfluxDB 1.x) or org and bucket (InfluxDB 2.x), not both",
                ));
            }
        };
        if self.retention_policy.is_some() && matches!(api, InfluxApi::V2 { .. }) {
            return Err(validation.invalid(at.key("retention_policy"), "is for InfluxDB 1.x (with database)"));
        }
        Ok(InfluxSettings {
            endpoint: http_url(validation, at.key("endpoint"), &self.endpoint)?,
            api,
            measurement: non_empty(
                validation,
                at.key("measurement"),
                &self.measurement,
                "meraki_uplink",
            )?,
            timeout: validation.seconds(at.key("timeout_s"), self.timeout_s, 10, None)?,
        })
    }
}

impl SinkComponent for InfluxSettings {
    fn describe(&self) -> String {
        format!("InfluxDB {}, measurement {}", self.endpoint, self.measurement)
    }

    fn check<'a>(
        &'a self,
        _env: &'a dyn Env,
    ) -> BoxFuture<'a, Option<(String, Result<&'static str, Problem>)>> {
        Box::pin(async move {
            let reached = super::ping(self)
                .await
                .map(|()| "reached")
                .map_err(|error| Problem::runtime(one_line(&error)));
            Some((format!("InfluxDB at {}", self.endpoint), reached))
        })
    }

    fn build<'a>(&'a self, context: &'a SinkContext<'a>) -> BoxFuture<'a, Result<BuiltSink, SinkBuildError>> {
        Box::pin(async move {
            let credentials = InfluxCredentials {
                token: context
                    .env
                    .get(crate::env::SEMAPHORE_INFLUXDB_TOKEN)
                    .map(Secret::new),
                username: context.env.get(crate::env::SEMAPHORE_INFLUXDB_USERNAME),
                password: context
                    .env
                    .get(crate::env::SEMAPHORE_INFLUXDB_PASSWORD)
                    .map(Secret::new),
            };
            let sink = InfluxSink::new(self, credentials)?;
            Ok(BuiltSink {
                deliver: Box::new(sink),
                server: None,
            })
        })
    }
}

impl Deliver for InfluxSink {
    fn accepts(&self) -> &'static [&'static str] {
        &[UPLINK_SCHEMA]
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Accepted]) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(InfluxSink::deliver(self, batch))
    }
}
