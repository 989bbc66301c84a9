//! How `semaphore consume` prints a record: a JSON envelope per line (`json`), the same pretty-printed
//! (`pretty`), the value alone (`value`), or a kcat-style format string (`%t %p %o %k %s %T %h`).

use std::io::{self, Write};
use std::str::FromStr;

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

/// A record as consumed.
#[derive(Clone, Debug, Default)]
pub struct ConsumedRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<&'a [u8]>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub payload: Option<&'a [u8]>,
}

impl ConsumedRecord<'_> {
    /// The envelope: `topic, partition, offset, timestamp, key, headers, value` (value parsed when it is JSON).
    pub fn envelope(&self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(key, value)| {
                (
                    key.clone(),
                    value.as_deref().map_or(Value::Null, |value| json!(lossy(value))),
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

/// Writes one record in `format`.
pub fn render(format: &OutputFormat, record: &ConsumedRecord<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut *out, &record.envelope())?;
            out.write_all(b"\n")
        }
        OutputFormat::Pretty => {
            serde_json::to_writer_pretty(&mut *out, &record.envelope())?;
            out.write_all(b"\n")
        }
        OutputFormat::Value => {
            out.write_all(record.payload.unwrap_or_default())?;
            out.write_all(b"\n")
        }
        OutputFormat::Template(template) => render_template(template, record, out),
    }
}

fn render_template(template: &str, record: &ConsumedRecord<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut characters = template.chars();
    while let Some(character) = characters.next() {
        match character {
            '%' => match characters.next() {
                Some('t') => out.write_all(record.topic.as_bytes())?,
                Some('p') => write!(out, "{}", record.partition)?,
                Some('o') => write!(out, "{}", record.offset)?,
                Some('k') => out.write_all(record.key.unwrap_or_default())?,
                Some('s') => out.write_all(record.payload.unwrap_or_default())?,
                Some('T') => write!(out, "{}", record.timestamp_ms.unwrap_or(-1))?,
                Some('h') => {
                    let headers: Vec<String> = record
                        .headers
                        .iter()
                        .map(|(key, value)| {
                            format!("{key}={}", value.as_deref().map(lossy).unwrap_or_default())
                        })
                        .collect();
                    out.write_all(headers.join(",").as_bytes())?
                }
                Some('%') => out.write_all(b"%")?,
                Some(other) => write!(out, "%{other}")?,
                None => out.write_all(b"%")?,
            },
            '\\' => match characters.next() {
                Some('n') => out.write_all(b"\n")?,
                Some('t') => out.write_all(b"\t")?,
                Some(other) => write!(out, "\\{other}")?,
                None => out.write_all(b"\\")?,
            },
            other => write!(out, "{other}")?,
        }
    }
    Ok(())
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
            headers: vec![("content-type".into(), Some(b"application/json".to_vec()))],
            payload: Some(br#"{"lossPercent":null,"latencyMs":12.5}"#),
        }
    }

    fn text(format: &str) -> String {
        let mut out = Vec::new();
        render(&format.parse().unwrap(), &record(), &mut out).unwrap();
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
}
