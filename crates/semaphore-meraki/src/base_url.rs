//! Where the Dashboard API lives: the global default, a regional dashboard by name, or any URL (the simulator),
//! and which redirect targets may receive the API key.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::MerakiError;

/// Meraki's global API (FACTS.md "Base URLs and auth").
pub const DEFAULT_BASE_URL: &str = "https://api.meraki.com/api/v1";

/// Regional dashboards by the short names semaphore accepts, from Meraki's getting-started page and the SDK's
/// `config.py` constants.
const REGIONS: &[(&str, &str)] = &[
    ("global", DEFAULT_BASE_URL),
    ("ca", "https://api.meraki.ca/api/v1"),
    ("cn", "https://api.meraki.cn/api/v1"),
    ("in", "https://api.meraki.in/api/v1"),
    ("us-fed", "https://api.gov-meraki.com/api/v1"),
];

/// Domains whose sub-hosts Meraki redirects to (`api.meraki.com` → `n123.meraki.com`).
const MERAKI_DOMAINS: &[&str] = &[
    "meraki.com",
    "meraki.ca",
    "meraki.cn",
    "meraki.in",
    "gov-meraki.com",
];

/// A validated API base URL, always without a trailing slash (`https://api.meraki.com/api/v1`).
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// The URL of an API path given as segments, each percent-encoded, so an id can never change the path:
    /// `["organizations", id, "devices"]`.
    pub fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.0.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has path segments")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// A `Link` target made absolute. Meraki's docs show absolute URLs; its spec calls them "relative links",
    /// and Meraki's SDK reads a relative one as relative to the base URL (`/organizations/...` under
    /// `/api/v1`), so a path outside the base path is taken that way too.
    pub fn resolve_link(&self, request_url: &Url, target: &str) -> Option<Url> {
        if let Ok(absolute) = Url::parse(target) {
            return Some(absolute);
        }
        let base_path = self.0.path().trim_end_matches('/');
        if target.starts_with('/') && !target.starts_with(&format!("{base_path}/")) {
            return request_url.join(&format!("{base_path}{target}")).ok();
        }
        request_url.join(target).ok()
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// Whether the API key may be sent to `target`, a redirect `Location` or a pagination link.
    ///
    /// The key goes only to the base URL's own origin, or, when the base is a Meraki API host, to another host of
    /// the same Meraki domain over HTTPS. Anything else is a foreign host: following it would hand the key to
    /// whoever answers there.
    pub fn trusts(&self, target: &Url) -> bool {
        let base = &self.0;
        if base.scheme() == target.scheme()
            && base.host_str() == target.host_str()
            && base.port_or_known_default() == target.port_or_known_default()
        {
            return true;
        }
        let (Some(base_host), Some(target_host)) = (base.host_str(), target.host_str()) else {
            return false;
        };
        target.scheme() == "https"
            && MERAKI_DOMAINS.iter().any(|domain| {
                is_same_or_subdomain(base_host, domain) && is_same_or_subdomain(target_host, domain)
            })
    }
}

