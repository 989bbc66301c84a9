//! Issue 13, "the vendor corpus sent byte for byte": every line of the syslog parser's corpus
//! (`crates/semaphore/src/sources/syslog/parse/corpus.jsonl`, the file the parser's unit tests read) goes to
//! the built binary twice, over one TCP connection with octet counting and as one UDP datagram each. Every
//! line is then in Kafka once per transport, its `raw` the line as sent (`raw = "always"`) and its fields
//! those the corpus expects of it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::support::{Broker, Daemon, consume_all, eventually, temp_dir, try_consume_all};

const TOPIC: &str = "syslog.messages";

/// The corpus, relative to this crate.
const CORPUS: &str = "../semaphore/src/sources/syslog/parse/corpus.jsonl";

/// The arrival the corpus's expectations were written for: an expected `ts` equal to it is "the arrival
/// time", and its yearless times were placed in a year relative to it.
const CORPUS_RECEIVED_AT: &str = "2026-03-02T12:00:00Z";

/// How far after its arrival the parser lets a yearless time lie before it takes the year before
/// (`FUTURE_SLACK` in the parser's `timestamp.rs`).
const YEARLESS_FUTURE_SLACK: TimeDelta = TimeDelta::days(1);

/// How many years back from the year after its arrival the parser looks for a yearless date (`YEARS_BACK`
/// in `timestamp.rs`).
const YEARLESS_YEARS_BACK: i32 = 8;

#[test]
fn every_corpus_line_over_tcp_and_over_udp_is_in_kafka_once_with_its_fields() {
    let cases = corpus();
    let expected = expected_records(&cases);
    assert_distinct(&expected);
    let broker = Broker::start();
    let daemon = start_daemon(&broker);
    send_over_tcp(&daemon.listening_address("Syslog listening (tcp)"), &cases);
    send_over_udp(&daemon.listening_address("Syslog listening (udp)"), &cases);

    wait_for_records(&broker, &daemon, expected.len());
    // Whatever came late would be a duplicate: give it a moment, then read everything again.
    std::thread::sleep(Duration::from_secs(2));
    let records = records_by_raw(&broker.address);
    let total: usize = records.values().map(Vec::len).sum();
    assert_eq!(
        total,
        expected.len(),
        "one record per line and transport, by (transport, raw): {:#?}",
        records.keys().collect::<Vec<_>>()
    );
    for expected_record in &expected {
        check_record(&records, expected_record);
    }
}

/// `semaphore run` with one syslog source on TCP and UDP that keeps every line as received in `raw`.
fn start_daemon(broker: &Broker) -> Daemon {
    let directory = temp_dir("syslog-corpus");
    let config = directory.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\
             [kafka]\nbrokers = \"{brokers}\"\n\
             [[sources.syslog]]\nlisten = [\"tcp://127.0.0.1:0\", \"udp://127.0.0.1:0\"]\n\
             raw = \"always\"\n",
            data = directory.join("data").display(),
            brokers = broker.address,
        ),
    )
    .unwrap();
    Daemon::start(&config, &directory.join("semaphore.log"))
}

/// Waits up to 60 s until `count` records are in `TOPIC`, failing the test with the daemon's log if they
/// are not.
fn wait_for_records(broker: &Broker, daemon: &Daemon, count: usize) {
    // Most lines carry their device's time, years back, and that is their Kafka timestamp. The embedded
    // broker deletes records stamped over seven days back (Kafka's default `retention.ms`) in a sweep at its
    // start and every ten minutes after: the records are read long before the second sweep.
    let mut arrived_count = 0;
    let arrived = eventually(Duration::from_secs(60), || {
        let envelopes = try_consume_all(&broker.address, TOPIC).unwrap_or_default();
        arrived_count = envelopes.len();
        arrived_count >= count
    });
    assert!(
        arrived,
        "{arrived_count} records of {count} arrived\n{}",
        daemon.log_text()
    );
}

/// How a line was sent, as a record's `transport` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Transport {
    Tcp,
    Udp,
}

