//! Object identifiers: [`Oid`], dotted text to and from BER (X.690 §8.19), within SNMP's limits (RFC 2578
//! §3.5: at most 128 sub-identifiers, each at most 2^32-1).

use std::fmt;
use std::str::FromStr;

use crate::sources::snmp::wire::errors::DecodeErrorKind;

/// The most sub-identifiers an SNMP object identifier has (RFC 2578 §3.5).
pub const MAX_SUB_IDENTIFIERS: usize = 128;

const NOT_SHORTEST: &str = "a sub-identifier starts with 0x80, which is not its shortest form";
const ABOVE_32_BITS: &str = "a sub-identifier above 4294967295";
const TOO_MANY: &str = "more than 128 sub-identifiers";
const CUT_OFF: &str = "the last sub-identifier is cut off";

/// An object identifier. Ordered as SNMP walks order them: arc by arc, a prefix before what extends it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(Vec<u32>);

/// Why arcs are no SNMP object identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OidError {
    #[error("an object identifier has at least two sub-identifiers")]
    TooShort,
    #[error("{0} sub-identifiers, more than SNMP's 128")]
    TooLong(usize),
    #[error("the first sub-identifier is {0}, not 0, 1 or 2")]
    FirstArc(u32),
    #[error("the second sub-identifier is {second}; under {first} it is below 40")]
    SecondArc { first: u32, second: u32 },
    #[error("the second sub-identifier {0} under 2 is too large to encode")]
    SecondArcTooLarge(u32),
    #[error("`{0}` is not a number from 0 to 4294967295")]
    NotANumber(String),
}

impl Oid {
    pub fn new(arcs: &[u32]) -> Result<Self, OidError> {
        check(arcs)?;
        Ok(Self(arcs.to_vec()))
    }

    pub fn arcs(&self) -> &[u32] {
        &self.0
    }

    /// Whether `prefix` is this identifier or an ancestor of it (a walk is still inside a subtree).
    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// This identifier with `more` arcs after it, such as a table column and a row's index.
    pub fn extended(&self, more: &[u32]) -> Result<Oid, OidError> {
        Oid::new(&[&self.0[..], more].concat())
    }

    /// The content octets of the BER encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut octets = Vec::with_capacity(self.0.len() + 4);
        // `check` keeps the first two arcs encodable as one sub-identifier (X.690 §8.19.4).
        let first = self.0[0] * 40 + self.0[1];
        push_base128(&mut octets, first);
        for arc in &self.0[2..] {
            push_base128(&mut octets, *arc);
        }
        octets
    }

    /// Reads the content octets of a BER object identifier.
    pub fn decode(content: &[u8]) -> Result<Self, DecodeErrorKind> {
        if content.is_empty() {
            return Err(DecodeErrorKind::Empty);
        }
        let mut sub_identifiers = Vec::new();
        let mut value = 0_u64;
        let mut in_progress = false;
        for octet in content {
            if !in_progress && *octet == 0x80 {
                return Err(DecodeErrorKind::BadObjectIdentifier(NOT_SHORTEST));
            }
            value = (value << 7) | u64::from(octet & 0x7f);
            if value > u64::from(u32::MAX) {
                return Err(DecodeErrorKind::BadObjectIdentifier(ABOVE_32_BITS));
            }
            in_progress = octet & 0x80 != 0;
            if !in_progress {
                // The first sub-identifier holds two arcs, so 128 arcs are 127 sub-identifiers.
                if sub_identifiers.len() == MAX_SUB_IDENTIFIERS - 1 {
                    return Err(DecodeErrorKind::BadObjectIdentifier(TOO_MANY));
                }
                sub_identifiers.push(value as u32);
                value = 0;
            }
        }
        if in_progress {
            return Err(DecodeErrorKind::BadObjectIdentifier(CUT_OFF));
        }
        Ok(Self(split_first(&sub_identifiers)))
    }
}

/// The arcs of encoded sub-identifiers: the first holds the first two arcs (X.690 §8.19.4).
fn split_first(sub_identifiers: &[u32]) -> Vec<u32> {
    let mut arcs = Vec::with_capacity(sub_identifiers.len() + 1);
    if let Some((first, rest)) = sub_identifiers.split_first() {
        let (top, second) = match *first {
            0..40 => (0, *first),
            40..80 => (1, *first - 40),
            _ => (2, *first - 80),
        };
        arcs.push(top);
        arcs.push(second);
        arcs.extend_from_slice(rest);
    }
    arcs
}

fn check(arcs: &[u32]) -> Result<(), OidError> {
    let [first, second, ..] = arcs else {
        return Err(OidError::TooShort);
    };
    if arcs.len() > MAX_SUB_IDENTIFIERS {
        return Err(OidError::TooLong(arcs.len()));
    }
    match (*first, *second) {
        (0 | 1, second) if second >= 40 => Err(OidError::SecondArc {
            first: *first,
            second,
        }),
        (0..=2, second) if second > u32::MAX - 80 => Err(OidError::SecondArcTooLarge(second)),
        (0..=2, _) => Ok(()),
        (first, _) => Err(OidError::FirstArc(first)),
    }
}

