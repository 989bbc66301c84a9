//! Starting a `[[sources.snmp_traps]]`: its secrets read from the environment the config names
//! (communities, and pass phrases digested once into each user's keys), our engine's state (its ID, one more
//! boot), and the running source. The secrets are read as the poller reads its own ([`secrets`]): a variable
//! not set or empty, or a pass phrase under 8 characters, is an error naming the key and the variable; no
//! secret is ever in an error or a log line.

use crate::env::Env;
use crate::secret::Secret;
use crate::sources::SourceFailure;
use crate::sources::component::{RunningSource, SourceContext};
use crate::sources::snmp::secrets::{self, SecretError};
use crate::sources::snmp::traps::config::SnmpTrapsSettings;
use crate::sources::snmp::traps::decode::TrapDecoder;
use crate::sources::snmp::traps::engine::{self, EngineStateError};
use crate::sources::snmp::traps::source::SnmpTrapSource;
use crate::sources::snmp::traps::user_config::TrapUserSettings;
use crate::sources::snmp::traps::users::TrapUsers;
use crate::sources::snmp::wire::salt::SaltError;
use crate::sources::snmp::wire::{Salts, UsmUser};

/// Why a trap source could not start.
#[derive(Debug, thiserror::Error)]
pub enum TrapSetupError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Engine(#[from] EngineStateError),
    #[error(transparent)]
    Salts(#[from] SaltError),
}

/// The running source of `settings`. Under `--once` it does nothing (a listener has no cycle), but its
/// secrets are read all the same, so a missing one is found by any run.
pub fn build(
    settings: &SnmpTrapsSettings,
    context: &SourceContext<'_>,
) -> Result<RunningSource, TrapSetupError> {
    let communities = communities(settings, context.env)?;
    let users = users(settings, context.env)?;
    if context.once {
        return Ok(Box::pin(async {
            tracing::warn!("An SNMP trap source has no cycle: --once does not run it.");
            Ok::<(), SourceFailure>(())
        }));
    }
    let engine = engine::start(&context.data_dir, &settings.id, settings.engine_id.as_deref())?;
    let users = TrapUsers::new(users, &engine.id);
    let decoder = TrapDecoder::new(communities, users, engine, Salts::random()?);
    let source = SnmpTrapSource::new(
        settings.clone(),
        decoder,
        context.outputs.clone(),
        context.telemetry.clone(),
        context.devices.clone(),
    );
    Ok(Box::pin(source.run(context.stop.clone())))
}

/// The communities `communities_env` names; `None` (any) when it is left out.
pub fn communities(
    settings: &SnmpTrapsSettings,
    env: &dyn Env,
) -> Result<Option<Vec<Secret>>, TrapSetupError> {
    let Some(variables) = &settings.communities else {
        return Ok(None);
    };
    let values = variables
        .iter()
        .map(|variable| secrets::read(env, variable.source(), "community"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(values))
}

/// Every user with its keys: each pass phrase digested here, once.
pub fn users(settings: &SnmpTrapsSettings, env: &dyn Env) -> Result<Vec<UsmUser>, TrapSetupError> {
    settings.users.iter().map(|user| usm_user(user, env)).collect()
}

fn usm_user(user: &TrapUserSettings, env: &dyn Env) -> Result<UsmUser, TrapSetupError> {
    let authentication = user
        .authentication
        .as_ref()
        .map(|(protocol, variable)| (*protocol, variable.source()));
    let privacy = user
        .privacy
        .as_ref()
        .map(|(protocol, variable)| (*protocol, variable.source()));
    let user = secrets::usm_user(env, &user.name, authentication, privacy)?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::config::validation::{At, Validation};
    use crate::error_text::one_line;
    use crate::sources::component::SourceFile;
    use crate::sources::snmp::traps::config::SnmpTrapsSourceFile;
    use crate::sources::snmp::wire::SecurityLevel;

    fn settings(text: &str) -> SnmpTrapsSettings {
        let file: SnmpTrapsSourceFile = toml::from_str(text).unwrap();
        let mut validation = Validation::new(Path::new("semaphore.toml"), Duration::from_secs(30));
        let at = At {
            section: "sources",
            kind: "snmp_traps",
            index: 0,
            single: false,
        };
        file.validate(&mut validation, &at).unwrap()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    const BOB: &str = r#"communities_env = ["TRAP_COMMUNITY"]
        [[users]]
        user = "bob"
        auth_protocol = "SHA"
        auth_passphrase_env = "BOB_AUTH"
        priv_protocol = "AES"
        priv_passphrase_env = "BOB_PRIV""#;

    #[test]
    fn secrets_come_from_the_variables_the_config_names() {
        let settings = settings(BOB);
        let env = env(&[
            ("TRAP_COMMUNITY", "s3cret-community"),
            ("BOB_AUTH", "authpassword1"),
            ("BOB_PRIV", "privpassword1"),
        ]);
        let communities = communities(&settings, &env).unwrap().unwrap();
        assert_eq!(communities[0].expose(), "s3cret-community");
        let users = users(&settings, &env).unwrap();
        assert_eq!(users[0].name(), b"bob");
        assert_eq!(users[0].security_level(), SecurityLevel::AuthPriv);
        let shown = format!("{users:?} {communities:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("authpassword1") && !shown.contains("privpassword1"),
            "{shown}"
        );
        assert_eq!(communities_of_any(&settings), None);
    }

    fn communities_of_any(settings: &SnmpTrapsSettings) -> Option<Vec<Secret>> {
        let any = SnmpTrapsSettings {
            communities: None,
            ..settings.clone()
        };
        communities(&any, &env(&[])).unwrap()
    }

    #[test]
    fn a_missing_variable_or_a_short_pass_phrase_is_named_never_shown() {
        let settings = settings(BOB);
        let error = communities(&settings, &env(&[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "sources.snmp_traps[0].communities_env names TRAP_COMMUNITY, which is not set (or empty); export it \
             with the community (its value is never printed)"
        );
        // Empty is as good as unset: no sender has an empty community or pass phrase to match.
        let empty = env(&[("TRAP_COMMUNITY", "")]);
        let error = communities(&settings, &empty).unwrap_err();
        assert!(
            matches!(error, TrapSetupError::Secret(SecretError::Unset { .. })),
            "{error:?}"
        );
        let empty = env(&[("BOB_AUTH", ""), ("BOB_PRIV", "privpassword1")]);
        let error = users(&settings, &empty).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("sources.snmp_traps[0].users[0].auth_passphrase_env names BOB_AUTH"),
            "{error}"
        );
        let error = users(&settings, &env(&[("BOB_AUTH", "authpassword1")])).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("sources.snmp_traps[0].users[0].priv_passphrase_env names BOB_PRIV"),
            "{error}"
        );
        let short = env(&[("BOB_AUTH", "zq7x"), ("BOB_PRIV", "privpassword1")]);
        let error = users(&settings, &short).unwrap_err();
        let text = one_line(&error);
        assert!(
            text.starts_with(
                "the pass phrase in BOB_AUTH (sources.snmp_traps[0].users[0].auth_passphrase_env) is shorter \
                 than 8 characters"
            ),
            "{text}"
        );
        assert!(!text.contains("zq7x"), "{text}");
    }
}
