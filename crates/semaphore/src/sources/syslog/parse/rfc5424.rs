//! RFC 5424: `1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]` after the `<PRI>`, `-` (the
//! NILVALUE) standing for a field left out. Junos sends this format with its own structured data
//! (`[junos@2636.1.1.1.2.18 …]`) and its event name as the MSGID; a Cisco device sending it keeps its
//! mnemonic at the start of MSG. Field lengths are not enforced: a longer field is kept, not refused.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::sources::syslog::parse::cisco;
use crate::sources::syslog::parse::error::ParseError;
use crate::sources::syslog::parse::message::ParsedMessage;
use crate::sources::syslog::parse::scan::{required_token, skip_spaces};
use crate::sources::syslog::parse::structured_data;
use crate::sources::syslog::parse::timestamp;

const FORMAT: &str = "RFC 5424";

/// The NILVALUE.
const NIL: &str = "-";

/// Juniper's private enterprise number, which its SD-IDs carry: `junos@2636.1.1.1.2.18`.
const JUNIPER_ENTERPRISE: &str = "2636";

/// The header fields, as written.
struct Header<'a> {
    timestamp: &'a str,
    hostname: &'a str,
    app_name: &'a str,
    proc_id: &'a str,
    msg_id: &'a str,
}

/// Reads what follows the version `1 `. A header cut short, a time that is not RFC 3339 or malformed
/// structured data fail the line: the caller then keeps it whole, with the error.
pub fn parse(text: &str, received_at: DateTime<Utc>) -> Result<ParsedMessage, ParseError> {
    let (header, rest) = Header::read(text)?;
    let (structured_data, rest) = structured_data::parse(rest)?;
    let mut parsed = message(rest, received_at);
    if let Some(at) = time(header.timestamp)? {
        parsed.set_device_time(at);
    }
    parsed.hostname = present(header.hostname);
    parsed.app_name = present(header.app_name);
    parsed.proc_id = present(header.proc_id);
    parsed.msg_id = present(header.msg_id);
    if structured_data.as_ref().is_some_and(is_juniper) {
        parsed.vendor = Some("juniper");
        parsed.mnemonic.clone_from(&parsed.msg_id);
    }
    parsed.structured_data = structured_data;
    Ok(parsed)
}

impl<'a> Header<'a> {
    /// Reads the five header fields and returns the text at the structured data.
    fn read(text: &'a str) -> Result<(Self, &'a str), ParseError> {
        let (timestamp, rest) = required_token(text, FORMAT, "timestamp")?;
        let (hostname, rest) = required_token(rest, FORMAT, "hostname")?;
        let (app_name, rest) = required_token(rest, FORMAT, "app name")?;
        let (proc_id, rest) = required_token(rest, FORMAT, "process id")?;
        let (msg_id, rest) = required_token(rest, FORMAT, "message id")?;
        let rest = skip_spaces(rest);
        if rest.is_empty() {
            return Err(ParseError::Truncated {
                format: FORMAT,
                field: "structured data",
            });
        }
        Ok((
            Self {
                timestamp,
                hostname,
                app_name,
                proc_id,
                msg_id,
            },
            rest,
        ))
    }
}

/// The MSG after the structured data: after its space, without the byte order mark §6.4 puts before UTF-8
/// text. A Cisco mnemonic at its start is read as on BSD-family lines.
fn message(rest: &str, received_at: DateTime<Utc>) -> ParsedMessage {
    let text = rest.strip_prefix(' ').unwrap_or(rest);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some((mnemonic, after)) = cisco::mnemonic(text) else {
        return ParsedMessage::new(text, received_at);
    };
    let mut parsed = ParsedMessage::new(after, received_at);
    parsed.vendor = Some(cisco::vendor(&mnemonic, None));
    parsed.mnemonic = Some(mnemonic.code.to_owned());
    parsed
}

fn time(timestamp: &str) -> Result<Option<DateTime<Utc>>, ParseError> {
    if timestamp == NIL {
        return Ok(None);
    }
    timestamp::rfc3339(timestamp)
        .map(Some)
        .ok_or(ParseError::BadTimestamp)
}

