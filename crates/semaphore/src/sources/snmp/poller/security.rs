//! How a poller authenticates: the SNMP version and its keys as the table writes them, validated into
//! [`SecuritySettings`] (names of variables only), and the [`Credentials`] read from those variables when
//! the source is built. The community and the pass phrases live only in the environment, and nothing here
//! prints them: errors name the variable, never its value.

use std::fmt;
use std::sync::Arc;

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::env::Env;
use crate::sources::snmp::client::Security;
use crate::sources::snmp::secrets::{self, SecretError, SecretSource};
use crate::sources::snmp::wire::{AuthProtocol, PrivProtocol, SecurityLevel, UsmUser, Version};

/// The keys of `[[sources.snmp]]` that say how to authenticate, as written.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecurityKeys<'a> {
    pub version: Option<&'a str>,
    pub community_env: Option<&'a str>,
    pub user: Option<&'a str>,
    pub security_level: Option<&'a str>,
    pub auth_protocol: Option<&'a str>,
    pub priv_protocol: Option<&'a str>,
    pub auth_passphrase_env: Option<&'a str>,
    pub priv_passphrase_env: Option<&'a str>,
}

/// How to authenticate, validated: which variables hold the secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecuritySettings {
    /// SNMPv1 or v2c: the community is in the variable `community_env`.
    Community { version: Version, community_env: String },
    /// SNMPv3's User-based Security Model.
    Usm(UsmSettings),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsmSettings {
    pub user: String,
    /// authNoPriv and authPriv.
    pub authentication: Option<Keyed<AuthProtocol>>,
    /// authPriv.
    pub privacy: Option<Keyed<PrivProtocol>>,
}

/// A protocol and the variable holding its pass phrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyed<P> {
    pub protocol: P,
    pub passphrase_env: String,
}

/// The secrets, read: what each session authenticates with.
#[derive(Clone)]
pub enum Credentials {
    Community { version: Version, community: Arc<[u8]> },
    Usm(Arc<UsmUser>),
}

const VERSIONS: &str = "use \"1\", \"2c\" or \"3\"";
const LEVELS: &str = "use \"noAuthNoPriv\", \"authNoPriv\" or \"authPriv\"";
const AUTH_PROTOCOLS: &str = "use MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512";
const PRIV_PROTOCOLS: &str = "use DES, AES, AES-192 or AES-256 (AES-192-C, AES-256-C: Cisco's key extension)";

/// The v3 keys, in the order errors check them.
const USM_KEYS: [&str; 6] = [
    "user",
    "security_level",
    "auth_protocol",
    "auth_passphrase_env",
    "priv_protocol",
    "priv_passphrase_env",
];

