//! What every sink is to the runner: the record types it takes, and a `deliver` that either accepts a batch,
//! asks for it again later, or rejects it for the dead-letter topic.

use std::sync::Arc;

use crate::record::alert::ALERT_SCHEMA;
use crate::record::clients::CLIENTS_SCHEMA;
use crate::record::uplink::UPLINK_SCHEMA;
use crate::sinks::alerts::AlertsSink;
use crate::sinks::dashboard::Dashboard;
use crate::sinks::influxdb::InfluxSink;
use crate::sinks::message::{ConsumedMessage, Decoded};
use crate::sinks::prometheus::PrometheusExporter;
use crate::sinks::webhook::WebhookSink;

/// A message that decoded to a type the sink takes.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub message: ConsumedMessage,
    pub decoded: Decoded,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The destination cannot take it now (down, overloaded, misconfigured): the batch is tried again, and
    /// not committed meanwhile.
    #[error("{0}")]
    Retry(String),
    /// The destination will never take these records: they go to the dead-letter topic with this reason.
    #[error("{0}")]
    Reject(String),
}

pub enum Sink {
    InfluxDb(InfluxSink),
    Prometheus(Arc<PrometheusExporter>),
    Webhook(WebhookSink),
    Alerts(Box<AlertsSink>),
    Dashboard(Arc<Dashboard>),
}

impl Sink {
    pub fn kind(&self) -> &'static str {
        match self {
            Sink::InfluxDb(_) => "influxdb",
            Sink::Prometheus(_) => "prometheus",
            Sink::Webhook(_) => "webhook",
            Sink::Alerts(_) => "alerts",
            Sink::Dashboard(_) => "dashboard",
        }
    }

    /// The schemas this sink takes; anything else on its topics is dead-lettered as the wrong schema.
    pub fn accepts(&self) -> &'static [&'static str] {
        match self {
            Sink::InfluxDb(_) | Sink::Prometheus(_) | Sink::Alerts(_) => &[UPLINK_SCHEMA],
            Sink::Dashboard(_) => &[UPLINK_SCHEMA, ALERT_SCHEMA],
            Sink::Webhook(_) => &[UPLINK_SCHEMA, ALERT_SCHEMA, CLIENTS_SCHEMA],
        }
    }

    /// What the sink produced from an accepted batch but could not deliver onward (an alert webhook that
    /// failed every attempt), as messages for the dead-letter topic with the reason.
    pub fn take_undelivered(&mut self) -> Vec<(ConsumedMessage, String)> {
        match self {
            Sink::Alerts(alerts) => alerts.take_webhook_failures(),
            _ => Vec::new(),
        }
    }

    pub async fn deliver(&mut self, batch: &[Accepted]) -> Result<(), SinkError> {
        match self {
            Sink::InfluxDb(sink) => sink.deliver(batch).await,
            Sink::Prometheus(exporter) => {
                exporter.deliver(batch);
                Ok(())
            }
            Sink::Webhook(sink) => sink.deliver(batch).await,
            Sink::Alerts(sink) => sink.deliver(batch).await,
            Sink::Dashboard(dashboard) => {
                dashboard.deliver(batch);
                Ok(())
            }
        }
    }
}

/// The HTTP client of a sink that POSTs (InfluxDB, webhooks): rustls, one time limit per request.
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))
}
