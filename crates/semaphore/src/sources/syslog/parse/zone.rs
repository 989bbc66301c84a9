//! The zone word Cisco devices print after the time (`service timestamps log datetime show-timezone`), as an
//! offset from UTC. An abbreviation names a zone only by convention and some are claimed by several zones:
//! the table keeps the meaning network gear is configured with (the North American one for EST, CST, MST,
//! PST and their daylight forms) and leaves out the words with no majority meaning (IST: India, Ireland or
//! Israel), which then count as unknown.

use crate::sources::syslog::parse::scan::skip_spaces;

/// What the word after a time named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// A known abbreviation: seconds east of UTC.
    Known(i32),
    /// A word in a zone's place that is not in the table, such as a `clock timezone` name of the operator's
    /// own: the device's clock is not UTC, by an offset the line does not say.
    Unknown,
}

const HOUR: i32 = 3600;
const HALF_HOUR: i32 = 1800;

/// Abbreviations and their offsets in seconds east of UTC.
const ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("GMT", 0),
    ("UT", 0),
    ("WET", 0),
    ("WEST", HOUR),
    ("BST", HOUR),
    ("CET", HOUR),
    ("CEST", 2 * HOUR),
    ("MET", HOUR),
    ("MEST", 2 * HOUR),
    ("EET", 2 * HOUR),
    ("EEST", 3 * HOUR),
    ("MSK", 3 * HOUR),
    ("SGT", 8 * HOUR),
    ("HKT", 8 * HOUR),
    ("AWST", 8 * HOUR),
    ("JST", 9 * HOUR),
    ("KST", 9 * HOUR),
    ("ACST", 9 * HOUR + HALF_HOUR),
    ("ACDT", 10 * HOUR + HALF_HOUR),
    ("AEST", 10 * HOUR),
    ("AEDT", 11 * HOUR),
    ("NZST", 12 * HOUR),
    ("NZDT", 13 * HOUR),
    ("NST", -3 * HOUR - HALF_HOUR),
    ("NDT", -2 * HOUR - HALF_HOUR),
    ("AST", -4 * HOUR),
    ("ADT", -3 * HOUR),
    ("EST", -5 * HOUR),
    ("EDT", -4 * HOUR),
    ("CST", -6 * HOUR),
    ("CDT", -5 * HOUR),
    ("MST", -7 * HOUR),
    ("MDT", -6 * HOUR),
    ("PST", -8 * HOUR),
    ("PDT", -7 * HOUR),
    ("AKST", -9 * HOUR),
    ("AKDT", -8 * HOUR),
    ("HST", -10 * HOUR),
];

/// Reads a zone word right after a time (` UTC: `) and returns the zone and the text from the colon on (the
/// colon ends a Cisco header). A word of the table counts when a colon follows it; any other word only when
/// it is upper case and the colon is followed by a Cisco mnemonic (`%`), so that a BSD tag right after the
/// time (`CRON: …`, `Ebra: %…`) is not taken for a zone.
pub fn suffix(text: &str) -> Option<(Zone, &str)> {
    let after_space = text.strip_prefix(' ')?;
    let length = after_space.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (word, rest) = after_space.split_at(length);
    let after_colon = rest.strip_prefix(':')?;
    if let Some(offset) = offset(word) {
        return Some((Zone::Known(offset), rest));
    }
    let is_zone_word = (2..=6).contains(&length) && word.bytes().all(|byte| byte.is_ascii_uppercase());
    let mnemonic_follows = skip_spaces(after_colon).starts_with('%');
    (is_zone_word && mnemonic_follows).then_some((Zone::Unknown, rest))
}

fn offset(word: &str) -> Option<i32> {
    ZONES
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, offset)| *offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_zones() {
        assert_eq!(suffix(" UTC: %LINK"), Some((Zone::Known(0), ": %LINK")));
        assert_eq!(suffix(" CET: x"), Some((Zone::Known(HOUR), ": x")));
        assert_eq!(suffix(" PST:"), Some((Zone::Known(-8 * HOUR), ":")));
        assert_eq!(
            suffix(" ACST: x"),
            Some((Zone::Known(9 * HOUR + HALF_HOUR), ": x"))
        );
    }

    #[test]
    fn an_unknown_word_is_a_zone_only_before_a_mnemonic() {
        assert_eq!(
            suffix(" MYZONE: %SYS-5-CONFIG_I: x"),
            Some((Zone::Unknown, ": %SYS-5-CONFIG_I: x"))
        );
        assert_eq!(
            suffix(" IST: %SYS-5-CONFIG_I: x"),
            Some((Zone::Unknown, ": %SYS-5-CONFIG_I: x"))
        );
        assert_eq!(suffix(" CRON: job done"), None);
        assert_eq!(suffix(" Ebra: %LINEPROTO-5-UPDOWN: x"), None);
    }

    #[test]
    fn host_names_are_not_zones() {
        assert_eq!(suffix(" mymachine su: x"), None);
        assert_eq!(suffix(" fw01 : %ASA-6-302013: x"), None);
        assert_eq!(suffix(" UTC"), None);
        assert_eq!(suffix(": %LINK"), None);
    }
}