impl SecurityKeys<'_> {
    /// The version (default 2c) and what it needs: a community variable for 1 and 2c, a user and its level's
    /// protocols and variables for 3. A key the version or level does not use is an error, not ignored.
    pub fn validate(&self, validation: &Validation<'_>, at: &At) -> Result<SecuritySettings, ConfigError> {
        let version = match self.version.unwrap_or("2c") {
            "1" => Version::V1,
            "2c" => Version::V2c,
            "3" => Version::V3,
            other => return Err(validation.invalid(at.key("version"), format!("{other:?}: {VERSIONS}"))),
        };
        if version == Version::V3 {
            if self.community_env.is_some() {
                let reason = "only used with version \"1\" or \"2c\"; version \"3\" authenticates a user";
                return Err(validation.invalid(at.key("community_env"), reason));
            }
            return self.usm(validation, at).map(SecuritySettings::Usm);
        }
        if let Some(key) = self.usm_keys().find_map(|(key, value)| value.map(|_| key)) {
            return Err(validation.invalid(at.key(key), "only used with version = \"3\""));
        }
        let community_env = required_variable(
            validation,
            at,
            "community_env",
            self.community_env,
            "required for version 1 and 2c: the environment variable holding the community",
        )?;
        Ok(SecuritySettings::Community {
            version,
            community_env,
        })
    }

    fn usm_keys(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
        let values = [
            self.user,
            self.security_level,
            self.auth_protocol,
            self.auth_passphrase_env,
            self.priv_protocol,
            self.priv_passphrase_env,
        ];
        USM_KEYS.into_iter().zip(values)
    }

    fn usm(&self, validation: &Validation<'_>, at: &At) -> Result<UsmSettings, ConfigError> {
        let user = match self.user {
            Some(user) if !user.is_empty() => user.to_owned(),
            _ => return Err(validation.invalid(at.key("user"), "required for version 3: the USM user name")),
        };
        let level = match self.security_level {
            Some(text) => SecurityLevel::from_name(text)
                .ok_or_else(|| validation.invalid(at.key("security_level"), format!("{text:?}: {LEVELS}")))?,
            None => {
                let reason = format!("required for version 3: {LEVELS}");
                return Err(validation.invalid(at.key("security_level"), reason));
            }
        };
        let authentication = if level.has_authentication() {
            Some(self.authentication(validation, at)?)
        } else {
            unused(
                validation,
                at,
                [
                    ("auth_protocol", self.auth_protocol),
                    ("auth_passphrase_env", self.auth_passphrase_env),
                ],
                "authNoPriv or authPriv",
            )?;
            None
        };
        let privacy = if level.has_privacy() {
            Some(self.privacy(validation, at)?)
        } else {
            unused(
                validation,
                at,
                [
                    ("priv_protocol", self.priv_protocol),
                    ("priv_passphrase_env", self.priv_passphrase_env),
                ],
                "authPriv",
            )?;
            None
        };
        Ok(UsmSettings {
            user,
            authentication,
            privacy,
        })
    }

    fn authentication(
        &self,
        validation: &Validation<'_>,
        at: &At,
    ) -> Result<Keyed<AuthProtocol>, ConfigError> {
        let key = at.key("auth_protocol");
        let Some(text) = self.auth_protocol else {
            return Err(validation.invalid(key, format!("required by this security_level: {AUTH_PROTOCOLS}")));
        };
        let protocol = AuthProtocol::from_name(text)
            .ok_or_else(|| validation.invalid(key, format!("{text:?}: {AUTH_PROTOCOLS}")))?;
        let passphrase_env = required_variable(
            validation,
            at,
            "auth_passphrase_env",
            self.auth_passphrase_env,
            "required by this security_level: the environment variable holding the authentication pass phrase",
        )?;
        Ok(Keyed {
            protocol,
            passphrase_env,
        })
    }

    fn privacy(&self, validation: &Validation<'_>, at: &At) -> Result<Keyed<PrivProtocol>, ConfigError> {
        let key = at.key("priv_protocol");
        let Some(text) = self.priv_protocol else {
            return Err(validation.invalid(
                key,
                format!("required by security_level authPriv: {PRIV_PROTOCOLS}"),
            ));
        };
        let protocol = PrivProtocol::from_name(text)
            .ok_or_else(|| validation.invalid(key, format!("{text:?}: {PRIV_PROTOCOLS}")))?;
        let passphrase_env = required_variable(
            validation,
            at,
            "priv_passphrase_env",
            self.priv_passphrase_env,
            "required by security_level authPriv: the environment variable holding the privacy pass phrase",
        )?;
        Ok(Keyed {
            protocol,
            passphrase_env,
        })
    }
}

/// A variable's name, required: `missing` is the reason when it is left out or empty.
fn required_variable(
    validation: &Validation<'_>,
    at: &At,
    key: &str,
    value: Option<&str>,
    missing: &str,
) -> Result<String, ConfigError> {
    match value {
        Some(name) if !name.trim().is_empty() => Ok(name.to_owned()),
        _ => Err(validation.invalid(at.key(key), missing)),
    }
}

