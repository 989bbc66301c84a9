//! What a listener hands to its owner: [`Frame`]s, in batches, through a [`FrameHandler`] whose future the
//! listener awaits before reading more (the back-pressure path).

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

/// Takes frames from a listener. The listener awaits the returned future before it reads more from the same
/// connection (or socket, for UDP), so a handler that waits for its outputs holds the sender back.
///
/// Calls for different connections run concurrently; a handler that needs order across them keeps it itself.
/// A closure `Fn(Vec<Frame>) -> impl Future<Output = ()>` is a handler too.
pub trait FrameHandler: Send + Sync + 'static {
    /// Handles a non-empty batch: the frames of one read, or the datagrams that were waiting.
    fn handle(&self, frames: Vec<Frame>) -> BoxFuture<'_, ()>;
}

impl<F, Fut> FrameHandler for F
where
    F: Fn(Vec<Frame>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn handle(&self, frames: Vec<Frame>) -> BoxFuture<'_, ()> {
        Box::pin(self(frames))
    }
}
