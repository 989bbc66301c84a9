//! The stream side, for TCP, TLS and RELP alike: an accept loop that admits up to `max_connections`, and one
//! task per connection (TLS handshake, then read → frame → hand over → read again; a RELP connection speaks
//! its protocol in `relp` with this module's reading).
//!
//! Each connection is its own task, so a slow handshake, a silent or half-open peer or a stream of garbage
//! holds up nothing but itself, and the idle timeout reclaims it. A connection reads again only after the
//! handler returned: that await is the back-pressure, the socket's receive buffer and then the sender's TCP
//! window fill while the outputs are busy.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::Instrument;

use crate::sources::listener::address::Transport;
use crate::sources::listener::config::ListenerConfig;
use crate::sources::listener::driver::{Context, ListenerError, bind_error};
use crate::sources::listener::framing::FramerOutput;
use crate::sources::listener::relp;
use crate::sources::listener::stats::{ListenerStats, worth_logging};

/// Bytes read at a time; also the most a connection reads ahead of a waiting handler.
pub(super) const READ_BUFFER_BYTES: usize = 16 * 1024;

/// Pending connections the kernel queues before we accept them (mio's default for `TcpListener::bind`).
const BACKLOG: u32 = 1024;

/// After a failed accept (out of file descriptors, usually), wait this long, doubling up to the maximum:
/// accepting again at once would fail again and spin.
const ACCEPT_PAUSE_FIRST: Duration = Duration::from_millis(10);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);

/// How long a closing connection may take to send its FIN (and TLS close_notify).
pub(super) const CLOSE_WITHIN: Duration = Duration::from_secs(1);

pub(super) fn bind(config: &ListenerConfig) -> Result<TcpListener, ListenerError> {
    let listen = config.listen;
    let error = |source| bind_error(listen, source);
    let socket = if listen.address.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(error)?;
    // As std and mio do: a restarted collector can bind again while its old connections sit in TIME_WAIT.
    socket.set_reuseaddr(true).map_err(error)?;
    if let Some(bytes) = config.receive_buffer_bytes {
        // Set before listen, so accepted connections inherit it and the window scale fits it.
        let size = u32::try_from(bytes).unwrap_or(u32::MAX);
        socket
            .set_recv_buffer_size(size)
            .map_err(|source| ListenerError::ReceiveBuffer {
                listen,
                bytes,
                source,
            })?;
    }
    socket.bind(listen.address).map_err(error)?;
    socket.listen(BACKLOG).map_err(error)
}

/// Accepts until stopped, then stops accepting (closing the listening socket) and waits for every connection
/// to end; a connection in a handler call ends once the call returns.
pub(super) async fn run(listener: TcpListener, tls: Option<TlsAcceptor>, context: Arc<Context>) {
    let permits = context.config.max_connections.min(Semaphore::MAX_PERMITS);
    let server = StreamServer {
        limit: Arc::new(Semaphore::new(permits)),
        tls,
        context,
    };
    let mut connections = JoinSet::new();
    server.accept_until_stopped(&listener, &mut connections).await;
    drop(listener);
    while let Some(joined) = connections.join_next().await {
        connection_ended(joined);
    }
    tracing::debug!("Stream listener stopped.");
}

struct StreamServer {
    /// One permit per open connection.
    limit: Arc<Semaphore>,
    tls: Option<TlsAcceptor>,
    context: Arc<Context>,
}

