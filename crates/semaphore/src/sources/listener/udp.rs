//! The UDP loop: wait until datagrams are queued, take what is there (up to a batch), hand the batch over,
//! and only then look again. While the handler waits the socket is not read, so datagrams queue in the
//! kernel's receive buffer (`SO_RCVBUF`) and, once it is full, the kernel drops them: UDP cannot push back on
//! its senders.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::net::UdpSocket;

use crate::sources::listener::config::ListenerConfig;
use crate::sources::listener::driver::{Context, ListenerError, bind_error};
use crate::sources::listener::frame::Frame;
use crate::sources::listener::framing::{FramerOutput, octet_counted_datagram};
use crate::sources::listener::stats::worth_logging;

/// Holds the largest UDP payload (65,507 bytes over IPv4), so no datagram is cut by the receive call itself.
const DATAGRAM_BUFFER_BYTES: usize = 65_536;

/// Pause after a receive error, so an error that repeats cannot spin the loop.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Binds `config.listen` (a `udp://` address) with its receive buffer; also the SNMP trap source's socket,
/// which answers informs from it and so runs its own loop.
pub(crate) async fn bind(config: &ListenerConfig) -> Result<UdpSocket, ListenerError> {
    let listen = config.listen;
    let socket = UdpSocket::bind(listen.address)
        .await
        .map_err(|source| bind_error(listen, source))?;
    if let Some(bytes) = config.receive_buffer_bytes {
        socket2::SockRef::from(&socket)
            .set_recv_buffer_size(bytes)
            .map_err(|source| ListenerError::ReceiveBuffer {
                listen,
                bytes,
                source,
            })?;
    }
    Ok(socket)
}

/// Receives until stopped; a handler call in progress finishes first.
pub(super) async fn run(socket: UdpSocket, context: Arc<Context>) {
    let mut buffer = vec![0u8; DATAGRAM_BUFFER_BYTES];
    loop {
        tokio::select! {
            // Biased: once stopped, queued datagrams are not read any more.
            biased;
            () = context.stop.stopped() => break,
            readable = socket.readable() => {
                if let Err(error) = readable {
                    receive_failed(&context, &error);
                    context.stop.sleep(ERROR_PAUSE).await;
                    continue;
                }
            }
        }
        let batch = receive_batch(&socket, &mut buffer, &context);
        context.deliver_frames(batch.frames).await;
        if batch.failed {
            context.stop.sleep(ERROR_PAUSE).await;
        }
    }
    tracing::debug!("UDP listener stopped.");
}

/// The datagrams already queued, up to a batch.
struct Batch {
    frames: Vec<Frame>,
    /// A receive failed (other than "nothing queued").
    failed: bool,
}

fn receive_batch(socket: &UdpSocket, buffer: &mut [u8], context: &Context) -> Batch {
    let limit = context.config.udp_batch.max(1);
    let received_at = Utc::now();
    let mut batch = Batch {
        frames: Vec::new(),
        failed: false,
    };
    while batch.frames.len() < limit {
        match socket.try_recv_from(buffer) {
            Ok((length, peer)) => {
                context.stats.bytes.add(length as u64);
                if let Some(frame) = datagram_frame(&buffer[..length], peer, received_at, context) {
                    batch.frames.push(frame);
                }
            }
            // Nothing more queued; `try_recv_from` also cleared the readiness, so `readable` waits again.
            Err(error) if error.kind() == ErrorKind::WouldBlock => break,
            Err(error) => {
                receive_failed(context, &error);
                batch.failed = true;
                break;
            }
        }
    }
    batch
}

/// One datagram as a frame, cut to the frame limit; an empty datagram carries no message.
fn datagram_frame(
    datagram: &[u8],
    peer: SocketAddr,
    received_at: DateTime<Utc>,
    context: &Context,
) -> Option<Frame> {
    if datagram.is_empty() {
        return None;
    }
    let datagram = octet_counted_datagram(datagram).unwrap_or(datagram);
    let mut output = FramerOutput::default();
    output.push_limited(datagram, context.config.max_frame_bytes.max(1));
    context.stats.record_framing(&output);
    let raw = output.frames.pop()?;
    Some(Frame {
        bytes: raw.bytes,
        peer,
        transport: context.config.listen.transport,
        truncated: raw.truncated,
        received_at,
    })
}

fn receive_failed(context: &Context, error: &std::io::Error) {
    let total = context.stats.read_errors.add(1);
    if worth_logging(total) {
        tracing::warn!(%error, total, "Receiving a UDP datagram failed; receiving goes on.");
    }
}

#[cfg(test)]
mod tests {
    use crate::sources::listener::address::Transport;
    use crate::sources::listener::config::ListenerConfig;
    use crate::sources::listener::driver::Listener;
    use crate::sources::listener::test_support::{Collector, eventually};

    #[tokio::test]
    async fn queued_datagrams_arrive_in_batches() {
        let (collector, release) = Collector::gated();
        let mut config = ListenerConfig::new("udp://127.0.0.1:0".parse().unwrap());
        config.udp_batch = 16;
        config.max_frame_bytes = 100;
        config.receive_buffer_bytes = Some(1 << 20);
        let (trigger, stop) = crate::shutdown::stop_pair();
        let listener = Listener::bind(config, collector.clone(), stop).await.unwrap();
        let address = listener.local_address();
        assert_ne!(address.port(), 0);

        let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"first", address).await.unwrap();
        // The handler holds the first datagram; the rest queue in the socket meanwhile.
        eventually("the first datagram", || collector.frame_count() == 1).await;
        for index in 0..50 {
            client
                .send_to(format!("datagram {index}").as_bytes(), address)
                .await
                .unwrap();
        }
        client.send_to(&[b'x'; 150], address).await.unwrap();
        client.send_to(b"", address).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(collector.frame_count(), 1, "read while the handler was busy");
        release.send_replace(true);
        eventually("every datagram", || collector.frame_count() == 52).await;

        let batches = collector.batch_sizes();
        assert!(batches.iter().all(|size| *size <= 16), "{batches:?}");
        assert!(
            batches.iter().any(|size| *size > 1),
            "nothing was batched: {batches:?}"
        );
        let frames = collector.frames();
        let client_address = client.local_addr().unwrap();
        assert!(
            frames
                .iter()
                .all(|frame| frame.peer == client_address && frame.transport == Transport::Udp)
        );
        let texts: Vec<String> = frames[1..51]
            .iter()
            .map(|frame| String::from_utf8_lossy(&frame.bytes).into())
            .collect();
        let expected: Vec<String> = (0..50).map(|index| format!("datagram {index}")).collect();
        assert_eq!(
            texts, expected,
            "datagrams from one sender over loopback keep their order"
        );
        let oversize = &frames[51];
        assert!(oversize.truncated && oversize.bytes.len() == 100);
        let stats = listener.stats().snapshot();
        assert_eq!(
            (stats.frames, stats.oversize_frames, stats.discarded_bytes),
            (52, 1, 50)
        );

        trigger.trigger();
        tokio::time::timeout(std::time::Duration::from_secs(5), listener.wait())
            .await
            .expect("the listener stops");
    }
}
