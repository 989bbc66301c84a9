//! Reachability per component, behind `/readyz` and the `semaphore_meraki_up` / `semaphore_kafka_up` gauges:
//! each Meraki source records its own (so one source reaching Meraki never hides another that cannot), the
//! Kafka handle records what its probe and deliveries found. [`Readiness`] names each component and, for one
//! that is not ready, why.

use std::collections::BTreeMap;
use std::fmt::{Display, Write};
use std::sync::Mutex;

use crate::telemetry::lock;

/// Whether a component reached the service it needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Reach {
    /// Nothing tried yet, or no answer yet.
    #[default]
    NotYet,
    Reached,
    /// The last attempt failed, and why.
    Failed(String),
}

impl Reach {
    pub fn failed(error: impl Display) -> Self {
        // One line per component in `/readyz`, whatever the error says.
        Reach::Failed(error.to_string().replace(['\r', '\n'], " "))
    }

    pub fn is_reached(&self) -> bool {
        matches!(self, Reach::Reached)
    }
}

/// The reachability of every component; a std mutex each, held for one map read or write, never across an
/// await.
#[derive(Debug, Default)]
pub struct Reachability {
    /// Meraki, per source id. Sources the pipeline started are present from the start (as `NotYet`).
    sources: Mutex<BTreeMap<String, Reach>>,
    kafka: Mutex<Reach>,
}

impl Reachability {
    /// Makes `source` count for readiness before it reports anything; what it already reported is kept.
    pub fn expect_source(&self, source: &str) {
        lock(&self.sources).entry(source.to_owned()).or_default();
    }

    pub fn set_source(&self, source: &str, reach: Reach) {
        lock(&self.sources).insert(source.to_owned(), reach);
    }

    pub fn set_kafka(&self, reach: Reach) {
        *lock(&self.kafka) = reach;
    }

    pub fn sources(&self) -> BTreeMap<String, Reach> {
        lock(&self.sources).clone()
    }

    pub fn kafka(&self) -> Reach {
        lock(&self.kafka).clone()
    }

    /// Each source, then Kafka when `kafka_required`.
    pub fn readiness(&self, kafka_required: bool) -> Readiness {
        let mut components: Vec<Component> = self
            .sources()
            .into_iter()
            .map(|(source, reach)| Component {
                name: format!("source {source}"),
                problem: problem(&reach, "Meraki not reached"),
            })
            .collect();
        if kafka_required {
            components.push(Component {
                name: "kafka".to_owned(),
                problem: problem(&self.kafka(), "not reached"),
            });
        }
        Readiness {
            components,
            notes: Vec::new(),
        }
    }
}

/// What `/readyz` answers.
#[derive(Debug, PartialEq, Eq)]
pub struct Readiness {
    pub components: Vec<Component>,
    /// Lines about the process that do not decide readiness (the spool in use).
    pub notes: Vec<String>,
}

/// One component of [`Readiness`]: `source ID` or `kafka`, and why it is not ready (`None` when it is).
#[derive(Debug, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub problem: Option<String>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.components
            .iter()
            .all(|component| component.problem.is_none())
    }

    /// `ready` or `not ready`, then one line per component: `NAME: ok`, or `NAME: ` and why not.
    pub fn report(&self) -> String {
        let mut text = String::from(if self.is_ready() { "ready\n" } else { "not ready\n" });
        for component in &self.components {
            let state = component.problem.as_deref().unwrap_or("ok");
            let _ = writeln!(text, "{}: {state}", component.name);
        }
        for note in &self.notes {
            let _ = writeln!(text, "{note}");
        }
        text
    }
}

fn problem(reach: &Reach, not_reached: &str) -> Option<String> {
    match reach {
        Reach::Reached => None,
        Reach::NotYet => Some(format!("{not_reached} yet")),
        Reach::Failed(error) => Some(format!("{not_reached}: {error}")),
    }
}
