//! One received frame → its `syslog.message/1` record: the parser's fields, plus who sent it, over what,
//! and (per the source's `raw` setting) the line as received. Pure, so it is tested without a socket.

use crate::record::{SyslogRecord, SyslogTimeSource, SyslogTransport};
use crate::sources::listener::{Frame, Transport};
use crate::sources::syslog::config::RawPolicy;
use crate::sources::syslog::parse::{self, ParsedMessage, TsSource};

/// Parses the frame and makes its record.
pub fn record(frame: &Frame, raw: RawPolicy) -> SyslogRecord {
    let parsed = parse::parse(&frame.bytes, frame.received_at);
    let keep_raw = match raw {
        RawPolicy::Always => true,
        RawPolicy::OnError => parsed.parse_error.is_some(),
        RawPolicy::Never => false,
    };
    let raw = keep_raw.then(|| String::from_utf8_lossy(&frame.bytes).into_owned());
    from_parsed(parsed, frame, raw)
}

fn from_parsed(parsed: ParsedMessage, frame: &Frame, raw: Option<String>) -> SyslogRecord {
    SyslogRecord {
        ts: parsed.ts,
        ts_source: match parsed.ts_source {
            TsSource::Message => SyslogTimeSource::Message,
            TsSource::Received => SyslogTimeSource::Received,
        },
        received_at: frame.received_at,
        facility: parsed.facility,
        facility_name: parsed.facility_name.map(str::to_owned),
        severity: parsed.severity,
        severity_name: parsed.severity_name.map(str::to_owned),
        hostname: parsed.hostname,
        app_name: parsed.app_name,
        proc_id: parsed.proc_id,
        msg_id: parsed.msg_id,
        structured_data: parsed.structured_data,
        message: parsed.message,
        vendor: parsed.vendor.map(str::to_owned),
        mnemonic: parsed.mnemonic,
        sequence: parsed.sequence,
        event_type: parsed.event_type,
        fields: parsed.fields,
        parse_error: parsed.parse_error,
        invalid_utf8: parsed.invalid_utf8,
        // A dual-stack `[::]` socket reports IPv4 senders as `::ffff:a.b.c.d`: the plain IPv4 address keeps
        // one device one key whichever socket it reached.
        source_ip: frame.peer.ip().to_canonical(),
        source_port: frame.peer.port(),
        transport: match frame.transport {
            Transport::Udp => SyslogTransport::Udp,
            Transport::Tcp => SyslogTransport::Tcp,
            Transport::Tls => SyslogTransport::Tls,
            Transport::Relp => SyslogTransport::Relp,
        },
        truncated: frame.truncated,
        raw,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn received_at() -> DateTime<Utc> {
        "2026-12-03T10:00:00Z".parse().unwrap()
    }

    fn frame(bytes: &[u8], peer: &str, transport: Transport) -> Frame {
        Frame {
            bytes: bytes.to_vec(),
            peer: peer.parse().unwrap(),
            transport,
            truncated: false,
            received_at: received_at(),
        }
    }

    #[test]
    fn a_cisco_line_keeps_its_fields_and_its_sender() {
        let line =
            b"<189>58: *Mar  1 18:46:11.123 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down";
        let record = record(
            &frame(line, "[::ffff:10.0.0.9]:51514", Transport::Tcp),
            RawPolicy::OnError,
        );
        assert_eq!(record.facility, Some(23));
        assert_eq!(record.facility_name.as_deref(), Some("local7"));
        assert_eq!(record.severity, Some(5));
        assert_eq!(record.mnemonic.as_deref(), Some("LINK-3-UPDOWN"));
        assert_eq!(record.sequence, Some(58));
        assert_eq!(record.vendor.as_deref(), Some("cisco"));
        assert_eq!(record.message, "Interface Gi0/1, changed state to down");
        // `*`: the clock is not authoritative, so the arrival time stands.
        assert_eq!(record.ts_source, SyslogTimeSource::Received);
        assert_eq!(record.ts, received_at());
        assert_eq!(record.received_at, received_at());
        assert_eq!(record.source_ip.to_string(), "10.0.0.9");
        assert_eq!(record.key(), "10.0.0.9");
        assert_eq!(record.source_port, 51514);
        assert_eq!(record.transport, SyslogTransport::Tcp);
        assert_eq!(record.parse_error, None);
        assert_eq!(record.raw, None, "on_error keeps no raw line for a parsed one");
    }

    #[test]
    fn raw_follows_the_policy() {
        let unparsed = frame(b"no priority here", "10.0.0.1:514", Transport::Udp);
        let parsed = frame(
            b"<13>1 2026-12-03T10:00:00Z host app - - - hi",
            "10.0.0.1:514",
            Transport::Udp,
        );
        let on_error = record(&unparsed, RawPolicy::OnError);
        assert!(on_error.parse_error.is_some());
        assert_eq!(on_error.message, "no priority here");
        assert_eq!(on_error.raw.as_deref(), Some("no priority here"));
        assert_eq!(record(&unparsed, RawPolicy::Never).raw, None);
        let always = record(&parsed, RawPolicy::Always);
        assert_eq!(
            always.raw.as_deref(),
            Some("<13>1 2026-12-03T10:00:00Z host app - - - hi")
        );
        assert_eq!(always.hostname.as_deref(), Some("host"));
        assert_eq!(always.app_name.as_deref(), Some("app"));
        assert_eq!(always.ts_source, SyslogTimeSource::Message);
        assert_eq!(always.transport, SyslogTransport::Udp);
    }

    #[test]
    fn a_relp_message_says_so() {
        let relp = frame(
            b"<13>1 2026-12-03T10:00:00Z host app - - - hi",
            "10.0.0.3:40001",
            Transport::Relp,
        );
        let record = record(&relp, RawPolicy::OnError);
        assert_eq!(record.transport, SyslogTransport::Relp);
        assert_eq!(serde_json::to_value(&record).unwrap()["transport"], "relp");
    }

    #[test]
    fn the_record_round_trips_through_json() {
        let mut truncated = frame(
            b"<13>Dec  3 10:00:00 host app[7]: cut",
            "10.0.0.2:40000",
            Transport::Tls,
        );
        truncated.truncated = true;
        let record = record(&truncated, RawPolicy::Always);
        assert!(record.truncated);
        assert_eq!(record.proc_id.as_deref(), Some("7"));
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["sourceIp"], "10.0.0.2");
        assert_eq!(json["transport"], "tls");
        assert_eq!(json["tsSource"], "message");
        let back: SyslogRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }
}
