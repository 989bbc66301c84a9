//! How `semaphore consume` prints a record: a JSON envelope per line (`json`), the same pretty-printed
//! (`pretty`), the value alone (`value`), or a kcat-style format string (`%t %p %o %k %s %T %h`).
//!
//! Records are rendered into the byte buffer the consumer writes out in blocks. `value`, format strings and
//! `json` write straight into it without allocating per record: `json` writes its envelope field by field and
//! copies a value that is already compact JSON as its producer wrote it; only `pretty` builds a `Value`.

use std::io::{self, Write};
use std::str::FromStr;

use serde::de::IgnoredAny;
use serde_json::{Map, Value, json};

/// An output format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Pretty,
    Value,
    Template(String),
}

impl FromStr for OutputFormat {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "json" => Ok(OutputFormat::Json),
            "pretty" => Ok(OutputFormat::Pretty),
            "value" => Ok(OutputFormat::Value),
            template if template.contains('%') => Ok(OutputFormat::Template(template.to_owned())),
            other => Err(format!(
                "unknown format {other:?}: use json, pretty, value, or a format string such as '%t %p %o %k %s\\n'"
            )),
        }
    }
}

impl OutputFormat {
    /// Whether this format prints headers; the consumer reads a record's headers only then.
    pub fn shows_headers(&self) -> bool {
        match self {
            OutputFormat::Json | OutputFormat::Pretty => true,
            OutputFormat::Value => false,
            OutputFormat::Template(template) => template.contains("%h"),
        }
    }
}

/// A record as consumed, borrowed from the consumer's message.
#[derive(Clone, Debug, Default)]
pub struct ConsumedRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<&'a [u8]>,
    /// The headers in the record's order (left empty when the format does not show them).
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    pub payload: Option<&'a [u8]>,
}

impl ConsumedRecord<'_> {
    /// The envelope: `topic, partition, offset, timestamp, key, headers, value` (value parsed when it is JSON).
    pub fn envelope(&self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|&(key, value)| {
                (
                    key.to_owned(),
                    value.map_or(Value::Null, |value| json!(lossy(value))),
                )
            })
            .collect();
        json!({
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp_ms,
            "key": self.key.map(lossy),
            "headers": headers,
            "value": self.payload.map(|payload| serde_json::from_slice::<Value>(payload).unwrap_or_else(|_| json!(lossy(payload)))),
        })
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Appends one record in `format` to `out`.
pub fn render(format: &OutputFormat, record: &ConsumedRecord<'_>, out: &mut Vec<u8>) -> io::Result<()> {
    match format {
        OutputFormat::Json => write_envelope(record, out),
        OutputFormat::Pretty => {
            serde_json::to_writer_pretty(&mut *out, &record.envelope())?;
            out.push(b'\n');
            Ok(())
        }
        OutputFormat::Value => {
            out.extend_from_slice(record.payload.unwrap_or_default());
            out.push(b'\n');
            Ok(())
        }
        OutputFormat::Template(template) => render_template(template, record, out),
    }
}

/// The `json` line, written field by field: the keys, their order and their values are those of
/// [`ConsumedRecord::envelope`] serialized (serde_json's map sorts its keys), except that a value which is
/// already compact JSON is copied as its producer wrote it (its own key order and number spelling) instead of
/// being parsed and written again.
fn write_envelope(record: &ConsumedRecord<'_>, out: &mut Vec<u8>) -> io::Result<()> {
    out.extend_from_slice(b"{\"headers\":{");
    write_headers(&record.headers, out)?;
    out.extend_from_slice(b"},\"key\":");
    write_lossy_or_null(record.key, out)?;
    write!(
        out,
        ",\"offset\":{},\"partition\":{},\"timestamp\":",
        record.offset, record.partition
    )?;
    match record.timestamp_ms {
        Some(milliseconds) => write!(out, "{milliseconds}")?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"topic\":");
    serde_json::to_writer(&mut *out, record.topic)?;
    out.extend_from_slice(b",\"value\":");
    match record.payload {
        Some(payload) => write_json_value(payload, out)?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// The headers as the envelope's map holds them: sorted by key, the last value of a repeated key.
fn write_headers(headers: &[(&str, Option<&[u8]>)], out: &mut Vec<u8>) -> io::Result<()> {
    // Headers usually come sorted with no key repeated: then they are written as they are, with no copy.
    let mut ordered = Vec::new();
    let headers = if headers.windows(2).all(|pair| pair[0].0 < pair[1].0) {
        headers
    } else {
        ordered.extend_from_slice(headers);
        // Stable, so the entries of a repeated key keep their order; reversed, the last one comes first and
        // is the one `dedup` keeps.
        ordered.sort_by(|left, right| left.0.cmp(right.0));
        ordered.reverse();
        ordered.dedup_by_key(|header| header.0);
        ordered.reverse();
        ordered.as_slice()
    };
    for (index, (key, value)) in headers.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key)?;
        out.push(b':');
        write_lossy_or_null(*value, out)?;
    }
    Ok(())
}

