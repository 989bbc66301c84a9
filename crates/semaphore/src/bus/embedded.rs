//! The embedded Kafka-compatible broker (nisshi, formerly tansu), started in this process: `semaphore
//! broker` runs it alone, `run` and `demo` start it when no `brokers` are configured, tests start it on a
//! free port in memory.
//!
//! nisshi speaks the Kafka wire protocol, so any Kafka client (librdkafka 2.12+, Python `confluent-kafka`,
//! Java) can use it. SQLite storage keeps topics, records and committed offsets across restarts.
//!
//! `semaphore broker` can ask its clients for TLS and a SASL/SCRAM login ([`BrokerSecurity`]): nisshi's own
//! TLS listener (rustls) and logins, checked against the users' credentials that
//! [`broker_credentials`](crate::bus::broker_credentials) writes into its storage before it serves.

use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nisshi_broker::broker::Broker;
use nisshi_broker::coordinator::group::administrator::{Controller, GroupCoordinatorConfig};
use nisshi_storage::ArcDynStorage;
use tokio::runtime::Runtime;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;
use tokio_rustls::rustls;
use url::Url;

use crate::bus::broker_credentials::{self, BrokerCredentialsError, CredentialStore};
use crate::bus::broker_security::{BrokerSecurity, BrokerUser};
use crate::sources::listener::tls::{TlsSetupError, server_config};

/// Where the embedded broker keeps its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerStorage {
    /// Nothing survives the broker: for tests and demos. This is a SQLite database in a fresh temporary
    /// directory, removed when the broker stops, not nisshi's `memory://` engine. tansu 0.6's memory
    /// engine numbered a batch of several records as one offset, so a fetch from inside a batch returned
    /// nothing; nisshi 0.8's numbers every record and returns the batch that holds the fetch offset. It is
    /// still not used: it comes only with nisshi's `dynostore` feature (object_store with its S3 and GCS
    /// clients), keeps every record in memory with no retention, and lists every batch of a partition at
    /// each fetch, which the broker repeats while it holds a fetch; SQLite is what `--data-dir` runs, so
    /// both are the same broker.
    Memory,
    /// A SQLite database in this directory (created if needed), so data survives restarts.
    Directory(PathBuf),
}

/// The file name of the SQLite database inside the data directory.
pub const BROKER_DATABASE: &str = "broker.db";

/// The cluster id the broker reports, and under which its storage keeps topics and users.
pub const CLUSTER_ID: &str = "semaphore";

/// A failure to start the embedded broker.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedBrokerError {
    #[error(
        "cannot use {address} for the embedded broker: {source}; is another broker already listening there?"
    )]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the broker data directory {path}: {source}")]
    DataDirectory { path: PathBuf, source: std::io::Error },
    #[error("cannot read the broker database {path}: {source}")]
    Database { path: PathBuf, source: libsql::Error },
    #[error(
        "the broker database {path} was written by tansu 0.6, the embedded broker before nisshi, and nisshi \
         cannot use it (it keeps record headers in a table of another shape); move it away to start with an \
         empty broker (its topics, records and committed offsets are not carried over)"
    )]
    TansuDatabase { path: PathBuf },
    #[error("the embedded broker did not start: {reason}")]
    Start { reason: String },
    /// The certificate or key the broker speaks TLS with cannot serve; the message names the file.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    #[error(transparent)]
    Credentials(#[from] BrokerCredentialsError),
    #[error("the embedded broker did not accept connections on {address} within {waited:?}")]
    NotReady { address: SocketAddr, waited: Duration },
}

/// A running embedded broker; stopped when dropped.
#[derive(Debug)]
pub struct EmbeddedBroker {
    address: SocketAddr,
    task: JoinHandle<Result<(), nisshi_broker::Error>>,
    /// The broker's own threads (see [`BROKER_THREADS`]).
    runtime: Option<tokio::runtime::Runtime>,
    /// The temporary directory of `BrokerStorage::Memory`, removed when the broker stops.
    scratch: Option<PathBuf>,
}

/// Worker threads of the broker's own runtime. nisshi's SQLite engine serves one storage request at a time
/// (its default `mode=semaphore`: one permit) and runs each statement on the worker thread that holds the
/// permit, and its fetch query reads every record from the fetch offset to the high watermark, so a consumer
/// reading a large partition keeps a thread busy for a while. On its own runtime with several threads, such a
/// fetch blocks neither the broker's other connections (which wait for the permit without holding a thread)
/// nor the collector sharing the process.
const BROKER_THREADS: usize = 8;