fn is_same_or_subdomain(host: &str, domain: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

impl Default for BaseUrl {
    fn default() -> Self {
        DEFAULT_BASE_URL.parse().expect("DEFAULT_BASE_URL is a valid URL")
    }
}

impl FromStr for BaseUrl {
    type Err = MerakiError;

    /// Accepts a region name (`global`, `ca`, `cn`, `in`, `us-fed`) or an `http(s)://` URL.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        let text = REGIONS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
            .map_or(value, |(_, url)| url);
        let invalid = |reason: &str| MerakiError::InvalidBaseUrl {
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = Url::parse(text).map_err(|error| {
            invalid(&format!(
                "{error}; give a URL such as {DEFAULT_BASE_URL} or a region: global, ca, cn, in, us-fed"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a base URL takes no query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "credentials do not belong in the URL; set MERAKI_DASHBOARD_API_KEY",
            ));
        }
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(&trimmed);
        Ok(Self(url))
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "BaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(text: &str) -> BaseUrl {
        text.parse().unwrap()
    }

    #[test]
    fn regions_by_name() {
        assert_eq!(base("ca").to_string(), "https://api.meraki.ca/api/v1");
        assert_eq!(base("US-FED").to_string(), "https://api.gov-meraki.com/api/v1");
        assert_eq!(base("global").to_string(), DEFAULT_BASE_URL);
        assert_eq!(BaseUrl::default().to_string(), DEFAULT_BASE_URL);
        assert_eq!(
            base("http://127.0.0.1:8080/api/v1/").to_string(),
            "http://127.0.0.1:8080/api/v1"
        );
    }

    #[test]
    fn bad_urls_are_named() {
        let error = "ftp://x/api".parse::<BaseUrl>().unwrap_err().to_string();
        assert!(
            error.contains("ftp://x/api") && error.contains("scheme"),
            "{error}"
        );
        let error = "mars".parse::<BaseUrl>().unwrap_err().to_string();
        assert!(error.contains("region"), "{error}");
    }

    #[test]
    fn endpoint_keeps_the_base_path_and_encodes_ids() {
        let url = base("http://127.0.0.1:9/api/v1").endpoint(&["organizations", "1", "devices"]);
        assert_eq!(url.as_str(), "http://127.0.0.1:9/api/v1/organizations/1/devices");
        let url = base("http://127.0.0.1:9/api/v1").endpoint(&["devices", "../x?y", "managementInterface"]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/v1/devices/..%2Fx%3Fy/managementInterface"
        );
    }

    #[test]
    fn links_resolve_absolute_and_relative() {
        let base = base("http://127.0.0.1:9/api/v1");
        let request =
            Url::parse("http://127.0.0.1:9/shard-1/api/v1/organizations/1/devices?perPage=3").unwrap();
        let resolve = |target: &str| base.resolve_link(&request, target).unwrap().to_string();
        assert_eq!(
            resolve("https://n1.meraki.com/api/v1/x?startingAfter=a"),
            "https://n1.meraki.com/api/v1/x?startingAfter=a"
        );
        assert_eq!(
            resolve("/organizations/1/devices?startingAfter=b"),
            "http://127.0.0.1:9/api/v1/organizations/1/devices?startingAfter=b"
        );
        assert_eq!(
            resolve("/api/v1/organizations/1/devices?startingAfter=c"),
            "http://127.0.0.1:9/api/v1/organizations/1/devices?startingAfter=c"
        );
        assert_eq!(
            resolve("devices?startingAfter=d"),
            "http://127.0.0.1:9/shard-1/api/v1/organizations/1/devices?startingAfter=d"
        );
    }

    #[test]
    fn key_goes_only_to_trusted_hosts() {
        let meraki = BaseUrl::default();
        assert!(meraki.trusts(&Url::parse("https://n123.meraki.com/api/v1/x").unwrap()));
        assert!(meraki.trusts(&Url::parse("https://api.meraki.com/api/v1/x").unwrap()));
        assert!(
            !meraki.trusts(&Url::parse("http://n123.meraki.com/api/v1/x").unwrap()),
            "no downgrade"
        );
        assert!(!meraki.trusts(&Url::parse("https://meraki.com.evil.example/x").unwrap()));
        assert!(
            !meraki.trusts(&Url::parse("https://n1.meraki.ca/x").unwrap()),
            "other region"
        );
        let local = base("http://127.0.0.1:8080/api/v1");
        assert!(local.trusts(&Url::parse("http://127.0.0.1:8080/shard-1/api/v1/x").unwrap()));
        assert!(!local.trusts(&Url::parse("http://127.0.0.1:8081/api/v1/x").unwrap()));
        assert!(!local.trusts(&Url::parse("http://localhost:8080/api/v1/x").unwrap()));
    }
}
