//! `[outputs.kafka]`: the table as written, its validation, and how the output is built (on the Kafka handle
//! the pipeline made first, since its producer is shared with the sinks).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::KafkaOutput;
use crate::bus::admin::{DEFAULT_PARTITIONS, MAX_PARTITIONS};
use crate::bus::handle::TopicCreation;
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::outputs::component::{Output, OutputComponent, OutputContext, OutputFile};

/// `[outputs.kafka]`: records onto a topic per source.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaOutputFile {
    /// Create missing topics on first use (default true).
    pub create_topics: Option<bool>,
    /// Partitions of created topics (default 6, Confluent Cloud's default).
    pub partitions: Option<i32>,
}

/// The Kafka output's settings, validated.
#[derive(Clone, Debug)]
pub struct KafkaOutputConfig {
    pub create_topics: bool,
    pub partitions: i32,
}

impl Default for KafkaOutputConfig {
    /// What `[outputs.kafka]` with no keys means, and what no `[outputs...]` at all means.
    fn default() -> Self {
        Self {
            create_topics: true,
            partitions: DEFAULT_PARTITIONS,
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
        })
    }
}

impl OutputComponent for KafkaOutputConfig {
    /// None: `check -c` reports Kafka on its own line, reached, whether an output or a sink uses it.
    fn describe(&self) -> Option<String> {
        None
    }

    fn json(&self) -> Value {
        json!({"create_topics": self.create_topics, "partitions": self.partitions})
    }

    fn build(&self, context: &OutputContext<'_>) -> Arc<dyn Output> {
        let kafka = context
            .kafka
            .expect("the pipeline makes the Kafka handle whenever the Kafka output is declared");
        Arc::new(KafkaOutput::new(kafka.clone(), self.topic_creation()))
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
        };
        assert_eq!(settings.topic_creation(), TopicCreation::Leave);
        let settings = KafkaOutputConfig {
            create_topics: true,
            partitions: 3,
        };
        assert_eq!(settings.topic_creation(), TopicCreation::Create { partitions: 3 });
    }
}
