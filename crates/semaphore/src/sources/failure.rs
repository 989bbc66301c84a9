//! Why a source ends on its own, as typed errors that keep their causes (issue 10, "Errors lose their
//! causes"): a [`SourceFailure`] names the source and holds a [`SourceError`], which holds the error of the
//! organization listing or of each organization's part of a `--once` cycle, and so on down to Meraki's,
//! Kafka's or the file system's own.

use std::error::Error;
use std::fmt;

use crate::error_text::one_line;
use crate::sources::listener::ListenerError;
use crate::sources::organizations::DiscoveryError;

/// Why a source ended on its own: Meraki refused it for good (a wrong key, no access), its `--once` cycle
/// left work undone (Meraki or an output unreachable), or a listener could not bind.
///
/// Its message says the whole chain on one line (`source ID: organization 1: cannot write the window: …`)
/// and it keeps the chain as its source too: the pipeline logs a failure with Display alone
/// (`error = %failure`) and joins several into one `PipelineError`, so the message must be complete, and
/// `error_text::one_line` skips the causes the message already says.
#[derive(Debug, thiserror::Error)]
#[error("source {source_id}: {}", one_line(.error))]
pub struct SourceFailure {
    pub source_id: String,
    /// Boxed: Meraki's error is large, and a source's future carries this as its output.
    #[source]
    pub error: Box<SourceError>,
}

impl SourceFailure {
    pub fn new(source_id: &str, error: impl Into<SourceError>) -> Self {
        Self {
            source_id: source_id.to_owned(),
            error: Box::new(error.into()),
        }
    }
}

/// What ended a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Listing the organizations cannot succeed: refused for good, or `--once` gave up on Meraki.
    #[error(transparent)]
    Organizations(#[from] DiscoveryError),
    /// What the `--once` cycle could not do, organization by organization.
    #[error(transparent)]
    Unfinished(#[from] ErrorList<PollError>),
    /// A push source could not open one of its `listen` addresses (taken, not this machine's, TLS files
    /// unreadable): the error names the address.
    #[error(transparent)]
    Listen(#[from] ListenerError),
}

/// What one organization's part of a cycle could not do, as the source kind's own typed error
/// (`windowed::CatchUpError`, `meraki_history::HistoryPollError`, `meraki_clients::ClientsPollError`).
/// Boxed, so that a new source kind brings its own error without a variant here.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PollError(Box<dyn Error + Send + Sync>);

impl PollError {
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Box::new(error))
    }

    /// The source kind's own error, for a caller (or a test) that knows the kind.
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref()
    }
}

/// Several errors of one kind as one (never empty): each on one line with its causes, `; ` between them. The
/// first is its source, so that a single error's chain can still be walked; every cause is in the message.
#[derive(Debug)]
pub struct ErrorList<E>(pub Vec<E>);

impl<E: Error + 'static> fmt::Display for ErrorList<E> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("; ")?;
            }
            formatter.write_str(&one_line(error))?;
        }
        Ok(())
    }
}

impl<E: Error + 'static> Error for ErrorList<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.first().map(|error| error as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("organization {0}: cannot write the window")]
    struct WriteFailed(&'static str, #[source] std::io::Error);

    /// Issue 10: the reason a source stopped says every organization's error with its causes.
    #[test]
    fn a_failure_says_each_organizations_error_with_its_causes() {
        let disk_full = || std::io::Error::other("no space left on device");
        let failure = SourceFailure::new(
            "meraki_uplinks",
            ErrorList(vec![
                PollError::new(WriteFailed("1", disk_full())),
                PollError::new(WriteFailed("2", disk_full())),
            ]),
        );
        let expected = "source meraki_uplinks: organization 1: cannot write the window: no space left on device; \
                        organization 2: cannot write the window: no space left on device";
        assert_eq!(failure.to_string(), expected);
        assert_eq!(one_line(&failure), expected);
        let SourceError::Unfinished(list) = &*failure.error else {
            panic!("an unfinished cycle: {failure:?}");
        };
        assert!(list.0[1].downcast_ref::<WriteFailed>().is_some());
    }
}
