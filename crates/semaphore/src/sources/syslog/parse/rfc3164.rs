//! The BSD family: RFC 3164's `TIMESTAMP HOSTNAME TAG: MSG` and what network gear made of it. Cisco adds a
//! prefix (`58: router1: `), a clock mark, a year, milliseconds, a zone and a colon after the time, and a
//! `%FACILITY-SEVERITY-MNEMONIC:` before the text ([`cisco`]); NX-OS writes the year first; the ASA puts
//! ` : ` after its host; Arista EOS writes a plain BSD header, its agent as the tag, then a mnemonic.
//!
//! Reading never fails: as RFC 3164 §4.3.3 says, a line without a recognizable header is all message. The
//! one error reported is a time that names no real date, alongside everything else read.

use chrono::{DateTime, Utc};

use crate::sources::syslog::parse::cisco::{self, ClockState, Mnemonic};
use crate::sources::syslog::parse::error::ParseError;
use crate::sources::syslog::parse::message::ParsedMessage;
use crate::sources::syslog::parse::scan::{skip_spaces, token};
use crate::sources::syslog::parse::timestamp::{self, LegacyTime};
use crate::sources::syslog::parse::zone::{self, Zone};

/// The longest tag read as one (RFC 3164 allows 32 characters; software names run longer).
const MAX_TAG_LENGTH: usize = 64;

/// A BSD tag: `su:`, `sshd[1234]:`, Arista's `Ebra:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag<'a> {
    pub app_name: &'a str,
    pub proc_id: Option<&'a str>,
}

/// The time a header carries, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeaderTime {
    /// An RFC 3339 time (Arista's high-resolution stamps, rsyslog's forwarding template).
    Rfc3339(DateTime<Utc>),
    /// A BSD-family time with the zone word after it and Cisco's mark before it.
    Legacy {
        time: LegacyTime,
        zone: Option<Zone>,
        clock: ClockState,
    },
    /// A Cisco uptime: no time of day at all.
    Uptime,
}

/// The host and tag a header names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Origin<'a> {
    hostname: Option<&'a str>,
    tag: Option<Tag<'a>>,
}

/// Reads a line of the BSD family from after its `<PRI>`.
pub fn parse(body: &str, received_at: DateTime<Utc>) -> ParsedMessage {
    let (prefix, text) = cisco::prefix(body);
    let (time, text) = header_time(text);
    let (origin, text) = match text.strip_prefix(':') {
        Some(after_colon) => Origin::read(after_colon, false),
        None => Origin::read(text, time.is_some()),
    };
    let (mnemonic, text) = match cisco::mnemonic(skip_spaces(text)) {
        Some((mnemonic, rest)) => (Some(mnemonic), rest),
        None => (None, text),
    };
    let mut parsed = ParsedMessage::new(skip_spaces(text), received_at);
    parsed.sequence = prefix.sequence;
    parsed.hostname = origin.hostname.or(prefix.hostname).map(str::to_owned);
    parsed.app_name = origin.tag.map(|tag| tag.app_name.to_owned());
    parsed.proc_id = origin.tag.and_then(|tag| tag.proc_id).map(str::to_owned);
    set_mnemonic(&mut parsed, mnemonic, origin.tag);
    set_time(&mut parsed, time, received_at);
    parsed
}

/// Reads the time at the front of `text`, with what surrounds it; returns the text after it (after the zone
/// word, if any, so a Cisco header's closing colon comes next).
fn header_time(text: &str) -> (Option<HeaderTime>, &str) {
    let text = skip_spaces(text);
    let (clock, after_mark) = cisco::clock_state(text);
    if let Some((time, rest)) = timestamp::legacy(after_mark) {
        let (zone, rest) = match zone::suffix(rest) {
            Some((zone, rest)) => (Some(zone), rest),
            None => (None, rest),
        };
        return (Some(HeaderTime::Legacy { time, zone, clock }), rest);
    }
    if let Some((word, rest)) = token(text)
        && let Some(time) = timestamp::rfc3339(word)
    {
        return (Some(HeaderTime::Rfc3339(time)), rest);
    }
    match cisco::uptime(text) {
        Some(rest) => (Some(HeaderTime::Uptime), rest),
        None => (None, text),
    }
}

