//! The `<PRI>` a syslog line starts with: facility × 8 + severity, 0 to 191 (RFC 5424 §6.2.1, RFC 3164
//! §4.1.1), and the names syslog implementations give both.

use crate::sources::syslog::parse::error::ParseError;

/// Facility and severity as a `<PRI>` encodes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    /// 0 to 23.
    pub facility: u8,
    /// 0 (emergency) to 7 (debug).
    pub severity: u8,
}

/// The largest priority: facility 23 (local7), severity 7.
const MAX_PRIORITY: u8 = 191;

/// RFC 5424 table 1, by the keywords of syslog.conf (13 to 15 have no common keyword; these are the ones
/// rsyslog and syslog-ng print).
const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// RFC 5424 table 2, by the keywords of syslog.conf.
const SEVERITY_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Splits a `<PRI>` off the front of `text`. A line that does not start with `<` has none: `Ok(None)` and the
/// whole text, which the caller still reads. A `<` that does not open a valid priority is an error.
pub fn split(text: &str) -> Result<(Option<Priority>, &str), ParseError> {
    let Some(after_bracket) = text.strip_prefix('<') else {
        return Ok((None, text));
    };
    let digits = after_bracket.bytes().take_while(u8::is_ascii_digit).count();
    match after_bracket.as_bytes().get(digits) {
        None => Err(ParseError::UnterminatedPriority),
        Some(b'>') if (1..=3).contains(&digits) => {
            let value: u16 = after_bracket[..digits]
                .parse()
                .map_err(|_| ParseError::BadPriority)?;
            Ok((Some(Priority::from_value(value)?), &after_bracket[digits + 1..]))
        }
        Some(_) => Err(ParseError::BadPriority),
    }
}

impl Priority {
    fn from_value(value: u16) -> Result<Self, ParseError> {
        let priority = u8::try_from(value)
            .ok()
            .filter(|priority| *priority <= MAX_PRIORITY)
            .ok_or(ParseError::PriorityTooLarge(value))?;
        Ok(Self {
            facility: priority / 8,
            severity: priority % 8,
        })
    }

    pub fn facility_name(self) -> Option<&'static str> {
        FACILITY_NAMES.get(usize::from(self.facility)).copied()
    }

    pub fn severity_name(self) -> Option<&'static str> {
        SEVERITY_NAMES.get(usize::from(self.severity)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_facility_and_severity() {
        let (priority, rest) = split("<34>Oct").unwrap();
        let priority = priority.unwrap();
        assert_eq!(
            priority,
            Priority {
                facility: 4,
                severity: 2
            }
        );
        assert_eq!(
            (priority.facility_name(), priority.severity_name()),
            (Some("auth"), Some("crit"))
        );
        assert_eq!(rest, "Oct");
    }

    #[test]
    fn names_every_facility_and_severity() {
        let (lowest, _) = split("<0>").unwrap();
        let (highest, _) = split("<191>").unwrap();
        assert_eq!(lowest.unwrap().facility_name(), Some("kern"));
        assert_eq!(lowest.unwrap().severity_name(), Some("emerg"));
        assert_eq!(highest.unwrap().facility_name(), Some("local7"));
        assert_eq!(highest.unwrap().severity_name(), Some("debug"));
    }

    #[test]
    fn a_line_without_priority_is_left_whole() {
        assert_eq!(split("Oct 11"), Ok((None, "Oct 11")));
    }

    #[test]
    fn rejects_bad_priorities() {
        assert_eq!(split("<192>x"), Err(ParseError::PriorityTooLarge(192)));
        assert_eq!(split("<999>"), Err(ParseError::PriorityTooLarge(999)));
        assert_eq!(split("<"), Err(ParseError::UnterminatedPriority));
        assert_eq!(split("<13"), Err(ParseError::UnterminatedPriority));
        assert_eq!(split("<>"), Err(ParseError::BadPriority));
        assert_eq!(split("<1234>"), Err(ParseError::BadPriority));
        assert_eq!(split("<1a>"), Err(ParseError::BadPriority));
    }
}
