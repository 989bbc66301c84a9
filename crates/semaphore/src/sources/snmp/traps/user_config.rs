//! The `users` of `[[sources.snmp_traps]]` (`user`, `security_level`, `auth_protocol`, `priv_protocol`,
//! `auth_passphrase_env`, `priv_passphrase_env`): the SNMPv3 users as written, and their validation. The
//! pass phrases are never in the file: each key names the environment variable that holds one, read when the
//! source starts.

use std::collections::HashSet;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::sources::snmp::secrets::SecretSource;
use crate::sources::snmp::wire::{AuthProtocol, PrivProtocol, SecurityLevel};

/// SnmpAdminString, which a user name is, is at most 32 octets (RFC 3414 §2.4).
const MAX_USER_NAME: usize = 32;

/// One of `users` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapUserFile {
    /// The user name (USM's securityName, net-snmp's `-u`); required.
    pub user: Option<String>,
    /// `noAuthNoPriv`, `authNoPriv` or `authPriv` (default `authPriv`): the level the user's messages have.
    pub security_level: Option<String>,
    /// `MD5`, `SHA`, `SHA-224`, `SHA-256`, `SHA-384` or `SHA-512`; required from `authNoPriv` up.
    pub auth_protocol: Option<String>,
    /// `DES`, `AES` (128), `AES-192` or `AES-256` (and Cisco's `AES-192-C`, `AES-256-C`); required by
    /// `authPriv`.
    pub priv_protocol: Option<String>,
    /// The environment variable holding the authentication pass phrase.
    pub auth_passphrase_env: Option<String>,
    /// The environment variable holding the privacy pass phrase.
    pub priv_passphrase_env: Option<String>,
}

/// An environment variable a secret is read from, and the key that names it (which an error about it
/// names too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretVariable {
    pub variable: String,
    /// `sources.snmp_traps[0].users[1].auth_passphrase_env`.
    pub key: String,
}

impl SecretVariable {
    /// Where the secret is read from, as the reader of secrets takes it.
    pub fn source(&self) -> SecretSource<'_> {
        SecretSource {
            key: &self.key,
            variable: &self.variable,
        }
    }
}

/// A validated user: its name, and each protocol with the variable of its pass phrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapUserSettings {
    pub name: String,
    pub authentication: Option<(AuthProtocol, SecretVariable)>,
    pub privacy: Option<(PrivProtocol, SecretVariable)>,
}

/// `users`, each checked, no name twice; none when left out.
pub fn validate_users(
    validation: &Validation<'_>,
    at: &At,
    users: &Option<Vec<TrapUserFile>>,
) -> Result<Vec<TrapUserSettings>, ConfigError> {
    let Some(users) = users else {
        return Ok(Vec::new());
    };
    let mut names = HashSet::new();
    let mut validated = Vec::with_capacity(users.len());
    for (index, user) in users.iter().enumerate() {
        let key = |name: &str| at.key(&format!("users[{index}].{name}"));
        let settings = user.validate(validation, &key)?;
        if !names.insert(settings.name.clone()) {
            let reason = format!("{:?} is listed twice", settings.name);
            return Err(validation.invalid(key("user"), reason));
        }
        validated.push(settings);
    }
    Ok(validated)
}

