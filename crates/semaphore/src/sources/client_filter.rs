//! The original clients publisher's filter file, read and validated with errors that say what is wrong:
//!
//! ```json
//! { "match": "any", "conditions": [{"key": "os", "value": "PlayStation 4"}],
//!   "fuzzy": {"key": "description", "value": "iPhone"} }
//! ```
//!
//! A client is kept when `any` (or `all`) of the conditions equal its fields; without `conditions` every
//! client is kept (`"conditions": []`, which reads as "none", is refused). `fuzzy` adds
//! `{"fuzzy": {"ratio": 0-100, "partial": 0-100}}` comparing the client's field with the value: `ratio` is
//! the Indel similarity of the two strings (fuzzywuzzy's and rapidfuzz's `fuzz.ratio`), `partial` the best
//! `ratio` of the shorter string against every same-length slice of the longer one.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFilter {
    #[serde(rename = "match", default)]
    pub match_mode: MatchMode,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub fuzzy: Option<Fuzzy>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    #[default]
    Any,
    All,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub key: String,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fuzzy {
    pub key: String,
    pub value: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientFilterError {
    #[error("cannot read the clients filter file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "the clients filter file {path} is not valid: {source} (expected {{\"match\": \"any\"|\"all\", \"conditions\": [{{\"key\": …, \"value\": …}}], \"fuzzy\": {{\"key\": …, \"value\": …}}}})"
    )]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the clients filter file {path}: {reason}")]
    Rule { path: PathBuf, reason: String },
}

impl ClientFilter {
    pub fn read(path: &Path) -> Result<Self, ClientFilterError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClientFilterError::Read {
            path: path.to_owned(),
            source,
        })?;
        let filter: ClientFilter =
            serde_json::from_str(&text).map_err(|source| ClientFilterError::Invalid {
                path: path.to_owned(),
                source,
            })?;
        let rule = |reason: String| ClientFilterError::Rule {
            path: path.to_owned(),
            reason,
        };
        // serde reads a struct from a JSON array too, so `[]` would pass as a filter that keeps every client;
        // an explicit `"conditions": []` reads as "keep none" and would keep every client as well.
        let shape: Value = serde_json::from_str(&text).map_err(|source| ClientFilterError::Invalid {
            path: path.to_owned(),
            source,
        })?;
        let Some(object) = shape.as_object() else {
            return Err(rule(
                "must be a JSON object ({\"match\": …, \"conditions\": […], \"fuzzy\": {…}}), not a list or a value"
                    .into(),
            ));
        };
        if object
            .get("conditions")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            return Err(rule(
                "conditions: an empty list would keep every client; remove the key to keep every client"
                    .into(),
            ));
        }
        for (index, condition) in filter.conditions.iter().enumerate() {
            if condition.key.is_empty() {
                return Err(rule(format!("conditions[{index}].key is empty")));
            }
            if condition.value.is_object() || condition.value.is_array() {
                return Err(rule(format!(
                    "conditions[{index}].value must be a string, number, boolean or null"
                )));
            }
        }
        if filter.fuzzy.as_ref().is_some_and(|fuzzy| fuzzy.key.is_empty()) {
            return Err(rule("fuzzy.key is empty".into()));
        }
        Ok(filter)
    }

    pub fn keeps(&self, client: &Map<String, Value>) -> bool {
        if self.conditions.is_empty() {
            return true;
        }
        let mut hits = self
            .conditions
            .iter()
            .map(|condition| client.get(&condition.key) == Some(&condition.value));
        match self.match_mode {
            MatchMode::Any => hits.any(|hit| hit),
            MatchMode::All => hits.all(|hit| hit),
        }
    }

    /// Adds the fuzzy scores, when asked for (a missing or non-string field scores 0).
    pub fn score(&self, client: &mut Map<String, Value>) {
        let Some(fuzzy) = &self.fuzzy else { return };
        let field = client.get(&fuzzy.key).and_then(Value::as_str).unwrap_or_default();
        let scores = serde_json::json!({
            "ratio": ratio(field, &fuzzy.value),
            "partial": partial_ratio(field, &fuzzy.value),
        });
        client.insert("fuzzy".into(), scores);
    }
}

/// `100 * 2 * LCS / (len a + len b)`, rounded: the Indel similarity. An empty string against a non-empty one
/// scores 0.
pub fn ratio(left: &str, right: &str) -> u32 {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    ratio_of(&left, &right)
}

