//! An inform's sender sends it again until it is answered, and while Kafka is slow or away that is every
//! few seconds: each copy must not become another record. [`InformTracker`] knows the informs waiting for
//! Kafka and those answered lately, by [`InformKey`] (the sender's address, version, user and context, the
//! request-id and a digest of the PDU, which a retransmission repeats and two informs do not share):
//!
//! - a copy of an inform waiting for Kafka is not published again; its Response replaces the one held (an
//!   SNMPv3 retransmission carries a new msgID, and its sender matches the answer to the latest), and once
//!   Kafka has the record the latest Response is sent;
//! - a copy of an inform answered in the last [`ANSWERED_MEMORY`] (our answer crossed it, or was lost) is
//!   answered again at once, not published again;
//! - informs waiting for Kafka hold at most [`MAX_BYTES_IN_FLIGHT`] of records and Responses; a new one past
//!   that is left unanswered, and its sender retries it later.
//!
//! No I/O and a clock handed in, so it is tested without a socket. The community is no part of a key: a key
//! is kept for minutes and may be shown.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::sources::snmp::traps::notification::Notification;
use crate::sources::snmp::wire::Version;
use crate::sources::snmp::wire::ber::Writer;

/// How long an answered inform is remembered: net-snmp's senders give up after a few seconds (timeout ×
/// retries), devices after a minute or so; a copy that arrives later is published again (at least once).
pub const ANSWERED_MEMORY: Duration = Duration::from_secs(120);
/// Answered informs remembered at most: a key is about a hundred bytes, so a few megabytes. Past it the
/// oldest is forgotten first.
pub const MAX_ANSWERED: usize = 16_384;
/// Bytes of records and Responses of the informs waiting for Kafka at most. A 64 KB inform of tiny
/// varbinds becomes about 300 KB of JSON, so this holds at least fifty of the largest and thousands of the
/// usual.
pub const MAX_BYTES_IN_FLIGHT: usize = 16 * 1024 * 1024;

/// What makes two datagrams the same inform.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InformKey {
    sender: SocketAddr,
    version: Version,
    /// The SNMPv3 user and context; `None` for v2c (whose community is left out on purpose).
    security_name: Option<String>,
    context_name: Option<String>,
    request_id: i32,
    /// The PDU as encoded, hashed: a sender whose request-ids start again (a reboot) sends another inform
    /// under an old request-id, with other varbinds (sysUpTime at least).
    pdu_digest: u64,
}

impl InformKey {
    pub fn of(notification: &Notification) -> Self {
        let mut encoded = Writer::new();
        notification.pdu.encode(&mut encoded);
        // SipHash with fixed keys: the same in the whole process, which is as long as a key lives.
        let mut hasher = DefaultHasher::new();
        encoded.into_bytes().hash(&mut hasher);
        Self {
            sender: notification.sender,
            version: notification.version,
            security_name: notification.security_name.clone(),
            context_name: notification.context_name.clone(),
            request_id: notification.pdu.as_pdu().map_or(0, |pdu| pdu.request_id),
            pdu_digest: hasher.finish(),
        }
    }

    /// Where its Response goes.
    pub fn sender(&self) -> SocketAddr {
        self.sender
    }
}

/// What to do with an inform just received.
#[derive(Clone, PartialEq, Eq)]
pub enum Admission {
    /// A new inform: publish its record; its Response is held until Kafka has it.
    Publish,
    /// A copy of an inform waiting for Kafka: its Response replaced the one held; nothing to publish.
    Waiting,
    /// A copy of an inform answered lately: send this Response (the copy's own) now; nothing to publish.
    AnswerAgain(Vec<u8>),
    /// A new inform over [`MAX_BYTES_IN_FLIGHT`]: left unanswered.
    Full,
}

/// The informs of one source waiting for Kafka and answered lately.
#[derive(Default)]
pub struct InformTracker {
    waiting: HashMap<InformKey, Waiting>,
    bytes_in_flight: usize,
    /// When each was answered; the order below forgets the oldest first.
    answered: HashMap<InformKey, Instant>,
    answered_order: VecDeque<(InformKey, Instant)>,
}

/// An inform waiting for Kafka: the latest Response, and what it counts against the bound.
struct Waiting {
    response: Vec<u8>,
    record_bytes: usize,
}

impl Waiting {
    fn bytes(&self) -> usize {
        self.record_bytes + self.response.len()
    }
}

