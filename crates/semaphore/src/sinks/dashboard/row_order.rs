//! The order of the overview's rows: "worst" puts what an operator must look at first (down now, then the
//! most down minutes, the most loss, the most latency); the other keys sort by one measure or one name.
//! Ties always fall back to the uplink id, so pages never overlap or skip a row.

use std::cmp::Ordering;

use super::overview_query::SortKey;
use super::uplink_health::Health;

/// Puts the first `count` of `rows` in the order `sort` and `descending` say, the rest after them in no
/// order: a page needs its rows, not the estate sorted.
pub(super) fn sort_first(rows: &mut [Health<'_>], sort: SortKey, descending: bool, count: usize) {
    let order = |left: &Health<'_>, right: &Health<'_>| {
        let natural = compare(left, right, sort);
        let ordering = if descending == sort.naturally_descending() {
            natural
        } else {
            natural.reverse()
        };
        ordering.then_with(|| left.view.id.cmp(&right.view.id))
    };
    if count < rows.len() {
        rows.select_nth_unstable_by(count, order);
        rows[..count].sort_by(order);
    } else {
        rows.sort_by(order);
    }
}

/// The natural order of `sort`: worst, most or highest first for measures, alphabetical for names.
fn compare(left: &Health<'_>, right: &Health<'_>, sort: SortKey) -> Ordering {
    match sort {
        SortKey::Worst => worst_first(left, right),
        SortKey::Down => right.down_samples.cmp(&left.down_samples),
        SortKey::Loss => highest_first(left.loss_avg, right.loss_avg),
        SortKey::Latency => highest_first(left.latency_avg, right.latency_avg),
        SortKey::Jitter => highest_first(left.jitter_avg, right.jitter_avg),
        SortKey::Organization => left.view.organization_id.cmp(&right.view.organization_id),
        SortKey::Network => left.view.network().cmp(right.view.network()),
        SortKey::Device => left.view.device().cmp(right.view.device()),
        SortKey::Uplink => left.view.uplink.cmp(&right.view.uplink),
    }
}

fn worst_first(left: &Health<'_>, right: &Health<'_>) -> Ordering {
    right
        .is_down()
        .cmp(&left.is_down())
        .then_with(|| right.down_samples.cmp(&left.down_samples))
        .then_with(|| highest_first(left.loss_avg, right.loss_avg))
        .then_with(|| highest_first(left.latency_avg, right.latency_avg))
}

/// Highest first; an uplink without the measure after every one with it.
fn highest_first(left: Option<f64>, right: Option<f64>) -> Ordering {
    match (left, right) {
        (Some(left), Some(right)) => right.total_cmp(&left),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::sinks::dashboard::shown::{Point, UplinkView};

    fn view(id: &str, network: &str, points: &[(Option<f64>, Option<f64>)]) -> UplinkView {
        UplinkView {
            id: id.into(),
            organization_id: "1".into(),
            network_id: "N".into(),
            network_name: Some(network.into()),
            serial: id.into(),
            device_name: None,
            model: None,
            tags: vec![],
            uplink: "wan1".into(),
            ip: "8.8.8.8".into(),
            points: points
                .iter()
                .enumerate()
                .map(|(minute, &(loss, latency))| Point {
                    t: minute as i64 * 60,
                    loss,
                    latency,
                    jitter: None,
                })
                .collect::<VecDeque<_>>(),
            haystack: String::new(),
        }
    }

    fn order(views: &[UplinkView], sort: SortKey, descending: bool) -> Vec<&str> {
        let mut rows: Vec<Health<'_>> = views.iter().map(|view| Health::of(view, vec![])).collect();
        let all = rows.len();
        sort_first(&mut rows, sort, descending, all);
        let mut top_two: Vec<Health<'_>> = views.iter().map(|view| Health::of(view, vec![])).collect();
        sort_first(&mut top_two, sort, descending, 2);
        let ids = |rows: &[Health<'_>]| rows.iter().map(|row| row.view.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&top_two[..2]),
            ids(&rows[..2]),
            "a page is the sorted estate's"
        );
        rows.iter().map(|row| row.view.id.as_str()).collect()
    }

    #[test]
    fn worst_is_down_now_then_down_minutes_then_loss_then_latency() {
        let views = [
            view("a-fine", "Berlin", &[(Some(0.0), Some(10.0))]),
            view("b-lossy", "Austin", &[(Some(4.0), Some(10.0))]),
            view("c-down-once", "Chicago", &[(None, None), (Some(0.0), Some(10.0))]),
            view("d-down-now", "Denver", &[(Some(0.0), Some(10.0)), (None, None)]),
            view("e-down-long", "Essen", &[(None, None), (None, None)]),
            view("f-slow", "Fargo", &[(Some(0.0), Some(90.0))]),
            view("g-fine-too", "Gent", &[(Some(0.0), Some(10.0))]),
        ];
        assert_eq!(
            order(&views, SortKey::Worst, true),
            [
                "e-down-long",
                "d-down-now",
                "c-down-once",
                "b-lossy",
                "f-slow",
                "a-fine",
                "g-fine-too"
            ]
        );
        assert_eq!(
            order(&views, SortKey::Worst, false)[..2],
            ["a-fine", "g-fine-too"],
            "reversed: the best first, ties still by id"
        );
        assert_eq!(order(&views, SortKey::Network, false)[..2], ["b-lossy", "a-fine"]);
        assert_eq!(order(&views, SortKey::Latency, true)[0], "f-slow");
        let loss = order(&views, SortKey::Loss, true);
        assert_eq!(loss[0], "b-lossy");
        assert_eq!(*loss.last().unwrap(), "e-down-long", "no loss value: last");
    }
}
