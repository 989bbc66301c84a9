//! Why a line did not parse, or parsed only in part. The record carries the text of the variant
//! (`parseError`); the enum itself is `Copy` and holds no heap data, so the per-line path allocates for an
//! error only when there is one.

/// What was wrong with a line. It never stops the line from becoming a record: the record keeps what was
/// read, and the whole line as its message when nothing could be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    /// The rest of the line is still read (a relay that strips `<PRI>` leaves a usable header).
    #[error("no priority: the line does not start with `<`")]
    MissingPriority,
    #[error("priority is not closed by `>`")]
    UnterminatedPriority,
    #[error("priority is not 1 to 3 digits closed by `>`")]
    BadPriority,
    #[error("priority {0} is above 191")]
    PriorityTooLarge(u16),
    #[error("header ends before the {field} ({format})")]
    Truncated {
        format: &'static str,
        field: &'static str,
    },
    #[error("timestamp is not an RFC 3339 date-time (RFC 5424)")]
    BadTimestamp,
    #[error("timestamp is not seconds since the epoch (Meraki)")]
    BadEpoch,
    #[error("timestamp names a date that does not exist")]
    ImpossibleDate,
    #[error("structured data: {0}")]
    StructuredData(&'static str),
}
