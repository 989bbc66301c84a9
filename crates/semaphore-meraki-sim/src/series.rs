//! Loss and latency as a pure function of (seed, serial, uplink, destination, minute): steady baselines per
//! uplink, per-minute jitter, occasional incidents of high loss or latency, and outages where the uplink is
//! down and Meraki reports `null`. Any window can be asked for, and repeated answers agree.

use chrono::{DateTime, Utc};

use crate::noise::{hash, unit};

/// One minute of one uplink towards one destination.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub loss_percent: Option<f64>,
    pub latency_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    /// Kilobits per second.
    pub goodput: Option<f64>,
}

impl Sample {
    pub fn is_down(&self) -> bool {
        self.loss_percent.is_none()
    }
}

/// The series generator for one seed.
#[derive(Clone, Copy, Debug)]
pub struct Series {
    seed: u64,
}

/// Chance that an uplink has an incident (loss or latency) in a given hour.
const INCIDENT_PER_HOUR: f64 = 0.06;
/// Chance that an uplink goes down for a while in a given hour.
const OUTAGE_PER_HOUR: f64 = 0.02;

impl Series {
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }

    /// The sample of the minute containing `at`.
    pub fn sample(&self, serial: &str, uplink: &str, destination: &str, at: DateTime<Utc>) -> Sample {
        let minute = at.timestamp().div_euclid(60);
        let hour = minute.div_euclid(60);
        let minute_of_hour = minute.rem_euclid(60);
        let seed = self.seed;
        let uplink_hash = hash(seed, &[&serial, &uplink, &destination]);
        if self.in_event(
            uplink_hash,
            hour,
            minute_of_hour,
            "outage",
            OUTAGE_PER_HOUR,
            3..16,
        ) || self.always_flapping(serial, uplink, minute_of_hour)
        {
            return Sample {
                loss_percent: None,
                latency_ms: None,
                jitter_ms: None,
                goodput: None,
            };
        }
        // Baselines: wan1 behaves like fibre, wan2 like cable or LTE backup.
        let (base_latency, spread) = if uplink == "wan1" {
            (6.0, 40.0)
        } else {
            (25.0, 90.0)
        };
        let baseline_latency = base_latency + spread * unit(uplink_hash);
        let baseline_loss = if unit(uplink_hash >> 3) < 0.8 {
            0.0
        } else {
            0.3 * unit(uplink_hash >> 5)
        };
        let minute_hash = hash(seed, &[&uplink_hash, &minute]);
        // Sum of two uniforms: a soft bell around zero.
        let wobble = unit(minute_hash) + unit(minute_hash >> 17) - 1.0;
        let mut latency = baseline_latency * (1.0 + 0.15 * wobble);
        let mut loss = (baseline_loss + 0.4 * wobble.max(0.0) * unit(minute_hash >> 29)).max(0.0);
        let mut jitter = 0.5 + 2.5 * unit(minute_hash >> 41);
        if self.in_event(
            uplink_hash,
            hour,
            minute_of_hour,
            "incident",
            INCIDENT_PER_HOUR,
            5..21,
        ) {
            let severity = unit(hash(seed, &[&uplink_hash, &hour, &"severity"]));
            if severity < 0.5 {
                loss = 5.0 + 35.0 * severity * 2.0 + 3.0 * wobble.abs();
            } else {
                latency *= 3.0 + 3.0 * severity;
            }
            jitter *= 4.0;
        }
        let goodput = (2_000.0 + 8_000.0 * unit(uplink_hash >> 9)) * (1.0 - loss / 100.0);
        Sample {
            loss_percent: Some(round(loss.min(100.0), 1)),
            latency_ms: Some(round(latency, 1)),
            jitter_ms: Some(round(jitter, 2)),
            goodput: Some(goodput.round()),
        }
    }

    /// The average over `[start, start + resolution)` of the minutes in it (at most 60 evenly spread), as the
    /// history endpoint's coarser resolutions aggregate; `null` only if every minute was down.
    pub fn aggregate(
        &self,
        serial: &str,
        uplink: &str,
        destination: &str,
        start: DateTime<Utc>,
        resolution: i64,
    ) -> Sample {
        let minutes = (resolution / 60).max(1);
        let step = (minutes / 60).max(1);
        let samples: Vec<Sample> = (0..minutes)
            .step_by(step as usize)
            .map(|offset| {
                self.sample(
                    serial,
                    uplink,
                    destination,
                    start + chrono::TimeDelta::minutes(offset),
                )
            })
            .filter(|sample| !sample.is_down())
            .collect();
        if samples.is_empty() {
            return Sample {
                loss_percent: None,
                latency_ms: None,
                jitter_ms: None,
                goodput: None,
            };
        }
        let mean = |field: fn(&Sample) -> Option<f64>, digits: i32| {
            Some(round(
                samples.iter().filter_map(field).sum::<f64>() / samples.len() as f64,
                digits,
            ))
        };
        Sample {
            loss_percent: mean(|sample| sample.loss_percent, 1),
            latency_ms: mean(|sample| sample.latency_ms, 1),
            jitter_ms: mean(|sample| sample.jitter_ms, 2),
            goodput: mean(|sample| sample.goodput, 0),
        }
    }

    /// Whether a random event of `kind` covers this minute: at most one per uplink and hour, of a length in
    /// `minutes`.
    fn in_event(
        &self,
        uplink_hash: u64,
        hour: i64,
        minute_of_hour: i64,
        kind: &str,
        chance: f64,
        minutes: std::ops::Range<i64>,
    ) -> bool {
        let event_hash = hash(self.seed, &[&uplink_hash, &hour, &kind]);
        if unit(event_hash) >= chance {
            return false;
        }
        let length = minutes.start + (event_hash >> 20) as i64 % (minutes.end - minutes.start);
        let start = (event_hash >> 40) as i64 % (60 - length);
        (start..start + length).contains(&minute_of_hour)
    }

    /// A known flapping uplink so every estate shows a down uplink quickly: the wan2 of serials whose hash
    /// picks them (about one in twenty) is down for the first 10 minutes of every hour.
    fn always_flapping(&self, serial: &str, uplink: &str, minute_of_hour: i64) -> bool {
        uplink == "wan2" && minute_of_hour < 10 && Self::is_flapper(self.seed, serial)
    }

    /// Whether `serial`'s wan2 is one of the regularly flapping uplinks.
    pub fn is_flapper(seed: u64, serial: &str) -> bool {
        hash(seed, &[&serial, &"flapper"]).is_multiple_of(20)
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn deterministic_and_plausible() {
        let series = Series::new(9);
        let first = series.sample("Q2AA-BBBB-CCCC", "wan1", "8.8.8.8", at("2026-11-27T10:15:30Z"));
        let again = Series::new(9).sample("Q2AA-BBBB-CCCC", "wan1", "8.8.8.8", at("2026-11-27T10:15:00Z"));
        assert_eq!(first, again, "same minute, same sample");
        let mut down = 0;
        let mut incidents = 0;
        let mut latencies = Vec::new();
        for device in 0..50 {
            let serial = format!("Q2XX-{device:04}-0000");
            for minute in 0..24 * 60 {
                let sample = series.sample(
                    &serial,
                    "wan1",
                    "8.8.8.8",
                    at("2026-11-27T00:00:00Z") + chrono::TimeDelta::minutes(minute),
                );
                match sample.loss_percent {
                    None => down += 1,
                    Some(loss) if loss >= 5.0 => incidents += 1,
                    Some(loss) => assert!((0.0..5.0).contains(&loss)),
                }
                latencies.extend(sample.latency_ms);
            }
        }
        let total = 50 * 24 * 60;
        assert!(down > 0 && down < total / 50, "down minutes {down} of {total}");
        assert!(
            incidents > 0 && incidents < total / 20,
            "incident minutes {incidents} of {total}"
        );
        assert!(
            latencies
                .iter()
                .all(|latency| *latency > 0.0 && *latency < 2000.0)
        );
    }

    #[test]
    fn flapper_is_down_first_ten_minutes() {
        let seed = 9;
        let serial = (0..1000)
            .map(|index| format!("Q2ZZ-{index:04}-0000"))
            .find(|serial| Series::is_flapper(seed, serial))
            .unwrap();
        let series = Series::new(seed);
        assert!(
            series
                .sample(&serial, "wan2", "8.8.8.8", at("2026-11-27T10:05:00Z"))
                .is_down()
        );
        assert!(
            series
                .aggregate(&serial, "wan2", "8.8.8.8", at("2026-11-27T10:00:00Z"), 600)
                .is_down()
        );
        assert!(
            !series
                .aggregate(&serial, "wan2", "8.8.8.8", at("2026-11-27T10:00:00Z"), 3600)
                .is_down()
        );
    }
}
