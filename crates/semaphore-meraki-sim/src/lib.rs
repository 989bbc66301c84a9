//! A Cisco Meraki Dashboard API simulator for tests, benchmarks and `semaphore demo`.
//!
//! It answers the operations semaphore uses the way Meraki does: a deterministic estate for a seed
//! ([`estate`]), loss and latency computed from time ([`series`]), Meraki's parameter rules, `Link`
//! pagination ([`pagination`]), the per-organization rate limit with 429 + `Retry-After` ([`rate_limit`]),
//! 401 for a missing or wrong key, and faults switched on by flag or admin endpoint ([`faults`]).
//! Responses are the client crate's own model types; the tests check them against Meraki's OpenAPI schemas.
//!
//! **API Boundary:** used by the `semaphore simulate` command and by tests in other crates through [`spawn`].

pub mod api_error;
pub mod clients;
pub mod estate;
pub mod faults;
pub mod handlers;
pub mod noise;
pub mod pagination;
pub mod rate_limit;
pub mod series;
pub mod server;
pub mod spec;
pub mod stats;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use estate::EstateShape;
pub use faults::Faults;
pub use server::{SimConfig, Simulator};

/// Serves the simulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    simulator: Arc<Simulator>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = server::router(simulator).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// A simulator running in the background of the current Tokio runtime; it stops when dropped.
pub struct RunningSimulator {
    pub address: SocketAddr,
    pub simulator: Arc<Simulator>,
    stop: Option<oneshot::Sender<()>>,
}

impl RunningSimulator {
    /// `http://127.0.0.1:PORT/api/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.address)
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a simulator on a free port of 127.0.0.1.
pub async fn spawn(config: SimConfig) -> std::io::Result<RunningSimulator> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let simulator = Arc::new(Simulator::new(config));
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(serve(listener, simulator.clone(), async {
        let _ = stopped.await;
    }));
    Ok(RunningSimulator {
        address,
        simulator,
        stop: Some(stop),
    })
}