impl InformTracker {
    /// Decides on an inform received at `now`, whose record is `record_bytes` long and whose Response is
    /// `response`.
    pub fn admit(
        &mut self,
        key: &InformKey,
        record_bytes: usize,
        response: Vec<u8>,
        now: Instant,
    ) -> Admission {
        if let Some(waiting) = self.waiting.get_mut(key) {
            self.bytes_in_flight -= waiting.bytes();
            waiting.response = response;
            self.bytes_in_flight += waiting.bytes();
            return Admission::Waiting;
        }
        if self.answered_lately(key, now) {
            return Admission::AnswerAgain(response);
        }
        let waiting = Waiting {
            response,
            record_bytes,
        };
        if self.bytes_in_flight + waiting.bytes() > MAX_BYTES_IN_FLIGHT {
            return Admission::Full;
        }
        self.bytes_in_flight += waiting.bytes();
        self.waiting.insert(key.clone(), waiting);
        Admission::Publish
    }

    /// Kafka has the record of `key`: the Response to send (the latest a copy brought), and the inform
    /// remembered as answered. `None` when it was not waiting.
    pub fn published(&mut self, key: &InformKey, now: Instant) -> Option<Vec<u8>> {
        let waiting = self.forget(key)?;
        self.remember(key.clone(), now);
        Some(waiting.response)
    }

    /// An inform that will not be answered (its publish failed, or it found no room): forgotten, so that its
    /// sender's next copy is published.
    pub fn abandon(&mut self, key: &InformKey) {
        self.forget(key);
    }

