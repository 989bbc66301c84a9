//! What the embedded broker asks of its clients (`semaphore broker --tls-cert --tls-key --sasl-users`):
//! TLS on its listener, from a certificate and key in PEM files, and a SASL login from the users of a users
//! file and of the environment. nisshi 0.8 offers SCRAM-SHA-256 and SCRAM-SHA-512, not PLAIN; every user
//! can log in with either.
//!
//! The users file holds one `USERNAME:PASSWORD` per line; blank lines and lines starting with `#` are
//! skipped, spaces around the name and the password are not part of them, and the password runs to the end of
//! the line (it may hold ':'). No error quotes a line: a line without its ':' may be a bare password.

use std::path::{Path, PathBuf};

use crate::bus::config::SecurityProtocol;
use crate::env::{Env, SEMAPHORE_BROKER_PASSWORD, SEMAPHORE_BROKER_USERNAME};
use crate::secret::Secret;
use crate::sources::listener::tls::TlsFiles;

/// The security the broker's listener asks of its clients; none by default (plain TCP, no login).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerSecurity {
    /// The certificate and key the listener speaks TLS with; plain TCP without.
    pub tls: Option<TlsFiles>,
    /// Who may log in. With anyone here, every client must log in before any other request.
    pub users: Vec<BrokerUser>,
}

/// A user the broker lets log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerUser {
    pub name: String,
    pub password: Secret,
}

/// Users that cannot be loaded; each variant names the file and line, or the variables, and the fix.
#[derive(Debug, thiserror::Error)]
pub enum BrokerUsersError {
    #[error("cannot read the broker's users file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}, line {line}: {reason}; write one user per line as USERNAME:PASSWORD")]
    Line {
        path: PathBuf,
        line: usize,
        reason: &'static str,
    },
    #[error("{path}, line {line}: user {name:?} is given again (first on line {first}); give each user once")]
    Repeated {
        path: PathBuf,
        line: usize,
        first: usize,
        name: String,
    },
    #[error(
        "{path} holds no user, so nobody could log in; write one user per line as USERNAME:PASSWORD, or \
         leave --sasl-users out for a broker without logins"
    )]
    Empty { path: PathBuf },
    #[error("{SEMAPHORE_BROKER_USERNAME} and {SEMAPHORE_BROKER_PASSWORD} go together: set both, or neither")]
    HalfSet,
    #[error(
        "{SEMAPHORE_BROKER_USERNAME}: {reason}; a username is one or more characters without spaces, ',', \
         '=' or ':'"
    )]
    BadName { reason: &'static str },
    #[error("user {name:?} of {SEMAPHORE_BROKER_USERNAME} is also in {path}; give each user once")]
    Twice { name: String, path: PathBuf },
}

impl BrokerSecurity {
    /// The security protocol clients connect with (`security.protocol`).
    pub fn protocol(&self) -> SecurityProtocol {
        match (self.tls.is_some(), self.users.is_empty()) {
            (false, true) => SecurityProtocol::Plaintext,
            (true, true) => SecurityProtocol::Ssl,
            (false, false) => SecurityProtocol::SaslPlaintext,
            (true, false) => SecurityProtocol::SaslSsl,
        }
    }

    /// One line for people, without a name or password: "TLS, SASL/SCRAM login (2 users)".
    pub fn describe(&self) -> String {
        let tls = if self.tls.is_some() { "TLS" } else { "no TLS" };
        match self.users.len() {
            0 => format!("{tls}, no login"),
            1 => format!("{tls}, SASL/SCRAM login (1 user)"),
            users => format!("{tls}, SASL/SCRAM login ({users} users)"),
        }
    }
}

/// The users of `file` (when given) and of `SEMAPHORE_BROKER_USERNAME`/`SEMAPHORE_BROKER_PASSWORD` (when
/// set); none when neither is.
pub fn load_users(file: Option<&Path>, env: &dyn Env) -> Result<Vec<BrokerUser>, BrokerUsersError> {
    let mut users = match file {
        Some(path) => read_users_file(path)?,
        None => Vec::new(),
    };
    if let Some(user) = user_from_env(env)? {
        if let (Some(path), true) = (file, users.iter().any(|known| known.name == user.name)) {
            return Err(BrokerUsersError::Twice {
                name: user.name,
                path: path.to_owned(),
            });
        }
        users.push(user);
    }
    Ok(users)
}

