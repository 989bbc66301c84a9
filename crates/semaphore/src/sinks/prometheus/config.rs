//! `[[sinks.prometheus]]`: the table as written, its validation and how the exporter is built.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;

use super::{PrometheusExporter, PrometheusSettings};
use crate::config::ConfigError;
use crate::config::sinks::listen;
use crate::config::validation::{At, Validation};
use crate::record::uplink::UPLINK_SCHEMA;
use crate::sinks::component::{
    BuiltSink, Deliver, SinkBuildError, SinkComponent, SinkContext, SinkFile, reading_keys,
};
use crate::sinks::runner::SinkReading;
use crate::sinks::sink::{Accepted, SinkError};

/// `[[sinks.prometheus]]`: gauges per uplink on their own `/metrics`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSinkFile {
    pub id: Option<String>,
    pub topics: Option<Vec<String>>,
    pub group: Option<String>,
    pub start: Option<String>,
    pub batch_size: Option<usize>,
    pub dead_letter_topic: Option<String>,
    /// Address to serve `/metrics` on (default `127.0.0.1:9273`, Telegraf's prometheus_client port).
    pub listen: Option<String>,
    /// Seconds without a sample after which an uplink's series disappears (default 600).
    pub expire_after_s: Option<u64>,
    /// Most series exported (default 100000); further uplinks are counted, not shown.
    pub max_series: Option<usize>,
}

impl SinkFile for PrometheusSinkFile {
    type Config = PrometheusSettings;

    reading_keys!();

    fn validate(
        &self,
        validation: &mut Validation<'_>,
        at: &At,
        _reading: &mut SinkReading,
    ) -> Result<PrometheusSettings, ConfigError> {
        let max_series = self.max_series.unwrap_or(100_000);
        if max_series == 0 {
            return Err(validation.invalid(at.key("max_series"), "must be at least 1"));
        }
        Ok(PrometheusSettings {
            listen: listen(validation, at.key("listen"), &self.listen, "127.0.0.1:9273")?,
            expire_after: validation.seconds(at.key("expire_after_s"), self.expire_after_s, 600, None)?,
            max_series,
        })
    }
}

impl SinkComponent for PrometheusSettings {
    fn describe(&self) -> String {
        format!("Prometheus exporter on http://{}/metrics", self.listen)
    }

    fn build<'a>(&'a self, context: &'a SinkContext<'a>) -> BoxFuture<'a, Result<BuiltSink, SinkBuildError>> {
        Box::pin(async move {
            let exporter = PrometheusExporter::new(self.clone());
            let (address, handle) = crate::http_server::bind_setting(
                exporter.listen(),
                exporter.router(),
                context.stop.clone(),
                "the Prometheus exporter",
                "sinks.prometheus listen",
            )
            .await?;
            tracing::info!(%address, "Prometheus exporter listening: http://{address}/metrics.");
            Ok(BuiltSink {
                deliver: Box::new(exporter),
                server: Some((address, handle)),
            })
        })
    }
}

impl Deliver for Arc<PrometheusExporter> {
    fn accepts(&self) -> &'static [&'static str] {
        &[UPLINK_SCHEMA]
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Accepted]) -> BoxFuture<'a, Result<(), SinkError>> {
        PrometheusExporter::deliver(self, batch);
        Box::pin(async { Ok(()) })
    }
}
