//! Meraki's `Link` pagination: pages of `perPage` items ordered by a key, with `first`, `prev`, `next` and
//! `last` links whose `startingAfter`/`endingBefore` tokens are item keys, as Meraki's own tokens are ids.

use url::form_urlencoded;

/// The page a request asks for.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub per_page: usize,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

/// A token sorting after every key (keys are ASCII letters, digits, `_` and `-`).
const END_TOKEN: &str = "~";

/// One page of `items` (sorted by `key`) and the `Link` header to send with it.
pub fn paginate<'a, T>(
    items: &[&'a T],
    key: impl Fn(&T) -> &str,
    request: &PageRequest,
    self_url: &SelfUrl,
) -> (Vec<&'a T>, String) {
    let (start, end) = match (&request.starting_after, &request.ending_before) {
        (Some(after), _) => {
            let start = items.partition_point(|item| key(item) <= after.as_str());
            (start, (start + request.per_page).min(items.len()))
        }
        (None, Some(before)) => {
            let end = items.partition_point(|item| key(item) < before.as_str());
            (end.saturating_sub(request.per_page), end)
        }
        (None, None) => (0, request.per_page.min(items.len())),
    };
    let page: Vec<&T> = items[start..end].to_vec();
    let mut links = vec![format!("<{}>; rel=first", self_url.with_token(None))];
    if start > 0 {
        let first_key = page.first().map_or(END_TOKEN, |item| key(item));
        links.push(format!(
            "<{}>; rel=prev",
            self_url.with_token(Some(("endingBefore", first_key)))
        ));
    }
    if end < items.len() {
        let last_key = page.last().map_or("", |item| key(item));
        links.push(format!(
            "<{}>; rel=next",
            self_url.with_token(Some(("startingAfter", last_key)))
        ));
    }
    links.push(format!(
        "<{}>; rel=last",
        self_url.with_token(Some(("endingBefore", END_TOKEN)))
    ));
    (page, links.join(", "))
}

/// The absolute URL of the current request without its page tokens, to build links from.
#[derive(Clone, Debug)]
pub struct SelfUrl {
    pub origin: String,
    pub path: String,
    pub pairs: Vec<(String, String)>,
}

impl SelfUrl {
    fn with_token(&self, token: Option<(&str, &str)>) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            if name != "startingAfter" && name != "endingBefore" {
                serializer.append_pair(name, value);
            }
        }
        if let Some((name, value)) = token {
            serializer.append_pair(name, value);
        }
        format!("{}{}?{}", self.origin, self.path, serializer.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_url() -> SelfUrl {
        SelfUrl {
            origin: "http://127.0.0.1:9".into(),
            path: "/api/v1/organizations/1/devices".into(),
            pairs: vec![
                ("perPage".into(), "3".into()),
                ("startingAfter".into(), "b".into()),
            ],
        }
    }

    #[test]
    fn pages_follow_tokens() {
        let keys: Vec<String> = ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let items: Vec<&String> = keys.iter().collect();
        let request = PageRequest {
            per_page: 3,
            starting_after: Some("b".into()),
            ending_before: None,
        };
        let (page, link) = paginate(&items, |k| k.as_str(), &request, &self_url());
        assert_eq!(page, [&keys[2], &keys[3], &keys[4]]);
        assert!(
            link.contains(
                "<http://127.0.0.1:9/api/v1/organizations/1/devices?perPage=3&startingAfter=e>; rel=next"
            ),
            "{link}"
        );
        assert!(link.contains("endingBefore=c>; rel=prev"), "{link}");
        let last = PageRequest {
            per_page: 3,
            starting_after: None,
            ending_before: Some(END_TOKEN.into()),
        };
        let (page, link) = paginate(&items, |k| k.as_str(), &last, &self_url());
        assert_eq!(page, [&keys[4], &keys[5], &keys[6]]);
        assert!(!link.contains("rel=next"), "{link}");
        let (page, link) = paginate(
            &items,
            |k| k.as_str(),
            &PageRequest {
                per_page: 10,
                ..Default::default()
            },
            &self_url(),
        );
        assert_eq!(page.len(), 7);
        assert!(!link.contains("rel=next") && !link.contains("rel=prev"), "{link}");
    }
}
