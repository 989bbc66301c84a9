//! USM's privacy protocols: CBC-DES (RFC 3414 §8) and CFB128-AES (RFC 3826, and its 192- and 256-bit keys as
//! net-snmp and Cisco use them). A [`PrivKey`] is made from the privacy pass phrase's localized key; it
//! encrypts a scoped PDU under an 8-octet salt and decrypts with the salt the message carries
//! (msgPrivacyParameters).

use std::fmt;

use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InOutBuf, Iv, KeyIvInit};

use crate::sources::snmp::wire::auth::same_name;
use crate::sources::snmp::wire::errors::UsmError;
use crate::sources::snmp::wire::keys::{KeyExtension, LocalizedKey};

/// The length of msgPrivacyParameters for every protocol here.
pub const SALT_LENGTH: usize = 8;

const DES_BLOCK: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrivProtocol {
    /// usmDESPrivProtocol.
    Des,
    /// usmAesCfb128Protocol (RFC 3826).
    Aes128,
    /// AES-192 with its key extended as draft-blumenthal-aes-usm-04 says: net-snmp's "AES-192".
    Aes192,
    /// AES-256, the same way: net-snmp's "AES-256".
    Aes256,
    /// AES-192 with the key extended as Cisco does (draft-reeder): net-snmp's "AES-192-C".
    Aes192Cisco,
    /// AES-256, Cisco's way: net-snmp's "AES-256-C".
    Aes256Cisco,
}

impl PrivProtocol {
    pub const ALL: [PrivProtocol; 6] = [
        PrivProtocol::Des,
        PrivProtocol::Aes128,
        PrivProtocol::Aes192,
        PrivProtocol::Aes256,
        PrivProtocol::Aes192Cisco,
        PrivProtocol::Aes256Cisco,
    ];

    /// The name net-snmp's `-x` takes.
    pub fn name(self) -> &'static str {
        match self {
            PrivProtocol::Des => "DES",
            PrivProtocol::Aes128 => "AES",
            PrivProtocol::Aes192 => "AES-192",
            PrivProtocol::Aes256 => "AES-256",
            PrivProtocol::Aes192Cisco => "AES-192-C",
            PrivProtocol::Aes256Cisco => "AES-256-C",
        }
    }

    /// The protocol net-snmp's `-x` calls `name`: `DES`, `AES` (or `AES128`, `AES-128`), `AES-192`,
    /// `AES-256`, and Cisco's `AES-192-C`, `AES-256-C`, in any case, hyphens optional. `None` for any other.
    pub fn from_name(name: &str) -> Option<PrivProtocol> {
        if same_name(name, "AES128") {
            return Some(PrivProtocol::Aes128);
        }
        PrivProtocol::ALL
            .into_iter()
            .find(|protocol| same_name(name, protocol.name()))
    }

    fn extension(self) -> KeyExtension {
        match self {
            PrivProtocol::Aes192Cisco | PrivProtocol::Aes256Cisco => KeyExtension::Reeder,
            _ => KeyExtension::Blumenthal,
        }
    }
}

impl fmt::Display for PrivProtocol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A cipher's key, sized by its type so that no length is checked at run time.
#[derive(Clone, PartialEq, Eq)]
enum CipherKey {
    /// The DES key and the pre-IV the salt is XORed with (RFC 3414 §8.1.1.1).
    Des {
        key: [u8; 8],
        pre_iv: [u8; 8],
    },
    Aes128([u8; 16]),
    Aes192([u8; 24]),
    Aes256([u8; 32]),
}

/// A privacy key for one authoritative engine. It never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivKey {
    protocol: PrivProtocol,
    key: CipherKey,
}

impl PrivKey {
    /// The key `protocol` uses, from the privacy pass phrase localized to the engine `engine_id` with the
    /// user's authentication protocol (RFC 3414 §2.6), extended when that hash is shorter than the cipher
    /// key.
    pub fn new(protocol: PrivProtocol, localized: &LocalizedKey, engine_id: &[u8]) -> Self {
        let extension = protocol.extension();
        let key = match protocol {
            PrivProtocol::Des => {
                let material: [u8; 16] = localized.material(extension, engine_id);
                let (key, pre_iv) = split_des(material);
                CipherKey::Des { key, pre_iv }
            }
            PrivProtocol::Aes128 => CipherKey::Aes128(localized.material(extension, engine_id)),
            PrivProtocol::Aes192 | PrivProtocol::Aes192Cisco => {
                CipherKey::Aes192(localized.material(extension, engine_id))
            }
            PrivProtocol::Aes256 | PrivProtocol::Aes256Cisco => {
                CipherKey::Aes256(localized.material(extension, engine_id))
            }
        };
        Self { protocol, key }
    }

