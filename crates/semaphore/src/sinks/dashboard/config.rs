//! `[sinks.dashboard]`: the table as written, its validation and how the page is built.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::{Dashboard, DashboardSettings};
use crate::bus::group_reader::ReadStart;
use crate::config::ConfigError;
use crate::config::sinks::{ALERTS_TOPIC, listen};
use crate::config::validation::{At, Validation};
use crate::record::alert::ALERT_SCHEMA;
use crate::record::uplink::UPLINK_SCHEMA;
use crate::sinks::component::{
    BuiltSink, Deliver, ReadingKeys, SinkBuildError, SinkComponent, SinkContext, SinkFile,
};
use crate::sinks::runner::SinkReading;
use crate::sinks::sink::{Accepted, SinkError};

/// `[sinks.dashboard]`: the live web page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSinkFile {
    /// Address to serve the page on (default `127.0.0.1:9470`).
    pub listen: Option<String>,
    /// Topics: uplink samples and alert events (default `meraki.uplinks.loss_latency`, `semaphore.alerts`).
    pub topics: Option<Vec<String>>,
    /// Seconds of history charted (default 3600).
    pub history_s: Option<u64>,
    pub dead_letter_topic: Option<String>,
}

impl SinkFile for DashboardSinkFile {
    type Config = DashboardSettings;
    const DEFAULT_TOPICS: &'static [&'static str] = &[crate::config::UPLINKS_TOPIC, ALERTS_TOPIC];
    const SINGLE: bool = true;

    fn reading(&self) -> ReadingKeys<'_> {
        // A view reads no group and commits nothing: only its topics and dead-letter topic are settable.
        ReadingKeys {
            id: &None,
            topics: &self.topics,
            group: &None,
            start: &None,
            batch_size: None,
            dead_letter_topic: &self.dead_letter_topic,
        }
    }

    fn validate(
        &self,
        validation: &mut Validation<'_>,
        at: &At,
        reading: &mut SinkReading,
    ) -> Result<DashboardSettings, ConfigError> {
        let history = validation.seconds(at.key("history_s"), self.history_s, 3600, None)?;
        // A view: each start shows the history again, from that time, not from committed offsets.
        reading.start = ReadStart::Recent(history);
        // Records show as they arrive; a batch is what arrived together.
        reading.linger = Duration::from_millis(5);
        Ok(DashboardSettings {
            listen: listen(validation, at.key("listen"), &self.listen, "127.0.0.1:9470")?,
            history,
        })
    }
}

impl SinkComponent for DashboardSettings {
    fn describe(&self) -> String {
        format!("dashboard on http://{}/", self.listen)
    }

    fn build<'a>(&'a self, context: &'a SinkContext<'a>) -> BoxFuture<'a, Result<BuiltSink, SinkBuildError>> {
        Box::pin(async move {
            let dashboard = Dashboard::new(self);
            let (address, handle) = crate::http_server::bind_setting(
                dashboard.listen(),
                dashboard.router(),
                context.stop.clone(),
                "the dashboard",
                "[sinks.dashboard] listen",
            )
            .await?;
            tracing::info!(%address, "Dashboard listening: http://{address}/");
            Ok(BuiltSink {
                deliver: Box::new(dashboard),
                server: Some((address, handle)),
            })
        })
    }
}

impl Deliver for Arc<Dashboard> {
    fn accepts(&self) -> &'static [&'static str] {
        &[UPLINK_SCHEMA, ALERT_SCHEMA]
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Accepted]) -> BoxFuture<'a, Result<(), SinkError>> {
        Dashboard::deliver(self, batch);
        Box::pin(async { Ok(()) })
    }
}
