//! Producer throughput of semaphore's producer path, for `bench/kafka_throughput.sh`: N records of S bytes
//! over 1,000 keys, sent through `semaphore::bus::producer::Producer` with up to W records in flight, as the
//! collector sends them. Prints one JSON line with records/s and MB/s.
//!
//! `cargo run --release -p semaphore --example bus_bench -- BROKERS TOPIC RECORDS SIZE [IN_FLIGHT]`

use std::collections::HashMap;

use futures::stream::{FuturesUnordered, StreamExt};
use semaphore::bus::config::KafkaConnection;
use semaphore::bus::producer::{OutgoingRecord, Producer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [brokers, topic, records, size, ..] = arguments.as_slice() else {
        return Err("usage: bus_bench BROKERS TOPIC RECORDS SIZE [IN_FLIGHT]".into());
    };
    let records: usize = records.parse()?;
    let size: usize = size.parse()?;
    let in_flight: usize = arguments.get(4).map_or(Ok(10_000), |text| text.parse())?;
    let empty: HashMap<String, String> = HashMap::new();
    let kafka = KafkaConnection {
        brokers: Some(brokers.clone()),
        ..Default::default()
    }
    .resolve(&empty, None)?;
    let producer = Producer::new(&kafka)?;
    let payload = vec![b'x'; size];
    let keys: Vec<String> = (0..1000).map(|index| format!("Q2XX-{index:04}-BNCH")).collect();
    let started = tokio::time::Instant::now();
    let mut pending = FuturesUnordered::new();
    let mut failed = 0usize;
    for index in 0..records {
        let producer = producer.clone();
        let key = keys[index % keys.len()].as_bytes();
        let payload = payload.as_slice();
        pending.push(async move {
            let record = OutgoingRecord {
                topic,
                key: Some(key),
                payload,
                ..Default::default()
            };
            producer.send(&record).await
        });
        if pending.len() >= in_flight && pending.next().await.is_some_and(|result| result.is_err()) {
            failed += 1;
        }
    }
    while let Some(result) = pending.next().await {
        if result.is_err() {
            failed += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"tool\":\"semaphore\",\"records\":{records},\"size\":{size},\"failed\":{failed},\"seconds\":{seconds:.3},\"records_per_second\":{:.0},\"mb_per_second\":{:.2}}}",
        records as f64 / seconds,
        (records * size) as f64 / seconds / 1_000_000.0
    );
    Ok(())
}
