//! The sink runner in process against the embedded broker (issue 10): a scripted destination that asks for a
//! batch again, rejects one or takes it, and what the runner does about each: the same batch offered again
//! and nothing committed meanwhile, rejected and malformed records on the dead-letter topic with their
//! reason and origin, offsets committed only after, and a stop while retrying leaving the batch to the next
//! runner of the group.
//!
//! Time is real, not paused: the runner waits on librdkafka's threads and the broker's sockets, which a
//! paused clock would skip past (its timeouts firing while the broker is still answering), and the crate's
//! Tokio has no `test-util`. The runner's backoff is 0.5 s then 1 s, so the waits stay short.
//!
//! The helpers at the bottom (a broker with a Kafka handle and output, reading a topic, waiting for a
//! condition) are shared with `outputs.rs` and `window_writer.rs`.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use semaphore::bus::admin::TopicAdmin;
use semaphore::bus::config::{KafkaConnection, ResolvedKafka};
use semaphore::bus::embedded::{BrokerStorage, EmbeddedBroker};
use semaphore::bus::group_reader::{ConsumedMessage, GroupReader, ReadStart};
use semaphore::bus::handle::{KafkaHandle, TopicCreation};
use semaphore::bus::producer::OutgoingRecord;
use semaphore::outputs::kafka::KafkaOutput;
use semaphore::record::uplink::UPLINK_SCHEMA;
use semaphore::record::{Decoded, EncodedRecord, KeyStrategy, UplinkRecord};
use semaphore::shutdown::{StopTrigger, stop_pair};
use semaphore::sinks::component::Deliver;
use semaphore::sinks::runner::{SinkReading, SinkRunner};
use semaphore::sinks::sink::{Accepted, SinkError};
use semaphore::telemetry::Telemetry;
use semaphore::telemetry::metrics::{Metric, SINK_DEAD_LETTERED, SINK_MALFORMED, SINK_RECORDS, SINK_RETRIES};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Issue 10: a batch the destination cannot take yet is offered again, the same records, and the group's
/// offset stays where the last accepted batch left it until the destination takes it; a later runner of the
/// group starts after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_sink_cannot_take_yet_is_offered_again_and_committed_only_once_taken() {
    bounded(async {
        let broker = Broker::start().await;
        let topic = "runner-retry";
        let group = "runner-retry-group";
        broker.create(topic).await;
        let destination = Destination::default();
        broker.produce(topic, &uplinks(0..2)).await;
        let running = Running::start(broker.runner("retry", group, topic, &destination));
        eventually("the first two records accepted", || {
            destination.accepted() == serials(0..2)
        })
        .await;
        broker.until_committed(group, topic, 2).await;

        destination.set_down(true);
        broker.produce(topic, &uplinks(2..4)).await;
        eventually("the next batch offered twice", || {
            destination
                .offers()
                .iter()
                .filter(|offer| offer.answer == Answer::Retry)
                .count()
                >= 2
        })
        .await;
        assert_eq!(
            broker.committed(group, topic).await,
            Some(2),
            "nothing is committed while the destination cannot take the batch"
        );
        destination.set_down(false);
        eventually("every record accepted", || {
            destination.accepted() == serials(0..4)
        })
        .await;
        broker.until_committed(group, topic, 4).await;

        let offers = destination.offers();
        let retried: Vec<&Offer> = offers
            .iter()
            .filter(|offer| offer.answer == Answer::Retry)
            .collect();
        let first_retried = &retried[0].offsets;
        assert_eq!(first_retried.first(), Some(&2), "{offers:?}");
        assert!(
            retried.iter().all(|offer| &offer.offsets == first_retried),
            "each retry offers the same records: {offers:?}"
        );
        let taken = offers
            .iter()
            .skip_while(|offer| offer.answer != Answer::Retry)
            .find(|offer| offer.answer == Answer::Accept)
            .expect("the retried batch was taken");
        assert_eq!(&taken.offsets, first_retried, "{offers:?}");
        assert_eq!(broker.metric(&SINK_RETRIES, "retry"), retried.len() as f64);
        assert_eq!(broker.metric(&SINK_RECORDS, "retry"), 4.0);
        running.stop().await;

        // The group's next runner starts after what was taken: it is offered the new record only.
        let next = Destination::default();
        let running = Running::start(broker.runner("retry-next", group, topic, &next));
        broker.produce(topic, &uplinks(4..5)).await;
        eventually("the new record accepted", || next.accepted() == serials(4..5)).await;
        let offered: Vec<i64> = next
            .offers()
            .into_iter()
            .flat_map(|offer| offer.offsets)
            .collect();
        assert_eq!(offered, [4], "nothing taken before is read again");
        running.stop().await;
    })
    .await;
}

