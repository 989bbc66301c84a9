//! Counters about the client's traffic, read by the admin `/metrics` endpoint.
//!
//! Plain atomics rather than a metrics registry: this crate has no opinion on how they are exported, and a
//! counter bump on each request is far cheaper than the request.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::ErrorKind;

/// Monotonic counters, shared by every clone of a client.
#[derive(Debug, Default)]
pub struct ClientMetrics {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    retries: AtomicU64,
    pages: AtomicU64,
    redirects: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
}

/// A point-in-time copy of [`ClientMetrics`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    /// HTTP requests sent, retries and redirect hops included.
    pub requests: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Attempts repeated after a retryable failure.
    pub retries: u64,
    /// Pages received from paginated operations (first pages included).
    pub pages: u64,
    /// Redirects followed.
    pub redirects: u64,
    /// Calls that finally failed, by error kind label.
    pub errors: Vec<(&'static str, u64)>,
}

impl MetricsSnapshot {
    /// Failed calls of one kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors
            .iter()
            .find(|(label, _)| *label == kind.as_str())
            .map_or(0, |(_, count)| *count)
    }
}

impl ClientMetrics {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn page(&self) {
        self.pages.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn redirect(&self) {
        self.redirects.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn error(&self, kind: ErrorKind) {
        let index = ErrorKind::ALL
            .iter()
            .position(|candidate| *candidate == kind)
            .expect("ALL lists every kind");
        self.errors[index].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            pages: self.pages.load(Ordering::Relaxed),
            redirects: self.redirects.load(Ordering::Relaxed),
            errors: ErrorKind::ALL
                .iter()
                .zip(&self.errors)
                .map(|(kind, count)| (kind.as_str(), count.load(Ordering::Relaxed)))
                .collect(),
        }
    }
}