/// Puts the header's time on the record when it is the device's time of day (see
/// [`TsSource`](crate::sources::syslog::parse::TsSource)); otherwise the arrival time stays.
fn set_time(parsed: &mut ParsedMessage, time: Option<HeaderTime>, received_at: DateTime<Utc>) {
    let Some(time) = time else {
        return;
    };
    match device_time(time, received_at) {
        Ok(Some(at)) => parsed.set_device_time(at),
        Ok(None) => {}
        Err(error) => parsed.parse_error = Some(error.to_string()),
    }
}

/// The device's time in UTC, or `None` when the header's time is not a usable time of day: an uptime, a
/// clock Cisco marks as not authoritative, or a zone word the table does not know.
fn device_time(time: HeaderTime, received_at: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ParseError> {
    match time {
        HeaderTime::Rfc3339(at) => Ok(Some(at)),
        HeaderTime::Uptime => Ok(None),
        HeaderTime::Legacy { time, zone, clock } => legacy_time(time, zone, clock, received_at),
    }
}

/// A BSD-family time in UTC: read in its zone, or as UTC without one.
fn legacy_time(
    time: LegacyTime,
    zone: Option<Zone>,
    clock: ClockState,
    received_at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ParseError> {
    let offset = match (clock, zone) {
        (ClockState::NotSet, _) | (_, Some(Zone::Unknown)) => return Ok(None),
        (_, Some(Zone::Known(offset))) => offset,
        (_, None) => 0,
    };
    time.to_utc(offset, received_at)
        .map(Some)
        .ok_or(ParseError::ImpossibleDate)
}

/// Records a mnemonic and the vendor its line's shape names ([`cisco::vendor`]).
fn set_mnemonic(parsed: &mut ParsedMessage, mnemonic: Option<Mnemonic<'_>>, tag: Option<Tag<'_>>) {
    if let Some(mnemonic) = mnemonic {
        parsed.vendor = Some(cisco::vendor(&mnemonic, tag.as_ref()));
        parsed.mnemonic = Some(mnemonic.code.to_owned());
    }
}

impl<'a> Origin<'a> {
    /// Reads the host and the tag at the front of `text`. After a time, a first word that is not a tag is the
    /// host. Without a time there is no BSD header (RFC 3164 §4.3.3): a first word is then a host only when
    /// the ASA's ` : ` or a mnemonic follows it, and a tag only with its colon.
    fn read(text: &'a str, after_time: bool) -> (Self, &'a str) {
        let Some((first, rest)) = token(text) else {
            return (Self::default(), text);
        };
        if first.starts_with('%') {
            return (Self::default(), text);
        }
        if let Some(tag) = Tag::read(first) {
            return (
                Self {
                    hostname: None,
                    tag: Some(tag),
                },
                rest,
            );
        }
        let rest = skip_spaces(rest);
        let asa_colon = rest.strip_prefix(':');
        if !after_time && asa_colon.is_none() && !rest.starts_with('%') {
            return (Self::default(), text);
        }
        Self::host_then_tag(first, asa_colon.map_or(rest, skip_spaces))
    }

    /// The host is read; a tag may follow it.
    fn host_then_tag(hostname: &'a str, text: &'a str) -> (Self, &'a str) {
        match token(text).and_then(|(word, rest)| Some((Tag::read(word)?, rest))) {
            Some((tag, rest)) => (
                Self {
                    hostname: Some(hostname),
                    tag: Some(tag),
                },
                rest,
            ),
            None => (
                Self {
                    hostname: Some(hostname),
                    tag: None,
                },
                text,
            ),
        }
    }
}

impl<'a> Tag<'a> {
    /// A tag is a word ending in `:`, with an optional `[pid]` before the colon: `su:`, `sshd[1234]:`. A word
    /// that starts with `%` is a mnemonic, not a tag.
    fn read(word: &'a str) -> Option<Self> {
        let name = word.strip_suffix(':')?;
        if name.is_empty() || name.starts_with('%') || name.len() > MAX_TAG_LENGTH {
            return None;
        }
        match name.strip_suffix(']').and_then(|inner| inner.split_once('[')) {
            Some(("", _)) => None,
            Some((app_name, proc_id)) => Some(Self {
                app_name,
                proc_id: Some(proc_id).filter(|id| !id.is_empty()),
            }),
            None => Some(Self {
                app_name: name,
                proc_id: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::syslog::parse::TsSource;

    fn received_at() -> DateTime<Utc> {
        timestamp::rfc3339("2026-03-02T12:00:00Z").unwrap()
    }

    fn read(body: &str) -> ParsedMessage {
        parse(body, received_at())
    }

    #[test]
    fn reads_host_tag_and_message() {
        let parsed = read("Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(parsed.hostname.as_deref(), Some("mymachine"));
        assert_eq!(parsed.app_name.as_deref(), Some("su"));
        assert_eq!(parsed.proc_id, None);
        assert_eq!(parsed.message, "'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(parsed.ts, timestamp::rfc3339("2025-10-11T22:14:15Z").unwrap());
        assert_eq!(parsed.ts_source, TsSource::Message);
    }

    #[test]
    fn a_line_may_have_no_tag() {
        let parsed = read("Feb  5 17:32:18 10.0.0.99 Use the BFG!");
        assert_eq!(parsed.hostname.as_deref(), Some("10.0.0.99"));
        assert_eq!(parsed.app_name, None);
        assert_eq!(parsed.message, "Use the BFG!");
    }

    #[test]
    fn a_host_ending_in_a_colon_is_a_tag() {
        let parsed = read("Oct 11 22:14:15 sshd[1234]: Accepted publickey for admin");
        assert_eq!(parsed.hostname, None);
        assert_eq!(parsed.app_name.as_deref(), Some("sshd"));
        assert_eq!(parsed.proc_id.as_deref(), Some("1234"));
        assert_eq!(parsed.message, "Accepted publickey for admin");
    }

    #[test]
    fn without_a_time_a_bare_word_is_message() {
        let parsed = read("hello world");
        assert_eq!((parsed.hostname, parsed.app_name), (None, None));
        assert_eq!(parsed.message, "hello world");
        assert_eq!(parsed.ts_source, TsSource::Received);
        let parsed = read("cron[5]: job done");
        assert_eq!(parsed.app_name.as_deref(), Some("cron"));
        assert_eq!(parsed.message, "job done");
    }

    #[test]
    fn a_date_that_does_not_exist_is_reported() {
        let parsed = read("Feb 30 10:00:00 host app: x");
        assert_eq!(
            parsed.parse_error.as_deref(),
            Some("timestamp names a date that does not exist")
        );
        assert_eq!((parsed.ts, parsed.ts_source), (received_at(), TsSource::Received));
        assert_eq!(parsed.hostname.as_deref(), Some("host"));
    }

    #[test]
    fn reads_rfc3339_in_a_bsd_header() {
        let parsed = read("2026-03-01T18:46:11.123456+00:00 switch1 Ebra: %LINEPROTO-5-UPDOWN: up");
        assert_eq!(
            parsed.ts,
            timestamp::rfc3339("2026-03-01T18:46:11.123456Z").unwrap()
        );
        assert_eq!(parsed.vendor, Some("arista"));
        assert_eq!(parsed.message, "up");
    }

    #[test]
    fn tags_need_a_name() {
        assert_eq!(Tag::read("[12]:"), None);
        assert_eq!(Tag::read(":"), None);
        assert_eq!(Tag::read("%LINK-3-UPDOWN:"), None);
        assert_eq!(
            Tag::read("sshd[]:"),
            Some(Tag {
                app_name: "sshd",
                proc_id: None
            })
        );
        assert_eq!(Tag::read("su"), None);
    }
}
