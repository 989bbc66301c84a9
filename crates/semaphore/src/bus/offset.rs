//! Where `semaphore consume` starts: kcat's `-o` values.

use std::fmt;
use std::str::FromStr;

use chrono::DateTime;

/// A start position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartOffset {
    /// The oldest record still kept.
    Beginning,
    /// Only records produced from now on.
    End,
    /// The consumer group's committed offset (requires a group); new groups start at the beginning.
    Stored,
    /// This absolute offset in every partition.
    Absolute(i64),
    /// This many records before the end of every partition (`-N`).
    Tail(i64),
    /// The first record at or after this time, milliseconds since the epoch (`@TIMESTAMP`).
    Timestamp(i64),
}

impl FromStr for StartOffset {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            format!(
                "invalid offset {value:?}: use beginning, end, stored, N (absolute), -N (N before the end), \
                 @MILLISECONDS or @2026-11-27T10:00:00Z"
            )
        };
        match value {
            "beginning" | "earliest" => Ok(StartOffset::Beginning),
            "end" | "latest" => Ok(StartOffset::End),
            "stored" => Ok(StartOffset::Stored),
            _ => {
                if let Some(time) = value.strip_prefix('@') {
                    if let Ok(milliseconds) = time.parse::<i64>() {
                        return Ok(StartOffset::Timestamp(milliseconds));
                    }
                    return DateTime::parse_from_rfc3339(time)
                        .map(|time| StartOffset::Timestamp(time.timestamp_millis()))
                        .map_err(|_| invalid());
                }
                if let Some(tail) = value.strip_prefix('-') {
                    return tail
                        .parse::<i64>()
                        .ok()
                        .filter(|tail| *tail > 0)
                        .map(StartOffset::Tail)
                        .ok_or_else(invalid);
                }
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|offset| *offset >= 0)
                    .map(StartOffset::Absolute)
                    .ok_or_else(invalid)
            }
        }
    }
}

impl fmt::Display for StartOffset {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartOffset::Beginning => formatter.write_str("beginning"),
            StartOffset::End => formatter.write_str("end"),
            StartOffset::Stored => formatter.write_str("stored"),
            StartOffset::Absolute(offset) => write!(formatter, "{offset}"),
            StartOffset::Tail(count) => write!(formatter, "-{count}"),
            StartOffset::Timestamp(milliseconds) => write!(formatter, "@{milliseconds}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcat_forms() {
        assert_eq!("beginning".parse(), Ok(StartOffset::Beginning));
        assert_eq!("end".parse(), Ok(StartOffset::End));
        assert_eq!("stored".parse(), Ok(StartOffset::Stored));
        assert_eq!("42".parse(), Ok(StartOffset::Absolute(42)));
        assert_eq!("-10".parse(), Ok(StartOffset::Tail(10)));
        assert_eq!(
            "@1700000000000".parse(),
            Ok(StartOffset::Timestamp(1_700_000_000_000))
        );
        assert_eq!(
            "@2023-11-14T22:13:20Z".parse(),
            Ok(StartOffset::Timestamp(1_700_000_000_000))
        );
        assert!("-0".parse::<StartOffset>().is_err());
        assert!(
            "soon"
                .parse::<StartOffset>()
                .unwrap_err()
                .contains("beginning, end, stored")
        );
    }
}
