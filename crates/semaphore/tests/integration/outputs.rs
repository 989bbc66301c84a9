//! `Outputs::publish` in process (issue 10): it returns only once every output took every record, retrying
//! only the output that failed: a syslog server that refuses connections at first, then every message in
//! order on one connection and a clean close after the last batch; a file output that cannot be written at
//! first beside a Kafka output (the embedded broker) that takes the batch at once, which is not written twice.
//!
//! Time is real, not paused: the outputs wait on sockets, files and librdkafka's threads, which a paused clock
//! would skip past, and the crate's Tokio has no `test-util`. The outputs' backoff is 1 s then 2 s, so the
//! waits stay short.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use semaphore::outputs::lines::{LinesOutput, LinesTarget};
use semaphore::outputs::rfc5424::SyslogFormat;
use semaphore::outputs::syslog::{SyslogEndpoint, SyslogOutput};
use semaphore::outputs::{Output, Outputs, StdoutClosed};
use semaphore::record::EncodedRecord;
use semaphore::record::uplink::UPLINK_SCHEMA;
use semaphore::telemetry::Telemetry;
use semaphore::telemetry::metrics::{RECORDS_FAILED, RECORDS_PRODUCED};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncBufRead, AsyncReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::sink_runner::{Broker, bounded, eventually, serial, uplinks};

const TOPIC: &str = "uplinks";

/// Issue 10: while the syslog server refuses connections, `publish` keeps retrying and does not return; once
/// it listens, every record arrives once, in order, on one connection, the next batch follows on the same
/// connection, and `close` ends it cleanly with nothing more sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_publish_waits_for_a_refusing_server_then_delivers_every_record_in_order() {
    bounded(async {
        // Bound but not listening: connections to the port are refused until the test calls `listen`, and
        // no other program can take the port meanwhile.
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("a TCP socket");
        let any_port: SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
        socket.bind(&any_port.into()).expect("a free port");
        let address = socket
            .local_addr()
            .expect("the bound address")
            .as_socket()
            .expect("an IP address");
        let endpoint: SyslogEndpoint = format!("tcp://{address}").parse().expect("a syslog endpoint");
        let telemetry = Telemetry::new();
        let outputs = Arc::new(Outputs::new(
            vec![Arc::new(SyslogOutput::new(endpoint, syslog_format(), None)) as Arc<dyn Output>],
            telemetry.clone(),
        ));
        let first = uplinks(0..5);
        let second = uplinks(5..8);
        let publishing = spawn_publish(&outputs, first.clone());
        // Each refused attempt counts the whole batch as failed; two of them: retried, not given up.
        eventually("two refused attempts", || {
            telemetry.get(&RECORDS_FAILED, &["syslog"]) >= 2.0 * first.len() as f64
        })
        .await;
        assert!(
            !publishing.is_finished(),
            "publish returned while the server refused every connection"
        );
        assert_eq!(telemetry.get(&RECORDS_PRODUCED, &["syslog"]), 0.0);

        socket.listen(16).expect("the socket listens");
        socket.set_nonblocking(true).expect("a non-blocking listener");
        let listener = TcpListener::from_std(socket.into()).expect("a Tokio listener");
        let (stream, _) = listener.accept().await.expect("the output connects");
        let mut server = BufReader::new(stream);
        let mut received = Vec::new();
        for _ in &first {
            received.push(read_frame(&mut server).await);
        }
        publishing
            .await
            .expect("the publish task does not panic")
            .expect("publish returns once the server took every record");
        assert_eq!(telemetry.get(&RECORDS_PRODUCED, &["syslog"]), first.len() as f64);

        outputs
            .publish(TOPIC, &second)
            .await
            .expect("the next batch is published");
        for _ in &second {
            received.push(read_frame(&mut server).await);
        }
        let everything: Vec<&EncodedRecord> = first.iter().chain(&second).collect();
        assert_eq!(received.len(), everything.len());
        for (message, record) in received.iter().zip(&everything) {
            let payload = std::str::from_utf8(&record.payload).expect("JSON is UTF-8");
            // local0 (16) × 8 + informational (6).
            assert!(message.starts_with("<134>1 "), "{message}");
            assert!(
                message.ends_with(payload),
                "in order: {message}\nexpected {payload}"
            );
        }

        // The close is clean: the output sends FIN after the last message and waits for the server's.
        let server_side = async move {
            let mut rest = Vec::new();
            server
                .read_to_end(&mut rest)
                .await
                .expect("the connection ends cleanly");
            // Dropping the stream here closes the server's side, which `close` waits for.
            rest
        };
        let ((), rest) = tokio::join!(outputs.close(), server_side);
        assert!(
            rest.is_empty(),
            "nothing after the last message: {:?}",
            String::from_utf8_lossy(&rest)
        );
        assert_eq!(listener_accepts_nothing_more(&listener).await, None);
    })
    .await;
}