/// Issue 10: a batch the destination rejects goes to the dead-letter topic, each record with the sink's error
/// and causes as the reason, the sink's id, where it came from and its own headers, and the group's offsets
/// move past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_batch_is_dead_lettered_with_its_reason_then_committed() {
    bounded(async {
        let broker = Broker::start().await;
        let topic = "runner-reject";
        let group = "runner-reject-group";
        broker.create(topic).await;
        let records = uplinks(0..3);
        broker.produce(topic, &records).await;
        let destination = Destination::default();
        destination.answer_next(Answer::Reject);
        let running = Running::start(broker.runner("reject", group, topic, &destination));
        eventually("a batch rejected", || {
            destination
                .offers()
                .iter()
                .any(|offer| offer.answer == Answer::Reject)
        })
        .await;
        let rejected = destination.offers()[0].offsets.clone();
        assert!(!rejected.is_empty());
        assert_eq!(destination.offers()[0].answer, Answer::Reject);

        let dead = broker.read(&dead_letter_topic(topic), rejected.len()).await;
        for (message, offset) in dead.iter().zip(&rejected) {
            let original = &records[*offset as usize];
            assert_eq!(message.payload, original.payload);
            assert_eq!(message.key.as_deref(), original.key.as_deref().map(str::as_bytes));
            assert_eq!(
                header(message, "semaphore-dead-letter-reason"),
                "the destination refused the batch: lossPercent 1.5 is out of range"
            );
            assert_eq!(header(message, "semaphore-dead-letter-sink"), "reject");
            assert_eq!(
                header(message, "semaphore-dead-letter-origin"),
                format!("{topic}/0/{offset}")
            );
            assert_eq!(header(message, "semaphore-schema"), UPLINK_SCHEMA);
        }
        let rest: Vec<String> = (0..3)
            .filter(|offset| !rejected.contains(offset))
            .map(serial)
            .collect();
        eventually("the records after the rejected batch accepted", || {
            destination.accepted() == rest
        })
        .await;
        broker.until_committed(group, topic, 3).await;
        assert_eq!(
            broker.records(&dead_letter_topic(topic)).await,
            rejected.len() as i64,
            "only the rejected records are dead-lettered"
        );
        assert_eq!(
            broker.metric(&SINK_DEAD_LETTERED, "reject"),
            rejected.len() as f64
        );
        assert_eq!(broker.metric(&SINK_RETRIES, "reject"), 0.0);
        running.stop().await;
    })
    .await;
}

/// Issue 10: a message that is not JSON between two good ones is dead-lettered with its offset and why, never
/// offered to the destination, and the good ones are delivered and committed past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_message_is_dead_lettered_and_the_good_ones_delivered() {
    bounded(async {
        let broker = Broker::start().await;
        let topic = "runner-malformed";
        let group = "runner-malformed-group";
        broker.create(topic).await;
        broker.produce(topic, &uplinks(0..1)).await;
        broker.produce_raw(topic, b"not json").await;
        broker.produce(topic, &uplinks(2..3)).await;
        let destination = Destination::default();
        let running = Running::start(broker.runner("malformed", group, topic, &destination));
        eventually("both good records accepted", || {
            destination.accepted() == [serial(0), serial(2)]
        })
        .await;
        let dead = broker.read(&dead_letter_topic(topic), 1).await;
        assert_eq!(dead[0].payload, b"not json");
        let reason = header(&dead[0], "semaphore-dead-letter-reason");
        assert!(reason.starts_with("not JSON"), "{reason}");
        assert_eq!(
            header(&dead[0], "semaphore-dead-letter-origin"),
            format!("{topic}/0/1")
        );
        assert_eq!(header(&dead[0], "semaphore-dead-letter-sink"), "malformed");
        assert!(
            destination
                .offers()
                .iter()
                .all(|offer| !offer.offsets.contains(&1)),
            "the malformed message is never offered: {:?}",
            destination.offers()
        );
        broker.until_committed(group, topic, 3).await;
        assert_eq!(broker.records(&dead_letter_topic(topic)).await, 1);
        assert_eq!(broker.metric(&SINK_MALFORMED, "malformed"), 1.0);
        assert_eq!(broker.metric(&SINK_DEAD_LETTERED, "malformed"), 1.0);
        assert_eq!(broker.metric(&SINK_RECORDS, "malformed"), 2.0);
        running.stop().await;
    })
    .await;
}

