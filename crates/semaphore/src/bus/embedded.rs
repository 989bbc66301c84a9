//! The embedded Kafka-compatible broker (tansu), started in this process: `semaphore broker` runs it alone,
//! `run` and `demo` start it when no `brokers` are configured, tests start it on a free port in memory.
//!
//! tansu speaks the Kafka wire protocol, so any Kafka client (librdkafka 2.12+, Python `confluent-kafka`,
//! Java) can use it. SQLite storage keeps topics, records and committed offsets across restarts.

use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tansu_broker::broker::Broker;
use tansu_broker::coordinator::group::administrator::Controller;
use tansu_storage::StorageContainer;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

/// Where the embedded broker keeps its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerStorage {
    /// Nothing survives the broker: for tests and demos. This is a SQLite database in a fresh temporary
    /// directory, removed when the broker stops, not tansu's `memory://` engine: in tansu 0.6 that engine
    /// numbers a batch of several records as one offset, so ListOffsets falls short of the end and a fetch from
    /// an offset inside such a batch (a committed offset, `-o -N`) returns nothing. SQLite numbers every record.
    Memory,
    /// A SQLite database in this directory (created if needed), so data survives restarts.
    Directory(PathBuf),
}

/// The file name of the SQLite database inside the data directory.
pub const BROKER_DATABASE: &str = "broker.db";

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
    #[error("the embedded broker did not start: {reason}")]
    Start { reason: String },
    #[error("the embedded broker did not accept connections on {address} within {waited:?}")]
    NotReady { address: SocketAddr, waited: Duration },
}

/// A running embedded broker; stopped when dropped.
#[derive(Debug)]
pub struct EmbeddedBroker {
    address: SocketAddr,
    task: JoinHandle<()>,
    /// The broker's own threads (see [`BROKER_THREADS`]).
    runtime: Option<tokio::runtime::Runtime>,
    /// The temporary directory of `BrokerStorage::Memory`, removed when the broker stops.
    scratch: Option<PathBuf>,
}

/// Worker threads of the broker's own runtime. tansu runs its SQLite queries on the calling thread, and its
/// fetch query reads every record from the fetch offset to the end of the partition, so a consumer reading a
/// large partition keeps a thread busy for a while. On its own runtime with several threads, such fetches
/// neither starve the broker's metadata answers nor the collector sharing the process.
const BROKER_THREADS: usize = 8;

