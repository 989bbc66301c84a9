//! USM's authentication protocols: HMAC-MD5-96 and HMAC-SHA-96 (RFC 3414 §6, §7) and the SHA-2 HMACs of
//! RFC 7860 (usmHMAC128SHA224AuthProtocol to usmHMAC384SHA512AuthProtocol). Each is a hash, the
//! password-to-key digest made with it (RFC 3414 §A.2, RFC 7860 §9.3) and an HMAC cut to the protocol's
//! length.

use std::fmt;

use hmac::SimpleHmac;
use hmac::digest::common::BlockSizeUser;
use hmac::digest::{Digest, KeyInit, Mac};

/// How many octets of the cycled password the master key digests (RFC 3414 §A.2.1: one megabyte).
const PASSWORD_EXPANSION: usize = 1_048_576;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthProtocol {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// Calls the generic `$function` with the hash type of `$protocol`.
macro_rules! with_hash {
    ($protocol:expr, $function:ident($($argument:expr),*)) => {
        match $protocol {
            AuthProtocol::Md5 => $function::<md5::Md5>($($argument),*),
            AuthProtocol::Sha1 => $function::<sha1::Sha1>($($argument),*),
            AuthProtocol::Sha224 => $function::<sha2::Sha224>($($argument),*),
            AuthProtocol::Sha256 => $function::<sha2::Sha256>($($argument),*),
            AuthProtocol::Sha384 => $function::<sha2::Sha384>($($argument),*),
            AuthProtocol::Sha512 => $function::<sha2::Sha512>($($argument),*),
        }
    };
}

impl AuthProtocol {
    pub const ALL: [AuthProtocol; 6] = [
        AuthProtocol::Md5,
        AuthProtocol::Sha1,
        AuthProtocol::Sha224,
        AuthProtocol::Sha256,
        AuthProtocol::Sha384,
        AuthProtocol::Sha512,
    ];

    /// The name net-snmp's `-a` takes.
    pub fn name(self) -> &'static str {
        match self {
            AuthProtocol::Md5 => "MD5",
            AuthProtocol::Sha1 => "SHA",
            AuthProtocol::Sha224 => "SHA-224",
            AuthProtocol::Sha256 => "SHA-256",
            AuthProtocol::Sha384 => "SHA-384",
            AuthProtocol::Sha512 => "SHA-512",
        }
    }

    /// The protocol net-snmp's `-a` calls `name`: `MD5`, `SHA` (or `SHA1`), `SHA-224` (or `SHA224`),
    /// `SHA-256`, `SHA-384`, `SHA-512`, in any case, hyphens optional. `None` for any other name.
    pub fn from_name(name: &str) -> Option<AuthProtocol> {
        if same_name(name, "SHA1") {
            return Some(AuthProtocol::Sha1);
        }
        AuthProtocol::ALL
            .into_iter()
            .find(|protocol| same_name(name, protocol.name()))
    }

    /// The hash's output, and so the length of the keys made with it.
    pub fn digest_len(self) -> usize {
        match self {
            AuthProtocol::Md5 => 16,
            AuthProtocol::Sha1 => 20,
            AuthProtocol::Sha224 => 28,
            AuthProtocol::Sha256 => 32,
            AuthProtocol::Sha384 => 48,
            AuthProtocol::Sha512 => 64,
        }
    }

    /// The length of msgAuthenticationParameters: the HMAC cut to 96 bits for MD5 and SHA-1 (RFC 3414), to
    /// 128, 192, 256 and 384 bits for the SHA-2 protocols (RFC 7860 §4.2.1).
    pub fn mac_len(self) -> usize {
        match self {
            AuthProtocol::Md5 | AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    /// The hash of `parts`, one after the other.
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        with_hash!(self, hash_parts(parts))
    }

    /// The master key Ku of a password: the hash of the password repeated to a megabyte. The password must
    /// not be empty (see [`crate::sources::snmp::wire::keys::MIN_PASSWORD_LENGTH`]).
    pub fn password_to_key(self, password: &[u8]) -> Vec<u8> {
        with_hash!(self, expand_password(password))
    }

    /// msgAuthenticationParameters for `message` (whose own parameters are zeros): the HMAC, cut.
    pub fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = with_hash!(self, mac_of(key, message));
        mac.truncate(self.mac_len());
        mac
    }

    /// Whether `mac` is what [`AuthProtocol::mac`] makes, compared in constant time.
    pub fn verify(self, key: &[u8], message: &[u8], mac: &[u8]) -> bool {
        mac.len() == self.mac_len() && with_hash!(self, verify_prefix(key, message, mac))
    }
}

impl fmt::Display for AuthProtocol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

fn hash_parts<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut hasher = <D as Digest>::new();
    for part in parts {
        Digest::update(&mut hasher, part);
    }
    hasher.finalize().to_vec()
}

/// RFC 3414 §A.2.1's loop, fed in pieces: `pattern` is the password repeated up to a multiple of its length,
/// so every piece starts where the password starts.
fn expand_password<D: Digest>(password: &[u8]) -> Vec<u8> {
    let pattern_length = (password.len() * 64).min(PASSWORD_EXPANSION);
    let pattern: Vec<u8> = password.iter().copied().cycle().take(pattern_length).collect();
    let mut hasher = <D as Digest>::new();
    let mut remaining = PASSWORD_EXPANSION;
    while remaining > 0 && !pattern.is_empty() {
        let piece = remaining.min(pattern.len());
        Digest::update(&mut hasher, &pattern[..piece]);
        remaining -= piece;
    }
    hasher.finalize().to_vec()
}

fn mac_of<D: Digest + BlockSizeUser + Clone>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut keyed = keyed::<D>(key);
    Mac::update(&mut keyed, message);
    keyed.finalize().into_bytes().to_vec()
}

