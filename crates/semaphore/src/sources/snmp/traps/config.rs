//! `[[sources.snmp_traps]]`: the table as written, its validation, and the [`Source`] it becomes. Its users
//! are [`super::user_config`]'s. No secret is in the file: communities and pass phrases come from the
//! environment variables it names, read when the source starts.

use serde::Deserialize;

use crate::config::ConfigError;
use crate::config::validation::{At, Validation};
use crate::sources::component::{BuildError, RunningSource, Source, SourceContext, SourceFile};
use crate::sources::listener::{AddressError, ListenAddress, Transport};
use crate::sources::snmp::traps::engine;
use crate::sources::snmp::traps::setup;
use crate::sources::snmp::traps::user_config::{
    SecretVariable, TrapUserFile, TrapUserSettings, secret_variable, validate_users,
};

pub const SNMP_TRAPS_TOPIC: &str = "snmp.traps";
/// Loopback and a port above 1023: safe to start anywhere. Devices send to 162, which needs
/// `listen = "udp://0.0.0.0:162"` and the capability to bind it.
pub const DEFAULT_LISTEN: &str = "udp://127.0.0.1:1162";
/// Linux caps `SO_RCVBUF` at `net.core.rmem_max` anyway; a value beyond 1 GiB is a typo.
const MAX_RECEIVE_BUFFER_BYTES: usize = 1 << 30;

/// `[[sources.snmp_traps]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpTrapsSourceFile {
    pub id: Option<String>,
    /// `udp://ADDRESS:PORT` (default `udp://127.0.0.1:1162`).
    pub listen: Option<String>,
    /// Kafka topic (default `snmp.traps`).
    pub topic: Option<String>,
    /// `SO_RCVBUF` of the socket (default: the kernel's).
    pub receive_buffer_bytes: Option<usize>,
    /// Environment variables, each holding a community v1 and v2c messages may have; left out, any.
    pub communities_env: Option<Vec<String>>,
    /// Our engine ID, in hex, for SNMPv3 informs (default: made at the first start and kept in the data
    /// directory).
    pub engine_id: Option<String>,
    /// The SNMPv3 users.
    pub users: Option<Vec<TrapUserFile>>,
}

/// A validated `[[sources.snmp_traps]]`.
#[derive(Clone, Debug)]
pub struct SnmpTrapsSettings {
    pub id: String,
    pub listen: ListenAddress,
    pub topic: String,
    pub receive_buffer_bytes: Option<usize>,
    /// `None`: any community.
    pub communities: Option<Vec<SecretVariable>>,
    pub engine_id: Option<Vec<u8>>,
    pub users: Vec<TrapUserSettings>,
}

impl SourceFile for SnmpTrapsSourceFile {
    type Config = SnmpTrapsSettings;

    fn validate(&self, validation: &mut Validation<'_>, at: &At) -> Result<SnmpTrapsSettings, ConfigError> {
        let id = validation.unique_id(at, &self.id)?;
        let engine_id = match &self.engine_id {
            Some(text) => {
                let id = engine::engine_id(text)
                    .map_err(|reason| validation.invalid(at.key("engine_id"), reason))?;
                Some(id)
            }
            None => None,
        };
        Ok(SnmpTrapsSettings {
            id,
            listen: listen(validation, at, self.listen.as_deref())?,
            topic: validation.topic(at.key("topic"), &self.topic, SNMP_TRAPS_TOPIC)?,
            receive_buffer_bytes: receive_buffer(validation, at, self.receive_buffer_bytes)?,
            communities: communities(validation, at, &self.communities_env)?,
            engine_id,
            users: validate_users(validation, at, &self.users)?,
        })
    }
}

/// `listen`: one `udp://` address.
fn listen(validation: &Validation<'_>, at: &At, text: Option<&str>) -> Result<ListenAddress, ConfigError> {
    let key = at.key("listen");
    let text = text.unwrap_or(DEFAULT_LISTEN);
    let address: ListenAddress = text
        .parse()
        .map_err(|error: AddressError| validation.invalid(key.clone(), error.to_string()))?;
    if address.transport != Transport::Udp {
        return Err(validation.invalid(
            key,
            format!("{text:?}: SNMP notifications arrive over UDP; use udp://ADDRESS:PORT (162 is theirs)"),
        ));
    }
    Ok(address)
}

fn receive_buffer(
    validation: &Validation<'_>,
    at: &At,
    bytes: Option<usize>,
) -> Result<Option<usize>, ConfigError> {
    match bytes {
        Some(bytes) if !(1..=MAX_RECEIVE_BUFFER_BYTES).contains(&bytes) => Err(validation.invalid(
            at.key("receive_buffer_bytes"),
            format!("{bytes} is out of range: 1 to {MAX_RECEIVE_BUFFER_BYTES}"),
        )),
        _ => Ok(bytes),
    }
}

