//! Typed client for the Cisco Meraki Dashboard API v1: the operations semaphore uses, and nothing of the pipeline.
//!
//! Layout:
//! - [`client`]: the [`Client`] and its builder; one request loop that authenticates, follows Meraki's
//!   redirects without leaking the key, spends the rate budget, retries and classifies errors.
//! - [`operations`]: one method per Meraki operation, each validating its parameters before anything is sent.
//! - [`query`]: the parameter structs of those operations and the timespan rules they obey.
//! - [`model`]: response types, shared with the simulator so both speak the same shapes.
//! - [`budget`]: the per-organization token bucket and the per-IP ceiling.
//! - [`backoff`]: the client's retry policy, and [`Backoff`], the workspace's one retry schedule (the
//!   collector's outputs, sinks and discovery use it too).
//! - [`series_stream`]: the org-wide loss/latency answer read as it arrives, split by [`json_array`].
//! - [`link`], [`base_url`], [`api_key`], [`metrics`], [`error`], `organization_index`: one concept each.
//!
//! **API Boundary:** this crate knows nothing of Kafka, records or configuration files.

pub mod api_key;
pub mod backoff;
pub mod base_url;
pub mod budget;
pub mod client;
pub mod error;
pub mod json_array;
pub mod link;
pub mod metrics;
pub mod model;
pub mod operations;
mod organization_index;
pub mod query;
pub mod series_stream;

pub use api_key::{ApiKey, MERAKI_DASHBOARD_API_KEY};
pub use backoff::Backoff;
pub use base_url::{BaseUrl, DEFAULT_BASE_URL};
pub use budget::RateBudget;
pub use client::{Client, ClientBuilder};
pub use error::MerakiError;
pub use metrics::{ClientMetrics, MetricsSnapshot};
pub use series_stream::SeriesStream;
