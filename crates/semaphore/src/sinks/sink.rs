//! What a sink's delivery deals in: the accepted messages of a batch, and the two ways a destination can
//! refuse them (later, or never). What a sink is to the runner is [`crate::sinks::component::Deliver`].

use crate::sinks::message::{ConsumedMessage, Decoded};

/// A message that decoded to a type the sink takes.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub message: ConsumedMessage,
    pub decoded: Decoded,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The destination cannot take it now (down, overloaded, misconfigured): the batch is tried again, and
    /// not committed meanwhile.
    #[error("{0}")]
    Retry(String),
    /// The destination will never take these records: they go to the dead-letter topic with this reason.
    #[error("{0}")]
    Reject(String),
}

/// The HTTP client of a sink that POSTs (InfluxDB, webhooks): rustls, one time limit per request.
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))
}
