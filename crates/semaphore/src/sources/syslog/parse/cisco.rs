//! Cisco's conventions around the BSD header (IOS, IOS-XE, NX-OS, the ASA; Arista EOS borrows the
//! mnemonic): the sequence number and origin host before the time (`58: router1: `), the clock mark
//! before the time (`*`, `.`), uptime stamps instead of a time, and the `%FACILITY-SEVERITY-MNEMONIC:` that
//! starts the text.

use crate::sources::syslog::parse::rfc3164::Tag;
use crate::sources::syslog::parse::scan::{skip_spaces, token};

/// Facilities of Cisco's firewalls: the ASA, and the PIX, FWSM and Firepower (FTD) that share its messages.
const FIREWALL_FACILITIES: [&str; 4] = ["ASA", "PIX", "FWSM", "FTD"];

/// What precedes a Cisco time: `service sequence-numbers` and `logging origin-id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prefix<'a> {
    pub sequence: Option<u64>,
    pub hostname: Option<&'a str>,
}

/// What Cisco's mark before a time says about the clock (`service timestamps`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockState {
    /// No mark: the clock is authoritative.
    Synced,
    /// `*`: not authoritative (never set, or never synchronized since boot).
    NotSet,
    /// `.`: was synchronized, has since lost NTP.
    SyncLost,
}

/// A Cisco message code, `%FACILITY-SEVERITY-MNEMONIC` (IOS XR puts a subfacility after the facility:
/// `%PKT_INFRA-LINK-3-UPDOWN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mnemonic<'a> {
    /// The code without its `%`: `LINK-3-UPDOWN`, `ASA-4-106023`.
    pub code: &'a str,
    /// Its first word: `LINK`, `ASA`.
    pub facility: &'a str,
}

/// Reads `seq: ` (or the bare `: ` IOS writes without sequence numbers, and the ASA's `:` before its time),
/// then an origin host `name: `. Without that colon there is no Cisco prefix and nothing is read.
pub fn prefix(text: &str) -> (Prefix<'_>, &str) {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = text.split_at(digits);
    let Some(after_colon) = rest.strip_prefix(':').filter(|after| continues_header(after)) else {
        return (Prefix::default(), text);
    };
    let (hostname, rest) = origin_host(skip_spaces(after_colon));
    (
        Prefix {
            sequence: number.parse().ok(),
            hostname,
        },
        rest,
    )
}

/// Splits Cisco's clock mark off the front of a time.
pub fn clock_state(text: &str) -> (ClockState, &str) {
    if let Some(rest) = text.strip_prefix('*') {
        (ClockState::NotSet, rest)
    } else if let Some(rest) = text.strip_prefix('.') {
        (ClockState::SyncLost, rest)
    } else {
        (ClockState::Synced, text)
    }
}

/// Skips an uptime stamp in a time's place (`00:01:23:`, `1d02h:`, `2w3d:`, from `service timestamps log
/// uptime`) and returns the text from its colon on, the colon that ends a Cisco header.
pub fn uptime(text: &str) -> Option<&str> {
    let length = text.find(' ').unwrap_or(text.len());
    let stamp = text[..length].strip_suffix(':')?;
    is_uptime(stamp).then(|| &text[stamp.len()..])
}

/// Reads a mnemonic and the colon after it (` : ` on IOS XR) from the front of `text`; returns it and the
/// message text after it.
pub fn mnemonic(text: &str) -> Option<(Mnemonic<'_>, &str)> {
    let code_and_rest = text.strip_prefix('%')?;
    let length = code_and_rest.find([':', ' ']).unwrap_or(code_and_rest.len());
    let (code, rest) = code_and_rest.split_at(length);
    let mnemonic = Mnemonic::read(code)?;
    let rest = skip_spaces(rest);
    Some((mnemonic, skip_spaces(rest.strip_prefix(':').unwrap_or(rest))))
}

