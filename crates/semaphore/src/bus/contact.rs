//! The first contact with a cluster: waiting for its first answer while watching for a refusal that no retry
//! can fix, so that semaphore's commands end at once, naming the fix, instead of retrying for ever.
//!
//! librdkafka treats a refused login (SASL) and a certificate it cannot verify (TLS) like a broker that is
//! down: it reconnects with backoff and never gives up. It does report each as an error event, which reaches
//! the client's context when the client's queue is served; [`QuietContext`] keeps it in its
//! [`RefusalWatch`], and [`first_contact`] serves the queue between short metadata requests and looks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tokio::time::Instant;

use crate::bus::config::ResolvedKafka;
use crate::bus::consumer::QuietContext;
use crate::env::{CLUSTER_API_KEY, CLUSTER_API_SECRET, SEMAPHORE_KAFKA_PASSWORD, SEMAPHORE_KAFKA_USERNAME};

/// How long each metadata request of a first contact waits before the client's events are looked at: a
/// refusal is seen within about this long after librdkafka reports it.
const CONTACT_STEP: Duration = Duration::from_millis(250);

/// How long one poll serves the client's queued events (log lines, errors) before returning.
const EVENT_WAIT: Duration = Duration::from_millis(5);

/// Polls per look at the client's events. A poll returns at each error event, so it is repeated; bounded,
/// since a client without an assignment has no records to return but a queue is never served for ever.
const EVENT_POLLS: usize = 16;

/// Why a refusal is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// The cluster refused the SASL login: username, password or mechanism.
    Authentication,
    /// The client does not trust the cluster's TLS certificate.
    Certificate,
    /// The TLS handshake failed for another reason (protocol, cipher, a broker that is not TLS there).
    Tls,
}

/// A refusal as librdkafka reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// librdkafka's reason, without the broker's name and timing. It never holds a password: SCRAM sends
    /// none, and librdkafka writes none in its errors; [`first_contact`] removes it all the same.
    pub reason: String,
}

/// The last refusal a client reported, shared by its context (which notes it) and whoever waits for the
/// cluster. A std mutex: it is held only to copy a value in or out, never across an await.
#[derive(Clone, Debug, Default)]
pub struct RefusalWatch(Arc<Mutex<Option<Refusal>>>);

/// The cluster refuses this client for good; the message names the fix. Exit code 1.
#[derive(Clone, Debug, thiserror::Error)]
pub enum KafkaRefusal {
    #[error(
        "Kafka at {bootstrap} refused SASL authentication: {reason}; check the username and password \
         ({SEMAPHORE_KAFKA_USERNAME} and {SEMAPHORE_KAFKA_PASSWORD}, or {CLUSTER_API_KEY} and \
         {CLUSTER_API_SECRET}, or sasl.username and sasl.password in the client properties) and that the \
         SASL mechanism (--sasl-mechanism, sasl_mechanism, sasl.mechanisms) is one the cluster offers"
    )]
    Authentication { bootstrap: String, reason: String },
    #[error(
        "cannot verify the TLS certificate of Kafka at {bootstrap}: {reason}; trust the CA certificate that \
         signed it with --ssl-ca-location (ssl_ca_location in [kafka], ssl.ca.location in the client \
         properties), or install that CA in the system's trust store"
    )]
    Certificate { bootstrap: String, reason: String },
    #[error(
        "the TLS handshake with Kafka at {bootstrap} failed: {reason}; check that the brokers speak TLS \
         there and the security protocol (--security-protocol, security_protocol, security.protocol)"
    )]
    Tls { bootstrap: String, reason: String },
}

/// Why a first contact did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    /// No answer within the time allowed (librdkafka's last error, as it says it).
    #[error(transparent)]
    Unreachable(KafkaError),
    /// The cluster refuses this client; retrying cannot help.
    #[error(transparent)]
    Refused(KafkaRefusal),
}

impl RefusalWatch {
    /// Keeps `error` when it is a refusal, and says whether it was.
    pub fn note(&self, error: &KafkaError, reason: &str) -> bool {
        let Some(kind) = error
            .rdkafka_error_code()
            .and_then(|code| refusal_kind(code, reason))
        else {
            return false;
        };
        *self.slot() = Some(Refusal {
            kind,
            reason: plain_reason(reason).to_owned(),
        });
        true
    }

    /// The last refusal noted since the last [`RefusalWatch::clear`].
    pub fn last(&self) -> Option<Refusal> {
        self.slot().clone()
    }

