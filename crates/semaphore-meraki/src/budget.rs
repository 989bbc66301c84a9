//! The request budget Meraki grants: a token bucket per organization and a ceiling per source IP.
//!
//! Meraki allows 10 requests/s per organization with a burst of 10 more in the first second (30 in the first two
//! seconds), shared by every application using that organization, and 100 requests/s per source IP
//! (FACTS.md "Rate limits and 429"). A bucket of capacity 10 refilled at 10/s gives exactly that. One
//! `RateBudget` is shared by every clone of a [`crate::Client`], so all tasks of the process draw from the
//! same buckets; build one client and clone it.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// semaphore's pace per organization (requests per second): Meraki's 10 less the SDK's headroom.
pub const ORG_RATE: u32 = 9;
/// Meraki's per-organization burst.
pub const ORG_BURST: u32 = 10;
/// Meraki's per-source-IP rate (requests per second).
pub const MERAKI_IP_RATE: u32 = 100;

/// Per-organization buckets plus the per-IP ceiling.
pub struct RateBudget {
    per_organization: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultDirectRateLimiter,
}

impl RateBudget {
    /// A budget of `org_rate` requests/s per organization with a burst of `org_burst`, and `ip_rate`
    /// requests/s for the whole process.
    pub fn new(org_rate: NonZeroU32, org_burst: NonZeroU32, ip_rate: NonZeroU32) -> Self {
        Self {
            per_organization: RateLimiter::keyed(Quota::per_second(org_rate).allow_burst(org_burst)),
            per_ip: RateLimiter::direct(Quota::per_second(ip_rate)),
        }
    }

    /// Waits until one request may be sent for `organization_id` (or only the IP ceiling applies, for calls
    /// outside any organization such as `GET /organizations`).
    pub async fn acquire(&self, organization_id: Option<&str>) {
        if let Some(organization_id) = organization_id {
            self.per_organization
                .until_key_ready(&organization_id.to_owned())
                .await;
        }
        self.per_ip.until_ready().await;
    }
}

impl Default for RateBudget {
    fn default() -> Self {
        Self::new(
            NonZeroU32::new(ORG_RATE).expect("constant is non-zero"),
            NonZeroU32::new(ORG_BURST).expect("constant is non-zero"),
            NonZeroU32::new(MERAKI_IP_RATE).expect("constant is non-zero"),
        )
    }
}

impl std::fmt::Debug for RateBudget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("RateBudget").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A lower bound only: the budget must hold requests back; how fast the machine is does not matter.
    #[tokio::test]
    async fn burst_then_steady_rate_per_organization() {
        let budget = RateBudget::default();
        let started = tokio::time::Instant::now();
        for _ in 0..15 {
            budget.acquire(Some("org-a")).await;
        }
        // 10 from the bucket, then 5 more at 9/s: at least 0.5 s must have passed.
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        // Another organization has its own bucket, still full.
        for _ in 0..10 {
            assert!(budget.per_organization.check_key(&"org-b".to_owned()).is_ok());
        }
        assert!(
            budget.per_organization.check_key(&"org-b".to_owned()).is_err(),
            "burst is 10"
        );
    }
}