/// Issue 10: a stop while the destination is down ends the runner (the stop cuts its backoff short) without
/// committing the batch, so the group's next runner is offered it again from the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_retrying_leaves_the_batch_to_the_next_runner() {
    bounded(async {
        let broker = Broker::start().await;
        let topic = "runner-stop";
        let group = "runner-stop-group";
        broker.create(topic).await;
        broker.produce(topic, &uplinks(0..3)).await;
        let destination = Destination::default();
        destination.set_down(true);
        let running = Running::start(broker.runner("stop", group, topic, &destination));
        eventually("the batch offered twice", || destination.offers().len() >= 2).await;
        running.stop().await;
        assert!(destination.accepted().is_empty());
        assert_eq!(
            broker.committed(group, topic).await,
            None,
            "a batch not taken is not committed at stop"
        );

        let next = Destination::default();
        let running = Running::start(broker.runner("stop-next", group, topic, &next));
        eventually("the next runner took every record", || {
            next.accepted() == serials(0..3)
        })
        .await;
        assert_eq!(next.offers()[0].offsets.first(), Some(&0), "{:?}", next.offers());
        broker.until_committed(group, topic, 3).await;
        running.stop().await;
    })
    .await;
}

/// What the scripted destination answers to one offer of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Accept,
    Retry,
    Reject,
}

/// One batch the runner offered: its records' offsets and the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Offer {
    offsets: Vec<i64>,
    answer: Answer,
}

#[derive(Debug, Default)]
struct DestinationState {
    /// While true, every offer is answered [`Answer::Retry`] (the destination is down).
    down: bool,
    /// Answers to the next offers while up, in order; [`Answer::Accept`] once empty.
    script: VecDeque<Answer>,
    offers: Vec<Offer>,
    /// Serials of the records taken, in the order taken.
    accepted: Vec<String>,
}

/// A destination whose answers the test scripts, and which remembers what it was offered and took; shared
/// by the [`ScriptedSink`] the runner drives and the test.
#[derive(Clone, Debug, Default)]
struct Destination(Arc<Mutex<DestinationState>>);

impl Destination {
    /// A std mutex: held for one update or copy, never across an await.
    fn state(&self) -> MutexGuard<'_, DestinationState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_down(&self, down: bool) {
        self.state().down = down;
    }

    fn answer_next(&self, answer: Answer) {
        self.state().script.push_back(answer);
    }

    fn offers(&self) -> Vec<Offer> {
        self.state().offers.clone()
    }

    fn accepted(&self) -> Vec<String> {
        self.state().accepted.clone()
    }

    fn sink(&self) -> Box<dyn Deliver> {
        Box::new(ScriptedSink {
            destination: self.clone(),
        })
    }
}

/// Why the scripted destination did not take a batch.
#[derive(Debug, thiserror::Error)]
enum DestinationError {
    #[error("the destination is down")]
    Down,
    #[error("the destination refused the batch")]
    Refused(#[source] OutOfRange),
}

/// The cause under a refusal, so the dead-letter reason shows the error's causes too.
#[derive(Debug, thiserror::Error)]
#[error("lossPercent {0} is out of range")]
struct OutOfRange(f64);

struct ScriptedSink {
    destination: Destination,
}

impl Deliver for ScriptedSink {
    fn accepts(&self) -> &'static [&'static str] {
        &[UPLINK_SCHEMA]
    }

    fn deliver<'a>(&'a mut self, batch: &'a [Accepted]) -> BoxFuture<'a, Result<(), SinkError>> {
        let answer = {
            let mut state = self.destination.state();
            let answer = if state.down {
                Answer::Retry
            } else {
                state.script.pop_front().unwrap_or(Answer::Accept)
            };
            state.offers.push(Offer {
                offsets: batch.iter().map(|accepted| accepted.message.offset).collect(),
                answer,
            });
            if answer == Answer::Accept {
                state.accepted.extend(batch.iter().map(accepted_serial));
            }
            answer
        };
        let result = match answer {
            Answer::Accept => Ok(()),
            Answer::Retry => Err(SinkError::retry(DestinationError::Down)),
            Answer::Reject => Err(SinkError::reject(DestinationError::Refused(OutOfRange(1.5)))),
        };
        Box::pin(async move { result })
    }
}

