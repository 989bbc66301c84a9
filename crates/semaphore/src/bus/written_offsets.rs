//! Where this process's records sit in each partition it writes: the end offset a topic had when the process
//! first made sure of it, and the offset after the last record Kafka acknowledged. The spool reads back from
//! them, before replaying, what a broker that went away may have written without saying so.
//!
//! With librdkafka's idempotent producer a partition's records are written in the order they were sent, so
//! a record Kafka did not acknowledge, if written at all, sits at or after the offset following the last one
//! it did.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

/// Partition → offset.
pub type PartitionOffsets = BTreeMap<i32, i64>;

#[derive(Debug, Default)]
pub struct WrittenOffsets {
    topics: Mutex<HashMap<String, TopicOffsets>>,
}

#[derive(Debug, Default)]
struct TopicOffsets {
    /// Each partition's end when the process first made sure of the topic: nothing of this process's before.
    first_seen: PartitionOffsets,
    /// The offset after the last record of this process Kafka acknowledged, per partition.
    acknowledged: PartitionOffsets,
}

impl WrittenOffsets {
    /// `ends` were the topic's end offsets before this process wrote to it.
    pub fn note_first_seen(&self, topic: &str, ends: &PartitionOffsets) {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        let offsets = topics.entry(topic.to_owned()).or_default();
        for (partition, end) in ends {
            offsets.first_seen.entry(*partition).or_insert(*end);
        }
    }

    /// Whether anything is known of `topic`.
    pub fn knows(&self, topic: &str) -> bool {
        let topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        topics.contains_key(topic)
    }

    /// Kafka acknowledged records at these `(topic, partition, offset)`s.
    pub fn note_acknowledged<'a>(&self, deliveries: impl IntoIterator<Item = (&'a str, i32, i64)>) {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        for (topic, partition, offset) in deliveries {
            if !topics.contains_key(topic) {
                topics.insert(topic.to_owned(), TopicOffsets::default());
            }
            let acknowledged = topics
                .get_mut(topic)
                .expect("inserted above")
                .acknowledged
                .entry(partition)
                .or_insert(offset + 1);
            *acknowledged = (*acknowledged).max(offset + 1);
        }
    }

    /// Per partition, the offset from which a record of this process Kafka has not acknowledged could sit.
    /// Partitions this process knows nothing of are missing.
    pub fn unacknowledged_from(&self, topic: &str) -> PartitionOffsets {
        let topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(offsets) = topics.get(topic) else {
            return PartitionOffsets::new();
        };
        let mut from = offsets.first_seen.clone();
        for (partition, acknowledged) in &offsets.acknowledged {
            let offset = from.entry(*partition).or_insert(*acknowledged);
            *offset = (*offset).max(*acknowledged);
        }
        from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unacknowledged_records_start_after_the_last_acknowledged_or_where_the_topic_ended() {
        let written = WrittenOffsets::default();
        assert!(written.unacknowledged_from("t").is_empty());
        written.note_first_seen("t", &BTreeMap::from([(0, 10), (1, 20)]));
        written.note_acknowledged([("t", 0, 14), ("t", 0, 12), ("u", 3, 7)]);
        // A later first sight changes nothing: the first one is where this process began.
        written.note_first_seen("t", &BTreeMap::from([(0, 99), (2, 5)]));
        assert_eq!(
            written.unacknowledged_from("t"),
            BTreeMap::from([(0, 15), (1, 20), (2, 5)])
        );
        assert_eq!(written.unacknowledged_from("u"), BTreeMap::from([(3, 8)]));
    }
}