    /// Informs waiting for Kafka.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    pub fn bytes_in_flight(&self) -> usize {
        self.bytes_in_flight
    }

    fn forget(&mut self, key: &InformKey) -> Option<Waiting> {
        let waiting = self.waiting.remove(key)?;
        self.bytes_in_flight -= waiting.bytes();
        Some(waiting)
    }

    fn answered_lately(&self, key: &InformKey, now: Instant) -> bool {
        self.answered
            .get(key)
            .is_some_and(|answered| now.saturating_duration_since(*answered) < ANSWERED_MEMORY)
    }

    fn remember(&mut self, key: InformKey, now: Instant) {
        self.forget_answered_before(now.checked_sub(ANSWERED_MEMORY));
        if self.answered_order.len() >= MAX_ANSWERED
            && let Some((oldest, answered)) = self.answered_order.pop_front()
        {
            self.forget_answered(&oldest, answered);
        }
        self.answered_order.push_back((key.clone(), now));
        self.answered.insert(key, now);
    }

    /// Forgets the informs answered before `limit` (none when the clock is younger than the memory).
    fn forget_answered_before(&mut self, limit: Option<Instant>) {
        let Some(limit) = limit else { return };
        while self
            .answered_order
            .front()
            .is_some_and(|(_, answered)| *answered < limit)
        {
            if let Some((oldest, answered)) = self.answered_order.pop_front() {
                self.forget_answered(&oldest, answered);
            }
        }
    }

    /// Forgets `key` unless it was answered again since `answered`.
    fn forget_answered(&mut self, key: &InformKey, answered: Instant) {
        if self.answered.get(key) == Some(&answered) {
            self.answered.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::traps::decode::{Datagram, Outcome};
    use crate::sources::snmp::traps::test_support::{decoder, received, sender};
    use crate::sources::snmp::wire::fixtures::{self, hex};

    fn inform_key() -> InformKey {
        let bytes = hex(fixtures::INFORM_V2C_LINK_DOWN);
        let datagram = Datagram {
            bytes: &bytes,
            sender: sender(),
            received_at: received(),
            engine_time: 1,
        };
        let Outcome::Inform { notification, .. } = decoder().decode(&datagram) else {
            panic!("an inform");
        };
        InformKey::of(&notification)
    }

    /// The same inform from another port, or with another varbind, is another inform.
    fn other_keys() -> Vec<InformKey> {
        let key = inform_key();
        let other_port = InformKey {
            sender: "192.0.2.77:50163".parse().unwrap(),
            ..key.clone()
        };
        let other_pdu = InformKey {
            pdu_digest: key.pdu_digest.wrapping_add(1),
            ..key.clone()
        };
        vec![other_port, other_pdu]
    }

    #[test]
    fn a_copy_waiting_for_kafka_is_not_published_again_and_its_response_is_the_one_sent() {
        let mut tracker = InformTracker::default();
        let start = Instant::now();
        let key = inform_key();
        assert_eq!(key, inform_key(), "the same datagram, the same key");
        assert!(tracker.admit(&key, 100, b"first".to_vec(), start) == Admission::Publish);
        for (index, copy) in [b"second", b"third!"].iter().enumerate() {
            let at = start + Duration::from_secs(3 * (index as u64 + 1));
            assert!(tracker.admit(&key, 100, copy.to_vec(), at) == Admission::Waiting);
        }
        for other in other_keys() {
            assert!(tracker.admit(&other, 100, b"other".to_vec(), start) == Admission::Publish);
            tracker.abandon(&other);
        }
        assert_eq!((tracker.waiting(), tracker.bytes_in_flight()), (1, 106));
        let response = tracker.published(&key, start + Duration::from_secs(10));
        assert_eq!(response.as_deref(), Some(&b"third!"[..]));
        assert_eq!((tracker.waiting(), tracker.bytes_in_flight()), (0, 0));
        assert_eq!(tracker.published(&key, start), None, "answered once");
    }

    #[test]
    fn a_copy_answered_lately_is_answered_again_and_later_published_again() {
        let mut tracker = InformTracker::default();
        let start = Instant::now();
        let key = inform_key();
        assert!(tracker.admit(&key, 100, b"first".to_vec(), start) == Admission::Publish);
        assert!(tracker.published(&key, start).is_some());
        let crossed = tracker.admit(&key, 100, b"again".to_vec(), start + Duration::from_secs(119));
        assert!(crossed == Admission::AnswerAgain(b"again".to_vec()));
        assert_eq!(tracker.waiting(), 0);
        // Past the memory it is another inform as far as we can tell: published again (at least once).
        let late = tracker.admit(&key, 100, b"late".to_vec(), start + ANSWERED_MEMORY);
        assert!(late == Admission::Publish);
    }

    #[test]
    fn an_abandoned_inform_is_published_when_its_copy_comes() {
        let mut tracker = InformTracker::default();
        let start = Instant::now();
        let key = inform_key();
        assert!(tracker.admit(&key, 100, b"first".to_vec(), start) == Admission::Publish);
        tracker.abandon(&key);
        assert_eq!((tracker.waiting(), tracker.bytes_in_flight()), (0, 0));
        assert!(tracker.admit(&key, 100, b"copy".to_vec(), start) == Admission::Publish);
    }

    #[test]
    fn informs_in_flight_are_bounded_by_bytes() {
        let mut tracker = InformTracker::default();
        let start = Instant::now();
        let [first, second] = <[InformKey; 2]>::try_from(other_keys()).unwrap();
        let large = MAX_BYTES_IN_FLIGHT - 10;
        assert!(tracker.admit(&first, large, vec![0; 10], start) == Admission::Publish);
        assert!(tracker.admit(&second, 1, Vec::new(), start) == Admission::Full);
        assert_eq!(tracker.waiting(), 1);
        assert!(tracker.published(&first, start).is_some());
        assert!(tracker.admit(&second, 1, Vec::new(), start) == Admission::Publish);
    }

    #[test]
    fn answered_informs_remembered_stay_bounded_oldest_forgotten_first() {
        let mut tracker = InformTracker::default();
        let start = Instant::now();
        let key = inform_key();
        let numbered = |index: usize| InformKey {
            request_id: index as i32,
            ..key.clone()
        };
        for index in 0..=MAX_ANSWERED {
            let at = start + Duration::from_millis(index as u64);
            assert!(tracker.admit(&numbered(index), 1, Vec::new(), at) == Admission::Publish);
            assert!(tracker.published(&numbered(index), at).is_some());
        }
        assert_eq!(tracker.answered.len(), MAX_ANSWERED);
        assert_eq!(tracker.answered_order.len(), MAX_ANSWERED);
        let now = start + Duration::from_secs(30);
        assert!(tracker.admit(&numbered(0), 1, Vec::new(), now) == Admission::Publish);
        let newest = numbered(MAX_ANSWERED);
        assert!(matches!(
            tracker.admit(&newest, 1, Vec::new(), now),
            Admission::AnswerAgain(_)
        ));
        // Once the memory has passed, the next answer forgets every older one.
        let later = start + ANSWERED_MEMORY + Duration::from_secs(60);
        assert!(tracker.published(&numbered(0), later).is_some());
        assert_eq!((tracker.answered.len(), tracker.answered_order.len()), (1, 1));
    }
}