/// Which vendor a line with a mnemonic came from. The firewalls name themselves in the facility. Arista EOS
/// writes its agent as a BSD tag without a pid before the mnemonic (`switch1 Ebra: %LINEPROTO-5-UPDOWN`),
/// which IOS, IOS-XE and NX-OS never do (their mnemonic follows the header directly); IOS XR's tag carries
/// a pid (`ifmgr[227]:`), so a tag with a pid stays Cisco.
pub fn vendor(mnemonic: &Mnemonic<'_>, tag: Option<&Tag<'_>>) -> &'static str {
    if FIREWALL_FACILITIES.contains(&mnemonic.facility) {
        return "cisco-asa";
    }
    match tag {
        Some(Tag { proc_id: None, .. }) => "arista",
        _ => "cisco",
    }
}

impl<'a> Mnemonic<'a> {
    /// Checks `FACILITY[-SUBFACILITY]-SEVERITY-MNEMONIC`: words of letters, digits and `_`, and a severity
    /// digit from 0 to 7.
    fn read(code: &'a str) -> Option<Self> {
        let (head, name) = code.rsplit_once('-')?;
        let (facilities, severity) = head.rsplit_once('-')?;
        let words_valid = is_code_word(name) && facilities.split('-').all(is_code_word);
        let facility = facilities.split_once('-').map_or(facilities, |(first, _)| first);
        (words_valid && is_severity(severity)).then_some(Self { code, facility })
    }
}

/// After `seq:`, what can continue a Cisco header: a space, a clock mark, a mnemonic, a month, or nothing.
/// `12:30:01` is a time, not sequence 12.
fn continues_header(text: &str) -> bool {
    text.is_empty()
        || text.starts_with([' ', '*', '.', '%'])
        || text.starts_with(|character: char| character.is_ascii_alphabetic())
}

/// An origin host before the time (`router1: `, `10.0.0.1: `): a word ending in `:` that is not a mnemonic,
/// a clock-marked time or an uptime stamp.
fn origin_host(text: &str) -> (Option<&str>, &str) {
    let Some((word, rest)) = token(text) else {
        return (None, text);
    };
    match word.strip_suffix(':') {
        Some(name) if !name.is_empty() && !name.starts_with(['%', '*', '.']) && !is_uptime(name) => {
            (Some(name), rest)
        }
        _ => (None, text),
    }
}

/// Whether a word is an uptime: digits with `:` or unit letters (`00:01:23.456`, `1d02h`, `2w3d`), at most
/// one `.` (so an IPv4 address is not one).
fn is_uptime(stamp: &str) -> bool {
    let allowed = stamp
        .bytes()
        .all(|byte| byte.is_ascii_digit() || b":.wdhms".contains(&byte));
    let has_unit = stamp.bytes().any(|byte| b":wdhms".contains(&byte));
    let dots = stamp.bytes().filter(|byte| *byte == b'.').count();
    stamp.starts_with(|character: char| character.is_ascii_digit()) && allowed && has_unit && dots <= 1
}

fn is_code_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

