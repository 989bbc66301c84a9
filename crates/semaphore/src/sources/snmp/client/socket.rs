//! A session's UDP socket: bound on the first request, connected to the target so the kernel drops every
//! datagram from elsewhere, and closed by `release` so that a thousand idle targets hold no socket and no
//! receive buffer between polls.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::UdpSocket;
use tokio::time::{self, Instant};

/// The largest UDP payload; a bigger datagram cannot come, so none is cut short.
const MAX_DATAGRAM: usize = 65_535;

/// The socket when one is open.
#[derive(Debug)]
pub(super) struct Link {
    target: SocketAddr,
    open: Option<Transport>,
}

impl Link {
    pub(super) fn new(target: SocketAddr) -> Self {
        Self { target, open: None }
    }

    /// The open socket, bound and connected now if it was not.
    pub(super) async fn open(&mut self) -> io::Result<&mut Transport> {
        let transport = match self.open.take() {
            Some(transport) => transport,
            None => Transport::connect(self.target).await?,
        };
        Ok(self.open.insert(transport))
    }

    pub(super) fn release(&mut self) {
        self.open = None;
    }
}

/// A connected socket and the buffer datagrams are received into.
pub(super) struct Transport {
    socket: UdpSocket,
    buffer: Vec<u8>,
}

impl Transport {
    async fn connect(target: SocketAddr) -> io::Result<Self> {
        let local = if target.is_ipv4() {
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
        } else {
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(target).await?;
        Ok(Self {
            socket,
            buffer: vec![0; MAX_DATAGRAM],
        })
    }

    pub(super) async fn send(&self, datagram: &[u8]) -> io::Result<()> {
        match self.socket.send(datagram).await {
            Ok(_) => Ok(()),
            // An ICMP port unreachable from an earlier try, reported now: the target is treated as silent,
            // as an unreachable host is, and this try times out.
            Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The next datagram from the target, or `None` once `deadline` passed.
    pub(super) async fn receive(&mut self, deadline: Instant) -> io::Result<Option<&[u8]>> {
        loop {
            let received = time::timeout_at(deadline, self.socket.recv(&mut self.buffer)).await;
            match received {
                Err(_elapsed) => return Ok(None),
                Ok(Ok(length)) => {
                    let length = length.min(self.buffer.len());
                    return Ok(Some(&self.buffer[..length]));
                }
                // See `send`: a refused port is silence.
                Ok(Err(error)) if error.kind() == io::ErrorKind::ConnectionRefused => {}
                Ok(Err(error)) => return Err(error),
            }
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Transport")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}
