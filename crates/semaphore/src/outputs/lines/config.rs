//! `[outputs.stdout]` and `[[outputs.file]]`: the tables as written, their validation and how each builds its
//! JSON-lines output.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{LinesOutput, LinesTarget};
use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::outputs::component::{Output, OutputComponent, OutputContext, OutputFile};

/// `[outputs.stdout]`: JSON lines on standard output. It has no keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutOutputFile {}

/// The stdout output, validated (there is nothing to validate).
#[derive(Clone, Debug)]
pub struct StdoutOutputConfig;

impl OutputFile for StdoutOutputFile {
    type Config = StdoutOutputConfig;
    /// Written once, as `[outputs.stdout]`: a second would write every record to the same stream again.
    const SINGLE: bool = true;

    fn validate(
        &self,
        _validation: &mut Validation<'_>,
        _at: &At,
    ) -> Result<StdoutOutputConfig, ConfigError> {
        Ok(StdoutOutputConfig)
    }
}

impl OutputComponent for StdoutOutputConfig {
    fn describe(&self) -> Option<String> {
        Some("stdout".to_owned())
    }

    fn json(&self) -> Value {
        json!({})
    }

    fn build(&self, _context: &OutputContext<'_>) -> Arc<dyn Output> {
        Arc::new(LinesOutput::new(LinesTarget::Stdout))
    }
}

/// `[[outputs.file]]`: JSON lines appended to a file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOutputFile {
    /// JSON lines are appended to this file.
    pub path: PathBuf,
}

/// A file output, validated.
#[derive(Clone, Debug)]
pub struct FileOutputConfig {
    /// Resolved against the config file's directory.
    pub path: PathBuf,
}

impl OutputFile for FileOutputFile {
    type Config = FileOutputConfig;

    fn validate(&self, validation: &mut Validation<'_>, _at: &At) -> Result<FileOutputConfig, ConfigError> {
        Ok(FileOutputConfig {
            path: validation.relative(&self.path),
        })
    }
}

impl OutputComponent for FileOutputConfig {
    fn describe(&self) -> Option<String> {
        Some(format!("file {}", self.path.display()))
    }

    fn json(&self) -> Value {
        json!({"path": self.path.display().to_string()})
    }

    fn build(&self, _context: &OutputContext<'_>) -> Arc<dyn Output> {
        Arc::new(LinesOutput::new(LinesTarget::File(self.path.clone())))
    }
}
