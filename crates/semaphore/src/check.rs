//! `semaphore check`: what a config declares and whether what it names answers, found the way `run` will
//! reach it: each sink's destination (InfluxDB's `/ping`, a webhook's token variable), the config's Kafka,
//! and Meraki (every organization the key can see). Every check runs and is reported, as text lines and as
//! one JSON document, before the command fails, so one unreachable InfluxDB does not hide the others.
//! Nothing is written anywhere.

use std::path::Path;

use serde_json::{Value, json};

use crate::bus::admin::TopicAdmin;
use crate::config::{Config, SinkConfig};
use crate::env::Env;
use crate::error_text::one_line;
use crate::meraki::MerakiReport;

/// What `check -c` found.
#[derive(Debug)]
pub struct ConfigReport {
    /// The text report, line by line.
    pub lines: Vec<String>,
    /// The same facts as one JSON document.
    pub document: Value,
    /// The checks that failed.
    pub problems: Vec<Problem>,
}

/// A check that failed.
#[derive(Debug)]
pub struct Problem {
    /// What failed and why, on one line, its causes included.
    pub message: String,
    /// Something to change in the configuration or environment (exit code 2), rather than something that
    /// did not answer (exit code 1).
    pub config: bool,
}

impl Problem {
    pub fn config(message: String) -> Self {
        Self {
            message,
            config: true,
        }
    }

    pub fn runtime(message: String) -> Self {
        Self {
            message,
            config: false,
        }
    }
}

/// Checks everything `config` names. `meraki_url` (a flag or `SEMAPHORE_MERAKI_URL`) overrides the file's.
pub async fn check_config(
    path: &Path,
    config: &Config,
    env: &dyn Env,
    meraki_url: Option<&str>,
) -> ConfigReport {
    let mut report = ConfigReport {
        lines: vec![format!("config {}: valid", path.display())],
        document: json!({
            "config": path.display().to_string(),
            "data_dir": config.data_dir.display().to_string(),
        }),
        problems: Vec::new(),
    };
    report.declared(config);
    let mut sinks = Vec::new();
    for sink in &config.sinks {
        sinks.push(report.sink(sink, env).await);
    }
    report.document["sinks"] = Value::Array(sinks);
    report.document["kafka"] = report.kafka(config, env).await;
    report.document["meraki"] = if config.uses_meraki() {
        let url = meraki_url.or(config.meraki_url.as_deref());
        report.meraki(url, env).await
    } else {
        report
            .lines
            .push(format!("Meraki: not used (no sources in {})", path.display()));
        Value::Null
    };
    report
}

impl ConfigReport {
    /// Sources, the data directory and outputs: what the file declares, nothing reached.
    fn declared(&mut self, config: &Config) {
        if !config.sources.is_empty() {
            let named: Vec<String> = config
                .sources
                .iter()
                .map(|source| format!("{} ({})", source.id(), source.describe()))
                .collect();
            self.lines.push(format!("  sources: {}", named.join(", ")));
        }
        self.lines
            .push(format!("  data directory: {}", config.data_dir.display()));
        if let Some(file) = &config.inventory.file {
            let devices = config.inventory.devices.len();
            self.lines
                .push(format!("  inventory: {devices} devices from {}", file.display()));
            self.document["inventory"] = json!({
                "file": file.display().to_string(),
                "devices": devices,
                "meraki": config.inventory.meraki,
            });
        }
        self.document["sources"] = config
            .sources
            .iter()
            .map(|source| json!({"id": source.id(), "kind": source.kind(), "description": source.describe()}))
            .collect();
        let mut outputs = Vec::new();
        for output in &config.outputs {
            if let Some(description) = output.describe() {
                self.lines.push(format!("  output: {description}"));
            }
            outputs.push(output.json());
        }
        self.document["outputs"] = Value::Array(outputs);
    }

