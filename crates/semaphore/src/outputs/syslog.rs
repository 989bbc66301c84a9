//! The syslog output: RFC 5424 messages over UDP (one datagram each), TCP with octet counting (RFC 6587) or
//! TLS (RFC 5425, same framing). Stream connections are opened on first use and re-opened after an error;
//! the batch is then resent from the first message not known to be written (at least once). Its table and
//! validation are in `syslog/config.rs`.

mod config;

pub use config::{SyslogOutputConfig, SyslogOutputFile};

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;

use crate::error_text::one_line;
use crate::outputs::component::Output;
use crate::outputs::rfc5424::SyslogFormat;
use crate::outputs::{OutputFailure, WriteError};
use crate::record::EncodedRecord;

/// Largest UDP payload; a longer message cannot be sent over UDP at all.
const UDP_MAX: usize = 65_507;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

/// `udp://HOST:PORT`, `tcp://HOST:PORT` or `tls://HOST:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogEndpoint {
    pub transport: Transport,
    pub host: String,
    pub port: u16,
}

impl FromStr for SyslogEndpoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (scheme, rest) = text.split_once("://").ok_or_else(|| {
            format!("{text:?}: expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")
        })?;
        let transport = match scheme {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            other => return Err(format!("{text:?}: unknown transport {other:?} (udp, tcp or tls)")),
        };
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("{text:?}: missing :PORT (514 for udp, 601 for tcp, 6514 for tls)"))?;
        let port = port
            .parse()
            .map_err(|_| format!("{text:?}: {port:?} is not a port number"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{text:?}: missing host"));
        }
        Ok(Self {
            transport,
            host: host.to_owned(),
            port,
        })
    }
}