    pub fn protocol(&self) -> PrivProtocol {
        self.protocol
    }

    /// Encrypts `plaintext` (an encoded scoped PDU); the message sends `salt` as its msgPrivacyParameters.
    /// The salt must differ for every message under one key ([`crate::sources::snmp::wire::salt::Salts`]);
    /// `engine_boots` and `engine_time` are the message's msgAuthoritativeEngineBoots and Time, from which
    /// AES makes its IV.
    pub fn encrypt(&self, plaintext: &[u8], engine_boots: u32, engine_time: u32, salt: [u8; 8]) -> Vec<u8> {
        let mut buffer = plaintext.to_vec();
        match &self.key {
            CipherKey::Des { key, pre_iv } => {
                // RFC 3414 §8.1.1.2: padded to whole blocks. The pad's value is free; net-snmp writes the
                // pad's length, and so does this, which keeps encodings comparable with its own.
                let padded = buffer.len().next_multiple_of(DES_BLOCK);
                let pad = (padded - buffer.len()) as u8;
                buffer.resize(padded, pad);
                des_cbc_encrypt(key, &des_iv(pre_iv, &salt), &mut buffer);
            }
            aes_key => {
                let iv = aes_iv(engine_boots, engine_time, &salt);
                aes_cfb_encrypt(aes_key, &iv, &mut buffer);
            }
        }
        buffer
    }

    /// Decrypts `ciphertext` with `salt`, the message's msgPrivacyParameters (RFC 3414 §8.3.2, RFC 3826
    /// §3.1.4). Out comes the scoped PDU, followed by DES padding; a wrong key gives garbage, not an error,
    /// so the caller learns of it when the scoped PDU does not decode.
    pub fn decrypt(
        &self,
        ciphertext: &[u8],
        engine_boots: u32,
        engine_time: u32,
        salt: &[u8],
    ) -> Result<Vec<u8>, UsmError> {
        let salt: [u8; SALT_LENGTH] = salt
            .try_into()
            .map_err(|_| UsmError::PrivacyParametersLength(salt.len()))?;
        let mut buffer = ciphertext.to_vec();
        match &self.key {
            CipherKey::Des { key, pre_iv } => {
                if !buffer.len().is_multiple_of(DES_BLOCK) {
                    return Err(UsmError::CiphertextLength(buffer.len()));
                }
                des_cbc_decrypt(key, &des_iv(pre_iv, &salt), &mut buffer);
            }
            aes_key => {
                let iv = aes_iv(engine_boots, engine_time, &salt);
                aes_cfb_decrypt(aes_key, &iv, &mut buffer);
            }
        }
        Ok(buffer)
    }
}

impl fmt::Debug for PrivKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "PrivKey({}, <redacted>)", self.protocol)
    }
}

/// The first 8 octets are the DES key, the next 8 the pre-IV (RFC 3414 §8.1.1.1).
fn split_des(material: [u8; 16]) -> ([u8; 8], [u8; 8]) {
    let mut key = [0; 8];
    let mut pre_iv = [0; 8];
    key.copy_from_slice(&material[..8]);
    pre_iv.copy_from_slice(&material[8..]);
    (key, pre_iv)
}

/// The IV of DES: the pre-IV XOR the salt.
fn des_iv(pre_iv: &[u8; 8], salt: &[u8; 8]) -> [u8; 8] {
    let mut iv = *pre_iv;
    for (octet, salt_octet) in iv.iter_mut().zip(salt) {
        *octet ^= salt_octet;
    }
    iv
}

/// The IV of AES (RFC 3826 §3.1.2.1): engine boots, engine time and the salt, most significant octet first.
fn aes_iv(engine_boots: u32, engine_time: u32, salt: &[u8; 8]) -> [u8; 16] {
    let mut iv = [0; 16];
    iv[..4].copy_from_slice(&engine_boots.to_be_bytes());
    iv[4..8].copy_from_slice(&engine_time.to_be_bytes());
    iv[8..].copy_from_slice(salt);
    iv
}

type DesEncryptor = cbc::Encryptor<des::Des>;
type DesDecryptor = cbc::Decryptor<des::Des>;
type Aes128Encryptor = cfb_mode::Encryptor<aes::Aes128>;
type Aes128Decryptor = cfb_mode::Decryptor<aes::Aes128>;
type Aes192Encryptor = cfb_mode::Encryptor<aes::Aes192>;
type Aes192Decryptor = cfb_mode::Decryptor<aes::Aes192>;
type Aes256Encryptor = cfb_mode::Encryptor<aes::Aes256>;
type Aes256Decryptor = cfb_mode::Decryptor<aes::Aes256>;

