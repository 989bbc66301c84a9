//! Reading the times devices write: RFC 3339 (RFC 5424, Arista's high-resolution stamps), seconds since the
//! epoch (Meraki), and the BSD family's `Mmm dd hh:mm:ss` with the year, fraction and year-first order Cisco
//! devices add. Where the result is placed on the timeline, and when the arrival time is used instead, is
//! said on [`TsSource`](crate::sources::syslog::parse::TsSource).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::sources::syslog::parse::scan::{number, skip_spaces, token};

/// How far after its arrival a yearless time may lie and still get the arrival's year: a device clock
/// running a little ahead, or a different zone, should not push its line a year back.
const FUTURE_SLACK: TimeDelta = TimeDelta::days(1);

/// How many years back a yearless date is looked for: far enough to reach a 29 February (leap years are up
/// to eight years apart, around 2100).
const YEARS_BACK: i32 = 8;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Digits of a fraction that fit in nanoseconds; more are read and dropped.
const NANOSECOND_DIGITS: usize = 9;

/// The most digits of epoch seconds read (up to the year 33658): more is not a time.
const MAX_EPOCH_DIGITS: usize = 12;

/// A date and time as a BSD-family header writes it: no zone (a zone word may follow it), maybe no year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegacyTime {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    pub time: NaiveTime,
}

/// An RFC 3339 date-time, in UTC; any number of fraction digits, read to the nanosecond.
pub fn rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// Seconds since the epoch with an optional fraction (Meraki: `1701234567.123456789`).
pub fn epoch(text: &str) -> Option<DateTime<Utc>> {
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    let seconds_ok = (1..=MAX_EPOCH_DIGITS).contains(&seconds.len()) && all_digits(seconds);
    if !seconds_ok || !all_digits(fraction) {
        return None;
    }
    DateTime::from_timestamp(seconds.parse().ok()?, nanoseconds(fraction))
}

/// Reads `Mmm dd hh:mm:ss[.f]`, `Mmm dd yyyy hh:mm:ss[.f]` (IOS with `year`, the ASA) or
/// `yyyy Mmm dd hh:mm:ss[.f]` (NX-OS) from the front of `text`. Returns it and the text after the clock,
/// which is empty or starts with a space or a colon.
pub fn legacy(text: &str) -> Option<(LegacyTime, &str)> {
    let (first, rest) = token(text)?;
    match year(first) {
        Some(year) => year_first(year, rest),
        None => month_first(first, rest),
    }
}

impl LegacyTime {
    /// This time in UTC, read in the zone `offset` seconds east of UTC. A yearless time gets the latest year
    /// that does not put it more than [`FUTURE_SLACK`] after `received_at`: a December line read on 1
    /// January gets the year before. `None` for a date no such year has (30 February).
    pub fn to_utc(self, offset: i32, received_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.year {
            Some(year) => self.in_year(year, offset),
            None => self.latest_plausible(offset, received_at),
        }
    }

    fn latest_plausible(self, offset: i32, received_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let latest = received_at
            .checked_add_signed(FUTURE_SLACK)
            .unwrap_or(received_at);
        let newest_year = received_at.year().saturating_add(1);
        (newest_year.saturating_sub(YEARS_BACK)..=newest_year)
            .rev()
            .filter_map(|year| self.in_year(year, offset))
            .find(|candidate| *candidate <= latest)
    }

    fn in_year(self, year: i32, offset: i32) -> Option<DateTime<Utc>> {
        let local = NaiveDate::from_ymd_opt(year, self.month, self.day)?.and_time(self.time);
        let utc = local.checked_sub_signed(TimeDelta::seconds(i64::from(offset)))?;
        Some(utc.and_utc())
    }
}

/// NX-OS: `2026 Mar  1 18:46:11`, the year already read.
fn year_first(year: i32, text: &str) -> Option<(LegacyTime, &str)> {
    let (month_word, rest) = token(text)?;
    let month = month(month_word)?;
    let (day, rest) = day(rest)?;
    let (time, rest) = clock(skip_spaces(rest))?;
    Some((
        LegacyTime {
            year: Some(year),
            month,
            day,
            time,
        },
        rest,
    ))
}