impl std::fmt::Display for SyslogEndpoint {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        };
        write!(formatter, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// Why the syslog output could not connect or write; each names the endpoint or CA file at fault.
#[derive(Debug, thiserror::Error)]
pub enum SyslogError {
    #[error("cannot reach syslog at {endpoint}")]
    Unreachable {
        endpoint: SyslogEndpoint,
        #[source]
        source: std::io::Error,
    },
    #[error("{endpoint}: not a valid TLS server name")]
    ServerName {
        endpoint: SyslogEndpoint,
        #[source]
        source: rustls_pki_types::InvalidDnsNameError,
    },
    #[error("TLS handshake with syslog at {endpoint} failed")]
    Handshake {
        endpoint: SyslogEndpoint,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the syslog CA file {path}")]
    ReadCa {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("the syslog CA file {path} is not PEM")]
    NotPem {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A certificate rustls does not take as a trust anchor.
    #[error("the syslog CA file {path}")]
    BadCa {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error("TLS setup failed")]
    Tls(#[source] rustls::Error),
    #[error("cannot write to {endpoint}")]
    Write {
        endpoint: SyslogEndpoint,
        #[source]
        source: std::io::Error,
    },
}

/// A TCP or TLS stream, read only to drain it at close.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

enum Connection {
    Udp(UdpSocket),
    Stream(Box<dyn Stream>),
}

/// How long a closing stream waits for the server's side of the close.
const CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

pub struct SyslogOutput {
    endpoint: SyslogEndpoint,
    format: SyslogFormat,
    ca_file: Option<PathBuf>,
    /// A Tokio mutex: the connection is held across the writes of one batch.
    connection: tokio::sync::Mutex<Option<Connection>>,
}

impl std::fmt::Debug for SyslogOutput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SyslogOutput")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Output for SyslogOutput {
    fn name(&self) -> String {
        SyslogOutput::name(self)
    }

    fn label(&self) -> &'static str {
        "syslog"
    }

    /// Syslog has no topics: the record's own fields say what it is.
    fn write<'a>(
        &'a self,
        _topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        Box::pin(async move {
            SyslogOutput::write(self, records)
                .await
                .map_err(OutputFailure::Retry)
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(SyslogOutput::close(self))
    }
}

impl SyslogOutput {
    pub fn new(endpoint: SyslogEndpoint, format: SyslogFormat, ca_file: Option<PathBuf>) -> Self {
        Self {
            endpoint,
            format,
            ca_file,
            connection: tokio::sync::Mutex::new(None),
        }
    }

    pub fn name(&self) -> String {
        format!("syslog {}", self.endpoint)
    }

    pub async fn write(&self, records: &[EncodedRecord]) -> Result<(), WriteError> {
        let mut connection = self.connection.lock().await;
        for (index, record) in records.iter().enumerate() {
            let remaining = || (index..records.len()).collect::<Vec<_>>();
            if connection.is_none() {
                *connection = Some(self.connect().await.map_err(|error| WriteError {
                    remaining: remaining(),
                    reason: one_line(&error),
                })?);
            }
            for message in self.format.messages(record) {
                let result = match connection.as_mut().expect("connected above") {
                    Connection::Udp(socket) => {
                        if message.len() > UDP_MAX {
                            tracing::error!(
                                endpoint = %self.endpoint, bytes = message.len(),
                                "A syslog message is longer than a UDP datagram can carry; use tcp:// or tls://. Skipping it."
                            );
                            continue;
                        }
                        socket.send(message.as_bytes()).await.map(|_| ())
                    }
                    Connection::Stream(stream) => {
                        let framed = format!("{} {message}", message.len());
                        stream.write_all(framed.as_bytes()).await
                    }
                };
                if let Err(source) = result {
                    *connection = None;
                    return Err(WriteError {
                        remaining: remaining(),
                        reason: one_line(&self.write_failed(source)),
                    });
                }
            }
        }
        if let Some(Connection::Stream(stream)) = connection.as_mut()
            && let Err(source) = stream.flush().await
        {
            *connection = None;
            return Err(WriteError {
                remaining: (0..records.len()).collect(),
                reason: one_line(&self.write_failed(source)),
            });
        }
        Ok(())
    }

    fn write_failed(&self, source: std::io::Error) -> SyslogError {
        SyslogError::Write {
            endpoint: self.endpoint.clone(),
            source,
        }
    }

    /// Closes a stream connection cleanly: TLS close_notify and FIN, then reads what the server still sends
    /// (TLS session tickets) until it closes too. Closing with unread data would send a reset, and a reset
    /// makes the server drop messages it received but had not read yet.
    pub async fn close(&self) {
        let mut connection = self.connection.lock().await;
        if let Some(Connection::Stream(mut stream)) = connection.take() {
            let _ = stream.shutdown().await;
            let mut discard = [0u8; 4096];
            let _ = tokio::time::timeout(CLOSE_WITHIN, async {
                while let Ok(read) = stream.read(&mut discard).await {
                    if read == 0 {
                        break;
                    }
                }
            })
            .await;
        }
    }

    async fn connect(&self) -> Result<Connection, SyslogError> {
        let address = (self.endpoint.host.as_str(), self.endpoint.port);
        let unreachable = |source: std::io::Error| SyslogError::Unreachable {
            endpoint: self.endpoint.clone(),
            source,
        };
        match self.endpoint.transport {
            Transport::Udp => {
                let bind = if self.endpoint.host.contains(':') {
                    "[::]:0"
                } else {
                    "0.0.0.0:0"
                };
                let socket = UdpSocket::bind(bind).await.map_err(unreachable)?;
                socket.connect(address).await.map_err(unreachable)?;
                Ok(Connection::Udp(socket))
            }
            Transport::Tcp => {
                let stream = TcpStream::connect(address).await.map_err(unreachable)?;
                Ok(Connection::Stream(Box::new(stream)))
            }
            Transport::Tls => {
                let connector = self.tls_connector()?;
                let server_name = rustls_pki_types::ServerName::try_from(self.endpoint.host.clone())
                    .map_err(|source| SyslogError::ServerName {
                        endpoint: self.endpoint.clone(),
                        source,
                    })?;
                let stream = TcpStream::connect(address).await.map_err(unreachable)?;
                let stream = connector.connect(server_name, stream).await.map_err(|source| {
                    SyslogError::Handshake {
                        endpoint: self.endpoint.clone(),
                        source,
                    }
                })?;
                Ok(Connection::Stream(Box::new(stream)))
            }
        }
    }

    fn tls_connector(&self) -> Result<TlsConnector, SyslogError> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca_file {
            Some(path) => {
                use rustls_pki_types::pem::PemObject;
                let certificates =
                    rustls_pki_types::CertificateDer::pem_file_iter(path).map_err(|source| {
                        SyslogError::ReadCa {
                            path: path.clone(),
                            source,
                        }
                    })?;
                for certificate in certificates {
                    let certificate = certificate.map_err(|source| SyslogError::NotPem {
                        path: path.clone(),
                        source,
                    })?;
                    roots.add(certificate).map_err(|source| SyslogError::BadCa {
                        path: path.clone(),
                        source,
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(SyslogError::Tls)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsConnector::from(Arc::new(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: the endpoint is in the message, the OS error is the source, said once.
    #[test]
    fn an_unreachable_endpoint_keeps_the_os_error() {
        let endpoint: SyslogEndpoint = "tcp://logs.example.net:601".parse().unwrap();
        let error = SyslogError::Unreachable {
            endpoint,
            source: std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused"),
        };
        assert_eq!(
            error.to_string(),
            "cannot reach syslog at tcp://logs.example.net:601"
        );
        assert_eq!(
            one_line(&error),
            "cannot reach syslog at tcp://logs.example.net:601: Connection refused"
        );
    }

    #[test]
    fn endpoints() {
        let endpoint: SyslogEndpoint = "tcp://logs.example.net:601".parse().unwrap();
        assert_eq!(endpoint.transport, Transport::Tcp);
        assert_eq!(endpoint.to_string(), "tcp://logs.example.net:601");
        assert_eq!("udp://[::1]:514".parse::<SyslogEndpoint>().unwrap().host, "::1");
        for bad in ["logs:514", "http://x:1", "udp://x", "udp://x:port", "udp://:514"] {
            assert!(bad.parse::<SyslogEndpoint>().is_err(), "{bad}");
        }
    }
}
