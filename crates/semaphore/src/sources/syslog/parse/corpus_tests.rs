//! The corpus: lines shaped as their senders document them (RFC 5424's and RFC 3164's own examples, Cisco's
//! IOS, IOS-XE, NX-OS and ASA message guides, Junos, Arista EOS, Meraki's "Syslog Event Types and Log
//! Samples"), each with the fields it must yield. The property tests mutate the same lines.
//!
//! The cases live in `corpus.jsonl`, not in Rust, so that the binary's end-to-end test
//! (`semaphore-cli`'s `tests/cli/syslog_corpus.rs`) sends exactly these bytes to a running daemon and
//! checks its records against exactly these fields. One JSON object per line:
//! `{"vendor": GROUP, "line": TEXT, "expect": {FIELD: VALUE, …}}`. `vendor` names the group a case is
//! tested in (one test function per group below; `bad_input` is a group too), not the record's `vendor`
//! field. A line that is not valid UTF-8 cannot be a JSON string: it is given as `"line_hex"` instead.
//! `expect` names only the fields the case is about, spelled as the record serializes them; an expected
//! `ts` of `2026-03-02T12:00:00Z` ([`RECEIVED_AT`]) is the arrival time.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::sources::syslog::parse::parse;

/// The cases, compiled in so the unit tests need no path at run time.
const CORPUS: &str = include_str!("corpus.jsonl");

/// When every corpus line arrives; yearless times are placed relative to it.
const RECEIVED_AT: &str = "2026-03-02T12:00:00Z";

/// Every group of the file, each with its test below: a case in any other group would be checked by none.
const GROUPS: [&str; 9] = [
    "rfc5424",
    "juniper",
    "bsd",
    "cisco_ios",
    "cisco_nx_os",
    "cisco_asa",
    "arista",
    "meraki",
    "bad_input",
];

pub(super) fn received_at() -> DateTime<Utc> {
    instant(RECEIVED_AT)
}

/// Every corpus line, as the bytes a sender puts on the wire, in the file's order.
pub(super) fn lines() -> Vec<Vec<u8>> {
    cases().into_iter().map(|case| case.line).collect()
}

#[test]
fn the_corpus_has_forty_lines_or_more() {
    assert!(lines().len() >= 40, "the corpus has {} lines", lines().len());
}

#[test]
fn every_case_is_in_a_tested_group() {
    for case in cases() {
        assert!(
            GROUPS.contains(&case.group.as_str()),
            "corpus.jsonl line {}: group {:?} has no test",
            case.number,
            case.group
        );
    }
}

#[test]
fn rfc5424_lines() {
    check_group("rfc5424");
}

#[test]
fn juniper_lines() {
    check_group("juniper");
}

#[test]
fn bsd_lines() {
    check_group("bsd");
}

#[test]
fn cisco_ios_lines() {
    check_group("cisco_ios");
}

#[test]
fn cisco_nx_os_lines() {
    check_group("cisco_nx_os");
}

#[test]
fn cisco_asa_lines() {
    check_group("cisco_asa");
}

#[test]
fn arista_lines() {
    check_group("arista");
}

#[test]
fn meraki_lines() {
    check_group("meraki");
}

#[test]
fn bad_input_lines() {
    check_group("bad_input");
}

/// One line of `corpus.jsonl`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    vendor: String,
    line: Option<String>,
    line_hex: Option<String>,
    expect: Map<String, Value>,
}

/// One case, its line as bytes.
struct Case {
    /// Its line number in the file, for failure messages.
    number: usize,
    group: String,
    line: Vec<u8>,
    expect: Map<String, Value>,
}

/// The file's cases. A line that is not a case panics, naming it: a corpus that cannot be read is a broken
/// test, not a skipped one.
fn cases() -> Vec<Case> {
    CORPUS
        .lines()
        .enumerate()
        .map(|(index, text)| case(index + 1, text))
        .collect()
}

fn case(number: usize, text: &str) -> Case {
    let file: CaseFile =
        serde_json::from_str(text).unwrap_or_else(|error| panic!("corpus.jsonl line {number}: {error}"));
    let line = match (file.line, file.line_hex) {
        (Some(line), None) => line.into_bytes(),
        (None, Some(hex)) => {
            let bytes = from_hex(number, &hex);
            // Hex hides what a line says: only a line JSON cannot hold is written so.
            assert!(
                std::str::from_utf8(&bytes).is_err(),
                "corpus.jsonl line {number}: valid UTF-8 is written as `line`, not `line_hex`"
            );
            bytes
        }
        _ => panic!("corpus.jsonl line {number}: needs exactly one of `line` and `line_hex`"),
    };
    Case {
        number,
        group: file.vendor,
        line,
        expect: file.expect,
    }
}

fn from_hex(number: usize, hex: &str) -> Vec<u8> {
    assert!(
        hex.bytes().all(|byte| byte.is_ascii_hexdigit()) && hex.len().is_multiple_of(2),
        "corpus.jsonl line {number}: `line_hex` is not pairs of hex digits"
    );
    (0..hex.len())
        .step_by(2)
        .map(|index| {
            u8::from_str_radix(&hex[index..index + 2], 16)
                .unwrap_or_else(|error| panic!("corpus.jsonl line {number}: `line_hex`: {error}"))
        })
        .collect()
}

fn check_group(group: &str) {
    let corpus = cases();
    let in_group: Vec<&Case> = corpus.iter().filter(|case| case.group == group).collect();
    assert!(!in_group.is_empty(), "corpus.jsonl has no {group} case");
    for case in in_group {
        check(case);
    }
}

/// Checks the fields the case names, as the record serializes them (`ts` as an instant); a case that does
/// not name `parseError` or `invalidUtf8` expects null and false.
fn check(case: &Case) {
    let line = String::from_utf8_lossy(&case.line);
    let parsed = parse(&case.line, received_at());
    let actual = serde_json::to_value(&parsed).unwrap();
    for (key, value) in &case.expect {
        match key.as_str() {
            "ts" => assert_eq!(parsed.ts, instant(value.as_str().unwrap()), "ts of {line}"),
            _ => assert_eq!(actual.get(key), Some(value), "{key} of {line}"),
        }
    }
    for (key, default) in [("parseError", Value::Null), ("invalidUtf8", Value::Bool(false))] {
        if !case.expect.contains_key(key) {
            assert_eq!(actual.get(key), Some(&default), "{key} of {line}");
        }
    }
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}
