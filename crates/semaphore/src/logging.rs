//! Logging set-up: `tracing` to stderr, filtered by `SEMAPHORE_LOG`, formatted per `SEMAPHORE_LOG_FORMAT`,
//! coloured only on a terminal and without `NO_COLOR`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::env::{Env, NO_COLOR, SEMAPHORE_LOG, SEMAPHORE_LOG_FORMAT};

/// A logging setting that cannot be used; the binary exits 64 on it.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("invalid {SEMAPHORE_LOG} filter {filter:?}: {reason}")]
    Filter { filter: String, reason: String },
    #[error("invalid {SEMAPHORE_LOG_FORMAT} {format:?}: use plain or json")]
    Format { format: String },
}

/// The filter when `SEMAPHORE_LOG` is unset: semaphore's own lifecycle at info; the embedded broker (nisshi,
/// whose crates' targets all start with `nisshi`) logs its own lifecycle and group rebalances at info, so
/// only its warnings and errors show.
pub const DEFAULT_FILTER: &str = "info,nisshi=warn";

/// Installs the global subscriber.
pub fn init(env: &dyn Env) -> Result<(), LoggingError> {
    let filter_text = env
        .get(SEMAPHORE_LOG)
        .unwrap_or_else(|| DEFAULT_FILTER.to_owned());
    let filter = EnvFilter::try_new(&filter_text).map_err(|error| LoggingError::Filter {
        filter: filter_text.clone(),
        reason: error.to_string(),
    })?;
    // Decided here: tracing-subscriber alone colours whenever NO_COLOR is unset, even into a file.
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour(stderr_is_terminal, env.get(NO_COLOR).as_deref()));
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

/// Whether log lines carry ANSI colour: only for a person at a terminal, since in a file, journald or a pipe
/// the escapes are noise; and `NO_COLOR` set to anything but the empty string turns it off even there, as
/// <https://no-color.org> asks.
fn colour(stderr_is_terminal: bool, no_color: Option<&str>) -> bool {
    stderr_is_terminal && no_color.is_none_or(str::is_empty)
}

#[cfg(test)]
mod tests {
    use super::colour;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(!colour(false, None), "a file, journald or a pipe");
        assert!(!colour(true, Some("1")));
        assert!(!colour(false, Some("1")));
        // no-color.org: only a non-empty value disables colour.
        assert!(colour(true, Some("")));
    }
}
