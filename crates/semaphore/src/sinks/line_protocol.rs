//! InfluxDB line protocol for uplink samples (pure, so it is tested without a server).
//!
//! ```text
//! meraki_uplink,ip=8.8.8.8,network=N_1,network_name=Branch\ 1,org=1,serial=Q2AA-BBBB-CCCC,uplink=wan1 loss=1.5,latency=20.3,up=true 1795860000
//! ```
//! - tags (sorted, as InfluxDB prefers): `org`, `network`, `network_name`, `serial`, `device_name`, `uplink`,
//!   `ip`; a missing name is left out (InfluxDB refuses empty tag values);
//! - fields: `loss` (percent), `latency` (ms), `jitter` (ms), `goodput` (kbit/s), each only when not null,
//!   and `up` (false when Meraki reported no loss figure), so a down uplink still writes a point;
//! - timestamp: the sample time in seconds (`precision=s`).

use std::fmt::Write;

use crate::record::UplinkRecord;

/// Appends one line for `record` to `out`.
pub fn write_line(out: &mut String, measurement: &str, record: &UplinkRecord) {
    out.push_str(&escape(measurement, &[',', ' ']));
    let mut tags: Vec<(&str, &str)> = vec![
        ("org", &record.organization_id),
        ("network", &record.network_id),
        ("serial", &record.serial),
        ("uplink", &record.uplink),
        ("ip", &record.ip),
    ];
    if let Some(name) = &record.network_name {
        tags.push(("network_name", name));
    }
    if let Some(name) = &record.device_name {
        tags.push(("device_name", name));
    }
    tags.retain(|(_, value)| !value.is_empty());
    tags.sort_unstable();
    for (key, value) in tags {
        let _ = write!(out, ",{key}={}", escape(value, &[',', '=', ' ']));
    }
    let mut separator = ' ';
    for (key, value) in [
        ("loss", record.loss_percent),
        ("latency", record.latency_ms),
        ("jitter", record.jitter),
        ("goodput", record.goodput),
    ] {
        if let Some(value) = value.filter(|value| value.is_finite()) {
            let _ = write!(out, "{separator}{key}={value:?}");
            separator = ',';
        }
    }
    let _ = writeln!(
        out,
        "{separator}up={} {}",
        !record.is_down(),
        record.ts.timestamp()
    );
}

/// Backslash-escapes `special` characters (and backslashes before them), as the line protocol asks.
fn escape(text: &str, special: &[char]) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if special.contains(&character) {
            escaped.push('\\');
        }
        // Newlines cannot be escaped in line protocol; a space keeps the point valid.
        escaped.push(if character == '\n' { ' ' } else { character });
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> UplinkRecord {
        serde_json::from_str(
            r#"{"organizationId":"1","networkId":"N_1","networkName":"Branch 1, east","serial":"Q2AA-BBBB-CCCC",
            "deviceName":"mx=1","model":"MX68","tags":[],"uplink":"wan1","ip":"8.8.8.8","ts":"2026-11-27T10:00:00Z",
            "lossPercent":1.5,"latencyMs":20.0,"jitter":null,"goodput":null,"activeDdnsHostname":null,
            "ddnsHostnameWan1":null,"ddnsHostnameWan2":null}"#,
        )
        .unwrap()
    }

    #[test]
    fn tags_sorted_and_escaped_nulls_omitted_float_fields() {
        let mut out = String::new();
        write_line(&mut out, "meraki_uplink", &record());
        assert_eq!(
            out,
            "meraki_uplink,device_name=mx\\=1,ip=8.8.8.8,network=N_1,network_name=Branch\\ 1\\,\\ east,org=1,\
             serial=Q2AA-BBBB-CCCC,uplink=wan1 loss=1.5,latency=20.0,up=true 1795773600\n"
        );
    }

    #[test]
    fn down_uplink_writes_up_false_only() {
        let mut down = record();
        down.loss_percent = None;
        down.latency_ms = None;
        down.network_name = None;
        down.device_name = Some(String::new());
        let mut out = String::new();
        write_line(&mut out, "m x", &down);
        assert_eq!(
            out,
            "m\\ x,ip=8.8.8.8,network=N_1,org=1,serial=Q2AA-BBBB-CCCC,uplink=wan1 up=false 1795773600\n"
        );
    }
}
