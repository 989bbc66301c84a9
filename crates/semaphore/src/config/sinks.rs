//! Validating `[sinks]`: every value checked, errors naming the key (`sinks.influxdb[0].endpoint`). Pure:
//! environment variables a sink names (tokens) are read when the pipeline starts, not here.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use crate::bus::group_reader::ReadStart;
use crate::config::file::{AlertWebhookFile, SinksSection};
use crate::config::{UPLINKS_TOPIC, topic};
use crate::sinks::alert_rules::{AlertMetric, AlertRule, AlertWindow};
use crate::sinks::dashboard::DashboardSettings;
use crate::sinks::influxdb::{InfluxApi, InfluxSettings};
use crate::sinks::prometheus::PrometheusSettings;
use crate::sinks::runner::SinkReading;
use crate::sinks::webhook::WebhookSettings;

pub const ALERTS_TOPIC: &str = "semaphore.alerts";
pub const DEAD_LETTER_TOPIC: &str = "semaphore.dead_letter";

/// A validated sink: how it reads, and what it is.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    pub id: String,
    pub reading: SinkReading,
    pub kind: SinkKind,
}

#[derive(Clone, Debug)]
pub enum SinkKind {
    InfluxDb(InfluxSettings),
    Prometheus(PrometheusSettings),
    Webhook(WebhookSettings),
    Alerts {
        rules: Vec<AlertRule>,
        topic: String,
        webhook: Option<WebhookSettings>,
    },
    Dashboard(DashboardSettings),
}

impl SinkKind {
    /// The kind as the config names it (`[[sinks.KIND]]`).
    pub fn table(&self) -> &'static str {
        match self {
            SinkKind::InfluxDb(_) => "influxdb",
            SinkKind::Prometheus(_) => "prometheus",
            SinkKind::Webhook(_) => "webhook",
            SinkKind::Alerts { .. } => "alerts",
            SinkKind::Dashboard(_) => "dashboard",
        }
    }

    /// The sink in a few words, for `check -c`.
    pub fn describe(&self) -> String {
        match self {
            SinkKind::InfluxDb(settings) => format!(
                "InfluxDB {}, measurement {}",
                settings.endpoint, settings.measurement
            ),
            SinkKind::Prometheus(settings) => {
                format!("Prometheus exporter on http://{}/metrics", settings.listen)
            }
            SinkKind::Webhook(settings) => format!("webhook POST {}", settings.url),
            SinkKind::Alerts { rules, topic, .. } => format!("{} alert rules -> {topic}", rules.len()),
            SinkKind::Dashboard(settings) => format!("dashboard on http://{}/", settings.listen),
        }
    }
}

/// `(key, reason)`, the key relative to `sinks.`.
type Invalid = (String, String);

/// The read settings every sink has.
struct Common<'a> {
    id: &'a Option<String>,
    topics: &'a Option<Vec<String>>,
    group: &'a Option<String>,
    start: &'a Option<String>,
    batch_size: Option<usize>,
    dead_letter_topic: &'a Option<String>,
}

/// The read settings of a `[[sinks.KIND]]` table: every kind has the same keys.
macro_rules! common_of {
    ($file:expr) => {
        Common {
            id: &$file.id,
            topics: &$file.topics,
            group: &$file.group,
            start: &$file.start,
            batch_size: $file.batch_size,
            dead_letter_topic: &$file.dead_letter_topic,
        }
    };
}

