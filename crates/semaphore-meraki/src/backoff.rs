//! How long to wait before the next attempt. [`Backoff`] is the workspace's one retry schedule: capped
//! exponential backoff, optionally jittered so that many tasks retrying together spread out. The Meraki
//! client uses it through its [`RetryPolicy`] (Meraki's `Retry-After` when it gives one, else the backoff),
//! and the collector's outputs, sinks and organization discovery use it directly, each with a named
//! constant for its schedule.

use std::time::Duration;

use rand::Rng;

/// Capped exponential backoff: `first` before the first retry, doubled before each further one, never
/// longer than `max`. It holds no state: the caller counts its retries and asks for the wait before
/// retry number `retry`, so one `const` value can name a schedule and serve every loop that follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub first: Duration,
    /// No wait is longer than this.
    pub max: Duration,
    /// "Equal jitter": each wait is drawn between half its step and the whole step, so tasks that failed
    /// together do not all retry together.
    pub jitter: bool,
}

impl Backoff {
    /// `first` doubling to `max`, without jitter.
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            jitter: false,
        }
    }

    /// The same schedule with equal jitter.
    pub const fn jittered(self) -> Self {
        Self {
            first: self.first,
            max: self.max,
            jitter: true,
        }
    }

    /// The wait before retry number `retry` (1 for the first retry; 0 counts as 1): [`Backoff::step`],
    /// jittered when the schedule asks for it.
    pub fn delay(&self, retry: u32) -> Duration {
        let step = self.step(retry);
        if self.jitter {
            equal_jitter(step, rand::rng().random::<f64>())
        } else {
            step
        }
    }

    /// The wait before retry number `retry` without jitter: `first × 2^(retry − 1)`, at most `max`.
    pub fn step(&self, retry: u32) -> Duration {
        let mut step = self.first.min(self.max);
        // Doubling one step at a time stops at the cap (a few dozen steps at most, whatever `retry` is),
        // so no power of two can overflow.
        for _ in 1..retry {
            if step >= self.max || step.is_zero() {
                break;
            }
            step = step.saturating_mul(2).min(self.max);
        }
        step
    }
}

/// Half of `step` fixed, the other half scaled by `unit` (drawn from [0, 1)): a wait in [step / 2, step].
fn equal_jitter(step: Duration, unit: f64) -> Duration {
    let half = step / 2;
    half + half.mul_f64(unit)
}

/// Retry settings of the Meraki client. The defaults follow README "How semaphore talks to Meraki" and
/// Meraki's own SDK.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts, the first one included.
    pub max_attempts: u32,
    /// The wait before each retry when Meraki sent no `Retry-After`; its `max` caps `Retry-After` too.
    pub backoff: Backoff,
}

/// Meraki's SDK retries five times (`MAXIMUM_RETRIES = 5`): six attempts in all.
const MERAKI_MAX_ATTEMPTS: u32 = 6;

/// 0.5 s doubling, at most 60 s (the SDK's cap), jittered: every task of the process shares one
/// organization's budget, and retrying in step would spend it in bursts.
const MERAKI_BACKOFF: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(60)).jittered();

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: MERAKI_MAX_ATTEMPTS,
            backoff: MERAKI_BACKOFF,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry`: the server's `Retry-After` when it gave one (capped), else the
    /// backoff. Meraki's SDK does the same, with exponential backoff for "nginx 429s" that lack the header.
    pub fn wait(&self, retry_after: Option<Duration>, retry: u32) -> Duration {
        retry_after.map_or_else(
            || self.backoff.delay(retry),
            |retry_after| retry_after.min(self.backoff.max),
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

    const HALF_TO_30: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));

    #[test]
    fn first_retry_waits_first() {
        assert_eq!(HALF_TO_30.delay(1), Duration::from_millis(500));
        assert_eq!(
            HALF_TO_30.delay(0),
            Duration::from_millis(500),
            "0 counts as the first retry"
        );
    }

    #[test]
    fn each_retry_doubles_until_the_cap() {
        let waits: Vec<Duration> = (1..=8).map(|retry| HALF_TO_30.delay(retry)).collect();
        let expected: Vec<Duration> = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
            .into_iter()
            .map(Duration::from_millis)
            .collect();
        assert_eq!(waits, expected);
    }

    #[test]
    fn the_cap_holds_for_any_retry_count() {
        assert_eq!(HALF_TO_30.delay(64), Duration::from_secs(30));
        assert_eq!(HALF_TO_30.delay(u32::MAX), Duration::from_secs(30));
        let tiny = Backoff::new(Duration::from_nanos(1), Duration::MAX);
        assert_eq!(
            tiny.delay(41),
            Duration::from_nanos(1 << 40),
            "no overflow on the way"
        );
        assert_eq!(tiny.delay(u32::MAX), Duration::MAX);
        let first_above_cap = Backoff::new(Duration::from_secs(10), Duration::from_secs(5));
        assert_eq!(first_above_cap.delay(1), Duration::from_secs(5));
    }

    #[test]
    fn equal_jitter_spans_the_upper_half_of_the_step() {
        let step = Duration::from_secs(8);
        assert_eq!(equal_jitter(step, 0.0), Duration::from_secs(4));
        assert_eq!(equal_jitter(step, 0.5), Duration::from_secs(6));
        // `Duration::mul_f64` rounds to the nearest nanosecond, so the top of the range is the step itself.
        let near_one = equal_jitter(step, 1.0 - f64::EPSILON);
        assert!(
            near_one <= step && near_one > Duration::from_millis(7_999),
            "{near_one:?}"
        );
    }

    #[test]
    fn jittered_waits_stay_within_half_and_whole_step() {
        let jittered = HALF_TO_30.jittered();
        for retry in 1..=10 {
            let step = HALF_TO_30.step(retry);
            let waits: Vec<Duration> = (0..100).map(|_| jittered.delay(retry)).collect();
            for wait in &waits {
                assert!(
                    *wait >= step / 2 && *wait <= step,
                    "retry {retry}: {wait:?} outside [{step:?}/2, {step:?}]"
                );
            }
            assert!(
                waits.iter().any(|wait| *wait != waits[0]),
                "retry {retry}: 100 jittered waits all equal"
            );
        }
    }

    #[test]
    fn meraki_default_is_the_documented_schedule() {
        // README "How semaphore talks to Meraki": 6 attempts, 0.5 s doubling, at most 60 s, jittered.
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts, 6);
        assert_eq!(policy.backoff.step(1), Duration::from_millis(500));
        assert_eq!(policy.backoff.step(2), Duration::from_secs(1));
        assert_eq!(policy.backoff.step(20), Duration::from_secs(60));
        assert!(policy.backoff.jitter);
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
        let wait = policy.wait(None, 1);
        assert!(
            wait >= Duration::from_millis(250) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
    }
}
