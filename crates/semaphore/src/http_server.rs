//! Serving an axum router until the stop signal: the admin server, the Prometheus exporter and the dashboard
//! all bind at start (so a taken port fails the start, naming it) and serve in a task of their own.

use std::net::SocketAddr;

use axum::Router;

use crate::shutdown::Stop;

/// Binds `listen` now; the returned task serves `router` until `stop`. `what` names the server in the log.
pub async fn bind(
    listen: SocketAddr,
    router: Router,
    stop: Stop,
    what: &'static str,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.stopped().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, server = what, "An HTTP server stopped.");
        }
    });
    Ok((address, handle))
}

/// A server that could not listen where its setting says. The message names the cause before the setting to
/// change, so it says the cause itself (and keeps it as the source, which `error_text::one_line` then does
/// not repeat).
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} for {what}: {source}; set {setting}")]
pub struct ListenError {
    pub address: SocketAddr,
    /// The server, as the log names it ("the admin server").
    pub what: &'static str,
    /// The setting that chose the address (`[admin] listen`); `publish` names its flag instead.
    pub setting: &'static str,
    #[source]
    pub source: std::io::Error,
}

/// [`bind`] for a server a config key names: a taken port is an error naming the address and the key to
/// change.
pub async fn bind_setting(
    listen: SocketAddr,
    router: Router,
    stop: Stop,
    what: &'static str,
    setting: &'static str,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ListenError> {
    bind(listen, router, stop, what)
        .await
        .map_err(|source| ListenError {
            address: listen,
            what,
            setting,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_text::one_line;

    /// Issue 10: the OS error is the source, and said once although the message names it before the setting.
    #[test]
    fn a_taken_port_names_the_setting_and_the_os_error_once() {
        let error = ListenError {
            address: "127.0.0.1:9100".parse().unwrap(),
            what: "the admin server",
            setting: "[admin] listen",
            source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use"),
        };
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(
            one_line(&error),
            "cannot listen on 127.0.0.1:9100 for the admin server: Address already in use; set [admin] listen"
        );
    }
}
