//! The future that says stop: SIGINT (Ctrl-C) or SIGTERM, whichever comes first, and [`Stop`], the handle
//! components receive (never a global flag).
//!
//! The handlers are installed when [`install`] is called, not when the future is first polled: a process that
//! has printed "listening" must already survive a signal sent the moment after.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

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

/// Tells every [`Stop`] made from it to stop; dropping it does too.
#[derive(Debug)]
pub struct StopTrigger(watch::Sender<bool>);

/// A component's view of the stop signal: cheap to clone, awaitable, and checkable between steps.
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

pub fn stop_pair() -> (StopTrigger, Stop) {
    let (sender, receiver) = watch::channel(false);
    (StopTrigger(sender), Stop(receiver))
}

impl StopTrigger {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl Stop {
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once stop was triggered (or its trigger dropped).
    pub async fn stopped(&self) {
        let mut receiver = self.0.clone();
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }

    /// Sleeps for `duration` unless stopped first; says whether it slept the whole time.
    pub async fn sleep(&self, duration: std::time::Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            () = self.stopped() => false,
        }
    }
}