/// How long to wait for the broker to accept connections after start (SQLite schema set-up included).
const READY_WITHIN: Duration = Duration::from_secs(20);

/// How long a consumer group's first rebalance waits for more members to join (Kafka's
/// `group.initial.rebalance.delay.ms`). nisshi waits 3 s, Kafka's default; tansu 0.6 did not wait. The
/// embedded broker's groups are mostly of one member (a sink, `consume -G`), each of which would wait those
/// 3 s at every start; Kafka's own `config/server.properties` sets 0 for development and testing for the
/// same reason.
const INITIAL_REBALANCE_DELAY: Duration = Duration::ZERO;

impl EmbeddedBroker {
    /// Starts the broker on `listen` (port 0 picks a free port) and waits until it accepts connections.
    pub async fn start(listen: SocketAddr, storage: BrokerStorage) -> Result<Self, EmbeddedBrokerError> {
        Self::start_advertising(listen, None, storage).await
    }

    /// As [`EmbeddedBroker::start`], telling clients to connect to `advertise` instead of the listen address
    /// (for instance a TLS terminator in front of the broker).
    pub async fn start_advertising(
        listen: SocketAddr,
        advertise: Option<String>,
        storage: BrokerStorage,
    ) -> Result<Self, EmbeddedBrokerError> {
        Self::start_secured(listen, advertise, storage, BrokerSecurity::default()).await
    }

    /// As [`EmbeddedBroker::start_advertising`], asking every client for what `security` says: TLS on the
    /// listener (which then speaks nothing else), and a SASL/SCRAM login as one of its users before any
    /// other request.
    pub async fn start_secured(
        listen: SocketAddr,
        advertise: Option<String>,
        storage: BrokerStorage,
        security: BrokerSecurity,
    ) -> Result<Self, EmbeddedBrokerError> {
        let address = resolve_port(listen)?;
        let listener_url =
            Url::parse(&format!("tcp://{address}")).expect("a socket address makes a valid URL");
        let advertised_url = advertised_url(advertise, &listener_url)?;
        // Read before anything is made, so that a wrong file leaves nothing behind. nisshi takes the
        // configuration itself, not a shared one.
        let tls = security
            .tls
            .as_ref()
            .map(server_config)
            .transpose()?
            .map(Arc::unwrap_or_clone);
        let (directory, scratch) = match storage {
            BrokerStorage::Memory => {
                let scratch = scratch_directory();
                (scratch.clone(), Some(scratch))
            }
            BrokerStorage::Directory(directory) => (directory, None),
        };
        let storage_url = storage_url(&directory)?;
        refuse_a_tansu_database(&directory.join(BROKER_DATABASE)).await?;
        let runtime = match broker_runtime() {
            Ok(runtime) => runtime,
            Err(error) => {
                remove_scratch(scratch);
                return Err(error);
            }
        };
        let access = Access {
            authentication: !security.users.is_empty(),
            tls,
        };
        let store = CredentialStore {
            storage: storage_url.clone(),
            database: directory.join(BROKER_DATABASE),
            advertised: advertised_url.clone(),
        };
        if let Err(error) = store_credentials(&runtime, store, security.users).await {
            // Not a blocking shutdown: this runs inside another runtime.
            runtime.shutdown_background();
            remove_scratch(scratch);
            return Err(error);
        }
        let task = runtime.spawn(async move {
            let result = serve(listener_url, advertised_url, storage_url, access).await;
            if let Err(error) = &result {
                tracing::error!(%error, "The embedded Kafka broker stopped with an error.");
            }
            result
        });
        // From here on, a start that fails drops `broker`, which stops its threads and removes its scratch
        // directory.
        let mut broker = Self {
            address,
            task,
            runtime: Some(runtime),
            scratch,
        };
        broker.wait_until_ready().await?;
        Ok(broker)
    }

