//! The Meraki API key, held so that it cannot be printed by accident.

use std::fmt;

use crate::error::MerakiError;

/// The environment variable Meraki's own SDK and the original semaphore scripts read the key from.
pub const MERAKI_DASHBOARD_API_KEY: &str = "MERAKI_DASHBOARD_API_KEY";

/// A Dashboard API key. `Debug` and `Display` print `<redacted>`; only [`ApiKey::expose`] gives the value,
/// and the client calls it in exactly one place: when it builds the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key, refusing an empty or blank one so a missing variable is reported as missing.
    pub fn new(value: impl Into<String>) -> Result<Self, MerakiError> {
        let value = value.into();
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(MerakiError::MissingApiKey);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Reads the key through a lookup function (the process environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MerakiError> {
        lookup(MERAKI_DASHBOARD_API_KEY).map_or(Err(MerakiError::MissingApiKey), Self::new)
    }

    /// The secret itself. Call it only to put the key on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_key() {
        let api_key = ApiKey::new("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(format!("{api_key}"), "<redacted>");
        assert_eq!(format!("{api_key:?}"), "ApiKey(<redacted>)");
        assert_eq!(api_key.expose(), "0123456789abcdef0123456789abcdef01234567");
    }

    #[test]
    fn blank_or_absent_key_is_missing() {
        assert!(matches!(ApiKey::new("  "), Err(MerakiError::MissingApiKey)));
        assert!(matches!(
            ApiKey::from_lookup(|_| None),
            Err(MerakiError::MissingApiKey)
        ));
        let from_map = ApiKey::from_lookup(|name| (name == MERAKI_DASHBOARD_API_KEY).then(|| " k1 ".into()));
        assert_eq!(from_map.unwrap().expose(), "k1");
    }
}
