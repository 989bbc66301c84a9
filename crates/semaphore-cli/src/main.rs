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
            eprintln!(
                "semaphore: error: {}",
                semaphore::error_text::one_line(failure.error.as_ref())
            );
            ExitCode::from(failure.exit_code)
        }
    }
}
