//! The future that says stop: SIGINT (Ctrl-C) or SIGTERM, whichever comes first. Components receive this
//! future (or one derived from it), never a global flag.

/// Completes on SIGINT or SIGTERM.
pub async fn signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(error) => {
                tracing::warn!(%error, "Cannot listen for SIGTERM; only SIGINT stops the process.");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => tracing::info!("Received SIGINT, shutting down."),
            _ = terminate.recv() => tracing::info!("Received SIGTERM, shutting down."),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