pub fn partial_ratio(left: &str, right: &str) -> u32 {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    let (shorter, longer) = if left.len() <= right.len() {
        (left, right)
    } else {
        (right, left)
    };
    if shorter.is_empty() {
        return if longer.is_empty() { 100 } else { 0 };
    }
    longer
        .windows(shorter.len())
        .map(|slice| ratio_of(&shorter, slice))
        .max()
        .unwrap_or(0)
}

fn ratio_of(left: &[char], right: &[char]) -> u32 {
    let total = left.len() + right.len();
    if total == 0 {
        return 100;
    }
    let common = longest_common_subsequence(left, right);
    ((200.0 * common as f64 / total as f64).round()) as u32
}

fn longest_common_subsequence(left: &[char], right: &[char]) -> usize {
    let mut previous = vec![0usize; right.len() + 1];
    let mut current = vec![0usize; right.len() + 1];
    for left_char in left {
        for (index, right_char) in right.iter().enumerate() {
            current[index + 1] = if left_char == right_char {
                previous[index] + 1
            } else {
                previous[index + 1].max(current[index])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_fuzzywuzzy_examples() {
        // The examples of fuzzywuzzy's README (with python-Levenshtein, as rapidfuzz computes them).
        assert_eq!(ratio("this is a test", "this is a test!"), 97);
        assert_eq!(partial_ratio("this is a test", "this is a test!"), 100);
        assert_eq!(ratio("fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear"), 91);
        assert_eq!(ratio("ONE", "ONE"), 100);
        assert_eq!(partial_ratio("ONE", "ONE"), 100);
        assert_eq!(ratio("", "abc"), 0);
        assert_eq!(partial_ratio("iPhone", "Joel's iPhone 12"), 100);
    }

    fn write(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("semaphore-filter-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn no_conditions_keep_every_client() {
        let path = write(r#"{"fuzzy": {"key": "description", "value": "iPhone"}}"#);
        let filter = ClientFilter::read(&path).unwrap();
        assert!(filter.conditions.is_empty());
        assert!(filter.keeps(&Map::new()));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn any_all_and_fuzzy() {
        let path = write(
            r#"{"match": "all", "conditions": [{"key": "os", "value": "iOS"}, {"key": "vlan", "value": 100}],
                "fuzzy": {"key": "description", "value": "iPhone"}}"#,
        );
        let filter = ClientFilter::read(&path).unwrap();
        let mut client: Map<String, Value> =
            serde_json::from_str(r#"{"os": "iOS", "vlan": 100, "description": "Joel's iPhone"}"#).unwrap();
        assert!(filter.keeps(&client));
        client.insert("vlan".into(), 200.into());
        assert!(!filter.keeps(&client));
        let any = ClientFilter {
            match_mode: MatchMode::Any,
            ..filter.clone()
        };
        assert!(any.keeps(&client));
        filter.score(&mut client);
        assert_eq!(client["fuzzy"]["partial"], 100);
        assert!(client["fuzzy"]["ratio"].as_u64().unwrap() < 100);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let check = |text: &str, expected: &str| {
            let path = write(text);
            let error = ClientFilter::read(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(error.contains(&path.display().to_string()), "{error}");
            std::fs::remove_file(path).unwrap();
        };
        check(
            r#"{"match": "some"}"#,
            "unknown variant `some`, expected `any` or `all`",
        );
        check(r#"{"conditions": [{"key": "os"}]}"#, "missing field `value`");
        check(r#"{"condition": []}"#, "unknown field `condition`");
        check("{not json", "line 1");
        check(
            r#"{"conditions": [{"key": "os", "value": [1]}]}"#,
            "conditions[0].value must be",
        );
        check(r#"{"fuzzy": {"key": "", "value": "x"}}"#, "fuzzy.key is empty");
        // Issue 11: shapes that would silently keep every client.
        check("[]", "must be a JSON object");
        check(r#"["all"]"#, "must be a JSON object");
        check(
            r#"{"match": "all", "conditions": []}"#,
            "conditions: an empty list would keep every client",
        );
        let missing = std::env::temp_dir().join("semaphore-no-such-filter.json");
        assert!(
            ClientFilter::read(&missing)
                .unwrap_err()
                .to_string()
                .contains("cannot read")
        );
    }
}
