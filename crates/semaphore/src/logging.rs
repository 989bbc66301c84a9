//! Logging set-up: `tracing` to stderr, filtered by `SEMAPHORE_LOG`, formatted per `SEMAPHORE_LOG_FORMAT`.

use tracing_subscriber::EnvFilter;

use crate::env::{Env, SEMAPHORE_LOG, SEMAPHORE_LOG_FORMAT};

/// A logging setting that cannot be used; the binary exits 64 on it.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("invalid {SEMAPHORE_LOG} filter {filter:?}: {reason}")]
    Filter { filter: String, reason: String },
    #[error("invalid {SEMAPHORE_LOG_FORMAT} {format:?}: use plain or json")]
    Format { format: String },
}

/// The filter when `SEMAPHORE_LOG` is unset: semaphore's own lifecycle at info; the embedded broker (tansu)
/// logs per-request detail at info, so only its warnings and errors show.
pub const DEFAULT_FILTER: &str = "info,tansu=warn";

/// Installs the global subscriber.
pub fn init(env: &dyn Env) -> Result<(), LoggingError> {
    let filter_text = env
        .get(SEMAPHORE_LOG)
        .unwrap_or_else(|| DEFAULT_FILTER.to_owned());
    let filter = EnvFilter::try_new(&filter_text).map_err(|error| LoggingError::Filter {
        filter: filter_text.clone(),
        reason: error.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match env.get(SEMAPHORE_LOG_FORMAT).as_deref() {
        None | Some("plain") => builder.init(),
        Some("json") => builder.json().init(),
        Some(other) => {
            return Err(LoggingError::Format {
                format: other.to_owned(),
            });
        }
    }
    Ok(())
}
