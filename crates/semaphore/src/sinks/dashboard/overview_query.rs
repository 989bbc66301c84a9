//! `/api/overview`'s parameters: what the page shows (filter words, a network or an uplink), in which order,
//! and which page of rows. A bad value is refused with a message naming the valid ones.

use serde::Deserialize;

/// Rows in a page unless the page asks for another number.
pub(super) const DEFAULT_LIMIT: usize = 50;
/// Most rows in a page: the browser never holds more than a few hundred rows.
pub(super) const MAX_LIMIT: usize = 500;

/// The parameters as the URL has them; every one optional.
#[derive(Debug, Default, Deserialize)]
pub(super) struct OverviewParams {
    q: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    network: Option<String>,
    uplink: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SortKey {
    Worst,
    Down,
    Loss,
    Latency,
    Jitter,
    Organization,
    Network,
    Device,
    Uplink,
}

impl SortKey {
    const NAMES: [(&'static str, SortKey); 9] = [
        ("worst", SortKey::Worst),
        ("down", SortKey::Down),
        ("loss", SortKey::Loss),
        ("latency", SortKey::Latency),
        ("jitter", SortKey::Jitter),
        ("organization", SortKey::Organization),
        ("network", SortKey::Network),
        ("device", SortKey::Device),
        ("uplink", SortKey::Uplink),
    ];

    /// Measures put the highest first, names the first in the alphabet.
    pub fn naturally_descending(self) -> bool {
        matches!(
            self,
            SortKey::Worst | SortKey::Down | SortKey::Loss | SortKey::Latency | SortKey::Jitter
        )
    }
}

/// What the page asked for, checked.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct OverviewQuery {
    /// Lower-cased words, every one of which an uplink's names must contain.
    pub words: Vec<String>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: usize,
    pub offset: usize,
    pub network: Option<String>,
    pub uplink: Option<String>,
}

impl OverviewParams {
    pub fn check(self) -> Result<OverviewQuery, String> {
        let sort = match self.sort.as_deref().filter(|sort| !sort.is_empty()) {
            None => SortKey::Worst,
            Some(name) => SortKey::NAMES
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, key)| *key)
                .ok_or_else(|| format!("unknown sort {name:?}: use one of {}", sort_names()))?,
        };
        let descending = match self.order.as_deref().filter(|order| !order.is_empty()) {
            None => sort.naturally_descending(),
            Some("desc") => true,
            Some("asc") => false,
            Some(other) => return Err(format!("unknown order {other:?}: use asc or desc")),
        };
        let limit = count("limit", self.limit.as_deref(), DEFAULT_LIMIT)?.min(MAX_LIMIT);
        Ok(OverviewQuery {
            words: self
                .q
                .unwrap_or_default()
                .to_lowercase()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            sort,
            descending,
            limit,
            offset: count("offset", self.offset.as_deref(), 0)?,
            network: self.network.filter(|network| !network.is_empty()),
            uplink: self.uplink.filter(|uplink| !uplink.is_empty()),
        })
    }
}

fn sort_names() -> String {
    SortKey::NAMES
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn count(name: &str, value: Option<&str>, default: usize) -> Result<usize, String> {
    match value.filter(|value| !value.is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| format!("{name} {text:?} is not a count: use a whole number such as {default}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> OverviewParams {
        let query: String = pairs
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        let uri: axum::http::Uri = format!("/api/overview?{query}").parse().unwrap();
        axum::extract::Query::<OverviewParams>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    #[test]
    fn defaults_are_the_worst_fifty() {
        let query = params(&[]).check().unwrap();
        assert_eq!(query.sort, SortKey::Worst);
        assert!(query.descending);
        assert_eq!((query.limit, query.offset), (DEFAULT_LIMIT, 0));
        assert!(query.words.is_empty() && query.network.is_none() && query.uplink.is_none());
    }

    #[test]
    fn words_sort_order_and_page_are_read() {
        let query = params(&[
            ("q", "Madrid%20%20WAN2"),
            ("sort", "network"),
            ("limit", "9999"),
            ("offset", "50"),
        ])
        .check()
        .unwrap();
        assert_eq!(query.words, vec!["madrid", "wan2"]);
        assert_eq!(query.sort, SortKey::Network);
        assert!(!query.descending, "names go up");
        assert_eq!((query.limit, query.offset), (MAX_LIMIT, 50));
        let reversed = params(&[("sort", "loss"), ("order", "asc")]).check().unwrap();
        assert!(!reversed.descending);
    }

    #[test]
    fn bad_values_name_the_valid_ones() {
        let error = params(&[("sort", "speed")]).check().unwrap_err();
        assert!(
            error.contains("\"speed\"") && error.contains("worst, down, loss"),
            "{error}"
        );
        let error = params(&[("order", "up")]).check().unwrap_err();
        assert!(error.contains("asc or desc"), "{error}");
        let error = params(&[("limit", "-1")]).check().unwrap_err();
        assert!(error.contains("limit \"-1\""), "{error}");
    }
}
