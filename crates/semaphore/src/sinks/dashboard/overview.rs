//! `/api/overview`: what the page shows, computed where the data is. Counts of the estate and of what matches
//! the filter, one page of rows in the asked order with a sparkline each, the full cards when few uplinks
//! match, and the alerts grouped by rule. At 10,000 uplinks the answer is tens of kilobytes, not megabytes.

use std::collections::HashMap;

use serde::Serialize;

use super::alert_groups::{AlertGroup, alert_groups};
use super::overview_query::OverviewQuery;
use super::row_order::sort_first;
use super::shown::{Point, Shown, UplinkView, alerted_uplink};
use super::uplink_health::{Health, State, spark};
use crate::record::AlertStatus;

/// Matching uplinks drawn in full (two charts each) rather than only as rows: a small estate, one network or
/// one device.
pub(super) const CARDS_LIMIT: usize = 24;

#[derive(Debug, Default, Serialize)]
struct Counts {
    down: usize,
    degraded: usize,
    healthy: usize,
}

impl Counts {
    fn of<'a>(rows: impl Iterator<Item = &'a Health<'a>>) -> Self {
        let mut counts = Counts::default();
        for row in rows {
            match row.state {
                State::Down => counts.down += 1,
                State::Degraded => counts.degraded += 1,
                State::Healthy => counts.healthy += 1,
            }
        }
        counts
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Totals {
    uplinks: usize,
    #[serde(flatten)]
    counts: Counts,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Matching {
    matching: usize,
    #[serde(flatten)]
    counts: Counts,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row<'a> {
    id: &'a str,
    organization_id: &'a str,
    network_id: &'a str,
    network_name: Option<&'a str>,
    serial: &'a str,
    device_name: Option<&'a str>,
    model: Option<&'a str>,
    tags: &'a [String],
    uplink: &'a str,
    ip: &'a str,
    state: State,
    last: Option<&'a Point>,
    samples: usize,
    down_samples: usize,
    loss_avg: Option<f64>,
    latency_avg: Option<f64>,
    jitter_avg: Option<f64>,
    alerts: &'a [&'a str],
    spark: Vec<(i64, Option<f64>, Option<f64>)>,
}

impl<'a> Row<'a> {
    fn of(health: &'a Health<'a>) -> Self {
        let view = health.view;
        Row {
            id: &view.id,
            organization_id: &view.organization_id,
            network_id: &view.network_id,
            network_name: view.network_name.as_deref(),
            serial: &view.serial,
            device_name: view.device_name.as_deref(),
            model: view.model.as_deref(),
            tags: &view.tags,
            uplink: &view.uplink,
            ip: &view.ip,
            state: health.state,
            last: health.last,
            samples: view.points.len(),
            down_samples: health.down_samples,
            loss_avg: health.loss_avg,
            latency_avg: health.latency_avg,
            jitter_avg: health.jitter_avg,
            alerts: &health.alerts,
            spark: spark(&view.points),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Overview<'a> {
    records: u64,
    history_seconds: u64,
    now: i64,
    totals: Totals,
    counts: Matching,
    rows: Vec<Row<'a>>,
    cards: Vec<&'a UplinkView>,
    cards_limit: usize,
    alert_groups: Vec<AlertGroup<'a>>,
    alerts_firing: usize,
    log_alerts_firing: usize,
}

/// What the page asked for, from what `shown` holds. `records`, `history_seconds` and `now` are passed
/// through for the page's header and sparklines.
pub(super) fn overview(
    shown: &Shown,
    query: &OverviewQuery,
    records: u64,
    history_seconds: u64,
    now: i64,
) -> String {
    let firing = firing_rules(shown);
    let health: Vec<Health<'_>> = shown
        .uplinks
        .values()
        .map(|view| Health::of(view, firing.get(view.id.as_str()).cloned().unwrap_or_default()))
        .collect();
    let totals = Totals {
        uplinks: health.len(),
        counts: Counts::of(health.iter()),
    };
    let mut matching: Vec<Health<'_>> = health
        .into_iter()
        .filter(|row| matches(row.view, query))
        .collect();
    let counts = Matching {
        matching: matching.len(),
        counts: Counts::of(matching.iter()),
    };
    let through = query.offset.saturating_add(query.limit);
    sort_first(&mut matching, query.sort, query.descending, through);
    let page = matching.iter().skip(query.offset).take(query.limit);
    let answer = Overview {
        records,
        history_seconds,
        now,
        totals,
        rows: page.map(Row::of).collect(),
        cards: cards(&matching),
        counts,
        cards_limit: CARDS_LIMIT,
        alert_groups: alert_groups(shown),
        alerts_firing: shown.alerts.len(),
        log_alerts_firing: shown
            .log_alerts
            .values()
            .filter(|event| event.status == AlertStatus::Firing)
            .count(),
    };
    // Serialized here: the rows borrow `matching`, which lives only as long as this call.
    serde_json::to_string(&answer).expect("plain data")
}

/// The rules of the uplink alerts firing, by uplink id.
fn firing_rules(shown: &Shown) -> HashMap<String, Vec<&str>> {
    let mut rules: HashMap<String, Vec<&str>> = HashMap::new();
    for event in shown.alerts.values() {
        rules.entry(alerted_uplink(event)).or_default().push(&event.rule);
    }
    rules
}

fn matches(view: &UplinkView, query: &OverviewQuery) -> bool {
    query
        .network
        .as_ref()
        .is_none_or(|network| *network == view.network_id)
        && query.uplink.as_ref().is_none_or(|uplink| *uplink == view.id)
        && query
            .words
            .iter()
            .all(|word| view.haystack.contains(word.as_str()))
}

/// Every matching uplink in full when they are few, grouped as the page draws them; none otherwise.
fn cards<'a>(matching: &[Health<'a>]) -> Vec<&'a UplinkView> {
    if matching.len() > CARDS_LIMIT {
        return Vec::new();
    }
    let mut views: Vec<&UplinkView> = matching.iter().map(|row| row.view).collect();
    views.sort_by(|left, right| {
        (&left.organization_id, left.network(), &left.id).cmp(&(
            &right.organization_id,
            right.network(),
            &right.id,
        ))
    });
    views
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::record::UplinkRecord;
    use crate::sinks::dashboard::overview_query::OverviewParams;

