//! How an uplink did over the history: its newest point, its down minutes, its mean loss, latency and
//! jitter, and so its state (down, degraded, healthy). The overview's counts, order and rows are made of it.

use serde::Serialize;

use super::shown::{Point, UplinkView};

/// Newest loss at or above this, in percent, makes an uplink degraded.
pub(super) const DEGRADED_LOSS_PERCENT: f64 = 1.0;
/// Newest latency at or above this, in milliseconds, makes an uplink degraded.
pub(super) const DEGRADED_LATENCY_MS: f64 = 150.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum State {
    /// The newest point says the uplink is down.
    Down,
    /// Up now, but an alert fires on it, its newest loss or latency is high, or it was down in the window.
    Degraded,
    Healthy,
}

#[derive(Clone, Debug)]
pub(super) struct Health<'a> {
    pub view: &'a UplinkView,
    pub state: State,
    pub last: Option<&'a Point>,
    pub down_samples: usize,
    pub loss_avg: Option<f64>,
    pub latency_avg: Option<f64>,
    pub jitter_avg: Option<f64>,
    /// Rules of the uplink alerts firing on it.
    pub alerts: Vec<&'a str>,
}

impl<'a> Health<'a> {
    pub fn of(view: &'a UplinkView, alerts: Vec<&'a str>) -> Self {
        // One pass over the points: at 50,000 uplinks this runs for every uplink on every page request.
        let (mut loss, mut latency, mut jitter) = (Mean::default(), Mean::default(), Mean::default());
        let mut down_samples = 0;
        for point in &view.points {
            down_samples += usize::from(point.loss.is_none());
            loss.add(point.loss);
            latency.add(point.latency);
            jitter.add(point.jitter);
        }
        let mut health = Self {
            view,
            state: State::Healthy,
            last: view.points.back(),
            down_samples,
            loss_avg: loss.value(),
            latency_avg: latency.value(),
            jitter_avg: jitter.value(),
            alerts,
        };
        health.state = health.judge();
        health
    }

    fn judge(&self) -> State {
        let Some(last) = self.last else {
            return State::Healthy;
        };
        if last.loss.is_none() {
            return State::Down;
        }
        let high = last.loss.is_some_and(|loss| loss >= DEGRADED_LOSS_PERCENT)
            || last.latency.is_some_and(|latency| latency >= DEGRADED_LATENCY_MS);
        if high || self.down_samples > 0 || !self.alerts.is_empty() {
            State::Degraded
        } else {
            State::Healthy
        }
    }

    pub fn is_down(&self) -> bool {
        self.state == State::Down
    }
}

/// The mean of the values present, summed in time order; `None` when there are none.
#[derive(Default)]
struct Mean {
    sum: f64,
    count: usize,
}

impl Mean {
    fn add(&mut self, value: Option<f64>) {
        if let Some(value) = value {
            self.sum += value;
            self.count += 1;
        }
    }

