//! RFC 5988 `Link` headers as Meraki sends them: `<URL>; rel=next, <URL>; rel="prev"`.
//!
//! The client takes page URLs from here and never builds a page token itself (Meraki: tokens "should not be
//! defined by client applications").

use url::Url;

/// The URL of the link with relation `rel` (`next`, `prev`, `first`, `last`), resolved against the request URL
/// because the spec calls them "relative links".
pub fn find_rel(header: &str, rel: &str, request_url: &Url) -> Option<Url> {
    split_links(header).into_iter().find_map(|link| {
        let (target, params) = link.split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let matches = params.split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else { return false };
            name.trim().eq_ignore_ascii_case("rel")
                && value.trim().trim_matches('"').split_whitespace().any(|value| value.eq_ignore_ascii_case(rel))
        });
        if matches { request_url.join(target).ok() } else { None }
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

    fn request() -> Url {
        Url::parse("https://api.meraki.com/api/v1/networks/N_1/clients?perPage=5").unwrap()
    }

    #[test]
    fn meraki_documented_form() {
        let header = "<https://api.meraki.com/api/v1/networks/N_1234/bluetoothClients?perPage=5&startingAfter=0>; \
                      rel=first, <https://api.meraki.com/api/v1/networks/N_1234/bluetoothClients?perPage=5&\
                      startingAfter=105>; rel=next, <https://api.meraki.com/api/v1/networks/N_1234/bluetoothClients?\
                      perPage=5&endingBefore=zzzz>; rel=last";
        let next = find_rel(header, "next", &request()).unwrap();
        assert_eq!(next.query(), Some("perPage=5&startingAfter=105"));
        assert!(find_rel(header, "prev", &request()).is_none());
    }

    #[test]
    fn quoted_relative_and_comma_in_url() {
        let header = r#"</api/v1/x?a=1,2&startingAfter=9>; rel="next""#;
        let next = find_rel(header, "next", &request()).unwrap();
        assert_eq!(next.as_str(), "https://api.meraki.com/api/v1/x?a=1,2&startingAfter=9");
    }

    #[test]
    fn no_next_when_absent_or_garbage() {
        assert!(find_rel("", "next", &request()).is_none());
        assert!(find_rel("garbage; rel=next", "next", &request()).is_none());
        assert!(find_rel("<http://x/>; rel=nextish", "next", &request()).is_none());
    }
}
