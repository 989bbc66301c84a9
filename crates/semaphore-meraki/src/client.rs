//! The Dashboard API client: one request loop shared by every operation.
//!
//! Each call spends the organization's rate budget, sends the key as `Authorization: Bearer`, follows Meraki's
//! redirects by hand (reqwest would drop the header, and must never carry it to a foreign host), retries what
//! is worth retrying and turns every other answer into a typed [`MerakiError`].

use std::collections::HashSet;
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
use crate::organization_index::OrganizationIndex;
use crate::query::{QueryPairs, RuleViolation};

/// Meraki asks integrators to identify themselves as `ApplicationName/Version VendorName`.
const USER_AGENT_VALUE: &str = concat!("semaphore/", env!("CARGO_PKG_VERSION"), " semaphore");
/// Redirect hops followed for one request; Meraki sends one (api → shard host).
const MAX_REDIRECTS: usize = 5;
/// Per-request time limit by default: long enough for a 1000-item page from a slow shard.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The limit of a request whose body is read as the outputs take it (see [`Client::get_streamed`]): only a
/// bound against a server that trickles forever; each piece has the client's own limit.
const STREAMED_LIMIT: Duration = Duration::from_secs(3600);
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
    /// Which organization a network id or serial belongs to. A std Mutex: held only for a lookup or an insert,
    /// never across an await.
    organization_of: Mutex<OrganizationIndex>,
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

/// How an attempt's body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    /// Whole, within the client's time limit for the request.
    Whole,
    /// By the caller, piece by piece (see [`Client::get_streamed`]).
    Streamed,
}

/// A 2xx answer, its body not read yet, and the page after it when Meraki links one.
struct Answer {
    response: reqwest::Response,
    next: Option<Url>,
}

impl Answer {
    /// Reads the whole body and decodes it; a body cut short or not the JSON we expect is most often a proxy
    /// or connection glitch, so it is retried.
    async fn decode<T>(self, decode: Decode<T>) -> Result<(T, Option<Url>), Failure> {
        let bytes = self.response.bytes().await.map_err(|error| Failure::Retry {
            cause: RetryCause::InvalidResponse(format!("the body was cut short: {}", one_line(&error))),
            retry_after: None,
        })?;
        let began = excerpt(&bytes);
        let body = decode(bytes).map_err(|error| Failure::Retry {
            cause: RetryCause::InvalidResponse(format!(
                "not the expected JSON ({error}); it began {began:?}"
            )),
            retry_after: None,
        })?;
        Ok((body, self.next))
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
        self.organization_index().remember(id, organization_id);
    }

    pub(crate) fn organization_of(&self, id: &str) -> Option<String> {
        self.organization_index().get(id)
    }

    fn organization_index(&self) -> std::sync::MutexGuard<'_, OrganizationIndex> {
        self.inner
            .organization_of
            .lock()
            .expect("organization map lock is never poisoned")
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

    /// Every item of a paginated GET, following `Link: rel=next` until it is absent or `max_items` is reached.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        first: Url,
        organization_id: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<Vec<T>, MerakiError> {
        let mut items = Vec::new();
        self.for_each_page(operation, first, organization_id, max_items, |page| {
            items.extend(page)
        })
        .await?;
        Ok(items)
    }

    /// As [`Client::get_all`], each page handed to `each` as it is read, so a large listing is never held whole
    /// by the client.
    pub(crate) async fn for_each_page<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        first: Url,
        organization_id: Option<&str>,
        max_items: Option<usize>,
        mut each: impl FnMut(Vec<T>),
    ) -> Result<(), MerakiError> {
        let mut read = 0usize;
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
            let (mut page, link): (Vec<T>, Option<Url>) =
                self.get_page(operation, url, organization_id, json).await?;
            self.inner.metrics.page();
            let room = max_items.map_or(usize::MAX, |max_items| max_items.saturating_sub(read));
            page.truncate(room);
            read += page.len();
            each(page);
            if max_items.is_some_and(|max_items| read >= max_items) {
                break;
            }
            next = link;
        }
        Ok(())
    }

    async fn get_page<T>(
        &self,
        operation: &'static str,
        url: Url,
        organization_id: Option<&str>,
        decode: Decode<T>,
    ) -> Result<(T, Option<Url>), MerakiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match self.attempt(&url, organization_id, Body::Whole).await {
                Ok(answer) => answer.decode(decode).await,
                Err(failure) => Err(failure),
            };
            match outcome {
                Ok(page) => return Ok(page),
                Err(failure) => self.after(failure, operation, &url, attempt).await?,
            }
        }
    }

    /// One non-paginated GET retried as the policy allows until Meraki answers 2xx, its body left unread for
    /// the caller to read as it arrives ([`Body::Streamed`]).
    pub(crate) async fn get_streamed(
        &self,
        operation: &'static str,
        url: &Url,
        organization_id: Option<&str>,
    ) -> Result<reqwest::Response, MerakiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(url, organization_id, Body::Streamed).await {
                Ok(answer) => return Ok(answer.response),
                Err(failure) => self.after(failure, operation, url, attempt).await?,
            }
        }
    }

    /// After a failed attempt: waits before the next one when the policy allows it, else the final error.
    async fn after(
        &self,
        failure: Failure,
        operation: &'static str,
        url: &Url,
        attempt: u32,
    ) -> Result<(), MerakiError> {
        let retry = &self.inner.retry;
        match failure {
            Failure::Fatal(error) => {
                self.inner.metrics.error(error.kind());
                Err(error)
            }
            Failure::Retry { retry_after, .. } if attempt < retry.max_attempts => {
                let wait = retry.wait(retry_after, attempt);
                self.inner.metrics.retry();
                debug!(
                    operation,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "Retrying a Meraki call."
                );
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Failure::Retry { cause, .. } => {
                let error = cause.into_error(url, attempt, self.inner.timeout);
                self.inner.metrics.error(error.kind());
                Err(error)
            }
        }
    }

    /// The time limit of a body read as it arrives, between two of its pieces: the pieces are asked for at
    /// the pace the outputs accept records, so the request as a whole has no limit but [`STREAMED_LIMIT`].
    pub(crate) fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// One attempt: the request and the redirects it leads to, up to a 2xx answer whose body is not read yet.
    async fn attempt(&self, url: &Url, organization_id: Option<&str>, body: Body) -> Result<Answer, Failure> {
        let inner = &self.inner;
        let mut current = url.clone();
        for _hop in 0..=MAX_REDIRECTS {
            inner.budget.acquire(organization_id).await;
            inner.metrics.request();
            let mut request = inner
                .http
                .get(current.clone())
                .bearer_auth(inner.api_key.expose())
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, USER_AGENT_VALUE);
            if body == Body::Streamed {
                request = request.timeout(STREAMED_LIMIT);
            }
            // The client's limit covers a whole body; a streamed one is bounded here up to its headers.
            let sent = match tokio::time::timeout(inner.timeout, request.send()).await {
                Ok(sent) => sent,
                Err(_elapsed) => {
                    return Err(Failure::Retry {
                        cause: RetryCause::Timeout,
                        retry_after: None,
                    });
                }
            };
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
            return self.classify(current, status, response).await;
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

    /// Turns a non-redirect answer into a 2xx answer to read, a retry or a final error.
    async fn classify(
        &self,
        url: Url,
        status: StatusCode,
        response: reqwest::Response,
    ) -> Result<Answer, Failure> {
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
                Ok(Answer { response, next })
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
