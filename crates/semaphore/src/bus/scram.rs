//! SCRAM credentials (RFC 5802, with RFC 7677's SHA-256 and SHA-512) as a broker keeps them: from a user's
//! password, a random salt and an iteration count, the stored key and the server key, with which the broker
//! checks a login and proves itself to the client without ever holding the password.
//!
//! Pure but for the salt, so the derivation is checked against nisshi's own test credentials.

use std::num::NonZeroU32;

use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac, pbkdf2};

/// PBKDF2 rounds of a credential: RFC 7677's minimum, Kafka's minimum for SCRAM and the count its
/// `kafka-configs` examples use. Every login costs the client this many rounds, so more would slow every
/// connection for little gain on a broker that keeps its credentials on its own disk.
pub const ITERATIONS: NonZeroU32 = NonZeroU32::new(4096).expect("4096 is not zero");

/// Bytes of random salt per credential: the size of a SHA-256 output, more than RFC 5802 asks.
const SALT_BYTES: usize = 32;

/// The hash of a SCRAM mechanism: `SCRAM-SHA-256` or `SCRAM-SHA-512`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScramHash {
    Sha256,
    Sha512,
}

/// What a broker stores for one user and one mechanism.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramKeys {
    pub salt: Vec<u8>,
    pub iterations: NonZeroU32,
    /// `H(HMAC(SaltedPassword, "Client Key"))`: checks the client's proof.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`: the broker's own proof to the client.
    pub server_key: Vec<u8>,
}

/// The keys are as good as the password against an offline guess, so they are not printed.
impl std::fmt::Debug for ScramKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ScramKeys")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// The system's random source did not give a salt.
#[derive(Debug, thiserror::Error)]
#[error("cannot make a SCRAM salt: the system's random source failed")]
pub struct SaltError;

impl ScramHash {
    /// Both mechanisms, as every broker user can log in with either.
    pub const ALL: [ScramHash; 2] = [ScramHash::Sha256, ScramHash::Sha512];

    /// The mechanism's name, as clients write it in `sasl.mechanisms`.
    pub fn mechanism(self) -> &'static str {
        match self {
            ScramHash::Sha256 => "SCRAM-SHA-256",
            ScramHash::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramHash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramHash::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramHash::Sha256 => hmac::HMAC_SHA256,
            ScramHash::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramHash::Sha256 => &digest::SHA256,
            ScramHash::Sha512 => &digest::SHA512,
        }
    }

    /// The hash's output size, which is the salted password's.
    fn output_bytes(self) -> usize {
        self.digest().output_len()
    }
}

/// A fresh credential for `password`, with a random salt and [`ITERATIONS`] rounds.
pub fn new_credential(hash: ScramHash, password: &str) -> Result<ScramKeys, SaltError> {
    let mut salt = vec![0; SALT_BYTES];
    SystemRandom::new().fill(&mut salt).map_err(|_| SaltError)?;
    Ok(derive(hash, password, salt, ITERATIONS))
}

/// The credential of `password` with this salt and iteration count (RFC 5802, section 3). The password is
/// taken as its UTF-8 bytes without SASLprep, as Kafka's clients (librdkafka, Java) send it.
pub fn derive(hash: ScramHash, password: &str, salt: Vec<u8>, iterations: NonZeroU32) -> ScramKeys {
    let mut salted_password = vec![0; hash.output_bytes()];
    pbkdf2::derive(
        hash.pbkdf2(),
        iterations,
        &salt,
        password.as_bytes(),
        &mut salted_password,
    );
    let key = hmac::Key::new(hash.hmac(), &salted_password);
    let client_key = hmac::sign(&key, b"Client Key");
    let server_key = hmac::sign(&key, b"Server Key");
    ScramKeys {
        salt,
        iterations,
        stored_key: digest::digest(hash.digest(), client_key.as_ref())
            .as_ref()
            .to_vec(),
        server_key: server_key.as_ref().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The credentials of user "alice", password "secret", with which nisshi 0.8.1's own tests log a SCRAM
    /// client in (nisshi-broker `tests/it/auth.rs`, `auth_handshake_scram_256_v1` and `_512_v1`).
    #[test]
    fn the_keys_are_those_nisshi_logs_in_with() {
        let salt = b"k52tay1vvtia5e6lc37gn3f3h".to_vec();
        let iterations = NonZeroU32::new(8192).unwrap();
        let keys = derive(ScramHash::Sha256, "secret", salt, iterations);
        assert_eq!(
            keys.stored_key,
            [
                150, 254, 7, 121, 81, 205, 192, 207, 60, 206, 251, 24, 31, 131, 31, 15, 96, 75, 20, 228, 251,
                132, 22, 235, 160, 72, 200, 130, 127, 49, 29, 150,
            ]
        );
        assert_eq!(
            keys.server_key,
            [
                186, 175, 253, 227, 176, 106, 88, 53, 186, 173, 104, 88, 94, 40, 115, 166, 44, 183, 199, 177,
                137, 41, 225, 132, 56, 32, 70, 255, 223, 209, 22, 146,
            ]
        );

        let salt = b"3kg0jllwpec5yvd2rc4xzfnab".to_vec();
        let keys = derive(ScramHash::Sha512, "secret", salt, iterations);
        assert_eq!(
            keys.stored_key,
            [
                196, 134, 61, 247, 249, 195, 172, 31, 25, 47, 16, 203, 108, 147, 118, 10, 196, 207, 147, 26,
                36, 10, 101, 115, 52, 79, 87, 86, 200, 153, 131, 34, 102, 91, 132, 40, 85, 78, 240, 50, 240,
                152, 39, 87, 20, 230, 28, 185, 102, 114, 87, 182, 51, 83, 110, 35, 77, 93, 186, 24, 204, 17,
                121, 100,
            ]
        );
        assert_eq!(
            keys.server_key,
            [
                232, 156, 219, 209, 141, 82, 172, 239, 164, 247, 237, 158, 68, 216, 177, 230, 69, 25, 238, 6,
                99, 212, 9, 238, 103, 116, 42, 34, 119, 91, 207, 81, 77, 81, 235, 48, 218, 126, 38, 209, 153,
                135, 164, 8, 230, 100, 94, 19, 105, 222, 2, 57, 38, 42, 48, 210, 161, 61, 146, 10, 7, 92,
                100, 192,
            ]
        );
    }

    #[test]
    fn each_credential_has_its_own_salt_and_prints_no_key() {
        let first = new_credential(ScramHash::Sha256, "secret").unwrap();
        let second = new_credential(ScramHash::Sha256, "secret").unwrap();
        assert_eq!(first.salt.len(), SALT_BYTES);
        assert_ne!(first.salt, second.salt);
        assert_ne!(first.stored_key, second.stored_key, "the salt changes the keys");
        assert_eq!(first.iterations, ITERATIONS);
        let printed = format!("{first:?}");
        assert!(
            !printed.contains("stored_key") && !printed.contains("salt"),
            "{printed}"
        );
    }
}
