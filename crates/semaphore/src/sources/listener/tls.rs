//! The TLS server side of a `tls://` listener: a rustls server configuration from a certificate chain and a
//! key in PEM files, and, for mutual TLS, the CA file client certificates must chain to.
//!
//! Files are read when the listener binds, so a wrong path or a key that does not match the certificate
//! stops the start with an error naming the file, instead of failing every handshake later.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;
use tokio_rustls::rustls::server::WebPkiClientVerifier;

/// The PEM files of a TLS listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate, then any intermediates.
    pub certificate: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// When set, clients must present a certificate issued by one of these CAs (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

/// Why a TLS server configuration could not be made; each variant names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read the TLS certificate file {path}: {source}")]
    Certificate {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("the TLS certificate file {path} holds no certificate (expected PEM \"BEGIN CERTIFICATE\")")]
    NoCertificate { path: PathBuf },
    #[error("cannot read the TLS key file {path}: {source}")]
    Key {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("the TLS key file {path} holds no private key (expected PEM \"BEGIN PRIVATE KEY\" or similar)")]
    NoKey { path: PathBuf },
    #[error("the client CA file {path}: {reason}")]
    ClientCa { path: PathBuf, reason: String },
    #[error("the TLS certificate {certificate} and key {key} cannot serve: {source}")]
    Server {
        certificate: PathBuf,
        key: PathBuf,
        /// Boxed: rustls' error is large, and every `Result` carrying this one would be too (clippy's
        /// `result_large_err`).
        source: Box<rustls::Error>,
    },
}