impl StreamServer {
    async fn accept_until_stopped(&self, listener: &TcpListener, connections: &mut JoinSet<()>) {
        let mut pause = ACCEPT_PAUSE_FIRST;
        loop {
            tokio::select! {
                biased;
                () = self.context.stop.stopped() => return,
                // Reaps ended connections as they go, so the set does not grow with every connection made.
                Some(joined) = connections.join_next() => connection_ended(joined),
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        pause = ACCEPT_PAUSE_FIRST;
                        self.admit(stream, peer, connections);
                    }
                    Err(error) => {
                        if !self.accept_failed(&error, pause).await {
                            return;
                        }
                        pause = (pause * 2).min(ACCEPT_PAUSE_MAX);
                    }
                },
            }
        }
    }

    /// Starts serving a new connection, or closes it at once when `max_connections` are open.
    fn admit(&self, stream: TcpStream, peer: SocketAddr, connections: &mut JoinSet<()>) {
        let stats = &self.context.stats;
        let Ok(permit) = self.limit.clone().try_acquire_owned() else {
            let total = stats.connections_refused.add(1);
            if worth_logging(total) {
                tracing::warn!(
                    %peer, max_connections = self.context.config.max_connections, total,
                    "Refused a connection: the listener has max_connections open."
                );
            }
            // Dropping the stream closes it.
            return;
        };
        stats.connections_accepted.add(1);
        let open = OpenConnection {
            stats: stats.clone(),
            _permit: permit,
        };
        let tls = self.tls.clone();
        let context = self.context.clone();
        connections.spawn(
            async move {
                let _open = open;
                serve(stream, peer, tls, &context).await;
            }
            .in_current_span(),
        );
    }

    /// Counts and logs a failed accept, then pauses; false when stopped during the pause.
    async fn accept_failed(&self, error: &std::io::Error, pause: Duration) -> bool {
        let total = self.context.stats.accept_errors.add(1);
        match error.kind() {
            // The peer gave up before we accepted: only that connection is lost, accept the next at once.
            ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset => true,
            // Out of file descriptors or memory: accepting again right away would fail the same way.
            _ => {
                if worth_logging(total) {
                    tracing::warn!(
                        %error, total, pause_ms = pause.as_millis() as u64,
                        "Accepting a connection failed; trying again after a pause."
                    );
                }
                self.context.stop.sleep(pause).await
            }
        }
    }
}

/// Holds a connection's place under `max_connections` and counts its end, however the task ends.
struct OpenConnection {
    stats: Arc<ListenerStats>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.stats.connections_closed.add(1);
    }
}

fn connection_ended(joined: Result<(), JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "A connection's task panicked; that connection is closed.");
    }
}

async fn serve(stream: TcpStream, peer: SocketAddr, tls: Option<TlsAcceptor>, context: &Context) {
    tracing::debug!(%peer, "Connection opened.");
    match tls {
        None => serve_stream(stream, peer, context).await,
        Some(acceptor) => {
            if let Some(stream) = handshake(&acceptor, stream, peer, context).await {
                serve_stream(stream, peer, context).await;
            }
        }
    }
}

/// Serves an open stream (after its TLS handshake, if any) as its transport says: RELP transactions, or
/// syslog frames.
async fn serve_stream<S>(stream: S, peer: SocketAddr, context: &Context)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match context.config.listen.transport {
        Transport::Relp => relp::serve(stream, peer, context).await,
        Transport::Tcp | Transport::Tls | Transport::Udp => read_frames(stream, peer, context).await,
    }
}

/// The server side of the TLS handshake, bounded by the idle timeout; a failure is counted and closes only
/// this connection.
async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    context: &Context,
) -> Option<TlsStream<TcpStream>> {
    let outcome = tokio::select! {
        biased;
        () = context.stop.stopped() => return None,
        outcome = tokio::time::timeout(context.config.idle_timeout, acceptor.accept(stream)) => outcome,
    };
    let error = match outcome {
        Ok(Ok(stream)) => return Some(stream),
        Ok(Err(error)) => error.to_string(),
        Err(_elapsed) => "no handshake within idle_timeout".to_owned(),
    };
    let total = context.stats.tls_handshake_failures.add(1);
    if worth_logging(total) {
        tracing::warn!(%peer, %error, total, "A TLS handshake failed; the connection is closed.");
    }
    None
}

