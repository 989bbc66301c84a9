//! What the poller reads out of a [`Value`]: text, numbers, counters with their width, and the JSON a record
//! carries for a value the config added by OID. An exception (`noSuchObject`, `noSuchInstance`,
//! `endOfMibView`) is no value: `None`, or null in JSON.

use crate::sources::snmp::poller::rates::Counter;
use crate::sources::snmp::wire::Value;

/// A string as records show it: printable text as itself, other octets as colon-separated hex (a MAC
/// address); other types as their text.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => None,
        other => Some(other.to_string()),
    }
}

/// An integer of any of SNMP's integer types.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(number) => Some(i64::from(*number)),
        Value::Counter32(number) | Value::Gauge32(number) | Value::TimeTicks(number) => {
            Some(i64::from(*number))
        }
        Value::Counter64(number) => i64::try_from(*number).ok(),
        _ => None,
    }
}

/// A non-negative integer (a speed, a gauge).
pub fn unsigned(value: &Value) -> Option<u64> {
    match value {
        Value::Counter64(number) => Some(*number),
        other => integer(other).and_then(|number| u64::try_from(number).ok()),
    }
}

/// A counter and its width; a Gauge32 is taken as a 32-bit counter, as some agents answer one for a Counter32.
pub fn counter(value: &Value) -> Option<Counter> {
    match value {
        Value::Counter32(number) | Value::Gauge32(number) => Some(Counter::bits32(*number)),
        Value::Counter64(number) => Some(Counter::bits64(*number)),
        _ => None,
    }
}

/// A configured scalar's or column's value in a record: numbers as JSON numbers, everything else as text,
/// exceptions as null.
pub fn json(value: &Value) -> serde_json::Value {
    match value {
        Value::Integer(number) => (*number).into(),
        Value::Counter32(number) | Value::Gauge32(number) | Value::TimeTicks(number) => (*number).into(),
        Value::Counter64(number) => (*number).into(),
        other => text(other).map_or(serde_json::Value::Null, serde_json::Value::String),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sources::snmp::poller::rates::Width;

    #[test]
    fn numbers_text_and_exceptions() {
        assert_eq!(
            text(&Value::OctetString(b"core-sw1".to_vec())).as_deref(),
            Some("core-sw1")
        );
        assert_eq!(
            text(&Value::OctetString(vec![0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e])).as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(text(&Value::NoSuchInstance), None);
        assert_eq!(integer(&Value::Integer(-3)), Some(-3));
        assert_eq!(integer(&Value::Counter64(u64::MAX)), None);
        assert_eq!(unsigned(&Value::Gauge32(4_294_967_295)), Some(4_294_967_295));
        assert_eq!(unsigned(&Value::Integer(-1)), None);
        assert_eq!(unsigned(&Value::OctetString(b"1000".to_vec())), None);
        assert_eq!(
            counter(&Value::Counter64(7)).map(|counter| counter.width),
            Some(Width::Bits64)
        );
        assert_eq!(counter(&Value::Counter32(7)), Some(Counter::bits32(7)));
        assert_eq!(counter(&Value::EndOfMibView), None);
    }

    #[test]
    fn configured_values_become_json() {
        assert_eq!(json(&Value::Gauge32(7)), json!(7));
        assert_eq!(json(&Value::Counter64(u64::MAX)), json!(u64::MAX));
        assert_eq!(json(&Value::Integer(-5)), json!(-5));
        assert_eq!(json(&Value::TimeTicks(100)), json!(100));
        assert_eq!(json(&Value::OctetString(b"up".to_vec())), json!("up"));
        assert_eq!(json(&Value::IpAddress([10, 0, 0, 1])), json!("10.0.0.1"));
        assert_eq!(
            json(&Value::ObjectIdentifier("1.3.6.1.4.1.9".parse().unwrap())),
            json!("1.3.6.1.4.1.9")
        );
        assert_eq!(json(&Value::NoSuchObject), serde_json::Value::Null);
    }
}
