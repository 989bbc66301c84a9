//! What Kafka already holds of the spool, read back before replaying it. A broker that goes away may have
//! written records it never acknowledged; librdkafka retries them, the output takes them back and spools them,
//! and without this they would reach Kafka twice. A process stopped or killed in the middle of a replayed
//! batch leaves the same doubt about that batch.
//!
//! From the spool's read-back marks (where such records could start), the replayer reads each marked
//! partition to its end and counts what it finds by a fingerprint of topic and payload; each spooled record
//! whose fingerprint is counted is skipped once. It reads again, from where the last reading stopped, after
//! any attempt Kafka did not fully acknowledge (the records of that attempt Kafka did acknowledge are then
//! found and discounted) and after records were spooled that Kafka may have written.
//!
//! Other writers' records on the same partitions (RELP and informs publish without the spool; other
//! processes) are read too and never matched; they only keep the marks from moving.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

use crate::bus::handle::KafkaHandle;
use crate::bus::readback::ReadbackError;
use crate::bus::written_offsets::PartitionOffsets;
use crate::spool::readback_marks::Marks;

#[derive(Debug, Default)]
pub struct AlreadyInKafka {
    /// Fingerprint → records Kafka holds with it that no spooled record was matched to yet.
    held: HashMap<u64, u32>,
    /// Fingerprints of replayed records Kafka acknowledged in an attempt that failed for others: the next
    /// reading finds them, and they are not the spool's to skip.
    acknowledged: Vec<u64>,
    /// Topic → partition → the end the last reading reached.
    read_to: Marks,
    /// Nothing Kafka wrote since the last reading can be one of the spool's records.
    up_to_date: bool,
}

impl AlreadyInKafka {
    /// Kafka may have written more of the spool's records than was read: an attempt failed, or records it
    /// may have written were spooled.
    pub fn outdated(&mut self) {
        self.up_to_date = false;
    }

    /// Kafka acknowledged this replayed record in an attempt that failed for others of its batch.
    pub fn acknowledged(&mut self, topic: &str, payload: &[u8]) {
        self.acknowledged.push(fingerprint(topic, payload));
    }

    /// Reading back could not finish: replay without it (a record Kafka holds may then be sent again), rather
    /// than hold the spool for ever.
    pub fn give_up(&mut self) {
        self.held.clear();
        self.acknowledged.clear();
        self.up_to_date = true;
    }

    /// Reads back, where `marks` say Kafka may hold spooled records, what was not read yet.
    pub async fn refresh(&mut self, kafka: &KafkaHandle, marks: &Marks) -> Result<(), ReadbackError> {
        if self.up_to_date {
            return Ok(());
        }
        for (topic, marked) in marks {
            let from = self.start(topic, marked);
            let (fingerprints, ends) = kafka.read_listed_since(topic, &from, fingerprint).await?;
            for found in fingerprints {
                *self.held.entry(found).or_default() += 1;
            }
            let read_to = self.read_to.entry(topic.clone()).or_default();
            for (partition, end) in ends {
                let reached = read_to.entry(partition).or_insert(end);
                *reached = (*reached).max(end);
            }
        }
        self.discount_acknowledged();
        self.up_to_date = true;
        Ok(())
    }

    /// What a failed attempt got acknowledged is in what was just read, and not the spool's to skip.
    fn discount_acknowledged(&mut self) {
        for own in std::mem::take(&mut self.acknowledged) {
            self.discount(own);
        }
    }

    /// Where the marks can move once the batches sent so far are committed: nothing before is unread, and
    /// every record read was matched. None while Kafka may hold more than was read, or held records wait for
    /// their spooled twin.
    pub fn settled(&self, marks: &Marks) -> Option<Marks> {
        if !self.up_to_date || !self.held.is_empty() {
            return None;
        }
        Some(
            marks
                .iter()
                .map(|(topic, marked)| (topic.clone(), self.start(topic, marked)))
                .collect(),
        )
    }

    /// Whether Kafka holds this spooled record (once per record it holds).
    pub fn take(&mut self, topic: &str, payload: &[u8]) -> bool {
        self.discount(fingerprint(topic, payload))
    }

    fn discount(&mut self, found: u64) -> bool {
        let Some(count) = self.held.get_mut(&found) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.held.remove(&found);
        }
        true
    }

    /// Per marked partition, the later of its mark and the last reading's end: before that, nothing is
    /// unread that a spooled record could be.
    fn start(&self, topic: &str, marked: &PartitionOffsets) -> PartitionOffsets {
        let read_to = self.read_to.get(topic);
        marked
            .iter()
            .map(|(partition, mark)| {
                let read = read_to.and_then(|read| read.get(partition)).copied();
                (*partition, read.map_or(*mark, |read| read.max(*mark)))
            })
            .collect()
    }
}

/// Equal for equal topic and payload; keyed afresh in each process, so no sender can aim at a collision (one
/// in 2^64 by chance, which would skip one record).
fn fingerprint(topic: &str, payload: &[u8]) -> u64 {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    KEYS.get_or_init(RandomState::new).hash_one((topic, payload))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn each_record_kafka_holds_is_taken_once_and_reading_resumes_after_what_was_read() {
        let mut already = AlreadyInKafka::default();
        for payload in [b"a".as_slice(), b"a", b"b"] {
            *already.held.entry(fingerprint("t", payload)).or_default() += 1;
        }
        assert!(already.take("t", b"a") && already.take("t", b"a"));
        assert!(!already.take("t", b"a"), "Kafka held two");
        assert!(!already.take("u", b"b"), "another topic");
        assert!(already.take("t", b"b"));

        already.read_to = Marks::from([("t".to_owned(), BTreeMap::from([(0, 40), (1, 5)]))]);
        let marked = BTreeMap::from([(0, 10), (1, 10), (2, 10)]);
        assert_eq!(
            already.start("t", &marked),
            BTreeMap::from([(0, 40), (1, 10), (2, 10)])
        );

        let marks = Marks::from([("t".to_owned(), marked)]);
        assert_eq!(already.settled(&marks), None, "not read yet");
        already.up_to_date = true;
        *already.held.entry(fingerprint("t", b"c")).or_default() += 1;
        assert_eq!(already.settled(&marks), None, "a held record waits for its twin");
        assert!(already.take("t", b"c"));
        let settled = Marks::from([("t".to_owned(), BTreeMap::from([(0, 40), (1, 10), (2, 10)]))]);
        assert_eq!(already.settled(&marks), Some(settled));
    }

    /// A replayed record Kafka acknowledged in a failed attempt is found by the next reading, and discounted:
    /// it is no spooled record's twin.
    #[test]
    fn what_a_failed_attempt_got_acknowledged_is_discounted_from_the_next_reading() {
        let mut already = AlreadyInKafka::default();
        already.acknowledged("t", b"sent");
        *already.held.entry(fingerprint("t", b"sent")).or_default() += 1;
        already.discount_acknowledged();
        assert!(already.held.is_empty());
        assert!(!already.take("t", b"sent"), "a spooled twin of it is sent");
        already.give_up();
        assert_eq!(already.settled(&Marks::new()), Some(Marks::new()));
    }
}
