//! Property tests without a property-testing crate: a fixed-seed xorshift generator makes 1,000,000 inputs
//! (random bytes, and corpus lines mutated, cut short and spliced together), and every one must parse
//! without panicking into a record that keeps the parser's promises. A fixed seed makes a failure
//! reproducible: the assertion prints the input.

use crate::sources::syslog::parse::corpus_tests::{lines, received_at};
use crate::sources::syslog::parse::{ParsedMessage, TsSource, parse};

const CASES: usize = 1_000_000;

/// Any value but zero, from which xorshift never moves.
const SEED: u64 = 0x5EED_CAFE_F00D_0013;

/// The longest random input.
const MAX_RANDOM_LENGTH: usize = 300;

/// Bytes that lead the parsers into their branches more often than uniform bytes would: delimiters, digits,
/// line ends, NUL, and pieces of invalid or multi-byte UTF-8 (a lone `\xff`, `é` as `\xc3\xa9`, the BOM).
const INTERESTING: &[u8] = b"<>[]\"'\\=:%*.-_@/ 0123456789TZ+\n\r\0\xff\xc3\xa9\xef\xbb\xbfMarOctUTCASA";

/// Marsaglia's xorshift64: fast, deterministic, good enough to pick inputs.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        let mut state = self.0;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        self.0 = state;
        state
    }

    /// A number below `bound` (0 when `bound` is 0).
    fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        if self.next_u64().is_multiple_of(2) {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next_u64() as u8
        }
    }
}

#[test]
fn any_input_parses_into_a_record_that_keeps_its_promises() {
    let corpus = lines();
    let mut random = XorShift(SEED);
    for case in 0..CASES {
        let raw = input(&mut random, &corpus);
        let parsed = parse(&raw, received_at());
        check_promises(&raw, &parsed);
        if case.is_multiple_of(97) {
            assert!(
                serde_json::to_string(&parsed).is_ok(),
                "serializing the parse of {raw:?}"
            );
        }
    }
}

#[test]
fn long_lines_parse() {
    let filler = "x".repeat(70 * 1024);
    let lines = [
        format!("<13>Oct 11 22:14:15 host app: {filler}"),
        format!("<13>1 2026-03-01T00:00:00Z host app - - - {filler}"),
        format!("<13>1 - - - - - [id@1 {}] x", "a=\"1\" ".repeat(10_000)),
        format!("<134>1 1701234567.1 MX84 flows {}", "k=v ".repeat(15_000)),
        format!("<189>{}: %LINK-3-UPDOWN: x", "9".repeat(70 * 1024)),
        format!("<13>1 - - - - - {}", "[".repeat(70 * 1024)),
        "<".repeat(70 * 1024),
        "%".repeat(70 * 1024),
        "\0".repeat(70 * 1024),
    ];
    for line in &lines {
        let parsed = parse(line.as_bytes(), received_at());
        check_promises(line.as_bytes(), &parsed);
    }
    let parsed = parse(lines[1].as_bytes(), received_at());
    assert_eq!(parsed.message.len(), filler.len());
}

#[test]
fn binary_garbage_and_nuls_parse() {
    let inputs: [&[u8]; 6] = [
        b"\x00\x01\x02\xff\xfe\xfd",
        b"<13>\x00\x00\x00 hi",
        b"\xff<13>Oct 11 22:14:15 host app: x",
        b"<13>Oct 11 22:14:15 \xc3 app: x",
        b"<13>1 2026-03-01T00:00:00Z h\xffst app - - [x@1 a=\"\xff\"] \xef\xbb\xbf\xff",
        b"<134>1 1701234567.1 MX84 flows a='\xff b=\"\xc3",
    ];
    for raw in inputs {
        let parsed = parse(raw, received_at());
        check_promises(raw, &parsed);
        assert!(parsed.invalid_utf8 || raw == b"<13>\x00\x00\x00 hi");
    }
}

/// What every parse promises, whatever the input.
fn check_promises(raw: &[u8], parsed: &ParsedMessage) {
    assert!(
        !parsed.message.is_empty() || parsed.parse_error.is_some(),
        "no message nor error for {raw:?}"
    );
    assert_eq!(
        parsed.invalid_utf8,
        std::str::from_utf8(raw).is_err(),
        "invalid_utf8 of {raw:?}"
    );
    if parsed.ts_source == TsSource::Received {
        assert_eq!(
            parsed.ts,
            received_at(),
            "a received ts is the arrival time, for {raw:?}"
        );
    }
    assert!(
        parsed.facility.is_none_or(|facility| facility <= 23),
        "facility of {raw:?}"
    );
    assert!(
        parsed.severity.is_none_or(|severity| severity <= 7),
        "severity of {raw:?}"
    );
    assert_eq!(
        parsed.facility.is_some(),
        parsed.facility_name.is_some(),
        "facility name of {raw:?}"
    );
    assert_eq!(
        parsed.severity.is_some(),
        parsed.severity_name.is_some(),
        "severity name of {raw:?}"
    );
}

fn input(random: &mut XorShift, corpus: &[Vec<u8>]) -> Vec<u8> {
    let line = corpus[random.below(corpus.len())].as_slice();
    match random.below(4) {
        0 => random_bytes(random),
        1 => mutated(random, line),
        2 => line[..random.below(line.len() + 1)].to_vec(),
        _ => {
            let other = corpus[random.below(corpus.len())].as_slice();
            let mut spliced = line[..random.below(line.len() + 1)].to_vec();
            spliced.extend_from_slice(&other[random.below(other.len() + 1)..]);
            spliced
        }
    }
}

fn random_bytes(random: &mut XorShift) -> Vec<u8> {
    let length = random.below(MAX_RANDOM_LENGTH + 1);
    (0..length).map(|_| random.byte()).collect()
}

/// The line with one to eight bytes replaced, inserted or removed.
fn mutated(random: &mut XorShift, line: &[u8]) -> Vec<u8> {
    let mut bytes = line.to_vec();
    for _ in 0..=random.below(8) {
        let index = random.below(bytes.len() + 1);
        match random.below(3) {
            0 if index < bytes.len() => bytes[index] = random.byte(),
            1 => bytes.insert(index, random.byte()),
            _ if index < bytes.len() => {
                bytes.remove(index);
            }
            _ => bytes.push(random.byte()),
        }
    }
    bytes
}
