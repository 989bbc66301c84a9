//! The future that says stop: SIGINT (Ctrl-C) or SIGTERM, whichever comes first. Components receive this
//! future (or one derived from it), never a global flag.
//!
//! The handlers are installed when [`install`] is called, not when the future is first polled: a process that
//! has printed "listening" must already survive a signal sent the moment after.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

/// Installs the SIGINT and SIGTERM handlers now; the returned future completes on the first of them.
pub fn install() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("Received SIGINT, shutting down."),
            _ = terminate.recv() => tracing::info!("Received SIGTERM, shutting down."),
        }
    })
}