/// CBC over whole blocks, in place: `buffer`'s length is a multiple of 8.
fn des_cbc_encrypt(key: &[u8; 8], iv: &[u8; 8], buffer: &mut [u8]) {
    let mut encryptor = DesEncryptor::new(&(*key).into(), &(*iv).into());
    let (blocks, _) = InOutBuf::from(buffer).into_chunks();
    encryptor.encrypt_blocks_inout(blocks);
}

fn des_cbc_decrypt(key: &[u8; 8], iv: &[u8; 8], buffer: &mut [u8]) {
    let mut decryptor = DesDecryptor::new(&(*key).into(), &(*iv).into());
    let (blocks, _) = InOutBuf::from(buffer).into_chunks();
    decryptor.decrypt_blocks_inout(blocks);
}

/// CFB with 128-bit feedback, any length, in place. `PrivKey::encrypt` sends DES keys elsewhere.
fn aes_cfb_encrypt(key: &CipherKey, iv: &[u8; 16], buffer: &mut [u8]) {
    // Every AES key size has the same 16-octet block, and so the same IV type.
    let iv: Iv<Aes128Encryptor> = (*iv).into();
    match key {
        CipherKey::Aes128(key) => Aes128Encryptor::new(&(*key).into(), &iv).encrypt(buffer),
        CipherKey::Aes192(key) => Aes192Encryptor::new(&(*key).into(), &iv).encrypt(buffer),
        CipherKey::Aes256(key) => Aes256Encryptor::new(&(*key).into(), &iv).encrypt(buffer),
        CipherKey::Des { .. } => {}
    }
}

