//! The secrets both SNMP sources read from the environment when they start: a community, or a USM user's
//! pass phrases, each from the variable a `*_env` key names. One reader, so the poller and the trap receiver
//! refuse the same things: a variable that is not set or is empty, and a pass phrase shorter than USM's 8
//! characters. An error names the key and the variable, never the value.

use crate::env::Env;
use crate::secret::Secret;
use crate::sources::snmp::wire::keys::MIN_PASSWORD_LENGTH;
use crate::sources::snmp::wire::{AuthProtocol, KeyError, PrivProtocol, UsmUser};

/// Where one secret is read: the variable, and the config key that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretSource<'a> {
    /// As errors name it: `auth_passphrase_env`, `sources.snmp_traps[0].users[1].auth_passphrase_env`.
    pub key: &'a str,
    pub variable: &'a str,
}

/// A secret the environment does not give, or gives unusable.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{key} names {variable}, which is not set (or empty); export it with the {holds} (its value is never \
         printed)"
    )]
    Unset {
        key: String,
        variable: String,
        holds: &'static str,
    },
    #[error(
        "the pass phrase in {variable} ({key}) is shorter than 8 characters, which USM refuses; set it to the \
         user's pass phrase"
    )]
    TooShort { key: String, variable: String },
    #[error("{key}: the pass phrase in {variable} is refused")]
    Key {
        key: String,
        variable: String,
        #[source]
        source: KeyError,
    },
}

/// The value of `from`'s variable, set and not empty; `holds` says what it is (`community`).
pub fn read(env: &dyn Env, from: SecretSource<'_>, holds: &'static str) -> Result<Secret, SecretError> {
    match env.get(from.variable) {
        Some(value) if !value.is_empty() => Ok(Secret::new(value)),
        _ => Err(SecretError::Unset {
            key: from.key.to_owned(),
            variable: from.variable.to_owned(),
            holds,
        }),
    }
}

/// A pass phrase: set, and at least USM's 8 characters long.
pub fn pass_phrase(
    env: &dyn Env,
    from: SecretSource<'_>,
    holds: &'static str,
) -> Result<Secret, SecretError> {
    let pass_phrase = read(env, from, holds)?;
    if pass_phrase.expose().len() < MIN_PASSWORD_LENGTH {
        return Err(SecretError::TooShort {
            key: from.key.to_owned(),
            variable: from.variable.to_owned(),
        });
    }
    Ok(pass_phrase)
}

/// The USM user `name` with its keys, each pass phrase read from its variable and digested here, once.
pub fn usm_user(
    env: &dyn Env,
    name: &str,
    authentication: Option<(AuthProtocol, SecretSource<'_>)>,
    privacy: Option<(PrivProtocol, SecretSource<'_>)>,
) -> Result<UsmUser, SecretError> {
    let mut user = UsmUser::new(name.as_bytes());
    if let Some((protocol, from)) = authentication {
        let pass_phrase = pass_phrase(env, from, "authentication pass phrase")?;
        user = user
            .with_authentication(protocol, pass_phrase.expose().as_bytes())
            .map_err(|source| refused(from, source))?;
    }
    if let Some((protocol, from)) = privacy {
        let pass_phrase = pass_phrase(env, from, "privacy pass phrase")?;
        user = user
            .with_privacy(protocol, pass_phrase.expose().as_bytes())
            .map_err(|source| refused(from, source))?;
    }
    Ok(user)
}

fn refused(from: SecretSource<'_>, source: KeyError) -> SecretError {
    SecretError::Key {
        key: from.key.to_owned(),
        variable: from.variable.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::sources::snmp::wire::SecurityLevel;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    const AUTH: SecretSource<'static> = SecretSource {
        key: "users[0].auth_passphrase_env",
        variable: "BOB_AUTH",
    };
    const PRIV: SecretSource<'static> = SecretSource {
        key: "users[0].priv_passphrase_env",
        variable: "BOB_PRIV",
    };

    #[test]
    fn an_unset_or_empty_variable_is_named_with_its_key() {
        let community = SecretSource {
            key: "community_env",
            variable: "SNMP_COMMUNITY",
        };
        let read_back = read(&env(&[("SNMP_COMMUNITY", "s3cret")]), community, "community").unwrap();
        assert_eq!(read_back.expose(), "s3cret");
        for unusable in [env(&[]), env(&[("SNMP_COMMUNITY", "")])] {
            let error = read(&unusable, community, "community").unwrap_err();
            assert_eq!(
                error.to_string(),
                "community_env names SNMP_COMMUNITY, which is not set (or empty); export it with the community \
                 (its value is never printed)"
            );
        }
    }

    #[test]
    fn a_pass_phrase_needs_8_characters_and_is_never_shown() {
        let short = env(&[("BOB_AUTH", "zq7x")]);
        let error = pass_phrase(&short, AUTH, "authentication pass phrase").unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("the pass phrase in BOB_AUTH (users[0].auth_passphrase_env) is shorter than 8"),
            "{text}"
        );
        assert!(!text.contains("zq7x"), "{text}");
        let empty = env(&[("BOB_AUTH", "")]);
        let error = pass_phrase(&empty, AUTH, "authentication pass phrase").unwrap_err();
        assert!(matches!(error, SecretError::Unset { .. }), "{error:?}");
    }

    #[test]
    fn a_user_is_made_from_the_pass_phrases_its_level_needs() {
        let both = env(&[("BOB_AUTH", "authpassword1"), ("BOB_PRIV", "privpassword1")]);
        let user = usm_user(
            &both,
            "bob",
            Some((AuthProtocol::Sha256, AUTH)),
            Some((PrivProtocol::Aes128, PRIV)),
        )
        .unwrap();
        assert_eq!(user.name(), b"bob");
        assert_eq!(user.security_level(), SecurityLevel::AuthPriv);
        let shown = format!("{user:?}");
        assert!(!shown.contains("password1"), "{shown}");
        let only_auth = env(&[("BOB_AUTH", "authpassword1")]);
        let error = usm_user(
            &only_auth,
            "bob",
            Some((AuthProtocol::Sha256, AUTH)),
            Some((PrivProtocol::Aes128, PRIV)),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("users[0].priv_passphrase_env names BOB_PRIV, which is not set"),
            "{error}"
        );
        let guest = usm_user(&env(&[]), "guest", None, None).unwrap();
        assert_eq!(guest.security_level(), SecurityLevel::NoAuthNoPriv);
    }
}
