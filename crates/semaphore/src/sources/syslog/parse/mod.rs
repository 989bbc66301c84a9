//! One syslog line → [`ParsedMessage`], for any bytes, without panicking and without I/O.
//!
//! [`parse`] decodes the bytes (lossily, flagging invalid UTF-8), splits off the `<PRI>` (`priority`) and
//! reads the rest by its shape:
//! - `1 ` then an RFC 3339 time or `-`: RFC 5424 (`rfc5424`, with `structured_data`); Junos among them.
//! - `1 ` then epoch seconds: Meraki (`meraki`).
//! - anything else: the BSD family (`rfc3164`), which covers Cisco IOS, IOS-XE, NX-OS and the ASA
//!   (`cisco`), and Arista EOS.
//!
//! A line that does not parse still yields a message: the whole line, stamped with its arrival, and
//! `parse_error` saying what was wrong ([`ParseError`]). Where the record's time comes from is decided on
//! [`TsSource`]. `timestamp` and `zone` read times, `params` keeps repeated names, `scan` cuts words.
//! `corpus_tests` checks the vendors' lines in `corpus.jsonl` (which the binary's tests also send to a
//! running daemon) against their expected fields; `property_tests` feeds the parser 200,000 generated
//! inputs.

mod cisco;
#[cfg(test)]
mod corpus_tests;
mod error;
mod meraki;
mod message;
mod params;
mod priority;
#[cfg(test)]
mod property_tests;
mod rfc3164;
mod rfc5424;
mod scan;
mod structured_data;
mod timestamp;
mod zone;

use std::borrow::Cow;

use chrono::{DateTime, Utc};

pub use error::ParseError;
pub use message::{ParsedMessage, TsSource};

/// What senders leave after a message: line ends (UDP senders often end with `\n`) and the NUL of a C
/// string.
const TRAILING: [char; 3] = ['\n', '\r', '\0'];

/// Parses one received line; `received_at` stamps it when the line carries no usable time.
pub fn parse(raw: &[u8], received_at: DateTime<Utc>) -> ParsedMessage {
    let decoded = String::from_utf8_lossy(raw);
    let text = decoded.trim_end_matches(TRAILING);
    let mut parsed = parse_text(text, received_at);
    parsed.invalid_utf8 = matches!(decoded, Cow::Owned(_));
    if parsed.message.is_empty() {
        // A line with no free text (structured data alone, a bare mnemonic) is its own message.
        parsed.message = text.to_owned();
    }
    parsed
}

fn parse_text(text: &str, received_at: DateTime<Utc>) -> ParsedMessage {
    let (priority, body) = match priority::split(text) {
        Ok(split) => split,
        Err(error) => return ParsedMessage::unparsed(text, received_at, error),
    };
    let mut parsed = parse_body(body, received_at)
        .unwrap_or_else(|error| ParsedMessage::unparsed(text, received_at, error));
    match priority {
        Some(priority) => parsed.set_priority(priority),
        None if parsed.parse_error.is_none() => {
            parsed.parse_error = Some(ParseError::MissingPriority.to_string());
        }
        None => {}
    }
    parsed
}

/// Reads what follows the `<PRI>` by its shape (see the module documentation).
fn parse_body(body: &str, received_at: DateTime<Utc>) -> Result<ParsedMessage, ParseError> {
    if body.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    match body.strip_prefix("1 ") {
        Some(after_version) if meraki::starts_with_epoch(after_version) => {
            meraki::parse(after_version, received_at)
        }
        Some(after_version) => rfc5424::parse(after_version, received_at),
        None => Ok(rfc3164::parse(body, received_at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received_at() -> DateTime<Utc> {
        timestamp::rfc3339("2026-03-02T12:00:00Z").unwrap()
    }

    #[test]
    fn an_empty_line_is_an_error() {
        let lines: [&[u8]; 4] = [b"", b"\n", b"\0\0\0", b"\r\n"];
        for raw in lines {
            let parsed = parse(raw, received_at());
            assert_eq!(parsed.parse_error.as_deref(), Some("empty message"));
            assert_eq!((parsed.ts, parsed.ts_source), (received_at(), TsSource::Received));
        }
    }

    #[test]
    fn a_bad_priority_keeps_the_whole_line() {
        let parsed = parse(b"<999> hello", received_at());
        assert_eq!(parsed.parse_error.as_deref(), Some("priority 999 is above 191"));
        assert_eq!(parsed.message, "<999> hello");
        assert_eq!(parsed.facility, None);
    }

    #[test]
    fn a_missing_priority_is_reported_but_the_line_is_read() {
        let parsed = parse(b"Oct 11 22:14:15 mymachine su: hi", received_at());
        assert_eq!(
            parsed.parse_error.as_deref(),
            Some("no priority: the line does not start with `<`")
        );
        assert_eq!(parsed.hostname.as_deref(), Some("mymachine"));
        assert_eq!(parsed.message, "hi");
    }

    #[test]
    fn a_priority_alone_is_empty() {
        let parsed = parse(b"<13>", received_at());
        assert_eq!(parsed.parse_error.as_deref(), Some("empty message"));
        assert_eq!((parsed.facility, parsed.severity), (Some(1), Some(5)));
        assert_eq!(parsed.message, "<13>");
    }

    #[test]
    fn a_cut_rfc5424_header_keeps_the_line_and_its_priority() {
        let parsed = parse(b"<13>1 ", received_at());
        assert_eq!(
            parsed.parse_error.as_deref(),
            Some("header ends before the timestamp (RFC 5424)")
        );
        assert_eq!(parsed.message, "<13>1 ");
        assert_eq!(parsed.severity_name, Some("notice"));
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_and_flagged() {
        let parsed = parse(b"<13>Oct 11 22:14:15 host app: caf\xe9\n", received_at());
        assert!(parsed.invalid_utf8);
        assert_eq!(parsed.message, "caf\u{fffd}");
        assert_eq!(parsed.parse_error, None);
        assert!(!parse(b"<13>caf\xc3\xa9", received_at()).invalid_utf8);
    }

    #[test]
    fn a_line_without_free_text_is_its_own_message() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [examplePriority@32473 class="high"]"#;
        let parsed = parse(line.as_bytes(), received_at());
        assert_eq!(parsed.parse_error, None);
        assert_eq!(parsed.message, line);
    }
}