pub fn validate_sinks(section: &SinksSection) -> Result<Vec<SinkConfig>, Invalid> {
    let mut ids = BTreeSet::new();
    let mut sinks = Vec::new();
    let mut common =
        |kind: &str, index: usize, common: Common<'_>, default_batch: usize, default_topics: &[&str]| {
            let at = |key: &str| format!("sinks.{kind}[{index}].{key}");
            let id = common.id.clone().unwrap_or_else(|| {
                if index == 0 {
                    kind.to_owned()
                } else {
                    format!("{kind}_{}", index + 1)
                }
            });
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                return Err((at("id"), format!("{id:?}: use letters, digits, '_', '-' or '.'")));
            }
            if !ids.insert(id.clone()) {
                return Err((at("id"), format!("{id:?} is used by two sinks")));
            }
            let topics: Vec<String> = match common.topics {
                None => default_topics.iter().map(|topic| (*topic).to_owned()).collect(),
                // `topics = []` reads as "no topics", yet would read the defaults.
                Some(topics) if topics.is_empty() => {
                    return Err((
                        at("topics"),
                        format!(
                            "an empty list would mean the default ({}); remove the key for the default",
                            default_topics.join(", ")
                        ),
                    ));
                }
                Some(topics) => topics.clone(),
            };
            for name in &topics {
                topic(at("topics"), &Some(name.clone()), "")?;
            }
            let start = match common.start.as_deref() {
                None | Some("earliest") => ReadStart::GroupFromEarliest,
                Some("latest") => ReadStart::GroupFromLatest,
                Some(other) => return Err((at("start"), format!("{other:?}: use earliest or latest"))),
            };
            let batch_size = common.batch_size.unwrap_or(default_batch);
            if !(1..=100_000).contains(&batch_size) {
                return Err((at("batch_size"), "must be between 1 and 100000".into()));
            }
            let dead_letter_topic = topic(
                at("dead_letter_topic"),
                common.dead_letter_topic,
                DEAD_LETTER_TOPIC,
            )?;
            Ok((
                id.clone(),
                SinkReading {
                    group: common.group.clone().unwrap_or_else(|| format!("semaphore-{id}")),
                    topics,
                    start,
                    batch_size,
                    linger: Duration::from_millis(100),
                    dead_letter_topic,
                },
            ))
        };

    for (index, file) in section.influxdb.iter().enumerate() {
        let at = |key: &str| format!("sinks.influxdb[{index}].{key}");
        let (id, reading) = common("influxdb", index, common_of!(file), 1000, &[UPLINKS_TOPIC])?;
        let endpoint = http_url(&file.endpoint).map_err(|reason| (at("endpoint"), reason))?;
        let api = match (&file.database, &file.org, &file.bucket) {
            (Some(database), None, None) => InfluxApi::V1 {
                database: database.clone(),
                retention_policy: file.retention_policy.clone(),
            },
            (None, Some(org), Some(bucket)) => InfluxApi::V2 {
                org: org.clone(),
                bucket: bucket.clone(),
            },
            _ => {
                return Err((
                    at("database"),
                    "set database (InfluxDB 1.x) or org and bucket (InfluxDB 2.x), not both".into(),
                ));
            }
        };
        if file.retention_policy.is_some() && matches!(api, InfluxApi::V2 { .. }) {
            return Err((
                at("retention_policy"),
                "is for InfluxDB 1.x (with database)".into(),
            ));
        }
        sinks.push(SinkConfig {
            id,
            reading,
            kind: SinkKind::InfluxDb(InfluxSettings {
                endpoint,
                api,
                measurement: non_empty(at("measurement"), &file.measurement, "meraki_uplink")?,
                timeout: seconds(at("timeout_s"), file.timeout_s, 10)?,
            }),
        });
    }

    for (index, file) in section.prometheus.iter().enumerate() {
        let at = |key: &str| format!("sinks.prometheus[{index}].{key}");
        let (id, reading) = common("prometheus", index, common_of!(file), 1000, &[UPLINKS_TOPIC])?;
        let max_series = file.max_series.unwrap_or(100_000);
        if max_series == 0 {
            return Err((at("max_series"), "must be at least 1".into()));
        }
        sinks.push(SinkConfig {
            id,
            reading,
            kind: SinkKind::Prometheus(PrometheusSettings {
                listen: listen(at("listen"), &file.listen, "127.0.0.1:9273")?,
                expire_after: seconds(at("expire_after_s"), file.expire_after_s, 600)?,
                max_series,
            }),
        });
    }

    for (index, file) in section.webhook.iter().enumerate() {
        let at = |key: &str| format!("sinks.webhook[{index}].{key}");
        let (id, reading) = common("webhook", index, common_of!(file), 1, &[UPLINKS_TOPIC])?;
        let target = AlertWebhookFile {
            url: file.url.clone(),
            headers: file.headers.clone(),
            token_env: file.token_env.clone(),
            max_attempts: file.max_attempts,
            timeout_s: file.timeout_s,
        };
        sinks.push(SinkConfig {
            id,
            reading,
            kind: SinkKind::Webhook(webhook(&at, &target)?),
        });
    }

    for (index, file) in section.alerts.iter().enumerate() {
        let at = |key: &str| format!("sinks.alerts[{index}].{key}");
        let (id, reading) = common("alerts", index, common_of!(file), 1000, &[UPLINKS_TOPIC])?;
        if file.rule.is_empty() {
            return Err((at("rule"), "add at least one [[sinks.alerts.rule]]".into()));
        }
        let mut names = BTreeSet::new();
        let mut rules = Vec::new();
        for (rule_index, rule) in file.rule.iter().enumerate() {
            let at = |key: &str| format!("sinks.alerts[{index}].rule[{rule_index}].{key}");
            if rule.name.is_empty() || rule.name.contains('/') {
                return Err((at("name"), "must be non-empty and without '/'".into()));
            }
            if !names.insert(rule.name.clone()) {
                return Err((at("name"), format!("{:?} is used by two rules", rule.name)));
            }
            let metric = AlertMetric::parse(&rule.metric).map_err(|reason| (at("metric"), reason))?;
            let above = match (metric, rule.above) {
                (_, Some(above)) if above.is_finite() => above,
                (AlertMetric::Down, None) => 0.0,
                (_, Some(_)) => return Err((at("above"), "must be a finite number".into())),
                (_, None) => return Err((at("above"), "the threshold is required".into())),
            };
            let window = match (rule.for_samples, rule.average_over_s) {
                (Some(count), None) if count >= 1 => AlertWindow::Consecutive(count),
                (None, Some(span)) if span >= 60 => AlertWindow::AverageOver(Duration::from_secs(span)),
                (None, None) => AlertWindow::Consecutive(1),
                (Some(_), Some(_)) => {
                    return Err((
                        at("for_samples"),
                        "set for_samples or average_over_s, not both".into(),
                    ));
                }
                (Some(_), None) => return Err((at("for_samples"), "must be at least 1".into())),
                (None, Some(_)) => {
                    return Err((
                        at("average_over_s"),
                        "must be at least 60 (Meraki samples once a minute)".into(),
                    ));
                }
            };
            rules.push(AlertRule {
                name: rule.name.clone(),
                metric,
                above,
                window,
            });
        }
        let webhook = match &file.webhook {
            Some(target) => Some(webhook(&|key: &str| at(&format!("webhook.{key}")), target)?),
            None => None,
        };
        let alerts_topic = topic(at("alerts_topic"), &file.alerts_topic, ALERTS_TOPIC)?;
        if reading.topics.contains(&alerts_topic) {
            return Err((
                at("alerts_topic"),
                "must not be one of the topics the sink reads".into(),
            ));
        }
        sinks.push(SinkConfig {
            id,
            reading,
            kind: SinkKind::Alerts {
                rules,
                topic: alerts_topic,
                webhook,
            },
        });
    }

    if let Some(file) = &section.dashboard {
        let at = |key: &str| format!("sinks.dashboard.{key}");
        let history = seconds(at("history_s"), file.history_s, 3600)?;
        let (id, mut reading) = common(
            "dashboard",
            0,
            Common {
                id: &None,
                topics: &file.topics,
                group: &None,
                start: &None,
                batch_size: Some(1000),
                dead_letter_topic: &file.dead_letter_topic,
            },
            1000,
            &[UPLINKS_TOPIC, ALERTS_TOPIC],
        )
        .map_err(|(key, reason)| (key.replace("sinks.dashboard[0]", "sinks.dashboard"), reason))?;
        // A view: each start shows the history again, from that time, not from committed offsets.
        reading.start = ReadStart::Recent(history);
        // Records show as they arrive; a batch is what arrived together.
        reading.linger = Duration::from_millis(5);
        sinks.push(SinkConfig {
            id,
            reading,
            kind: SinkKind::Dashboard(DashboardSettings {
                listen: listen(at("listen"), &file.listen, "127.0.0.1:9470")?,
                history,
            }),
        });
    }
    Ok(sinks)
}

