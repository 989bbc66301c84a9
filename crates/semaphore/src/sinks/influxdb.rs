//! The InfluxDB sink: uplink samples as line protocol ([`crate::sinks::line_protocol`]) over HTTP, to
//! InfluxDB 1.x (`/write?db=…`) or 2.x (`/api/v2/write?org=…&bucket=…`, token from
//! `SEMAPHORE_INFLUXDB_TOKEN`). One POST per batch.
//!
//! Answers are classified in one place ([`classify`]): 2xx accepted; 5xx, 429, timeouts and connection
//! failures retried (the batch is not committed meanwhile, so nothing is lost); a 400 (a point InfluxDB
//! refuses) dead-letters the batch with InfluxDB's message; 401/403/404 are retried with an error that says
//! what to fix, because the records are fine and the server's settings are not.

mod config;

pub use config::InfluxSinkFile;

use std::time::Duration;

use reqwest::StatusCode;

use crate::secret::Secret;
use crate::sinks::line_protocol::write_line;
use crate::sinks::message::Decoded;
use crate::sinks::sink::{Accepted, HttpClientError, SinkError, http_client};

#[derive(Clone, Debug, PartialEq)]
pub enum InfluxApi {
    V1 {
        database: String,
        retention_policy: Option<String>,
    },
    V2 {
        org: String,
        bucket: String,
    },
}

#[derive(Clone, Debug)]
pub struct InfluxSettings {
    /// `http://host:8086`.
    pub endpoint: url::Url,
    pub api: InfluxApi,
    pub measurement: String,
    pub timeout: Duration,
}

/// Credentials from the environment.
#[derive(Clone, Debug, Default)]
pub struct InfluxCredentials {
    pub token: Option<Secret>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// What InfluxDB answered, or that it did not; each names the server (and what to fix, where it is the
/// server's settings rather than the records).
#[derive(Debug, thiserror::Error)]
pub enum InfluxError {
    /// Timeouts and connection failures: the server may be restarting.
    #[error("InfluxDB at {host} did not answer")]
    NoAnswer {
        host: String,
        #[source]
        source: RequestFailure,
    },
    #[error("InfluxDB at {host} answered {status} to /ping")]
    Ping { host: String, status: StatusCode },
    #[error(transparent)]
    Client(#[from] HttpClientError),
    #[error("InfluxDB refused the batch (400): {body}")]
    Refused { body: String },
    #[error("InfluxDB refused the batch as too large (413): {body}; lower batch_size")]
    TooLarge { body: String },
    #[error(
        "InfluxDB refused the credentials ({status}): {body}; set SEMAPHORE_INFLUXDB_TOKEN (2.x) or \
         SEMAPHORE_INFLUXDB_USERNAME/SEMAPHORE_INFLUXDB_PASSWORD (1.x)"
    )]
    Credentials { status: StatusCode, body: String },
    #[error(
        "InfluxDB has no such database or bucket ({status} on {path}): {body}; create it (1.x: CREATE \
         DATABASE …) or fix the sink's database/bucket"
    )]
    NoDatabase {
        status: StatusCode,
        path: String,
        body: String,
    },
    #[error("InfluxDB answered {status}: {body}")]
    Status { status: StatusCode, body: String },
}

/// reqwest's error without the URL it names (the query may carry a retention policy, never a secret, but the
/// host is named separately anyway): the kind of failure, then reqwest's causes as the sources.
#[derive(Debug)]
pub struct RequestFailure(reqwest::Error);

impl std::fmt::Display for RequestFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(if self.0.is_timeout() {
            "timed out"
        } else if self.0.is_connect() {
            "connection refused or unreachable"
        } else {
            "request failed"
        })
    }
}

impl std::error::Error for RequestFailure {
    /// reqwest's own cause: its message, which names the URL, is skipped.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

pub struct InfluxSink {
    client: reqwest::Client,
    write_url: url::Url,
    measurement: String,
    credentials: InfluxCredentials,
}

impl InfluxSink {
    pub fn new(settings: &InfluxSettings, credentials: InfluxCredentials) -> Result<Self, HttpClientError> {
        let client = http_client(settings.timeout)?;
        Ok(Self {
            client,
            write_url: write_url(&settings.endpoint, &settings.api),
            measurement: settings.measurement.clone(),
            credentials,
        })
    }

