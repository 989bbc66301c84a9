//! The embedded broker's SCRAM users, written into nisshi's storage before the broker serves.
//!
//! nisshi checks a login against the credentials its storage holds, and a broker that requires logins
//! answers a client that has not logged in with nothing but the login itself, so Kafka's
//! AlterUserScramCredentials request cannot make the first user. The credentials are therefore written
//! through nisshi's own storage API, as its AlterUserScramCredentials handler writes them, never with SQL of
//! semaphore's own: the schema stays nisshi's.
//!
//! The users given are the broker's whole list: a user that an earlier start stored in a kept database
//! (`--data-dir`) and that is no longer given is removed, so taking a user out of the file revokes its login.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nisshi_sans_io::ScramMechanism;
use nisshi_storage::{ArcDynStorage, BrokerRegistrationRequest, ScramCredential, Storage, StorageContainer};
use url::Url;

use crate::bus::broker_security::BrokerUser;
use crate::bus::embedded::CLUSTER_ID;
use crate::bus::scram::{self, SaltError, ScramHash, ScramKeys};

/// The broker's users could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum BrokerCredentialsError {
    /// nisshi's storage refused; its error is kept as text, as [`EmbeddedBrokerError::Start`] keeps nisshi's.
    ///
    /// [`EmbeddedBrokerError::Start`]: crate::bus::embedded::EmbeddedBrokerError::Start
    #[error("cannot store the broker's users in {database}: {reason}")]
    Storage { database: PathBuf, reason: String },
    #[error("cannot list the broker users stored in {database}")]
    List {
        database: PathBuf,
        #[source]
        source: libsql::Error,
    },
    #[error(transparent)]
    Salt(#[from] SaltError),
}

/// Where the credentials go: the broker's own storage (`storage`, the SQLite database file `database`) and
/// the address it advertises, so that they belong to the broker's cluster.
#[derive(Clone, Debug)]
pub struct CredentialStore {
    pub storage: Url,
    pub database: PathBuf,
    pub advertised: Url,
}

/// Stores a SCRAM-SHA-256 and a SCRAM-SHA-512 credential for each of `users`, and removes the users stored
/// before and not given now. Runs on the broker's runtime: nisshi's storage spawns its tasks there.
pub async fn store_users(
    store: CredentialStore,
    users: Vec<BrokerUser>,
) -> Result<(), BrokerCredentialsError> {
    let failed = |error: nisshi_storage::Error| BrokerCredentialsError::Storage {
        database: store.database.clone(),
        reason: error.to_string(),
    };
    let storage = open(&store).await.map_err(failed)?;
    // A credential belongs to a cluster, which the broker registers only once it serves: on a fresh database
    // the cluster is registered here first. Registering again is what every start of the broker does.
    storage
        .register_broker(BrokerRegistrationRequest {
            broker_id: nisshi_broker::NODE_ID,
            cluster_id: CLUSTER_ID.to_owned(),
            incarnation_id: uuid::Uuid::new_v4(),
            rack: None,
        })
        .await
        .map_err(failed)?;
    for user in &users {
        for hash in ScramHash::ALL {
            let keys = scram::new_credential(hash, user.password.expose())?;
            storage
                .upsert_user_scram_credential(&user.name, mechanism(hash), credential(keys))
                .await
                .map_err(failed)?;
        }
    }
    for name in stale_users(&store.database, &users).await? {
        for hash in ScramHash::ALL {
            storage
                .delete_user_scram_credential(&name, mechanism(hash))
                .await
                .map_err(failed)?;
        }
        tracing::info!(user = %name, "Removed a broker user no longer given: it cannot log in any more.");
    }
    Ok(())
}

/// The broker's storage, opened as the broker opens it (same URL, cluster and node), with the one engine
/// semaphore builds nisshi with.
async fn open(store: &CredentialStore) -> Result<ArcDynStorage, nisshi_storage::Error> {
    let mut builder = StorageContainer::builder()
        .node_id(nisshi_broker::NODE_ID)
        .cluster_id(CLUSTER_ID)
        .advertised_listener(store.advertised.clone())
        .storage(store.storage.clone())
        .silent(true)
        .user_credentials_required(true);
    builder.with_factory(Arc::new(nisshi_storage_sql::LiteEngineFactory));
    builder.build().await
}

fn mechanism(hash: ScramHash) -> ScramMechanism {
    match hash {
        ScramHash::Sha256 => ScramMechanism::Scram256,
        ScramHash::Sha512 => ScramMechanism::Scram512,
    }
}

fn credential(keys: ScramKeys) -> ScramCredential {
    ScramCredential {
        salt: keys.salt.into(),
        iterations: i32::try_from(keys.iterations.get())
            .expect("credentials are made with scram::ITERATIONS rounds, which fit an i32"),
        stored_key: keys.stored_key.into(),
        server_key: keys.server_key.into(),
    }
}

/// The users `database` holds credentials for that are not among `users`.
async fn stale_users(
    database: &Path,
    users: &[BrokerUser],
) -> Result<BTreeSet<String>, BrokerCredentialsError> {
    let mut stored = stored_user_names(database)
        .await
        .map_err(|source| BrokerCredentialsError::List {
            database: database.to_owned(),
            source,
        })?;
    for user in users {
        stored.remove(&user.name);
    }
    Ok(stored)
}

/// Every username with a credential in `database`: read only, as `embedded.rs` reads the `header` table; the
/// table is nisshi's, and [`open`] made sure it exists.
async fn stored_user_names(database: &Path) -> Result<BTreeSet<String>, libsql::Error> {
    let connection = libsql::Builder::new_local(database).build().await?.connect()?;
    // nisshi's own connection to the file may hold a lock for a moment.
    connection.busy_timeout(Duration::from_secs(5))?;
    let mut rows = connection
        .query("select distinct username from scram_credential", ())
        .await?;
    let mut names = BTreeSet::new();
    while let Some(row) = rows.next().await? {
        names.insert(row.get::<String>(0)?);
    }
    Ok(names)
}
