//! The running `[[sources.snmp_traps]]`: one UDP socket (its own loop rather than the listener driver's,
//! because informs and Reports are answered from it), each datagram decoded by the [`TrapDecoder`], and:
//!
//! - a trap's record queued for the outputs ([`AcceptQueue`], as syslog's UDP lines: spooled while Kafka is
//!   away, since a trap is never sent again);
//! - an inform's record handed to the [`InformAcknowledger`]: published to Kafka, then answered (a copy of an
//!   inform it holds or answered lately is not published again);
//! - a Report (SNMPv3 discovery, an unknown user, a stale clock) sent back at once, at most a few a second
//!   to one address ([`ReportLimiter`]);
//! - a refusal counted by reason, and logged at most once a minute per sender and reason.
//!
//! UDP cannot push back: when Kafka is slower than the traps arrive, the queue spools what backs up
//! (`WhenBehind::Spool`), so the socket is read on; only past the queue's memory bound is it not read, and
//! then datagrams wait in its receive buffer (`receive_buffer_bytes`) and the kernel drops what does not fit,
//! which `semaphore_listener_kernel_drops_total` shows. What the source holds is bounded in bytes: a batch stops
//! at [`MAX_BYTES_PER_SEND`] of records (a 64 KB datagram of tiny varbinds is about 300 KB of JSON), so
//! the queue's batches are bounded in bytes too, and the informs waiting for Kafka are (`retransmission.rs`).
//!
//! On stop the socket is not read any more; the batch in hand waits at most [`STOP_WAIT`] for room in the
//! queue (then its traps are lost, logged), what is queued is accepted, and the informs still waiting for
//! Kafka after [`STOP_WAIT`] are left unanswered for their senders to send again: the source ends whatever
//! Kafka is doing.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::bus::producer::MAX_BYTES_PER_SEND;
use crate::device_identity::DeviceDirectory;
use crate::outputs::Outputs;
use crate::record::{EncodedRecord, SnmpTrapPdu, SnmpTrapVersion};
use crate::shutdown::Stop;
use crate::sources::SourceFailure;
use crate::sources::accept_queue::{AcceptQueue, WhenBehind};
use crate::sources::listener::stats::worth_logging;
use crate::sources::listener::{ListenAddress, ListenerConfig, ListenerStats, bind_error, bind_udp};
use crate::sources::snmp::traps::config::SnmpTrapsSettings;
use crate::sources::snmp::traps::convert;
use crate::sources::snmp::traps::decode::{Datagram, Outcome, TrapDecoder};
use crate::sources::snmp::traps::engine::to_hex;
use crate::sources::snmp::traps::error::TrapError;
use crate::sources::snmp::traps::informs::{Admitted, InformAcknowledger, PendingInform, STOP_WAIT};
use crate::sources::snmp::traps::notification::Notification;
use crate::sources::snmp::traps::report_limit::ReportLimiter;
use crate::sources::snmp::traps::warnings::WarningLimiter;
use crate::sources::snmp::wire::time_window::MAX_ENGINE_BOOTS;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::{SNMP_TRAP_ERRORS, SNMP_TRAPS};

/// Holds the largest UDP payload (65,507 bytes over IPv4), so no datagram is cut by the receive call.
const DATAGRAM_BUFFER_BYTES: usize = 65_536;
/// Datagrams read before their records are handed on: one batch for the queue, one for Kafka (unless its
/// records reach [`MAX_BYTES_PER_SEND`] first).
const DATAGRAMS_PER_BATCH: usize = 256;
/// Pause after a receive error, so an error that repeats cannot spin the loop.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

/// A trap source, built and not yet bound.
pub struct SnmpTrapSource {
    settings: SnmpTrapsSettings,
    decoder: TrapDecoder,
    outputs: Arc<Outputs>,
    telemetry: Arc<Telemetry>,
    devices: Arc<DeviceDirectory>,
}

/// A trap source whose socket is bound.
pub struct BoundTrapSource {
    source: SnmpTrapSource,
    socket: Arc<UdpSocket>,
    stats: Arc<ListenerStats>,
}

impl SnmpTrapSource {
    pub fn new(
        settings: SnmpTrapsSettings,
        decoder: TrapDecoder,
        outputs: Arc<Outputs>,
        telemetry: Arc<Telemetry>,
        devices: Arc<DeviceDirectory>,
    ) -> Self {
        Self {
            settings,
            decoder,
            outputs,
            telemetry,
            devices,
        }
    }

