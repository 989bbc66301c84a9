//! Parameters of the operations semaphore uses, and Meraki's rules for them (FACTS.md "Timespan and resolution
//! rules", "Pagination").
//!
//! The client checks these rules before it sends anything, so a bad request never reaches Meraki; the
//! simulator enforces the same functions on what it receives, answering 400 as Meraki does.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

const MINUTE: i64 = 60;
const DAY: i64 = 86_400;

/// How far back either loss/latency operation may look (`t0`), in both v1.42.0 and the v1.72.0 SDK: 60 days.
pub const LOSS_LATENCY_MAX_LOOKBACK: TimeDelta = TimeDelta::seconds(60 * DAY);
/// `uplinksLossAndLatency`: at most 5 minutes between t0 and t1, and the default and maximum timespan.
pub const ORG_UPLINKS_MAX_SPAN: TimeDelta = TimeDelta::seconds(5 * MINUTE);
/// `uplinksLossAndLatency`: t1 no later than 2 minutes into the past; data is "from at latest 2 minutes ago".
pub const ORG_UPLINKS_MIN_AGE: TimeDelta = TimeDelta::seconds(2 * MINUTE);
/// `lossAndLatencyHistory`: t1 at most 31 days after t0, timespan at most 31 days (schema maximum 2678400 s).
pub const HISTORY_MAX_SPAN: TimeDelta = TimeDelta::seconds(31 * DAY);
/// `lossAndLatencyHistory`: default timespan 1 day.
pub const HISTORY_DEFAULT_SPAN: TimeDelta = TimeDelta::seconds(DAY);
/// `lossAndLatencyHistory`: the only resolutions Meraki accepts, seconds; default 60.
pub const HISTORY_RESOLUTIONS: [u32; 4] = [60, 600, 3600, 86_400];
/// `networks/{id}/clients`: t0 lookback and timespan maximum 31 days, default timespan 1 day.
pub const CLIENTS_MAX_LOOKBACK: TimeDelta = TimeDelta::seconds(31 * DAY);

/// `perPage` ranges (v1.42.0 spec).
pub const NETWORKS_PER_PAGE: PerPageRange = PerPageRange {
    min: 3,
    max: 100_000,
    default: 1000,
};
pub const DEVICES_PER_PAGE: PerPageRange = PerPageRange {
    min: 3,
    max: 1000,
    default: 1000,
};
pub const UPLINK_STATUSES_PER_PAGE: PerPageRange = PerPageRange {
    min: 3,
    max: 1000,
    default: 1000,
};
pub const CLIENTS_PER_PAGE: PerPageRange = PerPageRange {
    min: 3,
    max: 5000,
    default: 10,
};

/// A parameter that breaks one of Meraki's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleViolation {
    pub parameter: &'static str,
    pub reason: String,
}

impl RuleViolation {
    fn new(parameter: &'static str, reason: impl Into<String>) -> Self {
        Self {
            parameter,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.parameter, self.reason)
    }
}

/// A WAN uplink as the loss/latency operations name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Uplink {
    Wan1,
    Wan2,
    Wan3,
    Cellular,
}

impl Uplink {
    pub const ALL: [Uplink; 4] = [Uplink::Wan1, Uplink::Wan2, Uplink::Wan3, Uplink::Cellular];

    pub fn as_str(self) -> &'static str {
        match self {
            Uplink::Wan1 => "wan1",
            Uplink::Wan2 => "wan2",
            Uplink::Wan3 => "wan3",
            Uplink::Cellular => "cellular",
        }
    }
}

impl FromStr for Uplink {
    type Err = RuleViolation;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Uplink::ALL
            .into_iter()
            .find(|uplink| uplink.as_str() == value)
            .ok_or_else(|| {
                RuleViolation::new(
                    "uplink",
                    format!("{value:?} is not one of wan1, wan2, wan3, cellular"),
                )
            })
    }
}

impl fmt::Display for Uplink {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The allowed and default `perPage` of a paginated operation.
#[derive(Clone, Copy, Debug)]
pub struct PerPageRange {
    pub min: u32,
    pub max: u32,
    pub default: u32,
}

impl PerPageRange {
    pub fn check(self, per_page: Option<u32>) -> Result<u32, RuleViolation> {
        match per_page {
            None => Ok(self.default),
            Some(value) if (self.min..=self.max).contains(&value) => Ok(value),
            Some(value) => Err(RuleViolation::new(
                "perPage",
                format!(
                    "{value} is outside the acceptable range {} - {}",
                    self.min, self.max
                ),
            )),
        }
    }
}

/// A time window as Meraki's loss/latency operations take it: `t0`/`t1`, or a `timespan` ending now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeWindow {
    pub t0: Option<DateTime<Utc>>,
    pub t1: Option<DateTime<Utc>>,
    pub timespan: Option<Duration>,
}

