//! Meraki's rate limiter as the API applies it: a token bucket per organization (10/s, burst 10, so 30 requests
//! in the first two seconds) and one per source IP (100/s); over the limit, 429 with `Retry-After` in whole
//! seconds (FACTS.md "Rate limits and 429").

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::time::Instant;

/// A refilling bucket of `capacity` tokens, `rate` per second.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets by key (organization id or source IP). A std Mutex: the critical section is a few float
/// operations and never awaits.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `rate` requests per second with a burst of the same size; 0 turns the limit off.
    pub fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `key`, or says how many whole seconds to wait (at least 1, as Meraki sends integers).
    pub fn take(&self, key: &str) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter lock is never poisoned");
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.rate,
            updated: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * self.rate).min(self.rate);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn thirty_in_the_first_two_seconds() {
        let limiter = RateLimiter::new(10);
        let mut allowed = 0;
        // Offer 100 requests evenly over two seconds (one every 20 ms).
        for _ in 0..100 {
            if limiter.take("org").is_ok() {
                allowed += 1;
            }
            tokio::time::advance(std::time::Duration::from_millis(20)).await;
        }
        assert!((29..=31).contains(&allowed), "{allowed}");
        assert_eq!(
            limiter.take("other"),
            Ok(()),
            "organizations have their own buckets"
        );
        assert!(RateLimiter::new(0).take("org").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_whole_seconds() {
        let limiter = RateLimiter::new(10);
        for _ in 0..10 {
            limiter.take("org").unwrap();
        }
        assert_eq!(limiter.take("org"), Err(1));
    }
}