    /// Binds, then receives until stopped. A bind that fails ends the source (and the daemon), naming the
    /// address and the fix (a port below 1024 needs CAP_NET_BIND_SERVICE).
    pub async fn run(self, stop: Stop) -> Result<(), SourceFailure> {
        self.bind().await?.serve(stop).await;
        Ok(())
    }

    pub async fn bind(self) -> Result<BoundTrapSource, SourceFailure> {
        let id = self.settings.id.clone();
        let listen = self.settings.listen;
        let config = ListenerConfig {
            receive_buffer_bytes: self.settings.receive_buffer_bytes,
            ..ListenerConfig::new(listen)
        };
        let socket = bind_udp(&config)
            .await
            .map_err(|error| SourceFailure::new(&id, error))?;
        let address = socket
            .local_addr()
            .map_err(|source| SourceFailure::new(&id, bind_error(listen, source)))?;
        let bound = ListenAddress { address, ..listen };
        let stats = Arc::new(ListenerStats::default());
        // Its counters and the kernel's drops on /metrics, as every listener's.
        self.telemetry.register_listener(&id, bound, stats.clone());
        let engine = self.decoder.engine();
        tracing::info!(
            address = %address,
            listen = %bound,
            topic = %self.settings.topic,
            engine_id = %to_hex(&engine.id),
            engine_boots = engine.boots,
            "SNMP traps listening."
        );
        Ok(BoundTrapSource {
            source: self,
            socket: Arc::new(socket),
            stats,
        })
    }
}

impl BoundTrapSource {
    pub fn local_address(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Receives until stopped, then accepts the queued traps and gives the informs in flight [`STOP_WAIT`]
    /// to be published and answered before returning.
    pub async fn serve(self, stop: Stop) {
        let BoundTrapSource {
            source,
            socket,
            stats,
        } = self;
        let settings = source.settings;
        let (queue, accepting) =
            AcceptQueue::start(source.outputs.clone(), settings.topic.clone(), WhenBehind::Spool);
        let informs = InformAcknowledger::new(
            source.outputs,
            socket.clone(),
            source.telemetry.clone(),
            settings.id.clone(),
            settings.topic,
        );
        let mut receiver = Receiver {
            source_id: settings.id,
            socket,
            decoder: source.decoder,
            telemetry: source.telemetry,
            devices: source.devices,
            stats,
            queue,
            informs,
            warnings: WarningLimiter::default(),
            reports: ReportLimiter::default(),
            started: Instant::now(),
            receive_errors: 0,
        };
        receiver.receive_until(&stop).await;
        let Receiver { queue, informs, .. } = receiver;
        let traps = async move {
            // The queue's task accepts what it holds and ends once its last sender is gone.
            drop(queue);
            AcceptQueue::finish(accepting).await;
        };
        tokio::join!(informs.stop(), traps);
    }
}

/// The receive loop's state.
struct Receiver {
    source_id: String,
    socket: Arc<UdpSocket>,
    decoder: TrapDecoder,
    telemetry: Arc<Telemetry>,
    devices: Arc<DeviceDirectory>,
    stats: Arc<ListenerStats>,
    queue: AcceptQueue,
    informs: InformAcknowledger,
    warnings: WarningLimiter,
    reports: ReportLimiter,
    /// When our engine's time started (snmpEngineTime counts from it).
    started: Instant,
    receive_errors: u64,
}

/// What one batch of datagrams came to.
#[derive(Default)]
struct Work {
    traps: Vec<EncodedRecord>,
    informs: Vec<PendingInform>,
    /// The records' payloads, traps' and informs': a batch stops at [`MAX_BYTES_PER_SEND`].
    bytes: usize,
    tally: Tally,
    /// A receive failed (other than "nothing queued").
    failed: bool,
}

impl Work {
    fn full(&self, datagrams: usize) -> bool {
        datagrams >= DATAGRAMS_PER_BATCH || self.bytes >= MAX_BYTES_PER_SEND
    }
}

impl Receiver {
    async fn receive_until(&mut self, stop: &Stop) {
        let mut buffer = vec![0_u8; DATAGRAM_BUFFER_BYTES];
        loop {
            let readable = tokio::select! {
                // Biased: once stopped, queued datagrams are not read any more.
                biased;
                () = stop.stopped() => break,
                readable = self.socket.readable() => readable,
            };
            if let Err(error) = readable {
                self.receive_failed(&error);
                stop.sleep(ERROR_PAUSE).await;
                continue;
            }
            let work = self.receive_batch(&mut buffer);
            let failed = work.failed;
            self.deliver(work, stop).await;
            if failed {
                stop.sleep(ERROR_PAUSE).await;
            }
        }
        tracing::debug!("SNMP trap receiver stopped.");
    }