    pub async fn deliver(&self, batch: &[Accepted]) -> Result<(), SinkError> {
        let mut body = String::with_capacity(batch.len() * 200);
        for accepted in batch {
            if let Decoded::Uplink(record) = &accepted.decoded {
                write_line(&mut body, &self.measurement, record);
            }
        }
        if body.is_empty() {
            return Ok(());
        }
        let mut request = self
            .client
            .post(self.write_url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(body);
        if let Some(token) = &self.credentials.token {
            request = request.header(
                reqwest::header::AUTHORIZATION,
                format!("Token {}", token.expose()),
            );
        } else if let Some(username) = &self.credentials.username {
            request = request.basic_auth(username, self.credentials.password.as_ref().map(Secret::expose));
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    return Ok(());
                }
                let text = response.text().await.unwrap_or_default();
                Err(classify(status, text.trim(), self.write_url.path()))
            }
            // Timeouts and connection failures: the server may be restarting.
            Err(error) => Err(SinkError::retry(no_answer(&self.write_url, error))),
        }
    }
}

/// The healthcheck `semaphore check` runs: InfluxDB's `/ping` (1.x and 2.x) answers 204. No side effects.
pub async fn ping(settings: &InfluxSettings) -> Result<(), InfluxError> {
    let client = http_client(settings.timeout)?;
    let mut url = settings.endpoint.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}/ping"));
    match client.get(url).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(InfluxError::Ping {
            host: host(&settings.endpoint),
            status: response.status(),
        }),
        Err(error) => Err(no_answer(&settings.endpoint, error)),
    }
}

fn no_answer(url: &url::Url, error: reqwest::Error) -> InfluxError {
    InfluxError::NoAnswer {
        host: host(url),
        source: RequestFailure(error),
    }
}

/// One match for every answer that is not a success.
fn classify(status: StatusCode, body: &str, path: &str) -> SinkError {
    let body = body.to_owned();
    match status.as_u16() {
        // Refused points: retrying the same lines cannot succeed.
        400 => SinkError::reject(InfluxError::Refused { body }),
        // Too large: the same batch will be too large again.
        413 => SinkError::reject(InfluxError::TooLarge { body }),
        401 | 403 => SinkError::retry(InfluxError::Credentials { status, body }),
        404 => SinkError::retry(InfluxError::NoDatabase {
            status,
            path: path.to_owned(),
            body,
        }),
        // 429, 5xx and anything unexpected: the server's state, not the records'.
        _ => SinkError::retry(InfluxError::Status { status, body }),
    }
}

fn write_url(endpoint: &url::Url, api: &InfluxApi) -> url::Url {
    let mut url = endpoint.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    match api {
        InfluxApi::V1 {
            database,
            retention_policy,
        } => {
            url.set_path(&format!("{base}/write"));
            let mut query = url.query_pairs_mut();
            query.append_pair("db", database).append_pair("precision", "s");
            if let Some(policy) = retention_policy {
                query.append_pair("rp", policy);
            }
        }
        InfluxApi::V2 { org, bucket } => {
            url.set_path(&format!("{base}/api/v2/write"));
            url.query_pairs_mut()
                .append_pair("org", org)
                .append_pair("bucket", bucket)
                .append_pair("precision", "s");
        }
    }
    url
}

fn host(url: &url::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or("?"),
        url.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_urls_for_both_versions() {
        let endpoint: url::Url = "http://127.0.0.1:8086".parse().unwrap();
        let v1 = write_url(
            &endpoint,
            &InfluxApi::V1 {
                database: "meraki".into(),
                retention_policy: Some("week".into()),
            },
        );
        assert_eq!(
            v1.as_str(),
            "http://127.0.0.1:8086/write?db=meraki&precision=s&rp=week"
        );
        let v2 = write_url(
            &"http://influx:8086/base/".parse().unwrap(),
            &InfluxApi::V2 {
                org: "noc team".into(),
                bucket: "meraki".into(),
            },
        );
        assert_eq!(
            v2.as_str(),
            "http://influx:8086/base/api/v2/write?org=noc+team&bucket=meraki&precision=s"
        );
    }

    #[test]
    fn classification() {
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, "x", "/write"),
            SinkError::Reject(_)
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, "", "/write"),
            SinkError::Retry(_)
        ));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, "", "/write"),
            SinkError::Retry(_)
        ));
        let SinkError::Retry(reason) = classify(StatusCode::NOT_FOUND, "database not found: \"x\"", "/write")
        else {
            panic!("404 is retried")
        };
        let reason = reason.to_string();
        assert!(reason.contains("CREATE DATABASE"), "{reason}");
    }
}
