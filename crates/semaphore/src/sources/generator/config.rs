//! `[[sources.generator]]`: the table as written, its validation and how the source is built.

use serde::Deserialize;

use super::GeneratorSource;
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};

pub const GENERATED_TOPIC: &str = "semaphore.generated";
/// Beyond this the generator measures semaphore's own machinery rather than a network's rate.
const MAX_RATE: u64 = 1_000_000;
const MAX_KEYS: u64 = 1_000_000;
const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// `[[sources.generator]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSourceFile {
    pub id: Option<String>,
    /// Records per second (default 10).
    pub rate_per_second: Option<u64>,
    /// Distinct keys, used round-robin (default 10).
    pub keys: Option<u64>,
    /// Stop after this many records (default: never).
    pub count: Option<u64>,
    /// Bytes of filler in each record's `message` (default 100).
    pub message_bytes: Option<usize>,
    /// Kafka topic (default `semaphore.generated`).
    pub topic: Option<String>,
}

#[derive(Clone, Debug)]
pub struct GeneratorSettings {
    pub id: String,
    pub topic: String,
    pub rate_per_second: u64,
    pub keys: u64,
    pub count: Option<u64>,
    pub message_bytes: usize,
}

impl SourceFile for GeneratorSourceFile {
    type Config = GeneratorSettings;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<GeneratorSettings, ConfigError> {
        let within = |key: &str, value: u64, max: u64| {
            if (1..=max).contains(&value) {
                Ok(value)
            } else {
                Err(validation.invalid(at.key(key), format!("{value} is out of range: 1 to {max}")))
            }
        };
        let rate_per_second = within("rate_per_second", self.rate_per_second.unwrap_or(10), MAX_RATE)?;
        let keys = within("keys", self.keys.unwrap_or(10), MAX_KEYS)?;
        let count = match self.count {
            Some(count) => Some(within("count", count, u64::MAX)?),
            None => None,
        };
        let message_bytes = self.message_bytes.unwrap_or(100);
        if message_bytes > MAX_MESSAGE_BYTES {
            return Err(validation.invalid(
                at.key("message_bytes"),
                format!("{message_bytes} is more than {MAX_MESSAGE_BYTES}"),
            ));
        }
        Ok(GeneratorSettings {
            id: validation.unique_id(at, &self.id)?,
            topic: validation.topic(at.key("topic"), &self.topic, GENERATED_TOPIC)?,
            rate_per_second,
            keys,
            count,
            message_bytes,
        })
    }
}

impl Source for GeneratorSettings {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        format!("generator {}/s -> {}", self.rate_per_second, self.topic)
    }

    fn uses_meraki(&self) -> bool {
        false
    }

    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        let source = GeneratorSource::new(self.clone(), context.outputs.clone());
        Ok(Box::pin(source.run(context.stop.clone(), context.once)))
    }
}