const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Udp];

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }

    /// The frame the listener makes of `line` sent this way, or `None` where, by design, it makes none.
    /// Octet counting: the framer drops one LF ending the counted bytes, and a CR before it (rsyslog counts
    /// its LF), then skips a frame left empty; an empty line is not sent at all (`send_over_tcp`). UDP: the
    /// datagram is the frame, and an empty one carries no message (`datagram_frame` in the listener's
    /// `udp.rs`).
    fn frame(self, line: &[u8]) -> Option<Vec<u8>> {
        let frame = match self {
            Transport::Tcp => without_line_end(line),
            Transport::Udp => line,
        };
        (!frame.is_empty()).then(|| frame.to_vec())
    }
}

fn without_line_end(line: &[u8]) -> &[u8] {
    match line.strip_suffix(b"\n") {
        Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
        None => line,
    }
}

/// One case of the corpus: the line's bytes and the fields expected of it.
struct Case {
    line: Vec<u8>,
    expect: Map<String, Value>,
}

/// The corpus's cases, in the file's order. The parser's unit tests check the file's shape strictly; this
/// reader only needs to find the bytes and the expectations.
fn corpus() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines()
        .enumerate()
        .map(|(index, line)| case(index + 1, line))
        .collect()
}

/// Line `number` of the file: `line` (text) or `line_hex` (bytes that are not UTF-8), and `expect`.
fn case(number: usize, text: &str) -> Case {
    let case: Value =
        serde_json::from_str(text).unwrap_or_else(|error| panic!("corpus.jsonl line {number}: {error}"));
    let line = match (case["line"].as_str(), case["line_hex"].as_str()) {
        (Some(line), None) => line.as_bytes().to_vec(),
        (None, Some(hex)) => from_hex(hex),
        _ => panic!("corpus.jsonl line {number}: needs exactly one of `line` and `line_hex`"),
    };
    let expect = case["expect"]
        .as_object()
        .cloned()
        .unwrap_or_else(|| panic!("corpus.jsonl line {number}: `expect` is not an object"));
    Case { line, expect }
}

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&hex[index..index + 2], 16).expect("hex digits"))
        .collect()
}

/// A record the daemon must write: the transport, the frame as `raw` holds it (lossily decoded, as the
/// source decodes it), and the case whose fields it must have.
struct Expected<'a> {
    transport: Transport,
    raw: String,
    case: &'a Case,
}

fn expected_records(cases: &[Case]) -> Vec<Expected<'_>> {
    let mut expected = Vec::new();
    for transport in TRANSPORTS {
        for case in cases {
            if let Some(frame) = transport.frame(&case.line) {
                expected.push(Expected {
                    transport,
                    raw: String::from_utf8_lossy(&frame).into_owned(),
                    case,
                });
            }
        }
    }
    expected
}

/// Records are told apart by their transport and `raw`: two cases whose lines decode to one text could not
/// be, so the corpus must not have them.
fn assert_distinct(expected: &[Expected<'_>]) {
    let mut seen = BTreeSet::new();
    for record in expected {
        assert!(
            seen.insert((record.transport, record.raw.as_str())),
            "the corpus has {:?} twice",
            record.raw
        );
    }
}

/// Sends every line over one connection as `LENGTH SP LINE` (RFC 6587 octet counting): the length says
/// where a line ends, so no byte in it (LF, NUL, invalid UTF-8) can cut it or join it to the next. An
/// empty line is left out: a length prefix starts with a nonzero digit, so none announces it.
fn send_over_tcp(address: &str, cases: &[Case]) {
    let mut stream = TcpStream::connect(address).expect("the syslog listener accepts");
    let mut bytes = Vec::new();
    for case in cases.iter().filter(|case| !case.line.is_empty()) {
        bytes.extend_from_slice(format!("{} ", case.line.len()).as_bytes());
        bytes.extend_from_slice(&case.line);
    }
    stream.write_all(&bytes).unwrap();
    // The end of the stream: the listener frames what it holds and closes the connection.
    stream.shutdown(Shutdown::Write).unwrap();
}

/// Sends every line as a datagram of its own, an empty one too (the listener ignores it).
fn send_over_udp(address: &str, cases: &[Case]) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a UDP socket on loopback");
    for case in cases {
        socket.send_to(&case.line, address).unwrap();
    }
}