/// Bytes as a JSON string (invalid UTF-8 replaced), or `null`.
fn write_lossy_or_null(bytes: Option<&[u8]>, out: &mut Vec<u8>) -> io::Result<()> {
    match bytes {
        Some(bytes) => serde_json::to_writer(&mut *out, &*String::from_utf8_lossy(bytes))?,
        None => out.extend_from_slice(b"null"),
    }
    Ok(())
}

/// The envelope's value: JSON as JSON (on one line), anything else as a string.
fn write_json_value(payload: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    // Checked without building a `Value`: UTF-8, then the JSON grammar (`IgnoredAny` allocates nothing).
    if starts_like_json(payload)
        && std::str::from_utf8(payload).is_ok()
        && serde_json::from_slice::<IgnoredAny>(payload).is_ok()
    {
        if is_compact(payload) {
            out.extend_from_slice(payload);
            return Ok(());
        }
        // Valid but spread over lines or spaced: written again, compact. A number out of a `Value`'s range
        // fails here and is printed as a string, as before.
        if let Ok(value) = serde_json::from_slice::<Value>(payload) {
            serde_json::to_writer(&mut *out, &value)?;
            return Ok(());
        }
    }
    serde_json::to_writer(&mut *out, &*String::from_utf8_lossy(payload))?;
    Ok(())
}

/// Whether the first non-blank byte can start a JSON value: a cheap "no" for text that is not JSON, which
/// spares the parser building an error for every such record.
fn starts_like_json(payload: &[u8]) -> bool {
    payload
        .iter()
        .copied()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|first| {
            matches!(
                first,
                b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
            )
        })
}

/// Whether valid JSON has no whitespace outside its strings, so that copied as it is it is one compact line
/// (a JSON string cannot hold a raw line break).
fn is_compact(json: &[u8]) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if byte == b'"' {
            in_string = true;
        } else if matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            return false;
        }
    }
    true
}

/// A kcat-style format string, literal runs copied whole.
fn render_template(template: &str, record: &ConsumedRecord<'_>, out: &mut Vec<u8>) -> io::Result<()> {
    let bytes = template.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let marker_at = bytes[index..]
            .iter()
            .position(|&byte| byte == b'%' || byte == b'\\')
            .map_or(bytes.len(), |offset| index + offset);
        out.extend_from_slice(&bytes[index..marker_at]);
        if marker_at == bytes.len() {
            break;
        }
        // `%` and `\` are ASCII, so the character after one starts right after it.
        let next = template[marker_at + 1..].chars().next();
        index = marker_at + 1 + next.map_or(0, char::len_utf8);
        match (bytes[marker_at], next) {
            (b'%', Some('t')) => out.extend_from_slice(record.topic.as_bytes()),
            (b'%', Some('p')) => write!(out, "{}", record.partition)?,
            (b'%', Some('o')) => write!(out, "{}", record.offset)?,
            (b'%', Some('k')) => out.extend_from_slice(record.key.unwrap_or_default()),
            (b'%', Some('s')) => out.extend_from_slice(record.payload.unwrap_or_default()),
            (b'%', Some('T')) => write!(out, "{}", record.timestamp_ms.unwrap_or(-1))?,
            (b'%', Some('h')) => write_header_pairs(&record.headers, out),
            (b'%', Some('%')) => out.push(b'%'),
            (b'\\', Some('n')) => out.push(b'\n'),
            (b'\\', Some('t')) => out.push(b'\t'),
            // Anything else, and a marker ending the string, is printed as written.
            _ => out.extend_from_slice(&bytes[marker_at..index]),
        }
    }
    Ok(())
}

