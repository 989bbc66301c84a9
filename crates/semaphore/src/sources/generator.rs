//! `[[sources.generator]]`: synthetic records at a steady rate, numbered per run and per key
//! ([`GeneratedRecord`]). For trying a pipeline end to end without a network, and for checking delivery: it
//! publishes as a push source does ([`Outputs::accept`]), so while Kafka is away its records go to the
//! spool, and a reader can check that each arrived once and in order (the spool's tests and benchmark).

mod config;

pub use config::{GENERATED_TOPIC, GeneratorSettings, GeneratorSourceFile};

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::outputs::Outputs;
use crate::record::{EncodedRecord, GeneratedRecord};
use crate::shutdown::Stop;
use crate::sources::SourceFailure;

/// Records are made and published ten times a second: a steady flow, in batches the outputs like.
const TICK: Duration = Duration::from_millis(100);

pub struct GeneratorSource {
    settings: GeneratorSettings,
    outputs: Arc<Outputs>,
    run: String,
    sequence: u64,
    key_sequences: Vec<u64>,
}

impl GeneratorSource {
    pub fn new(settings: GeneratorSettings, outputs: Arc<Outputs>) -> Self {
        let key_sequences = vec![0; settings.keys as usize];
        Self {
            settings,
            outputs,
            run: uuid::Uuid::new_v4().to_string(),
            sequence: 0,
            key_sequences,
        }
    }

    /// Publishes `rate_per_second` records a second until stopped. After `count` records it ends with
    /// `--once`, and otherwise idles until stopped, as a daemon's source does.
    pub async fn run(mut self, stop: Stop, once: bool) -> Result<(), SourceFailure> {
        tracing::info!(run = %self.run, rate_per_second = self.settings.rate_per_second, topic = %self.settings.topic, "Generating records.");
        let started = tokio::time::Instant::now();
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.done() {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.stopped() => break,
            }
            let due = self.due(started.elapsed());
            let batch: Vec<EncodedRecord> = (self.sequence..due).map(|_| self.next_record()).collect();
            if self.outputs.accept(&self.settings.topic, &batch).await.is_err() {
                break;
            }
        }
        tracing::info!(run = %self.run, records = self.sequence, "Generator done.");
        if !once {
            stop.stopped().await;
        }
        Ok(())
    }

    fn done(&self) -> bool {
        self.settings.count.is_some_and(|count| self.sequence >= count)
    }

    /// How many records should exist `elapsed` after the start: the rate, capped by `count`.
    fn due(&self, elapsed: Duration) -> u64 {
        let due = (elapsed.as_secs_f64() * self.settings.rate_per_second as f64) as u64 + 1;
        self.settings.count.map_or(due, |count| due.min(count))
    }

    fn next_record(&mut self) -> EncodedRecord {
        let key_index = (self.sequence % self.settings.keys) as usize;
        let key = format!("key-{key_index}");
        let record = GeneratedRecord {
            ts: Utc::now(),
            source: self.settings.id.clone(),
            run: self.run.clone(),
            sequence: self.sequence,
            key: key.clone(),
            key_sequence: self.key_sequences[key_index],
            message: "x".repeat(self.settings.message_bytes),
        };
        self.sequence += 1;
        self.key_sequences[key_index] += 1;
        EncodedRecord::new(&record, Some(key), &self.settings.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::Telemetry;

    fn source(rate_per_second: u64, keys: u64, count: Option<u64>) -> GeneratorSource {
        let settings = GeneratorSettings {
            id: "gen".to_owned(),
            topic: GENERATED_TOPIC.to_owned(),
            rate_per_second,
            keys,
            count,
            message_bytes: 3,
        };
        GeneratorSource::new(settings, Arc::new(Outputs::new(Vec::new(), Telemetry::new())))
    }

    #[test]
    fn records_are_numbered_per_run_and_per_key_round_robin() {
        let mut generator = source(10, 3, None);
        let records: Vec<GeneratedRecord> = (0..7)
            .map(|_| serde_json::from_slice(&generator.next_record().payload).unwrap())
            .collect();
        let keys: Vec<(&str, u64, u64)> = records
            .iter()
            .map(|record| (record.key.as_str(), record.sequence, record.key_sequence))
            .collect();
        assert_eq!(
            keys,
            [
                ("key-0", 0, 0),
                ("key-1", 1, 0),
                ("key-2", 2, 0),
                ("key-0", 3, 1),
                ("key-1", 4, 1),
                ("key-2", 5, 1),
                ("key-0", 6, 2)
            ]
        );
        assert!(
            records
                .iter()
                .all(|record| record.run == records[0].run && record.message == "xxx")
        );
    }

    #[test]
    fn the_rate_decides_how_many_are_due_and_count_caps_it() {
        let generator = source(500, 1, Some(1200));
        assert_eq!(generator.due(Duration::ZERO), 1);
        assert_eq!(generator.due(Duration::from_millis(100)), 51);
        assert_eq!(generator.due(Duration::from_secs(2)), 1001);
        assert_eq!(generator.due(Duration::from_secs(60)), 1200);
    }
}