    /// Reads and decodes the datagrams already queued, up to a batch (in datagrams or in bytes of records).
    fn receive_batch(&mut self, buffer: &mut [u8]) -> Work {
        let received_at = Utc::now();
        let now = Instant::now();
        let engine_time = engine_time(self.started, now);
        let mut work = Work::default();
        let mut datagrams = 0;
        while !work.full(datagrams) {
            match self.socket.try_recv_from(buffer) {
                Ok((length, sender)) => {
                    datagrams += 1;
                    self.stats.bytes.add(length as u64);
                    self.stats.frames.add(1);
                    let datagram = Datagram {
                        bytes: &buffer[..length],
                        sender,
                        received_at,
                        engine_time,
                    };
                    let outcome = self.decoder.decode(&datagram);
                    self.take(outcome, sender, now, &mut work);
                }
                // Nothing more queued; `try_recv_from` also cleared the readiness, so `readable` waits again.
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) => {
                    self.receive_failed(&error);
                    work.failed = true;
                    break;
                }
            }
        }
        work
    }

    fn take(&mut self, outcome: Outcome, sender: SocketAddr, now: Instant, work: &mut Work) {
        match outcome {
            Outcome::Trap(notification) => {
                work.tally.notification(&notification);
                let record = self.encode(&notification);
                work.bytes += record.payload.len();
                work.traps.push(record);
            }
            Outcome::Inform {
                notification,
                response,
            } => self.take_inform(&notification, response, now, work),
            Outcome::Discovery { report } => self.send_report(&report, sender, now),
            Outcome::Refused { error, report } => {
                work.tally.refused(&error);
                self.warn(&error, sender, now);
                if let Some(report) = report {
                    self.send_report(&report, sender, now);
                }
            }
        }
    }

    /// A new inform joins the batch; a copy of one the acknowledger holds or answered lately is neither
    /// published nor counted again.
    fn take_inform(&mut self, notification: &Notification, response: Vec<u8>, now: Instant, work: &mut Work) {
        let record = self.encode(notification);
        match self.informs.admit(notification, record, response, now) {
            Admitted::Publish(inform) => {
                work.tally.notification(notification);
                work.bytes += inform.record.payload.len();
                work.informs.push(inform);
            }
            Admitted::Unanswered => work.tally.notification(notification),
            Admitted::Copy => {}
        }
    }

    /// The notification's record, its sender named from the device directory and keyed by the device.
    fn encode(&self, notification: &Notification) -> EncodedRecord {
        let device = convert::device(notification, |address| self.devices.lookup(address));
        let record = convert::record(notification, &self.source_id, device.as_deref());
        EncodedRecord::new(&record, Some(record.key()), &self.source_id)
    }

    /// Sends a Report without waiting, unless the address had its few this second (a Report answers
    /// datagrams anyone can send, from any address they like). When the socket cannot take it now, or it
    /// was held back, the sender asks again.
    fn send_report(&mut self, report: &[u8], sender: SocketAddr, now: Instant) {
        if !self.reports.allow(sender.ip(), now) {
            return;
        }
        if let Err(error) = self.socket.try_send_to(report, sender) {
            tracing::debug!(%error, %sender, "A Report could not be sent; the sender asks again.");
        }
    }

    fn warn(&mut self, error: &TrapError, sender: SocketAddr, now: Instant) {
        let reason = error.reason();
        if self.warnings.should_log(sender.ip(), reason, now) {
            tracing::warn!(
                %sender,
                reason,
                %error,
                "An SNMP datagram was refused; more from this sender for this reason are counted, not logged, \
                 for a minute."
            );
        }
    }

