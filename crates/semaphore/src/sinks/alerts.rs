//! The alerts sink: uplink samples, syslog lines, SNMP traps and polled SNMP interfaces through their rules
//! ([`AlertEvaluators`]: the [`crate::sinks::alert_rules::AlertEvaluator`],
//! [`crate::sinks::syslog_alert_evaluator::SyslogAlertEvaluator`],
//! [`crate::sinks::trap_alert_evaluator::TrapAlertEvaluator`] and
//! [`crate::sinks::interface_alert_rules::InterfaceAlertEvaluator`]); each firing or resolved event written
//! to the alerts topic (schema `semaphore.alert/1`, keyed by the alert) and, when configured, POSTed to a
//! webhook.
//!
//! No duplicate firing on restart: at start the alerts topic is read from its beginning and the last event of
//! each alert restores its state; samples, lines, traps and polls read again (not yet committed) are then
//! older than what the evaluators have seen or already firing. A batch's events are kept until Kafka took
//! them, so a retried batch writes the same events rather than evaluating twice.
//!
//! Log alerts and self-clearing trap alerts also resolve with time alone: after each batch they are judged
//! at the newest arrival read, and when nothing arrives for a few seconds (the runner's idle tick, an empty
//! batch) at the current time.

mod config;
mod evaluators;
mod interface_rule;
mod syslog_rule;
mod trap_rule;

pub use config::{ALERTS_TOPIC, AlertRuleFile, AlertWebhookFile, AlertsSettings, AlertsSinkFile};
pub use evaluators::AlertEvaluators;
pub use interface_rule::InterfaceRuleFile;
pub use syslog_rule::{SeverityFile, SyslogRuleFile};
pub use trap_rule::TrapRuleFile;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;

use crate::bus::handle::{KafkaHandle, TopicCreation};
use crate::bus::readback::ReadbackError;
use crate::error_text::one_line;
use crate::record::{AlertEvent, EncodedRecord};
use crate::sinks::message::ConsumedMessage;
use crate::sinks::sink::{Accepted, SinkError};
use crate::sinks::webhook::{WebhookError, WebhookSink};

/// The alert state could not be read back from the alerts topic (retried by the runner).
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Readback(#[from] ReadbackError),
}

pub struct AlertsSink {
    pub id: String,
    pub evaluators: AlertEvaluators,
    pub topic: String,
    pub kafka: Arc<KafkaHandle>,
    /// What becomes of the alerts topic when the cluster does not have it.
    pub topic_creation: TopicCreation,
    pub webhook: Option<WebhookSink>,
    /// Events of the batch being delivered, and the position of that batch's last record.
    pending: Vec<AlertEvent>,
    evaluated_through: Option<String>,
    /// Events the webhook refused after its retries; the runner dead-letters them.
    webhook_failures: Vec<(AlertEvent, WebhookError)>,
}

impl AlertsSink {
    pub fn new(
        id: String,
        evaluators: AlertEvaluators,
        topic: String,
        kafka: Arc<KafkaHandle>,
        topic_creation: TopicCreation,
        webhook: Option<WebhookSink>,
    ) -> Self {
        Self {
            id,
            evaluators,
            topic,
            kafka,
            topic_creation,
            webhook,
            pending: Vec::new(),
            evaluated_through: None,
            webhook_failures: Vec::new(),
        }
    }

    /// Reads the alerts topic from its start and restores which alerts are firing.
    pub async fn restore(&mut self) -> Result<(), RestoreError> {
        let payloads = self.kafka.payloads_since(&self.topic, &BTreeMap::new()).await?;
        let events: Vec<AlertEvent> = payloads
            .iter()
            .filter_map(|payload| serde_json::from_slice(payload).ok())
            .collect();
        self.evaluators.restore(&events, Utc::now());
        let [firing, log_firing, trap_firing, interface_firing] = self.evaluators.firing();
        tracing::info!(topic = %self.topic, firing, log_firing, trap_firing, interface_firing, "Alert state restored from the alerts topic.");
        Ok(())
    }

    /// The events the webhook refused, as the alerts topic holds them (its key, value and schema header),
    /// for the dead-letter topic. The origin names the alerts topic without a position: the event is in it.
    pub fn take_webhook_failures(&mut self) -> Vec<(ConsumedMessage, String)> {
        std::mem::take(&mut self.webhook_failures)
            .into_iter()
            .map(|(event, error)| {
                let record = EncodedRecord::alert(&event, &self.id);
                let message = ConsumedMessage {
                    topic: self.topic.clone(),
                    partition: -1,
                    offset: -1,
                    timestamp_ms: Some(record.timestamp_ms),
                    key: record.key.clone().map(String::into_bytes),
                    headers: record
                        .headers()
                        .iter()
                        .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
                        .collect(),
                    payload: record.payload,
                };
                (message, format!("alert webhook: {}", one_line(&error)))
            })
            .collect()
    }

    /// Evaluates the batch (an empty one: the runner's idle tick) and writes the events it caused.
    pub async fn deliver(&mut self, batch: &[Accepted]) -> Result<(), SinkError> {
        if batch.is_empty() {
            self.tick();
        } else {
            self.evaluate(batch);
        }
        self.send_pending().await
    }

    /// The batch's records through the rules, once however often the batch is retried.
    fn evaluate(&mut self, batch: &[Accepted]) {
        let through = batch.last().map(|accepted| accepted.message.position());
        if through == self.evaluated_through {
            return;
        }
        for accepted in batch {
            self.pending.extend(self.evaluators.observe(&accepted.decoded));
        }
        // A device gone quiet resolves while others keep the stream busy.
        self.pending.extend(self.evaluators.sweep());
        self.evaluated_through = through;
    }

    /// Nothing arrived for a while: log alerts whose window emptied by now, and self-clearing trap alerts
    /// whose time ran out, resolve. Not before the first batch, which may hold (behind a slow group join)
    /// the lines or traps that keep them firing; and not while the events of the last tick wait to be
    /// written.
    fn tick(&mut self) {
        if self.pending.is_empty() && self.evaluated_through.is_some() {
            self.pending.extend(self.evaluators.advance(Utc::now()));
        }
    }

    /// Writes the pending events to the alerts topic, then to the webhook (if any); kept for the retry when
    /// Kafka does not take them.
    async fn send_pending(&mut self) -> Result<(), SinkError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let records: Vec<EncodedRecord> = self
            .pending
            .iter()
            .map(|event| EncodedRecord::alert(event, &self.id))
            .collect();
        // The topic was made sure of in `prepare`, before the first batch.
        self.kafka
            .send_all(&self.topic, &records)
            .await
            .map_err(|unsent| SinkError::retry(unsent.refused))?;
        for event in std::mem::take(&mut self.pending) {
            tracing::info!(rule = %event.rule, status = ?event.status, serial = %event.serial, uplink = %event.uplink, value = ?event.value, "Alert.");
            if let Some(webhook) = &self.webhook {
                let body = serde_json::to_vec(&event).expect("events are plain data");
                if let Err(error) = webhook.post(&body).await {
                    self.webhook_failures.push((event, error));
                }
            }
        }
        Ok(())
    }
}
