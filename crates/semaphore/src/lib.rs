//! semaphore's library: everything the `semaphore` binary does, so the binary only parses arguments, starts
//! telemetry, calls in here and maps the result to an exit code.
//!
//! Layout:
//! - [`config`]: `semaphore.toml`, loaded and validated in two phases; [`check`]: what `check -c` reports.
//! - [`pipeline`]: builds and runs what the config declares, and drains it on stop.
//! - [`sources`]: the Meraki sources (org-wide loss/latency, per-device history, clients) and their windows.
//! - [`record`]: the record types semaphore writes (JSON Schemas in `schemas/`) and their encoding.
//! - [`outputs`]: Kafka, syslog (RFC 5424), stdout and file.
//! - [`sinks`]: consumers of the topics: InfluxDB, Prometheus exporter, webhook, alert rules, web dashboard.
//! - [`inventory`]: the cached organization inventory records are enriched from.
//! - [`device_identity`]: `[inventory]`, who sent a record by its address (a device file, Meraki's devices),
//!   shared by every source of the process.
//! - [`watermark`]: per-organization progress, persisted under the data directory.
//! - [`spool`]: the Kafka output's durable queue on disk, for records Kafka cannot take yet.
//! - [`bus`]: Kafka: connection settings, the embedded broker, producer, topic admin, consumer, read-back.
//! - [`telemetry`], [`admin_http`]: semaphore's own metrics and the `/metrics` `/healthz` `/readyz` server;
//!   [`http_server`]: binding and serving it (and the sinks' pages) until stop.
//! - [`error_text`]: an error and its causes on one line, each said once.
//! - [`env`]: the `SEMAPHORE_*` environment variables and the lookup trait tests use instead of `set_var`.
//! - [`logging`]: `tracing` set up from `SEMAPHORE_LOG` / `SEMAPHORE_LOG_FORMAT`.
//! - [`shutdown`]: the future that says stop (SIGINT or SIGTERM), and the [`shutdown::Stop`] handle.
//! - [`meraki`]: building the Meraki client from flags and environment, and the `check` report.
//! - [`secret`]: a string that never prints.
//! - [`send_future`]: boxing borrowed futures as `Send` for `join_all` / `buffer_unordered` in spawned tasks.

pub mod admin_http;
pub mod bus;
pub mod check;
pub mod config;
pub mod device_identity;
pub mod env;
pub mod error_text;
pub mod http_server;
pub mod inventory;
pub mod logging;
pub mod meraki;
pub mod outputs;
pub mod pipeline;
pub mod record;
pub mod secret;
pub mod send_future;
pub mod shutdown;
pub mod sinks;
pub mod sources;
pub mod spool;
pub mod telemetry;
pub mod watermark;
