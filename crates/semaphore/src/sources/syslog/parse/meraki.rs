//! Cisco Meraki (MX, MR, MS): `<PRI>1 EPOCH DEVICE TYPE BODY`. The `1` looks like RFC 5424's version but
//! nothing after it follows RFC 5424: the time is seconds since the epoch with nanoseconds
//! (`1701234567.123456789`), the device name is followed by the event type (`flows`, `firewall`, `urls`,
//! `ids-alerts`, `events`, `security_event`, `airmarshal_events`…), and the body is `key=value` pairs
//! whose values may be quoted (`vpn_type='site-to-site'`), possibly ended by a marker whose text is the
//! message (`pattern: allow all`, `request: GET https://…`, `message: EXPLOIT-KIT …`), or free text
//! (`events Port 3 changed STP role from disabled to designated`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::sources::syslog::parse::error::ParseError;
use crate::sources::syslog::parse::message::ParsedMessage;
use crate::sources::syslog::parse::params;
use crate::sources::syslog::parse::scan::{required_token, skip_spaces, token};
use crate::sources::syslog::parse::timestamp;

const FORMAT: &str = "Meraki";

/// Words whose text after the colon is the message.
const MARKERS: [&str; 3] = ["pattern:", "request:", "message:"];

/// The field that keeps a bare word before the first pair.
const SUBTYPE: &str = "subtype";

