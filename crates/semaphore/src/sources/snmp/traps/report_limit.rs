//! How many Reports a sender gets: at most [`REPORTS_PER_SECOND`] per address. A Report answers a datagram
//! that anyone can send with any source address, so without a limit the source would answer a flood of
//! spoofed probes as fast as they come, at whoever the address names. A real sender needs one Report to
//! discover our engine ID and one now and then to resync its clock; one refused a Report asks again after its
//! timeout.
//!
//! The memory of who was answered is bounded, as the warnings' is (`warnings.rs`): a flood from more
//! addresses than it holds gets no Report from a new address until a second has passed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

/// Reports one address gets per [`REPORT_WINDOW`] at most: a few senders behind one address (NAT), each
/// discovering our engine, fit.
pub const REPORTS_PER_SECOND: u32 = 10;
/// The window the count above is over.
pub const REPORT_WINDOW: Duration = Duration::from_secs(1);

/// Addresses remembered at most: about a hundred kilobytes.
const MAX_REMEMBERED: usize = 4_096;

/// Who was sent how many Reports in their current window, for one source's receive loop (which owns it: no
/// lock).
#[derive(Debug, Default)]
pub struct ReportLimiter {
    /// Per address: when its window started, and the Reports sent in it.
    windows: HashMap<IpAddr, (Instant, u32)>,
    /// When ended windows were last forgotten, so a full map is swept at most once a window.
    swept: Option<Instant>,
}

impl ReportLimiter {
    /// Whether a Report may go to `sender` at `now`; counts it when it may.
    pub fn allow(&mut self, sender: IpAddr, now: Instant) -> bool {
        if let Some((started, sent)) = self.windows.get_mut(&sender) {
            if now.saturating_duration_since(*started) >= REPORT_WINDOW {
                *started = now;
                *sent = 0;
            }
            if *sent >= REPORTS_PER_SECOND {
                return false;
            }
            *sent += 1;
            return true;
        }
        if self.windows.len() >= MAX_REMEMBERED && !self.sweep(now) {
            return false;
        }
        self.windows.insert(sender, (now, 1));
        true
    }

    /// Forgets the windows that ended, at most once a window; whether there is room now.
    fn sweep(&mut self, now: Instant) -> bool {
        let recently = self
            .swept
            .is_some_and(|swept| now.saturating_duration_since(swept) < REPORT_WINDOW);
        if !recently {
            self.swept = Some(now);
            self.windows
                .retain(|_, (started, _)| now.saturating_duration_since(*started) < REPORT_WINDOW);
        }
        self.windows.len() < MAX_REMEMBERED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(index: u32) -> IpAddr {
        IpAddr::from(0x0a00_0000_u32.wrapping_add(index).to_be_bytes())
    }

    #[test]
    fn a_few_per_second_per_address() {
        let mut limiter = ReportLimiter::default();
        let start = Instant::now();
        for _ in 0..REPORTS_PER_SECOND {
            assert!(limiter.allow(address(1), start));
        }
        let later = start + Duration::from_millis(999);
        assert!(!limiter.allow(address(1), later));
        // Another address has its own count.
        assert!(limiter.allow(address(2), later));
        // A second on, the first may have Reports again.
        assert!(limiter.allow(address(1), start + REPORT_WINDOW));
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded() {
        let mut limiter = ReportLimiter::default();
        let start = Instant::now();
        for index in 0..MAX_REMEMBERED as u32 {
            assert!(limiter.allow(address(index), start));
        }
        let one_more = address(MAX_REMEMBERED as u32);
        assert!(!limiter.allow(one_more, start + Duration::from_millis(10)));
        // Swept once, not again within the window: still no room, no sweep.
        assert!(!limiter.allow(one_more, start + Duration::from_millis(20)));
        assert_eq!(limiter.windows.len(), MAX_REMEMBERED);
        // A window on, the ended windows are forgotten and the new address is answered.
        assert!(limiter.allow(one_more, start + REPORT_WINDOW + Duration::from_millis(10)));
        assert_eq!(limiter.windows.len(), 1);
    }
}
