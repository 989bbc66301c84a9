//! How long to wait before the next attempt: Meraki's `Retry-After` when it gives one, otherwise capped
//! exponential backoff with jitter so that many tasks retrying together spread out.

use std::time::Duration;

use rand::Rng;

/// Retry settings. The defaults follow Meraki's own SDK: five retries (`MAXIMUM_RETRIES = 5`) and
/// backoff capped at 60 s.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts, the first one included.
    pub max_attempts: u32,
    /// The first backoff step; doubled on each further retry.
    pub base_delay: Duration,
    /// No single wait is longer than this, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry), with "equal jitter": half the step is
    /// fixed, the other half random.
    pub fn backoff(&self, retry: u32) -> Duration {
        let step = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        let half = step / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    /// The wait before retry number `retry`: the server's `Retry-After` when it gave one (capped), else the
    /// backoff. Meraki's SDK does the same, with exponential backoff for "nginx 429s" that lack the header.
    pub fn wait(&self, retry_after: Option<Duration>, retry: u32) -> Duration {
        retry_after.map_or_else(
            || self.backoff(retry),
            |retry_after| retry_after.min(self.max_delay),
        )
    }
}

/// `Retry-After` as Meraki sends it: a number of seconds. Anything else is ignored (the backoff applies).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0 && *seconds < 86_400.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = policy.backoff(3);
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            assert!(policy.backoff(30) <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn retry_after_wins_when_sane() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.wait(parse_retry_after(Some("2")), 1),
            Duration::from_secs(2)
        );
        assert_eq!(
            policy.wait(parse_retry_after(Some(" 3600 ")), 1),
            Duration::from_secs(60),
            "capped"
        );
        assert_eq!(parse_retry_after(Some("soon")), None);
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert!(policy.wait(None, 1) <= Duration::from_millis(500));
    }
}
