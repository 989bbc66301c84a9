//! Why a poll of one agent failed: [`PollError`] names the target, [`PollErrorKind`] says what happened and
//! what to check, and gives the metric label the poller counts errors by. The text never holds a community,
//! a pass phrase or a key.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::sources::snmp::wire::{
    DecodeError, DecodeErrorKind, ErrorStatus, Oid, ReportError, UsmError, Version,
};

/// A request to one agent that failed, after its retries.
#[derive(Debug, thiserror::Error)]
#[error("SNMP agent {target}: {kind}")]
pub struct PollError {
    target: SocketAddr,
    kind: PollErrorKind,
}

impl PollError {
    pub fn new(target: SocketAddr, kind: PollErrorKind) -> Self {
        Self { target, kind }
    }

    pub fn kind(&self) -> &PollErrorKind {
        &self.kind
    }

    pub fn target(&self) -> SocketAddr {
        self.target
    }
}

/// What went wrong. Each USM refusal is final: retrying with the same settings cannot succeed.
#[derive(Debug)]
pub enum PollErrorKind {
    /// No valid answer in any try: the agent is down or unreachable, or (v1/v2c) the community is wrong, which
    /// agents answer with silence.
    Timeout {
        tries: u32,
        timeout: Duration,
        version: Version,
    },
    UnknownUser,
    WrongDigest,
    /// Still not in the agent's time window after resynchronizing once.
    NotInTimeWindow,
    UnsupportedSecurityLevel,
    DecryptionError,
    /// Still an unknown engine ID after rediscovering it once.
    UnknownEngineId,
    /// The agent answered with an error-status (tooBig, genErr, noAccess...); `index` is its error-index.
    ErrorStatus {
        status: ErrorStatus,
        index: i32,
    },
    /// What the agent sent did not decode, and nothing valid came in the tries' time.
    Malformed(DecodeError),
    /// A walk got an OID not greater than the one before it: the agent loops.
    NotIncreasing {
        asked: Oid,
        got: Oid,
    },
    /// A walked column had more rows than the session's bound (`max_rows`).
    TooManyRows {
        column: Oid,
        max: usize,
    },
    /// A walk had more varbinds in all than the session's bound.
    WalkTooLong {
        max: usize,
    },
    /// A Report the other variants do not name (snmpUnknownContexts, snmpInvalidMsgs...).
    Report(ReportError),
    Io(std::io::Error),
}

impl PollErrorKind {
    /// The `kind` label of the poller's error counter.
    pub fn label(&self) -> &'static str {
        match self {
            PollErrorKind::Timeout { .. } => "timeout",
            PollErrorKind::UnknownUser => "unknown_user",
            PollErrorKind::WrongDigest => "wrong_digest",
            PollErrorKind::NotInTimeWindow => "not_in_time_window",
            PollErrorKind::UnsupportedSecurityLevel => "unsupported_security_level",
            PollErrorKind::DecryptionError => "decryption",
            PollErrorKind::UnknownEngineId => "unknown_engine_id",
            PollErrorKind::ErrorStatus { .. } => "error_status",
            PollErrorKind::Malformed(_) => "malformed",
            PollErrorKind::NotIncreasing { .. } => "not_increasing",
            PollErrorKind::TooManyRows { .. } => "too_many_rows",
            PollErrorKind::WalkTooLong { .. } => "walk_too_long",
            PollErrorKind::Report(_) => "report",
            PollErrorKind::Io(_) => "io",
        }
    }

    /// The error a Report from the agent is, when it is one the session does not recover from.
    pub(super) fn from_report(report: ReportError) -> Self {
        match report {
            ReportError::UnknownUserName => PollErrorKind::UnknownUser,
            ReportError::WrongDigest => PollErrorKind::WrongDigest,
            ReportError::NotInTimeWindow => PollErrorKind::NotInTimeWindow,
            ReportError::UnsupportedSecurityLevel => PollErrorKind::UnsupportedSecurityLevel,
            ReportError::DecryptionError => PollErrorKind::DecryptionError,
            ReportError::UnknownEngineId => PollErrorKind::UnknownEngineId,
            other => PollErrorKind::Report(other),
        }
    }
}

/// An answer our side of USM refused (or a request it could not make), as the matching kind.
impl From<UsmError> for PollErrorKind {
    fn from(error: UsmError) -> Self {
        match error {
            UsmError::Malformed(error) => PollErrorKind::Malformed(error),
            UsmError::UnsupportedSecurityModel(model) => {
                let kind = DecodeErrorKind::OutOfRange(i64::from(model));
                PollErrorKind::Malformed(DecodeError::new("msgSecurityModel", kind))
            }
            UsmError::UnknownUserName => PollErrorKind::UnknownUser,
            UsmError::UnknownEngineId => PollErrorKind::UnknownEngineId,
            UsmError::UnsupportedSecurityLevel(_) | UsmError::SecurityLevelTooLow { .. } => {
                PollErrorKind::UnsupportedSecurityLevel
            }
            UsmError::AuthenticationParametersLength { .. } | UsmError::WrongDigest => {
                PollErrorKind::WrongDigest
            }
            UsmError::PrivacyParametersLength(_)
            | UsmError::CiphertextLength(_)
            | UsmError::UndecryptableScopedPdu(_) => PollErrorKind::DecryptionError,
            UsmError::NotInTimeWindow { .. } => PollErrorKind::NotInTimeWindow,
        }
    }
}