/// A syslog severity, 0 to 7, as one digit.
fn is_severity(word: &str) -> bool {
    matches!(word.as_bytes(), [b'0'..=b'7'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sequence_and_origin_host() {
        let (with_host, rest) = prefix("123: router1: Mar  1 18:46:11");
        assert_eq!(
            (with_host.sequence, with_host.hostname),
            (Some(123), Some("router1"))
        );
        assert_eq!(rest, " Mar  1 18:46:11");
        let (without_host, rest) = prefix("58: *Mar  1");
        assert_eq!((without_host.sequence, without_host.hostname), (Some(58), None));
        assert_eq!(rest, "*Mar  1");
    }

    #[test]
    fn reads_the_bare_colons() {
        assert_eq!(prefix(": Mar 1").0, Prefix::default());
        assert_eq!(prefix(": Mar 1").1, "Mar 1");
        assert_eq!(prefix(":Jan 05").1, "Jan 05");
        assert_eq!(prefix("10.0.0.1: Mar 1").0, Prefix::default());
    }

    #[test]
    fn an_ip_is_an_origin_host_and_an_uptime_is_not() {
        assert_eq!(prefix("7: 10.0.0.1: Mar 1").0.hostname, Some("10.0.0.1"));
        assert_eq!(prefix("7: 00:01:23: %LINK").0.hostname, None);
        assert_eq!(prefix("7: 1d02h: %LINK").0.hostname, None);
    }

    #[test]
    fn leaves_lines_without_the_colon_alone() {
        assert_eq!(
            prefix("Mar  1 18:46:11 host"),
            (Prefix::default(), "Mar  1 18:46:11 host")
        );
        assert_eq!(prefix("12:30:01 x"), (Prefix::default(), "12:30:01 x"));
        assert_eq!(prefix("2026 Mar  1"), (Prefix::default(), "2026 Mar  1"));
    }

    #[test]
    fn an_overflowing_sequence_is_dropped() {
        assert_eq!(prefix("99999999999999999999999: %X-1-Y: z").0.sequence, None);
    }

    #[test]
    fn reads_mnemonics() {
        let (link, rest) = mnemonic("%LINK-3-UPDOWN: Interface Gi0/1, changed state to down").unwrap();
        assert_eq!(
            link,
            Mnemonic {
                code: "LINK-3-UPDOWN",
                facility: "LINK"
            }
        );
        assert_eq!(rest, "Interface Gi0/1, changed state to down");
        let (xr, rest) = mnemonic("%PKT_INFRA-LINK-3-UPDOWN : Interface Te0/2/0/4").unwrap();
        assert_eq!(
            (xr.code, xr.facility, rest),
            ("PKT_INFRA-LINK-3-UPDOWN", "PKT_INFRA", "Interface Te0/2/0/4")
        );
        assert_eq!(mnemonic("%ASA-4-106023:").unwrap().0.facility, "ASA");
    }

    #[test]
    fn rejects_what_is_not_a_mnemonic() {
        assert_eq!(mnemonic("%% It's time to make the do-nuts."), None);
        assert_eq!(mnemonic("%LINK-9-UPDOWN: x"), None);
        assert_eq!(mnemonic("%LINK-3-: x"), None);
        assert_eq!(mnemonic("%-3-UPDOWN: x"), None);
        assert_eq!(mnemonic("LINK-3-UPDOWN: x"), None);
        assert_eq!(mnemonic("%"), None);
    }

    #[test]
    fn tells_the_vendors_apart() {
        let (asa, _) = mnemonic("%ASA-6-302013: x").unwrap();
        let (link, _) = mnemonic("%LINK-3-UPDOWN: x").unwrap();
        let agent = Tag {
            app_name: "Ebra",
            proc_id: None,
        };
        let process = Tag {
            app_name: "ifmgr",
            proc_id: Some("227"),
        };
        assert_eq!(vendor(&asa, None), "cisco-asa");
        assert_eq!(vendor(&link, None), "cisco");
        assert_eq!(vendor(&link, Some(&agent)), "arista");
        assert_eq!(vendor(&link, Some(&process)), "cisco");
    }

    #[test]
    fn reads_clock_marks_and_uptimes() {
        assert_eq!(clock_state("*Mar"), (ClockState::NotSet, "Mar"));
        assert_eq!(clock_state(".Mar"), (ClockState::SyncLost, "Mar"));
        assert_eq!(clock_state("Mar"), (ClockState::Synced, "Mar"));
        assert_eq!(uptime("00:01:23: %LINK"), Some(": %LINK"));
        assert_eq!(uptime("1d02h: %LINK"), Some(": %LINK"));
        assert_eq!(uptime("10.0.0.1: x"), None);
        assert_eq!(uptime("su: x"), None);
    }
}
