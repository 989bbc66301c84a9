//! Writes one window of loss/latency samples so that, across crashes and restarts, each sample reaches Kafka
//! exactly once: the window is journaled with Kafka's end offsets before its first record is sent, and the
//! watermark moves past it only after every output acknowledged every record. A window found in flight at
//! start-up is read back from those offsets and only the samples Kafka does not hold yet are sent.
//!
//! Outputs other than Kafka cannot be read back: a resumed window sends them all of it again, including what
//! Kafka holds already, so they may receive part of that window twice (at least once), never miss it.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use semaphore_meraki::MerakiError;

use crate::bus::readback::ReadbackError;
use crate::outputs::{Outputs, StdoutClosed};
use crate::record::uplink::SampleKey;
use crate::record::{EncodedRecord, KeyStrategy, UplinkRecord};
use crate::sources::window::Window;
use crate::sources::windowed::RecordChunks;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::RECORDS_DUPLICATE_SKIPPED;
use crate::watermark::{InFlight, WatermarkError, WatermarkStore};

/// Why a window was not written; it stays in flight (or unplanned) and is written again later.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// The journal or the watermark could not be persisted.
    #[error(transparent)]
    Watermark(#[from] WatermarkError),
    /// Kafka's end offsets, journaled before the window's first record is sent, could not be read.
    #[error("cannot read Kafka's end offsets before writing the window")]
    EndOffsets(#[source] ReadbackError),
    /// What the window's first attempt wrote could not be read back, so it cannot tell what to skip.
    #[error("cannot read back what the window's first attempt wrote")]
    Readback(#[source] ReadbackError),
    /// The window stays in flight, as after a stop mid-window: the next start writes it again.
    #[error(transparent)]
    StdoutClosed(#[from] StdoutClosed),
    /// Meraki's answer broke off: the window is read again next interval (in flight if part was sent).
    #[error(transparent)]
    Read(#[from] MerakiError),
}

#[derive(Debug)]
pub struct WindowWriter {
    pub source: String,
    pub topic: String,
    pub key: KeyStrategy,
    pub store: WatermarkStore,
    pub outputs: Arc<Outputs>,
    pub telemetry: Arc<Telemetry>,
}

impl WindowWriter {
    /// The window to resume for `organization_id`, if the process stopped while writing it.
    pub fn in_flight(&self, organization_id: &str) -> Option<Window> {
        self.store
            .progress(organization_id)
            .in_flight
            .map(|in_flight| Window {
                t0: in_flight.t0,
                t1: in_flight.t1,
            })
    }

    pub fn watermark(&self, organization_id: &str) -> Option<DateTime<Utc>> {
        self.store.progress(organization_id).watermark
    }

    /// Writes the window's records (those inside `[t0, t1)`), chunk by chunk as they are read, and moves the
    /// watermark to `t1`. Returns how many records were sent. A read that breaks off leaves the window in
    /// flight once part of it was sent ([`WindowError::Read`]).
    pub async fn write(
        &self,
        organization_id: &str,
        window: Window,
        mut chunks: RecordChunks<'_>,
    ) -> Result<usize, WindowError> {
        let resumed = self.resumed(organization_id, window).await?;
        let already = resumed.as_ref().map(|(_, already)| already);
        let mut skipped = 0;
        let mut journaled = false;
        let mut sent = 0;
        while let Some(chunk) = chunks.next().await {
            let (kept, in_kafka) = split_new(chunk?, window, already);
            skipped += in_kafka.len();
            self.publish_beside_kafka(&in_kafka).await?;
            if kept.is_empty() {
                continue;
            }
            // Journaled before its first record is sent; a window with nothing to write never is.
            if !journaled {
                self.journal(
                    organization_id,
                    window,
                    resumed.as_ref().map(|(offsets, _)| offsets),
                )
                .await?;
                journaled = true;
            }
            let encoded = self.encoded(&kept);
            self.outputs.publish(&self.topic, &encoded).await?;
            sent += encoded.len();
        }
        self.count_skipped(skipped);
        self.store.advance(organization_id, window.t1)?;
        Ok(sent)
    }

    /// Marks the window in flight with the Kafka offsets it starts at: a resumed window keeps its first
    /// attempt's, so a second crash still reads back the first attempt.
    async fn journal(
        &self,
        organization_id: &str,
        window: Window,
        resumed: Option<&BTreeMap<i32, i64>>,
    ) -> Result<(), WindowError> {
        let kafka_offsets = match (resumed, self.outputs.kafka()) {
            (Some(offsets), _) => offsets.clone(),
            (None, Some(kafka)) => kafka
                .end_offsets(&self.topic)
                .await
                .map_err(WindowError::EndOffsets)?,
            (None, None) => Default::default(),
        };
        self.store.begin(
            organization_id,
            InFlight {
                t0: window.t0,
                t1: window.t1,
                kafka_offsets,
            },
        )?;
        Ok(())
    }

    fn encoded(&self, records: &[UplinkRecord]) -> Vec<EncodedRecord> {
        records
            .iter()
            .map(|record| EncodedRecord::uplink(record, &self.key, &self.source))
            .collect()
    }

    /// Samples of a resumed window that Kafka holds already, to the outputs that cannot be read back.
    async fn publish_beside_kafka(&self, records: &[UplinkRecord]) -> Result<(), WindowError> {
        if records.is_empty() {
            return Ok(());
        }
        let encoded = self.encoded(records);
        Ok(self.outputs.publish_beside_kafka(&self.topic, &encoded).await?)
    }

    fn count_skipped(&self, skipped: usize) {
        if skipped > 0 {
            self.telemetry.add(
                &RECORDS_DUPLICATE_SKIPPED,
                &[self.source.as_str()],
                skipped as f64,
            );
        }
    }

    /// For a window interrupted by a stop: the Kafka offsets its first attempt started at (kept, so a second
    /// crash still reads back the first attempt) and the samples Kafka holds of it already.
    async fn resumed(
        &self,
        organization_id: &str,
        window: Window,
    ) -> Result<Option<(BTreeMap<i32, i64>, HashSet<SampleKey>)>, WindowError> {
        let progress = self.store.progress(organization_id);
        let (Some(in_flight), Some(kafka)) = (&progress.in_flight, self.outputs.kafka()) else {
            return Ok(None);
        };
        if in_flight.t0 != window.t0 || in_flight.t1 != window.t1 {
            return Ok(None);
        }
        let written = kafka
            .payloads_since(&self.topic, &in_flight.kafka_offsets)
            .await
            .map_err(WindowError::Readback)?;
        let already = written_samples(&written, organization_id, window);
        tracing::info!(
            organization = %organization_id, t0 = %window.t0, t1 = %window.t1,
            already_in_kafka = already.len(),
            "Resuming a window interrupted by a stop; writing only what Kafka does not hold yet."
        );
        Ok(Some((in_flight.kafka_offsets.clone(), already)))
    }
}

/// The records of `chunk` inside `window`: those Kafka does not hold yet, and those it holds (`already`, for a
/// resumed window).
fn split_new(
    chunk: Vec<UplinkRecord>,
    window: Window,
    already: Option<&HashSet<SampleKey>>,
) -> (Vec<UplinkRecord>, Vec<UplinkRecord>) {
    chunk
        .into_iter()
        .filter(|record| record.ts >= window.t0 && record.ts < window.t1)
        .partition(|record| !already.is_some_and(|already| already.contains(&record.sample_key())))
}

/// The samples of `organization_id` inside `window` among payloads read back from Kafka; payloads of other
/// kinds (other writers sharing the topic) are ignored.
fn written_samples(payloads: &[Vec<u8>], organization_id: &str, window: Window) -> HashSet<SampleKey> {
    payloads
        .iter()
        .filter_map(|payload| serde_json::from_slice::<UplinkRecord>(payload).ok())
        .filter(|record| {
            record.organization_id == organization_id && record.ts >= window.t0 && record.ts < window.t1
        })
        .map(|record| record.sample_key())
        .collect()
}