fn accepted_serial(accepted: &Accepted) -> String {
    match &accepted.decoded {
        Decoded::Uplink(record) => record.serial.clone(),
        other => panic!("the sink takes uplink records only, not {}", other.header()),
    }
}

/// A runner spawned with its stop trigger.
struct Running {
    trigger: StopTrigger,
    task: JoinHandle<()>,
}

/// How long a stopped runner may take to return (it leaves its consumer group on the way out).
const STOP_WITHIN: Duration = Duration::from_secs(15);

impl Running {
    fn start(runner: SinkRunner) -> Self {
        let (trigger, stop) = stop_pair();
        Self {
            trigger,
            task: tokio::spawn(runner.run(stop)),
        }
    }

    async fn stop(self) {
        let Self { trigger, task } = self;
        trigger.trigger();
        tokio::time::timeout(STOP_WITHIN, task)
            .await
            .expect("the runner returns promptly once stopped")
            .expect("the runner does not panic");
    }
}

fn dead_letter_topic(topic: &str) -> String {
    format!("{topic}.dead_letter")
}

fn header(message: &ConsumedMessage, name: &str) -> String {
    let value = message
        .header(name)
        .unwrap_or_else(|| panic!("the {name} header on {}", message.position()));
    String::from_utf8_lossy(value).into_owned()
}

/// The serial of test record `index`.
pub(crate) fn serial(index: i64) -> String {
    format!("Q2AA-0000-{index:04}")
}

fn serials(indexes: std::ops::Range<i64>) -> Vec<String> {
    indexes.map(serial).collect()
}

/// Test records `indexes`, each an uplink sample of its own appliance, keyed by serial.
pub(crate) fn uplinks(indexes: std::ops::Range<i64>) -> Vec<EncodedRecord> {
    let ts = "2026-11-27T10:00:00Z".parse().expect("an RFC 3339 time");
    indexes
        .map(|index| {
            let record = uplink_record("1", index, ts);
            EncodedRecord::uplink(&record, &KeyStrategy::Serial, "test")
        })
        .collect()
}

/// Appliance `index`'s uplink sample at `ts` in `organization_id`.
pub(crate) fn uplink_record(organization_id: &str, index: i64, ts: DateTime<Utc>) -> UplinkRecord {
    UplinkRecord {
        organization_id: organization_id.to_owned(),
        network_id: "N_1".into(),
        network_name: None,
        serial: serial(index),
        device_name: None,
        model: None,
        tags: Vec::new(),
        uplink: "wan1".into(),
        ip: "8.8.8.8".into(),
        ts,
        start_ts: None,
        end_ts: None,
        loss_percent: Some(1.5),
        latency_ms: Some(20.0),
        jitter: None,
        goodput: None,
        active_ddns_hostname: None,
        ddns_hostname_wan1: None,
        ddns_hostname_wan2: None,
    }
}

/// How long a test waits for any one thing (a consumer group joining included).
const WAIT: Duration = Duration::from_secs(30);
/// How long a whole test may take.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Runs a test body, failing it if it outlives [`TEST_LIMIT`].
pub(crate) async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("the test finishes within its time limit");
}

/// Polls `check` until it holds, failing after [`WAIT`].
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One partition per topic the handle creates, for the output and the runners alike: offsets are in the
/// order records were produced.
const ONE_PARTITION: TopicCreation = TopicCreation::Create { partitions: 1 };

/// The embedded broker on a free port with a Kafka handle and a Kafka output on it, and the telemetry the
/// output and runners share.
pub(crate) struct Broker {
    /// Kept for the test's life: the broker stops when dropped.
    _broker: EmbeddedBroker,
    pub(crate) kafka: ResolvedKafka,
    pub(crate) handle: Arc<KafkaHandle>,
    pub(crate) output: Arc<KafkaOutput>,
    pub(crate) telemetry: Arc<Telemetry>,
}

impl Broker {
    pub(crate) async fn start() -> Self {
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
        let broker = EmbeddedBroker::start(listen, BrokerStorage::Memory)
            .await
            .expect("the embedded broker starts");
        let empty: HashMap<String, String> = HashMap::new();
        let kafka = KafkaConnection {
            brokers: Some(broker.address().to_string()),
            ..Default::default()
        }
        .resolve(&empty, None)
        .expect("the broker's address resolves");
        let telemetry = Telemetry::new();
        let handle = Arc::new(KafkaHandle::new(kafka.clone(), telemetry.clone()).expect("the Kafka handle"));
        let output = Arc::new(KafkaOutput::new(handle.clone(), ONE_PARTITION, None));
        Self {
            _broker: broker,
            kafka,
            handle,
            output,
            telemetry,
        }
    }