    /// Hands the batch on: its informs to the acknowledger, its traps to the queue, waiting while the queue
    /// is full (the socket is not read meanwhile), but once stopped for [`STOP_WAIT`] at most.
    async fn deliver(&mut self, work: Work, stop: &Stop) {
        work.tally.record(&self.telemetry, &self.source_id);
        self.informs.submit(work.informs);
        let traps = work.traps.len();
        if traps == 0 {
            return;
        }
        tokio::select! {
            // False only when standard output was closed by its reader, and the pipeline is stopping.
            _ = self.queue.send(work.traps) => {}
            () = after_stop(stop) => {
                tracing::error!(
                    traps,
                    "The source stopped while the queue to the outputs stayed full; these traps were lost."
                );
            }
        }
    }

    fn receive_failed(&mut self, error: &std::io::Error) {
        self.stats.read_errors.add(1);
        self.receive_errors += 1;
        if worth_logging(self.receive_errors) {
            let total = self.receive_errors;
            tracing::warn!(%error, total, "Receiving an SNMP datagram failed; receiving goes on.");
        }
    }
}

/// Completes [`STOP_WAIT`] after the stop.
async fn after_stop(stop: &Stop) {
    stop.stopped().await;
    tokio::time::sleep(STOP_WAIT).await;
}

/// snmpEngineTime at `now`: whole seconds since `started`, within SNMP's range.
fn engine_time(started: Instant, now: Instant) -> u32 {
    let seconds = now.saturating_duration_since(started).as_secs();
    u32::try_from(seconds).unwrap_or(u32::MAX).min(MAX_ENGINE_BOOTS)
}

/// One batch's counts, added to the metrics once per batch rather than once per datagram.
#[derive(Default)]
struct Tally {
    notifications: HashMap<(SnmpTrapVersion, SnmpTrapPdu), u64>,
    refusals: HashMap<&'static str, u64>,
}

impl Tally {
    fn notification(&mut self, notification: &Notification) {
        let key = (notification.record_version(), notification.pdu_kind());
        *self.notifications.entry(key).or_default() += 1;
    }

    fn refused(&mut self, error: &TrapError) {
        *self.refusals.entry(error.reason()).or_default() += 1;
    }

