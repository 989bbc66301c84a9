//! The one list of source kinds. Adding a kind is writing its module (a [`SourceFile`] and a [`Source`]) and
//! adding its line here: the `[sources]` table, the [`SourceConfig`] enum, validation, `check -c` and the
//! pipeline all follow from this list.

use serde::Deserialize;
use tracing::{Instrument, Span};

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::{generator, meraki_clients, meraki_history, meraki_uplinks, snmp, syslog};

/// Declares the kinds: `Variant = table_name: FileType`, where `[[sources.table_name]]` holds `FileType`.
macro_rules! source_kinds {
    ($($variant:ident = $table:ident: $file:ty),* $(,)?) => {
        /// `[sources]`: an array of tables per kind.
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct SourcesSection {
            $(
                #[serde(default)]
                pub $table: Vec<$file>,
            )*
        }

        /// A validated source of any kind.
        #[derive(Clone, Debug)]
        pub enum SourceConfig {
            $($variant(<$file as SourceFile>::Config),)*
        }

        impl SourcesSection {
            /// Every source, in the order of the kinds above and then of the file.
            pub fn validate(&self, validation: &mut Validation<'_>) -> Result<Vec<SourceConfig>, ConfigError> {
                let mut sources = Vec::new();
                $(
                    for (index, file) in self.$table.iter().enumerate() {
                        let at = At { section: "sources", kind: stringify!($table), index, single: false };
                        sources.push(SourceConfig::$variant(file.validate(validation, &at)?));
                    }
                )*
                Ok(sources)
            }
        }

        impl SourceConfig {
            fn source(&self) -> &dyn Source {
                match self {
                    $(SourceConfig::$variant(config) => config,)*
                }
            }

            /// The table name of the kind: `[[sources.KIND]]`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(SourceConfig::$variant(_) => stringify!($table),)*
                }
            }
        }
    };
}

source_kinds! {
    MerakiUplinks = meraki_uplinks: meraki_uplinks::UplinksSourceFile,
    MerakiDeviceHistory = meraki_device_history: meraki_history::HistorySourceFile,
    MerakiClients = meraki_clients: meraki_clients::ClientsSourceFile,
    Generator = generator: generator::GeneratorSourceFile,
    Syslog = syslog: syslog::SyslogSourceFile,
    Snmp = snmp: snmp::poller::SnmpSourceFile,
    SnmpTraps = snmp_traps: snmp::traps::SnmpTrapsSourceFile,
}

impl SourceConfig {
    pub fn id(&self) -> &str {
        self.source().id()
    }

    pub fn describe(&self) -> String {
        self.source().describe()
    }

    pub fn uses_meraki(&self) -> bool {
        self.source().uses_meraki()
    }

    pub fn uses_device_identity(&self) -> bool {
        self.source().uses_device_identity()
    }

    /// The running source, inside its `source` span (its id and kind), so every line it logs names it.
    pub fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        let running = self.source().build(context)?;
        Ok(Box::pin(running.instrument(source_span(self.id(), self.kind()))))
    }
}

/// The span a source runs in. Error-level, so it is enabled whatever `SEMAPHORE_LOG` lets through: with `warn`
/// its fields still name the source on every warning and error (as vector's component spans).
fn source_span(id: &str, kind: &str) -> Span {
    tracing::error_span!("source", id = %id, kind = %kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::log_capture::CapturedLogs;

    /// Lines logged inside a source name it through the span, in both log formats.
    #[test]
    fn a_source_span_names_the_source_on_each_line() {
        let log = || {
            source_span("uplinks-1", "meraki_uplinks")
                .in_scope(|| tracing::warn!(organization = "123", "Polling failed."));
        };
        {
            let (logs, _guard) = CapturedLogs::plain();
            log();
            let text = logs.text();
            assert!(
                text.contains("source{id=uplinks-1 kind=meraki_uplinks}") && text.contains("Polling failed."),
                "{text}"
            );
        }
        let (logs, _guard) = CapturedLogs::json();
        log();
        let text = logs.text();
        let line: serde_json::Value = serde_json::from_str(text.lines().next().expect("one line")).unwrap();
        assert_eq!(line["span"]["name"], "source", "{text}");
        assert_eq!(line["span"]["id"], "uplinks-1", "{text}");
        assert_eq!(line["span"]["kind"], "meraki_uplinks", "{text}");
        assert_eq!(line["fields"]["organization"], "123", "{text}");
        assert_eq!(line["fields"]["message"], "Polling failed.", "{text}");
    }
}