/// Keys this security level does not use must be left out.
fn unused<const N: usize>(
    validation: &Validation<'_>,
    at: &At,
    keys: [(&str, Option<&str>); N],
    used_with: &str,
) -> Result<(), ConfigError> {
    match keys.into_iter().find(|(_, value)| value.is_some()) {
        Some((key, _)) => {
            Err(validation.invalid(at.key(key), format!("only used with security_level {used_with}")))
        }
        None => Ok(()),
    }
}

impl SecuritySettings {
    /// `v2c`, `v3 authPriv`: for `check -c`.
    pub fn describe(&self) -> String {
        match self {
            SecuritySettings::Community {
                version: Version::V1, ..
            } => "v1".to_owned(),
            SecuritySettings::Community { .. } => "v2c".to_owned(),
            SecuritySettings::Usm(usm) => match (&usm.authentication, &usm.privacy) {
                (None, _) => "v3 noAuthNoPriv".to_owned(),
                (Some(_), None) => "v3 authNoPriv".to_owned(),
                (Some(_), Some(_)) => "v3 authPriv".to_owned(),
            },
        }
    }

    /// The secrets from the variables the config names. A v3 user's pass phrases are digested here, once per
    /// source (a megabyte of hashing each), not per poll.
    pub fn credentials(&self, env: &dyn Env) -> Result<Credentials, SecretError> {
        match self {
            SecuritySettings::Community {
                version,
                community_env,
            } => {
                let from = SecretSource {
                    key: "community_env",
                    variable: community_env,
                };
                let community = secrets::read(env, from, "community")?;
                Ok(Credentials::Community {
                    version: *version,
                    community: Arc::from(community.expose().as_bytes()),
                })
            }
            SecuritySettings::Usm(usm) => usm.user(env).map(|user| Credentials::Usm(Arc::new(user))),
        }
    }
}

impl UsmSettings {
    fn user(&self, env: &dyn Env) -> Result<UsmUser, SecretError> {
        let authentication = self.authentication.as_ref().map(|keyed| {
            let from = SecretSource {
                key: "auth_passphrase_env",
                variable: &keyed.passphrase_env,
            };
            (keyed.protocol, from)
        });
        let privacy = self.privacy.as_ref().map(|keyed| {
            let from = SecretSource {
                key: "priv_passphrase_env",
                variable: &keyed.passphrase_env,
            };
            (keyed.protocol, from)
        });
        secrets::usm_user(env, &self.user, authentication, privacy)
    }
}

