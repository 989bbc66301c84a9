//! What a sink's delivery deals in: the accepted messages of a batch, and the two ways a destination can
//! refuse them (later, or never). What a sink is to the runner is [`crate::sinks::component::Deliver`].

use crate::sinks::message::{ConsumedMessage, Decoded};

/// A message that decoded to a type the sink takes.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub message: ConsumedMessage,
    pub decoded: Decoded,
}

/// Any error, its causes kept: what a sink's own error becomes where the runner handles every kind alike.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a destination did not take a batch: the sink's own error, and what the runner does about it. The
/// runner logs the error and its causes on one line ([`crate::error_text::one_line`]), and gives the same
/// line to the dead-letter topic as the reason.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The destination cannot take it now (down, overloaded, misconfigured): the batch is tried again, and
    /// not committed meanwhile.
    #[error(transparent)]
    Retry(BoxError),
    /// The destination will never take these records: they go to the dead-letter topic with this reason.
    #[error(transparent)]
    Reject(BoxError),
}

impl SinkError {
    pub fn retry(error: impl Into<BoxError>) -> Self {
        SinkError::Retry(error.into())
    }

    pub fn reject(error: impl Into<BoxError>) -> Self {
        SinkError::Reject(error.into())
    }
}

/// The HTTP client of a sink could not be built (its TLS backend did not initialize).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client")]
pub struct HttpClientError(#[from] reqwest::Error);

/// The HTTP client of a sink that POSTs (InfluxDB, webhooks): rustls, one time limit per request.
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, HttpClientError> {
    Ok(reqwest::Client::builder().timeout(timeout).build()?)
}