impl TrapUserFile {
    fn validate(
        &self,
        validation: &Validation<'_>,
        key: &dyn Fn(&str) -> String,
    ) -> Result<TrapUserSettings, ConfigError> {
        let name = self.user.clone().unwrap_or_default();
        if name.is_empty() || name.len() > MAX_USER_NAME {
            return Err(validation.invalid(
                key("user"),
                "required: the user name the senders use (their -u), 1 to 32 octets",
            ));
        }
        let (level, defaulted) =
            security_level(validation, key("security_level"), self.security_level.as_deref())?;
        let needs = Needs {
            validation,
            level,
            defaulted,
        };
        let authentication = if level.has_authentication() {
            let protocol = needs.value(key("auth_protocol"), &self.auth_protocol)?;
            let protocol = AuthProtocol::from_name(protocol).ok_or_else(|| {
                validation.invalid(
                    key("auth_protocol"),
                    format!("{protocol:?}: use MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512"),
                )
            })?;
            let variable = needs.value(key("auth_passphrase_env"), &self.auth_passphrase_env)?;
            Some((
                protocol,
                secret_variable(validation, key("auth_passphrase_env"), variable)?,
            ))
        } else {
            needs.unused(key("auth_protocol"), &self.auth_protocol)?;
            needs.unused(key("auth_passphrase_env"), &self.auth_passphrase_env)?;
            None
        };
        let privacy = if level.has_privacy() {
            let protocol = needs.value(key("priv_protocol"), &self.priv_protocol)?;
            let protocol = PrivProtocol::from_name(protocol).ok_or_else(|| {
                validation.invalid(
                    key("priv_protocol"),
                    format!(
                        "{protocol:?}: use DES, AES, AES-192 or AES-256 (AES-192-C, AES-256-C: Cisco's keys)"
                    ),
                )
            })?;
            let variable = needs.value(key("priv_passphrase_env"), &self.priv_passphrase_env)?;
            Some((
                protocol,
                secret_variable(validation, key("priv_passphrase_env"), variable)?,
            ))
        } else {
            needs.unused(key("priv_protocol"), &self.priv_protocol)?;
            needs.unused(key("priv_passphrase_env"), &self.priv_passphrase_env)?;
            None
        };
        Ok(TrapUserSettings {
            name,
            authentication,
            privacy,
        })
    }
}

/// Which keys a security level needs, and the errors for one missing or one too many.
struct Needs<'a, 'b> {
    validation: &'a Validation<'b>,
    level: SecurityLevel,
    /// The level was left out: the error says it is the default.
    defaulted: bool,
}

impl Needs<'_, '_> {
    fn level_text(&self) -> String {
        if self.defaulted {
            format!("security_level {} (the default)", self.level)
        } else {
            format!("security_level {}", self.level)
        }
    }

    /// A key the level needs.
    fn value<'v>(&self, key: String, value: &'v Option<String>) -> Result<&'v str, ConfigError> {
        match value.as_deref() {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(self
                .validation
                .invalid(key, format!("required by {}", self.level_text()))),
        }
    }

    /// A key the level does not use: given, it is a mistake rather than something to ignore.
    fn unused(&self, key: String, value: &Option<String>) -> Result<(), ConfigError> {
        match value {
            None => Ok(()),
            Some(_) => Err(self.validation.invalid(
                key,
                format!(
                    "not used by {}; remove it, or set a higher security_level",
                    self.level_text()
                ),
            )),
        }
    }
}

/// The level, and whether it was left out (then `authPriv`: the safe default).
fn security_level(
    validation: &Validation<'_>,
    key: String,
    text: Option<&str>,
) -> Result<(SecurityLevel, bool), ConfigError> {
    let Some(text) = text else {
        return Ok((SecurityLevel::AuthPriv, true));
    };
    SecurityLevel::from_name(text)
        .map(|level| (level, false))
        .ok_or_else(|| validation.invalid(key, format!("{text:?}: use noAuthNoPriv, authNoPriv or authPriv")))
}

/// The name of an environment variable holding a secret, checked: not empty, no `=` or NUL (which no
/// variable name can hold).
pub fn secret_variable(
    validation: &Validation<'_>,
    key: String,
    variable: &str,
) -> Result<SecretVariable, ConfigError> {
    if variable.is_empty() || variable.contains(['=', '\0']) {
        return Err(validation.invalid(
            key,
            format!("{variable:?} is no environment variable name; name the variable that holds the secret"),
        ));
    }
    Ok(SecretVariable {
        variable: variable.to_owned(),
        key,
    })
}
