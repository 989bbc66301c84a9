//! `[outputs.kafka]`: the table as written, its validation, and how the output is built (on the Kafka handle
//! the pipeline made first, since its producer is shared with the sinks).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::KafkaOutput;
use crate::bus::admin::{DEFAULT_PARTITIONS, MAX_PARTITIONS};
use crate::bus::handle::TopicCreation;
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::outputs::component::{Output, OutputComponent, OutputContext, OutputFile};
use crate::spool::{SpoolSettings, WhenFull};

/// `[outputs.kafka]`: records onto a topic per source.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaOutputFile {
    /// Create missing topics on first use (default true).
    pub create_topics: Option<bool>,
    /// Partitions of created topics (default 6, Confluent Cloud's default).
    pub partitions: Option<i32>,
    /// The most the spool may take on disk (default 1 GiB); 0 turns the spool off.
    pub spool_max_bytes: Option<u64>,
    /// `refuse_newest` (default) or `drop_oldest`: what a full spool does.
    pub spool_when_full: Option<String>,
    /// Seconds a batch waits for Kafka's acknowledgements before what Kafka did not take is spooled
    /// (default 5).
    pub spool_after_s: Option<u64>,
}

/// The Kafka output's settings, validated.
#[derive(Clone, Debug)]
pub struct KafkaOutputConfig {
    pub create_topics: bool,
    pub partitions: i32,
    /// `None`: no spool (`spool_max_bytes = 0`).
    pub spool: Option<SpoolSettings>,
    pub spool_after: Duration,
}

/// 1 GiB: hours of a busy syslog feed, and a size any data disk has to spare.
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 1 << 30;
const DEFAULT_SPOOL_AFTER_S: u64 = 5;
/// Below this a spool holds too little to be worth its files (and a typo like `1024` is likely).
const MIN_SPOOL_BYTES: u64 = 1 << 20;

impl Default for KafkaOutputConfig {
    /// What `[outputs.kafka]` with no keys means, and what no `[outputs...]` at all means.
    fn default() -> Self {
        Self {
            create_topics: true,
            partitions: DEFAULT_PARTITIONS,
            spool: Some(SpoolSettings {
                max_bytes: DEFAULT_SPOOL_MAX_BYTES,
                when_full: WhenFull::RefuseNewest,
            }),
            spool_after: Duration::from_secs(DEFAULT_SPOOL_AFTER_S),
        }
    }
}

impl KafkaOutputConfig {
    /// What becomes of a topic the output writes that the cluster does not have.
    pub fn topic_creation(&self) -> TopicCreation {
        if self.create_topics {
            TopicCreation::Create {
                partitions: self.partitions,
            }
        } else {
            TopicCreation::Leave
        }
    }
}

impl OutputFile for KafkaOutputFile {
    type Config = KafkaOutputConfig;
    const SINGLE: bool = true;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<KafkaOutputConfig, ConfigError> {
        let defaults = KafkaOutputConfig::default();
        let partitions = self.partitions.unwrap_or(defaults.partitions);
        // The bound `semaphore topics create` has too.
        if !(1..=MAX_PARTITIONS).contains(&partitions) {
            return Err(validation.invalid(
                at.key("partitions"),
                format!("{partitions} is out of range: 1 to {MAX_PARTITIONS}"),
            ));
        }
        Ok(KafkaOutputConfig {
            create_topics: self.create_topics.unwrap_or(defaults.create_topics),
            partitions,
            spool: self.spool(validation, at)?,
            spool_after: validation.seconds(
                at.key("spool_after_s"),
                self.spool_after_s,
                DEFAULT_SPOOL_AFTER_S,
                None,
            )?,
        })
    }
}

impl KafkaOutputFile {
    fn spool(&self, validation: &Validation<'_>, at: &At) -> Result<Option<SpoolSettings>, ConfigError> {
        let max_bytes = self.spool_max_bytes.unwrap_or(DEFAULT_SPOOL_MAX_BYTES);
        if max_bytes == 0 {
            return Ok(None);
        }
        if max_bytes < MIN_SPOOL_BYTES {
            return Err(validation.invalid(
                at.key("spool_max_bytes"),
                format!("{max_bytes} is less than 1 MiB ({MIN_SPOOL_BYTES} bytes); give bytes, or 0 to turn the spool off"),
            ));
        }
        let when_full = match self.spool_when_full.as_deref() {
            None | Some("refuse_newest") => WhenFull::RefuseNewest,
            Some("drop_oldest") => WhenFull::DropOldest,
            Some(other) => {
                return Err(validation.invalid(
                    at.key("spool_when_full"),
                    format!("{other:?} is not a policy: use \"refuse_newest\" or \"drop_oldest\""),
                ));
            }
        };
        Ok(Some(SpoolSettings { max_bytes, when_full }))
    }
}

impl OutputComponent for KafkaOutputConfig {
    /// None: `check -c` reports Kafka on its own line, reached, whether an output or a sink uses it.
    fn describe(&self) -> Option<String> {
        None
    }

    fn json(&self) -> Value {
        let spool = self.spool.as_ref().map(|spool| {
            json!({
                "max_bytes": spool.max_bytes,
                "when_full": match spool.when_full {
                    WhenFull::RefuseNewest => "refuse_newest",
                    WhenFull::DropOldest => "drop_oldest",
                },
                "after_s": self.spool_after.as_secs(),
            })
        });
        json!({"create_topics": self.create_topics, "partitions": self.partitions, "spool": spool})
    }

    fn build(&self, context: &OutputContext<'_>) -> Arc<dyn Output> {
        let kafka = context
            .kafka
            .expect("the pipeline makes the Kafka handle whenever the Kafka output is declared");
        Arc::new(KafkaOutput::new(
            kafka.clone(),
            self.topic_creation(),
            context.spool.cloned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No `[outputs.kafka]` keys: topics are created as `topics create` and the sinks create them.
    #[test]
    fn the_default_output_creates_topics_as_everything_else_does() {
        assert_eq!(
            KafkaOutputConfig::default().topic_creation(),
            TopicCreation::default()
        );
    }

    #[test]
    fn create_topics_false_leaves_missing_topics_alone() {
        let settings = KafkaOutputConfig {
            create_topics: false,
            partitions: 3,
            ..KafkaOutputConfig::default()
        };
        assert_eq!(settings.topic_creation(), TopicCreation::Leave);
        let settings = KafkaOutputConfig {
            create_topics: true,
            partitions: 3,
            ..KafkaOutputConfig::default()
        };
        assert_eq!(settings.topic_creation(), TopicCreation::Create { partitions: 3 });
    }
}
