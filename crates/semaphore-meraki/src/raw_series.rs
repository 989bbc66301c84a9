//! An org-wide loss/latency answer kept as the JSON text Meraki sent, read element by element.
//!
//! For a large organization that answer is big (about 17 MB for 50,000 appliances and one minute), and parsed
//! whole into structs, then into records, then into encoded bytes, it costs several times that at once. Kept
//! as text with the position of each element, it is parsed a chunk at a time by whoever writes it out, so the
//! memory a window takes stays near the size of the answer.

use std::ops::Range;

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::model::UplinkLossAndLatency;

/// The elements of a `getOrganizationDevicesUplinksLossAndLatency` answer, each checked to be an uplink's
/// series when the answer was read.
#[derive(Debug)]
pub struct RawSeries {
    /// The body as Meraki sent it.
    body: Bytes,
    elements: Vec<Range<usize>>,
}

impl RawSeries {
    /// Checks that `text` is an array of uplink series, calling `each` with every element once, as parsed
    /// for the check (the element is then dropped: nothing but the text and the positions are kept).
    pub(crate) fn read(
        body: Bytes,
        mut each: impl FnMut(UplinkLossAndLatency),
    ) -> Result<Self, serde_json::Error> {
        let base = body.as_ptr() as usize;
        let elements = {
            let raw: Vec<&RawValue> = serde_json::from_slice(&body)?;
            let mut elements = Vec::with_capacity(raw.len());
            for element in raw {
                each(serde_json::from_str(element.get())?);
                let start = element.get().as_ptr() as usize - base;
                elements.push(start..start + element.get().len());
            }
            elements
        };
        Ok(Self { body, elements })
    }

    /// How many uplink series the answer holds.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The series, `size` at a time, parsed as they are asked for.
    pub fn chunks(self, size: usize) -> impl Iterator<Item = Vec<UplinkLossAndLatency>> + Send {
        let size = size.max(1);
        let mut next = 0;
        std::iter::from_fn(move || {
            if next >= self.elements.len() {
                return None;
            }
            let end = (next + size).min(self.elements.len());
            let chunk = self.elements[next..end]
                .iter()
                // Each element parsed when the answer was read, so this cannot fail; one that did is skipped.
                .filter_map(|range| serde_json::from_slice(&self.body[range.clone()]).ok())
                .collect();
            next = end;
            Some(chunk)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(text: &str) -> Result<RawSeries, serde_json::Error> {
        RawSeries::read(Bytes::from(text.to_owned()), |_| {})
    }

    const TWO: &str = r#"[{"networkId":"N_1","serial":"Q2AA-AAAA-AAAA","uplink":"wan1","ip":"8.8.8.8","timeSeries":[{"ts":"2026-12-02T07:45:00Z","lossPercent":0.0,"latencyMs":35.9}]},
        {"networkId":"N_1","serial":"Q2AA-AAAA-AAAA","uplink":"wan2","ip":"8.8.8.8","timeSeries":[{"ts":"2026-12-02T07:45:00Z","lossPercent":null,"latencyMs":null}]}]"#;

    #[test]
    fn elements_come_back_in_chunks_as_parsed_whole() {
        let whole: Vec<UplinkLossAndLatency> = serde_json::from_str(TWO).unwrap();
        let mut seen = Vec::new();
        let raw = RawSeries::read(Bytes::from(TWO), |uplink| seen.push(uplink.uplink)).unwrap();
        assert_eq!(seen, ["wan1", "wan2"]);
        assert_eq!(raw.len(), 2);
        let chunks: Vec<Vec<UplinkLossAndLatency>> = raw.chunks(1).collect();
        assert_eq!(chunks.len(), 2);
        let flat: Vec<UplinkLossAndLatency> = chunks.into_iter().flatten().collect();
        assert_eq!(
            serde_json::to_value(&flat).unwrap(),
            serde_json::to_value(&whole).unwrap()
        );
    }

    #[test]
    fn an_answer_that_is_not_uplink_series_is_an_error() {
        assert!(series("[]").unwrap().is_empty());
        assert!(series(r#"{"errors":["x"]}"#).is_err());
        assert!(series(r#"[{"serial":"Q2AA-AAAA-AAAA"}]"#).is_err());
    }
}
