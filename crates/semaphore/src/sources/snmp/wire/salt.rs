//! Salts for privacy: every message encrypted under one key needs its own (RFC 3414 §8.1.1.1, RFC 3826
//! §3.1.2.1). [`Salts`] is a 64-bit counter started at a random value, shared by every sender of a process.
//!
//! RFC 3414 builds DES salts from engine boots and a 32-bit counter so that a reboot does not repeat one; a
//! random start does the same for both DES and AES, without knowing our boots.

use std::sync::atomic::{AtomicU64, Ordering};

use ring::rand::{SecureRandom, SystemRandom};

#[derive(Debug, thiserror::Error)]
#[error("the operating system gave no random numbers to start the privacy salts from")]
pub struct SaltError;

/// The next salt, for any number of senders at once.
#[derive(Debug)]
pub struct Salts(AtomicU64);

impl Salts {
    /// A counter starting at a random value.
    pub fn random() -> Result<Self, SaltError> {
        let mut start = [0; 8];
        SystemRandom::new().fill(&mut start).map_err(|_| SaltError)?;
        Ok(Self::starting_at(u64::from_be_bytes(start)))
    }

    pub fn starting_at(start: u64) -> Self {
        Self(AtomicU64::new(start))
    }

    /// A salt no other call returns before the counter wraps, 2^64 salts later.
    pub fn next_salt(&self) -> [u8; 8] {
        // Relaxed: only the counter's own uniqueness matters, no other memory is ordered by it.
        self.0.fetch_add(1, Ordering::Relaxed).to_be_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_count_up_and_wrap() {
        let salts = Salts::starting_at(u64::MAX);
        assert_eq!(salts.next_salt(), [0xff; 8]);
        assert_eq!(salts.next_salt(), [0; 8]);
        assert_eq!(salts.next_salt(), [0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn random_starts_differ() {
        let first = Salts::random().expect("random numbers").next_salt();
        let second = Salts::random().expect("random numbers").next_salt();
        assert_ne!(first, second);
    }
}