fn read_users_file(path: &Path) -> Result<Vec<BrokerUser>, BrokerUsersError> {
    let text = std::fs::read_to_string(path).map_err(|source| BrokerUsersError::Read {
        path: path.to_owned(),
        source,
    })?;
    let users = parse_users(&text, path)?;
    if users.is_empty() {
        return Err(BrokerUsersError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(users)
}

/// The users of a users file's text; `path` is for errors.
fn parse_users(text: &str, path: &Path) -> Result<Vec<BrokerUser>, BrokerUsersError> {
    let mut users: Vec<(usize, BrokerUser)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let Some(user) = parse_line(raw).map_err(|reason| BrokerUsersError::Line {
            path: path.to_owned(),
            line,
            reason,
        })?
        else {
            continue;
        };
        if let Some((first, _)) = users.iter().find(|(_, known)| known.name == user.name) {
            return Err(BrokerUsersError::Repeated {
                path: path.to_owned(),
                line,
                first: *first,
                name: user.name,
            });
        }
        users.push((line, user));
    }
    Ok(users.into_iter().map(|(_, user)| user).collect())
}

/// One line of a users file: a user, or nothing for a blank line or a comment.
fn parse_line(raw: &str) -> Result<Option<BrokerUser>, &'static str> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (name, password) = line
        .split_once(':')
        .ok_or("no ':' between the username and the password")?;
    let name = name.trim();
    check_name(name)?;
    let password = password.trim();
    if password.is_empty() {
        return Err("the password is empty");
    }
    Ok(Some(BrokerUser {
        name: name.to_owned(),
        password: Secret::new(password),
    }))
}

/// A username SCRAM carries as is: ',' and '=' would need SCRAM's escaping, which not every client does
/// alike, and ':' ends the name in the users file.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the username is empty");
    }
    if !name.chars().all(is_name_character) {
        return Err("the username holds a space, a control character, ',', '=' or ':'");
    }
    Ok(())
}

fn is_name_character(character: char) -> bool {
    !(character.is_whitespace() || character.is_control() || matches!(character, ',' | '=' | ':'))
}