/// Base 128, most significant group first, every octet but the last with its top bit set.
fn push_base128(octets: &mut Vec<u8>, value: u32) {
    let mut groups = [0_u8; 5];
    let mut count = 0;
    let mut rest = value;
    loop {
        groups[count] = (rest & 0x7f) as u8;
        count += 1;
        rest >>= 7;
        if rest == 0 {
            break;
        }
    }
    for (index, group) in groups[..count].iter().enumerate().rev() {
        let more = if index == 0 { 0 } else { 0x80 };
        octets.push(group | more);
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, arc) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str(".")?;
            }
            write!(formatter, "{arc}")?;
        }
        Ok(())
    }
}

/// Dotted numbers, with or without a leading dot (`1.3.6.1.2.1.1.1.0`, `.1.3.6.1`).
impl FromStr for Oid {
    type Err = OidError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_prefix('.').unwrap_or(text);
        let mut arcs = Vec::new();
        for arc in digits.split('.') {
            let number = arc
                .parse::<u32>()
                .map_err(|_| OidError::NotANumber(arc.to_owned()))?;
            arcs.push(number);
        }
        Oid::new(&arcs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        text.parse().expect("a valid object identifier")
    }

    #[test]
    fn encodes_as_x690_shows() {
        let cases: [(&str, &[u8]); 6] = [
            (
                "1.3.6.1.2.1.1.1.0",
                &[0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00],
            ),
            ("1.3.6.1.4.1.2021", &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x8f, 0x65]),
            ("2.999.3", &[0x88, 0x37, 0x03]),
            ("0.0", &[0x00]),
            ("1.3.4294967295", &[0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f]),
            ("1.3.128", &[0x2b, 0x81, 0x00]),
        ];
        for (text, encoded) in cases {
            assert_eq!(oid(text).encode(), encoded, "{text}");
            assert_eq!(Oid::decode(encoded), Ok(oid(text)), "{text}");
            assert_eq!(oid(text).to_string(), text);
        }
    }

    #[test]
    fn text_may_start_with_a_dot() {
        assert_eq!(oid(".1.3.6.1"), oid("1.3.6.1"));
        assert_eq!("1.3.x".parse::<Oid>(), Err(OidError::NotANumber("x".to_owned())));
        assert_eq!("1".parse::<Oid>(), Err(OidError::TooShort));
        assert_eq!("".parse::<Oid>(), Err(OidError::NotANumber(String::new())));
        assert_eq!("1..3".parse::<Oid>(), Err(OidError::NotANumber(String::new())));
    }

    #[test]
    fn arcs_outside_x660_are_refused() {
        assert_eq!(Oid::new(&[3, 1]), Err(OidError::FirstArc(3)));
        assert_eq!(
            Oid::new(&[1, 40]),
            Err(OidError::SecondArc { first: 1, second: 40 })
        );
        assert_eq!(
            Oid::new(&[2, u32::MAX]),
            Err(OidError::SecondArcTooLarge(u32::MAX))
        );
        assert!(Oid::new(&[2, u32::MAX - 80]).is_ok());
        assert!(Oid::new(&[1; 128]).is_ok());
        assert_eq!(Oid::new(&[1; 129]), Err(OidError::TooLong(129)));
    }

    #[test]
    fn malformed_encodings_are_refused() {
        let problems: [&[u8]; 5] = [
            &[],
            &[0x2b, 0x80, 0x01],
            &[0x2b, 0x86],
            &[0x2b, 0x90, 0x80, 0x80, 0x80, 0x00],
            &[0x2b; 128],
        ];
        for encoded in problems {
            assert!(Oid::decode(encoded).is_err(), "{encoded:02x?}");
        }
        assert_eq!(Oid::decode(&[0x2b; 127]).map(|oid| oid.arcs().len()), Ok(128));
    }

    #[test]
    fn walk_order_puts_a_prefix_first() {
        let table = oid("1.3.6.1.2.1.2.2");
        let later_column = oid("1.3.6.1.2.1.2.2.1.10.2");
        let first_column = oid("1.3.6.1.2.1.2.2.1.2.1");
        let mut oids = [later_column, first_column, table.clone()];
        oids.sort();
        assert_eq!(oids[0], table);
        assert_eq!(oids[1], oid("1.3.6.1.2.1.2.2.1.2.1"));
        assert!(oids[2].starts_with(&table));
        assert!(!oid("1.3.6.1.2.1.3").starts_with(&table));
        assert_eq!(table.extended(&[1, 2, 7]), Ok(oid("1.3.6.1.2.1.2.2.1.2.7")));
    }
}
