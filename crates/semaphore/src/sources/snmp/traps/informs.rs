//! Informs waiting for Kafka. Each batch's records are published with [`Outputs::publish`], which returns
//! only once every output, Kafka included, took them (never the spool), and only then are the Responses sent:
//! an inform is acknowledged once its record is safe, and a crash before that leaves it unanswered, so its
//! sender sends it again (at least once: an inform Kafka had whose Response was lost, or which came again
//! after `retransmission::ANSWERED_MEMORY`, arrives twice).
//!
//! A sender retries an inform every few seconds until it is answered; a copy of one waiting for Kafka or
//! answered lately is not published again ([`InformTracker`], `retransmission.rs`): a waiting one is answered
//! with the latest copy's Response once Kafka has it, an answered one again at once.
//!
//! Off the receive loop, so traps keep flowing while informs wait. At most [`MAX_BATCHES_IN_FLIGHT`] batches
//! and `retransmission::MAX_BYTES_IN_FLIGHT` of records and Responses wait at once: past that (Kafka away for
//! long), a new inform is left unanswered and counted, and its sender retries it later, as it would with any
//! receiver that is down.
//!
//! Each batch is its own task and informs are answered one by one, so the order of one device's informs, and
//! of its informs among its traps (which go through the `AcceptQueue`), is not kept in Kafka.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;
use tracing::Instrument;

use crate::outputs::Outputs;
use crate::record::EncodedRecord;
use crate::sources::listener::stats::worth_logging;
use crate::sources::snmp::traps::decode::Length;
use crate::sources::snmp::traps::notification::Notification;
use crate::sources::snmp::traps::retransmission::{Admission, InformKey, InformTracker};
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{Metric, SNMP_INFORMS_ACKNOWLEDGED, SNMP_INFORMS_UNANSWERED};

/// Batches of informs (one per burst of datagrams) waiting for Kafka at once.
pub const MAX_BATCHES_IN_FLIGHT: usize = 64;
/// How long a stopping source still waits for what it holds (informs waiting for Kafka, traps for room in
/// the queue): long enough for a healthy Kafka to acknowledge what is in flight, short against the grace
/// period (10 s by default), and bounded whatever Kafka is doing.
pub const STOP_WAIT: Duration = Duration::from_secs(1);

/// An inform whose record waits for Kafka; its Response waits in the tracker (the latest copy's). Its `Debug`
/// shows the record's length: what a record holds is for Kafka, not logs.
#[derive(Clone)]
pub struct PendingInform {
    pub key: InformKey,
    pub record: EncodedRecord,
}

impl fmt::Debug for PendingInform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PendingInform")
            .field("key", &self.key)
            .field("record", &Length(self.record.payload.len()))
            .finish()
    }
}

/// What became of an inform just received.
#[derive(Debug)]
pub enum Admitted {
    /// A new inform: to be published with its batch ([`InformAcknowledger::submit`]).
    Publish(PendingInform),
    /// A copy of an inform waiting for Kafka or answered lately: not published again.
    Copy,
    /// A new inform left unanswered (counted): too many bytes wait for Kafka already.
    Unanswered,
}

/// The informs in flight of one source.
pub struct InformAcknowledger {
    shared: Arc<Shared>,
    in_flight: JoinSet<()>,
    /// Times informs were left unanswered for want of room, for logging the first few.
    refusals: u64,
}

/// What the acknowledger and its tasks share.
struct Shared {
    outputs: Arc<Outputs>,
    socket: Arc<UdpSocket>,
    telemetry: Arc<Telemetry>,
    source_id: String,
    topic: String,
    /// A std Mutex: it is held for a few map operations, never across an await.
    tracker: Mutex<InformTracker>,
}

