//! Name/value maps in which a name may repeat: RFC 5424 parameters (which may repeat within an element,
//! §6.3.3) and Meraki's `key=value` pairs. A name's first value is a string; a repeat turns it into an array
//! of every value in the order sent. Last-wins would drop what the device sent, and arrays for every name
//! would make the common single value awkward to read; so a consumer reads a string or an array of strings.
//! Values stay strings even when they look like numbers, so a field's type never depends on its value.

use serde_json::{Map, Value};

/// Adds `value` under `name`, keeping the values already there.
pub fn insert(map: &mut Map<String, Value>, name: &str, value: String) {
    match map.get_mut(name) {
        None => {
            map.insert(name.to_owned(), Value::String(value));
        }
        Some(Value::Array(values)) => values.push(Value::String(value)),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, Value::String(value)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_repeated_name_keeps_every_value_in_order() {
        let mut map = Map::new();
        insert(&mut map, "once", "1".to_owned());
        insert(&mut map, "thrice", "a".to_owned());
        insert(&mut map, "thrice", "b".to_owned());
        insert(&mut map, "thrice", "c".to_owned());
        assert_eq!(
            Value::Object(map),
            json!({"once": "1", "thrice": ["a", "b", "c"]})
        );
    }
}