impl Credentials {
    /// What a session authenticates with.
    pub fn security(&self) -> Security {
        match self {
            Credentials::Community { version, community } => Security::Community {
                version: *version,
                community: community.clone(),
            },
            Credentials::Usm(user) => Security::Usm(user.clone()),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Community { version, .. } => formatter
                .debug_struct("Community")
                .field("version", version)
                .field("community", &"<redacted>")
                .finish(),
            Credentials::Usm(user) => formatter
                .debug_tuple("Usm")
                .field(&String::from_utf8_lossy(user.name()))
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    const AT: At = At {
        section: "sources",
        kind: "snmp",
        index: 0,
        single: false,
    };

    fn validate(keys: SecurityKeys<'_>) -> Result<SecuritySettings, String> {
        let validation = Validation::new(Path::new("semaphore.toml"), Duration::from_secs(30));
        keys.validate(&validation, &AT).map_err(|error| error.to_string())
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn auth_priv() -> SecurityKeys<'static> {
        SecurityKeys {
            version: Some("3"),
            user: Some("poller"),
            security_level: Some("authPriv"),
            auth_protocol: Some("SHA-256"),
            auth_passphrase_env: Some("SNMP_AUTH"),
            priv_protocol: Some("AES"),
            priv_passphrase_env: Some("SNMP_PRIV"),
            ..SecurityKeys::default()
        }
    }

    #[test]
    fn v2c_is_the_default_and_needs_a_community_variable() {
        let keys = SecurityKeys {
            community_env: Some("SNMP_COMMUNITY"),
            ..SecurityKeys::default()
        };
        let settings = validate(keys).unwrap();
        assert_eq!(
            settings,
            SecuritySettings::Community {
                version: Version::V2c,
                community_env: "SNMP_COMMUNITY".to_owned(),
            }
        );
        assert_eq!(settings.describe(), "v2c");
        let v1 = validate(SecurityKeys {
            version: Some("1"),
            ..keys
        })
        .unwrap();
        assert_eq!(v1.describe(), "v1");
        let error = validate(SecurityKeys::default()).unwrap_err();
        assert!(
            error.contains("sources.snmp[0].community_env") && error.contains("required"),
            "{error}"
        );
        let error = validate(SecurityKeys {
            version: Some("2"),
            ..keys
        })
        .unwrap_err();
        assert!(
            error.contains("sources.snmp[0].version") && error.contains("\"2c\""),
            "{error}"
        );
        let error = validate(SecurityKeys {
            user: Some("poller"),
            ..keys
        })
        .unwrap_err();
        assert!(
            error.contains("sources.snmp[0].user") && error.contains("version = \"3\""),
            "{error}"
        );
    }

    #[test]
    fn v3_needs_what_its_level_uses_and_nothing_else() {
        let settings = validate(auth_priv()).unwrap();
        assert_eq!(settings.describe(), "v3 authPriv");
        let SecuritySettings::Usm(usm) = &settings else {
            panic!("a USM user: {settings:?}")
        };
        assert_eq!(
            usm.authentication.as_ref().map(|keyed| keyed.protocol),
            Some(AuthProtocol::Sha256)
        );
        assert_eq!(
            usm.privacy.as_ref().map(|keyed| keyed.protocol),
            Some(PrivProtocol::Aes128)
        );
        let cases: [(SecurityKeys<'_>, &str, &str); 10] = [
            (
                SecurityKeys {
                    user: None,
                    ..auth_priv()
                },
                "user",
                "required",
            ),
            (
                SecurityKeys {
                    security_level: None,
                    ..auth_priv()
                },
                "security_level",
                "authPriv",
            ),
            (
                SecurityKeys {
                    security_level: Some("priv"),
                    ..auth_priv()
                },
                "security_level",
                "\"priv\"",
            ),
            (
                SecurityKeys {
                    auth_protocol: Some("SHA-3"),
                    ..auth_priv()
                },
                "auth_protocol",
                "SHA-512",
            ),
            (
                SecurityKeys {
                    auth_protocol: None,
                    ..auth_priv()
                },
                "auth_protocol",
                "required",
            ),
            (
                SecurityKeys {
                    auth_passphrase_env: None,
                    ..auth_priv()
                },
                "auth_passphrase_env",
                "required",
            ),
            (
                SecurityKeys {
                    priv_protocol: Some("3DES"),
                    ..auth_priv()
                },
                "priv_protocol",
                "AES-256",
            ),
            (
                SecurityKeys {
                    priv_passphrase_env: Some(""),
                    ..auth_priv()
                },
                "priv_passphrase_env",
                "required",
            ),
            (
                SecurityKeys {
                    community_env: Some("C"),
                    ..auth_priv()
                },
                "community_env",
                "version \"3\"",
            ),
            (
                SecurityKeys {
                    security_level: Some("authNoPriv"),
                    ..auth_priv()
                },
                "priv_protocol",
                "only used with security_level authPriv",
            ),
        ];
        for (keys, key, reason) in cases {
            let error = validate(keys).unwrap_err();
            assert!(
                error.contains(&format!("sources.snmp[0].{key}")) && error.contains(reason),
                "{key}: {error}"
            );
        }
        let no_auth = SecurityKeys {
            version: Some("3"),
            user: Some("guest"),
            security_level: Some("noauthnopriv"),
            ..SecurityKeys::default()
        };
        assert_eq!(validate(no_auth).unwrap().describe(), "v3 noAuthNoPriv");
        let error = validate(SecurityKeys {
            auth_protocol: Some("MD5"),
            ..no_auth
        })
        .unwrap_err();
        assert!(error.contains("sources.snmp[0].auth_protocol"), "{error}");
        let auth_no_priv = SecurityKeys {
            security_level: Some("authNoPriv"),
            priv_protocol: None,
            priv_passphrase_env: None,
            auth_protocol: Some("sha"),
            ..auth_priv()
        };
        assert_eq!(validate(auth_no_priv).unwrap().describe(), "v3 authNoPriv");
    }

    /// The trap receiver's spellings too (one parser for both sources): `SHA256` was refused here.
    #[test]
    fn protocols_are_read_as_the_trap_receiver_reads_them() {
        let keys = SecurityKeys {
            auth_protocol: Some("SHA256"),
            priv_protocol: Some("aes128"),
            ..auth_priv()
        };
        let SecuritySettings::Usm(usm) = validate(keys).unwrap() else {
            panic!("a USM user")
        };
        assert_eq!(
            usm.authentication.map(|keyed| keyed.protocol),
            Some(AuthProtocol::Sha256)
        );
        assert_eq!(
            usm.privacy.map(|keyed| keyed.protocol),
            Some(PrivProtocol::Aes128)
        );
    }

    #[test]
    fn secrets_come_from_the_environment_and_are_never_shown() {
        let community = SecuritySettings::Community {
            version: Version::V2c,
            community_env: "SNMP_COMMUNITY".to_owned(),
        };
        let credentials = community
            .credentials(&env(&[("SNMP_COMMUNITY", "s3cret-community")]))
            .unwrap();
        let Credentials::Community { community: read, .. } = &credentials else {
            panic!("a community")
        };
        assert_eq!(&read[..], b"s3cret-community");
        assert!(!format!("{credentials:?}").contains("s3cret"));
        let error = community.credentials(&env(&[])).unwrap_err().to_string();
        assert_eq!(
            error,
            "community_env names SNMP_COMMUNITY, which is not set (or empty); export it with the community \
             (its value is never printed)"
        );
        let error = community
            .credentials(&env(&[("SNMP_COMMUNITY", "")]))
            .unwrap_err();
        assert!(matches!(error, SecretError::Unset { .. }));
    }

    #[test]
    fn a_v3_user_is_made_from_its_pass_phrases() {
        let SecuritySettings::Usm(usm) = validate(auth_priv()).unwrap() else {
            panic!("a USM user")
        };
        let settings = SecuritySettings::Usm(usm);
        let good = env(&[("SNMP_AUTH", "authpassword1"), ("SNMP_PRIV", "privpassword1")]);
        let credentials = settings.credentials(&good).unwrap();
        let Credentials::Usm(user) = &credentials else {
            panic!("a USM user")
        };
        assert_eq!(user.name(), b"poller");
        assert_eq!(user.security_level(), SecurityLevel::AuthPriv);
        let shown = format!("{credentials:?}");
        assert!(!shown.contains("password"), "{shown}");
        let short = env(&[("SNMP_AUTH", "authpassword1"), ("SNMP_PRIV", "tiny7")]);
        let error = settings.credentials(&short).unwrap_err().to_string();
        assert!(
            error.contains("SNMP_PRIV (priv_passphrase_env)") && error.contains("shorter than 8 characters"),
            "{error}"
        );
        assert!(!error.contains("tiny7"), "the value is never shown: {error}");
        let missing = env(&[("SNMP_AUTH", "authpassword1")]);
        let error = settings.credentials(&missing).unwrap_err().to_string();
        assert!(
            error.starts_with("priv_passphrase_env names SNMP_PRIV, which is not set"),
            "{error}"
        );
    }
}
