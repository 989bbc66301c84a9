//! The trap decoding path fuzzed on stable Rust, with the wire layer's fixed-seed generator
//! (`wire::property_tests`): 100,000 datagrams, net-snmp's captured packets mutated, cut short and spliced,
//! and random bytes, each decoded as the source decodes it (our engine is snmptrapd's, the users are the
//! captures'), and each notification made into its record, serialized and checked against its JSON Schema.
//! No input panics; each comes to exactly one outcome; every reply we would send decodes as SNMP; every
//! refusal has one of the known reasons. A fixed seed makes a failure reproducible: the assertion prints the
//! input.

use std::path::Path;

use crate::sources::snmp::traps::convert;
use crate::sources::snmp::traps::decode::{Datagram, Outcome, TrapDecoder};
use crate::sources::snmp::traps::notification::Notification;
use crate::sources::snmp::traps::test_support::{decoder, decoder_with_communities, received, sender};
use crate::sources::snmp::wire::Message;
use crate::sources::snmp::wire::property_tests::{SEED, XorShift, captured, input};

const CASES: usize = 100_000;

/// Every `reason` label a refusal may have.
const REASONS: &[&str] = &[
    "malformed",
    "bad_community",
    "unknown_user",
    "unknown_engine_id",
    "unsupported_security_model",
    "unsupported_security_level",
    "wrong_digest",
    "decryption",
    "not_in_time_window",
    "unexpected_pdu",
];

/// How many inputs came to each outcome.
#[derive(Debug, Default)]
struct Outcomes {
    traps: usize,
    informs: usize,
    discoveries: usize,
    refusals: usize,
}

impl Outcomes {
    fn total(&self) -> usize {
        self.traps + self.informs + self.discoveries + self.refusals
    }
}

fn json_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/snmp.trap.v1.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

#[test]
fn any_datagram_comes_to_one_outcome_without_panicking() {
    let captured = captured();
    let decoders = [decoder(), decoder_with_communities(&["public", "private"])];
    let schema = json_schema();
    let mut random = XorShift(SEED ^ 0x7a0);
    let mut outcomes = Outcomes::default();
    for case in 0..CASES {
        let bytes = input(&mut random, &captured);
        let datagram = Datagram {
            bytes: &bytes,
            sender: sender(),
            received_at: received(),
            // Around our engine's time (the captured informs say 1), inside the window and out of it.
            engine_time: random.below(400) as u32,
        };
        let decoder: &TrapDecoder = &decoders[case % decoders.len()];
        let outcome = decoder.decode(&datagram);
        check(&outcome, &bytes, &schema, &mut outcomes);
    }
    assert_eq!(outcomes.total(), CASES, "one outcome per input");
    // The mutations leave enough packets whole that every outcome occurs.
    assert!(
        outcomes.traps > 0 && outcomes.informs > 0 && outcomes.discoveries > 0 && outcomes.refusals > 0,
        "{outcomes:?}"
    );
}

fn check(outcome: &Outcome, bytes: &[u8], schema: &jsonschema::Validator, outcomes: &mut Outcomes) {
    match outcome {
        Outcome::Trap(notification) => {
            outcomes.traps += 1;
            check_record(notification, bytes, schema);
        }
        Outcome::Inform {
            notification,
            response,
        } => {
            outcomes.informs += 1;
            check_record(notification, bytes, schema);
            assert!(Message::decode(response).is_ok(), "the response to {bytes:02x?}");
        }
        Outcome::Discovery { report } => {
            outcomes.discoveries += 1;
            assert!(Message::decode(report).is_ok(), "the Report to {bytes:02x?}");
        }
        Outcome::Refused { error, report } => {
            outcomes.refusals += 1;
            assert!(REASONS.contains(&error.reason()), "{error:?} from {bytes:02x?}");
            assert!(!error.to_string().is_empty());
            if let Some(report) = report {
                assert!(Message::decode(report).is_ok(), "the Report to {bytes:02x?}");
            }
        }
    }
}

/// The notification's record serializes and fits its JSON Schema.
fn check_record(notification: &Notification, bytes: &[u8], schema: &jsonschema::Validator) {
    let record = convert::record(notification, "traps", None);
    let json = serde_json::to_value(&record).expect("a record serializes");
    let errors: Vec<String> = schema.iter_errors(&json).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?} in {json} from {bytes:02x?}");
}