/// Reads the files and builds the configuration every connection of the listener shares.
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsSetupError> {
    let certificates = read_certificates(&files.certificate)?;
    let key = read_key(&files.key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_error = |source: rustls::Error| TlsSetupError::Server {
        certificate: files.certificate.clone(),
        key: files.key.clone(),
        source: Box::new(source),
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(server_error)?;
    let builder = match &files.client_ca {
        Some(path) => builder.with_client_cert_verifier(client_verifier(path, provider)?),
        None => builder.with_no_client_auth(),
    };
    // rustls checks here that the key belongs to the certificate.
    let config = builder
        .with_single_cert(certificates, key)
        .map_err(server_error)?;
    Ok(Arc::new(config))
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let unreadable = |source| TlsSetupError::Certificate {
        path: path.to_owned(),
        source,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    if certificates.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certificates)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    PrivateKeyDer::from_pem_file(path).map_err(|source| match source {
        rustls_pki_types::pem::Error::NoItemsFound => TlsSetupError::NoKey {
            path: path.to_owned(),
        },
        source => TlsSetupError::Key {
            path: path.to_owned(),
            source,
        },
    })
}

/// Accepts only clients whose certificate chains to a CA in `path`.
fn client_verifier(
    path: &Path,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsSetupError> {
    let error = |reason: String| TlsSetupError::ClientCa {
        path: path.to_owned(),
        reason,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|source| error(format!("cannot read it: {source}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| error(format!("not PEM: {source}")))?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|source| error(format!("not a usable CA certificate: {source}")))?;
    }
    // `build` refuses an empty store, so a file without certificates fails here, naming it.
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|source| error(source.to_string()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rustls_pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;
    use crate::sources::listener::address::Transport;
    use crate::sources::listener::config::ListenerConfig;
    use crate::sources::listener::test_support::{
        Collector, eventually, openssl_available, self_signed, send_tls, start, temp_directory, tls_connector,
    };

    fn tls_config(certificate: &Path, key: &Path, client_ca: Option<&Path>) -> ListenerConfig {
        let mut config = ListenerConfig::new("tls://127.0.0.1:0".parse().unwrap());
        config.tls = Some(TlsFiles {
            certificate: certificate.to_owned(),
            key: key.to_owned(),
            client_ca: client_ca.map(Path::to_path_buf),
        });
        config
    }

    #[tokio::test]
    async fn frames_arrive_over_tls_while_garbage_handshakes_fail_alone() {
        if !openssl_available() {
            return;
        }
        let directory = temp_directory("tls-listener");
        let (certificate, key) = self_signed(&directory, "server");
        let collector = Collector::new();
        let (listener, trigger) = start(tls_config(&certificate, &key, None), collector.clone()).await;
        let address = listener.local_address();

        // One client sends garbage instead of a ClientHello, another connects and says nothing (half-open):
        // neither holds up the real client.
        let mut garbage = TcpStream::connect(address).await.unwrap();
        garbage.write_all(b"this is not TLS\r\n\r\n").await.unwrap();
        let _silent = TcpStream::connect(address).await.unwrap();
        let client = send_tls(&tls_connector(&certificate, None), address, b"<13>one\n<13>two\n").await;

        eventually("two frames over TLS", || collector.frame_count() == 2).await;
        let frames = collector.frames();
        assert_eq!(
            (frames[0].bytes.as_slice(), frames[1].bytes.as_slice()),
            (&b"<13>one"[..], &b"<13>two"[..])
        );
        assert!(
            frames
                .iter()
                .all(|frame| frame.peer == client && frame.transport == Transport::Tls)
        );
        eventually("the failed handshake", || {
            listener.stats().snapshot().tls_handshake_failures == 1
        })
        .await;
        let mut discard = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), garbage.read_to_end(&mut discard)).await;
        assert!(closed.is_ok(), "the garbage connection was left open");

        trigger.trigger();
        tokio::time::timeout(Duration::from_secs(5), listener.wait())
            .await
            .expect("the listener stops with a handshake pending");
    }

    #[tokio::test]
    async fn mutual_tls_admits_only_clients_with_a_trusted_certificate() {
        if !openssl_available() {
            return;
        }
        let directory = temp_directory("mutual-tls");
        let (certificate, key) = self_signed(&directory, "server");
        let (client_certificate, client_key) = self_signed(&directory, "client");
        let collector = Collector::new();
        let config = tls_config(&certificate, &key, Some(client_certificate.as_path()));
        let (listener, trigger) = start(config, collector.clone()).await;
        let address = listener.local_address();

        // In TLS 1.3 the client's side of the handshake completes before the server checks its (missing)
        // certificate, so the refusal shows on the server's count and the client's writes go nowhere.
        let anonymous = tls_connector(&certificate, None);
        let tcp = TcpStream::connect(address).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        if let Ok(mut stream) = anonymous.connect(name, tcp).await {
            let _ = stream.write_all(b"<13>anonymous\n").await;
            let _ = stream.shutdown().await;
            let mut discard = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut discard)).await;
        }
        eventually("the refused handshake", || {
            listener.stats().snapshot().tls_handshake_failures == 1
        })
        .await;

        let trusted = tls_connector(
            &certificate,
            Some((client_certificate.as_path(), client_key.as_path())),
        );
        send_tls(&trusted, address, b"<13>welcome\n").await;
        eventually("the trusted client's frame", || collector.frame_count() == 1).await;
        assert_eq!(collector.frames()[0].bytes, b"<13>welcome");
        trigger.trigger();
        listener.wait().await;
    }

    #[test]
    fn missing_and_wrong_files_are_named() {
        let directory = temp_directory("tls-files");
        let missing = directory.join("missing.pem");
        let files = TlsFiles {
            certificate: missing.clone(),
            key: missing.clone(),
            client_ca: None,
        };
        let error = server_config(&files).unwrap_err().to_string();
        assert!(
            error.contains("cannot read the TLS certificate file") && error.contains("missing.pem"),
            "{error}"
        );

        let not_pem = directory.join("not.pem");
        std::fs::write(&not_pem, "just text\n").unwrap();
        let files = TlsFiles {
            certificate: not_pem.clone(),
            key: not_pem.clone(),
            client_ca: None,
        };
        let error = server_config(&files).unwrap_err().to_string();
        assert!(
            error.contains("holds no certificate") && error.contains("not.pem"),
            "{error}"
        );
    }

    #[test]
    fn key_and_client_ca_problems_are_named() {
        if !openssl_available() {
            return;
        }
        let directory = temp_directory("tls-keys");
        let (certificate, key) = self_signed(&directory, "server");
        let (_, other_key) = self_signed(&directory, "other");
        let files = TlsFiles {
            certificate: certificate.clone(),
            key: certificate.clone(),
            client_ca: None,
        };
        let error = server_config(&files).unwrap_err().to_string();
        assert!(error.contains("holds no private key"), "{error}");

        let files = TlsFiles {
            certificate: certificate.clone(),
            key: other_key,
            client_ca: None,
        };
        let error = server_config(&files).unwrap_err().to_string();
        assert!(error.contains("cannot serve"), "{error}");

        let files = TlsFiles {
            certificate: certificate.clone(),
            key: key.clone(),
            client_ca: Some(key.clone()),
        };
        let error = server_config(&files).unwrap_err().to_string();
        assert!(error.contains("the client CA file"), "{error}");

        let files = TlsFiles {
            certificate: certificate.clone(),
            key,
            client_ca: Some(certificate),
        };
        assert!(server_config(&files).is_ok());
    }
}
