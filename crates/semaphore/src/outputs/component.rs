//! The shape every output kind has, so that a new kind is one module plus one line in [`super::registry`]:
//! its table as written ([`OutputFile`]: serde, `deny_unknown_fields`, validated into its config), its
//! validated config ([`OutputComponent`]: a line and a JSON object for `check -c`, and `build`), and what it
//! is at run time ([`Output`], driven by [`crate::outputs::Outputs::publish`]).

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::bus::handle::KafkaHandle;
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::outputs::OutputFailure;
use crate::outputs::kafka::{KafkaOutput, KafkaSpool};
use crate::record::EncodedRecord;

/// An `[[outputs.KIND]]` table (or `[outputs.KIND]`) as written.
pub trait OutputFile {
    type Config: OutputComponent;
    /// A kind written once, as `[outputs.KIND]` (Kafka, stdout), rather than as an array of tables: its keys
    /// are named without an index, and a second table is refused.
    const SINGLE: bool = false;
    /// Checks every value, naming the key at fault (`at.key("endpoint")` → `outputs.syslog[0].endpoint`).
    /// Relative paths are resolved against the config file (`validation.relative`).
    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<Self::Config, ConfigError>;
}

/// A validated output of one kind.
pub trait OutputComponent {
    /// Where it writes, in a few words, for `check -c`'s `output: …` line (`syslog udp://HOST:514`,
    /// `file PATH`); `None` for an output whose destination `check -c` reports on its own line (Kafka).
    fn describe(&self) -> Option<String>;
    /// Its settings for `check -c --format json`, as an object; the registry adds the `kind`.
    fn json(&self) -> Value;
    /// The output at work. Nothing is reached yet: connections open on the first write.
    fn build(&self, context: &OutputContext<'_>) -> Arc<dyn Output>;
}

/// What the pipeline gives every output it builds.
pub struct OutputContext<'a> {
    /// The process's Kafka handle, shared with the sinks; the pipeline makes it before building any output,
    /// whenever the Kafka output is declared (or a sink is).
    pub kafka: Option<&'a Arc<KafkaHandle>>,
    /// The Kafka output's spool, opened by the pipeline under the data directory (none when disabled).
    pub spool: Option<&'a Arc<KafkaSpool>>,
}

/// What every output is to [`crate::outputs::Outputs::publish`].
pub trait Output: Send + Sync + std::fmt::Debug {
    /// Names the output in logs: `kafka HOST:PORT`, `syslog udp://HOST:514`, `stdout`, `file PATH`.
    fn name(&self) -> String;
    /// The `output` label of its metrics: one value per runtime kind, so the label stays bounded.
    fn label(&self) -> &'static str;
    /// Writes a batch to one topic (or the topic's place at the destination); what it did not take is
    /// retried by `publish`, or ends the pipeline when standard output's reader went away.
    fn write<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>>;
    /// As `write`, for a source that cannot hold its senders back (a push source): an output with a spool
    /// (Kafka) keeps on disk what its destination cannot take now, and returns; the others write.
    fn write_or_spool<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        self.write(topic, records)
    }
    /// As `write_or_spool`, when the source already knows its destination is behind (a datagram queue
    /// backing up): an output with a spool spools the batch at once; the others write.
    fn spool_now<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [EncodedRecord],
    ) -> BoxFuture<'a, Result<(), OutputFailure>> {
        self.write(topic, records)
    }
    /// Closes connections cleanly after the last batch (syslog streams).
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    /// The Kafka output, which sources also read back from (a window interrupted by a crash): the one output
    /// with a role beyond writing.
    fn as_kafka(&self) -> Option<&KafkaOutput> {
        None
    }
}
