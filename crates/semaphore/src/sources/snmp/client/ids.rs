//! Request-ids and msgIDs. Each request starts at an unpredictable id and its tries count up from it
//! ([`IdRange`]), so an answer to any try of the current request is taken and a late answer to an earlier
//! request is not. The ids come from a xorshift generator seeded from the target, the time and the process's
//! random hash keys: unguessable enough that a blind spoofer cannot match a request, and no syscall per id.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Ids are kept in 0..=2^31-1: msgID's range (RFC 3412 §6), and a request-id as net-snmp sends it.
const ID_MASK: u32 = 0x7fff_ffff;

/// A session's source of ids.
#[derive(Debug)]
pub(super) struct RequestIds {
    /// xorshift64's state, never zero.
    state: u64,
}

impl RequestIds {
    pub(super) fn new(target: SocketAddr) -> Self {
        Self { state: seed(target) }
    }

    /// The next 64 bits of the generator (Marsaglia's xorshift64).
    pub(super) fn next_u64(&mut self) -> u64 {
        let mut value = self.state;
        value ^= value << 13;
        value ^= value >> 7;
        value ^= value << 17;
        self.state = value;
        value
    }

    /// The ids of a new request, none sent yet.
    pub(super) fn start(&mut self) -> IdRange {
        // The top 31 bits, xorshift's best.
        let first = (self.next_u64() >> 33) as u32 & ID_MASK;
        IdRange { first, sent: 0 }
    }
}

/// The ids one request's tries were sent with: `first` and the `sent - 1` after it.
#[derive(Clone, Copy, Debug)]
pub(super) struct IdRange {
    first: u32,
    sent: u32,
}

impl IdRange {
    /// The id of the next try.
    pub(super) fn next_id(&mut self) -> i32 {
        let id = self.first.wrapping_add(self.sent) & ID_MASK;
        self.sent = self.sent.saturating_add(1);
        i32::try_from(id).unwrap_or_default()
    }

    /// Whether `id` is one this request's tries were sent with.
    pub(super) fn contains(&self, id: i32) -> bool {
        let Ok(id) = u32::try_from(id) else {
            return false;
        };
        id.wrapping_sub(self.first) & ID_MASK < self.sent
    }
}

/// A non-zero seed: `RandomState` holds keys the process drew at random, the time differs between
/// sessions of one target.
fn seed(target: SocketAddr) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    target.hash(&mut hasher);
    let now = SystemTime::now().duration_since(UNIX_EPOCH);
    now.map_or(0, |since| since.as_nanos()).hash(&mut hasher);
    hasher.finish() | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_matches_the_ids_of_its_tries_only() {
        let mut ids = RequestIds::new(SocketAddr::from(([127, 0, 0, 1], 161)));
        let mut range = ids.start();
        assert!(!range.contains(range.first as i32));
        let first = range.next_id();
        let second = range.next_id();
        assert!(range.contains(first) && range.contains(second));
        assert!(!range.contains(second.wrapping_add(1) & i32::MAX));
        assert!(!range.contains(-1));
        let next = ids.start();
        assert_ne!(next.first, range.first);
    }

    #[test]
    fn ids_wrap_within_31_bits() {
        let mut range = IdRange {
            first: ID_MASK,
            sent: 0,
        };
        assert_eq!(range.next_id(), i32::MAX);
        assert_eq!(range.next_id(), 0);
        assert!(range.contains(i32::MAX) && range.contains(0));
        assert!(!range.contains(1));
    }
}
