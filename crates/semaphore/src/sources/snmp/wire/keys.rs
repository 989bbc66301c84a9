//! USM's keys (RFC 3414 §2.6): a pass phrase digested into a [`MasterKey`] once (a megabyte of hashing), then
//! localized to each authoritative engine ([`LocalizedKey`], one hash), and, for AES-192 and AES-256 over a
//! hash too short for them, extended as net-snmp does ([`KeyExtension`]). Keys never print.

use std::fmt;

use crate::sources::snmp::wire::auth::AuthProtocol;

/// The shortest pass phrase accepted: net-snmp refuses shorter ones (USM_LENGTH_P_MIN), RFC 3414 §11.2
/// recommends at least 8 characters, and the key expansion needs at least one.
pub const MIN_PASSWORD_LENGTH: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a pass phrase of {0} characters is too short: USM needs at least 8")]
    PasswordTooShort(usize),
    #[error("a {protocol} key is {expected} octets, not {found}")]
    KeyLength {
        protocol: AuthProtocol,
        expected: usize,
        found: usize,
    },
    #[error("privacy needs authentication: give the user an authentication protocol too")]
    PrivacyWithoutAuthentication,
}

/// Ku: a pass phrase digested with the user's authentication protocol's hash (RFC 3414 §A.2).
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    protocol: AuthProtocol,
    octets: Vec<u8>,
}

impl MasterKey {
    /// Digests `password`: about a megabyte of hashing, so done once per pass phrase.
    pub fn from_password(protocol: AuthProtocol, password: &[u8]) -> Result<Self, KeyError> {
        if password.len() < MIN_PASSWORD_LENGTH {
            return Err(KeyError::PasswordTooShort(password.len()));
        }
        let octets = protocol.password_to_key(password);
        Ok(Self { protocol, octets })
    }

    pub fn protocol(&self) -> AuthProtocol {
        self.protocol
    }

    /// Kul: this key for the engine `engine_id` (RFC 3414 §2.6: the hash of Ku, the engine ID and Ku again).
    pub fn localize(&self, engine_id: &[u8]) -> LocalizedKey {
        LocalizedKey {
            protocol: self.protocol,
            octets: localize(self.protocol, &self.octets, engine_id),
        }
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "MasterKey({}, <redacted>)", self.protocol)
    }
}

/// Kul: a key for one authoritative engine. As an authentication key it signs with its protocol; as the
/// source of a privacy key it is cut or extended to the cipher's key.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalizedKey {
    protocol: AuthProtocol,
    octets: Vec<u8>,
}

impl LocalizedKey {
    /// A key already localized elsewhere (net-snmp's `-3k`, `-3K`): as many octets as the protocol's hash.
    pub fn from_octets(protocol: AuthProtocol, octets: &[u8]) -> Result<Self, KeyError> {
        let expected = protocol.digest_len();
        if octets.len() != expected {
            return Err(KeyError::KeyLength {
                protocol,
                expected,
                found: octets.len(),
            });
        }
        let octets = octets.to_vec();
        Ok(Self { protocol, octets })
    }

    pub fn protocol(&self) -> AuthProtocol {
        self.protocol
    }

    pub fn octets(&self) -> &[u8] {
        &self.octets
    }

    /// The first `N` octets of the key material for a cipher: this key, extended by `extension` while
    /// shorter.
    pub fn material<const N: usize>(&self, extension: KeyExtension, engine_id: &[u8]) -> [u8; N] {
        let mut material = self.octets.clone();
        while material.len() < N {
            let more = match extension {
                KeyExtension::Blumenthal => self.protocol.digest(&[&material]),
                KeyExtension::Reeder => reeder_step(self.protocol, &material, engine_id),
            };
            material.extend_from_slice(&more);
        }
        let mut key = [0; N];
        key.copy_from_slice(&material[..N]);
        key
    }
}

impl fmt::Debug for LocalizedKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "LocalizedKey({}, <redacted>)", self.protocol)
    }
}

/// How a localized key too short for AES-192 or AES-256 is lengthened. Both are drafts that never became
/// RFCs; net-snmp implements both (keytools.c `netsnmp_extend_kul`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyExtension {
    /// draft-blumenthal-aes-usm-04 §3.1.2.1: Kul = Kul || H(Kul), repeated. net-snmp's "AES-192" and
    /// "AES-256".
    Blumenthal,
    /// draft-reeder-snmpv3-usm-3desede-00 §2.1: Kul = Kul || localize(password_to_key(Kul)), repeated.
    /// Cisco's way, net-snmp's "AES-192-C" and "AES-256-C".
    Reeder,
}

fn localize(protocol: AuthProtocol, master: &[u8], engine_id: &[u8]) -> Vec<u8> {
    protocol.digest(&[master, engine_id, master])
}