fn aes_cfb_decrypt(key: &CipherKey, iv: &[u8; 16], buffer: &mut [u8]) {
    let iv: Iv<Aes128Decryptor> = (*iv).into();
    match key {
        CipherKey::Aes128(key) => Aes128Decryptor::new(&(*key).into(), &iv).decrypt(buffer),
        CipherKey::Aes192(key) => Aes192Decryptor::new(&(*key).into(), &iv).decrypt(buffer),
        CipherKey::Aes256(key) => Aes256Decryptor::new(&(*key).into(), &iv).decrypt(buffer),
        CipherKey::Des { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::auth::AuthProtocol;
    use crate::sources::snmp::wire::fixtures::{hex, to_hex};

    /// The IV of NIST SP 800-38A's examples, 000102..0f, as boots, time and salt.
    const NIST_BOOTS: u32 = 0x0001_0203;
    const NIST_TIME: u32 = 0x0405_0607;
    const NIST_SALT: [u8; 8] = [0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f];

    #[test]
    fn protocols_are_named_as_net_snmp_spells_them() {
        for protocol in PrivProtocol::ALL {
            assert_eq!(PrivProtocol::from_name(protocol.name()), Some(protocol));
        }
        let spellings = [
            ("des", Some(PrivProtocol::Des)),
            ("AES", Some(PrivProtocol::Aes128)),
            ("aes128", Some(PrivProtocol::Aes128)),
            ("AES-128", Some(PrivProtocol::Aes128)),
            ("AES192", Some(PrivProtocol::Aes192)),
            ("aes-256", Some(PrivProtocol::Aes256)),
            ("aes192c", Some(PrivProtocol::Aes192Cisco)),
            ("AES-256-C", Some(PrivProtocol::Aes256Cisco)),
            ("3DES", None),
            ("AES-512", None),
            ("", None),
        ];
        for (name, protocol) in spellings {
            assert_eq!(PrivProtocol::from_name(name), protocol, "{name:?}");
        }
    }

    /// A privacy key whose material is `octets` (cut to the cipher's key), by way of a localized key of the
    /// hash that long.
    fn key(protocol: PrivProtocol, hash: AuthProtocol, octets: &[u8]) -> PrivKey {
        let mut material = octets.to_vec();
        material.resize(hash.digest_len(), 0xee);
        let localized = LocalizedKey::from_octets(hash, &material).expect("its length");
        PrivKey::new(protocol, &localized, b"engine")
    }

    /// NIST SP 800-38A §F.3.13, §F.3.15 and §F.3.17: CFB128-AES128, -AES192 and -AES256, two blocks.
    #[test]
    fn aes_matches_nist_cfb128_vectors() {
        let plaintext = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let cases = [
            (
                PrivProtocol::Aes128,
                AuthProtocol::Md5,
                "2b7e151628aed2a6abf7158809cf4f3c",
                "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b",
            ),
            (
                PrivProtocol::Aes192,
                AuthProtocol::Sha224,
                "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
                "cdc80d6fddf18cab34c25909c99a417467ce7f7f81173621961a2b70171d3d7a",
            ),
            (
                PrivProtocol::Aes256,
                AuthProtocol::Sha256,
                "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                "dc7e84bfda79164b7ecd8486985d386039ffed143b28b1c832113c6331e5407b",
            ),
        ];
        for (protocol, hash, cipher_key, expected) in cases {
            let key = key(protocol, hash, &hex(cipher_key));
            let ciphertext = key.encrypt(&plaintext, NIST_BOOTS, NIST_TIME, NIST_SALT);
            assert_eq!(to_hex(&ciphertext), expected, "{protocol}");
            let decrypted = key.decrypt(&ciphertext, NIST_BOOTS, NIST_TIME, &NIST_SALT);
            assert_eq!(decrypted, Ok(plaintext.clone()), "{protocol}");
        }
    }

    /// FIPS 81 Appendix C's CBC example: "Now is the time for all " under 0123456789abcdef, IV
    /// 1234567890abcdef (the pre-IV, with a salt of zeros).
    #[test]
    fn des_matches_the_fips_81_cbc_example() {
        let key = key(
            PrivProtocol::Des,
            AuthProtocol::Md5,
            &hex("0123456789abcdef1234567890abcdef"),
        );
        let ciphertext = key.encrypt(b"Now is the time for all ", 0, 0, [0; 8]);
        assert_eq!(
            to_hex(&ciphertext),
            "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6"
        );
    }

    #[test]
    fn every_protocol_round_trips_any_length() {
        let plaintext: Vec<u8> = (0..=40).collect();
        for protocol in PrivProtocol::ALL {
            let key = key(protocol, AuthProtocol::Sha1, b"privacy key material");
            for length in 0..=plaintext.len() {
                let salt = [length as u8; 8];
                let ciphertext = key.encrypt(&plaintext[..length], 7, 1_000, salt);
                let decrypted = key.decrypt(&ciphertext, 7, 1_000, &salt).expect("a salt");
                assert_eq!(decrypted[..length], plaintext[..length], "{protocol} {length}");
                // Shorter prefixes may match by chance (one octet in 256).
                if length >= 8 {
                    assert_ne!(ciphertext[..length], plaintext[..length], "{protocol} {length}");
                }
            }
        }
    }

    #[test]
    fn des_pads_with_the_pad_length_as_net_snmp_does() {
        let key = key(PrivProtocol::Des, AuthProtocol::Md5, b"0123456789abcdef");
        let ciphertext = key.encrypt(b"abc", 0, 0, [1; 8]);
        assert_eq!(ciphertext.len(), 8);
        let decrypted = key.decrypt(&ciphertext, 0, 0, &[1; 8]);
        assert_eq!(decrypted, Ok(b"abc\x05\x05\x05\x05\x05".to_vec()));
    }

    #[test]
    fn the_salt_and_the_iv_change_the_ciphertext() {
        let key = key(PrivProtocol::Aes128, AuthProtocol::Md5, b"0123456789abcdef");
        let first = key.encrypt(b"scoped PDU", 1, 2, [0; 8]);
        assert_ne!(first, key.encrypt(b"scoped PDU", 1, 2, [1; 8]));
        assert_ne!(first, key.encrypt(b"scoped PDU", 1, 3, [0; 8]));
        assert_ne!(first, key.encrypt(b"scoped PDU", 2, 2, [0; 8]));
    }

    #[test]
    fn bad_privacy_parameters_and_cut_ciphertexts_are_decryption_errors() {
        let des = key(PrivProtocol::Des, AuthProtocol::Md5, b"0123456789abcdef");
        assert_eq!(
            des.decrypt(&[0; 16], 0, 0, &[0; 7]),
            Err(UsmError::PrivacyParametersLength(7))
        );
        assert_eq!(
            des.decrypt(&[0; 15], 0, 0, &[0; 8]),
            Err(UsmError::CiphertextLength(15))
        );
        let aes = key(PrivProtocol::Aes256Cisco, AuthProtocol::Md5, b"0123456789abcdef");
        assert_eq!(
            aes.decrypt(&[0; 15], 0, 0, &[]),
            Err(UsmError::PrivacyParametersLength(0))
        );
        let plaintext = aes.decrypt(&[0; 15], 0, 0, &[0; 8]).expect("8 octets");
        assert_eq!(plaintext.len(), 15);
    }

    #[test]
    fn keys_never_print() {
        let key = key(PrivProtocol::Aes192Cisco, AuthProtocol::Md5, b"0123456789abcdef");
        assert_eq!(format!("{key:?}"), "PrivKey(AES-192-C, <redacted>)");
    }
}