impl TimeWindow {
    /// The window `[t0, t1)`.
    pub fn between(t0: DateTime<Utc>, t1: DateTime<Utc>) -> Self {
        Self {
            t0: Some(t0),
            t1: Some(t1),
            timespan: None,
        }
    }

    /// The `timespan` seconds ending now.
    pub fn last(timespan: Duration) -> Self {
        Self {
            t0: None,
            t1: None,
            timespan: Some(timespan),
        }
    }

    fn timespan_delta(&self) -> Result<Option<TimeDelta>, RuleViolation> {
        if self.timespan.is_some() && (self.t0.is_some() || self.t1.is_some()) {
            return Err(RuleViolation::new(
                "timespan",
                "do not combine timespan with t0 or t1",
            ));
        }
        self.timespan
            .map(|timespan| {
                TimeDelta::from_std(timespan)
                    .ok()
                    .filter(|delta| *delta > TimeDelta::zero())
                    .ok_or_else(|| RuleViolation::new("timespan", "must be a positive number of seconds"))
            })
            .transpose()
    }
}

/// Resolves and checks the window of `getOrganizationDevicesUplinksLossAndLatency`.
pub fn resolve_org_uplinks_window(
    window: &TimeWindow,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), RuleViolation> {
    let (t0, t1) = match (window.timespan_delta()?, window.t0, window.t1) {
        (Some(timespan), _, _) => {
            if timespan > ORG_UPLINKS_MAX_SPAN {
                return Err(RuleViolation::new(
                    "timespan",
                    "must be at most 300 seconds (5 minutes)",
                ));
            }
            (now - timespan, now)
        }
        (None, Some(t0), Some(t1)) => (t0, t1),
        (None, Some(t0), None) => (t0, (t0 + ORG_UPLINKS_MAX_SPAN).min(now)),
        (None, None, Some(t1)) => (t1 - ORG_UPLINKS_MAX_SPAN, t1),
        (None, None, None) => (now - ORG_UPLINKS_MAX_SPAN, now),
    };
    check_lookback("t0", t0, now, LOSS_LATENCY_MAX_LOOKBACK, "60 days")?;
    if window.t1.is_some() && t1 > now - ORG_UPLINKS_MIN_AGE {
        return Err(RuleViolation::new(
            "t1",
            "must be no later than 2 minutes in the past",
        ));
    }
    check_span(t0, t1, ORG_UPLINKS_MAX_SPAN, "5 minutes")?;
    Ok((t0, t1))
}

/// Resolves and checks the window of `getDeviceLossAndLatencyHistory`.
pub fn resolve_history_window(
    window: &TimeWindow,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), RuleViolation> {
    let (t0, t1) = match (window.timespan_delta()?, window.t0, window.t1) {
        (Some(timespan), _, _) => {
            if timespan > HISTORY_MAX_SPAN {
                return Err(RuleViolation::new(
                    "timespan",
                    "must be at most 2678400 seconds (31 days)",
                ));
            }
            (now - timespan, now)
        }
        (None, Some(t0), Some(t1)) => (t0, t1),
        (None, Some(t0), None) => (t0, (t0 + HISTORY_MAX_SPAN).min(now)),
        (None, None, Some(t1)) => (t1 - HISTORY_DEFAULT_SPAN, t1),
        (None, None, None) => (now - HISTORY_DEFAULT_SPAN, now),
    };
    check_lookback("t0", t0, now, LOSS_LATENCY_MAX_LOOKBACK, "60 days")?;
    check_span(t0, t1, HISTORY_MAX_SPAN, "31 days")?;
    Ok((t0, t1))
}

