//! The Dashboard API client: one request loop shared by every operation.
//!
//! Each call spends the organization's rate budget, sends the key as `Authorization: Bearer`, follows Meraki's
//! redirects by hand (reqwest would drop the header, and must never carry it to a foreign host), retries what
//! is worth retrying and turns every other answer into a typed [`MerakiError`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, LOCATION, RETRY_AFTER, USER_AGENT};
use serde::de::DeserializeOwned;
use tracing::debug;
use url::Url;

use crate::api_key::ApiKey;
use crate::backoff::{RetryPolicy, parse_retry_after};
use crate::base_url::BaseUrl;
use crate::budget::RateBudget;
use crate::error::MerakiError;
use crate::error::one_line;
use crate::link;
use crate::metrics::ClientMetrics;
use crate::model::ErrorBody;
use crate::query::{QueryPairs, RuleViolation};

/// Meraki asks integrators to identify themselves as `ApplicationName/Version VendorName`.
const USER_AGENT_VALUE: &str = concat!("semaphore/", env!("CARGO_PKG_VERSION"), " semaphore");
/// Redirect hops followed for one request; Meraki sends one (api → shard host).
const MAX_REDIRECTS: usize = 5;
/// Per-request time limit by default: long enough for a 1000-item page from a slow shard.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an unreadable body is quoted in an error.
const BODY_EXCERPT: usize = 120;

/// A cheap-to-clone handle; clones share the connection pool, the rate budget and the metrics.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base_url: BaseUrl,
    api_key: ApiKey,
    budget: Arc<RateBudget>,
    retry: RetryPolicy,
    timeout: Duration,
    metrics: Arc<ClientMetrics>,
    /// Which organization a network id or serial belongs to, learned from responses, so calls on
    /// `/networks/...` and `/devices/...` are charged to the right budget. A std Mutex: held only for a map
    /// lookup or insert, never across an await.
    organization_of: Mutex<HashMap<String, String>>,
}

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    api_key: ApiKey,
    base_url: BaseUrl,
    budget: Option<Arc<RateBudget>>,
    retry: RetryPolicy,
    timeout: Duration,
}

impl ClientBuilder {
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key,
            base_url: BaseUrl::default(),
            budget: None,
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn base_url(mut self, base_url: BaseUrl) -> Self {
        self.base_url = base_url;
        self
    }

    /// Shares an existing budget (for instance between two clients of the same process).
    pub fn budget(mut self, budget: Arc<RateBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Time limit of one HTTP request (not of a whole paginated call).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn build(self) -> Result<Client, MerakiError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .timeout(self.timeout)
            .build()
            .map_err(|error| MerakiError::InvalidBaseUrl {
                value: self.base_url.to_string(),
                reason: format!("cannot build the HTTP client: {error}"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: self.base_url,
                api_key: self.api_key,
                budget: self.budget.unwrap_or_default(),
                retry: self.retry,
                timeout: self.timeout,
                metrics: Arc::default(),
                organization_of: Mutex::default(),
            }),
        })
    }
}

/// What one attempt ended with, when it did not succeed.
enum Failure {
    /// Worth another attempt, after the server's `Retry-After` if it gave one, else after the backoff.
    Retry {
        cause: RetryCause,
        retry_after: Option<Duration>,
    },
    /// Final: retrying cannot help.
    Fatal(MerakiError),
}

enum RetryCause {
    RateLimited,
    Server(u16),
    Timeout,
    Connection(String),
    InvalidResponse(String),
}

impl RetryCause {
    fn into_error(self, url: &Url, attempts: u32, timeout: Duration) -> MerakiError {
        let url = url.to_string();
        match self {
            RetryCause::RateLimited => MerakiError::RateLimited { url, attempts },
            RetryCause::Server(status) => MerakiError::Server {
                url,
                status,
                attempts,
            },
            RetryCause::Timeout => MerakiError::Timeout {
                url,
                timeout,
                attempts,
            },
            RetryCause::Connection(reason) => MerakiError::Connection {
                url,
                attempts,
                reason,
            },
            RetryCause::InvalidResponse(reason) => MerakiError::InvalidResponse {
                url,
                attempts,
                reason,
            },
        }
    }
}

