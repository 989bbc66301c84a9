//! What a listener hands to its owner: [`Frame`]s, in batches, through a [`FrameHandler`] whose future the
//! listener awaits before reading more (the back-pressure path), and what the owner says back about a batch
//! ([`Handled`]), which a RELP listener turns into its acknowledgements.

use std::future::Future;
use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::sources::listener::address::Transport;

/// One message as received: a datagram, or one frame cut from a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message without its framing (no length prefix, no line end).
    pub bytes: Vec<u8>,
    /// Who sent it: the datagram's source, or the connection's remote end (for TLS, the TCP peer).
    pub peer: SocketAddr,
    pub transport: Transport,
    /// Longer than `max_frame_bytes` and cut to it (or, in octet counting, cut short by the connection's
    /// end).
    pub truncated: bool,
    /// When the bytes were read from the socket (the record's `receivedAt`).
    pub received_at: DateTime<Utc>,
}

/// What became of a batch once the handler's future completed.
///
/// Only a transport that acknowledges to its sender (RELP, [`Transport::acknowledges`]) acts on it: it
/// acknowledges the batch's messages when they were delivered, and otherwise closes the connection without
/// acknowledging them, so the sender sends them again. The others have no way to tell their sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Every output took every frame (for a RELP batch: Kafka acknowledged it).
    Delivered,
    /// The batch was not taken, and will not be: standard output was closed by its reader and the pipeline is
    /// stopping.
    Undelivered,
}

/// Takes frames from a listener. The listener awaits the returned future before it reads more from the same
/// connection (or socket, for UDP), so a handler that waits for its outputs holds the sender back.
///
/// Calls for different connections run concurrently; a handler that needs order across them keeps it itself.
/// A closure `Fn(Vec<Frame>) -> impl Future<Output = ()>` is a handler too, one that always delivers.
pub trait FrameHandler: Send + Sync + 'static {
    /// Handles a non-empty batch: the frames of one read, or the datagrams that were waiting. All the frames
    /// of one call come from one connection (or socket), so they share one transport.
    fn handle(&self, frames: Vec<Frame>) -> BoxFuture<'_, Handled>;
}

impl<F, Fut> FrameHandler for F
where
    F: Fn(Vec<Frame>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn handle(&self, frames: Vec<Frame>) -> BoxFuture<'_, Handled> {
        let handling = self(frames);
        Box::pin(async move {
            handling.await;
            Handled::Delivered
        })
    }
}
