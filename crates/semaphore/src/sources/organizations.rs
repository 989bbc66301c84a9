//! The organizations a Meraki source polls: every one the key can see, or those the config names (by id or
//! name). Listed once at start and retried with backoff while Meraki is unreachable or failing; an answer no
//! retry can change (401, 403, 404, a refused request) ends the source, and with `--once` so does Meraki
//! staying unreachable for [`ONCE_GIVES_UP_AFTER`].

use std::sync::Arc;
use std::time::Duration;

use semaphore_meraki::error::ErrorKind;
use semaphore_meraki::model::Organization;
use semaphore_meraki::{Backoff, Client, MerakiError};

use crate::shutdown::Stop;
use crate::telemetry::Telemetry;
use crate::telemetry::metrics::POLL_ERRORS;

/// Between two listings while Meraki is unreachable or failing: 2 s doubling to 60 s (each listing already
/// includes the client's own retries).
const DISCOVERY_RETRY: Backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
/// How long `--once` keeps trying an unreachable or failing Meraki before the command fails: a cron job must end.
pub const ONCE_GIVES_UP_AFTER: Duration = Duration::from_secs(60);

/// Why the organizations cannot be listed, which ends the source.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// An answer no retry can change (401, 403, 404, a refused request).
    #[error("cannot list the Meraki organizations")]
    Refused(#[source] MerakiError),
    /// `--once`: Meraki stayed unreachable or failing for [`ONCE_GIVES_UP_AFTER`]. The message says its
    /// source itself, as the hint follows it.
    #[error("cannot list the Meraki organizations: {source}; gave up after {} s (--once)", .waited.as_secs())]
    GaveUp {
        waited: Duration,
        #[source]
        source: ListingError,
    },
}

/// Why one listing of the organizations failed.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error(transparent)]
    Meraki(#[from] MerakiError),
    /// `--once` stopped waiting for the client's own retries.
    #[error("no answer within {0:?}")]
    NoAnswer(Duration),
}

/// `Ok(None)` when stopped before Meraki answered; `Err` when listing cannot succeed.
pub async fn discover(
    client: &Client,
    wanted: &[String],
    source: &str,
    telemetry: &Arc<Telemetry>,
    stop: &Stop,
    once: bool,
) -> Result<Option<Vec<Organization>>, DiscoveryError> {
    let started = tokio::time::Instant::now();
    let mut retry = 0u32;
    loop {
        let listed = if once {
            // The client's own retries can take minutes against an address that never answers.
            let left = ONCE_GIVES_UP_AFTER.saturating_sub(started.elapsed());
            tokio::time::timeout(left, client.organizations()).await
        } else {
            Ok(client.organizations().await)
        };
        let error = match listed {
            Ok(Ok(organizations)) => {
                telemetry.meraki_reached(source);
                let chosen = choose(organizations, wanted);
                tracing::info!(
                    organizations = chosen.len(),
                    names = ?chosen.iter().map(|organization| organization.name.as_str()).collect::<Vec<_>>(),
                    "Polling organizations."
                );
                return Ok(Some(chosen));
            }
            Ok(Err(error)) => ListingError::Meraki(error),
            Err(_) => ListingError::NoAnswer(ONCE_GIVES_UP_AFTER),
        };
        telemetry.meraki_not_reached(source, &error);
        telemetry.add(&POLL_ERRORS, &[source], 1.0);
        let error = match error {
            ListingError::Meraki(error) if is_final(&error) => {
                tracing::error!(%error, "Meraki refused to list the organizations; retrying cannot change that.");
                return Err(DiscoveryError::Refused(error));
            }
            error => error,
        };
        retry += 1;
        let delay = DISCOVERY_RETRY.delay(retry);
        if once && started.elapsed() + delay >= ONCE_GIVES_UP_AFTER {
            return Err(DiscoveryError::GaveUp {
                waited: started.elapsed(),
                source: error,
            });
        }
        tracing::warn!(%error, retry_in_s = delay.as_secs(), "Cannot list the Meraki organizations; retrying.");
        if !stop.sleep(delay).await {
            return Ok(None);
        }
    }
}

/// Whether `error` means Meraki was not reached at all (no connection, no answer in time), for a source's
/// `semaphore_meraki_up` and `/readyz`; any answer, even an error status, means it was.
pub fn unreachable(error: &MerakiError) -> bool {
    matches!(error.kind(), ErrorKind::Connection | ErrorKind::Timeout)
}

/// Answers that mean the request itself, the key or its access is wrong: asking again gets the same answer.
pub fn is_final(error: &MerakiError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Unauthorized
            | ErrorKind::Forbidden
            | ErrorKind::NotFound
            | ErrorKind::BadRequest
            | ErrorKind::InvalidParameter
            | ErrorKind::Config
    )
}

fn choose(organizations: Vec<Organization>, wanted: &[String]) -> Vec<Organization> {
    if wanted.is_empty() {
        return organizations;
    }
    for name in wanted {
        if !organizations
            .iter()
            .any(|organization| &organization.id == name || &organization.name == name)
        {
            tracing::error!(organization = %name, "The API key cannot see a configured organization; check the id or name and the key's access.");
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
