//! What the simulator has been asked, for tests and benchmarks that count API calls (`GET /_sim/stats`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// Counters since start. A std Mutex: each update is one map increment and never awaits.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<StatsSnapshot>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    /// API requests received, whatever their answer.
    pub requests: u64,
    /// Requests by operation path template, e.g. `GET /organizations/{organizationId}/devices`.
    pub by_operation: BTreeMap<String, u64>,
    /// Answers by status code.
    pub by_status: BTreeMap<u16, u64>,
    /// 429 answers (storm or budget).
    pub rate_limited: u64,
}

impl Stats {
    pub fn request(&self, operation: &str) {
        let mut inner = self.inner.lock().expect("stats lock is never poisoned");
        inner.requests += 1;
        *inner.by_operation.entry(operation.to_owned()).or_default() += 1;
    }

    pub fn answered(&self, status: u16) {
        let mut inner = self.inner.lock().expect("stats lock is never poisoned");
        *inner.by_status.entry(status).or_default() += 1;
        if status == 429 {
            inner.rate_limited += 1;
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        self.inner.lock().expect("stats lock is never poisoned").clone()
    }
}