/// Why a connection's reading ended.
pub(super) enum ReadOutcome {
    Data(usize),
    Ended(&'static str),
}

/// Reads, frames and hands over until the connection ends, is idle too long, or the listener stops; what is
/// buffered at the end is framed as the last frame (or counted as a framing error).
async fn read_frames<S>(mut stream: S, peer: SocketAddr, context: &Context)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut framer = context.config.framing.framer(context.config.max_frame_bytes);
    let mut buffer = vec![0u8; READ_BUFFER_BYTES];
    loop {
        let mut output = FramerOutput::default();
        match read_some(&mut stream, &mut buffer, context).await {
            ReadOutcome::Data(length) => {
                context.stats.bytes.add(length as u64);
                framer.push(&buffer[..length], &mut output);
                // The back-pressure: nothing more is read from this connection until the handler returned.
                // What it says about the batch is of no use here: a plain stream cannot tell its sender.
                context.deliver(output, peer).await;
            }
            ReadOutcome::Ended(reason) => {
                framer.finish(&mut output);
                context.deliver(output, peer).await;
                tracing::debug!(%peer, reason, "Connection closed.");
                // FIN (and close_notify) rather than a bare drop; bounded, the peer may not be reading.
                let _ = tokio::time::timeout(CLOSE_WITHIN, stream.shutdown()).await;
                return;
            }
        }
    }
}

