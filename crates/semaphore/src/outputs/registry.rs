//! The one list of output kinds. Adding a kind is writing its module (an [`OutputFile`], an
//! [`OutputComponent`] and an [`crate::outputs::component::Output`]) and adding its line here: the
//! `[outputs]` table, the [`OutputConfig`] enum, validation, `check -c` and the pipeline all follow from this
//! list.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::outputs::component::{Output, OutputComponent, OutputContext, OutputFile};
use crate::outputs::kafka::KafkaOutputConfig;
use crate::outputs::{kafka, lines, syslog};

/// Declares the kinds: `Variant = table_name: FileType`, where `[outputs.table_name]` (or
/// `[[outputs.table_name]]`) holds `FileType`.
macro_rules! output_kinds {
    ($($variant:ident = $table:ident: $file:ty),* $(,)?) => {
        /// `[outputs]`: where records go; any combination. Per kind, an array of tables (or, for a kind
        /// written once, one table). None at all means Kafka, when there are sources.
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct OutputsSection {
            $(
                #[serde(default, deserialize_with = "crate::config::one_or_many")]
                pub $table: Vec<$file>,
            )*
        }

        /// A validated output of any kind.
        #[derive(Clone, Debug)]
        pub enum OutputConfig {
            $($variant(<$file as OutputFile>::Config),)*
        }

        impl OutputsSection {
            /// Every output written in the file, in the order of the kinds above and then of the file.
            fn declared(&self, validation: &mut Validation<'_>) -> Result<Vec<OutputConfig>, ConfigError> {
                let mut outputs = Vec::new();
                $(
                    for (index, file) in self.$table.iter().enumerate() {
                        let single = <$file as OutputFile>::SINGLE;
                        let at = At { section: "outputs", kind: stringify!($table), index, single };
                        if single && index > 0 {
                            return Err(validation.invalid(
                                format!("outputs.{}", stringify!($table)),
                                "only one per process",
                            ));
                        }
                        outputs.push(OutputConfig::$variant(file.validate(validation, &at)?));
                    }
                )*
                Ok(outputs)
            }
        }

        impl OutputConfig {
            fn component(&self) -> &dyn OutputComponent {
                match self {
                    $(OutputConfig::$variant(config) => config,)*
                }
            }

            /// The kind as the config names it (`[outputs.KIND]`).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(OutputConfig::$variant(_) => stringify!($table),)*
                }
            }
        }
    };
}

output_kinds! {
    Kafka = kafka: kafka::KafkaOutputFile,
    Syslog = syslog: syslog::SyslogOutputFile,
    Stdout = stdout: lines::StdoutOutputFile,
    File = file: lines::FileOutputFile,
}

impl OutputsSection {
    /// Every output; without any `[outputs...]` table, the Kafka output with its defaults when there are
    /// sources. Outputs carry only what sources collect: a config of sinks alone gets none, rather than a
    /// Kafka output nothing writes to (the sinks have the Kafka handle of their own).
    pub fn validate(
        &self,
        validation: &mut Validation<'_>,
        has_sources: bool,
    ) -> Result<Vec<OutputConfig>, ConfigError> {
        let mut outputs = self.declared(validation)?;
        if outputs.is_empty() && has_sources {
            outputs.push(OutputConfig::Kafka(KafkaOutputConfig::default()));
        }
        Ok(outputs)
    }
}

impl OutputConfig {
    /// The `output: …` line of `check -c`, if the kind has one.
    pub fn describe(&self) -> Option<String> {
        self.component().describe()
    }

    /// The output in `check -c --format json`: `{"kind": KIND, …its settings}`.
    pub fn json(&self) -> Value {
        let mut json = self.component().json();
        json["kind"] = Value::from(self.kind());
        json
    }

    /// The Kafka output's settings: where they are, the pipeline makes the Kafka handle (shared with the
    /// sinks) before it builds any output.
    pub fn kafka(&self) -> Option<&KafkaOutputConfig> {
        match self {
            OutputConfig::Kafka(kafka) => Some(kafka),
            _ => None,
        }
    }

    pub fn build(&self, context: &OutputContext<'_>) -> Arc<dyn Output> {
        self.component().build(context)
    }
}