/// Whether what follows `1 ` is Meraki's epoch time rather than RFC 5424's RFC 3339 one (which always has
/// `-` in it).
pub fn starts_with_epoch(text: &str) -> bool {
    text.starts_with(|character: char| character.is_ascii_digit())
        && token(text).is_some_and(|(word, _)| word.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.'))
}

/// Reads what follows `1 `.
pub fn parse(text: &str, received_at: DateTime<Utc>) -> Result<ParsedMessage, ParseError> {
    let (epoch, rest) = required_token(text, FORMAT, "timestamp")?;
    let (hostname, rest) = required_token(rest, FORMAT, "device name")?;
    let (event_type, rest) = required_token(rest, FORMAT, "event type")?;
    let at = timestamp::epoch(epoch).ok_or(ParseError::BadEpoch)?;
    let (fields, message) = body(skip_spaces(rest));
    let mut parsed = ParsedMessage::new(message, received_at);
    parsed.set_device_time(at);
    parsed.hostname = Some(hostname.to_owned());
    parsed.event_type = Some(event_type.to_owned());
    parsed.vendor = Some("meraki");
    parsed.fields = (!fields.is_empty()).then_some(fields);
    Ok(parsed)
}

/// Splits a body into its pairs and its message. Pairs are read up to a marker, whose text is the message,
/// or up to a word that is not a pair, from which on all is the message. A body of pairs alone is its own
/// message, so the record's message reads as the line did.
fn body(text: &str) -> (Map<String, Value>, &str) {
    let mut fields = Map::new();
    let (subtype, mut rest) = subtype(text);
    if let Some(subtype) = subtype {
        params::insert(&mut fields, SUBTYPE, subtype.to_owned());
    }
    loop {
        rest = skip_spaces(rest);
        if let Some(after_marker) = marker(rest) {
            return (fields, after_marker);
        }
        let Some((key, value, after)) = pair(rest) else {
            break;
        };
        params::insert(&mut fields, key, value.to_owned());
        rest = after;
    }
    (fields, if rest.is_empty() { text } else { rest })
}

/// A bare word before the first pair: the kind of a security event (`security_event ids_alerted …`) or a
/// flow's action (`flows allow src=…`). A word followed by anything but a pair begins free text instead.
fn subtype(text: &str) -> (Option<&str>, &str) {
    let Some((word, rest)) = token(text) else {
        return (None, text);
    };
    let is_word = word
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if is_word && pair(skip_spaces(rest)).is_some() {
        (Some(word), rest)
    } else {
        (None, text)
    }
}

/// The text after a marker word at the front of `text`.
fn marker(text: &str) -> Option<&str> {
    let (word, rest) = token(text)?;
    MARKERS.contains(&word).then(|| skip_spaces(rest))
}

/// `key=value`, `key='value'` or `key="value"` at the front of `text`: the key, the value without its quotes
/// and the text after it. A quoted value ends at its quote followed by a space or the end, so it may hold
/// spaces (`agent='Spotify/110600113 OSX/0 (MacBookAir7,2)'`).
fn pair(text: &str) -> Option<(&str, &str, &str)> {
    let key_length = text.bytes().take_while(|byte| is_key_byte(*byte)).count();
    let (key, rest) = text.split_at(key_length);
    let after_equals = rest.strip_prefix('=')?;
    if key.is_empty() {
        return None;
    }
    let (value, rest) = match after_equals.chars().next() {
        Some(quote @ ('\'' | '"')) => quoted(&after_equals[1..], quote)?,
        _ => after_equals.split_at(after_equals.find(' ').unwrap_or(after_equals.len())),
    };
    Some((key, value, rest))
}

/// A value up to its closing `quote` (one followed by a space or the end); the value and the text after
/// the quote.
fn quoted(text: &str, quote: char) -> Option<(&str, &str)> {
    let end = text.match_indices(quote).map(|(index, _)| index).find(|index| {
        let after = &text[index + 1..];
        after.is_empty() || after.starts_with(' ')
    })?;
    Some((&text[..end], &text[end + 1..]))
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sources::syslog::parse::TsSource;

    fn read(text: &str) -> ParsedMessage {
        parse(text, timestamp::rfc3339("2026-03-02T12:00:00Z").unwrap()).unwrap()
    }

    #[test]
    fn reads_a_flow() {
        let parsed = read(
            "1701234567.123456789 MX84 flows src=192.168.1.10 dst=8.8.8.8 mac=00:11:22:33:44:55 protocol=udp sport=53211 dport=53 pattern: allow all",
        );
        assert_eq!(
            parsed.ts,
            timestamp::rfc3339("2023-11-29T05:09:27.123456789Z").unwrap()
        );
        assert_eq!(parsed.ts_source, TsSource::Message);
        assert_eq!(parsed.hostname.as_deref(), Some("MX84"));
        assert_eq!(parsed.event_type.as_deref(), Some("flows"));
        assert_eq!(parsed.vendor, Some("meraki"));
        assert_eq!(parsed.message, "allow all");
        let expected = json!({
            "src": "192.168.1.10", "dst": "8.8.8.8", "mac": "00:11:22:33:44:55",
            "protocol": "udp", "sport": "53211", "dport": "53",
        });
        assert_eq!(parsed.fields.map(Value::Object), Some(expected));
    }

    #[test]
    fn unquotes_values_and_keeps_pairs_as_the_message_without_free_text() {
        let body = "type=vpn_connectivity_change vpn_type='site-to-site' peer_contact='1.2.3.4:51856' connectivity=\"true\"";
        let parsed = read(&format!("1380664994.337961231 MX84 events {body}"));
        let fields = parsed.fields.map(Value::Object);
        assert_eq!(
            fields.as_ref().and_then(|fields| fields.get("vpn_type")),
            Some(&json!("site-to-site"))
        );
        assert_eq!(
            fields.as_ref().and_then(|fields| fields.get("connectivity")),
            Some(&json!("true"))
        );
        assert_eq!(parsed.message, body);
    }

    #[test]
    fn a_quoted_value_may_hold_spaces_and_quotes() {
        let (fields, message) =
            body("agent='Spotify/110600113 OSX/0 (MacBookAir7,2)' name='it's' request: GET /");
        assert_eq!(
            fields.get("agent"),
            Some(&json!("Spotify/110600113 OSX/0 (MacBookAir7,2)"))
        );
        assert_eq!(fields.get("name"), Some(&json!("it's")));
        assert_eq!(message, "GET /");
    }

    #[test]
    fn keeps_a_leading_bare_word_as_subtype() {
        let (fields, message) = body("ids_alerted signature=1:28423:1 priority=1 message: EXPLOIT-KIT x");
        assert_eq!(
            Value::Object(fields),
            json!({"subtype": "ids_alerted", "signature": "1:28423:1", "priority": "1"})
        );
        assert_eq!(message, "EXPLOIT-KIT x");
    }

    #[test]
    fn free_text_is_the_message() {
        let (fields, message) = body("Port 3 changed STP role from disabled to designated");
        assert!(fields.is_empty());
        assert_eq!(message, "Port 3 changed STP role from disabled to designated");
        let (fields, message) = body("type=x and then some text");
        assert_eq!(Value::Object(fields), json!({"type": "x"}));
        assert_eq!(message, "and then some text");
    }

    #[test]
    fn an_unclosed_quote_begins_free_text() {
        let (fields, message) = body("a=1 b='open c=2");
        assert_eq!(Value::Object(fields), json!({"a": "1"}));
        assert_eq!(message, "b='open c=2");
    }

    #[test]
    fn empty_values_are_kept() {
        let (fields, _) = body("src= dst= mac=AA");
        assert_eq!(Value::Object(fields), json!({"src": "", "dst": "", "mac": "AA"}));
    }

    #[test]
    fn tells_epochs_from_rfc3339() {
        assert!(starts_with_epoch("1701234567.123 MX84 flows"));
        assert!(!starts_with_epoch("2003-10-11T22:14:15.003Z host"));
        assert!(!starts_with_epoch("- host"));
    }

    #[test]
    fn reports_a_cut_header_and_a_bad_epoch() {
        let error = |text: &str| parse(text, DateTime::UNIX_EPOCH).unwrap_err().to_string();
        assert_eq!(
            error("1701234567.1 MX84"),
            "header ends before the event type (Meraki)"
        );
        assert_eq!(
            error("1.2.3 MX84 flows"),
            "timestamp is not seconds since the epoch (Meraki)"
        );
    }
}