fn verify_prefix<D: Digest + BlockSizeUser + Clone>(key: &[u8], message: &[u8], mac: &[u8]) -> bool {
    let mut keyed = keyed::<D>(key);
    Mac::update(&mut keyed, message);
    keyed.verify_truncated_left(mac).is_ok()
}

fn keyed<D: Digest + BlockSizeUser + Clone>(key: &[u8]) -> SimpleHmac<D> {
    let keyed = <SimpleHmac<D> as KeyInit>::new_from_slice(key);
    keyed.expect("HMAC takes keys of any length (RFC 2104 §2)")
}

/// Whether two protocol names are one but for case and hyphens: `sha-256` is `SHA256` is `SHA-256`.
pub(super) fn same_name(left: &str, right: &str) -> bool {
    name_letters(left).eq(name_letters(right))
}

fn name_letters(name: &str) -> impl Iterator<Item = u8> + '_ {
    name.bytes()
        .filter(|byte| *byte != b'-')
        .map(|byte| byte.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::fixtures::hex;

    #[test]
    fn protocols_are_named_as_net_snmp_spells_them() {
        for protocol in AuthProtocol::ALL {
            assert_eq!(AuthProtocol::from_name(protocol.name()), Some(protocol));
        }
        let spellings = [
            ("md5", Some(AuthProtocol::Md5)),
            ("SHA", Some(AuthProtocol::Sha1)),
            ("sha1", Some(AuthProtocol::Sha1)),
            ("SHA-1", Some(AuthProtocol::Sha1)),
            ("SHA224", Some(AuthProtocol::Sha224)),
            ("SHA256", Some(AuthProtocol::Sha256)),
            ("sha-256", Some(AuthProtocol::Sha256)),
            ("Sha-384", Some(AuthProtocol::Sha384)),
            ("SHA512", Some(AuthProtocol::Sha512)),
            ("SHA-3", None),
            ("SHA2", None),
            ("", None),
            ("-", None),
        ];
        for (name, protocol) in spellings {
            assert_eq!(AuthProtocol::from_name(name), protocol, "{name:?}");
        }
    }

    /// RFC 2202 §2 and §3 and RFC 4231 §4.2: test case 1 (key 0x0b repeated, "Hi There").
    #[test]
    fn hmacs_match_the_rfc_test_vectors() {
        let cases = [
            (AuthProtocol::Md5, "9294727a3638bb1c13f48ef8158bfc9d"),
            (AuthProtocol::Sha1, "b617318655057264e28bc0b6fb378c8ef146be00"),
            (
                AuthProtocol::Sha224,
                "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
            ),
            (
                AuthProtocol::Sha256,
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                AuthProtocol::Sha384,
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                 faea9ea9076ede7f4af152e8b2fa9cb6",
            ),
            (
                AuthProtocol::Sha512,
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ),
        ];
        for (protocol, full) in cases {
            // RFC 2202 keys MD5 with 16 octets; the SHA tests take 20.
            let key_length = if protocol == AuthProtocol::Md5 { 16 } else { 20 };
            let key = vec![0x0b; key_length];
            let expected = hex(full);
            assert_eq!(expected.len(), protocol.digest_len(), "{protocol}");
            let mac = protocol.mac(&key, b"Hi There");
            assert_eq!(mac, expected[..protocol.mac_len()], "{protocol}");
            assert!(protocol.verify(&key, b"Hi There", &mac), "{protocol}");
        }
    }

    #[test]
    fn mac_lengths_are_rfc_7860s() {
        let lengths: Vec<usize> = AuthProtocol::ALL.into_iter().map(AuthProtocol::mac_len).collect();
        assert_eq!(lengths, [12, 12, 16, 24, 32, 48]);
    }

    #[test]
    fn a_flipped_bit_or_a_cut_mac_fails() {
        for protocol in AuthProtocol::ALL {
            let key = vec![0x42; protocol.digest_len()];
            let mac = protocol.mac(&key, b"message");
            for bit in 0..mac.len() * 8 {
                let mut flipped = mac.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                assert!(
                    !protocol.verify(&key, b"message", &flipped),
                    "{protocol} bit {bit}"
                );
            }
            let cut = &mac[..mac.len() - 1];
            assert!(!protocol.verify(&key, b"message", cut), "{protocol}");
            assert!(!protocol.verify(&key, b"message", &[]), "{protocol}");
            assert!(!protocol.verify(&key, b"massage", &mac), "{protocol}");
        }
    }

    /// RFC 3414 §A.3.1 and §A.3.2: the master keys of "maplesyrup".
    #[test]
    fn master_keys_match_rfc_3414() {
        assert_eq!(
            AuthProtocol::Md5.password_to_key(b"maplesyrup"),
            hex("9faf3283884e92834ebc9847d8edd963")
        );
        assert_eq!(
            AuthProtocol::Sha1.password_to_key(b"maplesyrup"),
            hex("9fb5cc0381497b3793528939ff788d5d79145211")
        );
    }

    #[test]
    fn long_passwords_are_cut_at_a_megabyte() {
        let password = vec![b'x'; PASSWORD_EXPANSION + 100];
        let prefix = &password[..PASSWORD_EXPANSION];
        assert_eq!(
            AuthProtocol::Sha256.password_to_key(&password),
            AuthProtocol::Sha256.digest(&[prefix])
        );
        let short = b"abcdefgh";
        let repeated: Vec<u8> = short.iter().copied().cycle().take(PASSWORD_EXPANSION).collect();
        assert_eq!(
            AuthProtocol::Md5.password_to_key(short),
            AuthProtocol::Md5.digest(&[&repeated])
        );
    }
}