    /// Waits until the broker accepts connections, or its task ended, or [`READY_WITHIN`] passed.
    async fn wait_until_ready(&mut self) -> Result<(), EmbeddedBrokerError> {
        let started = Instant::now();
        while tokio::net::TcpStream::connect(self.address).await.is_err() {
            if self.task.is_finished() {
                return Err(start_failure((&mut self.task).await));
            }
            if started.elapsed() > READY_WITHIN {
                return Err(EmbeddedBrokerError::NotReady {
                    address: self.address,
                    waited: READY_WITHIN,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// The address clients bootstrap from, `127.0.0.1:PORT`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops serving: the listener and every connection are closed. SQLite commits each request as it is
    /// handled, so nothing acknowledged is lost.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(runtime) = self.runtime.take() {
            // Not a blocking shutdown: this may run inside another runtime.
            runtime.shutdown_background();
        }
        if let Some(scratch) = self.scratch.take() {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

/// Builds the broker and serves until the task is aborted. nisshi's own `Broker::main` is not used: it
/// installs SIGINT/SIGTERM handlers, and in semaphore the process's signals belong to `shutdown::install`.
///
/// `silent` keeps nisshi's start-up banner and progress spinners off the terminal; the node id is nisshi's
/// own (every nisshi broker reports 111).
async fn serve(
    listener: Url,
    advertised_listener: Url,
    storage: Url,
    access: Access,
) -> Result<(), nisshi_broker::Error> {
    let mut broker = Broker::<Controller<ArcDynStorage>, ArcDynStorage>::builder()
        .node_id(nisshi_broker::NODE_ID)
        .cluster_id(CLUSTER_ID)
        .incarnation_id(uuid::Uuid::new_v4())
        .advertised_listener(advertised_listener)
        .storage(storage)
        .listener(listener)
        .silent(true)
        .authentication(access.authentication)
        .tls_server_config(access.tls)
        .group_coordinator(GroupCoordinatorConfig {
            initial_rebalance_delay: INITIAL_REBALANCE_DELAY,
            ..GroupCoordinatorConfig::default()
        })
        .build()
        .await?;
    broker.serve(Instant::now()).await
}

/// What the broker asks of its clients, as nisshi's builder takes it.
struct Access {
    /// A SASL/SCRAM login before any other request, checked against the credentials in the storage.
    authentication: bool,
    /// The listener's TLS configuration; plain TCP without.
    tls: Option<rustls::ServerConfig>,
}

/// The address advertised to clients: `advertise` when given, else the listener's own.
fn advertised_url(advertise: Option<String>, listener: &Url) -> Result<Url, EmbeddedBrokerError> {
    match advertise {
        Some(advertise) => {
            Url::parse(&format!("tcp://{advertise}")).map_err(|error| EmbeddedBrokerError::Start {
                reason: format!("advertised address {advertise:?}: {error}"),
            })
        }
        None => Ok(listener.clone()),
    }
}

/// The broker's own runtime (see [`BROKER_THREADS`]).
fn broker_runtime() -> Result<Runtime, EmbeddedBrokerError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(BROKER_THREADS)
        .thread_name("kafka-broker")
        .enable_all()
        .build()
        .map_err(|error| EmbeddedBrokerError::Start {
            reason: format!("cannot start the broker's threads: {error}"),
        })
}

/// Writes the users' credentials into the broker's storage before it serves, on the broker's runtime, where
/// nisshi's storage spawns its tasks. Nothing without users: the broker then asks for no login.
async fn store_credentials(
    runtime: &Runtime,
    store: CredentialStore,
    users: Vec<BrokerUser>,
) -> Result<(), EmbeddedBrokerError> {
    if users.is_empty() {
        return Ok(());
    }
    match runtime.spawn(broker_credentials::store_users(store, users)).await {
        Ok(stored) => stored.map_err(EmbeddedBrokerError::from),
        Err(error) => Err(EmbeddedBrokerError::Start {
            reason: format!("storing the broker's users failed: {error}"),
        }),
    }
}

fn remove_scratch(scratch: Option<PathBuf>) {
    if let Some(scratch) = scratch {
        let _ = std::fs::remove_dir_all(scratch);
    }
}

/// The error of a broker task that ended before it accepted a connection.
fn start_failure(outcome: Result<Result<(), nisshi_broker::Error>, JoinError>) -> EmbeddedBrokerError {
    match outcome {
        // Another process took the port between `resolve_port` and nisshi's own bind.
        Ok(Err(nisshi_broker::Error::ListenerInUse { addr })) => EmbeddedBrokerError::Bind {
            address: addr,
            source: std::io::ErrorKind::AddrInUse.into(),
        },
        Ok(Err(error)) => EmbeddedBrokerError::Start {
            reason: error.to_string(),
        },
        Ok(Ok(())) => EmbeddedBrokerError::Start {
            reason: "it stopped as soon as it started".into(),
        },
        Err(error) => EmbeddedBrokerError::Start {
            reason: error.to_string(),
        },
    }
}

/// Refuses a `broker.db` that tansu 0.6 wrote (semaphore's embedded broker before nisshi). nisshi would
/// take it: it records its schema version in a database that has none, keeps the tables it finds, and only
/// creates the missing ones (nisshi-storage-sql `lite.rs`, `ensure_schema`). But tansu 0.6's `header` table
/// has no `ordinal` column, which nisshi writes with every header, so every produce with headers (all of
/// semaphore's) would then fail. nisshi supports databases that its 0.7.0 or later set up.
async fn refuse_a_tansu_database(database: &Path) -> Result<(), EmbeddedBrokerError> {
    // No file yet: nisshi creates it, with its own schema.
    if !database.exists() {
        return Ok(());
    }
    match header_columns(database).await {
        Ok(columns) if columns.is_empty() || columns.iter().any(|column| column == "ordinal") => Ok(()),
        Ok(_) => Err(EmbeddedBrokerError::TansuDatabase {
            path: database.to_owned(),
        }),
        Err(source) => Err(EmbeddedBrokerError::Database {
            path: database.to_owned(),
            source,
        }),
    }
}

/// The columns of the `header` table of `database`; none where there is no such table.
async fn header_columns(database: &Path) -> Result<Vec<String>, libsql::Error> {
    let connection = libsql::Builder::new_local(database).build().await?.connect()?;
    // A broker still running on the file (a second `semaphore broker` on the same directory) may hold a lock.
    connection.busy_timeout(Duration::from_secs(5))?;
    // `table_info` rows: cid, name, type, notnull, dflt_value, pk.
    let mut rows = connection.query("pragma table_info(header)", ()).await?;
    let mut columns = Vec::new();
    while let Some(row) = rows.next().await? {
        columns.push(row.get::<String>(1)?);
    }
    Ok(columns)
}

/// A fresh directory for a throw-away broker database.
fn scratch_directory() -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let sequence = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("semaphore-broker-{}-{sequence}", std::process::id()))
}

/// nisshi binds the listener itself and does not say which port it got, so a port of 0 is resolved here to a
/// free port first.
fn resolve_port(listen: SocketAddr) -> Result<SocketAddr, EmbeddedBrokerError> {
    let probe = StdTcpListener::bind(listen).map_err(|source| EmbeddedBrokerError::Bind {
        address: listen,
        source,
    })?;
    probe.local_addr().map_err(|source| EmbeddedBrokerError::Bind {
        address: listen,
        source,
    })
}

/// The SQLite URL of `directory/broker.db`, creating the directory. nisshi opens `sqlite://` paths relative
/// to the working directory (it pushes the URL's host, then its path minus one leading slash, onto the
/// current directory: nisshi-storage-sql `database_file.rs`), so the path keeps a second leading slash and
/// stays absolute.
fn storage_url(directory: &Path) -> Result<Url, EmbeddedBrokerError> {
    let failed = |source| EmbeddedBrokerError::DataDirectory {
        path: directory.to_owned(),
        source,
    };
    std::fs::create_dir_all(directory).map_err(failed)?;
    let absolute = std::path::absolute(directory).map_err(failed)?;
    Ok(sqlite_url(&absolute.join(BROKER_DATABASE)))
}

fn sqlite_url(database: &Path) -> Url {
    let mut url = Url::parse("sqlite://").expect("constant URL is valid");
    url.set_path(&format!("/{}", database.display()));
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_url_keeps_the_path_absolute_for_nisshi() {
        let url = sqlite_url(Path::new("/var/lib/semaphore/broker.db"));
        // nisshi strips one leading slash, then pushes the rest onto the working directory: an absolute
        // remainder replaces it.
        let remainder = url.path().strip_prefix('/').unwrap();
        assert_eq!(remainder, "/var/lib/semaphore/broker.db", "{url}");
        assert_eq!(url.domain(), None);
        // nisshi's SQLite engine refuses a query option it does not know; semaphore sets none.
        assert_eq!(url.query(), None);
    }

    /// Issue 12: a broker that cannot bind its port says so as a bind error, naming the address.
    #[test]
    fn a_listener_in_use_is_a_bind_error() {
        let address: SocketAddr = "127.0.0.1:9092".parse().unwrap();
        let error = start_failure(Ok(Err(nisshi_broker::Error::ListenerInUse { addr: address })));
        assert!(
            matches!(error, EmbeddedBrokerError::Bind { address: at, .. } if at == address),
            "{error:?}"
        );
    }
}
