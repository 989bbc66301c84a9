//! Writes one window of loss/latency samples so that, across crashes and restarts, each sample reaches Kafka
//! exactly once: the window is journaled with Kafka's end offsets before its first record is sent, and the
//! watermark moves past it only after every output acknowledged every record. A window found in flight at
//! start-up is read back from those offsets and only the samples Kafka does not hold yet are sent.
//!
//! Outputs other than Kafka cannot be read back: after a crash mid-window they may receive part of that
//! window twice (at least once).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

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

    /// Writes the window's records (those inside `[t0, t1)`), chunk by chunk as they come, and moves the
    /// watermark to `t1`. Returns how many records were sent.
    pub async fn write(
        &self,
        organization_id: &str,
        window: Window,
        chunks: RecordChunks<'_>,
    ) -> Result<usize, WindowError> {
        let resumed = self.resumed(organization_id, window).await?;
        let already = resumed.as_ref().map(|(_, already)| already);
        // Samples of a resumed window that Kafka holds already: counted, not sent again.
        let skipped = AtomicUsize::new(0);
        let mut chunks = chunks
            .map(|chunk| {
                let in_window = chunk
                    .into_iter()
                    .filter(|record| record.ts >= window.t0 && record.ts < window.t1);
                let Some(already) = already else {
                    return in_window.collect::<Vec<_>>();
                };
                in_window
                    .filter(|record| {
                        let written = already.contains(&record.sample_key());
                        if written {
                            skipped.fetch_add(1, Ordering::Relaxed);
                        }
                        !written
                    })
                    .collect()
            })
            .filter(|kept| !kept.is_empty());
        // Nothing to write at all: the window is done without a journal entry.
        let Some(first) = chunks.next() else {
            drop(chunks);
            self.count_skipped(skipped.into_inner());
            self.store.advance(organization_id, window.t1)?;
            return Ok(0);
        };
        let kafka_offsets = match (&resumed, self.outputs.kafka()) {
            (Some((offsets, _)), _) => offsets.clone(),
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
        let mut sent = 0;
        for chunk in std::iter::once(first).chain(&mut chunks) {
            let encoded: Vec<EncodedRecord> = chunk
                .iter()
                .map(|record| EncodedRecord::uplink(record, &self.key, &self.source))
                .collect();
            self.outputs.publish(&self.topic, &encoded).await?;
            sent += encoded.len();
        }
        drop(chunks);
        self.count_skipped(skipped.into_inner());
        self.store.advance(organization_id, window.t1)?;
        Ok(sent)
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
    ) -> Result<Option<(std::collections::BTreeMap<i32, i64>, HashSet<SampleKey>)>, WindowError> {
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