/// Reeder's step: the key so far taken as a pass phrase, digested and localized.
fn reeder_step(protocol: AuthProtocol, material: &[u8], engine_id: &[u8]) -> Vec<u8> {
    let master = protocol.password_to_key(material);
    localize(protocol, &master, engine_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::fixtures::{hex, to_hex};

    /// RFC 3414 §A.3's engine.
    const ENGINE: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    fn master(protocol: AuthProtocol) -> MasterKey {
        MasterKey::from_password(protocol, b"maplesyrup").expect("a key")
    }

    fn localized(protocol: AuthProtocol) -> LocalizedKey {
        master(protocol).localize(&ENGINE)
    }

    /// RFC 3414 §A.3.1 and §A.3.2 for MD5 and SHA-1. RFC 7860 has no vectors; the SHA-2 keys were computed
    /// with Python's hashlib following RFC 3414 §A.2 and agree with net-snmp, whose keys decrypt this
    /// module's captured packets (see `interop_tests`).
    #[test]
    fn localized_keys_of_maplesyrup_match_the_published_values() {
        let cases = [
            (AuthProtocol::Md5, "526f5eed9fcce26f8964c2930787d82b"),
            (AuthProtocol::Sha1, "6695febc9288e36282235fc7151f128497b38f3f"),
            (
                AuthProtocol::Sha224,
                "0bd8827c6e29f8065e08e09237f177e410f69b90e1782be682075674",
            ),
            (
                AuthProtocol::Sha256,
                "8982e0e549e866db361a6b625d84cccc11162d453ee8ce3a6445c2d6776f0f8b",
            ),
            (
                AuthProtocol::Sha384,
                "3b298f16164a11184279d5432bf169e2d2a48307de02b3d3f7e2b4f36eb6f045\
                 5a53689a3937eea07319a633d2ccba78",
            ),
            (
                AuthProtocol::Sha512,
                "22a5a36cedfcc085807a128d7bc6c2382167ad6c0dbc5fdff856740f3d84c099\
                 ad1ea87a8db096714d9788bd544047c9021e4229ce27e4c0a69250adfcffbb0b",
            ),
        ];
        for (protocol, expected) in cases {
            let key = localized(protocol);
            assert_eq!(key.octets(), hex(expected), "{protocol}");
            assert_eq!(key.octets().len(), protocol.digest_len(), "{protocol}");
        }
    }

    /// The extended keys of "maplesyrup", computed with Python's hashlib from the drafts. net-snmp agrees for
    /// Blumenthal (the keys that decrypt `TRAP_V3_MD5_AES256` and `TRAP_V3_SHA_AES192` are made this way),
    /// and another Rust SNMP library's known-answer tests carry the same values for both methods.
    #[test]
    fn extended_keys_match_both_drafts() {
        let md5 = localized(AuthProtocol::Md5);
        let sha1 = localized(AuthProtocol::Sha1);
        let blumenthal: [u8; 32] = md5.material(KeyExtension::Blumenthal, &ENGINE);
        assert_eq!(
            to_hex(&blumenthal),
            "526f5eed9fcce26f8964c2930787d82bfa24a92467426c2f4b09192be10dfaec"
        );
        let reeder: [u8; 32] = md5.material(KeyExtension::Reeder, &ENGINE);
        assert_eq!(
            to_hex(&reeder),
            "526f5eed9fcce26f8964c2930787d82b79eff44a90650ee0a3a40abfac5acc12"
        );
        let blumenthal: [u8; 24] = sha1.material(KeyExtension::Blumenthal, &ENGINE);
        assert_eq!(
            to_hex(&blumenthal),
            "6695febc9288e36282235fc7151f128497b38f3f505e07eb"
        );
        let reeder: [u8; 32] = sha1.material(KeyExtension::Reeder, &ENGINE);
        assert_eq!(
            to_hex(&reeder),
            "6695febc9288e36282235fc7151f128497b38f3f9b8b6d78936ba6e7d19dfd9c"
        );
    }

    #[test]
    fn a_key_long_enough_is_cut_not_extended() {
        let sha256 = localized(AuthProtocol::Sha256);
        let blumenthal: [u8; 32] = sha256.material(KeyExtension::Blumenthal, &ENGINE);
        let reeder: [u8; 32] = sha256.material(KeyExtension::Reeder, &ENGINE);
        assert_eq!(blumenthal, reeder);
        let aes128: [u8; 16] = sha256.material(KeyExtension::Blumenthal, &ENGINE);
        assert_eq!(aes128[..], sha256.octets()[..16]);
    }

    #[test]
    fn short_pass_phrases_and_wrong_lengths_are_refused() {
        assert_eq!(
            MasterKey::from_password(AuthProtocol::Sha1, b"seven77"),
            Err(KeyError::PasswordTooShort(7))
        );
        assert_eq!(
            LocalizedKey::from_octets(AuthProtocol::Sha256, &[0; 20]),
            Err(KeyError::KeyLength {
                protocol: AuthProtocol::Sha256,
                expected: 32,
                found: 20,
            })
        );
    }

    #[test]
    fn keys_differ_by_engine_and_never_print() {
        let master = master(AuthProtocol::Sha1);
        assert_ne!(master.localize(&ENGINE), master.localize(&[0, 0, 0, 1]));
        let shown = format!("{master:?} {:?}", master.localize(&ENGINE));
        assert_eq!(shown, "MasterKey(SHA, <redacted>) LocalizedKey(SHA, <redacted>)");
    }
}
