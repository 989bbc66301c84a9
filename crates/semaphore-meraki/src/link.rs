//! RFC 5988 `Link` headers as Meraki sends them: `<URL>; rel=next, <URL>; rel="prev"`.
//!
//! The client takes page URLs from here and never builds a page token itself (Meraki: tokens "should not be
//! defined by client applications"). Targets come back as written; [`crate::BaseUrl::resolve_link`] makes
//! them absolute.

/// The target of the link with relation `rel` (`next`, `prev`, `first`, `last`), as written in the header.
pub fn find_rel<'a>(header: &'a str, rel: &str) -> Option<&'a str> {
    split_links(header).into_iter().find_map(|link| {
        let (target, params) = link.split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let matches = params.split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|value| value.eq_ignore_ascii_case(rel))
        });
        matches.then_some(target)
    })
}

/// Splits at the commas between links, not those inside `<...>`.
fn split_links(header: &str) -> Vec<&str> {
    let mut links = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, character) in header.char_indices() {
        match character {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                links.push(&header[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    links.push(&header[start..]);
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meraki_documented_form() {
        let header = "<https://api.meraki.com/api/v1/networks/N_1234/bluetoothClients?perPage=5&startingAfter=0>; \
                      rel=first, <https://api.meraki.com/api/v1/networks/N_1234/bluetoothClients?perPage=5&\
                      startingAfter=105>; rel=next, <https://api.meraki.com/api/v1/networks/N_1234/bluetoothClients?\
                      perPage=5&endingBefore=zzzz>; rel=last";
        let next = find_rel(header, "next").unwrap();
        assert!(
            next.ends_with("bluetoothClients?perPage=5&startingAfter=105"),
            "{next}"
        );
        assert!(find_rel(header, "prev").is_none());
    }

    #[test]
    fn quoted_relative_and_comma_in_url() {
        let header = r#"</api/v1/x?a=1,2&startingAfter=9>; rel="next""#;
        assert_eq!(find_rel(header, "next"), Some("/api/v1/x?a=1,2&startingAfter=9"));
    }

    #[test]
    fn no_next_when_absent_or_garbage() {
        assert!(find_rel("", "next").is_none());
        assert!(find_rel("garbage; rel=next", "next").is_none());
        assert!(find_rel("<http://x/>; rel=nextish", "next").is_none());
    }
}
