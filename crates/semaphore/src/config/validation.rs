//! What every component's validation shares: where the config file is (errors name it, relative paths start
//! from it), the key a value sits at (`sources.meraki_uplinks[0].interval_s`), ids unique per section, and
//! the checks many keys need (seconds, intervals, lists, topics, key strategies).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;

use crate::config::ConfigError;
use crate::record::KeyStrategy;

/// The reason an empty selection list is refused.
pub const EMPTY_LIST: &str = "an empty list would mean all; remove the key to mean all";

/// Where a component's table is: `[[SECTION.KIND]]`, the `index`-th of its kind.
#[derive(Clone, Copy, Debug)]
pub struct At {
    pub section: &'static str,
    pub kind: &'static str,
    pub index: usize,
    /// A kind written once, as `[SECTION.KIND]`: its keys are named without an index.
    pub single: bool,
}

impl At {
    /// The full name of one of the table's keys, as errors show it.
    pub fn key(&self, key: &str) -> String {
        if self.single {
            format!("{}.{}.{key}", self.section, self.kind)
        } else {
            format!("{}.{}[{}].{key}", self.section, self.kind, self.index)
        }
    }

    /// The component's id when the table gives none: the kind, then `KIND_2`, `KIND_3`…
    pub fn default_id(&self) -> String {
        if self.index == 0 {
            self.kind.to_owned()
        } else {
            format!("{}_{}", self.kind, self.index + 1)
        }
    }
}

/// The state of one validation run.
pub struct Validation<'a> {
    path: &'a Path,
    /// A poll interval must be longer than one Meraki request may take.
    pub meraki_timeout: Duration,
    ids: BTreeSet<(&'static str, String)>,
}

impl<'a> Validation<'a> {
    pub fn new(path: &'a Path, meraki_timeout: Duration) -> Self {
        Self {
            path,
            meraki_timeout,
            ids: BTreeSet::new(),
        }
    }

    pub fn invalid(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// A path the config names, relative to the config file's directory.
    pub fn relative(&self, file: &Path) -> PathBuf {
        if file.is_absolute() {
            file.to_owned()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(file)
        }
    }

    /// The component's id (given, or the default), checked: it names files and metric labels, and is unique
    /// within its section.
    pub fn unique_id(&mut self, at: &At, id: &Option<String>) -> Result<String, ConfigError> {
        let id = id.clone().unwrap_or_else(|| at.default_id());
        if id.is_empty()
            || !id
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.'))
        {
            return Err(self.invalid(
                at.key("id"),
                format!("{id:?}: use letters, digits, '_', '-' or '.' (it names files and metrics)"),
            ));
        }
        if !self.ids.insert((at.section, id.clone())) {
            return Err(self.invalid(at.key("id"), format!("{id:?} is used by two {}", at.section)));
        }
        Ok(id)
    }

    /// Whole seconds, at least 1 and at most `max`; `default` when the key is left out.
    pub fn seconds(
        &self,
        key: String,
        value: Option<u64>,
        default: u64,
        max: Option<TimeDelta>,
    ) -> Result<Duration, ConfigError> {
        let value = value.unwrap_or(default);
        if value == 0 {
            return Err(self.invalid(key, "must be at least 1 second"));
        }
        if let Some(max) = max
            && value as i64 > max.num_seconds()
        {
            return Err(self.invalid(key, format!("must be at most {} seconds", max.num_seconds())));
        }
        Ok(Duration::from_secs(value))
    }

    /// A Meraki source's poll interval: seconds, longer than one request may take.
    pub fn poll_interval(
        &self,
        key: String,
        value: Option<u64>,
        default: u64,
    ) -> Result<Duration, ConfigError> {
        let interval = self.seconds(key.clone(), value, default, None)?;
        if interval <= self.meraki_timeout {
            return Err(self.invalid(
                key,
                format!(
                    "must be longer than meraki.timeout_s ({} s), or one slow request would overlap the next poll",
                    self.meraki_timeout.as_secs()
                ),
            ));
        }
        Ok(interval)
    }

    /// A selection list: left out means all (empty), `[]` is refused.
    pub fn listed(&self, key: String, value: &Option<Vec<String>>) -> Result<Vec<String>, ConfigError> {
        match value {
            None => Ok(Vec::new()),
            Some(items) if items.is_empty() => Err(self.invalid(key, EMPTY_LIST)),
            Some(items) => Ok(items.clone()),
        }
    }

    pub fn key_strategy(
        &self,
        key: String,
        value: &Option<String>,
        default: KeyStrategy,
    ) -> Result<KeyStrategy, ConfigError> {
        match value {
            Some(text) => text.parse().map_err(|reason: String| self.invalid(key, reason)),
            None => Ok(default),
        }
    }

    /// A Kafka topic name (`default` when left out), by Kafka's rule.
    pub fn topic(&self, key: String, value: &Option<String>, default: &str) -> Result<String, ConfigError> {
        let topic = value.clone().unwrap_or_else(|| default.to_owned());
        crate::config::topic_name(&topic)
            .map(|()| topic)
            .map_err(|reason| self.invalid(key, reason))
    }
}

/// A duration as chrono's, for window arithmetic.
pub fn lookback(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).expect("validated durations are far below chrono's range")
}
