//! RFC 5424 STRUCTURED-DATA (§6.3) as JSON: `[id p="v"][id2 q="w"]` →
//! `{"id": {"p": "v"}, "id2": {"q": "w"}}`.
//!
//! Inside a value `\"`, `\\` and `\]` stand for the character; a backslash before anything else is kept
//! with it, as §6.3.3 says. A parameter named twice in an element keeps both values ([`params`]); an SD-ID
//! that appears twice (which the RFC forbids) merges into one object rather than failing the line.

use serde_json::{Map, Value};

use crate::sources::syslog::parse::error::ParseError;
use crate::sources::syslog::parse::params;

/// Reads the STRUCTURED-DATA field at the front of `text` and returns it (`None` for the NILVALUE `-`) and
/// the text after it.
pub fn parse(text: &str) -> Result<(Option<Value>, &str), ParseError> {
    if let Some(rest) = text.strip_prefix('-') {
        return Ok((None, rest));
    }
    if !text.starts_with('[') {
        return Err(ParseError::StructuredData("expected `-` or `[`"));
    }
    let mut elements = Map::new();
    let mut rest = text;
    while let Some(after_bracket) = rest.strip_prefix('[') {
        rest = element(after_bracket, &mut elements)?;
    }
    Ok((Some(Value::Object(elements)), rest))
}

/// One element after its `[`: the SD-ID, then `name="value"` parameters up to `]`. Returns the text after
/// the `]`.
fn element<'a>(text: &'a str, elements: &mut Map<String, Value>) -> Result<&'a str, ParseError> {
    let (id, mut rest) = name(text);
    if id.is_empty() {
        return Err(ParseError::StructuredData("element has no SD-ID"));
    }
    let mut parameters = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(']') {
            add(elements, id, parameters);
            return Ok(after);
        }
        let (parameter_name, value, after) = parameter(rest)?;
        parameters.push((parameter_name, value));
        rest = after;
    }
}

/// `name="value"` at the front of `text`: the name, the unescaped value and the text after the closing `"`.
fn parameter(text: &str) -> Result<(&str, String, &str), ParseError> {
    if text.is_empty() {
        return Err(ParseError::StructuredData("element is not closed by `]`"));
    }
    let (parameter_name, rest) = name(text);
    if parameter_name.is_empty() {
        return Err(ParseError::StructuredData("parameter has no name"));
    }
    let Some(quoted) = rest.strip_prefix("=\"") else {
        return Err(ParseError::StructuredData("parameter value is not `=\"…\"`"));
    };
    let (value, rest) = value(quoted)?;
    Ok((parameter_name, value, rest))
}

/// An SD-NAME: printable US-ASCII except `=`, space, `]` and `"` (§6.3.2); returns it and the text after.
fn name(text: &str) -> (&str, &str) {
    let length = text
        .find(|character: char| !character.is_ascii_graphic() || matches!(character, '=' | ']' | '"'))
        .unwrap_or(text.len());
    text.split_at(length)
}

/// A value up to its closing `"`, unescaped; returns it and the text after the quote.
fn value(text: &str) -> Result<(String, &str), ParseError> {
    let mut value = String::new();
    let mut characters = text.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Ok((value, &text[index + 1..])),
            '\\' => push_escaped(&mut value, characters.next().map(|(_, escaped)| escaped)),
            _ => value.push(character),
        }
    }
    Err(ParseError::StructuredData(
        "parameter value is not closed by `\"`",
    ))
}

/// What a backslash and the character after it stand for.
fn push_escaped(value: &mut String, next: Option<char>) {
    match next {
        Some(escaped @ ('"' | '\\' | ']')) => value.push(escaped),
        Some(other) => {
            value.push('\\');
            value.push(other);
        }
        None => value.push('\\'),
    }
}

/// Adds an element's parameters under its SD-ID, merging with an element of the same SD-ID.
fn add(elements: &mut Map<String, Value>, id: &str, parameters: Vec<(&str, String)>) {
    let entry = elements.entry(id).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(object) = entry {
        for (parameter_name, value) in parameters {
            params::insert(object, parameter_name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(text: &str) -> (Option<Value>, &str) {
        parse(text).unwrap()
    }

    #[test]
    fn reads_elements_into_objects() {
        let text = r#"[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] rest"#;
        let expected = json!({
            "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
            "examplePriority@32473": {"class": "high"},
        });
        assert_eq!(parsed(text), (Some(expected), " rest"));
    }

    #[test]
    fn the_nil_value_is_none() {
        assert_eq!(parsed("- message"), (None, " message"));
    }

    #[test]
    fn unescapes_quote_backslash_and_bracket_only() {
        let (data, _) = parsed(r#"[ex@1 a="x\"y" b="c\\d" c="e\]f" d="g\nh"]"#);
        assert_eq!(
            data,
            Some(json!({"ex@1": {"a": "x\"y", "b": "c\\d", "c": "e]f", "d": "g\\nh"}}))
        );
    }

    #[test]
    fn keeps_every_value_of_a_repeated_parameter() {
        let (data, _) = parsed(r#"[origin ip="10.0.0.1" ip="10.0.0.2"][origin software="x"]"#);
        assert_eq!(
            data,
            Some(json!({"origin": {"ip": ["10.0.0.1", "10.0.0.2"], "software": "x"}}))
        );
    }

    #[test]
    fn an_element_without_parameters_is_an_empty_object() {
        assert_eq!(parsed("[meta]"), (Some(json!({"meta": {}})), ""));
    }

    #[test]
    fn rejects_malformed_data() {
        let error = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            error(r#"[ex@1 a="1""#),
            "structured data: element is not closed by `]`"
        );
        assert_eq!(
            error(r#"[ex@1 a="1]"#),
            "structured data: parameter value is not closed by `\"`"
        );
        assert_eq!(
            error(r#"[ex@1 a=1]"#),
            "structured data: parameter value is not `=\"…\"`"
        );
        assert_eq!(error(r#"[ a="1"]"#), "structured data: element has no SD-ID");
        assert_eq!(error(r#"[ex@1 ="1"]"#), "structured data: parameter has no name");
        assert_eq!(error("x"), "structured data: expected `-` or `[`");
        assert_eq!(error("[ex@1"), "structured data: element is not closed by `]`");
    }
}