/// BSD and Cisco: `Mar  1 18:46:11`, or with the year after the day (`Mar 1 2026 18:46:11`).
fn month_first<'a>(month_word: &str, text: &'a str) -> Option<(LegacyTime, &'a str)> {
    let month = month(month_word)?;
    let (day, rest) = day(text)?;
    let (year, rest) = match token(rest).and_then(|(word, after)| Some((year(word)?, after))) {
        Some((year, after)) => (Some(year), after),
        None => (None, rest),
    };
    let (time, rest) = clock(skip_spaces(rest))?;
    Some((
        LegacyTime {
            year,
            month,
            day,
            time,
        },
        rest,
    ))
}

fn month(word: &str) -> Option<u32> {
    (1..)
        .zip(MONTHS)
        .find(|(_, name)| name.eq_ignore_ascii_case(word))
        .map(|(number, _)| number)
}

/// A day of one or two digits (`5`, `05`), 1 to 31; whether the month has it is checked with the year.
fn day(text: &str) -> Option<(u32, &str)> {
    let (word, rest) = token(text)?;
    let (day, after) = number(word, 1, 2)?;
    (after.is_empty() && (1..=31).contains(&day)).then_some((day, rest))
}

/// A word of exactly four digits.
fn year(word: &str) -> Option<i32> {
    let (year, after) = number(word, 4, 4)?;
    if !after.is_empty() {
        return None;
    }
    i32::try_from(year).ok()
}

/// `hh:mm:ss` with an optional fraction, ended by the end of the text, a space or a colon.
fn clock(text: &str) -> Option<(NaiveTime, &str)> {
    let (hour, rest) = number(text, 2, 2)?;
    let (minute, rest) = number(rest.strip_prefix(':')?, 2, 2)?;
    let (second, rest) = number(rest.strip_prefix(':')?, 2, 2)?;
    let (nanosecond, rest) = fraction(rest);
    let ended = rest.is_empty() || rest.starts_with([' ', ':']);
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanosecond)?;
    ended.then_some((time, rest))
}

/// An optional `.digits` as nanoseconds, and the text after its last digit.
fn fraction(text: &str) -> (u32, &str) {
    let Some(after_dot) = text.strip_prefix('.') else {
        return (0, text);
    };
    let count = after_dot.bytes().take_while(u8::is_ascii_digit).count();
    if count == 0 {
        return (0, text);
    }
    let (digits, rest) = after_dot.split_at(count);
    (nanoseconds(digits), rest)
}

/// The first nine digits of a fraction as nanoseconds (`123` → 123,000,000). A byte that is not a digit
/// counts as 0; callers pass digits.
fn nanoseconds(fraction: &str) -> u32 {
    fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(NANOSECOND_DIGITS)
        .map(|byte| char::from(byte).to_digit(10).unwrap_or(0))
        .fold(0, |total, digit| total * 10 + digit)
}

