//! The SNMPv3 users a trap source knows ([`TrapUsers`]), by name, with their keys localized to each
//! authoritative engine: to ours once (the informs sent to us), and to each sender's engine as its traps
//! arrive (a trap's sender is its authoritative engine, RFC 3414 §1.5.1), kept in a bounded cache so that a
//! device's traps cost a lookup, not two hashes each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::sources::snmp::wire::{LocalizedUser, UsmUser};

/// Users and sender engines localized at most: one per user per sending device is typical, and a user
/// localized again costs two hashes.
const MAX_LOCALIZED: usize = 4_096;

/// A user name and the engine ID its keys are localized to.
type UserAtEngine = (Vec<u8>, Vec<u8>);

/// One source's users.
#[derive(Debug)]
pub struct TrapUsers {
    users: HashMap<Vec<u8>, UsmUser>,
    /// Each user for our own engine.
    ours: HashMap<Vec<u8>, LocalizedUser>,
    /// Each (user, sender engine ID) seen. A std mutex: taken only by the source's receive loop, for one map
    /// lookup or insert (and a localization), never across an await.
    senders: Mutex<HashMap<UserAtEngine, Arc<LocalizedUser>>>,
}

impl TrapUsers {
    pub fn new(users: Vec<UsmUser>, our_engine: &[u8]) -> Self {
        let ours = users
            .iter()
            .map(|user| (user.name().to_vec(), user.localize(our_engine)))
            .collect();
        let users = users
            .into_iter()
            .map(|user| (user.name().to_vec(), user))
            .collect();
        Self {
            users,
            ours,
            senders: Mutex::default(),
        }
    }

    /// The user `name` with its keys for our engine.
    pub fn for_our_engine(&self, name: &[u8]) -> Option<&LocalizedUser> {
        self.ours.get(name)
    }

    /// The user `name` with its keys for the sending engine `engine_id`.
    pub fn for_sender(&self, name: &[u8], engine_id: &[u8]) -> Option<Arc<LocalizedUser>> {
        let user = self.users.get(name)?;
        let key = (name.to_vec(), engine_id.to_vec());
        let mut localized = self.senders.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = localized.get(&key) {
            return Some(found.clone());
        }
        if localized.len() >= MAX_LOCALIZED {
            // Forget one: a sender that comes back is localized again.
            let forgotten = localized.keys().next().cloned();
            if let Some(forgotten) = forgotten {
                localized.remove(&forgotten);
            }
        }
        let user = Arc::new(user.localize(engine_id));
        localized.insert(key, user.clone());
        Some(user)
    }

    #[cfg(test)]
    fn localized_count(&self) -> usize {
        self.senders.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::AuthProtocol;

    fn users() -> TrapUsers {
        let bob = UsmUser::new(b"bob")
            .with_authentication(AuthProtocol::Sha1, b"authpassword1")
            .unwrap();
        TrapUsers::new(vec![bob], b"\x80\x00\x1f\x88\x80ours")
    }

    #[test]
    fn users_are_found_by_name_for_our_engine_and_each_sender() {
        let users = users();
        let ours = users.for_our_engine(b"bob").expect("bob");
        assert_eq!(ours.engine_id(), b"\x80\x00\x1f\x88\x80ours");
        assert!(users.for_our_engine(b"mallory").is_none());
        let sender = users.for_sender(b"bob", b"\x80\x00\x00\x00\x01").expect("bob");
        assert_eq!(sender.engine_id(), b"\x80\x00\x00\x00\x01");
        assert_eq!(sender.name(), b"bob");
        assert!(users.for_sender(b"mallory", b"\x80\x00\x00\x00\x01").is_none());
        let again = users.for_sender(b"bob", b"\x80\x00\x00\x00\x01").expect("bob");
        assert!(Arc::ptr_eq(&sender, &again), "localized once");
    }

    #[test]
    fn the_localized_keys_stay_bounded() {
        let users = users();
        for index in 0..MAX_LOCALIZED as u32 + 10 {
            let engine = [&[0x80, 0, 0, 0][..], &index.to_be_bytes()[..]].concat();
            assert!(users.for_sender(b"bob", &engine).is_some());
        }
        assert_eq!(users.localized_count(), MAX_LOCALIZED);
    }
}