    /// Creates `topic` with one partition, so offsets are in the order records were produced.
    async fn create(&self, topic: &str) {
        TopicAdmin::new(&self.kafka)
            .expect("a topic admin")
            .create(topic, 1, Some(1))
            .await
            .expect("the topic is created");
    }

    /// Produces `records` one at a time, each acknowledged before the next (offsets in order).
    async fn produce(&self, topic: &str, records: &[EncodedRecord]) {
        for record in records {
            self.output
                .write(topic, std::slice::from_ref(record))
                .await
                .expect("Kafka takes the record");
        }
    }

    /// Produces a payload without headers, as a foreign producer could.
    async fn produce_raw(&self, topic: &str, payload: &[u8]) {
        self.handle
            .producer()
            .send(&OutgoingRecord {
                topic,
                payload,
                ..Default::default()
            })
            .await
            .expect("Kafka takes the record");
    }

    /// A runner of `destination` on `topic` in `group`, dead-lettering to `TOPIC.dead_letter`.
    fn runner(&self, id: &str, group: &str, topic: &str, destination: &Destination) -> SinkRunner {
        SinkRunner {
            id: id.to_owned(),
            reading: SinkReading {
                topics: vec![topic.to_owned()],
                group: group.to_owned(),
                start: ReadStart::GroupFromEarliest,
                batch_size: 100,
                linger: Duration::from_millis(200),
                dead_letter_topic: dead_letter_topic(topic),
            },
            kafka: self.handle.clone(),
            topic_creation: ONE_PARTITION,
            kind: "scripted",
            sink: destination.sink(),
            telemetry: self.telemetry.clone(),
        }
    }

    /// A recorded metric of the sink or output labelled `label`.
    pub(crate) fn metric(&self, metric: &Metric, label: &str) -> f64 {
        self.telemetry.get(metric, &[label])
    }

    /// The offset `group` committed on partition 0 of `topic` (the next it reads), asked of the broker by a
    /// consumer outside the group; `None` before its first commit.
    async fn committed(&self, group: &str, topic: &str) -> Option<i64> {
        let kafka = self.kafka.clone();
        let group = group.to_owned();
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = kafka
                .client_config()
                .set("group.id", &group)
                .create()
                .expect("a consumer to ask for the group's offsets");
            let mut partitions = TopicPartitionList::new();
            partitions.add_partition(&topic, 0);
            let committed = consumer
                .committed_offsets(partitions, Duration::from_secs(10))
                .expect("the broker answers with the group's committed offsets");
            match committed
                .find_partition(&topic, 0)
                .map(|partition| partition.offset())
            {
                Some(Offset::Offset(offset)) => Some(offset),
                _ => None,
            }
        })
        .await
        .expect("the offsets task does not panic")
    }

    /// Waits until `group` committed `offset` on `topic` (commits after a batch are asynchronous).
    async fn until_committed(&self, group: &str, topic: &str, offset: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let committed = self.committed(group, topic).await;
            if committed == Some(offset) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{group} committed {committed:?} on {topic}, not {offset}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first `count` records of `topic`, read by a group of its own.
    pub(crate) async fn read(&self, topic: &str, count: usize) -> Vec<ConsumedMessage> {
        let group = format!("test-reader-{}", uuid::Uuid::new_v4());
        let reader = GroupReader::open(
            &self.kafka,
            &[topic.to_owned()],
            &group,
            ReadStart::GroupFromEarliest,
        )
        .await
        .expect("a reader of the topic");
        let deadline = Instant::now() + WAIT;
        let mut messages = Vec::new();
        while messages.len() < count {
            let batch = reader.next_batch(count - messages.len(), Duration::from_millis(100));
            match tokio::time::timeout_at(deadline, batch).await {
                Ok(batch) => messages.extend(batch),
                Err(_) => panic!("read {} of {count} records from {topic}", messages.len()),
            }
        }
        messages
    }

    /// How many records `topic` holds.
    pub(crate) async fn records(&self, topic: &str) -> i64 {
        TopicAdmin::new(&self.kafka)
            .expect("a topic admin")
            .describe(topic)
            .await
            .expect("the topic is described")
            .records()
    }
}
