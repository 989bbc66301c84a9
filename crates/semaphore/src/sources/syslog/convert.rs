//! One received frame → its `syslog.message/1` record: the parser's fields, plus who sent it (the address,
//! and the device when the directory knows it), over what, and (per the source's `raw` setting) the line as
//! received. Pure, so it is tested without a socket.

use crate::device_identity::DeviceIdentity;
use crate::record::device::DeviceFields;
use crate::record::{SyslogRecord, SyslogTimeSource, SyslogTransport};
use crate::sources::listener::{Frame, Transport};
use crate::sources::syslog::config::RawPolicy;
use crate::sources::syslog::parse::{self, ParsedMessage, TsSource};

/// Parses the frame and makes its record; `device` is the sender's identity, when known.
pub fn record(frame: &Frame, raw: RawPolicy, device: Option<&DeviceIdentity>) -> SyslogRecord {
    let parsed = parse::parse(&frame.bytes, frame.received_at);
    let keep_raw = match raw {
        RawPolicy::Always => true,
        RawPolicy::OnError => parsed.parse_error.is_some(),
        RawPolicy::Never => false,
    };
    let raw = keep_raw.then(|| String::from_utf8_lossy(&frame.bytes).into_owned());
    from_parsed(parsed, frame, raw, device)
}

fn from_parsed(
    parsed: ParsedMessage,
    frame: &Frame,
    raw: Option<String>,
    device: Option<&DeviceIdentity>,
) -> SyslogRecord {
    let identity = DeviceFields::of(device);
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
        device_name: identity.device_name,
        serial: identity.serial,
        site: identity.site,
        role: identity.role,
        network_id: identity.network_id,
        network_name: identity.network_name,
        // Known: the device's tags, even none; unknown: null.
        tags: identity.tags,
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
            None,
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
        // A sender the directory does not know: no identity (null, not empty), keyed by its address.
        assert_eq!(record.key(), "10.0.0.9");
        assert_eq!(record.serial, None);
        assert_eq!(record.device_name, None);
        assert_eq!(record.tags, None);
        assert_eq!(record.source_port, 51514);
        assert_eq!(record.transport, SyslogTransport::Tcp);
        assert_eq!(record.parse_error, None);
        assert_eq!(record.raw, None, "on_error keeps no raw line for a parsed one");
    }

    /// Issue 13: a sender the device directory knows is named on its records, which are keyed by the device:
    /// its serial, else its name, else (neither known) the sender's address.
    #[test]
    fn a_known_sender_carries_its_identity_and_is_keyed_by_the_device() {
        let line = frame(
            b"<13>Dec  3 10:00:00 core-sw1 app: hi",
            "[::ffff:10.0.0.9]:514",
            Transport::Udp,
        );
        let tags = vec!["dc".to_owned(), "core".to_owned()];
        let mut device = DeviceIdentity {
            name: Some("core-sw1".to_owned()),
            serial: Some("FOC1234X".to_owned()),
            site: Some("madrid".to_owned()),
            role: Some("core".to_owned()),
            network_id: None,
            network_name: None,
            tags: tags.clone(),
        };
        let known = record(&line, RawPolicy::Never, Some(&device));
        assert_eq!(known.device_name.as_deref(), Some("core-sw1"));
        assert_eq!(known.serial.as_deref(), Some("FOC1234X"));
        assert_eq!(known.site.as_deref(), Some("madrid"));
        assert_eq!(known.role.as_deref(), Some("core"));
        assert_eq!(known.network_id, None);
        assert_eq!(known.tags, Some(tags.clone()));
        assert_eq!(known.key(), "FOC1234X");
        let json = serde_json::to_value(&known).unwrap();
        assert_eq!(json["deviceName"], "core-sw1");
        assert_eq!(json["networkName"], serde_json::Value::Null);
        assert_eq!(json["tags"], serde_json::json!(["dc", "core"]));
        device.serial = None;
        let named = record(&line, RawPolicy::Never, Some(&device));
        assert_eq!(named.key(), "core-sw1");
        device.name = None;
        let tagged_only = record(&line, RawPolicy::Never, Some(&device));
        assert_eq!(tagged_only.key(), "10.0.0.9");
        assert_eq!(tagged_only.tags, Some(tags));
    }

    #[test]
    fn raw_follows_the_policy() {
        let unparsed = frame(b"no priority here", "10.0.0.1:514", Transport::Udp);
        let parsed = frame(
            b"<13>1 2026-12-03T10:00:00Z host app - - - hi",
            "10.0.0.1:514",
            Transport::Udp,
        );
        let on_error = record(&unparsed, RawPolicy::OnError, None);
        assert!(on_error.parse_error.is_some());
        assert_eq!(on_error.message, "no priority here");
        assert_eq!(on_error.raw.as_deref(), Some("no priority here"));
        assert_eq!(record(&unparsed, RawPolicy::Never, None).raw, None);
        let always = record(&parsed, RawPolicy::Always, None);
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
        let record = record(&relp, RawPolicy::OnError, None);
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
        let record = record(&truncated, RawPolicy::Always, None);
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
