//! What each subcommand does, by calling the library; errors carry the exit code they map to.

use std::io::Write;
use std::sync::Arc;

use semaphore::env::ProcessEnv;
use semaphore_meraki_sim::{EstateShape, Faults, SimConfig, Simulator};

use crate::cli::{CheckArgs, Cli, Command, ReportFormat, SimulateArgs};
use crate::{EXIT_CONFIG, EXIT_FAILURE};

/// An error and the exit code it maps to.
pub struct Failure {
    pub error: anyhow::Error,
    pub exit_code: u8,
}

fn config_error(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: error.into(),
        exit_code: EXIT_CONFIG,
    }
}

fn runtime_error(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        error: error.into(),
        exit_code: EXIT_FAILURE,
    }
}

pub async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Simulate(args) => simulate(args).await,
        Command::Check(args) => check(args).await,
    }
}

async fn simulate(args: SimulateArgs) -> Result<(), Failure> {
    let mut faults = Faults::default();
    for assignment in &args.faults {
        faults
            .set(assignment)
            .map_err(|reason| config_error(anyhow::anyhow!("--fault {reason}")))?;
    }
    let config = SimConfig {
        shape: EstateShape {
            seed: args.seed,
            organizations: args.organizations,
            networks: args.networks,
            appliances: args.appliances,
            clients_per_network: args.clients_per_network,
        },
        rate_limit: args.rate_limit,
        api_key: args.api_key,
        faults,
        absolute_links: args.absolute_links,
    };
    let shutdown = semaphore::shutdown::install().map_err(runtime_error)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| {
            runtime_error(
                anyhow::Error::new(error)
                    .context(format!("cannot listen on {}; is the port in use?", args.listen)),
            )
        })?;
    let address = listener.local_addr().map_err(runtime_error)?;
    let simulator = Arc::new(Simulator::new(config));
    let summary = simulator.estate.summary();
    let appliances: usize = summary.values().map(|(_, appliances)| appliances).sum();
    tracing::info!(
        %address,
        organizations = summary.len(),
        appliances,
        seed = args.seed,
        "Meraki API simulator listening."
    );
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "Meraki API simulator: http://{address}/api/v1").map_err(runtime_error)?;
        for (organization_id, (networks, appliances)) in &summary {
            writeln!(
                stdout,
                "  organization {organization_id}: {networks} networks, {appliances} appliances"
            )
            .map_err(runtime_error)?;
        }
        writeln!(
            stdout,
            "  admin: http://{address}/_sim/faults (GET/PUT), http://{address}/_sim/stats"
        )
        .map_err(runtime_error)?;
        stdout.flush().map_err(runtime_error)?;
    }
    semaphore_meraki_sim::serve(listener, simulator, shutdown)
        .await
        .map_err(runtime_error)?;
    tracing::info!("Meraki API simulator stopped.");
    Ok(())
}

async fn check(args: CheckArgs) -> Result<(), Failure> {
    let client = semaphore::meraki::client(args.meraki_url.as_deref(), &ProcessEnv).map_err(config_error)?;
    let report = semaphore::meraki::check(&client).await.map_err(|error| {
        runtime_error(
            anyhow::Error::new(error).context(format!("cannot reach Meraki at {}", client.base_url())),
        )
    })?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report).map_err(runtime_error)?;
            writeln!(stdout).map_err(runtime_error)?;
        }
        ReportFormat::Text => {
            writeln!(stdout, "Meraki: reached {}", report.base_url).map_err(runtime_error)?;
            for organization in &report.organizations {
                writeln!(
                    stdout,
                    "  organization {} ({}): {} networks, {} devices, {} appliances",
                    organization.id,
                    organization.name,
                    organization.networks,
                    organization.devices,
                    organization.appliances
                )
                .map_err(runtime_error)?;
            }
            let api = &report.api;
            writeln!(
                stdout,
                "  API calls: {} requests, {} pages, {} rate-limited (429), {} retries",
                api.requests, api.pages, api.rate_limited, api.retries
            )
            .map_err(runtime_error)?;
        }
    }
    Ok(())
}