/// The records of `TOPIC` by transport and `raw`, counting repeats.
fn records_by_raw(brokers: &str) -> BTreeMap<(String, String), Vec<Value>> {
    let mut records: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for envelope in consume_all(brokers, TOPIC) {
        let record = envelope["value"].clone();
        let transport = record["transport"].as_str().unwrap_or_default().to_owned();
        let raw = record["raw"].as_str().unwrap_or_default().to_owned();
        records.entry((transport, raw)).or_default().push(record);
    }
    records
}

/// Exactly one record came of the line over its transport, with the fields its case expects.
fn check_record(records: &BTreeMap<(String, String), Vec<Value>>, expected: &Expected<'_>) {
    let transport = expected.transport.name();
    let key = (transport.to_owned(), expected.raw.clone());
    let copies = records.get(&key).map(Vec::as_slice).unwrap_or_default();
    let context = format!("{:?} over {transport}", expected.raw);
    assert_eq!(copies.len(), 1, "{context}: {copies:#?}");
    check_fields(&copies[0], &expected.case.expect, &context);
}

/// The fields the case names, as the parser's unit tests check them: `ts` by [`check_ts`], and a case that
/// does not name `parseError` or `invalidUtf8` expects null and false.
fn check_fields(record: &Value, expect: &Map<String, Value>, context: &str) {
    for (key, value) in expect {
        match key.as_str() {
            "ts" => check_ts(record, expect, context),
            _ => assert_eq!(record.get(key), Some(value), "{key} of {context}: {record}"),
        }
    }
    for (key, default) in [("parseError", Value::Null), ("invalidUtf8", Value::Bool(false))] {
        if !expect.contains_key(key) {
            assert_eq!(record.get(key), Some(&default), "{key} of {context}: {record}");
        }
    }
}

/// `ts`, compared as an instant. The expectations were written for an arrival at [`CORPUS_RECEIVED_AT`],
/// and the daemon's lines arrive now:
/// - where the arrival time is expected (`tsSource` "received", or the placeholder itself), `ts` must be
///   the record's own `receivedAt`;
/// - a device's time must be the one expected when the line gave its year (RFC 5424, Meraki's epoch
///   seconds, Cisco's `year`, NX-OS, the ASA), since then it does not depend on the arrival. A yearless
///   time (RFC 3164, Cisco without `year`) may instead be in another year: the parser puts it in the latest
///   year that is not more than a day after the arrival, so it must be the expected time moved to that
///   year ([`in_year_of_arrival`]). Which lines are yearless is not written in the corpus: either answer is
///   taken, and the unit tests, at the corpus's own arrival, pin the year of each line.
fn check_ts(record: &Value, expect: &Map<String, Value>, context: &str) {
    let actual = instant(&record["ts"]);
    let received_at = instant(&record["receivedAt"]);
    let received_expected = expect.get("tsSource").and_then(Value::as_str) == Some("received");
    if received_expected || expect["ts"] == CORPUS_RECEIVED_AT {
        assert_eq!(actual, received_at, "ts of {context} is its arrival: {record}");
        return;
    }
    let expected = instant(&expect["ts"]);
    let yearless = in_year_of_arrival(expected, received_at);
    assert!(
        actual == expected || Some(actual) == yearless,
        "ts of {context}: {actual}, expected {expected} (or {yearless:?} for a yearless line): {record}"
    );
}

/// `time` moved to the year the parser gives a yearless time arriving at `received_at`: the latest, up to
/// the year after the arrival, that puts it no more than [`YEARLESS_FUTURE_SLACK`] after it. The parser
/// moves the device's local time and then applies its zone, this moves the UTC time: the same, except for
/// a 29 February or a time its zone puts in another year than UTC, which the corpus has none of.
fn in_year_of_arrival(time: DateTime<Utc>, received_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let latest = received_at + YEARLESS_FUTURE_SLACK;
    let newest_year = received_at.year() + 1;
    (newest_year - YEARLESS_YEARS_BACK..=newest_year)
        .rev()
        .filter_map(|year| time.with_year(year))
        .find(|candidate| *candidate <= latest)
}

fn instant(value: &Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_default();
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("{value} is not an RFC 3339 time: {error}"))
        .with_timezone(&Utc)
}