/// How long to wait for the broker to accept connections after start (SQLite schema set-up included).
const READY_WITHIN: Duration = Duration::from_secs(20);

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
        let address = resolve_port(listen)?;
        let (directory, scratch) = match storage {
            BrokerStorage::Memory => {
                let scratch = scratch_directory();
                (scratch.clone(), Some(scratch))
            }
            BrokerStorage::Directory(directory) => (directory, None),
        };
        let storage_url = storage_url(&directory)?;
        let database = directory.join(BROKER_DATABASE);
        let listener_url =
            Url::parse(&format!("tcp://{address}")).expect("a socket address makes a valid URL");
        let advertised_url = match advertise {
            Some(advertise) => {
                Url::parse(&format!("tcp://{advertise}")).map_err(|error| EmbeddedBrokerError::Start {
                    reason: format!("advertised address {advertise:?}: {error}"),
                })?
            }
            None => listener_url.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(BROKER_THREADS)
            .thread_name("kafka-broker")
            .enable_all()
            .build()
            .map_err(|error| EmbeddedBrokerError::Start {
                reason: format!("cannot start the broker's threads: {error}"),
            })?;
        let task = runtime.spawn(async move {
            let built = Broker::<Controller<StorageContainer>, StorageContainer>::builder()
                .node_id(tansu_broker::NODE_ID)
                .cluster_id("semaphore")
                .incarnation_id(uuid::Uuid::new_v4())
                .advertised_listener(advertised_url)
                .storage(storage_url)
                .listener(listener_url)
                .silent(true)
                .build()
                .await;
            let result = match built {
                Ok(mut broker) => broker
                    .serve(Instant::now())
                    .await
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            };
            if let Err(error) = result {
                tracing::error!(%error, "The embedded Kafka broker stopped with an error.");
            }
        });
        let started = Instant::now();
        while tokio::net::TcpStream::connect(address).await.is_err() {
            if task.is_finished() {
                return Err(EmbeddedBrokerError::Start {
                    reason: "it exited at start; see the log above".into(),
                });
            }
            if started.elapsed() > READY_WITHIN {
                task.abort();
                runtime.shutdown_background();
                return Err(EmbeddedBrokerError::NotReady {
                    address,
                    waited: READY_WITHIN,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let broker = Self {
            address,
            task,
            runtime: Some(runtime),
            scratch,
        };
        // On failure the broker is dropped here, which stops it.
        repair_schema(&database).await?;
        Ok(broker)
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

/// What semaphore adds to tansu 0.6's SQLite schema, once the broker made it; each statement is idempotent.
///
/// The index: tansu reads a record's headers with a query on (topition, offset_id) and has no index for it, so
/// every fetched record scanned every header of the database and a consumer reading a topic of tens of
/// thousands of records with headers (ours carry three) stalled the broker for minutes.
///
/// The trigger: tansu 0.6's `topic_delete_by.sql` deletes every topic of the cluster (its `where` selects the
/// cluster, not the topic), so deleting one topic, through any client, deleted them all. tansu deletes the
/// partitions (`topition` rows) of the topic being deleted just before that statement, so a topic that still
/// has partitions is one it did not mean to delete: the trigger skips its row (`raise(ignore)` leaves that row
/// and goes on with the others). nisshi, tansu's successor, fixed the statement.
const SCHEMA_REPAIRS: [&str; 2] = [
    "create index if not exists semaphore_header_record on header (topition, offset_id)",
    "create trigger if not exists semaphore_delete_only_the_named_topic before delete on topic \
     when exists (select 1 from topition where topition.topic = old.id) \
     begin select raise(ignore); end",
];

/// How long to keep trying [`SCHEMA_REPAIRS`]: tansu may still be creating its schema (no such table yet) or
/// writing (database is locked) when the listener already accepts, most of all on a busy machine.
const REPAIR_WITHIN: Duration = Duration::from_secs(30);

/// Applies [`SCHEMA_REPAIRS`], retrying while tansu's own schema work is in the way. A broker without them
/// would delete every topic on a topic delete, so failing here stops the start.
async fn repair_schema(database: &Path) -> Result<(), EmbeddedBrokerError> {
    let started = Instant::now();
    loop {
        match apply_schema_repairs(database).await {
            Ok(()) => return Ok(()),
            Err(error) if started.elapsed() < REPAIR_WITHIN => {
                tracing::debug!(%error, "The broker's schema is not ready for semaphore's repairs yet; trying again.");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => {
                return Err(EmbeddedBrokerError::Start {
                    reason: format!(
                        "cannot add semaphore's index and topic-delete guard to {} within {REPAIR_WITHIN:?}: {error}",
                        database.display()
                    ),
                });
            }
        }
    }
}

async fn apply_schema_repairs(database: &Path) -> Result<(), libsql::Error> {
    let connection = libsql::Builder::new_local(database).build().await?.connect()?;
    connection.busy_timeout(Duration::from_secs(5))?;
    for statement in SCHEMA_REPAIRS {
        connection.execute(statement, ()).await?;
    }
    Ok(())
}

/// A fresh directory for a throw-away broker database.
fn scratch_directory() -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let sequence = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("semaphore-broker-{}-{sequence}", std::process::id()))
}

/// tansu binds the listener itself, so a port of 0 is resolved here to a free port first.
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

/// The SQLite URL of `directory/broker.db`, creating the directory. tansu opens `sqlite://` paths relative
/// to the working directory (it pushes the URL path, minus one leading slash, onto the current directory; see
/// DESIGN.md), so the path keeps a second leading slash and stays absolute.
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
    fn sqlite_url_keeps_the_path_absolute_for_tansu() {
        let url = sqlite_url(Path::new("/var/lib/semaphore/broker.db"));
        // tansu strips one leading slash, then pushes the rest onto the working directory: an absolute
        // remainder replaces it.
        let remainder = url.path().strip_prefix('/').unwrap();
        assert_eq!(remainder, "/var/lib/semaphore/broker.db", "{url}");
        assert_eq!(url.domain(), None);
    }
}
