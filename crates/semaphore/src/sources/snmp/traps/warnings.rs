//! How often a refused datagram is logged: once per sender per reason per minute (STYLE.md section 6:
//! rate-limit lines that repeat per event), while the counter counts every one. The memory of who was logged
//! is bounded: a flood from many addresses fills it, and then new senders are counted without a line until
//! a minute has passed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

/// One line per sender and reason within this.
pub const WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// Senders and reasons remembered at most: a few hundred kilobytes.
const MAX_REMEMBERED: usize = 4_096;

/// Who was logged when, for one source's receive loop (which owns it: no lock).
#[derive(Debug, Default)]
pub struct WarningLimiter {
    logged: HashMap<(IpAddr, &'static str), Instant>,
}

impl WarningLimiter {
    /// Whether a datagram of `sender` refused for `reason` at `now` is logged; remembers it when it is.
    pub fn should_log(&mut self, sender: IpAddr, reason: &'static str, now: Instant) -> bool {
        let key = (sender, reason);
        if let Some(last) = self.logged.get(&key)
            && now.saturating_duration_since(*last) < WARNING_INTERVAL
        {
            return false;
        }
        if self.logged.len() >= MAX_REMEMBERED && !self.logged.contains_key(&key) {
            self.forget_older_than_interval(now);
            if self.logged.len() >= MAX_REMEMBERED {
                return false;
            }
        }
        self.logged.insert(key, now);
        true
    }

    fn forget_older_than_interval(&mut self, now: Instant) {
        self.logged
            .retain(|_, last| now.saturating_duration_since(*last) < WARNING_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(index: u32) -> IpAddr {
        IpAddr::from(0x0a00_0000_u32.wrapping_add(index).to_be_bytes())
    }

    #[test]
    fn once_per_sender_and_reason_per_minute() {
        let mut limiter = WarningLimiter::default();
        let start = Instant::now();
        assert!(limiter.should_log(address(1), "malformed", start));
        assert!(!limiter.should_log(address(1), "malformed", start + Duration::from_secs(59)));
        assert!(limiter.should_log(address(1), "wrong_digest", start));
        assert!(limiter.should_log(address(2), "malformed", start));
        assert!(limiter.should_log(address(1), "malformed", start + Duration::from_secs(60)));
    }

    #[test]
    fn a_flood_of_senders_stays_bounded() {
        let mut limiter = WarningLimiter::default();
        let start = Instant::now();
        for index in 0..MAX_REMEMBERED as u32 {
            assert!(limiter.should_log(address(index), "malformed", start));
        }
        let one_more = address(MAX_REMEMBERED as u32);
        assert!(!limiter.should_log(one_more, "malformed", start + Duration::from_secs(1)));
        assert_eq!(limiter.logged.len(), MAX_REMEMBERED);
        // A minute on, the old entries are forgotten and the new sender is logged.
        assert!(limiter.should_log(one_more, "malformed", start + WARNING_INTERVAL));
        assert_eq!(limiter.logged.len(), 1);
    }
}