/// `%h`: `key=value` pairs joined by commas, values as text (invalid UTF-8 replaced).
fn write_header_pairs(headers: &[(&str, Option<&[u8]>)], out: &mut Vec<u8>) {
    for (index, (key, value)) in headers.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        if let Some(value) = value {
            out.extend_from_slice(String::from_utf8_lossy(value).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ConsumedRecord<'static> {
        ConsumedRecord {
            topic: "meraki.uplinks",
            partition: 3,
            offset: 42,
            timestamp_ms: Some(1_700_000_000_000),
            key: Some(b"Q2AB-CDEF-GHJK"),
            headers: vec![("content-type", Some(b"application/json".as_slice()))],
            payload: Some(br#"{"lossPercent":null,"latencyMs":12.5}"#),
        }
    }

    fn text(format: &str) -> String {
        rendered(format, &record())
    }

    fn rendered(format: &str, record: &ConsumedRecord<'_>) -> String {
        let mut out = Vec::new();
        render(&format.parse().unwrap(), record, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_envelope_parses_json_values() {
        let line = text("json");
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["value"]["latencyMs"], 12.5);
        assert_eq!(value["value"]["lossPercent"], Value::Null);
        assert_eq!(value["key"], "Q2AB-CDEF-GHJK");
        assert_eq!(value["headers"]["content-type"], "application/json");
        let not_json = ConsumedRecord {
            payload: Some(b"plain text"),
            ..record()
        };
        assert_eq!(not_json.envelope()["value"], "plain text");
    }

    /// The `json` line is written field by field; it says what the `Value` envelope says, on one line, and
    /// is that envelope's very text wherever the value is not copied as its producer wrote it.
    #[test]
    fn json_lines_say_what_the_envelope_says() {
        let pretty_json: &[u8] = b"{ \"b\": [1, 2.5, \"x y\"],\n  \"a\": {\"c\": null} }";
        let payloads: [Option<&[u8]>; 8] = [
            Some(br#"{"b":1,"a":[true,false,null],"s":"with space and \"quote\" and \\"}"#),
            Some(pretty_json),
            Some(b"plain text"),
            Some(b"  "),
            Some(b""),
            Some(b"\xff\xfe not UTF-8"),
            Some(b"{\"unfinished\":"),
            None,
        ];
        type Header<'a> = (&'a str, Option<&'a [u8]>);
        let headers: [Vec<Header>; 3] = [
            vec![],
            vec![
                ("b", Some(b"2".as_slice())),
                ("a", None),
                ("b", Some(b"3".as_slice())),
            ],
            vec![("a", Some(b"\xff".as_slice())), ("z\"", Some(b"1".as_slice()))],
        ];
        for payload in payloads {
            for headers in &headers {
                for (timestamp_ms, key) in [(None, None), (Some(-1), Some(b"k\n".as_slice()))] {
                    let record = ConsumedRecord {
                        timestamp_ms,
                        key,
                        headers: headers.clone(),
                        payload,
                        ..record()
                    };
                    let line = rendered("json", &record);
                    let case = format!("{payload:?} {headers:?}");
                    assert!(
                        line.ends_with('\n') && line.matches('\n').count() == 1,
                        "{case}: {line}"
                    );
                    let envelope = record.envelope();
                    let parsed: Value =
                        serde_json::from_str(&line).unwrap_or_else(|error| panic!("{case}: {error}: {line}"));
                    assert_eq!(parsed, envelope, "{case}");
                    let copied_as_written = payload.is_some_and(|payload| payload.starts_with(b"{\"b\":1"));
                    if !copied_as_written {
                        assert_eq!(
                            line,
                            format!("{}\n", serde_json::to_string(&envelope).unwrap()),
                            "{case}"
                        );
                    }
                }
            }
        }
        // Spread over lines, the value is written again, compact.
        let spread = ConsumedRecord {
            payload: Some(pretty_json),
            ..record()
        };
        assert!(rendered("json", &spread).contains(r#""value":{"a":{"c":null},"b":[1,2.5,"x y"]}"#));
        // Compact, it is copied as it is, its own key order kept.
        let compact = ConsumedRecord {
            payload: Some(br#"{"z":1,"a":2}"#),
            ..record()
        };
        assert!(rendered("json", &compact).ends_with(",\"value\":{\"z\":1,\"a\":2}}\n"));
        // So is a number beyond what a `Value` holds (valid JSON; before, it was printed as a string).
        let huge = ConsumedRecord {
            payload: Some(b"1e400"),
            ..record()
        };
        assert!(rendered("json", &huge).ends_with(",\"value\":1e400}\n"));
    }

    #[test]
    fn compactness_looks_outside_strings_only() {
        assert!(is_compact(br#"{"a b":"c\"d e","f":[1,2]}"#));
        assert!(is_compact(br#""ends with backslash \\""#));
        assert!(!is_compact(br#"{"a":1, "b":2}"#));
        assert!(!is_compact(b"[1,\n2]"));
        assert!(!is_compact(br#"["\\" ,1]"#));
    }

    #[test]
    fn templates_like_kcat() {
        assert_eq!(
            text("%t %p %o %k %T\\n"),
            "meraki.uplinks 3 42 Q2AB-CDEF-GHJK 1700000000000\n"
        );
        assert_eq!(
            text("%h|%s|100%%"),
            "content-type=application/json|{\"lossPercent\":null,\"latencyMs\":12.5}|100%"
        );
        assert_eq!(text("value"), "{\"lossPercent\":null,\"latencyMs\":12.5}\n");
        assert!("yaml".parse::<OutputFormat>().is_err());
    }

    #[test]
    fn unknown_template_directives_print_as_written() {
        assert_eq!(text("%x\\q%"), "%x\\q%");
        assert_eq!(text("%\\n"), "%\\n");
        assert_eq!(text("é%é\\é|%p\\"), "é%é\\é|3\\");
        assert_eq!(text("%%h\\\\n"), "%h\\\\n");
        let headers = ConsumedRecord {
            headers: vec![("a", None), ("b", Some(b"\xff".as_slice()))],
            ..record()
        };
        assert_eq!(rendered("%h", &headers), "a=,b=\u{fffd}");
    }

    #[test]
    fn only_formats_that_print_headers_read_them() {
        assert!(OutputFormat::Json.shows_headers());
        assert!(OutputFormat::Pretty.shows_headers());
        assert!(!OutputFormat::Value.shows_headers());
        assert!("%k %h\\n".parse::<OutputFormat>().unwrap().shows_headers());
        assert!(!"%k %s\\n".parse::<OutputFormat>().unwrap().shows_headers());
    }
}
