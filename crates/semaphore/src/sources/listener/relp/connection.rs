//! One RELP connection: read what arrived, let the session answer its frames, hand the `syslog` messages to
//! the handler, and only once it returned with them delivered (for the syslog source: once Kafka
//! acknowledged them) send the responses, in transaction order; then read again.
//!
//! A read's frames are one batch: rsyslog sends up to its window (128 by default) of transactions without
//! waiting for answers, so a busy sender's messages are read, published and acknowledged together. Nothing
//! is read while the handler waits (the back-pressure of every stream listener), and nothing is acknowledged
//! before it returned: when the connection ends first (semaphore killed or stopped, the outputs refusing),
//! the sender still holds those messages and sends them again on its next connection. Every message thus
//! arrives at least once; one delivered whose acknowledgement was lost arrives twice.

use std::fmt::Display;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::sources::listener::driver::Context;
use crate::sources::listener::frame::{Frame, Handled};
use crate::sources::listener::relp::frame::{ParsedFrames, RelpParser, encode_serverclose};
use crate::sources::listener::relp::session::{Exchange, Message, Session, SessionEnd};
use crate::sources::listener::stats::worth_logging;
use crate::sources::listener::tcp::{CLOSE_WITHIN, READ_BUFFER_BYTES, ReadOutcome, read_some};

/// Serves one RELP connection until the client closes the session or breaks the protocol, the connection
/// fails or stays silent for `idle_timeout`, or the listener stops; then closes it, first telling the client
/// with librelp's `serverclose` hint unless it closed the session itself.
pub(in crate::sources::listener) async fn serve<S>(mut stream: S, peer: SocketAddr, context: &Context)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut connection = RelpConnection {
        peer,
        context,
        parser: RelpParser::new(context.config.max_frame_bytes),
        session: Session::default(),
    };
    let mut buffer = vec![0u8; READ_BUFFER_BYTES];
    let ending = loop {
        match read_some(&mut stream, &mut buffer, context).await {
            ReadOutcome::Data(length) => {
                context.stats.bytes.add(length as u64);
                if let Some(ending) = connection.take(&mut stream, &buffer[..length]).await {
                    break ending;
                }
            }
            ReadOutcome::Ended(reason) => {
                connection.ended();
                break Ending::told(reason);
            }
        }
    };
    if ending.serverclose {
        let mut hint = Vec::new();
        encode_serverclose(&mut hint);
        connection.send(&mut stream, &hint).await;
    }
    tracing::debug!(%peer, reason = ending.reason, "RELP connection closed.");
    // FIN rather than a bare drop; bounded, the peer may not be reading.
    let _ = tokio::time::timeout(CLOSE_WITHIN, stream.shutdown()).await;
}

/// What a connection keeps between reads.
struct RelpConnection<'a> {
    peer: SocketAddr,
    context: &'a Context,
    parser: RelpParser,
    session: Session,
}

/// Why a connection closes, and whether the client is told first with librelp's `serverclose` hint, so that
/// it reconnects at once rather than find the connection gone on its next send.
struct Ending {
    reason: &'static str,
    serverclose: bool,
}

impl Ending {
    fn told(reason: &'static str) -> Self {
        Self {
            reason,
            serverclose: true,
        }
    }

    fn untold(reason: &'static str) -> Self {
        Self {
            reason,
            serverclose: false,
        }
    }
}