fn webhook(at: &dyn Fn(&str) -> String, target: &AlertWebhookFile) -> Result<WebhookSettings, Invalid> {
    for (name, value) in &target.headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(value).is_err()
        {
            return Err((
                at("headers"),
                format!("{name:?} is not a valid HTTP header name and value"),
            ));
        }
        if name.eq_ignore_ascii_case("authorization") {
            return Err((
                at("headers"),
                "put the token in an environment variable and name it in token_env, not in the file".into(),
            ));
        }
    }
    if let Some(variable) = &target.token_env
        && variable.is_empty()
    {
        return Err((at("token_env"), "name an environment variable".into()));
    }
    let max_attempts = target.max_attempts.unwrap_or(5);
    if max_attempts == 0 {
        return Err((at("max_attempts"), "must be at least 1".into()));
    }
    Ok(WebhookSettings {
        url: http_url(&target.url).map_err(|reason| (at("url"), reason))?,
        headers: target.headers.clone(),
        token_env: target.token_env.clone(),
        max_attempts,
        timeout: seconds(at("timeout_s"), target.timeout_s, 10)?,
    })
}

fn http_url(text: &str) -> Result<url::Url, String> {
    let url: url::Url = text
        .parse()
        .map_err(|error| format!("{text:?} is not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{text:?}: use http://HOST:PORT or https://…"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials do not belong in the URL: use the environment variables the docs name".into(),
        );
    }
    Ok(url)
}

fn listen(key: String, value: &Option<String>, default: &str) -> Result<SocketAddr, Invalid> {
    let text = value.as_deref().unwrap_or(default);
    text.parse()
        .map_err(|_| (key, format!("{text:?} is not IP:PORT (default {default})")))
}

fn seconds(key: String, value: Option<u64>, default: u64) -> Result<Duration, Invalid> {
    match value.unwrap_or(default) {
        0 => Err((key, "must be at least 1 second".into())),
        value => Ok(Duration::from_secs(value)),
    }
}

fn non_empty(key: String, value: &Option<String>, default: &str) -> Result<String, Invalid> {
    match value.as_deref().unwrap_or(default) {
        "" => Err((key, "must not be empty".into())),
        text => Ok(text.to_owned()),
    }
}
