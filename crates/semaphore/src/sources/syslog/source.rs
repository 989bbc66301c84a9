//! The running `[[sources.syslog]]`: one listener per `listen` address, all feeding one handler that parses
//! each frame into a `syslog.message/1` record and hands the batch to the outputs.
//!
//! Back-pressure: the handler queues its batch for [`Outputs::accept`] ([`AcceptQueue`], so a connection
//! reads on while the batch before is in flight), one queue for streams and one for datagrams. `accept`
//! (rather than `publish`) because UDP, TCP and TLS senders cannot be told to resend: while Kafka is away,
//! the Kafka output spools the records to disk instead of holding every sender back. While Kafka is slower
//! than the senders, TCP and TLS connections are held back (the stream queue fills, the listener reads a
//! connection again only once its batch is queued), and UDP lines that back up are spooled (the datagram
//! queue), since a socket not read drops them.
//!
//! RELP senders can (rsyslog keeps every message until it is acknowledged, and sends again what was not):
//! their batches go through [`Outputs::publish`], which returns only once Kafka acknowledged them and never
//! spools, and the listener acknowledges them to the sender only after that. A RELP message thus survives a
//! crash of semaphore, held by its sender, instead of depending on the spool; while Kafka is away the
//! sender waits (and queues), as it would for any RELP receiver that is down.
//!
//! Each sender is looked up in the process's device directory (`[inventory]`), so its records carry the
//! device's identity and are keyed by the device.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::device_identity::DeviceDirectory;
use crate::outputs::Outputs;
use crate::record::EncodedRecord;
use crate::shutdown::Stop;
use crate::sources::SourceFailure;
use crate::sources::accept_queue::{AcceptQueue, WhenBehind};
use crate::sources::listener::{Frame, FrameHandler, Handled, Listener};
use crate::sources::syslog::config::{RawPolicy, SyslogSettings};
use crate::sources::syslog::convert;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::SYSLOG_MESSAGES;

pub struct SyslogSource {
    settings: SyslogSettings,
    outputs: Arc<Outputs>,
    telemetry: Arc<Telemetry>,
    /// Who each sender is.
    devices: Arc<DeviceDirectory>,
}

impl SyslogSource {
    pub fn new(
        settings: SyslogSettings,
        outputs: Arc<Outputs>,
        telemetry: Arc<Telemetry>,
        devices: Arc<DeviceDirectory>,
    ) -> Self {
        Self {
            settings,
            outputs,
            telemetry,
            devices,
        }
    }

    /// Binds every address, then receives until stopped and waits for the listeners to close. A bind that
    /// fails ends the source (and, as for any failed source, the daemon): half the configured ports open
    /// would lose the other half's devices without anyone noticing.
    pub async fn run(self, stop: Stop, once: bool) -> Result<(), SourceFailure> {
        if once {
            // A listener has no cycle to finish: under --once there is nothing for it to do.
            tracing::warn!("A syslog source has no cycle: --once does not run it.");
            return Ok(());
        }
        let topic = &self.settings.topic;
        let (streams, accepting_streams) =
            AcceptQueue::start(self.outputs.clone(), topic.clone(), WhenBehind::HoldSenders);
        let (datagrams, accepting_datagrams) =
            AcceptQueue::start(self.outputs.clone(), topic.clone(), WhenBehind::Spool);
        let handler: Arc<dyn FrameHandler> = Arc::new(SyslogHandler {
            source_id: self.settings.id.clone(),
            topic: topic.clone(),
            raw: self.settings.raw,
            outputs: self.outputs,
            streams,
            datagrams,
            telemetry: self.telemetry.clone(),
            devices: self.devices,
        });
        let mut listeners = Vec::with_capacity(self.settings.listeners.len());
        for config in self.settings.listeners {
            match Listener::bind(config, handler.clone(), stop.clone()).await {
                Ok(listener) => {
                    let bound = listener.listen_address();
                    // One message per transport, so a test (or an operator's grep) finds each port-0 address.
                    tracing::info!(
                        address = %bound.address,
                        listen = %bound,
                        topic = %self.settings.topic,
                        "Syslog listening ({}).",
                        bound.transport
                    );
                    self.telemetry
                        .register_listener(&self.settings.id, bound, listener.stats().clone());
                    listeners.push(listener);
                }
                Err(error) => {
                    // The listeners already bound would otherwise serve until the pipeline's stop.
                    for listener in listeners {
                        listener.into_task().abort();
                    }
                    return Err(SourceFailure::new(&self.settings.id, error));
                }
            }
        }
        stop.stopped().await;
        for listener in listeners {
            listener.wait().await;
        }
        // The listeners held the other copies of the handler, and with it the queues: once it is gone, each
        // queue's task accepts what is left in it and ends.
        drop(handler);
        AcceptQueue::finish(accepting_streams).await;
        AcceptQueue::finish(accepting_datagrams).await;
        Ok(())
    }
}

/// What every listener of one source hands its frames to.
struct SyslogHandler {
    source_id: String,
    topic: String,
    raw: RawPolicy,
    /// RELP batches are published here directly, acknowledged one by one.
    outputs: Arc<Outputs>,
    /// TCP and TLS batches go through this queue, so a connection reads on while the batch before is in
    /// flight, and is held back when Kafka is slower than its sender.
    streams: AcceptQueue,
    /// UDP batches go through this one, which spools what backs up rather than leave the socket unread.
    datagrams: AcceptQueue,
    telemetry: Arc<Telemetry>,
    devices: Arc<DeviceDirectory>,
}

impl FrameHandler for SyslogHandler {
    fn handle(&self, frames: Vec<Frame>) -> BoxFuture<'_, Handled> {
        Box::pin(async move {
            // One batch comes from one connection (or socket), so its frames share their transport.
            let acknowledged = frames.iter().any(|frame| frame.transport.acknowledges());
            let datagram = frames.iter().any(|frame| !frame.transport.is_stream());
            let mut unparsed = 0;
            let records: Vec<EncodedRecord> = frames
                .iter()
                .map(|frame| {
                    let device = self.devices.lookup(frame.peer.ip());
                    let record = convert::record(frame, self.raw, device.as_deref());
                    unparsed += usize::from(record.parse_error.is_some());
                    EncodedRecord::new(&record, Some(record.key()), &self.source_id)
                })
                .collect();
            let source = self.source_id.as_str();
            let parsed = (records.len() - unparsed) as f64;
            self.telemetry.add(&SYSLOG_MESSAGES, &[source, "true"], parsed);
            self.telemetry
                .add(&SYSLOG_MESSAGES, &[source, "false"], unparsed as f64);
            // Undelivered only when standard output was closed by its reader: the pipeline stops on that by
            // itself, and these lines have nowhere left to go (a RELP sender keeps them: not acknowledged).
            let delivered = if acknowledged {
                self.outputs.publish(&self.topic, &records).await.is_ok()
            } else if datagram {
                self.datagrams.send(records).await
            } else {
                self.streams.send(records).await
            };
            if delivered {
                Handled::Delivered
            } else {
                Handled::Undelivered
            }
        })
    }
}