/// Resolves and checks the window of `getNetworkClients`: from `t0` or `now - timespan` (default 1 day) to now.
pub fn resolve_clients_window(
    t0: Option<DateTime<Utc>>,
    timespan: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, RuleViolation> {
    let window = TimeWindow {
        t0,
        t1: None,
        timespan,
    };
    let start = match (window.timespan_delta()?, t0) {
        (Some(timespan), _) if timespan > CLIENTS_MAX_LOOKBACK => {
            return Err(RuleViolation::new("timespan", "must be at most 31 days"));
        }
        (Some(timespan), _) => now - timespan,
        (None, Some(t0)) => t0,
        (None, None) => now - TimeDelta::seconds(DAY),
    };
    check_lookback("t0", start, now, CLIENTS_MAX_LOOKBACK, "31 days")?;
    Ok(start)
}

/// Checks a `resolution` of `getDeviceLossAndLatencyHistory`, defaulting to 60 s.
pub fn check_resolution(resolution: Option<u32>) -> Result<u32, RuleViolation> {
    match resolution {
        None => Ok(HISTORY_RESOLUTIONS[0]),
        Some(value) if HISTORY_RESOLUTIONS.contains(&value) => Ok(value),
        Some(value) => Err(RuleViolation::new(
            "resolution",
            format!("{value} is not one of 60, 600, 3600, 86400"),
        )),
    }
}

fn check_lookback(
    parameter: &'static str,
    t0: DateTime<Utc>,
    now: DateTime<Utc>,
    lookback: TimeDelta,
    lookback_text: &str,
) -> Result<(), RuleViolation> {
    if t0 < now - lookback {
        return Err(RuleViolation::new(
            parameter,
            format!("the maximum lookback period is {lookback_text} from today"),
        ));
    }
    Ok(())
}

fn check_span(
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
    max: TimeDelta,
    max_text: &str,
) -> Result<(), RuleViolation> {
    if t1 <= t0 {
        return Err(RuleViolation::new("t1", "must be after t0"));
    }
    if t1 - t0 > max {
        return Err(RuleViolation::new(
            "t1",
            format!("can be a maximum of {max_text} after t0"),
        ));
    }
    Ok(())
}

/// A timestamp as Meraki accepts it: ISO 8601 (`2024-01-03T12:05:46Z`) or epoch seconds.
pub fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(value) {
        return Some(parsed.with_timezone(&Utc));
    }
    let seconds = value.parse::<f64>().ok().filter(|seconds| seconds.is_finite())?;
    DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
}

/// A timestamp as semaphore sends it: RFC 3339, UTC, `Z`, whole seconds unless the time has a fraction.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Query pairs as sent on the wire; array parameters appear once per value as `name[]`, as Meraki's SDK sends them.
pub type QueryPairs = Vec<(String, String)>;

fn push(pairs: &mut QueryPairs, name: &str, value: impl ToString) {
    pairs.push((name.to_owned(), value.to_string()));
}

fn push_array(pairs: &mut QueryPairs, name: &str, values: &[String]) {
    for value in values {
        pairs.push((format!("{name}[]"), value.clone()));
    }
}

fn push_window(pairs: &mut QueryPairs, window: &TimeWindow) {
    if let Some(t0) = window.t0 {
        push(pairs, "t0", format_time(t0));
    }
    if let Some(t1) = window.t1 {
        push(pairs, "t1", format_time(t1));
    }
    if let Some(timespan) = window.timespan {
        push(pairs, "timespan", timespan.as_secs_f64());
    }
}

/// `getOrganizationNetworks` parameters.
#[derive(Clone, Debug, Default)]
pub struct NetworksQuery {
    pub per_page: Option<u32>,
    pub tags: Vec<String>,
    /// Stop after this many networks; `None` follows every page.
    pub max_items: Option<usize>,
}

impl NetworksQuery {
    pub fn to_pairs(&self) -> Result<QueryPairs, RuleViolation> {
        let mut pairs = QueryPairs::new();
        push(&mut pairs, "perPage", NETWORKS_PER_PAGE.check(self.per_page)?);
        push_array(&mut pairs, "tags", &self.tags);
        Ok(pairs)
    }
}

/// `getOrganizationDevices` parameters.
#[derive(Clone, Debug, Default)]
pub struct DevicesQuery {
    pub per_page: Option<u32>,
    pub network_ids: Vec<String>,
    pub product_types: Vec<String>,
    pub models: Vec<String>,
    pub serials: Vec<String>,
    pub tags: Vec<String>,
    /// Stop after this many devices; `None` follows every page.
    pub max_items: Option<usize>,
}

impl DevicesQuery {
    pub fn to_pairs(&self) -> Result<QueryPairs, RuleViolation> {
        let mut pairs = QueryPairs::new();
        push(&mut pairs, "perPage", DEVICES_PER_PAGE.check(self.per_page)?);
        push_array(&mut pairs, "networkIds", &self.network_ids);
        push_array(&mut pairs, "productTypes", &self.product_types);
        push_array(&mut pairs, "models", &self.models);
        push_array(&mut pairs, "serials", &self.serials);
        push_array(&mut pairs, "tags", &self.tags);
        Ok(pairs)
    }
}

