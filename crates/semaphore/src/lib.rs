//! semaphore's library: everything the `semaphore` binary does, so the binary only parses arguments, starts
//! telemetry, calls in here and maps the result to an exit code.
//!
//! Layout today (the Kafka bus, sources, sinks and pipeline arrive with their issues):
//! - [`env`]: the `SEMAPHORE_*` environment variables and the lookup trait tests use instead of `set_var`.
//! - [`logging`]: `tracing` set up from `SEMAPHORE_LOG` / `SEMAPHORE_LOG_FORMAT`.
//! - [`shutdown`]: the future that says stop (SIGINT or SIGTERM).
//! - [`meraki`]: building the Meraki client from flags and environment, and the `check` report.
//! - [`bus`]: Kafka: connection settings, the embedded broker, producer, topic admin, consumer.
//! - [`secret`]: a string that never prints.

pub mod bus;
pub mod env;
pub mod logging;
pub mod meraki;
pub mod secret;
pub mod shutdown;