/// The user of `SEMAPHORE_BROKER_USERNAME`/`SEMAPHORE_BROKER_PASSWORD`; an empty variable counts as unset.
fn user_from_env(env: &dyn Env) -> Result<Option<BrokerUser>, BrokerUsersError> {
    let set = |name| env.get(name).filter(|value| !value.is_empty());
    match (set(SEMAPHORE_BROKER_USERNAME), set(SEMAPHORE_BROKER_PASSWORD)) {
        (None, None) => Ok(None),
        (Some(name), Some(password)) => {
            check_name(&name).map_err(|reason| BrokerUsersError::BadName { reason })?;
            Ok(Some(BrokerUser {
                name,
                password: Secret::new(password),
            }))
        }
        _ => Err(BrokerUsersError::HalfSet),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn parsed(text: &str) -> Result<Vec<(String, String)>, String> {
        parse_users(text, Path::new("users.txt"))
            .map(|users| {
                users
                    .into_iter()
                    .map(|user| (user.name, user.password.expose().to_owned()))
                    .collect()
            })
            .map_err(|error| error.to_string())
    }

    #[test]
    fn a_users_file_is_one_user_per_line() {
        let users = parsed("# the cluster's users\nalice:s3cret\n\n  bob : pass:with:colons  \r\n").unwrap();
        assert_eq!(
            users,
            [
                ("alice".to_owned(), "s3cret".to_owned()),
                ("bob".to_owned(), "pass:with:colons".to_owned())
            ]
        );
        assert!(parsed("# nobody yet\n\n").unwrap().is_empty());
    }

    /// Issue 12: a bad line is named by file and line with the fix, and never quoted: it may be a password.
    #[test]
    fn a_bad_line_is_named_and_not_quoted() {
        for (text, line, says) in [
            ("alice:one\njust-a-password\n", 2, "no ':'"),
            (":hunter2\n", 1, "username is empty"),
            ("alice:\n", 1, "password is empty"),
            ("al ice:hunter2\n", 1, "holds a space"),
            ("a,b:hunter2\n", 1, "','"),
        ] {
            let error = parsed(text).unwrap_err();
            assert!(
                error.starts_with(&format!("users.txt, line {line}: "))
                    && error.contains(says)
                    && error.contains("USERNAME:PASSWORD"),
                "{text:?}: {error}"
            );
            assert!(
                !error.contains("hunter2") && !error.contains("just-a-password"),
                "{error}"
            );
        }
        let error = parsed("alice:one\nbob:two\nalice:three\n").unwrap_err();
        assert!(
            error.contains("line 3") && error.contains("first on line 1") && !error.contains("three"),
            "{error}"
        );
    }

    #[test]
    fn the_environment_adds_one_user() {
        let none = load_users(None, &env(&[])).unwrap();
        assert!(none.is_empty());
        let users = load_users(
            None,
            &env(&[
                ("SEMAPHORE_BROKER_USERNAME", "carol"),
                ("SEMAPHORE_BROKER_PASSWORD", "pa55"),
            ]),
        )
        .unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(
            (users[0].name.as_str(), users[0].password.expose()),
            ("carol", "pa55")
        );
        for half in [
            env(&[("SEMAPHORE_BROKER_USERNAME", "carol")]),
            env(&[("SEMAPHORE_BROKER_PASSWORD", "pa55")]),
            env(&[
                ("SEMAPHORE_BROKER_USERNAME", "carol"),
                ("SEMAPHORE_BROKER_PASSWORD", ""),
            ]),
        ] {
            let error = load_users(None, &half).unwrap_err().to_string();
            assert!(error.contains("set both, or neither"), "{error}");
            assert!(!error.contains("pa55"), "{error}");
        }
    }

    #[test]
    fn the_file_and_the_environment_combine_and_may_not_repeat_a_user() {
        let directory = std::env::temp_dir().join(format!("semaphore-users-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("users.txt");
        std::fs::write(&path, "alice:one\n").unwrap();
        let carol = env(&[
            ("SEMAPHORE_BROKER_USERNAME", "carol"),
            ("SEMAPHORE_BROKER_PASSWORD", "two"),
        ]);
        let users = load_users(Some(&path), &carol).unwrap();
        let names: Vec<&str> = users.iter().map(|user| user.name.as_str()).collect();
        assert_eq!(names, ["alice", "carol"]);
        let alice_again = env(&[
            ("SEMAPHORE_BROKER_USERNAME", "alice"),
            ("SEMAPHORE_BROKER_PASSWORD", "two"),
        ]);
        let error = load_users(Some(&path), &alice_again).unwrap_err().to_string();
        assert!(
            error.contains("also in") && error.contains("users.txt"),
            "{error}"
        );

        std::fs::write(&path, "# nobody\n").unwrap();
        let error = load_users(Some(&path), &env(&[])).unwrap_err().to_string();
        assert!(error.contains("holds no user"), "{error}");
        let missing = directory.join("missing.txt");
        let error = load_users(Some(&missing), &env(&[])).unwrap_err().to_string();
        assert!(
            error.contains("cannot read the broker's users file") && error.contains("missing.txt"),
            "{error}"
        );
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn the_protocol_follows_tls_and_users() {
        let mut security = BrokerSecurity::default();
        assert_eq!(security.protocol(), SecurityProtocol::Plaintext);
        assert_eq!(security.describe(), "no TLS, no login");
        security.users.push(BrokerUser {
            name: "alice".into(),
            password: Secret::new("hunter2"),
        });
        assert_eq!(security.protocol(), SecurityProtocol::SaslPlaintext);
        security.tls = Some(TlsFiles {
            certificate: "cert.pem".into(),
            key: "key.pem".into(),
            client_ca: None,
        });
        assert_eq!(security.protocol(), SecurityProtocol::SaslSsl);
        assert_eq!(security.describe(), "TLS, SASL/SCRAM login (1 user)");
        assert!(!format!("{security:?}").contains("hunter2"));
    }
}
