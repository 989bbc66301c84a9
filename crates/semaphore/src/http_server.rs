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

/// [`bind`] for a server a config key names: a taken port is an error naming the address and the key to
/// change.
pub async fn bind_setting(
    listen: SocketAddr,
    router: Router,
    stop: Stop,
    what: &'static str,
    setting: &str,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    bind(listen, router, stop, what)
        .await
        .map_err(|error| format!("cannot listen on {listen} for {what}: {error}; set {setting}"))
}
