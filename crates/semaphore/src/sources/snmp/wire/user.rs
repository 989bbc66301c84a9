//! A USM user: [`UsmUser`] holds a name and the master keys of its pass phrases, digested once;
//! [`LocalizedUser`] is that user for one authoritative engine, its keys localized to the engine's ID, which
//! is what signs, encrypts and opens messages. Neither prints a key.

use std::fmt;

use crate::sources::snmp::wire::auth::AuthProtocol;
use crate::sources::snmp::wire::keys::{KeyError, LocalizedKey, MasterKey};
use crate::sources::snmp::wire::privacy::{PrivKey, PrivProtocol};
use crate::sources::snmp::wire::v3::SecurityLevel;

/// A user's name and master keys, for any engine.
#[derive(Clone, Debug)]
pub struct UsmUser {
    name: Vec<u8>,
    authentication: Option<MasterKey>,
    privacy: Option<(PrivProtocol, MasterKey)>,
}

impl UsmUser {
    /// A noAuthNoPriv user.
    pub fn new(name: &[u8]) -> Self {
        Self {
            name: name.to_vec(),
            authentication: None,
            privacy: None,
        }
    }

    /// Adds authentication: the pass phrase is digested here, about a megabyte of hashing.
    pub fn with_authentication(mut self, protocol: AuthProtocol, password: &[u8]) -> Result<Self, KeyError> {
        self.authentication = Some(MasterKey::from_password(protocol, password)?);
        Ok(self)
    }

    /// Adds privacy, after authentication: the privacy pass phrase is digested with the authentication
    /// protocol's hash (RFC 3414 §2.6).
    pub fn with_privacy(mut self, protocol: PrivProtocol, password: &[u8]) -> Result<Self, KeyError> {
        let Some(authentication) = &self.authentication else {
            return Err(KeyError::PrivacyWithoutAuthentication);
        };
        let master = MasterKey::from_password(authentication.protocol(), password)?;
        self.privacy = Some((protocol, master));
        Ok(self)
    }

    pub fn name(&self) -> &[u8] {
        &self.name
    }

    pub fn security_level(&self) -> SecurityLevel {
        match (&self.authentication, &self.privacy) {
            (None, _) => SecurityLevel::NoAuthNoPriv,
            (Some(_), None) => SecurityLevel::AuthNoPriv,
            (Some(_), Some(_)) => SecurityLevel::AuthPriv,
        }
    }

    /// This user for the engine `engine_id`: two hashes, and the key extension AES-192 and AES-256 may need.
    pub fn localize(&self, engine_id: &[u8]) -> LocalizedUser {
        let authentication = self.authentication.as_ref();
        let authentication = authentication.map(|master| master.localize(engine_id));
        let privacy = self.privacy.as_ref();
        let privacy = privacy.map(|(protocol, master)| privacy_key(*protocol, master, engine_id));
        LocalizedUser {
            name: self.name.clone(),
            engine_id: engine_id.to_vec(),
            authentication,
            privacy,
        }
    }
}

/// The privacy pass phrase's key for `engine_id`, cut or extended to `protocol`'s cipher.
fn privacy_key(protocol: PrivProtocol, master: &MasterKey, engine_id: &[u8]) -> PrivKey {
    PrivKey::new(protocol, &master.localize(engine_id), engine_id)
}

/// A user's keys for one authoritative engine (the agent's for a request, the sender's for a trap, ours for
/// an inform).
#[derive(Clone)]
pub struct LocalizedUser {
    name: Vec<u8>,
    engine_id: Vec<u8>,
    authentication: Option<LocalizedKey>,
    privacy: Option<PrivKey>,
}

impl LocalizedUser {
    /// A user from keys localized elsewhere. Privacy needs authentication (RFC 3414 §3.1.1.a).
    pub fn new(
        name: &[u8],
        engine_id: &[u8],
        authentication: Option<LocalizedKey>,
        privacy: Option<PrivKey>,
    ) -> Result<Self, KeyError> {
        if authentication.is_none() && privacy.is_some() {
            return Err(KeyError::PrivacyWithoutAuthentication);
        }
        Ok(Self {
            name: name.to_vec(),
            engine_id: engine_id.to_vec(),
            authentication,
            privacy,
        })
    }

    /// The user of engine-ID discovery (RFC 3414 §4): no name, no engine, no keys.
    pub fn anonymous() -> Self {
        Self {
            name: Vec::new(),
            engine_id: Vec::new(),
            authentication: None,
            privacy: None,
        }
    }

    pub fn name(&self) -> &[u8] {
        &self.name
    }

    pub fn engine_id(&self) -> &[u8] {
        &self.engine_id
    }

    pub fn authentication(&self) -> Option<&LocalizedKey> {
        self.authentication.as_ref()
    }

    pub fn privacy(&self) -> Option<&PrivKey> {
        self.privacy.as_ref()
    }

    pub fn security_level(&self) -> SecurityLevel {
        match (&self.authentication, &self.privacy) {
            (None, _) => SecurityLevel::NoAuthNoPriv,
            (Some(_), None) => SecurityLevel::AuthNoPriv,
            (Some(_), Some(_)) => SecurityLevel::AuthPriv,
        }
    }
}

impl fmt::Debug for LocalizedUser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("LocalizedUser")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("engine_id", &self.engine_id)
            .field("authentication", &self.authentication)
            .field("privacy", &self.privacy)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_keys_a_user_has() {
        let user = UsmUser::new(b"bob");
        assert_eq!(user.security_level(), SecurityLevel::NoAuthNoPriv);
        let refused = user.clone().with_privacy(PrivProtocol::Aes128, b"privpassword1");
        assert_eq!(refused.err(), Some(KeyError::PrivacyWithoutAuthentication));
        let user = user
            .with_authentication(AuthProtocol::Sha1, b"authpassword1")
            .and_then(|user| user.with_privacy(PrivProtocol::Aes128, b"privpassword1"))
            .expect("long enough pass phrases");
        assert_eq!(user.security_level(), SecurityLevel::AuthPriv);
        let localized = user.localize(b"\x80\x00\x1f\x88\x80\x01\x02\x03\x04\x05\x06\x07");
        assert_eq!(localized.security_level(), SecurityLevel::AuthPriv);
        assert_eq!(localized.name(), b"bob");
        let shown = format!("{localized:?} {user:?}");
        assert!(!shown.contains("authpassword1"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn privacy_without_authentication_is_refused() {
        let key = LocalizedKey::from_octets(AuthProtocol::Md5, &[1; 16]).expect("16 octets");
        let privacy = PrivKey::new(PrivProtocol::Des, &key, b"engine");
        let refused = LocalizedUser::new(b"bob", b"engine", None, Some(privacy.clone()));
        assert_eq!(refused.err(), Some(KeyError::PrivacyWithoutAuthentication));
        let user = LocalizedUser::new(b"bob", b"engine", Some(key), Some(privacy));
        let level = user.map(|user| user.security_level());
        assert_eq!(level, Ok(SecurityLevel::AuthPriv));
        let anonymous = LocalizedUser::anonymous();
        assert_eq!(anonymous.security_level(), SecurityLevel::NoAuthNoPriv);
    }
}