/// Reads what the peer sent, up to `buffer`'s length, unless the listener stops or the connection stays
/// silent for `idle_timeout` first.
pub(super) async fn read_some<S>(stream: &mut S, buffer: &mut [u8], context: &Context) -> ReadOutcome
where
    S: AsyncRead + Unpin,
{
    let read = tokio::select! {
        // Biased: once stopped, no more is read even when bytes are waiting.
        biased;
        () = context.stop.stopped() => return ReadOutcome::Ended("the listener stopped"),
        read = tokio::time::timeout(context.config.idle_timeout, stream.read(buffer)) => read,
    };
    match read {
        Ok(Ok(0)) => ReadOutcome::Ended("closed by the peer"),
        Ok(Ok(length)) => ReadOutcome::Data(length),
        Ok(Err(error)) => {
            // A reset or a TLS error: the peer's problem, logged for developers only.
            context.stats.read_errors.add(1);
            tracing::debug!(%error, "Reading a connection failed.");
            ReadOutcome::Ended("read failed")
        }
        Err(_elapsed) => {
            context.stats.idle_closes.add(1);
            ReadOutcome::Ended("idle for idle_timeout")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpSocket, TcpStream};

    use super::READ_BUFFER_BYTES;
    use crate::sources::listener::address::Transport;
    use crate::sources::listener::config::ListenerConfig;
    use crate::sources::listener::driver::Listener;
    use crate::sources::listener::frame::Frame;
    use crate::sources::listener::test_support::{Collector, eventually, start, tcp_config};

    /// Waits until the server closes `stream` (end of stream or reset).
    async fn closed_by_server(stream: &mut TcpStream, what: &str) {
        let mut discard = [0u8; 1024];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(read) = stream.read(&mut discard).await {
                if read == 0 {
                    break;
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "{what} was not closed");
    }

    #[tokio::test]
    async fn frames_from_many_connections_arrive_with_their_peer() {
        let collector = Collector::new();
        let (listener, trigger) = start(tcp_config(), collector.clone()).await;
        let address = listener.local_address();
        let mut senders = Vec::new();
        for connection in 0..4usize {
            senders.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(address).await.unwrap();
                let text: String = (0..250)
                    .map(|index| format!("<13>connection {connection} frame {index}\n"))
                    .collect();
                // Uneven pieces, so frames straddle reads.
                for piece in text.as_bytes().chunks(777) {
                    stream.write_all(piece).await.unwrap();
                }
                let local = stream.local_addr().unwrap();
                stream.shutdown().await.unwrap();
                (connection, local)
            }));
        }
        let mut peers = HashMap::new();
        for sender in senders {
            let (connection, local) = sender.await.unwrap();
            peers.insert(connection, local);
        }
        eventually("1000 frames", || collector.frame_count() == 1000).await;

        let mut indexes: HashMap<usize, Vec<usize>> = HashMap::new();
        for frame in collector.frames() {
            let text = String::from_utf8(frame.bytes.clone()).unwrap();
            let words: Vec<&str> = text.split(' ').collect();
            let connection: usize = words[1].parse().unwrap();
            assert_eq!(frame.peer, peers[&connection], "{text}");
            assert_eq!(frame.transport, Transport::Tcp);
            assert!(!frame.truncated);
            indexes
                .entry(connection)
                .or_default()
                .push(words[3].parse().unwrap());
        }
        for connection in 0..4usize {
            assert_eq!(
                indexes[&connection],
                (0..250).collect::<Vec<_>>(),
                "connection {connection} in order"
            );
        }
        eventually("every connection closed", || {
            listener.stats().snapshot().connections_closed == 4
        })
        .await;
        let stats = listener.stats().snapshot();
        assert_eq!(
            (stats.frames, stats.connections_accepted, stats.framing_errors),
            (1000, 4, 0)
        );
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn a_waiting_handler_stops_the_reading_and_holds_the_sender_back() {
        const LINE: usize = 1000;
        const LINES: usize = 4096;
        let (collector, release) = Collector::gated();
        let mut config = tcp_config();
        // Small kernel buffers on both sides, so 4 MB cannot all sit in them.
        config.receive_buffer_bytes = Some(64 * 1024);
        let (listener, trigger) = start(config, collector.clone()).await;
        let address = listener.local_address();
        let writer = tokio::spawn(async move {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_send_buffer_size(64 * 1024).unwrap();
            let mut stream = socket.connect(address).await.unwrap();
            let mut line = vec![b'a'; LINE - 1];
            line.push(b'\n');
            for _ in 0..LINES {
                stream.write_all(&line).await.unwrap();
            }
            stream.shutdown().await.unwrap();
        });

        eventually("the first handler call", || collector.frame_count() > 0).await;
        let read_before = listener.stats().snapshot().bytes;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let seen = collector.frame_count();
        // Only the read that produced the waiting call's frames handed anything over.
        assert!(
            seen <= READ_BUFFER_BYTES / LINE + 1,
            "{seen} frames handed over while the handler waited"
        );
        let read = listener.stats().snapshot().bytes;
        assert_eq!(
            read, read_before,
            "the connection was read while the handler waited"
        );
        assert!(
            read <= 2 * READ_BUFFER_BYTES as u64,
            "{read} bytes read before the handler was called"
        );
        assert!(!writer.is_finished(), "the sender was not held back");

        release.send_replace(true);
        tokio::time::timeout(Duration::from_secs(30), writer)
            .await
            .expect("the sender finishes once the handler is released")
            .unwrap();
        eventually("every frame", || collector.frame_count() == LINES).await;
        assert!(
            collector
                .frames()
                .iter()
                .all(|frame| frame.bytes.len() == LINE - 1)
        );
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn connections_over_the_limit_are_refused_and_counted() {
        let collector = Collector::new();
        let mut config = tcp_config();
        config.max_connections = 2;
        let (listener, trigger) = start(config, collector.clone()).await;
        let address = listener.local_address();
        let mut first = TcpStream::connect(address).await.unwrap();
        let mut second = TcpStream::connect(address).await.unwrap();
        first.write_all(b"one\n").await.unwrap();
        second.write_all(b"two\n").await.unwrap();
        eventually("a frame from each", || collector.frame_count() == 2).await;

        let mut third = TcpStream::connect(address).await.unwrap();
        closed_by_server(&mut third, "the connection over the limit").await;
        assert_eq!(listener.stats().snapshot().connections_refused, 1);

        // The open ones still work, and one that closes frees its place.
        first.write_all(b"three\n").await.unwrap();
        eventually("a frame after the refusal", || collector.frame_count() == 3).await;
        drop(second);
        eventually("a free place", || {
            listener.stats().snapshot().connections_active == 1
        })
        .await;
        let mut fourth = TcpStream::connect(address).await.unwrap();
        fourth.write_all(b"four\n").await.unwrap();
        eventually("a frame from the new connection", || collector.frame_count() == 4).await;
        let stats = listener.stats().snapshot();
        assert_eq!((stats.connections_refused, stats.connections_accepted), (1, 3));
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn silent_connections_are_closed_after_the_idle_timeout() {
        let collector = Collector::new();
        let mut config = tcp_config();
        config.idle_timeout = Duration::from_millis(500);
        let (listener, trigger) = start(config, collector.clone()).await;
        let address = listener.local_address();
        let mut silent = TcpStream::connect(address).await.unwrap();
        let mut chatty = TcpStream::connect(address).await.unwrap();
        // A line every 100 ms for a second: never idle for 500 ms.
        for index in 0..10 {
            chatty
                .write_all(format!("<13>line {index}\n").as_bytes())
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        closed_by_server(&mut silent, "the silent connection").await;
        eventually("every line", || collector.frame_count() == 10).await;
        assert_eq!(listener.stats().snapshot().idle_closes, 1);
        closed_by_server(&mut chatty, "the chatty connection, once silent").await;
        assert_eq!(listener.stats().snapshot().idle_closes, 2);
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn stop_lets_a_handler_call_finish_and_closes_every_connection() {
        let (collector, release) = Collector::gated();
        let (listener, trigger) = start(tcp_config(), collector.clone()).await;
        let address = listener.local_address();
        let stats = listener.stats().clone();
        let mut busy = TcpStream::connect(address).await.unwrap();
        busy.write_all(b"<13>held\n").await.unwrap();
        let mut quiet = TcpStream::connect(address).await.unwrap();
        eventually("the held frame", || collector.frame_count() == 1).await;
        eventually("both connections", || stats.snapshot().connections_accepted == 2).await;

        trigger.trigger();
        let waiting = tokio::spawn(listener.wait());
        closed_by_server(&mut quiet, "the quiet connection").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !waiting.is_finished(),
            "stopped while a handler call was in flight"
        );
        release.send_replace(true);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the listener stops once the handler returned")
            .unwrap();
        closed_by_server(&mut busy, "the busy connection").await;
        assert_eq!(stats.snapshot().connections_active, 0);
        assert!(
            TcpStream::connect(address).await.is_err(),
            "still accepting after stop"
        );
    }

    #[tokio::test]
    async fn octet_counted_garbage_is_counted_not_fatal() {
        let collector = Collector::new();
        let (listener, trigger) = start(tcp_config(), collector.clone()).await;
        let mut stream = TcpStream::connect(listener.local_address()).await.unwrap();
        stream
            .write_all(b"9 <13>first12x garbage\n8 <13>last")
            .await
            .unwrap();
        stream.shutdown().await.unwrap();
        eventually("both frames", || collector.frame_count() == 2).await;
        let frames: Vec<Vec<u8>> = collector.frames().into_iter().map(|frame| frame.bytes).collect();
        assert_eq!(frames, [b"<13>first".to_vec(), b"<13>last".to_vec()]);
        eventually("the framing error", || {
            listener.stats().snapshot().framing_errors == 1
        })
        .await;
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn bind_problems_are_errors_naming_the_address() {
        let (listener, trigger) = start(tcp_config(), Collector::new()).await;
        let taken = format!("tcp://{}", listener.local_address()).parse().unwrap();
        let (_other_trigger, stop) = crate::shutdown::stop_pair();
        // A closure is a handler too.
        let handler = std::sync::Arc::new(|_frames: Vec<Frame>| async {});
        let error = Listener::bind(ListenerConfig::new(taken), handler.clone(), stop.clone())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("cannot listen on {taken}: ")),
            "{error}"
        );

        let tls = ListenerConfig::new("tls://127.0.0.1:0".parse().unwrap());
        let error = Listener::bind(tls, handler.clone(), stop.clone())
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("TLS needs a certificate and a key"), "{error}");
        let mut plain = tcp_config();
        plain.tls = Some(crate::sources::listener::tls::TlsFiles {
            certificate: "server.pem".into(),
            key: "server.key".into(),
            client_ca: None,
        });
        let error = Listener::bind(plain, handler, stop)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("only used with tls://"), "{error}");
        trigger.trigger();
        listener.wait().await;
    }
}