impl RelpConnection<'_> {
    /// Handles one read; `Some` once the connection is to close.
    async fn take<S>(&mut self, stream: &mut S, bytes: &[u8]) -> Option<Ending>
    where
        S: AsyncWrite + Unpin,
    {
        let mut parsed = ParsedFrames::default();
        self.parser.push(bytes, &mut parsed);
        let stats = &self.context.stats;
        stats.oversize_frames.add(parsed.oversize_frames);
        stats.discarded_bytes.add(parsed.discarded_bytes);
        let exchange = self.session.take(std::mem::take(&mut parsed.frames));
        self.count_errors(&exchange, &parsed);
        // The back-pressure, and the guarantee: nothing more is read, and nothing is acknowledged, until the
        // handler returned with the messages delivered.
        let frames = self.frames(exchange.messages);
        if self.context.deliver_frames(frames).await == Handled::Undelivered {
            return Some(Ending::told("the outputs did not take the messages"));
        }
        if !self.send(stream, &exchange.responses).await {
            return Some(Ending::untold("the responses could not be sent"));
        }
        match (exchange.end, parsed.error) {
            (Some(SessionEnd::Closed), _) => Some(Ending::untold("the client closed the session")),
            (Some(SessionEnd::Broken(_)), _) | (None, Some(_)) => {
                Some(Ending::told("the client broke the protocol"))
            }
            (None, None) => None,
        }
    }

    /// The reading ended: a frame it cut short is counted, its bytes discarded.
    fn ended(&mut self) {
        let mut parsed = ParsedFrames::default();
        self.parser.finish(&mut parsed);
        let stats = &self.context.stats;
        stats.discarded_bytes.add(parsed.discarded_bytes);
        stats.framing_errors.add(u64::from(parsed.error.is_some()));
    }

    /// Counts a read's framing and protocol errors; logs the one that ends the connection, sparingly.
    fn count_errors(&self, exchange: &Exchange, parsed: &ParsedFrames) {
        let errors = exchange.protocol_errors + u64::from(parsed.error.is_some());
        if errors == 0 {
            return;
        }
        let total = self.context.stats.framing_errors.add(errors);
        let fatal = match (&exchange.end, &parsed.error) {
            (Some(SessionEnd::Broken(error)), _) => Some(error as &dyn Display),
            (_, Some(error)) => Some(error as &dyn Display),
            _ => None,
        };
        if let Some(error) = fatal
            && worth_logging(total)
        {
            tracing::warn!(
                peer = %self.peer, %error, total,
                "A RELP client broke the protocol; the connection is closed, and the client sends again what was not acknowledged."
            );
        }
    }

    /// The messages as the handler takes them: frames from this connection's peer.
    fn frames(&self, messages: Vec<Message>) -> Vec<Frame> {
        let received_at = chrono::Utc::now();
        let transport = self.context.config.listen.transport;
        messages
            .into_iter()
            .map(|message| Frame {
                bytes: message.bytes,
                peer: self.peer,
                transport,
                truncated: message.truncated,
                received_at,
            })
            .collect()
    }

    /// Writes `bytes` and says whether they went: within `idle_timeout` (a client that does not read is given
    /// no longer than one that does not write), or within `CLOSE_WITHIN` once the listener is stopping.
    async fn send<S>(&self, stream: &mut S, bytes: &[u8]) -> bool
    where
        S: AsyncWrite + Unpin,
    {
        if bytes.is_empty() {
            return true;
        }
        let limit = if self.context.stop.is_stopped() {
            CLOSE_WITHIN
        } else {
            self.context.config.idle_timeout
        };
        let writing = async {
            stream.write_all(bytes).await?;
            stream.flush().await
        };
        match tokio::time::timeout(limit, writing).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, %error, "Writing to a RELP connection failed.");
                false
            }
            Err(_elapsed) => {
                tracing::debug!(peer = %self.peer, "A RELP client did not read its responses in time.");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use futures::future::BoxFuture;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use crate::sources::listener::address::Transport;
    use crate::sources::listener::config::ListenerConfig;
    use crate::sources::listener::frame::{Frame, FrameHandler, Handled};
    use crate::sources::listener::relp::frame::encode;
    use crate::sources::listener::test_support::{Collector, eventually, start};

    /// What rsyslog 8.2302's omrelp offers in `open`.
    const OFFERS: &[u8] =
        b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog";
    /// The answer to it.
    const OPENED: &[u8] = b"1 rsp 61 200 OK\nrelp_version=0\nrelp_software=semaphore\ncommands=syslog\n";

    fn relp_config() -> ListenerConfig {
        ListenerConfig::new("relp://127.0.0.1:0".parse().expect("a valid address"))
    }

    fn request(txnr: u32, command: &str, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, txnr, command, data);
        out
    }

    async fn send(stream: &mut TcpStream, txnr: u32, command: &str, data: &[u8]) {
        stream
            .write_all(&request(txnr, command, data))
            .await
            .expect("the listener reads");
    }

    /// Reads exactly as many bytes as `expected` holds, within 5 s, and compares them.
    async fn expect_bytes(stream: &mut TcpStream, expected: &[u8]) {
        let mut received = vec![0u8; expected.len()];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut received))
            .await
            .expect("the responses arrive")
            .expect("the connection stays open");
        assert_eq!(
            String::from_utf8_lossy(&received),
            String::from_utf8_lossy(expected)
        );
    }

    /// What arrives until the server closes the connection (within 5 s).
    async fn read_to_close(stream: &mut TcpStream) -> String {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the server did not close the connection");
        String::from_utf8_lossy(&rest).into_owned()
    }

    /// A handler whose outputs take nothing (as when standard output was closed by its reader).
    struct Refusing;

    impl FrameHandler for Refusing {
        fn handle(&self, _frames: Vec<Frame>) -> BoxFuture<'_, Handled> {
            Box::pin(async { Handled::Undelivered })
        }
    }

    #[tokio::test]
    async fn messages_are_acknowledged_only_once_the_handler_returned() {
        let (collector, release) = Collector::gated();
        let (listener, trigger) = start(relp_config(), collector.clone()).await;
        let mut stream = TcpStream::connect(listener.local_address()).await.unwrap();
        send(&mut stream, 1, "open", OFFERS).await;
        expect_bytes(&mut stream, OPENED).await;

        // A window of three, as rsyslog pipelines them.
        let batch = [
            request(2, "syslog", b"<13>one\n"),
            request(3, "syslog", b"<13>two\n"),
            request(4, "syslog", b"<13>three\n"),
        ]
        .concat();
        stream.write_all(&batch).await.unwrap();
        eventually("the messages in the handler", || collector.frame_count() > 0).await;
        let mut early = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut early)).await;
        assert!(read.is_err(), "answered before the handler returned: {read:?}");

        release.send_replace(true);
        expect_bytes(&mut stream, b"2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 6 200 OK\n").await;
        let frames = collector.frames();
        let messages: Vec<&[u8]> = frames.iter().map(|frame| frame.bytes.as_slice()).collect();
        assert_eq!(messages, [&b"<13>one"[..], b"<13>two", b"<13>three"]);
        let local = stream.local_addr().unwrap();
        for frame in &frames {
            assert_eq!(
                (frame.peer, frame.transport, frame.truncated),
                (local, Transport::Relp, false)
            );
        }

        send(&mut stream, 5, "close", b"").await;
        assert_eq!(
            read_to_close(&mut stream).await,
            "5 rsp 0\n",
            "no serverclose after close"
        );
        let stats = listener.stats().snapshot();
        assert_eq!((stats.frames, stats.framing_errors), (3, 0));
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn syslog_before_open_is_answered_and_garbage_closes_with_serverclose() {
        let collector = Collector::new();
        let (listener, trigger) = start(relp_config(), collector.clone()).await;
        let mut stream = TcpStream::connect(listener.local_address()).await.unwrap();
        send(&mut stream, 1, "syslog", b"<13>early").await;
        expect_bytes(&mut stream, b"1 rsp 20 500 command disabled\n").await;
        stream.write_all(b"2 syslog five hello\n").await.unwrap();
        assert_eq!(read_to_close(&mut stream).await, "0 serverclose 0\n");
        assert_eq!(collector.frame_count(), 0);
        eventually("both errors counted", || {
            listener.stats().snapshot().framing_errors == 2
        })
        .await;
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn messages_the_outputs_did_not_take_are_not_acknowledged() {
        let (listener, trigger) = start(relp_config(), Arc::new(Refusing)).await;
        let mut stream = TcpStream::connect(listener.local_address()).await.unwrap();
        send(&mut stream, 1, "open", OFFERS).await;
        expect_bytes(&mut stream, OPENED).await;
        send(&mut stream, 2, "syslog", b"<13>refused").await;
        assert_eq!(
            read_to_close(&mut stream).await,
            "0 serverclose 0\n",
            "closed without an answer for 2, so that the sender sends it again"
        );
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn a_long_message_is_cut_flagged_and_acknowledged() {
        let collector = Collector::new();
        let mut config = relp_config();
        config.max_frame_bytes = 100;
        let (listener, trigger) = start(config, collector.clone()).await;
        let mut stream = TcpStream::connect(listener.local_address()).await.unwrap();
        send(&mut stream, 1, "open", OFFERS).await;
        expect_bytes(&mut stream, OPENED).await;
        let long = [b"<13>".as_slice(), &[b'x'; 200]].concat();
        send(&mut stream, 2, "syslog", &long).await;
        expect_bytes(&mut stream, b"2 rsp 6 200 OK\n").await;
        let frames = collector.frames();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].bytes, long[..100]);
        assert!(frames[0].truncated);
        let stats = listener.stats().snapshot();
        assert_eq!((stats.oversize_frames, stats.framing_errors), (1, 0));
        trigger.trigger();
        listener.wait().await;
    }

    #[tokio::test]
    async fn a_stop_answers_what_was_delivered_then_says_serverclose() {
        let (collector, release) = Collector::gated();
        let (listener, trigger) = start(relp_config(), collector.clone()).await;
        let mut stream = TcpStream::connect(listener.local_address()).await.unwrap();
        send(&mut stream, 1, "open", OFFERS).await;
        expect_bytes(&mut stream, OPENED).await;
        send(&mut stream, 2, "syslog", b"<13>held").await;
        eventually("the held message", || collector.frame_count() == 1).await;

        trigger.trigger();
        let waiting = tokio::spawn(listener.wait());
        release.send_replace(true);
        assert_eq!(
            read_to_close(&mut stream).await,
            "2 rsp 6 200 OK\n0 serverclose 0\n"
        );
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the listener stops")
            .unwrap();
    }
}