    /// Forgets the refusal noted: the cluster answered since.
    pub fn clear(&self) {
        *self.slot() = None;
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Refusal>> {
        // A panic elsewhere while the lock was held leaves a whole value: the slot is only ever replaced.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl KafkaRefusal {
    /// The refusal of the cluster at `kafka`'s bootstrap servers, its reason cleared of `kafka`'s password.
    pub fn new(refusal: Refusal, kafka: &ResolvedKafka) -> Self {
        let bootstrap = kafka.bootstrap.clone();
        let reason = kafka.redact(&refusal.reason);
        match refusal.kind {
            RefusalKind::Authentication => KafkaRefusal::Authentication { bootstrap, reason },
            RefusalKind::Certificate => KafkaRefusal::Certificate { bootstrap, reason },
            RefusalKind::Tls => KafkaRefusal::Tls { bootstrap, reason },
        }
    }
}

/// Waits up to `timeout` for the cluster to answer a metadata request, and fails at once when it refuses
/// `consumer` (made with `kafka`'s settings) for good. Blocking. The consumer must have no assignment: its
/// queue is served here, and records would be lost.
pub fn first_contact(
    consumer: &BaseConsumer<QuietContext>,
    kafka: &ResolvedKafka,
    timeout: Duration,
) -> Result<(), ContactError> {
    let deadline = Instant::now() + timeout;
    loop {
        let step = deadline
            .saturating_duration_since(Instant::now())
            .min(CONTACT_STEP);
        let answer = consumer.fetch_metadata(None, step).map(|_| ());
        serve_events(consumer);
        let watch = consumer.context().refusals();
        if answer.is_ok() {
            // A refusal noted before is over: the cluster answered this client.
            watch.clear();
            return Ok(());
        }
        if let Some(refusal) = watch.last() {
            return Err(ContactError::Refused(KafkaRefusal::new(refusal, kafka)));
        }
        if let Err(error) = answer
            && Instant::now() >= deadline
        {
            return Err(ContactError::Unreachable(error));
        }
    }
}

/// Serves the client's queued events, so that its context sees the errors librdkafka reported.
fn serve_events(consumer: &BaseConsumer<QuietContext>) {
    for _ in 0..EVENT_POLLS {
        // `None`: nothing but log lines (or nothing) within the wait; `Some`: an error event, maybe more.
        if consumer.poll(EVENT_WAIT).is_none() {
            return;
        }
    }
}

/// Which refusal an error of librdkafka's is, if any. Every other error (a broker down, a name that does not
/// resolve, a timeout) may pass, and librdkafka rightly keeps trying.
fn refusal_kind(code: RDKafkaErrorCode, reason: &str) -> Option<RefusalKind> {
    match code {
        // librdkafka's own code for a failed login (a wrong password, an unknown user, a mechanism the
        // cluster does not offer), and the broker's, which librdkafka translates to it.
        RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed => {
            Some(RefusalKind::Authentication)
        }
        // A TLS handshake that failed; a connection dropped during the handshake is a transport error
        // instead, so this is the handshake itself: trust, names, protocols.
        RDKafkaErrorCode::SSL if reason.contains("certificate") => Some(RefusalKind::Certificate),
        RDKafkaErrorCode::SSL => Some(RefusalKind::Tls),
        _ => None,
    }
}

/// librdkafka's reason without what it adds around it: the broker's name in front
/// (`sasl_ssl://127.0.0.1:9092/bootstrap: `) and the timing behind (` (after 5ms in state AUTH_REQ)`), which
/// the message says otherwise or does not need.
fn plain_reason(reason: &str) -> &str {
    let reason = match reason.split_once(": ") {
        Some((broker, rest)) if broker.contains("://") && !broker.contains(' ') => rest,
        _ => reason,
    };
    match reason.rfind(" (after ") {
        Some(at) if reason.ends_with(')') => &reason[..at],
        _ => reason,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::bus::config::KafkaConnection;

    fn noted(code: RDKafkaErrorCode, reason: &str) -> Option<Refusal> {
        let watch = RefusalWatch::default();
        watch.note(&KafkaError::Global(code), reason);
        watch.last()
    }

    /// Issue 12: what librdkafka 2.12 reports for a wrong SCRAM password and for a certificate it cannot
    /// verify is final; a broker that is down is not.
    #[test]
    fn refusals_are_told_from_outages() {
        let login = noted(
            RDKafkaErrorCode::Authentication,
            "sasl_ssl://127.0.0.1:40217/bootstrap: SASL authentication error: SASL SCRAM authentication \
             failed: broker responded with invalid-proof (after 12ms in state AUTH_REQ)",
        )
        .unwrap();
        assert_eq!(login.kind, RefusalKind::Authentication);
        assert_eq!(
            login.reason,
            "SASL authentication error: SASL SCRAM authentication failed: broker responded with invalid-proof"
        );
        let certificate = noted(
            RDKafkaErrorCode::SSL,
            "ssl://127.0.0.1:40217/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate \
             verify failed: broker certificate could not be verified, verify that ssl.ca.location is \
             correctly configured or root CA certificates are installed (install ca-certificates package) \
             (after 3ms in state SSL_HANDSHAKE, 1 identical error(s) suppressed)",
        )
        .unwrap();
        assert_eq!(certificate.kind, RefusalKind::Certificate);
        assert!(
            certificate.reason.starts_with("SSL handshake failed: ")
                && certificate.reason.ends_with("(install ca-certificates package)"),
            "{}",
            certificate.reason
        );
        let handshake = noted(RDKafkaErrorCode::SSL, "SSL handshake failed: no shared cipher").unwrap();
        assert_eq!(handshake.kind, RefusalKind::Tls);
        for outage in [
            RDKafkaErrorCode::BrokerTransportFailure,
            RDKafkaErrorCode::AllBrokersDown,
            RDKafkaErrorCode::Resolve,
            RDKafkaErrorCode::OperationTimedOut,
        ] {
            assert_eq!(
                noted(
                    outage,
                    "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed"
                ),
                None
            );
        }
    }

    #[test]
    fn the_watch_keeps_the_last_refusal_until_cleared() {
        let watch = RefusalWatch::default();
        let shared = watch.clone();
        let down = KafkaError::Global(RDKafkaErrorCode::AllBrokersDown);
        assert!(!watch.note(&down, "down"));
        assert_eq!(shared.last(), None);
        let refused = KafkaError::Global(RDKafkaErrorCode::Authentication);
        assert!(watch.note(&refused, "refused"));
        let kind = shared.last().map(|refusal| refusal.kind);
        assert_eq!(kind, Some(RefusalKind::Authentication));
        shared.clear();
        assert_eq!(watch.last(), None);
    }

    /// The connection settings of a cluster at 127.0.0.1:9093, with `password` from the environment.
    fn kafka(password: Option<&str>) -> ResolvedKafka {
        let env: HashMap<String, String> = password
            .map(|password| ("SEMAPHORE_KAFKA_PASSWORD".to_owned(), password.to_owned()))
            .into_iter()
            .collect();
        KafkaConnection {
            brokers: Some("127.0.0.1:9093".into()),
            ..Default::default()
        }
        .resolve(&env, None)
        .unwrap()
    }

    /// The messages name the fix, each in the three places a connection is configured.
    #[test]
    fn each_refusal_names_its_fix() {
        let refusal = |kind| {
            KafkaRefusal::new(
                Refusal {
                    kind,
                    reason: "why".into(),
                },
                &kafka(None),
            )
            .to_string()
        };
        let login = refusal(RefusalKind::Authentication);
        assert!(
            login.starts_with("Kafka at 127.0.0.1:9093 refused SASL authentication: why; ")
                && login.contains("SEMAPHORE_KAFKA_PASSWORD")
                && login.contains("CLUSTER_API_SECRET")
                && login.contains("--sasl-mechanism"),
            "{login}"
        );
        let certificate = refusal(RefusalKind::Certificate);
        assert!(
            certificate.contains("certificate") && certificate.contains("--ssl-ca-location"),
            "{certificate}"
        );
        assert!(refusal(RefusalKind::Tls).contains("--security-protocol"));
    }

    /// Issue 12: should a broker ever echo the password in its reason, the message does not.
    #[test]
    fn the_password_is_never_in_the_message() {
        let message = KafkaRefusal::new(
            Refusal {
                kind: RefusalKind::Authentication,
                reason: "bad password hunter2-secret for alice".into(),
            },
            &kafka(Some("hunter2-secret")),
        )
        .to_string();
        assert!(!message.contains("hunter2-secret"), "{message}");
        assert!(message.contains("bad password <redacted> for alice"), "{message}");
    }
}