    /// A sink's line, and its destination checked as the sink will reach it.
    async fn sink(&mut self, sink: &SinkConfig, env: &dyn Env) -> Value {
        self.lines.push(format!(
            "  sink: {} ({}; reads {} as group {})",
            sink.id,
            sink.kind.describe(),
            sink.reading.topics.join(", "),
            sink.reading.group
        ));
        let mut entry = json!({
            "id": sink.id,
            "kind": sink.kind.table(),
            "description": sink.kind.describe(),
            "topics": sink.reading.topics,
            "group": sink.reading.group,
            "check": null
        });
        let Some((target, outcome)) = sink.kind.check(env).await else {
            return entry;
        };
        match outcome {
            Ok(result) => {
                self.lines.push(format!("    {target}: {result}"));
                entry["check"] = json!({"target": target, "ok": true, "result": result});
            }
            Err(mut problem) => {
                self.lines
                    .push(format!("    {target}: FAILED: {}", problem.message));
                entry["check"] = json!({"target": target, "ok": false, "error": problem.message});
                problem.message = format!("sink {}: {}", sink.id, problem.message);
                self.problems.push(problem);
            }
        }
        entry
    }

    /// The config's Kafka, reached when an output or sink needs it (the embedded broker is only named).
    async fn kafka(&mut self, config: &Config, env: &dyn Env) -> Value {
        if config.kafka_output().is_none() && config.sinks.is_empty() {
            return Value::Null;
        }
        if config.kafka.brokers.is_none() && config.kafka.client_properties.is_none() {
            self.lines.push(format!(
                "  Kafka: the embedded broker (started by `semaphore run` on {})",
                config.embedded_listen
            ));
            return json!({"embedded": true, "listen": config.embedded_listen.to_string()});
        }
        match reach_kafka(config, env).await {
            Ok((bootstrap, topics)) => {
                self.lines
                    .push(format!("  Kafka at {bootstrap}: reached, {topics} topics"));
                json!({"embedded": false, "bootstrap": bootstrap, "reached": true, "topics": topics})
            }
            Err(problem) => {
                let document = json!({
                    "embedded": false,
                    "brokers": config.kafka.brokers,
                    "reached": false,
                    "error": problem.message
                });
                self.problems.push(problem);
                document
            }
        }
    }

    async fn meraki(&mut self, meraki_url: Option<&str>, env: &dyn Env) -> Value {
        match reach_meraki(meraki_url, env).await {
            Ok(meraki) => {
                self.lines.extend(meraki_lines(&meraki));
                let mut document = serde_json::to_value(&meraki).unwrap_or(Value::Null);
                document["reached"] = Value::Bool(true);
                document
            }
            Err(problem) => {
                let document = json!({"reached": false, "error": problem.message});
                self.problems.push(problem);
                document
            }
        }
    }
}

/// Reaches Meraki as the sources will: the client from the URL or region and the key, then every organization
/// the key can see.
pub async fn reach_meraki(meraki_url: Option<&str>, env: &dyn Env) -> Result<MerakiReport, Problem> {
    let client = crate::meraki::client(meraki_url, env).map_err(|error| Problem::config(one_line(&error)))?;
    crate::meraki::check(&client).await.map_err(|error| {
        Problem::runtime(format!(
            "cannot reach Meraki at {}: {}",
            client.base_url(),
            one_line(&error)
        ))
    })
}

/// What `check` prints about Meraki, line by line.
pub fn meraki_lines(report: &MerakiReport) -> Vec<String> {
    let mut lines = vec![format!("Meraki: reached {}", report.base_url)];
    for organization in &report.organizations {
        lines.push(format!(
            "  organization {} ({}): {} networks, {} devices, {} appliances",
            organization.id,
            organization.name,
            organization.networks,
            organization.devices,
            organization.appliances
        ));
    }
    let api = &report.api;
    lines.push(format!(
        "  API calls: {} requests, {} pages, {} rate-limited (429), {} retries",
        api.requests, api.pages, api.rate_limited, api.retries
    ));
    lines
}

/// Reaches the config's Kafka as its outputs and sinks will: its bootstrap address and how many topics it has.
async fn reach_kafka(config: &Config, env: &dyn Env) -> Result<(String, usize), Problem> {
    let kafka = config
        .kafka
        .resolve(env, None)
        .map_err(|error| Problem::config(one_line(&error)))?;
    let admin = TopicAdmin::new(&kafka).map_err(|error| Problem::config(one_line(&error)))?;
    let topics = admin
        .list()
        .await
        .map_err(|error| Problem::runtime(one_line(&error)))?;
    Ok((kafka.bootstrap.clone(), topics.len()))
}
