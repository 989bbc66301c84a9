//! Small readers over `&str` shared by the header parsers. Headers are space-separated ASCII words, so every
//! place these functions cut is an ASCII byte, which is always a char boundary: slicing cannot panic.

use crate::sources::syslog::parse::error::ParseError;

/// Skips the spaces before the next word (BSD headers pad a one-digit day: `Feb  5`).
pub fn skip_spaces(text: &str) -> &str {
    text.trim_start_matches(' ')
}

/// The next space-separated word and the text after it (which starts at the space, or is empty); `None`
/// when only spaces are left.
pub fn token(text: &str) -> Option<(&str, &str)> {
    let text = skip_spaces(text);
    if text.is_empty() {
        return None;
    }
    let end = text.find(' ').unwrap_or(text.len());
    Some(text.split_at(end))
}

/// [`token`] for a header field that must be there: its absence is the error naming `field`.
pub fn required_token<'a>(
    text: &'a str,
    format: &'static str,
    field: &'static str,
) -> Result<(&'a str, &'a str), ParseError> {
    token(text).ok_or(ParseError::Truncated { format, field })
}

/// A number written with `min..=max` leading ASCII digits, and the text after them. `max` is at most 9, so
/// the number fits a `u32`.
pub fn number(text: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let count = text.bytes().take_while(u8::is_ascii_digit).count();
    if !(min..=max).contains(&count) {
        return None;
    }
    let (digits, rest) = text.split_at(count);
    Some((digits.parse().ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_skips_padding_and_keeps_the_space_after() {
        assert_eq!(token("  Feb  5"), Some(("Feb", "  5")));
        assert_eq!(token("last"), Some(("last", "")));
        assert_eq!(token("   "), None);
        assert_eq!(token(""), None);
    }

    #[test]
    fn number_counts_digits() {
        assert_eq!(number("05 2026", 1, 2), Some((5, " 2026")));
        assert_eq!(number("123", 1, 2), None);
        assert_eq!(number("x1", 1, 2), None);
        assert_eq!(number("999999999", 1, 9), Some((999_999_999, "")));
    }

    #[test]
    fn required_token_names_the_missing_field() {
        let error = required_token(" ", "RFC 5424", "hostname").unwrap_err();
        assert_eq!(error.to_string(), "header ends before the hostname (RFC 5424)");
    }
}
