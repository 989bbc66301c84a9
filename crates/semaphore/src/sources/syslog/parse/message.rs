//! The parsed line: what every format yields, and what becomes the `syslog.message/1` record.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::sources::syslog::parse::error::ParseError;
use crate::sources::syslog::parse::priority::Priority;

/// Where [`ParsedMessage::ts`] came from. The rule: `Message` when the device wrote a time that can be put
/// on the UTC timeline, `Received` (and `ts` is then the arrival time) when it wrote none, or one that
/// cannot be placed. `ts` never holds a guess marked `Received`.
///
/// - RFC 5424 and RFC 3339 times, Meraki's epoch seconds, Cisco times with a known zone word: `Message`.
/// - A BSD or Cisco time without a zone (`Oct 11 22:14:15`): `Message`, read as UTC, in the latest year
///   that does not put it more than a day after its arrival. The device did send its time: reading it as
///   UTC is a stated convention (UTC is the usual setting for network gear) that a consumer who knows a
///   device's zone can undo, whereas taking the arrival time would lose the device's time for good, as the
///   record keeps no other copy. The day of slack absorbs a clock running ahead, and a December line read
///   on 1 January gets the year before.
/// - A Cisco time with a zone word not in the table (`clock timezone MYZONE 3`): `Received`. The device
///   said its clock is not UTC without saying by how much, so reading it as UTC would be off by hours,
///   while the arrival time is off only by the network's delay.
/// - A Cisco time marked `*`: `Received`. The mark means the clock is not authoritative (never set, or
///   never synchronized since boot; unset clocks count from 1 March 1993), so it is not a time of day. A
///   time marked `.` (was synchronized, has since lost NTP) drifts from a true time and stays `Message`.
/// - Cisco uptime stamps (`1d02h`), and lines without a time: `Received`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TsSource {
    Message,
    Received,
}

/// One syslog line, parsed as far as it goes. Fields a format does not carry, or a line left out, are
/// `None`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedMessage {
    /// The message's time in UTC; see [`TsSource`] for which time it is.
    pub ts: DateTime<Utc>,
    pub ts_source: TsSource,
    /// From `<PRI>`: 0 to 23.
    pub facility: Option<u8>,
    /// Its syslog.conf keyword (`auth`, `local7`).
    pub facility_name: Option<&'static str>,
    /// From `<PRI>`: 0 (emergency) to 7 (debug).
    pub severity: Option<u8>,
    /// Its syslog.conf keyword (`crit`, `info`).
    pub severity_name: Option<&'static str>,
    pub hostname: Option<String>,
    /// RFC 5424 APP-NAME, or the RFC 3164 tag without its `[pid]` (Arista: the EOS agent, `Ebra`).
    pub app_name: Option<String>,
    /// RFC 5424 PROCID, or the RFC 3164 tag's `[pid]`.
    pub proc_id: Option<String>,
    /// RFC 5424 MSGID (Junos: its event name).
    pub msg_id: Option<String>,
    /// RFC 5424 STRUCTURED-DATA as `{sd-id: {param: value}}`; a repeated parameter is an array of its values.
    pub structured_data: Option<Value>,
    /// The free text: after the header, the mnemonic, or Meraki's `pattern:`/`request:`/`message:`. A line
    /// with no free text has its key=value text (Meraki) or the whole line here: only an empty line has an
    /// empty message.
    pub message: String,
    /// `cisco`, `cisco-asa`, `juniper`, `arista` or `meraki`, when the line's shape says so.
    pub vendor: Option<&'static str>,
    /// Cisco's `%FACILITY-SEVERITY-MNEMONIC` without the `%` (`LINK-3-UPDOWN`, `ASA-4-106023`), or the Junos
    /// event name.
    pub mnemonic: Option<String>,
    /// Cisco's sequence number (`service sequence-numbers`).
    pub sequence: Option<u64>,
    /// Meraki's event type: `flows`, `firewall`, `urls`, `ids-alerts`, `events`, `security_event`,
    /// `airmarshal_events`…
    pub event_type: Option<String>,
    /// Meraki's key=value pairs, quotes removed, values as strings (a repeated key is an array).
    pub fields: Option<Map<String, Value>>,
    /// What was wrong with the line, when something was; the other fields hold what could be read.
    pub parse_error: Option<String>,
    /// The line was not valid UTF-8: it was decoded with U+FFFD for the invalid bytes.
    pub invalid_utf8: bool,
}

impl ParsedMessage {
    /// A message with nothing read but its text, stamped with its arrival.
    pub(super) fn new(message: &str, received_at: DateTime<Utc>) -> Self {
        Self {
            ts: received_at,
            ts_source: TsSource::Received,
            facility: None,
            facility_name: None,
            severity: None,
            severity_name: None,
            hostname: None,
            app_name: None,
            proc_id: None,
            msg_id: None,
            structured_data: None,
            message: message.to_owned(),
            vendor: None,
            mnemonic: None,
            sequence: None,
            event_type: None,
            fields: None,
            parse_error: None,
            invalid_utf8: false,
        }
    }

    /// A line that did not parse: all of it is the message, and `error` says why.
    pub(super) fn unparsed(text: &str, received_at: DateTime<Utc>, error: ParseError) -> Self {
        let mut parsed = Self::new(text, received_at);
        parsed.parse_error = Some(error.to_string());
        parsed
    }

    pub(super) fn set_priority(&mut self, priority: Priority) {
        self.facility = Some(priority.facility);
        self.facility_name = priority.facility_name();
        self.severity = Some(priority.severity);
        self.severity_name = priority.severity_name();
    }

    /// Takes the device's own time (see [`TsSource`] for when a parser calls this).
    pub(super) fn set_device_time(&mut self, at: DateTime<Utc>) {
        self.ts = at;
        self.ts_source = TsSource::Message;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serializes_in_camel_case_with_nulls_kept() {
        let received_at = DateTime::from_timestamp(1_772_452_800, 0).unwrap();
        let mut parsed = ParsedMessage::new("hello", received_at);
        parsed.set_priority(Priority {
            facility: 4,
            severity: 2,
        });
        let json = serde_json::to_value(&parsed).unwrap();
        assert_eq!(
            json,
            json!({
                "ts": "2026-03-02T12:00:00Z",
                "tsSource": "received",
                "facility": 4,
                "facilityName": "auth",
                "severity": 2,
                "severityName": "crit",
                "hostname": null,
                "appName": null,
                "procId": null,
                "msgId": null,
                "structuredData": null,
                "message": "hello",
                "vendor": null,
                "mnemonic": null,
                "sequence": null,
                "eventType": null,
                "fields": null,
                "parseError": null,
                "invalidUtf8": false,
            })
        );
    }
}