    fn record(&self, telemetry: &Telemetry, source: &str) {
        for ((version, pdu), count) in &self.notifications {
            let labels = [source, version.as_str(), pdu.as_str()];
            telemetry.add(&SNMP_TRAPS, &labels, *count as f64);
        }
        for (reason, count) in &self.refusals {
            telemetry.add(&SNMP_TRAP_ERRORS, &[source, *reason], *count as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::future::BoxFuture;
    use tokio::sync::watch;

    use super::*;
    use crate::outputs::lines::{LinesOutput, LinesTarget};
    use crate::outputs::{Output, OutputFailure};
    use crate::sources::snmp::traps::config::DEFAULT_LISTEN;
    use crate::sources::snmp::traps::test_support::decoder;
    use crate::sources::snmp::wire::fixtures::{self, hex};
    use crate::sources::snmp::wire::{Message, ReportError, usm};
    use crate::telemetry::metrics::{SNMP_INFORMS_ACKNOWLEDGED, SNMP_INFORMS_UNANSWERED};

    fn settings() -> SnmpTrapsSettings {
        SnmpTrapsSettings {
            id: "traps".to_owned(),
            listen: "udp://127.0.0.1:0".parse().unwrap(),
            topic: "snmp.traps".to_owned(),
            receive_buffer_bytes: Some(1 << 20),
            communities: None,
            engine_id: None,
            users: Vec::new(),
        }
    }

    /// Lines of the file output, as JSON.
    fn written(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            // A line being written as it is read is left for the next look.
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// An output that takes nothing until opened, as Kafka while it is away; then keeps what it took.
    #[derive(Debug)]
    struct GatedOutput {
        open: watch::Sender<bool>,
        taken: std::sync::Mutex<Vec<EncodedRecord>>,
    }

    impl GatedOutput {
        fn closed() -> Arc<Self> {
            Arc::new(Self {
                open: watch::channel(false).0,
                taken: std::sync::Mutex::default(),
            })
        }

        fn open(&self) {
            self.open.send_replace(true);
        }

        fn taken(&self) -> usize {
            self.taken.lock().unwrap().len()
        }
    }

    impl Output for GatedOutput {
        fn name(&self) -> String {
            "gated".to_owned()
        }

        fn label(&self) -> &'static str {
            "gated"
        }

        fn write<'a>(
            &'a self,
            _topic: &'a str,
            records: &'a [EncodedRecord],
        ) -> BoxFuture<'a, Result<(), OutputFailure>> {
            Box::pin(async move {
                let mut open = self.open.subscribe();
                let _ = open.wait_for(|open| *open).await;
                self.taken.lock().unwrap().extend_from_slice(records);
                Ok(())
            })
        }
    }

    /// A source writing to `output`, serving; its address, its counters, its stop and its task.
    async fn serving_into(
        output: Arc<dyn Output>,
        telemetry: &Arc<Telemetry>,
    ) -> (
        SocketAddr,
        Arc<ListenerStats>,
        crate::shutdown::StopTrigger,
        tokio::task::JoinHandle<()>,
    ) {
        let outputs = Arc::new(Outputs::new(vec![output], telemetry.clone()));
        let devices = Arc::new(DeviceDirectory::new(Arc::default(), false));
        let source = SnmpTrapSource::new(settings(), decoder(), outputs, telemetry.clone(), devices);
        let bound = source.bind().await.unwrap();
        let address = bound.local_address().unwrap();
        let stats = bound.stats.clone();
        let (trigger, stop) = crate::shutdown::stop_pair();
        (address, stats, trigger, tokio::spawn(bound.serve(stop)))
    }

    /// The next datagram `client` receives.
    async fn answer(client: &UdpSocket) -> Vec<u8> {
        let mut buffer = vec![0_u8; 2_048];
        let (length, _) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buffer))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        buffer.truncate(length);
        buffer
    }

    /// Whether nothing arrives for `wait`.
    async fn silent(client: &UdpSocket, wait: Duration) -> bool {
        let mut buffer = vec![0_u8; 2_048];
        tokio::time::timeout(wait, client.recv_from(&mut buffer))
            .await
            .is_err()
    }

    /// Issue 14's review: the copies a sender sends while Kafka is away are not published again. The inform
    /// is published once and answered once Kafka has it; a copy that comes after is answered again at once,
    /// and not published again.
    #[tokio::test]
    async fn copies_of_an_inform_are_published_once() {
        let telemetry = Telemetry::new();
        let gated = GatedOutput::closed();
        let (address, stats, trigger, serving) = serving_into(gated.clone(), &telemetry).await;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let inform = hex(fixtures::INFORM_V2C_LINK_DOWN);
        for _ in 0..3 {
            client.send_to(&inform, address).await.unwrap();
        }
        eventually("three copies received", || stats.frames.get() == 3).await;
        assert!(
            silent(&client, Duration::from_millis(100)).await,
            "answered before Kafka had it"
        );
        gated.open();
        assert_eq!(answer(&client).await, hex(fixtures::INFORM_RESPONSE_V2C));
        assert_eq!(gated.taken(), 1);
        assert!(
            silent(&client, Duration::from_millis(300)).await,
            "answered twice"
        );
        client.send_to(&inform, address).await.unwrap();
        assert_eq!(answer(&client).await, hex(fixtures::INFORM_RESPONSE_V2C));
        assert_eq!(gated.taken(), 1);
        assert_eq!(telemetry.get(&SNMP_INFORMS_ACKNOWLEDGED, &["traps"]), 1.0);
        assert_eq!(telemetry.get(&SNMP_TRAPS, &["traps", "2c", "inform"]), 1.0);
        trigger.trigger();
        tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .expect("the source stops")
            .unwrap();
    }

    /// Issue 14's review: stopped while Kafka is away, the source ends after `STOP_WAIT`, leaving the inform
    /// waiting for Kafka unanswered (counted) for its sender to send again.
    #[tokio::test]
    async fn a_stop_while_kafka_is_away_ends_leaving_informs_unanswered() {
        let telemetry = Telemetry::new();
        let gated = GatedOutput::closed();
        let (address, stats, trigger, serving) = serving_into(gated.clone(), &telemetry).await;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client
            .send_to(&hex(fixtures::INFORM_V2C_LINK_DOWN), address)
            .await
            .unwrap();
        eventually("the inform received", || stats.frames.get() == 1).await;
        trigger.trigger();
        tokio::time::timeout(STOP_WAIT + Duration::from_secs(4), serving)
            .await
            .expect("the source stops whatever Kafka is doing")
            .unwrap();
        assert_eq!(telemetry.get(&SNMP_INFORMS_UNANSWERED, &["traps"]), 1.0);
        assert_eq!(telemetry.get(&SNMP_INFORMS_ACKNOWLEDGED, &["traps"]), 0.0);
        assert_eq!(gated.taken(), 0);
        assert!(
            silent(&client, Duration::from_millis(100)).await,
            "answered without Kafka"
        );
    }

    async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
        for _ in 0..500 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{what} did not happen within 5 s");
    }

    /// A trap lands in the output; an inform is answered once its record is written; a discovery probe is
    /// answered with our engine; garbage is counted; stop ends the source.
    #[tokio::test]
    async fn traps_and_informs_arrive_and_informs_are_answered() {
        assert_eq!(DEFAULT_LISTEN, "udp://127.0.0.1:1162");
        let directory = std::env::temp_dir().join(format!("snmp-traps-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("records.jsonl");
        let telemetry = Telemetry::new();
        let file: Arc<dyn Output> = Arc::new(LinesOutput::new(LinesTarget::File(path.clone())));
        let outputs = Arc::new(Outputs::new(vec![file], telemetry.clone()));
        let devices = Arc::new(DeviceDirectory::new(Arc::default(), false));
        let source = SnmpTrapSource::new(settings(), decoder(), outputs, telemetry.clone(), devices);
        let bound = source.bind().await.unwrap();
        let address = bound.local_address().unwrap();
        let (trigger, stop) = crate::shutdown::stop_pair();
        let serving = tokio::spawn(bound.serve(stop));

        let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client
            .send_to(&hex(fixtures::TRAP_V2C_LINK_DOWN), address)
            .await
            .unwrap();
        client
            .send_to(&hex(fixtures::INFORM_V2C_LINK_DOWN), address)
            .await
            .unwrap();
        let mut answer = vec![0_u8; 2_048];
        let (length, from) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut answer))
            .await
            .expect("an answer to the inform")
            .unwrap();
        assert_eq!(from, address);
        assert_eq!(&answer[..length], &hex(fixtures::INFORM_RESPONSE_V2C)[..]);
        // Answered only once written.
        let records = written(&path);
        assert!(
            records.iter().any(|record| record["pduType"] == "inform"),
            "{records:?}"
        );

        client
            .send_to(&hex(fixtures::INFORM_DISCOVERY_REQUEST), address)
            .await
            .unwrap();
        let (length, _) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut answer))
            .await
            .expect("a Report")
            .unwrap();
        let report = &answer[..length];
        let Ok(Message::V3(report)) = Message::decode(report) else {
            panic!("an SNMPv3 Report");
        };
        let parameters = usm::security_parameters(&report).unwrap();
        assert_eq!(parameters.engine_id, hex(fixtures::RECEIVER_ENGINE));
        let report_pdu = report
            .unauthenticated_scoped_pdu()
            .and_then(|scoped| scoped.pdu.as_pdu());
        let error = report_pdu.and_then(ReportError::from_pdu);
        assert_eq!(error, Some(ReportError::UnknownEngineId));
        client.send_to(b"not snmp", address).await.unwrap();
        let errors = || telemetry.get(&SNMP_TRAP_ERRORS, &["traps", "malformed"]);
        eventually("the malformed datagram counted", || errors() == 1.0).await;
        eventually("the trap written", || written(&path).len() == 2).await;

        let records = written(&path);
        let trap = records
            .iter()
            .find(|record| record["pduType"] == "trap")
            .expect("the trap");
        assert_eq!(trap["trapName"], "linkDown");
        assert_eq!(trap["sourceIp"], "127.0.0.1");
        assert_eq!(trap["source"], "traps");
        assert_eq!(telemetry.get(&SNMP_TRAPS, &["traps", "2c", "trap"]), 1.0);
        assert_eq!(telemetry.get(&SNMP_TRAPS, &["traps", "2c", "inform"]), 1.0);
        let acknowledged = || telemetry.get(&SNMP_INFORMS_ACKNOWLEDGED, &["traps"]);
        eventually("the inform counted as acknowledged", || acknowledged() == 1.0).await;
        let text = telemetry.render();
        assert!(
            text.contains("semaphore_listener_messages_total{source=\"traps\""),
            "{text}"
        );

        trigger.trigger();
        tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .expect("the source stops")
            .unwrap();
    }

    #[test]
    fn engine_time_counts_seconds_from_the_start() {
        let start = Instant::now();
        assert_eq!(engine_time(start, start + Duration::from_millis(1_999)), 1);
        assert_eq!(engine_time(start + Duration::from_secs(5), start), 0);
    }
}
