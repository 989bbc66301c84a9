//! The Kafka output's spool reads back, before replaying, what Kafka already holds of it (issue 12 part 4):
//! records a broker wrote without acknowledging them, which librdkafka gave back to be spooled, are not sent
//! again, even when the process that spooled them is gone and another replays them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use semaphore::bus::handle::{KafkaHandle, TopicCreation};
use semaphore::outputs::kafka::KafkaSpool;
use semaphore::shutdown::stop_pair;
use semaphore::spool::{SpoolSettings, WhenFull};
use semaphore::telemetry::Telemetry;

use crate::sink_runner::{Broker, bounded, eventually, uplinks};

const TOPIC: &str = "spool-readback";
const CREATION: TopicCreation = TopicCreation::Create { partitions: 3 };
const SPOOL_AFTER: Duration = Duration::from_secs(5);

/// Records 0–9 are acknowledged to the first process; 10–19 are in Kafka but were never acknowledged to it
/// (another producer stands for the broker that wrote them and went away), so it spools them with 20–29. A
/// second process replays the spool: 10–19 are read back and skipped, and Kafka holds every record once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_records_kafka_already_holds_are_not_sent_again_even_by_a_restarted_process() {
    bounded(async {
        let broker = Broker::start().await;
        broker.handle.ensure_topic(TOPIC, CREATION).await.unwrap();
        let records = uplinks(0..30);
        broker.handle.send_all(TOPIC, &records[..10]).await.unwrap();
        let unacknowledging = KafkaHandle::new(broker.kafka.clone(), Telemetry::new()).unwrap();
        unacknowledging.send_all(TOPIC, &records[10..20]).await.unwrap();

        let directory =
            std::env::temp_dir().join(format!("semaphore-spool-readback-{}", uuid::Uuid::new_v4()));
        let settings = SpoolSettings {
            max_bytes: 64 * 1024 * 1024,
            when_full: WhenFull::RefuseNewest,
        };
        let first = KafkaSpool::open(&directory, settings.clone(), SPOOL_AFTER).unwrap();
        let spooled: Vec<usize> = (10..30).collect();
        let unacknowledged_from = broker.handle.written().unacknowledged_from(TOPIC);
        first
            .append(TOPIC, &records, &spooled, unacknowledged_from)
            .await
            .unwrap();
        drop(first);

        // The next process knows nothing of what the first one was acknowledged.
        let restarted = Arc::new(KafkaHandle::new(broker.kafka.clone(), Telemetry::new()).unwrap());
        let spool = Arc::new(KafkaSpool::open(&directory, settings, SPOOL_AFTER).unwrap());
        let stats = spool.stats();
        let (trigger, stop) = stop_pair();
        let replaying = tokio::spawn(spool.clone().replay(restarted.clone(), CREATION, stop));
        eventually("the spool is replayed", || stats.snapshot().records == 0).await;
        trigger.trigger();
        replaying.await.unwrap();

        assert_eq!(stats.snapshot().already_in_kafka, 10);
        let mut read = restarted.payloads_since(TOPIC, &BTreeMap::new()).await.unwrap();
        let mut sent: Vec<Vec<u8>> = records.into_iter().map(|record| record.payload).collect();
        read.sort();
        sent.sort();
        assert_eq!(read, sent, "every record in Kafka once");
        assert!(
            !directory.join("readback.json").exists(),
            "the read-back marks are forgotten once the spool is empty"
        );
        std::fs::remove_dir_all(&directory).unwrap();
    })
    .await;
}