/// `getOrganizationApplianceUplinkStatuses` / `getOrganizationUplinksStatuses` parameters.
#[derive(Clone, Debug, Default)]
pub struct UplinkStatusesQuery {
    pub per_page: Option<u32>,
    pub network_ids: Vec<String>,
    pub serials: Vec<String>,
    /// Stop after this many devices; `None` follows every page.
    pub max_items: Option<usize>,
}

impl UplinkStatusesQuery {
    pub fn to_pairs(&self) -> Result<QueryPairs, RuleViolation> {
        let mut pairs = QueryPairs::new();
        push(
            &mut pairs,
            "perPage",
            UPLINK_STATUSES_PER_PAGE.check(self.per_page)?,
        );
        push_array(&mut pairs, "networkIds", &self.network_ids);
        push_array(&mut pairs, "serials", &self.serials);
        Ok(pairs)
    }
}

/// `getOrganizationDevicesUplinksLossAndLatency` parameters.
#[derive(Clone, Debug, Default)]
pub struct UplinksLossAndLatencyQuery {
    pub window: TimeWindow,
    /// Only this uplink; all uplinks when `None`.
    pub uplink: Option<Uplink>,
    /// Only this destination IP; all destinations when `None`.
    pub ip: Option<String>,
}

impl UplinksLossAndLatencyQuery {
    pub fn to_pairs(&self, now: DateTime<Utc>) -> Result<QueryPairs, RuleViolation> {
        resolve_org_uplinks_window(&self.window, now)?;
        let mut pairs = QueryPairs::new();
        push_window(&mut pairs, &self.window);
        if let Some(uplink) = self.uplink {
            push(&mut pairs, "uplink", uplink);
        }
        if let Some(ip) = &self.ip {
            push(&mut pairs, "ip", ip);
        }
        Ok(pairs)
    }
}

/// `getDeviceLossAndLatencyHistory` parameters; `ip` (the destination) is required by Meraki.
#[derive(Clone, Debug)]
pub struct HistoryQuery {
    pub ip: String,
    pub window: TimeWindow,
    /// 60, 600, 3600 or 86400 seconds; Meraki's default is 60.
    pub resolution: Option<u32>,
    /// Meraki's default is wan1.
    pub uplink: Option<Uplink>,
}

impl HistoryQuery {
    pub fn new(ip: impl Into<String>) -> Self {
        Self {
            ip: ip.into(),
            window: TimeWindow::default(),
            resolution: None,
            uplink: None,
        }
    }

    pub fn to_pairs(&self, now: DateTime<Utc>) -> Result<QueryPairs, RuleViolation> {
        if self.ip.trim().is_empty() {
            return Err(RuleViolation::new("ip", "the destination IP is required"));
        }
        resolve_history_window(&self.window, now)?;
        let mut pairs = QueryPairs::new();
        push(&mut pairs, "ip", &self.ip);
        push_window(&mut pairs, &self.window);
        if let Some(resolution) = self.resolution {
            push(&mut pairs, "resolution", check_resolution(Some(resolution))?);
        }
        if let Some(uplink) = self.uplink {
            push(&mut pairs, "uplink", uplink);
        }
        Ok(pairs)
    }
}

/// `getNetworkClients` parameters.
#[derive(Clone, Debug, Default)]
pub struct ClientsQuery {
    pub t0: Option<DateTime<Utc>>,
    /// At most 31 days; Meraki's default is 1 day.
    pub timespan: Option<Duration>,
    /// 3 - 5000; Meraki's default is only 10, so set it to cut the number of calls.
    pub per_page: Option<u32>,
    /// Stop after this many clients; `None` follows every page.
    pub max_items: Option<usize>,
}