impl Client {
    /// A client for the API key in `MERAKI_DASHBOARD_API_KEY` of the given lookup, with defaults.
    pub fn builder(api_key: ApiKey) -> ClientBuilder {
        ClientBuilder::new(api_key)
    }

    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.base_url
    }

    pub fn metrics(&self) -> &ClientMetrics {
        &self.inner.metrics
    }

    /// Records that `id` (a network id or serial) belongs to `organization_id`.
    pub(crate) fn remember_organization(&self, id: &str, organization_id: &str) {
        let mut map = self
            .inner
            .organization_of
            .lock()
            .expect("organization map lock is never poisoned");
        if map.get(id).is_none_or(|known| known != organization_id) {
            map.insert(id.to_owned(), organization_id.to_owned());
        }
    }

    pub(crate) fn organization_of(&self, id: &str) -> Option<String> {
        self.inner
            .organization_of
            .lock()
            .expect("organization map lock is never poisoned")
            .get(id)
            .cloned()
    }

    pub(crate) fn endpoint(&self, segments: &[&str], pairs: &QueryPairs) -> Url {
        let mut url = self.inner.base_url.endpoint(segments);
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        url
    }

    pub(crate) fn invalid(operation: &'static str, violation: RuleViolation) -> MerakiError {
        MerakiError::InvalidParameter {
            operation,
            parameter: violation.parameter,
            reason: violation.reason,
        }
    }

    /// Counts a failure that never reached the wire (a parameter refused before sending).
    pub(crate) fn refused(&self, error: MerakiError) -> MerakiError {
        self.inner.metrics.error(error.kind());
        error
    }

    /// One non-paginated GET, retried as the policy allows.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
        organization_id: Option<&str>,
    ) -> Result<T, MerakiError> {
        self.get_page(operation, url, organization_id, json)
            .await
            .map(|(body, _next)| body)
    }

    /// One non-paginated GET whose body is kept as sent (the caller reads it), retried as the policy allows.
    pub(crate) async fn get_bytes(
        &self,
        operation: &'static str,
        url: Url,
        organization_id: Option<&str>,
    ) -> Result<Bytes, MerakiError> {
        self.get_page(operation, url, organization_id, json_text)
            .await
            .map(|(body, _next)| body)
    }

    /// Every item of a paginated GET, following `Link: rel=next` until it is absent or `max_items` is reached.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        first: Url,
        organization_id: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<Vec<T>, MerakiError> {
        let mut items = Vec::new();
        let mut visited = HashSet::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            if !visited.insert(url.to_string()) {
                let error = MerakiError::InvalidResponse {
                    url: url.to_string(),
                    attempts: 1,
                    reason: "the Link header points back to a page already read (pagination loop)".into(),
                };
                return Err(self.refused(error));
            }
            let (page, link): (Vec<T>, Option<Url>) =
                self.get_page(operation, url, organization_id, json).await?;
            self.inner.metrics.page();
            items.extend(page);
            if let Some(max_items) = max_items.filter(|max_items| items.len() >= *max_items) {
                items.truncate(max_items);
                break;
            }
            next = link;
        }
        Ok(items)
    }

    async fn get_page<T>(
        &self,
        operation: &'static str,
        url: Url,
        organization_id: Option<&str>,
        decode: Decode<T>,
    ) -> Result<(T, Option<Url>), MerakiError> {
        let retry = &self.inner.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(&url, organization_id, decode).await {
                Ok(page) => return Ok(page),
                Err(Failure::Fatal(error)) => {
                    self.inner.metrics.error(error.kind());
                    return Err(error);
                }
                Err(Failure::Retry { retry_after, .. }) if attempt < retry.max_attempts => {
                    let wait = retry.wait(retry_after, attempt);
                    self.inner.metrics.retry();
                    debug!(
                        operation,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "Retrying a Meraki call."
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(Failure::Retry { cause, .. }) => {
                    let error = cause.into_error(&url, attempt, self.inner.timeout);
                    self.inner.metrics.error(error.kind());
                    return Err(error);
                }
            }
        }
    }

    /// One attempt: the request and the redirects it leads to.
    async fn attempt<T>(
        &self,
        url: &Url,
        organization_id: Option<&str>,
        decode: Decode<T>,
    ) -> Result<(T, Option<Url>), Failure> {
        let inner = &self.inner;
        let mut current = url.clone();
        for _hop in 0..=MAX_REDIRECTS {
            inner.budget.acquire(organization_id).await;
            inner.metrics.request();
            let sent = inner
                .http
                .get(current.clone())
                .bearer_auth(inner.api_key.expose())
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, USER_AGENT_VALUE)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                // Timeouts and connection failures are transient from here: retry them.
                Err(error) if error.is_timeout() => {
                    return Err(Failure::Retry {
                        cause: RetryCause::Timeout,
                        retry_after: None,
                    });
                }
                Err(error) => {
                    let reason = one_line(&error.without_url());
                    return Err(Failure::Retry {
                        cause: RetryCause::Connection(reason),
                        retry_after: None,
                    });
                }
            };
            let status = response.status();
            if status.is_redirection() {
                current = self.redirect_target(&current, &response)?;
                inner.metrics.redirect();
                continue;
            }
            return self.classify(current, status, response, decode).await;
        }
        Err(Failure::Fatal(MerakiError::Redirect {
            url: url.to_string(),
            location: current.to_string(),
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        }))
    }

    /// Where a 3xx points, if the key may follow it there.
    fn redirect_target(&self, current: &Url, response: &reqwest::Response) -> Result<Url, Failure> {
        let fatal = |location: &str, reason: &str| {
            Failure::Fatal(MerakiError::Redirect {
                url: current.to_string(),
                location: location.to_owned(),
                reason: reason.to_owned(),
            })
        };
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok());
        let Some(location) = location else {
            return Err(fatal("(none)", "the redirect has no Location header"));
        };
        let target = current
            .join(location)
            .map_err(|_| fatal(location, "the Location is not a URL"))?;
        if !self.inner.base_url.trusts(&target) {
            let reason = format!(
                "it is not a host of the configured base URL {}, and the API key is never sent elsewhere",
                self.inner.base_url
            );
            return Err(fatal(target.as_str(), &reason));
        }
        Ok(target)
    }

    /// Turns a non-redirect answer into a page, a retry or a final error.
    async fn classify<T>(
        &self,
        url: Url,
        status: StatusCode,
        response: reqwest::Response,
        decode: Decode<T>,
    ) -> Result<(T, Option<Url>), Failure> {
        let url_text = url.to_string();
        match status.as_u16() {
            200..=299 => {
                let next = response
                    .headers()
                    .get(reqwest::header::LINK)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|header| link::find_rel(header, "next"))
                    .map(|target| {
                        self.inner.base_url.resolve_link(&url, target).ok_or_else(|| {
                            Failure::Fatal(MerakiError::InvalidResponse {
                                url: url_text.clone(),
                                attempts: 1,
                                reason: format!("the next-page link {target:?} is not a URL"),
                            })
                        })
                    })
                    .transpose()?;
                if let Some(next) = &next
                    && !self.inner.base_url.trusts(next)
                {
                    return Err(Failure::Fatal(MerakiError::InvalidResponse {
                        url: url_text,
                        attempts: 1,
                        reason: format!("the next-page link points to a foreign host ({next}); not followed"),
                    }));
                }
                // A body cut short or not the JSON we expect is most often a proxy or connection glitch: retry.
                let bytes = response.bytes().await.map_err(|error| Failure::Retry {
                    cause: RetryCause::InvalidResponse(format!(
                        "the body was cut short: {}",
                        one_line(&error)
                    )),
                    retry_after: None,
                })?;
                let began = excerpt(&bytes);
                let body = decode(bytes).map_err(|error| Failure::Retry {
                    cause: RetryCause::InvalidResponse(format!(
                        "not the expected JSON ({error}); it began {began:?}"
                    )),
                    retry_after: None,
                })?;
                Ok((body, next))
            }
            // Meraki's rate limiter: wait as long as it asks, then try again.
            429 => {
                self.inner.metrics.rate_limited();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok());
                Err(Failure::Retry {
                    cause: RetryCause::RateLimited,
                    retry_after: parse_retry_after(retry_after),
                })
            }
            // The service failing: retry with backoff, as Meraki's errors page recommends.
            500..=599 => Err(Failure::Retry {
                cause: RetryCause::Server(status.as_u16()),
                retry_after: None,
            }),
            // Everything else is final: repeating the same request gets the same answer.
            400 => Err(Failure::Fatal(MerakiError::BadRequest {
                url: url_text,
                message: error_message(response).await,
            })),
            401 => Err(Failure::Fatal(MerakiError::Unauthorized { url: url_text })),
            403 => Err(Failure::Fatal(MerakiError::Forbidden {
                url: url_text,
                message: error_message(response).await,
            })),
            404 => Err(Failure::Fatal(MerakiError::NotFound { url: url_text })),
            _ => Err(Failure::Fatal(MerakiError::UnexpectedStatus {
                url: url_text,
                status: status.as_u16(),
                message: error_message(response).await,
            })),
        }
    }
}

/// How a successful answer's body becomes what the operation returns; a failure is retried (a body cut
/// short or replaced by a proxy's page is most often a glitch).
type Decode<T> = fn(Bytes) -> Result<T, serde_json::Error>;

/// The body as JSON of the operation's type.
fn json<T: DeserializeOwned>(bytes: Bytes) -> Result<T, serde_json::Error> {
    serde_json::from_slice(&bytes)
}

/// The body kept as sent, once checked to be JSON (nothing is built from it: `IgnoredAny` only reads), so a
/// body cut short is retried like any other.
fn json_text(bytes: Bytes) -> Result<Bytes, serde_json::Error> {
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)?;
    Ok(bytes)
}

/// Meraki's `{"errors": [...]}` joined, or an excerpt of whatever else came back.
async fn error_message(response: reqwest::Response) -> String {
    let bytes = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) if !body.errors.is_empty() => body.errors.join("; "),
        _ if bytes.is_empty() => "no details given".to_owned(),
        _ => excerpt(&bytes),
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut cut: String = text.chars().take(BODY_EXCERPT).collect();
    if text.chars().count() > BODY_EXCERPT {
        cut.push('…');
    }
    cut
}
