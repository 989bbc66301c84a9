//! The command line: every flag, its help text and its environment variable, in one place.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// semaphore: network telemetry (Cisco Meraki uplink loss and latency, clients) onto Apache Kafka.
#[derive(Debug, Parser)]
#[command(name = "semaphore", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Meraki Dashboard API simulator (for tests, demos and benchmarks; no account needed).
    Simulate(SimulateArgs),
    /// Reach Meraki with the configured key and report what it can see.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Address to listen on; the API is served under http://ADDR/api/v1.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Seed of the generated estate and its loss/latency series; same seed, same answers.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of organizations.
    #[arg(long, default_value_t = 1)]
    pub organizations: usize,
    /// Networks per organization.
    #[arg(long, default_value_t = 3)]
    pub networks: usize,
    /// MX appliances per organization, spread over its networks (10,000 and more are fine).
    #[arg(long, default_value_t = 6)]
    pub appliances: usize,
    /// Clients per network.
    #[arg(long, default_value_t = 20)]
    pub clients_per_network: usize,
    /// Requests per second per organization before answering 429 (Meraki: 10, with a burst of 10); 0 = no limit.
    #[arg(long, default_value_t = 10)]
    pub rate_limit: u32,
    /// Accept only this API key (default: any non-empty key).
    #[arg(long, env = "SEMAPHORE_SIM_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Send page links as absolute URLs, as Meraki's docs show them (default: paths relative to the API base,
    /// as Meraki's spec calls them and as its Python SDK needs them for a host outside meraki.com).
    #[arg(long)]
    pub absolute_links: bool,
    /// Inject a fault, repeatable: latency-ms=N, error-rate=SHARE, storm=N (next N requests get 429),
    /// truncate-rate=SHARE, malformed-rate=SHARE, redirect-rate=SHARE, redirect-to=URL.
    #[arg(long = "fault", value_name = "KIND=VALUE")]
    pub faults: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Meraki API base URL, or a region: global, ca, cn, in, us-fed (default global). Key from
    /// MERAKI_DASHBOARD_API_KEY.
    #[arg(long, env = "SEMAPHORE_MERAKI_URL")]
    pub meraki_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