impl Shared {
    fn tracker(&self) -> MutexGuard<'_, InformTracker> {
        // A panic elsewhere while it was held leaves maps that are still consistent enough to go on with.
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, metric: &Metric, informs: usize) {
        if informs > 0 {
            self.telemetry
                .add(metric, &[self.source_id.as_str()], informs as f64);
        }
    }

    /// Forgets informs that will not be answered, so that their senders' next copies are published.
    fn abandon(&self, keys: &[InformKey]) -> usize {
        let mut tracker = self.tracker();
        for key in keys {
            tracker.abandon(key);
        }
        keys.len()
    }

    /// The Responses of the informs Kafka now has, each the latest a copy brought.
    fn published(&self, keys: &[InformKey]) -> Vec<(Vec<u8>, SocketAddr)> {
        let now = Instant::now();
        let mut tracker = self.tracker();
        keys.iter()
            .filter_map(|key| Some((tracker.published(key, now)?, key.sender())))
            .collect()
    }
}

impl InformAcknowledger {
    pub fn new(
        outputs: Arc<Outputs>,
        socket: Arc<UdpSocket>,
        telemetry: Arc<Telemetry>,
        source_id: String,
        topic: String,
    ) -> Self {
        let shared = Shared {
            outputs,
            socket,
            telemetry,
            source_id,
            topic,
            tracker: Mutex::new(InformTracker::default()),
        };
        Self {
            shared: Arc::new(shared),
            in_flight: JoinSet::new(),
            refusals: 0,
        }
    }

    /// Decides on an inform received at `now`, with its record and its Response: a new one is to be
    /// published (unless too many bytes wait already); a copy of one waiting for Kafka is not, and its
    /// Response replaces the one held; a copy of one answered lately is answered again now.
    pub fn admit(
        &mut self,
        notification: &Notification,
        record: EncodedRecord,
        response: Vec<u8>,
        now: Instant,
    ) -> Admitted {
        let key = InformKey::of(notification);
        let admission = self
            .shared
            .tracker()
            .admit(&key, record.payload.len(), response, now);
        match admission {
            Admission::Publish => Admitted::Publish(PendingInform { key, record }),
            Admission::Waiting => Admitted::Copy,
            Admission::AnswerAgain(response) => {
                self.answer_again(&response, key.sender());
                Admitted::Copy
            }
            Admission::Full => {
                self.left_unanswered(1, "too many bytes of informs already wait for Kafka");
                Admitted::Unanswered
            }
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
            let keys: Vec<InformKey> = informs.into_iter().map(|inform| inform.key).collect();
            let count = self.shared.abandon(&keys);
            self.left_unanswered(count, "every batch slot is waiting for Kafka");
            return;
        }
        let task = acknowledge(informs, self.shared.clone());
        // In the source's span, so what the outputs log while publishing names the source.
        self.in_flight.spawn(task.in_current_span());
    }

    /// On stop: waits up to [`STOP_WAIT`] for the informs in flight, then drops the rest unanswered and
    /// counts them. Their senders send them again (to this source once it is back, or to another), which is
    /// what they do for a receiver that is down; waiting longer would hold the stop for as long as Kafka is
    /// away. One whose record Kafka got just before is published again then: at least once.
    pub async fn stop(mut self) {
        let deadline = Instant::now() + STOP_WAIT;
        while let Ok(Some(finished)) = tokio::time::timeout_at(deadline, self.in_flight.join_next()).await {
            log_failure(finished);
        }
        let waiting = self.shared.tracker().waiting();
        // Each aborted task's `Unanswered` forgets and counts its informs.
        self.in_flight.abort_all();
        while let Some(finished) = self.in_flight.join_next().await {
            log_failure(finished);
        }
        if waiting > 0 {
            tracing::warn!(
                informs = waiting,
                "The source stopped with informs still waiting for Kafka; they were left unanswered, and \
                 their senders send them again."
            );
        }
    }

