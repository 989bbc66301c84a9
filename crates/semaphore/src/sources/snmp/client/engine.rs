//! What a session learned of an SNMPv3 agent, kept across polls: its engine ID, the user's keys localized to
//! it (two hashes, done once per engine), and its clock as RFC 3414 §2.3's non-authoritative side estimates
//! it, for the boots and time every request carries.

use tokio::time::Instant;

use crate::sources::snmp::wire::{EngineClock, LocalizedUser, UsmUser};

/// msgMaxSize we announce: the largest UDP payload over IPv4, as net-snmp announces.
pub(super) const MAX_SIZE: i32 = 65_507;

#[derive(Debug)]
pub(super) struct Agent {
    pub engine_id: Vec<u8>,
    pub user: LocalizedUser,
    pub clock: EngineClock,
}

/// A discovery's answer (RFC 3414 §4): the agent's engine, boots and time.
#[derive(Debug)]
pub(super) struct Discovered {
    pub engine_id: Vec<u8>,
    pub boots: u32,
    pub time: u32,
}

impl Agent {
    /// The agent as discovered, `user`'s keys localized to its engine.
    pub(super) fn learn(user: &UsmUser, discovered: Discovered) -> Self {
        Self {
            user: user.localize(&discovered.engine_id),
            clock: EngineClock::new(discovered.boots, discovered.time, Instant::now()),
            engine_id: discovered.engine_id,
        }
    }

    /// Sets the clock to what an agent's Report said (notInTimeWindow: it rebooted, or discovery gave no
    /// time).
    pub(super) fn resynchronize(&mut self, boots: u32, time: u32) {
        self.clock = EngineClock::new(boots, time, Instant::now());
    }
}