fn all_digits(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        rfc3339(text).unwrap()
    }

    fn legacy_utc(text: &str, offset: i32, received_at: &str) -> Option<DateTime<Utc>> {
        let (time, _) = legacy(text).unwrap();
        time.to_utc(offset, utc(received_at))
    }

    #[test]
    fn rfc3339_normalizes_offsets_to_utc() {
        assert_eq!(
            utc("2003-08-24T05:14:15.000003-07:00"),
            utc("2003-08-24T12:14:15.000003Z")
        );
        assert_eq!(utc("2026-03-01T18:46:11+05:00"), utc("2026-03-01T13:46:11Z"));
        assert_eq!(rfc3339("2026-03-01"), None);
    }

    #[test]
    fn epoch_reads_nanoseconds() {
        assert_eq!(
            epoch("1701234567.123456789"),
            Some(utc("2023-11-29T05:09:27.123456789Z"))
        );
        assert_eq!(epoch("1701234567.5"), Some(utc("2023-11-29T05:09:27.5Z")));
        assert_eq!(epoch("1701234567"), Some(utc("2023-11-29T05:09:27Z")));
        assert_eq!(
            epoch("1701234567.1234567891"),
            Some(utc("2023-11-29T05:09:27.123456789Z"))
        );
        assert_eq!(epoch("17012345671234567"), None);
        assert_eq!(epoch("1.2.3"), None);
        assert_eq!(epoch(".5"), None);
    }

    #[test]
    fn reads_the_three_orders() {
        let (time, rest) = legacy("Mar  1 18:46:11.123 UTC: %LINK").unwrap();
        assert_eq!(
            (time.year, time.month, time.day, rest),
            (None, 3, 1, " UTC: %LINK")
        );
        assert_eq!(time.time, NaiveTime::from_hms_milli_opt(18, 46, 11, 123).unwrap());
        let (time, rest) = legacy("Jan 05 2026 10:01:02: %ASA").unwrap();
        assert_eq!(
            (time.year, time.month, time.day, rest),
            (Some(2026), 1, 5, ": %ASA")
        );
        let (time, rest) = legacy("2026 Mar  1 18:46:11 switch1").unwrap();
        assert_eq!(
            (time.year, time.month, time.day, rest),
            (Some(2026), 3, 1, " switch1")
        );
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        assert_eq!(legacy("Use the BFG!"), None);
        assert_eq!(legacy("Mar 32 18:46:11"), None);
        assert_eq!(legacy("Mar 1 25:00:00"), None);
        assert_eq!(legacy("Mar 1 18:46:11x"), None);
        assert_eq!(legacy("Mar 1 18:46"), None);
        assert_eq!(legacy("2026 was a year"), None);
    }

    #[test]
    fn a_yearless_time_takes_the_latest_year_not_in_the_future() {
        let received_at = "2026-03-02T12:00:00Z";
        assert_eq!(
            legacy_utc("Mar  1 18:46:11", 0, received_at),
            Some(utc("2026-03-01T18:46:11Z"))
        );
        assert_eq!(
            legacy_utc("Mar  3 11:00:00", 0, received_at),
            Some(utc("2026-03-03T11:00:00Z"))
        );
        assert_eq!(
            legacy_utc("Mar  4 12:00:00", 0, received_at),
            Some(utc("2025-03-04T12:00:00Z"))
        );
        assert_eq!(
            legacy_utc("Dec 31 23:59:59", 0, "2026-01-01T00:00:10Z"),
            Some(utc("2025-12-31T23:59:59Z"))
        );
        assert_eq!(
            legacy_utc("Jan  1 00:05:00", 0, "2025-12-31T23:50:00Z"),
            Some(utc("2026-01-01T00:05:00Z"))
        );
    }

    #[test]
    fn a_29_february_finds_its_leap_year_and_a_30_february_none() {
        let received_at = "2026-03-02T12:00:00Z";
        assert_eq!(
            legacy_utc("Feb 29 08:00:00", 0, received_at),
            Some(utc("2024-02-29T08:00:00Z"))
        );
        assert_eq!(legacy_utc("Feb 30 08:00:00", 0, received_at), None);
        assert_eq!(legacy_utc("Feb 29 2026 08:00:00", 0, received_at), None);
    }

    #[test]
    fn an_offset_moves_the_time_to_utc() {
        let received_at = "2026-03-02T12:00:00Z";
        let cet = 3600;
        assert_eq!(
            legacy_utc("Mar 1 2026 18:46:11", cet, received_at),
            Some(utc("2026-03-01T17:46:11Z"))
        );
        assert_eq!(
            legacy_utc("Mar  1 18:46:11", -8 * 3600, received_at),
            Some(utc("2026-03-02T02:46:11Z"))
        );
    }
}