impl ClientsQuery {
    pub fn to_pairs(&self, now: DateTime<Utc>) -> Result<QueryPairs, RuleViolation> {
        resolve_clients_window(self.t0, self.timespan, now)?;
        let mut pairs = QueryPairs::new();
        push(&mut pairs, "perPage", CLIENTS_PER_PAGE.check(self.per_page)?);
        if let Some(t0) = self.t0 {
            push(&mut pairs, "t0", format_time(t0));
        }
        if let Some(timespan) = self.timespan {
            push(&mut pairs, "timespan", timespan.as_secs_f64());
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }
    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }
    fn parameter(result: Result<(DateTime<Utc>, DateTime<Utc>), RuleViolation>) -> &'static str {
        result.unwrap_err().parameter
    }

    #[test]
    fn org_uplinks_rules() {
        let ok = resolve_org_uplinks_window(
            &TimeWindow::between(at("2026-11-27T11:50:00Z"), at("2026-11-27T11:55:00Z")),
            now(),
        );
        assert_eq!(
            ok.unwrap(),
            (at("2026-11-27T11:50:00Z"), at("2026-11-27T11:55:00Z"))
        );
        // More than 5 minutes between t0 and t1.
        let wide = TimeWindow::between(at("2026-11-27T11:40:00Z"), at("2026-11-27T11:50:00Z"));
        assert_eq!(parameter(resolve_org_uplinks_window(&wide, now())), "t1");
        // t1 less than 2 minutes ago.
        let fresh = TimeWindow::between(at("2026-11-27T11:55:00Z"), at("2026-11-27T11:59:00Z"));
        assert_eq!(parameter(resolve_org_uplinks_window(&fresh, now())), "t1");
        // Lookback beyond 60 days.
        let old = TimeWindow::between(at("2026-09-27T11:00:00Z"), at("2026-09-27T11:05:00Z"));
        assert_eq!(parameter(resolve_org_uplinks_window(&old, now())), "t0");
        assert_eq!(
            parameter(resolve_org_uplinks_window(
                &TimeWindow::last(Duration::from_secs(301)),
                now()
            )),
            "timespan"
        );
        let mixed = TimeWindow {
            t0: Some(at("2026-11-27T11:50:00Z")),
            t1: None,
            timespan: Some(Duration::from_secs(60)),
        };
        assert_eq!(parameter(resolve_org_uplinks_window(&mixed, now())), "timespan");
        // Defaults: the last 5 minutes.
        assert_eq!(
            resolve_org_uplinks_window(&TimeWindow::default(), now())
                .unwrap()
                .0,
            at("2026-11-27T11:55:00Z")
        );
    }

    #[test]
    fn history_rules() {
        let month = TimeWindow::between(at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z"));
        assert!(resolve_history_window(&month, now()).is_ok());
        let too_long = TimeWindow::between(at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:01Z"));
        assert_eq!(parameter(resolve_history_window(&too_long, now())), "t1");
        assert_eq!(
            parameter(resolve_history_window(
                &TimeWindow::last(Duration::from_secs(2_678_401)),
                now()
            )),
            "timespan"
        );
        assert_eq!(
            resolve_history_window(&TimeWindow::default(), now()).unwrap().0,
            at("2026-11-26T12:00:00Z")
        );
        assert_eq!(check_resolution(None), Ok(60));
        assert_eq!(check_resolution(Some(600)), Ok(600));
        assert_eq!(check_resolution(Some(300)).unwrap_err().parameter, "resolution");
    }

    #[test]
    fn clients_rules() {
        assert_eq!(
            resolve_clients_window(None, None, now()).unwrap(),
            at("2026-11-26T12:00:00Z")
        );
        assert!(resolve_clients_window(Some(at("2026-10-01T00:00:00Z")), None, now()).is_err());
        assert!(resolve_clients_window(None, Some(Duration::from_secs(32 * 86_400)), now()).is_err());
        assert_eq!(CLIENTS_PER_PAGE.check(None), Ok(10));
        assert_eq!(CLIENTS_PER_PAGE.check(Some(2)).unwrap_err().parameter, "perPage");
        assert_eq!(
            DEVICES_PER_PAGE.check(Some(1001)).unwrap_err().reason,
            "1001 is outside the acceptable range 3 - 1000"
        );
    }

    #[test]
    fn array_parameters_use_brackets() {
        let query = DevicesQuery {
            network_ids: vec!["N_1".into(), "N_2".into()],
            ..Default::default()
        };
        let pairs = query.to_pairs().unwrap();
        assert_eq!(pairs[0], ("perPage".to_owned(), "1000".to_owned()));
        assert_eq!(
            pairs[1..],
            [
                ("networkIds[]".to_owned(), "N_1".to_owned()),
                ("networkIds[]".to_owned(), "N_2".to_owned())
            ]
        );
        let history = HistoryQuery::new(" ");
        assert_eq!(history.to_pairs(now()).unwrap_err().parameter, "ip");
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(
            parse_time("2019-01-31T18:46:13Z"),
            Some(at("2019-01-31T18:46:13Z"))
        );
        assert_eq!(parse_time("1548960373"), Some(at("2019-01-31T18:46:13Z")));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(format_time(at("2019-01-31T18:46:13Z")), "2019-01-31T18:46:13Z");
        assert_eq!("wan2".parse::<Uplink>(), Ok(Uplink::Wan2));
        assert!("wan9".parse::<Uplink>().is_err());
    }
}