/// `communities_env`: left out, any community; a list, the variables holding the ones accepted.
fn communities(
    validation: &Validation<'_>,
    at: &At,
    variables: &Option<Vec<String>>,
) -> Result<Option<Vec<SecretVariable>>, ConfigError> {
    let key = at.key("communities_env");
    let Some(variables) = variables else {
        return Ok(None);
    };
    if variables.is_empty() {
        return Err(validation.invalid(
            key,
            "an empty list would refuse every v1 and v2c message; remove the key to accept any community",
        ));
    }
    let checked = variables
        .iter()
        .map(|variable| secret_variable(validation, key.clone(), variable))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(checked))
}

impl Source for SnmpTrapsSettings {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> String {
        format!("snmp_traps {} -> {}", self.listen, self.topic)
    }

    fn uses_meraki(&self) -> bool {
        false
    }

    fn uses_device_identity(&self) -> bool {
        true
    }

    fn build(&self, context: &SourceContext<'_>) -> Result<RunningSource, BuildError> {
        setup::build(self, context).map_err(BuildError::SnmpTraps)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::sources::snmp::wire::{AuthProtocol, PrivProtocol};

    const AT: At = At {
        section: "sources",
        kind: "snmp_traps",
        index: 0,
        single: false,
    };

    fn validate(text: &str) -> Result<SnmpTrapsSettings, String> {
        let file: SnmpTrapsSourceFile = toml::from_str(text).map_err(|error| error.to_string())?;
        let mut validation = Validation::new(
            Path::new("/etc/semaphore/semaphore.toml"),
            Duration::from_secs(30),
        );
        file.validate(&mut validation, &AT)
            .map_err(|error| error.to_string())
    }

    fn refused(text: &str, key: &str, reason: &str) {
        let error = validate(text).expect_err(text);
        assert!(
            error.contains(&format!("sources.snmp_traps[0].{key}")) && error.contains(reason),
            "{text}: {error}"
        );
    }

    #[test]
    fn defaults_listen_on_loopback_for_any_community_without_users() {
        let settings = validate("").unwrap();
        assert_eq!(settings.id, "snmp_traps");
        assert_eq!(settings.listen.to_string(), "udp://127.0.0.1:1162");
        assert_eq!(settings.topic, "snmp.traps");
        assert_eq!(settings.receive_buffer_bytes, None);
        assert_eq!(settings.communities, None);
        assert_eq!(settings.engine_id, None);
        assert!(settings.users.is_empty());
        assert_eq!(
            settings.describe(),
            "snmp_traps udp://127.0.0.1:1162 -> snmp.traps"
        );
        assert!(settings.uses_device_identity() && !settings.uses_meraki());
    }

    #[test]
    fn every_key_is_read() {
        let settings = validate(
            r#"id = "traps"
               listen = "udp://[::]:162"
               topic = "traps"
               receive_buffer_bytes = 8388608
               communities_env = ["TRAP_COMMUNITY", "OLD_COMMUNITY"]
               engine_id = "0x80001f8880c0ffee01"

               [[users]]
               user = "bob"
               auth_protocol = "SHA-256"
               auth_passphrase_env = "BOB_AUTH"
               priv_protocol = "AES"
               priv_passphrase_env = "BOB_PRIV"

               [[users]]
               user = "grace"
               security_level = "authNoPriv"
               auth_protocol = "SHA-224"
               auth_passphrase_env = "GRACE_AUTH"

               [[users]]
               user = "ivan"
               security_level = "noAuthNoPriv""#,
        )
        .unwrap();
        assert_eq!(settings.listen.to_string(), "udp://[::]:162");
        assert_eq!(settings.topic, "traps");
        assert_eq!(settings.receive_buffer_bytes, Some(8_388_608));
        let communities = settings.communities.clone().unwrap();
        assert_eq!(communities[1].variable, "OLD_COMMUNITY");
        assert_eq!(communities[1].key, "sources.snmp_traps[0].communities_env");
        assert_eq!(
            settings.engine_id.as_deref(),
            Some(&[0x80, 0x00, 0x1f, 0x88, 0x80, 0xc0, 0xff, 0xee, 0x01][..])
        );
        let [bob, grace, ivan] = <[TrapUserSettings; 3]>::try_from(settings.users).unwrap();
        let (protocol, variable) = bob.authentication.unwrap();
        assert_eq!(protocol, AuthProtocol::Sha256);
        assert_eq!(variable.variable, "BOB_AUTH");
        assert_eq!(variable.key, "sources.snmp_traps[0].users[0].auth_passphrase_env");
        let (protocol, variable) = bob.privacy.unwrap();
        assert_eq!(protocol, PrivProtocol::Aes128);
        assert_eq!(variable.key, "sources.snmp_traps[0].users[0].priv_passphrase_env");
        assert_eq!(
            grace.authentication.map(|(protocol, _)| protocol),
            Some(AuthProtocol::Sha224)
        );
        assert_eq!(grace.privacy, None);
        assert_eq!(
            (ivan.name.as_str(), ivan.authentication, ivan.privacy),
            ("ivan", None, None)
        );
    }

    #[test]
    fn listen_is_one_udp_address() {
        refused(r#"listen = "tcp://0.0.0.0:162""#, "listen", "arrive over UDP");
        refused(r#"listen = "udp://0.0.0.0""#, "listen", "missing :PORT");
        refused(r#"listen = "udp://localhost:162""#, "listen", "not an IP address");
        let error = validate(r#"listen = ["udp://0.0.0.0:162"]"#).unwrap_err();
        assert!(error.contains("listen"), "{error}");
    }

    #[test]
    fn communities_engine_id_and_buffer_are_checked() {
        refused(
            "communities_env = []",
            "communities_env",
            "remove the key to accept any community",
        );
        refused(
            r#"communities_env = ["A=B"]"#,
            "communities_env",
            "no environment variable name",
        );
        refused(r#"engine_id = "80001f88""#, "engine_id", "5 to 32");
        refused(r#"engine_id = "not hex""#, "engine_id", "is not hex");
        refused("receive_buffer_bytes = 0", "receive_buffer_bytes", "out of range");
        refused(r#"topic = "a b""#, "topic", "");
        let error = validate("community = \"public\"").unwrap_err();
        assert!(error.contains("unknown field `community`"), "{error}");
    }

    #[test]
    fn users_need_what_their_level_needs_and_nothing_else() {
        refused(
            "[[users]]\nsecurity_level = \"noAuthNoPriv\"",
            "users[0].user",
            "required",
        );
        refused(
            "[[users]]\nuser = \"bob\"\nauth_protocol = \"SHA\"\nauth_passphrase_env = \"A\"",
            "users[0].priv_protocol",
            "required by security_level authPriv (the default)",
        );
        refused(
            "[[users]]\nuser = \"bob\"\nsecurity_level = \"authNoPriv\"\nauth_passphrase_env = \"A\"",
            "users[0].auth_protocol",
            "required by security_level authNoPriv",
        );
        refused(
            "[[users]]\nuser = \"bob\"\nsecurity_level = \"authNoPriv\"\nauth_protocol = \"SHA\"",
            "users[0].auth_passphrase_env",
            "required",
        );
        refused(
            "[[users]]\nuser = \"bob\"\nsecurity_level = \"authNoPriv\"\nauth_protocol = \"SHA\"\n\
             auth_passphrase_env = \"A\"\npriv_protocol = \"AES\"",
            "users[0].priv_protocol",
            "not used by security_level authNoPriv",
        );
        refused(
            "[[users]]\nuser = \"bob\"\nsecurity_level = \"authNoPriv\"\nauth_protocol = \"SHA-3\"\n\
             auth_passphrase_env = \"A\"",
            "users[0].auth_protocol",
            "use MD5, SHA, SHA-224",
        );
        refused(
            "[[users]]\nuser = \"bob\"\nauth_protocol = \"SHA\"\nauth_passphrase_env = \"A\"\n\
             priv_protocol = \"3DES\"\npriv_passphrase_env = \"P\"",
            "users[0].priv_protocol",
            "use DES, AES",
        );
        refused(
            "[[users]]\nuser = \"bob\"\nsecurity_level = \"high\"",
            "users[0].security_level",
            "use noAuthNoPriv, authNoPriv or authPriv",
        );
        refused(
            "[[users]]\nuser = \"ivan\"\nsecurity_level = \"noAuthNoPriv\"\n\
             [[users]]\nuser = \"ivan\"\nsecurity_level = \"noAuthNoPriv\"",
            "users[1].user",
            "listed twice",
        );
        refused(
            &format!(
                "[[users]]\nuser = \"{}\"\nsecurity_level = \"noAuthNoPriv\"",
                "u".repeat(33)
            ),
            "users[0].user",
            "1 to 32 octets",
        );
        let error =
            validate("[[users]]\nuser = \"bob\"\nsecurity_level = \"noAuthNoPriv\"\npassword = \"x\"")
                .unwrap_err();
        assert!(error.contains("unknown field `password`"), "{error}");
    }
}
