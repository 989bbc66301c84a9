//! Informs waiting for Kafka. Each batch's records are published with [`Outputs::publish`], which returns
//! only once every output, Kafka included, took them (never the spool), and only then are the Responses sent:
//! an inform is acknowledged once its record is safe, and a crash before that leaves it unanswered, so its
//! sender sends it again (at least once: an inform Kafka had whose Response was lost arrives twice).
//!
//! Off the receive loop, so traps keep flowing while informs wait. At most [`MAX_BATCHES_IN_FLIGHT`] batches
//! wait at once: past that (Kafka away for long), a new inform is left unanswered and counted, and its sender
//! retries it later, as it would with any receiver that is down.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::outputs::Outputs;
use crate::record::EncodedRecord;
use crate::sources::listener::stats::worth_logging;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{SNMP_INFORMS_ACKNOWLEDGED, SNMP_INFORMS_UNANSWERED};

/// Batches of informs (one per burst of datagrams) waiting for Kafka at once.
pub const MAX_BATCHES_IN_FLIGHT: usize = 64;

/// An inform whose record waits for Kafka, and the Response to send its sender then.
#[derive(Clone, Debug)]
pub struct PendingInform {
    pub record: EncodedRecord,
    pub response: Vec<u8>,
    pub sender: SocketAddr,
}

/// The batches in flight of one source.
#[derive(Debug)]
pub struct InformAcknowledger {
    outputs: Arc<Outputs>,
    socket: Arc<UdpSocket>,
    telemetry: Arc<Telemetry>,
    source_id: String,
    topic: String,
    in_flight: JoinSet<()>,
    /// Times a batch found every slot taken, for logging the first few.
    refusals: u64,
}

impl InformAcknowledger {
    pub fn new(
        outputs: Arc<Outputs>,
        socket: Arc<UdpSocket>,
        telemetry: Arc<Telemetry>,
        source_id: String,
        topic: String,
    ) -> Self {
        Self {
            outputs,
            socket,
            telemetry,
            source_id,
            topic,
            in_flight: JoinSet::new(),
            refusals: 0,
        }
    }

    /// Publishes `informs` and then answers them, in a task of its own; or, with every slot taken, leaves
    /// them unanswered and counts them.
    pub fn submit(&mut self, informs: Vec<PendingInform>) {
        if informs.is_empty() {
            return;
        }
        while let Some(finished) = self.in_flight.try_join_next() {
            log_failure(finished);
        }
        if self.in_flight.len() >= MAX_BATCHES_IN_FLIGHT {
            let count = informs.len();
            self.telemetry
                .add(&SNMP_INFORMS_UNANSWERED, &[self.source_id.as_str()], count as f64);
            self.refusals += 1;
            if worth_logging(self.refusals) {
                tracing::warn!(
                    informs = count,
                    total = self.refusals,
                    "Informs were left unanswered: {MAX_BATCHES_IN_FLIGHT} batches already wait for Kafka. \
                     Their senders send them again."
                );
            }
            return;
        }
        let task = acknowledge(
            informs,
            self.outputs.clone(),
            self.socket.clone(),
            self.telemetry.clone(),
            self.source_id.clone(),
            self.topic.clone(),
        );
        // In the source's span, so what the outputs log while publishing names the source.
        self.in_flight.spawn(task.in_current_span());
    }

    /// Waits until every batch in flight was published and answered (the pipeline's grace period bounds the
    /// wait: what is still waiting then is aborted, unanswered, and its senders retry).
    pub async fn finish(mut self) {
        while let Some(finished) = self.in_flight.join_next().await {
            log_failure(finished);
        }
    }
}

fn log_failure(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished {
        tracing::error!(
            %error,
            "A task answering informs failed; its informs stay unanswered and are sent again."
        );
    }
}

/// Publishes the records, then sends each Response.
async fn acknowledge(
    informs: Vec<PendingInform>,
    outputs: Arc<Outputs>,
    socket: Arc<UdpSocket>,
    telemetry: Arc<Telemetry>,
    source_id: String,
    topic: String,
) {
    let (records, answers): (Vec<EncodedRecord>, Vec<(Vec<u8>, SocketAddr)>) = informs
        .into_iter()
        .map(|inform| (inform.record, (inform.response, inform.sender)))
        .unzip();
    let source = source_id.as_str();
    if outputs.publish(&topic, &records).await.is_err() {
        // Standard output was closed by its reader: the pipeline stops, and these informs stay unanswered.
        telemetry.add(&SNMP_INFORMS_UNANSWERED, &[source], answers.len() as f64);
        return;
    }
    let mut acknowledged = 0_u64;
    let mut unanswered = 0_u64;
    for (response, sender) in answers {
        match socket.send_to(&response, sender).await {
            Ok(_) => acknowledged += 1,
            Err(error) => {
                unanswered += 1;
                tracing::warn!(
                    %error,
                    %sender,
                    "An inform's Response could not be sent; its sender sends it again."
                );
            }
        }
    }
    telemetry.add(&SNMP_INFORMS_ACKNOWLEDGED, &[source], acknowledged as f64);
    telemetry.add(&SNMP_INFORMS_UNANSWERED, &[source], unanswered as f64);
}
