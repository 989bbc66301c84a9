//! The `semaphore` command: parses arguments, starts logging, calls the library and maps the outcome to an
//! exit code (0 success, 1 runtime failure, 2 usage or configuration error).

mod cli;
mod commands;
mod demo;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

/// Exit code for a usage or configuration error (clap uses 2 for usage errors too).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code for a runtime failure.
pub const EXIT_FAILURE: u8 = 1;
/// How long the runtime's remaining tasks may take once the command returned.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(1);

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = semaphore::logging::init(&semaphore::env::ProcessEnv) {
        eprintln!("semaphore: error: {error}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("semaphore: error: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let outcome = runtime.block_on(commands::run(cli));
    // The drain already waited its grace period; a task still blocked in librdkafka (a commit or close waiting
    // for a broker that is gone) must not hold the exit, so the runtime is not given longer than this.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // A closed pipe (`semaphore ... | head`) is not an error.
            if failure.error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let _ = std::io::stdout().flush();
            eprintln!("semaphore: error: {}", one_line(&failure.error));
            ExitCode::from(failure.exit_code)
        }
    }
}

/// An error and its causes, `error: cause: cause`, each said once. Many of semaphore's errors put their cause
/// in their own message (so that a log line, which shows the message alone, is complete) and also keep it as
/// their source; printing the chain as is (`{:#}`) would repeat it, as in "cannot use 127.0.0.1:9092 …:
/// Address already in use (os error 98); …: Address already in use (os error 98)".
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that says its source in its message, as `#[error("…{source}…")]` variants do.
    #[derive(Debug)]
    struct BindError(std::io::Error);

    impl std::fmt::Display for BindError {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                formatter,
                "cannot use 127.0.0.1:9092: {}; is another program listening there?",
                self.0
            )
        }
    }

    impl std::error::Error for BindError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// Issue 11: a cause the message already says is not printed again; other causes are.
    #[test]
    fn each_cause_is_printed_once() {
        let busy = || std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let error = anyhow::Error::new(BindError(busy()));
        assert_eq!(
            one_line(&error),
            "cannot use 127.0.0.1:9092: Address already in use; is another program listening there?"
        );
        let error = anyhow::Error::new(busy()).context("cannot listen on 127.0.0.1:8081");
        assert_eq!(
            one_line(&error),
            "cannot listen on 127.0.0.1:8081: Address already in use"
        );
        let error = error.context("cannot start");
        assert_eq!(
            one_line(&error),
            "cannot start: cannot listen on 127.0.0.1:8081: Address already in use"
        );
    }
}
