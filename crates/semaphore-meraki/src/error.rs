//! Every way a Meraki call can fail, each with the context and the remedy an operator needs.
//!
//! URLs in these errors never carry the API key: the key travels only in the `Authorization` header.

use std::time::Duration;

/// A failed Meraki call or a refused request.
#[derive(Debug, thiserror::Error)]
pub enum MerakiError {
    #[error("the Meraki API key is missing: set MERAKI_DASHBOARD_API_KEY to a Dashboard API key")]
    MissingApiKey,

    #[error("invalid Meraki base URL {value:?}: {reason}")]
    InvalidBaseUrl { value: String, reason: String },

    #[error("invalid parameter {parameter} for {operation}: {reason} (the request was not sent)")]
    InvalidParameter {
        operation: &'static str,
        parameter: &'static str,
        reason: String,
    },

    #[error(
        "Meraki rejected the request to {url} as malformed (400): {message}; this is a semaphore bug or a \
         parameter Meraki no longer accepts"
    )]
    BadRequest { url: String, message: String },

    #[error(
        "Meraki refused the API key (401 from {url}): the key is missing or wrong; check MERAKI_DASHBOARD_API_KEY \
         and that the key has not been revoked"
    )]
    Unauthorized { url: String },

    #[error(
        "Meraki denied access (403 from {url}): {message}; check that API access is enabled for the organization \
         and that the key's administrator has read access to it"
    )]
    Forbidden { url: String, message: String },

    #[error(
        "Meraki has no such resource (404 from {url}): check the organization id, network id or serial, and that \
         the key can see it"
    )]
    NotFound { url: String },

    #[error(
        "Meraki kept rate-limiting {url} (429 on all {attempts} attempts): another application shares this \
         organization's 10 requests/s; lower semaphore's request rate or poll less often"
    )]
    RateLimited { url: String, attempts: u32 },

    #[error(
        "Meraki answered {status} for {url} on all {attempts} attempts: the service is failing, try again later"
    )]
    Server { url: String, status: u16, attempts: u32 },

    #[error(
        "no answer from {url} within {timeout:?} on all {attempts} attempts: check the network path to Meraki"
    )]
    Timeout {
        url: String,
        timeout: Duration,
        attempts: u32,
    },

    #[error("cannot reach {url} after {attempts} attempts: {reason}; check DNS, proxy and firewall")]
    Connection {
        url: String,
        attempts: u32,
        reason: String,
    },

    #[error("Meraki's answer from {url} could not be read after {attempts} attempts: {reason}")]
    InvalidResponse {
        url: String,
        attempts: u32,
        reason: String,
    },

    #[error("refused to follow the redirect from {url} to {location}: {reason}")]
    Redirect {
        url: String,
        location: String,
        reason: String,
    },

    #[error("Meraki answered {status} for {url}, which semaphore does not expect: {message}")]
    UnexpectedStatus {
        url: String,
        status: u16,
        message: String,
    },
}

/// Error classes for counting, one per variant family; labels of the `errors` counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Config,
    InvalidParameter,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    Server,
    Timeout,
    Connection,
    InvalidResponse,
    Redirect,
    UnexpectedStatus,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::Config,
        ErrorKind::InvalidParameter,
        ErrorKind::BadRequest,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::RateLimited,
        ErrorKind::Server,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::InvalidResponse,
        ErrorKind::Redirect,
        ErrorKind::UnexpectedStatus,
    ];

    /// The snake_case label used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::InvalidParameter => "invalid_parameter",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Redirect => "redirect",
            ErrorKind::UnexpectedStatus => "unexpected_status",
        }
    }
}

impl MerakiError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            MerakiError::MissingApiKey | MerakiError::InvalidBaseUrl { .. } => ErrorKind::Config,
            MerakiError::InvalidParameter { .. } => ErrorKind::InvalidParameter,
            MerakiError::BadRequest { .. } => ErrorKind::BadRequest,
            MerakiError::Unauthorized { .. } => ErrorKind::Unauthorized,
            MerakiError::Forbidden { .. } => ErrorKind::Forbidden,
            MerakiError::NotFound { .. } => ErrorKind::NotFound,
            MerakiError::RateLimited { .. } => ErrorKind::RateLimited,
            MerakiError::Server { .. } => ErrorKind::Server,
            MerakiError::Timeout { .. } => ErrorKind::Timeout,
            MerakiError::Connection { .. } => ErrorKind::Connection,
            MerakiError::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            MerakiError::Redirect { .. } => ErrorKind::Redirect,
            MerakiError::UnexpectedStatus { .. } => ErrorKind::UnexpectedStatus,
        }
    }
}

/// An error and its causes on one line, `error: cause: cause`, each said once: a cause whose text the line
/// already holds (an error that quotes its source in its own message) is not repeated.
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let text = current.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = current.source();
    }
    line
}
