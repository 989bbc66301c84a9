//! Timeliness (RFC 3414 §2.2.3, §3.2.7): an authenticated message is accepted only if its engine boots and
//! time are within 150 seconds of what the receiver knows of the authoritative engine's clock, which stops a
//! recorded message from being replayed later. [`EngineClock`] is that knowledge for an engine we are not
//! (an agent we poll, a trap sender); [`check_authoritative`] checks a message to our own engine (an inform).

use tokio::time::Instant;

use crate::sources::snmp::wire::errors::UsmError;

/// How far a message's time may be from the engine's (RFC 3414 §2.2.3).
pub const TIME_WINDOW_S: u32 = 150;

/// snmpEngineBoots at which an engine must be reconfigured: nothing is timely any more (RFC 3414 §2.2.2).
pub const MAX_ENGINE_BOOTS: u32 = 2_147_483_647;

/// What we know of another engine's clock: snmpEngineBoots, snmpEngineTime when last synchronized and when
/// that was, and latestReceivedEngineTime (RFC 3414 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineClock {
    boots: u32,
    time: u32,
    latest_received_time: u32,
    synchronized_at: Instant,
}

impl EngineClock {
    /// From the boots and time a discovery (or the first authentic message) gave, at `now`.
    pub fn new(boots: u32, time: u32, now: Instant) -> Self {
        Self {
            boots,
            time,
            latest_received_time: time,
            synchronized_at: now,
        }
    }

    pub fn boots(&self) -> u32 {
        self.boots
    }

    /// The engine's time now as estimated from the last synchronization, for the messages we send it.
    pub fn time(&self, now: Instant) -> u32 {
        let elapsed = now.saturating_duration_since(self.synchronized_at).as_secs();
        let elapsed = u32::try_from(elapsed).unwrap_or(u32::MAX);
        self.time.saturating_add(elapsed).min(MAX_ENGINE_BOOTS)
    }

    /// Checks an authentic message's boots and time (RFC 3414 §3.2.7.b), and first moves the clock forward
    /// when they are newer than what is known. Call it only after the message's digest was verified: an
    /// unauthenticated message must not move the clock.
    pub fn accept(&mut self, boots: u32, time: u32, now: Instant) -> Result<(), UsmError> {
        if boots > self.boots || (boots == self.boots && time > self.latest_received_time) {
            *self = EngineClock::new(boots, time, now);
        }
        let engine_time = self.time(now);
        let timely = self.boots != MAX_ENGINE_BOOTS
            && boots == self.boots
            && time.saturating_add(TIME_WINDOW_S) >= engine_time;
        if timely {
            return Ok(());
        }
        Err(UsmError::NotInTimeWindow {
            message_boots: boots,
            message_time: time,
            engine_boots: self.boots,
            engine_time,
        })
    }
}

/// Checks a message sent to our own engine (RFC 3414 §3.2.7.a): the same boots, a time within 150 seconds.
pub fn check_authoritative(
    engine_boots: u32,
    engine_time: u32,
    message_boots: u32,
    message_time: u32,
) -> Result<(), UsmError> {
    let timely = engine_boots != MAX_ENGINE_BOOTS
        && message_boots == engine_boots
        && message_time.abs_diff(engine_time) <= TIME_WINDOW_S;
    if timely {
        return Ok(());
    }
    Err(UsmError::NotInTimeWindow {
        message_boots,
        message_time,
        engine_boots,
        engine_time,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_clock_runs_on_from_its_synchronization() {
        let start = Instant::now();
        let clock = EngineClock::new(3, 1_000, start);
        assert_eq!(clock.time(start), 1_000);
        assert_eq!(clock.time(start + Duration::from_secs(60)), 1_060);
        assert_eq!(clock.boots(), 3);
    }

    #[test]
    fn messages_within_150_seconds_are_timely() {
        let start = Instant::now();
        let mut clock = EngineClock::new(3, 1_000, start);
        let later = start + Duration::from_secs(200);
        assert_eq!(clock.accept(3, 1_050, later), Ok(()));
        assert_eq!(clock.accept(3, 1_049, later), Ok(()));
        assert!(clock.accept(3, 899, later + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn newer_boots_or_times_move_the_clock_and_older_boots_are_refused() {
        let start = Instant::now();
        let mut clock = EngineClock::new(3, 1_000, start);
        assert_eq!(clock.accept(4, 5, start), Ok(()));
        assert_eq!((clock.boots(), clock.time(start)), (4, 5));
        assert_eq!(
            clock.accept(3, 2_000, start),
            Err(UsmError::NotInTimeWindow {
                message_boots: 3,
                message_time: 2_000,
                engine_boots: 4,
                engine_time: 5,
            })
        );
        assert_eq!(clock.accept(4, 9_000, start), Ok(()));
        assert_eq!(clock.time(start), 9_000);
    }

    #[test]
    fn an_engine_at_the_last_boot_is_never_timely() {
        let start = Instant::now();
        let mut clock = EngineClock::new(MAX_ENGINE_BOOTS, 10, start);
        assert!(clock.accept(MAX_ENGINE_BOOTS, 10, start).is_err());
        let refused = check_authoritative(MAX_ENGINE_BOOTS, 10, MAX_ENGINE_BOOTS, 10);
        assert!(refused.is_err());
    }

    #[test]
    fn our_own_engine_accepts_150_seconds_either_way() {
        assert_eq!(check_authoritative(2, 1_000, 2, 1_150), Ok(()));
        assert_eq!(check_authoritative(2, 1_000, 2, 850), Ok(()));
        assert!(check_authoritative(2, 1_000, 2, 1_151).is_err());
        assert!(check_authoritative(2, 1_000, 2, 849).is_err());
        assert!(check_authoritative(2, 1_000, 1, 1_000).is_err());
    }
}