impl fmt::Display for PollErrorKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollErrorKind::Timeout {
                tries,
                timeout,
                version,
            } => write_timeout(formatter, *tries, *timeout, *version),
            PollErrorKind::UnknownUser => formatter.write_str(
                "unknown user name (usmStatsUnknownUserNames): the agent has no such SNMPv3 user; check `user` \
                 against the agent's configuration",
            ),
            PollErrorKind::WrongDigest => formatter.write_str(
                "wrong digest (usmStatsWrongDigests): the authentication pass phrase or protocol differs from \
                 the agent's; check auth_passphrase_env and auth_protocol",
            ),
            PollErrorKind::NotInTimeWindow => formatter.write_str(
                "not in time window (usmStatsNotInTimeWindows) even after resynchronizing with the agent's \
                 engine boots and time; is the agent's engine boots counter stuck at its maximum?",
            ),
            PollErrorKind::UnsupportedSecurityLevel => formatter.write_str(
                "unsupported security level (usmStatsUnsupportedSecLevels): the agent's user is not configured \
                 for this security level; check security_level, auth_protocol and priv_protocol",
            ),
            PollErrorKind::DecryptionError => formatter.write_str(
                "decryption error (usmStatsDecryptionErrors): the privacy pass phrase or protocol differs from \
                 the agent's; check priv_passphrase_env and priv_protocol",
            ),
            PollErrorKind::UnknownEngineId => formatter.write_str(
                "unknown engine ID (usmStatsUnknownEngineIDs) even after rediscovering it: is more than one \
                 agent answering at this address?",
            ),
            PollErrorKind::ErrorStatus { status, index } => write_error_status(formatter, *status, *index),
            PollErrorKind::Malformed(error) => write!(
                formatter,
                "malformed answer ({error}): a buggy agent, or something other than an SNMP agent on this port"
            ),
            PollErrorKind::NotIncreasing { asked, got } => write!(
                formatter,
                "the agent answered {got} after {asked}, which is not a greater OID: it loops on this table; \
                 fix the agent or leave the table out"
            ),
            PollErrorKind::TooManyRows { column, max } => write!(
                formatter,
                "more than {max} rows in column {column}: the agent seems to loop; raise max_rows if the table \
                 really is that long"
            ),
            PollErrorKind::WalkTooLong { max } => write!(
                formatter,
                "more than {max} values in one poll's walk, all columns together: the agent seems to loop, or \
                 its tables are too long to poll whole; leave some of the configured tables out"
            ),
            PollErrorKind::Report(report) => write!(formatter, "the agent refused the request: {report}"),
            PollErrorKind::Io(error) => write!(formatter, "UDP socket error: {error}"),
        }
    }
}

impl std::error::Error for PollErrorKind {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PollErrorKind::Io(error) => Some(error),
            _ => None,
        }
    }
}

fn write_timeout(
    formatter: &mut fmt::Formatter<'_>,
    tries: u32,
    timeout: Duration,
    version: Version,
) -> fmt::Result {
    write!(
        formatter,
        "no answer to {tries} {version} tries of {timeout:?} each: check that the agent runs and that UDP \
         reaches it"
    )?;
    match version {
        Version::V1 | Version::V2c => formatter.write_str(
            ", and the community (community_env): an agent ignores a request with a wrong community",
        ),
        Version::V3 => formatter.write_str(", and that the agent speaks SNMPv3"),
    }
}

fn write_error_status(formatter: &mut fmt::Formatter<'_>, status: ErrorStatus, index: i32) -> fmt::Result {
    write!(formatter, "the agent answered {status} (error-index {index})")?;
    let hint = match status {
        ErrorStatus::TooBig => ": its answer would not fit in a datagram; lower max_repetitions",
        ErrorStatus::NoSuchName => ": an SNMPv1 agent has no such object; check the OIDs asked",
        ErrorStatus::NoAccess | ErrorStatus::AuthorizationError => {
            ": the agent's access control (VACM) does not let this community or user read it"
        }
        _ => "",
    };
    formatter.write_str(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 7], 161))
    }

    #[test]
    fn a_community_timeout_names_the_target_and_the_community() {
        let kind = PollErrorKind::Timeout {
            tries: 2,
            timeout: Duration::from_millis(200),
            version: Version::V2c,
        };
        let error = PollError::new(target(), kind);
        let shown = error.to_string();
        assert!(
            shown.starts_with("SNMP agent 192.0.2.7:161: no answer to 2 SNMPv2c tries of 200ms"),
            "{shown}"
        );
        assert!(shown.contains("wrong community"), "{shown}");
        assert_eq!(error.kind().label(), "timeout");
        assert_eq!(error.target(), target());
    }

    #[test]
    fn reports_and_usm_refusals_have_their_kinds() {
        let kind = PollErrorKind::from_report(ReportError::WrongDigest);
        assert_eq!(kind.label(), "wrong_digest");
        assert!(kind.to_string().contains("auth_passphrase_env"), "{kind}");
        let kind = PollErrorKind::from_report(ReportError::UnknownContext);
        assert_eq!(kind.label(), "report");
        assert_eq!(
            PollErrorKind::from(UsmError::CiphertextLength(3)).label(),
            "decryption"
        );
        let model = PollErrorKind::from(UsmError::UnsupportedSecurityModel(2));
        assert_eq!(model.to_string().split(" (").next(), Some("malformed answer"));
    }
}
