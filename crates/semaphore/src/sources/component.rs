//! The shape every source kind has, so that a new kind is one module plus one line in [`super::registry`]:
//! its table as written ([`SourceFile`]: serde, `deny_unknown_fields`, validated into its config), its
//! validated config ([`Source`]: an id, a line for `check -c`, and `build`), and the [`SourceContext`] the
//! pipeline hands to `build`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use semaphore_meraki::{Client, MerakiError, RateBudget};

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::device_identity::DeviceDirectory;
use crate::env::Env;
use crate::outputs::Outputs;
use crate::record::KeyStrategy;
use crate::shutdown::Stop;
use crate::sources::SourceFailure;
use crate::sources::snmp::traps::TrapSetupError;
use crate::sources::window_writer::WindowWriter;
use crate::telemetry::Telemetry;
use crate::watermark::{WatermarkError, WatermarkStore};

/// A `[[sources.KIND]]` table as written.
pub trait SourceFile {
    type Config: Source;
    /// Checks every value, naming the key at fault (`at.key("interval_s")`).
    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<Self::Config, ConfigError>;
}

/// A validated source.
pub trait Source {
    /// Names the source in logs, metrics, the `source` header and its state files.
    fn id(&self) -> &str;
    /// What it reads and where it writes, in a few words, for `check -c`: `meraki_uplinks -> TOPIC`.
    fn describe(&self) -> String;
    /// Whether it polls the Meraki Dashboard API (so `check -c` reaches Meraki, and `/readyz` waits for it).
    fn uses_meraki(&self) -> bool;
    /// Whether it names its records' senders from the device directory (`[inventory]`). Only then do the
    /// Meraki sources feed it their devices, at the cost of one uplink-statuses call per organization per
    /// inventory refresh.
    fn uses_device_identity(&self) -> bool {
        false
    }
    /// The running source, started by the pipeline; it ends when stopped, when its `--once` cycle is done, or
    /// when it fails for good.
    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError>;
}

/// A source at work: `Err` when it ended on its own for a reason the operator must see.
pub type RunningSource = BoxFuture<'static, Result<(), SourceFailure>>;

/// Why a source could not be built from a valid config: the environment it needs is missing.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot set up the Meraki client")]
    Meraki(#[source] MerakiError),
    #[error("cannot open the watermark store")]
    Watermark(#[source] WatermarkError),
    /// `[[sources.snmp]]`: a credential variable unset or unusable, or no target to poll.
    #[error("cannot set up the SNMP poller")]
    SnmpPoller(#[source] crate::sources::snmp::poller::SnmpBuildError),
    /// A secret the SNMP trap source's config names is not set, or our engine's state cannot be kept.
    #[error("cannot set up the SNMP trap source")]
    SnmpTraps(#[source] TrapSetupError),
}

/// What the pipeline gives every source it builds.
pub struct SourceContext<'a> {
    /// Stops polling (and listening); the window being written is finished first.
    pub stop: Stop,
    pub telemetry: Arc<Telemetry>,
    /// Where records go; returns once every output took every record.
    pub outputs: Arc<Outputs>,
    /// One cycle, then end (`--once`).
    pub once: bool,
    /// Where sources keep state (watermarks).
    pub data_dir: PathBuf,
    /// Secrets (the Meraki key) come from here, never from the file.
    pub env: &'a dyn Env,
    pub meraki_url: Option<String>,
    pub meraki_timeout: Duration,
    /// One Meraki budget for every client of the process: Meraki counts requests per organization.
    pub meraki_budget: Arc<RateBudget>,
    /// Who each sender is (`[inventory]`), one directory for every source of the process.
    pub devices: Arc<DeviceDirectory>,
}

impl SourceContext<'_> {
    /// A Meraki client sharing the process's rate budget, its counters on `/metrics`.
    pub fn meraki_client(&self) -> Result<Client, BuildError> {
        let client = crate::meraki::client_builder(self.meraki_url.as_deref(), self.env)
            .and_then(|builder| {
                builder
                    .budget(self.meraki_budget.clone())
                    .timeout(self.meraki_timeout)
                    .build()
            })
            .map_err(BuildError::Meraki)?;
        self.telemetry.register_meraki(&client);
        Ok(client)
    }

    /// The device directory for a Meraki source to feed its organizations' devices into, when it wants them.
    pub fn meraki_device_feed(&self) -> Option<Arc<DeviceDirectory>> {
        self.devices.wants_meraki().then(|| self.devices.clone())
    }

    /// The exactly-once window writer of source `id`, its watermarks under the data directory.
    pub fn window_writer(
        &self,
        id: &str,
        topic: &str,
        key: &KeyStrategy,
    ) -> Result<WindowWriter, BuildError> {
        let store = WatermarkStore::open(&self.data_dir, id).map_err(BuildError::Watermark)?;
        Ok(WindowWriter {
            source: id.to_owned(),
            topic: topic.to_owned(),
            key: key.clone(),
            store,
            outputs: self.outputs.clone(),
            telemetry: self.telemetry.clone(),
        })
    }
}
