//! The webhook sink: records POSTed as JSON to a URL, with headers and a bearer token from the config (the
//! token's value from the environment variable the config names).
//!
//! Body: with `batch_size = 1` (the default) each record is POSTed on its own, as the JSON object it is in
//! Kafka: Event-Driven Ansible's `ansible.eda.webhook` source turns each POST into one event whose
//! `payload` is that object (`event.payload.lossPercent`). With a larger `batch_size`, one POST carries
//! `{"records": [ … ]}`.
//!
//! A POST that fails (connection, timeout, any non-2xx answer) is retried with backoff up to
//! `max_attempts`; what still fails goes to the dead-letter topic with the last answer as the reason.

mod config;

pub use config::{WebhookSinkFile, WebhookTarget, validate_target};

use std::collections::BTreeMap;
use std::time::Duration;

use semaphore_meraki::Backoff;

use crate::secret::Secret;
use crate::sinks::sink::{Accepted, HttpClientError, SinkError, http_client};

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    pub url: url::Url,
    pub headers: BTreeMap<String, String>,
    /// The environment variable holding the bearer token, if any.
    pub token_env: Option<String>,
    pub max_attempts: u32,
    pub timeout: Duration,
}

/// Why one POST failed. Only the kind of a failure that got no answer: reqwest's message names the URL,
/// whose query may carry a secret.
#[derive(Debug, thiserror::Error)]
pub enum PostFailure {
    #[error("timed out")]
    TimedOut,
    #[error("cannot connect")]
    Connect,
    #[error("request failed")]
    Request,
    /// The answer's first 200 characters.
    #[error("answered {status}: {body}")]
    Status {
        status: reqwest::StatusCode,
        body: String,
    },
}

/// A body every attempt failed to POST; the source is the last failure. The message says it too, after
/// "last:", so that a log line with the message alone is complete.
#[derive(Debug, thiserror::Error)]
#[error("webhook {url} failed {attempts} times, last: {last}")]
pub struct WebhookError {
    pub url: String,
    pub attempts: u32,
    #[source]
    pub last: PostFailure,
}

pub struct WebhookSink {
    client: reqwest::Client,
    settings: WebhookSettings,
    token: Option<Secret>,
}

impl WebhookSink {
    pub fn new(settings: WebhookSettings, token: Option<Secret>) -> Result<Self, HttpClientError> {
        let client = http_client(settings.timeout)?;
        Ok(Self {
            client,
            settings,
            token,
        })
    }

    /// POSTs the batch as one body (see the module's documentation for its shape).
    pub async fn deliver(&self, batch: &[Accepted]) -> Result<(), SinkError> {
        if batch.is_empty() {
            return Ok(());
        }
        let payloads: Vec<&[u8]> = batch
            .iter()
            .map(|accepted| accepted.message.payload.as_slice())
            .collect();
        self.post(&body(&payloads)).await.map_err(SinkError::reject)
    }

    /// POSTs `body`, retrying up to `max_attempts`; the error is the last failure, for the dead-letter topic.
    pub async fn post(&self, body: &[u8]) -> Result<(), WebhookError> {
        // Validation makes max_attempts at least 1; a request that was never sent counts as failed.
        let mut last_failure = PostFailure::Request;
        for attempt in 1..=self.settings.max_attempts {
            match self.post_once(body).await {
                Ok(()) => return Ok(()),
                Err(failure) => {
                    tracing::warn!(url = %self.settings.url, attempt, max_attempts = self.settings.max_attempts, error = %failure, "Webhook POST failed.");
                    last_failure = failure;
                }
            }
            if attempt < self.settings.max_attempts {
                tokio::time::sleep(POST_RETRY.delay(attempt)).await;
            }
        }
        Err(WebhookError {
            url: self.settings.url.to_string(),
            attempts: self.settings.max_attempts,
            last: last_failure,
        })
    }

    async fn post_once(&self, body: &[u8]) -> Result<(), PostFailure> {
        let mut request = self
            .client
            .post(self.settings.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (name, value) in &self.settings.headers {
            request = request.header(name, value);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        let response = request.send().await.map_err(|error| {
            if error.is_timeout() {
                PostFailure::TimedOut
            } else if error.is_connect() {
                PostFailure::Connect
            } else {
                PostFailure::Request
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let body: String = text.trim().chars().take(200).collect();
        Err(PostFailure::Status { status, body })
    }
}

/// One record: itself; several: `{"records": [...]}`. The payloads are JSON already (decoded before).
pub fn body(payloads: &[&[u8]]) -> Vec<u8> {
    if let [single] = payloads {
        return single.to_vec();
    }
    let mut body = b"{\"records\":[".to_vec();
    for (index, payload) in payloads.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend_from_slice(payload);
    }
    body.extend_from_slice(b"]}");
    body
}

/// Between two POSTs of the same body: 0.5 s, 1 s, 2 s … capped at 10 s.
const POST_RETRY: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_is_itself_several_are_wrapped() {
        assert_eq!(body(&[br#"{"a":1}"#]), br#"{"a":1}"#);
        let wrapped = body(&[br#"{"a":1}"#, br#"{"a":2}"#]);
        let value: serde_json::Value = serde_json::from_slice(&wrapped).unwrap();
        assert_eq!(value, serde_json::json!({"records": [{"a": 1}, {"a": 2}]}));
    }

    /// Issue 10: the last failure is the source; the reason a dead-lettered record carries says it once.
    #[test]
    fn the_last_failure_is_said_once() {
        let error = WebhookError {
            url: "http://eda.example:5000/endpoint".into(),
            attempts: 2,
            last: PostFailure::Status {
                status: reqwest::StatusCode::INTERNAL_SERVER_ERROR,
                body: "boom".into(),
            },
        };
        let expected = "webhook http://eda.example:5000/endpoint failed 2 times, last: answered 500 Internal Server Error: boom";
        assert_eq!(crate::error_text::one_line(&error), expected);
        // As the runner sees it: the sink's error inside `SinkError`, its chain intact.
        let SinkError::Reject(rejected) = SinkError::reject(error) else {
            panic!("rejected")
        };
        assert!(std::error::Error::source(&*rejected).is_some());
        assert_eq!(crate::error_text::one_line(&*rejected), expected);
    }

    #[test]
    fn post_retry_is_half_a_second_doubling_to_ten() {
        assert_eq!(POST_RETRY.delay(1), Duration::from_millis(500));
        assert_eq!(POST_RETRY.delay(2), Duration::from_secs(1));
        assert_eq!(POST_RETRY.delay(5), Duration::from_secs(8));
        assert_eq!(POST_RETRY.delay(6), Duration::from_secs(10));
        assert_eq!(POST_RETRY.delay(9), Duration::from_secs(10));
    }
}
