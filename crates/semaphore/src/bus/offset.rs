//! Where `semaphore consume` starts: kcat's `-o` values, and how a time becomes an offset in each partition.

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

/// Where a partition starts for `@TIME`, from the broker's answer to "the first offset at or after TIME".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeStart {
    /// Start at this offset.
    At(i64),
    /// The answer cannot be told from "no record that recent": read the oldest record's timestamp and decide
    /// with [`start_after_oldest`].
    CheckOldest,
}

/// `answer` is the broker's offset for the time (`None` where it gave none), `low` and `high` the
/// partition's watermarks. Kafka, and nisshi (the embedded broker), answer -1 where no record is that
/// recent; tansu 0.6, the embedded broker before nisshi, answered 0, which is also its answer when the oldest
/// record is that recent. So an answer past the oldest record is a record the broker found, and an answer at
/// or before it is settled by the oldest record's timestamp. Where no record is that recent the partition
/// starts at its end, so `-e` exits at once.
pub(crate) fn time_start(answer: Option<i64>, low: i64, high: i64) -> TimeStart {
    match answer {
        _ if low >= high => TimeStart::At(high),
        None => TimeStart::At(high),
        Some(offset) if offset > low => TimeStart::At(offset.min(high)),
        Some(_) => TimeStart::CheckOldest,
    }
}

/// Where a partition starts after [`TimeStart::CheckOldest`]: at the oldest record if it is at or after
/// `time` (the broker's answer stands), else at the end (the answer meant "none": a broker that found a
/// later record names its offset). A record without a timestamp is older than any time, as Kafka counts it.
pub(crate) fn start_after_oldest(time: i64, oldest_timestamp: Option<i64>, low: i64, high: i64) -> i64 {
    if oldest_timestamp.is_some_and(|timestamp| timestamp >= time) {
        low
    } else {
        high
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: a time past the newest record starts at the end, whether the broker says -1 (Kafka) or 0
    /// (tansu 0.6); a time within the partition starts where the broker says.
    #[test]
    fn a_time_becomes_an_offset() {
        assert_eq!(time_start(None, 0, 40), TimeStart::At(40));
        assert_eq!(time_start(Some(17), 0, 40), TimeStart::At(17));
        assert_eq!(time_start(Some(99), 0, 40), TimeStart::At(40));
        assert_eq!(time_start(Some(0), 0, 0), TimeStart::At(0));
        assert_eq!(time_start(Some(0), 5, 5), TimeStart::At(5));
        assert_eq!(time_start(Some(0), 0, 40), TimeStart::CheckOldest);
        assert_eq!(time_start(Some(0), 10, 40), TimeStart::CheckOldest);
        assert_eq!(time_start(Some(10), 10, 40), TimeStart::CheckOldest);
        let time = 1_700_000_000_000;
        assert_eq!(start_after_oldest(time, Some(time - 1), 0, 40), 40);
        assert_eq!(start_after_oldest(time, Some(time), 0, 40), 0);
        assert_eq!(start_after_oldest(time, Some(time + 1), 10, 40), 10);
        assert_eq!(start_after_oldest(time, None, 0, 40), 40);
    }

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