fn present(field: &str) -> Option<String> {
    (field != NIL).then(|| field.to_owned())
}

/// Whether an SD-ID carries Juniper's enterprise number (`name@2636` or `name@2636.…`).
fn is_juniper(structured_data: &Value) -> bool {
    let Some(elements) = structured_data.as_object() else {
        return false;
    };
    elements.keys().any(|id| {
        id.split_once('@')
            .is_some_and(|(_, number)| number.split('.').next() == Some(JUNIPER_ENTERPRISE))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sources::syslog::parse::TsSource;

    fn received_at() -> DateTime<Utc> {
        timestamp::rfc3339("2026-03-02T12:00:00Z").unwrap()
    }

    fn read(text: &str) -> Result<ParsedMessage, ParseError> {
        parse(text, received_at())
    }

    #[test]
    fn reads_the_header_and_strips_the_bom() {
        let parsed =
            read("2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed")
                .unwrap();
        assert_eq!(parsed.ts, timestamp::rfc3339("2003-10-11T22:14:15.003Z").unwrap());
        assert_eq!(parsed.ts_source, TsSource::Message);
        assert_eq!(parsed.hostname.as_deref(), Some("mymachine.example.com"));
        assert_eq!(parsed.app_name.as_deref(), Some("su"));
        assert_eq!(parsed.proc_id, None);
        assert_eq!(parsed.msg_id.as_deref(), Some("ID47"));
        assert_eq!(parsed.structured_data, None);
        assert_eq!(parsed.message, "'su root' failed");
    }

    #[test]
    fn nil_values_leave_fields_out() {
        let parsed = read("- - - - - -").unwrap();
        assert_eq!((parsed.ts, parsed.ts_source), (received_at(), TsSource::Received));
        assert_eq!(
            (parsed.hostname, parsed.app_name, parsed.proc_id, parsed.msg_id),
            (None, None, None, None)
        );
        assert_eq!(parsed.message, "");
    }

    #[test]
    fn marks_junos() {
        let text = r#"2007-02-15T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username="regress"] User 'regress' exiting configuration mode"#;
        let parsed = read(text).unwrap();
        assert_eq!(parsed.vendor, Some("juniper"));
        assert_eq!(parsed.mnemonic.as_deref(), Some("UI_DBASE_LOGOUT_EVENT"));
        assert_eq!(
            parsed.structured_data,
            Some(json!({"junos@2636.1.1.1.2.18": {"username": "regress"}}))
        );
        assert_eq!(parsed.message, "User 'regress' exiting configuration mode");
    }

    #[test]
    fn other_enterprise_numbers_are_not_junos() {
        let parsed = read(r#"- host app - - [origin@26360 x="1"] hi"#).unwrap();
        assert_eq!(parsed.vendor, None);
        assert_eq!(parsed.mnemonic, None);
    }

    #[test]
    fn reads_a_cisco_mnemonic_in_msg() {
        let parsed = read(
            "2026-03-01T18:46:11Z router1 - - - - %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
        )
        .unwrap();
        assert_eq!(
            (parsed.vendor, parsed.mnemonic.as_deref()),
            (Some("cisco"), Some("LINK-3-UPDOWN"))
        );
        assert_eq!(parsed.message, "Interface Gi0/1, changed state to down");
    }

    #[test]
    fn reports_what_is_missing() {
        let error = |text: &str| read(text).unwrap_err().to_string();
        assert_eq!(error(""), "header ends before the timestamp (RFC 5424)");
        assert_eq!(
            error("2026-03-01T00:00:00Z host"),
            "header ends before the app name (RFC 5424)"
        );
        assert_eq!(
            error("- - - - -"),
            "header ends before the structured data (RFC 5424)"
        );
        assert_eq!(
            error("yesterday - - - - -"),
            "timestamp is not an RFC 3339 date-time (RFC 5424)"
        );
        assert_eq!(
            error(r#"- - - - - [x a="1""#),
            "structured data: element is not closed by `]`"
        );
    }
}
