//! The one list of source kinds. Adding a kind is writing its module (a [`SourceFile`] and a [`Source`]) and
//! adding its line here: the `[sources]` table, the [`SourceConfig`] enum, validation, `check -c` and the
//! pipeline all follow from this list.

use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::{meraki_clients, meraki_history, meraki_uplinks};

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

    pub fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        self.source().build(context)
    }
}