    fn sample(serial: &str, network: &str, minute: i64, loss: Option<f64>) -> UplinkRecord {
        serde_json::from_value(json!({
            "organizationId": "1", "networkId": format!("N_{network}"), "networkName": network,
            "serial": serial, "deviceName": format!("{network} MX1"), "model": "MX68", "tags": ["spoke"],
            "uplink": "wan1", "ip": "8.8.8.8",
            "ts": chrono::DateTime::from_timestamp(1_796_292_000 + minute * 60, 0),
            "lossPercent": loss, "latencyMs": loss.map(|_| 20.0), "jitter": null, "goodput": null,
            "activeDdnsHostname": null, "ddnsHostnameWan1": null, "ddnsHostnameWan2": null
        }))
        .unwrap()
    }

    fn estate(uplinks: usize) -> Shown {
        let mut shown = Shown::default();
        for index in 0..uplinks {
            let serial = format!("Q2AA-0000-{index:04}");
            let network = format!("Madrid Branch {}", index / 2 + 1);
            for minute in 0..60 {
                let down = index == 7 && minute >= 50;
                let loss = if down { None } else { Some((index % 3) as f64) };
                shown.apply_sample(&sample(&serial, &network, minute, loss), 0);
            }
        }
        shown
    }

    fn ask(shown: &Shown, query: &str) -> Value {
        let uri: axum::http::Uri = format!("/api/overview?{query}").parse().unwrap();
        let params = axum::extract::Query::<OverviewParams>::try_from_uri(&uri)
            .unwrap()
            .0;
        let answer = overview(shown, &params.check().unwrap(), 0, 3600, 1_796_295_600);
        serde_json::from_str(&answer).unwrap()
    }

    #[test]
    fn a_large_estate_answers_one_page_worst_first_without_cards() {
        let shown = estate(200);
        let answer = ask(&shown, "");
        assert_eq!(answer["totals"]["uplinks"], 200);
        assert_eq!(answer["totals"]["down"], 1);
        assert_eq!(answer["counts"]["matching"], 200);
        let rows = answer["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 50);
        assert_eq!(rows[0]["serial"], "Q2AA-0000-0007", "the down one first");
        assert_eq!(rows[0]["state"], "down");
        assert_eq!(rows[0]["downSamples"], 10);
        assert_eq!(rows[1]["lossAvg"], 2.0, "then the lossiest");
        assert_eq!(rows[0]["spark"].as_array().unwrap().len(), 60);
        assert_eq!(answer["cards"], json!([]), "too many for cards");
        let next = ask(&shown, "offset=50&limit=10");
        assert_eq!(next["rows"].as_array().unwrap().len(), 10);
        assert_ne!(next["rows"][0]["id"], rows[49]["id"], "pages do not overlap");
    }

    #[test]
    fn filtering_narrows_to_a_device_and_draws_its_cards() {
        let shown = estate(200);
        let answer = ask(&shown, "q=q2aa-0000-0042");
        assert_eq!(answer["counts"]["matching"], 1);
        assert_eq!(answer["rows"][0]["serial"], "Q2AA-0000-0042");
        assert_eq!(answer["cards"][0]["points"].as_array().unwrap().len(), 60);
        assert_eq!(answer["totals"]["uplinks"], 200, "the estate's counts stay");
        let network = ask(&shown, "network=N_Madrid%20Branch%203");
        assert_eq!(network["counts"]["matching"], 2);
        let words = ask(&shown, "q=SPOKE%20madrid%20100");
        let mut serials: Vec<&str> = words["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["serial"].as_str().unwrap())
            .collect();
        serials.sort_unstable();
        // Branch 100's two appliances, and the one whose serial holds "100": every word, any field, any case.
        assert_eq!(serials, ["Q2AA-0000-0100", "Q2AA-0000-0198", "Q2AA-0000-0199"]);
        let one = ask(&shown, "uplink=Q2AA-0000-0003/wan1/8.8.8.8");
        assert_eq!(one["rows"].as_array().unwrap().len(), 1);
    }
}
