//! The organizations a Meraki source polls: every one the key can see, or those the config names (by id or
//! name). Listed once at start, retried with backoff until Meraki answers or the source is stopped.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use semaphore_meraki::Client;
use semaphore_meraki::model::Organization;

use crate::shutdown::Stop;
use crate::telemetry::Telemetry;

const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// `None` when stopped before Meraki answered.
pub async fn discover(
    client: &Client,
    wanted: &[String],
    source: &str,
    telemetry: &Arc<Telemetry>,
    stop: &Stop,
) -> Option<Vec<Organization>> {
    let mut delay = RETRY_FIRST;
    loop {
        match client.organizations().await {
            Ok(organizations) => {
                telemetry.meraki_reached.store(true, Ordering::Relaxed);
                let chosen = choose(organizations, wanted, source);
                tracing::info!(
                    %source, organizations = chosen.len(),
                    names = ?chosen.iter().map(|organization| organization.name.as_str()).collect::<Vec<_>>(),
                    "Polling organizations."
                );
                return Some(chosen);
            }
            Err(error) => {
                telemetry.meraki_reached.store(false, Ordering::Relaxed);
                telemetry.poll_errors.add(source, 1.0);
                tracing::warn!(%source, %error, retry_in_s = delay.as_secs(), "Cannot list the Meraki organizations; retrying.");
                if !stop.sleep(delay).await {
                    return None;
                }
                delay = (delay * 2).min(RETRY_MAX);
            }
        }
    }
}

fn choose(organizations: Vec<Organization>, wanted: &[String], source: &str) -> Vec<Organization> {
    if wanted.is_empty() {
        return organizations;
    }
    for name in wanted {
        if !organizations
            .iter()
            .any(|organization| &organization.id == name || &organization.name == name)
        {
            tracing::error!(%source, organization = %name, "The API key cannot see a configured organization; check the id or name and the key's access.");
        }
    }
    organizations
        .into_iter()
        .filter(|organization| {
            wanted
                .iter()
                .any(|name| *name == organization.id || *name == organization.name)
        })
        .collect()
}
