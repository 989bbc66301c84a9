//! What Kafka already holds of the spool, read back before replaying it. A broker that goes away may have
//! written records it never acknowledged; librdkafka retries them, the output takes them back and spools them,
//! and without this they would reach Kafka twice. A process stopped or killed in the middle of a replayed
//! batch leaves the same doubt about that batch.
//!
//! From the spool's read-back marks (where such records could start), the replayer reads each partition to
//! its end and counts what it finds by a fingerprint of topic and payload; each spooled record whose
//! fingerprint is counted is skipped once. It reads again after any attempt Kafka did not fully acknowledge,
//! from where the last reading stopped or the last acknowledged record, whichever is later.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::bus::handle::KafkaHandle;
use crate::bus::readback::ReadbackError;
use crate::bus::written_offsets::PartitionOffsets;
use crate::spool::readback_marks::Marks;

#[derive(Debug, Default)]
pub struct AlreadyInKafka {
    /// Fingerprint → records Kafka holds with it that no spooled record was matched to yet.
    held: HashMap<u64, u32>,
    /// Topic → partition → the end the last reading reached.
    read_to: Marks,
    /// Nothing Kafka wrote since the last reading can be one of the spool's records.
    up_to_date: bool,
}

impl AlreadyInKafka {
    /// Kafka may have written more of the spool's records than was read: an attempt failed.
    pub fn outdated(&mut self) {
        self.up_to_date = false;
    }

    /// Reads back, where `marks` say Kafka may hold spooled records, what was not read yet.
    pub async fn refresh(&mut self, kafka: &KafkaHandle, marks: &Marks) -> Result<(), ReadbackError> {
        if self.up_to_date {
            return Ok(());
        }
        for (topic, marked) in marks {
            let from = self.start(topic, marked, &kafka.written().acknowledged_to(topic));
            let (fingerprints, ends) = kafka.read_since(topic, &from, fingerprint).await?;
            for found in fingerprints {
                *self.held.entry(found).or_default() += 1;
            }
            let read_to = self.read_to.entry(topic.clone()).or_default();
            for (partition, end) in ends {
                let reached = read_to.entry(partition).or_insert(end);
                *reached = (*reached).max(end);
            }
        }
        self.up_to_date = true;
        Ok(())
    }

    /// Where the marks can move once the batches sent so far are committed: nothing before is unread, and
    /// every record read was matched. None while Kafka may hold more than was read, or held records wait for
    /// their spooled twin.
    /// `acknowledged_to` is [`WrittenOffsets::acknowledged_to`](crate::bus::written_offsets::WrittenOffsets).
    pub fn settled(
        &self,
        marks: &Marks,
        acknowledged_to: impl Fn(&str) -> PartitionOffsets,
    ) -> Option<Marks> {
        if !self.up_to_date || !self.held.is_empty() {
            return None;
        }
        Some(
            marks
                .iter()
                .map(|(topic, marked)| {
                    let start = self.start(topic, marked, &acknowledged_to(topic));
                    (topic.clone(), start)
                })
                .collect(),
        )
    }

    /// Whether Kafka holds this spooled record (once per record it holds).
    pub fn take(&mut self, topic: &str, payload: &[u8]) -> bool {
        let Some(count) = self.held.get_mut(&fingerprint(topic, payload)) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.held.remove(&fingerprint(topic, payload));
        }
        true
    }

    /// Per partition, the latest of its mark, the last reading's end and the last acknowledged record: before
    /// that, nothing is unread that a spooled record could be.
    fn start(
        &self,
        topic: &str,
        marked: &PartitionOffsets,
        acknowledged: &PartitionOffsets,
    ) -> PartitionOffsets {
        let read_to = self.read_to.get(topic);
        marked
            .iter()
            .map(|(partition, mark)| {
                let later = [
                    read_to.and_then(|read| read.get(partition)),
                    acknowledged.get(partition),
                ];
                let start = later
                    .into_iter()
                    .flatten()
                    .fold(*mark, |start, offset| start.max(*offset));
                (*partition, start)
            })
            .collect()
    }
}

/// Equal for equal topic and payload; a collision (one in 2^64) would skip one record.
fn fingerprint(topic: &str, payload: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    topic.hash(&mut hasher);
    payload.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn each_record_kafka_holds_is_taken_once_and_reading_resumes_after_what_was_read_or_acknowledged() {
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
        let acknowledged = BTreeMap::from([(1, 30), (2, 3)]);
        assert_eq!(
            already.start("t", &marked, &acknowledged),
            BTreeMap::from([(0, 40), (1, 30), (2, 10)])
        );

        let marks = Marks::from([("t".to_owned(), marked)]);
        let acknowledged_to = |_: &str| acknowledged.clone();
        assert_eq!(already.settled(&marks, acknowledged_to), None, "not read yet");
        already.up_to_date = true;
        *already.held.entry(fingerprint("t", b"c")).or_default() += 1;
        assert_eq!(
            already.settled(&marks, acknowledged_to),
            None,
            "a held record waits for its twin"
        );
        assert!(already.take("t", b"c"));
        let settled = Marks::from([("t".to_owned(), BTreeMap::from([(0, 40), (1, 30), (2, 10)]))]);
        assert_eq!(already.settled(&marks, acknowledged_to), Some(settled));
    }
}
