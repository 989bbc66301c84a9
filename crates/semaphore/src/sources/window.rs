//! Which window of `uplinksLossAndLatency` to ask for next (pure, so every rule is unit-tested):
//! windows are half-open `[t0, t1)` on whole minutes, at most 5 minutes long, ending at least 2 minutes in
//! the past (Meraki's rules), starting at the watermark, and never older than Meraki's 60-day look-back.

use chrono::{DateTime, TimeDelta, Utc};
use semaphore_meraki::query::{LOSS_LATENCY_MAX_LOOKBACK, ORG_UPLINKS_MAX_SPAN, ORG_UPLINKS_MIN_AGE};

/// Keeps the oldest window a little inside Meraki's 60 days, so it is still valid when the request arrives.
const LOOKBACK_MARGIN: TimeDelta = TimeDelta::minutes(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub t0: DateTime<Utc>,
    pub t1: DateTime<Utc>,
}

/// The next window, and the stretch that is already beyond Meraki's retention (lost for good) if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub window: Option<Window>,
    pub lost: Option<Window>,
    /// How much time is left to read after this window, up to the newest time Meraki serves.
    pub behind: TimeDelta,
}

/// The shape of an operation's windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub max_span: TimeDelta,
    pub min_age: TimeDelta,
    /// Window bounds are multiples of this (the sample interval or resolution).
    pub step: TimeDelta,
}

/// `uplinksLossAndLatency`: 5-minute windows of minute samples, ending 2 minutes ago at the latest.
pub const ORG_UPLINKS: Rules = Rules {
    max_span: ORG_UPLINKS_MAX_SPAN,
    min_age: ORG_UPLINKS_MIN_AGE,
    step: TimeDelta::minutes(1),
};

pub fn plan(watermark: Option<DateTime<Utc>>, now: DateTime<Utc>, initial_lookback: TimeDelta) -> Plan {
    plan_with(ORG_UPLINKS, watermark, now, initial_lookback)
}

pub fn plan_with(
    rules: Rules,
    watermark: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    initial_lookback: TimeDelta,
) -> Plan {
    let limit = floor_to(now - rules.min_age, rules.step);
    let oldest = ceil_to(now - LOSS_LATENCY_MAX_LOOKBACK + LOOKBACK_MARGIN, rules.step);
    let mut start = watermark.unwrap_or_else(|| floor_to(limit - initial_lookback, rules.step));
    let mut lost = None;
    if start < oldest {
        lost = Some(Window {
            t0: start,
            t1: oldest,
        });
        start = oldest;
    }
    if start >= limit {
        return Plan {
            window: None,
            lost,
            behind: TimeDelta::zero(),
        };
    }
    let t1 = (start + rules.max_span).min(limit);
    Plan {
        window: Some(Window { t0: start, t1 }),
        lost,
        behind: limit - t1,
    }
}

pub fn floor_to(time: DateTime<Utc>, step: TimeDelta) -> DateTime<Utc> {
    let step = step.num_seconds().max(1);
    let seconds = time.timestamp().div_euclid(step) * step;
    DateTime::from_timestamp(seconds, 0).expect("a step boundary of a valid time is valid")
}

fn ceil_to(time: DateTime<Utc>, step: TimeDelta) -> DateTime<Utc> {
    let floor = floor_to(time, step);
    if floor == time { floor } else { floor + step }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn first_window_is_the_initial_lookback_ending_two_minutes_ago() {
        let plan = plan(None, at("2026-11-27T10:07:30Z"), TimeDelta::minutes(5));
        assert_eq!(
            plan.window,
            Some(Window {
                t0: at("2026-11-27T10:00:00Z"),
                t1: at("2026-11-27T10:05:00Z")
            })
        );
        assert_eq!(plan.behind, TimeDelta::zero());
        assert_eq!(plan.lost, None);
    }

    #[test]
    fn caught_up_means_no_window_until_a_minute_is_old_enough() {
        let watermark = Some(at("2026-11-27T10:05:00Z"));
        assert_eq!(
            plan(watermark, at("2026-11-27T10:07:59Z"), TimeDelta::zero()).window,
            None
        );
        assert_eq!(
            plan(watermark, at("2026-11-27T10:08:00Z"), TimeDelta::zero()).window,
            Some(Window {
                t0: at("2026-11-27T10:05:00Z"),
                t1: at("2026-11-27T10:06:00Z")
            })
        );
    }

    #[test]
    fn a_gap_is_read_back_five_minutes_at_a_time() {
        let plan = plan(
            Some(at("2026-11-27T09:00:00Z")),
            at("2026-11-27T10:07:00Z"),
            TimeDelta::zero(),
        );
        assert_eq!(
            plan.window,
            Some(Window {
                t0: at("2026-11-27T09:00:00Z"),
                t1: at("2026-11-27T09:05:00Z")
            })
        );
        assert_eq!(plan.behind, TimeDelta::minutes(60));
    }

    #[test]
    fn beyond_sixty_days_is_reported_lost_and_skipped() {
        let now = at("2026-11-27T10:00:00Z");
        let plan = plan(Some(now - TimeDelta::days(90)), now, TimeDelta::zero());
        let window = plan.window.unwrap();
        assert_eq!(window.t0, now - TimeDelta::days(60) + TimeDelta::minutes(5));
        assert_eq!(plan.lost.unwrap().t1, window.t0);
    }

    #[test]
    fn hourly_history_windows_sit_on_hour_boundaries() {
        let rules = Rules {
            max_span: TimeDelta::days(31),
            min_age: TimeDelta::minutes(2),
            step: TimeDelta::hours(1),
        };
        let plan = plan_with(rules, None, at("2026-11-27T10:30:00Z"), TimeDelta::days(2));
        assert_eq!(
            plan.window,
            Some(Window {
                t0: at("2026-11-25T10:00:00Z"),
                t1: at("2026-11-27T10:00:00Z")
            })
        );
    }
}