/// Issue 10: with Kafka and a file as outputs, `publish` returns only when both took every record: Kafka
/// takes the batch at once, the file cannot be written until its directory can be made, and `publish` waits
/// for it, retrying the file alone, so Kafka holds each record once and the file has them in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_and_file_publish_returns_only_when_both_took_every_record() {
    bounded(async {
        let broker = Broker::start().await;
        let directory = TempDirectory::new("outputs");
        // A file where the output's directory should be: creating the directory fails until it is removed.
        let blocker = directory.path().join("blocked");
        std::fs::write(&blocker, b"not a directory").expect("the blocking file is written");
        let path = blocker.join("records.jsonl");
        let outputs = Arc::new(Outputs::new(
            vec![
                broker.output.clone() as Arc<dyn Output>,
                Arc::new(LinesOutput::new(LinesTarget::File(path.clone()))),
            ],
            broker.telemetry.clone(),
        ));
        let first = uplinks(0..6);
        let batch = first.len() as f64;
        let publishing = spawn_publish(&outputs, first.clone());
        eventually("the file output refused the batch", || {
            broker.metric(&RECORDS_FAILED, "lines") >= batch
        })
        .await;
        eventually("Kafka took the batch", || {
            broker.metric(&RECORDS_PRODUCED, "kafka") == batch
        })
        .await;
        assert!(
            !publishing.is_finished(),
            "publish returned while the file had none of the records"
        );
        assert_eq!(broker.metric(&RECORDS_PRODUCED, "lines"), 0.0);

        std::fs::remove_file(&blocker).expect("the blocking file is removed");
        publishing
            .await
            .expect("the publish task does not panic")
            .expect("publish returns once both outputs took every record");
        assert_eq!(broker.metric(&RECORDS_PRODUCED, "lines"), batch);
        assert_eq!(
            broker.metric(&RECORDS_FAILED, "kafka"),
            0.0,
            "only the output that failed is retried"
        );

        let second = uplinks(6..9);
        outputs
            .publish(TOPIC, &second)
            .await
            .expect("the next batch is published");
        outputs.close().await;

        let everything: Vec<EncodedRecord> = first.iter().chain(&second).cloned().collect();
        let lines = std::fs::read_to_string(&path).expect("the file output's file");
        let expected: Vec<String> = everything
            .iter()
            .map(|record| String::from_utf8(record.payload.clone()).expect("JSON is UTF-8"))
            .collect();
        assert_eq!(
            lines.lines().collect::<Vec<_>>(),
            expected,
            "each record once, in order"
        );

        // Kafka's output sends a batch's records concurrently: each is there once, under its own key.
        let read = broker.read(TOPIC, everything.len()).await;
        let mut keys: Vec<String> = read
            .iter()
            .map(|message| {
                assert_eq!(message.header("semaphore-schema"), Some(UPLINK_SCHEMA.as_bytes()));
                String::from_utf8(message.key.clone().expect("a key")).expect("a UTF-8 key")
            })
            .collect();
        keys.sort();
        let serials: Vec<String> = (0..9).map(serial).collect();
        assert_eq!(keys, serials);
        assert_eq!(
            broker.records(TOPIC).await,
            everything.len() as i64,
            "Kafka was not written twice"
        );
    })
    .await;
}

fn syslog_format() -> SyslogFormat {
    SyslogFormat {
        facility: 16,
        hostname: "test-host".into(),
        app_name: "semaphore".into(),
        process_id: 1,
    }
}

fn spawn_publish(
    outputs: &Arc<Outputs>,
    records: Vec<EncodedRecord>,
) -> JoinHandle<Result<(), StdoutClosed>> {
    let outputs = outputs.clone();
    tokio::spawn(async move { outputs.publish(TOPIC, &records).await })
}

/// One octet-counted message (RFC 6587): `LENGTH SP MESSAGE`.
async fn read_frame(server: &mut (impl AsyncBufRead + Unpin)) -> String {
    let mut length = Vec::new();
    loop {
        let byte = server.read_u8().await.expect("a message length");
        if byte == b' ' {
            break;
        }
        length.push(byte);
    }
    let length: usize = std::str::from_utf8(&length)
        .ok()
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("{length:?} is not a message length"));
    let mut message = vec![0; length];
    server.read_exact(&mut message).await.expect("the whole message");
    String::from_utf8(message).expect("a UTF-8 message")
}

/// A connection the listener accepted within a moment, if any (the output keeps one connection).
async fn listener_accepts_nothing_more(listener: &TcpListener) -> Option<SocketAddr> {
    tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept())
        .await
        .ok()
        .map(|accepted| accepted.expect("accept").1)
}

/// A directory under the system's temporary directory, removed when dropped (a failing test included); shared
/// with `window_writer.rs`.
pub(crate) struct TempDirectory(PathBuf);

impl TempDirectory {
    pub(crate) fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("semaphore-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("the temporary directory is created");
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