    fn value(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

/// Most points in a sparkline: one per minute of the default hour.
pub(super) const SPARK_POINTS: usize = 60;

/// A sparkline's points, `[t, loss, latency]`, at most [`SPARK_POINTS`]: every point when they fit, else the
/// worst of each of as many equal stretches of time (a down minute stays visible).
pub(super) fn spark(points: &std::collections::VecDeque<Point>) -> Vec<(i64, Option<f64>, Option<f64>)> {
    if points.len() <= SPARK_POINTS {
        return points
            .iter()
            .map(|point| (point.t, point.loss, point.latency))
            .collect();
    }
    let (first, last) = (points[0].t, points[points.len() - 1].t);
    let span = (last - first).max(1) as f64;
    let mut buckets: Vec<(i64, Option<f64>, Option<f64>, bool)> = Vec::with_capacity(SPARK_POINTS);
    let mut current = None;
    for point in points {
        let bucket = (((point.t - first) as f64 / span) * (SPARK_POINTS - 1) as f64) as usize;
        if current != Some(bucket) {
            current = Some(bucket);
            buckets.push((point.t, point.loss, point.latency, point.loss.is_none()));
            continue;
        }
        let worst = buckets.last_mut().expect("pushed above");
        worst.3 |= point.loss.is_none();
        worst.1 = max(worst.1, point.loss);
        worst.2 = max(worst.2, point.latency);
    }
    buckets
        .into_iter()
        .map(|(t, loss, latency, down)| if down { (t, None, None) } else { (t, loss, latency) })
        .collect()
}

fn max(left: Option<f64>, right: Option<f64>) -> Option<f64> {
    match (left, right) {
        (Some(left), Some(right)) => Some(left.max(right)),
        (left, right) => left.or(right),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    fn view(points: &[(i64, Option<f64>, Option<f64>)]) -> UplinkView {
        UplinkView {
            id: "Q2AA-BBBB-CCCC/wan1/8.8.8.8".into(),
            organization_id: "1".into(),
            network_id: "N_1".into(),
            network_name: None,
            serial: "Q2AA-BBBB-CCCC".into(),
            device_name: None,
            model: None,
            tags: vec![],
            uplink: "wan1".into(),
            ip: "8.8.8.8".into(),
            points: points
                .iter()
                .map(|&(t, loss, latency)| Point {
                    t,
                    loss,
                    latency,
                    jitter: None,
                })
                .collect(),
            haystack: String::new(),
        }
    }

    #[test]
    fn the_newest_point_decides_down_and_the_window_degraded() {
        let down = view(&[(60, Some(0.0), Some(10.0)), (120, None, None)]);
        assert_eq!(Health::of(&down, vec![]).state, State::Down);
        let recovered = view(&[(60, None, None), (120, Some(0.0), Some(10.0))]);
        let health = Health::of(&recovered, vec![]);
        assert_eq!(health.state, State::Degraded);
        assert_eq!(health.down_samples, 1);
        assert_eq!(health.loss_avg, Some(0.0), "down minutes have no loss to average");
        let lossy = view(&[(60, Some(DEGRADED_LOSS_PERCENT), Some(10.0))]);
        assert_eq!(Health::of(&lossy, vec![]).state, State::Degraded);
        let slow = view(&[(60, Some(0.0), Some(DEGRADED_LATENCY_MS))]);
        assert_eq!(Health::of(&slow, vec![]).state, State::Degraded);
        let fine = view(&[(60, Some(0.5), Some(20.0)), (120, Some(0.1), Some(30.0))]);
        let health = Health::of(&fine, vec![]);
        assert_eq!(health.state, State::Healthy);
        assert_eq!(health.latency_avg, Some(25.0));
        assert_eq!(Health::of(&fine, vec!["high-loss"]).state, State::Degraded);
        assert_eq!(Health::of(&view(&[]), vec![]).state, State::Healthy);
    }

    #[test]
    fn a_long_history_is_sparked_worst_per_stretch_keeping_down_minutes() {
        let points: Vec<_> = (0..240)
            .map(|minute| {
                let loss = if minute == 101 {
                    None
                } else {
                    Some((minute % 4) as f64)
                };
                (minute * 60, loss, Some(10.0))
            })
            .collect();
        let line = spark(&view(&points).points);
        assert!(
            line.len() <= SPARK_POINTS && line.len() >= SPARK_POINTS - 1,
            "{}",
            line.len()
        );
        assert!(line.windows(2).all(|pair| pair[0].0 < pair[1].0), "time order");
        assert_eq!(
            line.iter().filter(|point| point.1.is_none()).count(),
            1,
            "the down minute"
        );
        assert!(
            line.iter()
                .filter(|point| point.1.is_some())
                .all(|point| point.1 == Some(3.0))
        );
        let short: VecDeque<Point> = view(&points[..10]).points;
        assert_eq!(spark(&short).len(), 10, "every point when they fit");
    }
}