    /// Answers a copy of an inform answered lately, without waiting: when the socket cannot take it now, the
    /// sender sends another copy.
    fn answer_again(&self, response: &[u8], sender: SocketAddr) {
        if let Err(error) = self.shared.socket.try_send_to(response, sender) {
            tracing::debug!(
                %error,
                %sender,
                "An inform's Response could not be sent again; its sender asks again."
            );
        }
    }

    fn left_unanswered(&mut self, count: usize, why: &str) {
        self.shared.count(&SNMP_INFORMS_UNANSWERED, count);
        self.refusals += 1;
        if worth_logging(self.refusals) {
            tracing::warn!(
                informs = count,
                total = self.refusals,
                why,
                "Informs were left unanswered; their senders send them again."
            );
        }
    }
}

/// Logs a task that panicked; one cancelled at the stop is expected.
fn log_failure(finished: Result<(), JoinError>) {
    if let Err(error) = finished
        && !error.is_cancelled()
    {
        tracing::error!(
            %error,
            "A task answering informs failed; its informs stay unanswered and are sent again."
        );
    }
}

/// Publishes the records, then sends each Response.
async fn acknowledge(informs: Vec<PendingInform>, shared: Arc<Shared>) {
    let (keys, records): (Vec<InformKey>, Vec<EncodedRecord>) = informs
        .into_iter()
        .map(|inform| (inform.key, inform.record))
        .unzip();
    let mut unanswered = Unanswered {
        shared: shared.clone(),
        keys,
    };
    if shared.outputs.publish(&shared.topic, &records).await.is_err() {
        // Standard output was closed by its reader: the pipeline stops, and these informs stay unanswered
        // (`unanswered`, dropped, counts them).
        return;
    }
    drop(records);
    let responses = shared.published(&std::mem::take(&mut unanswered.keys));
    let mut acknowledged = 0_usize;
    let mut not_sent = 0_usize;
    for (response, sender) in responses {
        match shared.socket.send_to(&response, sender).await {
            Ok(_) => acknowledged += 1,
            Err(error) => {
                not_sent += 1;
                tracing::warn!(
                    %error,
                    %sender,
                    "An inform's Response could not be sent; its sender sends it again."
                );
            }
        }
    }
    shared.count(&SNMP_INFORMS_ACKNOWLEDGED, acknowledged);
    shared.count(&SNMP_INFORMS_UNANSWERED, not_sent);
}

/// The informs of a batch Kafka does not have yet. Dropped with some left (the publish ended the pipeline,
/// the task was aborted at the stop, or it panicked), it forgets them, so that their senders' copies are
/// published again, and counts them unanswered.
struct Unanswered {
    shared: Arc<Shared>,
    keys: Vec<InformKey>,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let count = self.shared.abandon(&self.keys);
        self.keys.clear();
        self.shared.count(&SNMP_INFORMS_UNANSWERED, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::traps::decode::{Datagram, Outcome};
    use crate::sources::snmp::traps::test_support::{assert_community_absent, decoder, received, sender};
    use crate::sources::snmp::wire::fixtures::{self, hex};

    /// A pending v2c inform shows its key and its record's length, never its community.
    #[test]
    fn debug_never_shows_the_community() {
        let bytes = hex(fixtures::INFORM_V2C_LINK_DOWN);
        let datagram = Datagram {
            bytes: &bytes,
            sender: sender(),
            received_at: received(),
            engine_time: 1,
        };
        let Outcome::Inform { notification, .. } = decoder().decode(&datagram) else {
            panic!("an inform");
        };
        let record = EncodedRecord {
            key: None,
            payload: bytes.clone(),
            timestamp_ms: 0,
            schema: "semaphore.snmp.trap/1",
            source: "traps".to_owned(),
        };
        let pending = PendingInform {
            key: InformKey::of(&notification),
            record,
        };
        let shown = format!("{pending:?}");
        assert_community_absent(&shown, b"public");
        assert!(shown.contains(&format!("<{} bytes>", bytes.len())), "{shown}");
        assert!(shown.contains("192.0.2.77:50162"), "{shown}");
    }
}
