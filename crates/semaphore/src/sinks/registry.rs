//! The one list of sink kinds. Adding a kind is writing its module (a [`SinkFile`], a [`SinkComponent`] and
//! a [`crate::sinks::component::Deliver`]) and adding its line here: the `[sinks]` table, the [`SinkKind`]
//! enum, validation, `check -c` and the pipeline all follow from this list.

use futures::future::BoxFuture;
use serde::Deserialize;

use crate::check::Problem;
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::env::Env;
use crate::sinks::component::{
    BuiltSink, SinkBuildError, SinkComponent, SinkContext, SinkFile, validate_reading,
};
use crate::sinks::runner::SinkReading;
use crate::sinks::{alerts, dashboard, influxdb, prometheus, webhook};

/// A validated sink: its id, how it reads, and what it is.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    pub id: String,
    pub reading: SinkReading,
    pub kind: SinkKind,
}

/// Declares the kinds: `Variant = table_name: FileType`, where `[[sinks.table_name]]` holds `FileType`.
macro_rules! sink_kinds {
    ($($variant:ident = $table:ident: $file:ty),* $(,)?) => {
        /// `[sinks]`: per kind, an array of tables (or, for a kind written once, one table).
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct SinksSection {
            $(
                #[serde(default, deserialize_with = "crate::config::one_or_many")]
                pub $table: Vec<$file>,
            )*
        }

        /// A validated sink of any kind.
        #[derive(Clone, Debug)]
        pub enum SinkKind {
            $($variant(<$file as SinkFile>::Config),)*
        }

        impl SinksSection {
            /// Every sink, in the order of the kinds above and then of the file.
            pub fn validate(&self, validation: &mut Validation<'_>) -> Result<Vec<SinkConfig>, ConfigError> {
                let mut sinks = Vec::new();
                $(
                    for (index, file) in self.$table.iter().enumerate() {
                        let single = <$file as SinkFile>::SINGLE;
                        let at = At { section: "sinks", kind: stringify!($table), index, single };
                        if single && index > 0 {
                            return Err(validation.invalid(
                                format!("sinks.{}", stringify!($table)),
                                "only one per process",
                            ));
                        }
                        let (id, mut reading) = validate_reading(file, validation, &at)?;
                        let kind = SinkKind::$variant(file.validate(validation, &at, &mut reading)?);
                        sinks.push(SinkConfig { id, reading, kind });
                    }
                )*
                Ok(sinks)
            }
        }

        impl SinkKind {
            fn component(&self) -> &dyn SinkComponent {
                match self {
                    $(SinkKind::$variant(config) => config,)*
                }
            }

            /// The kind as the config names it (`[[sinks.KIND]]`).
            pub fn table(&self) -> &'static str {
                match self {
                    $(SinkKind::$variant(_) => stringify!($table),)*
                }
            }
        }
    };
}

sink_kinds! {
    InfluxDb = influxdb: influxdb::InfluxSinkFile,
    Prometheus = prometheus: prometheus::PrometheusSinkFile,
    Webhook = webhook: webhook::WebhookSinkFile,
    Alerts = alerts: alerts::AlertsSinkFile,
    Dashboard = dashboard: dashboard::DashboardSinkFile,
}

impl SinkKind {
    /// The sink in a few words, for `check -c`.
    pub fn describe(&self) -> String {
        self.component().describe()
    }

    /// What `check -c` reaches for this sink, and the result.
    pub fn check<'a>(
        &'a self,
        env: &'a dyn Env,
    ) -> BoxFuture<'a, Option<(String, Result<&'static str, Problem>)>> {
        self.component().check(env)
    }

    pub fn build<'a>(
        &'a self,
        context: &'a SinkContext<'a>,
    ) -> BoxFuture<'a, Result<BuiltSink, SinkBuildError>> {
        self.component().build(context)
    }
}
