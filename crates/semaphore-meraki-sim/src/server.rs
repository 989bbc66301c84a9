//! The HTTP server: the API under `/api/v1` (and under `/shard-1/api/v1`, where redirects lead, as Meraki's
//! `api.meraki.com` sends clients to a shard host), a gate in front of it that applies auth, the rate limit and
//! faults in Meraki's order, and the `/_sim` admin endpoints.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::api_error::ApiError;
use crate::estate::{Estate, EstateShape};
use crate::faults::{Faults, Roll};
use crate::handlers;
use crate::rate_limit::RateLimiter;
use crate::series::Series;
use crate::stats::Stats;

/// The path prefix redirects lead to.
pub const SHARD_PREFIX: &str = "/shard-1";
/// Meraki's per-source-IP ceiling, requests per second.
const PER_IP_RATE: u32 = 100;

/// Everything the simulator is started with.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub shape: EstateShape,
    /// Requests per second per organization (burst of the same size); 0 turns the limit off. Meraki: 10.
    pub rate_limit: u32,
    /// The only accepted API key; any non-empty key when `None`.
    pub api_key: Option<String>,
    pub faults: Faults,
    /// Page links as absolute URLs (as Meraki's docs show) instead of paths relative to the API base.
    pub absolute_links: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            shape: EstateShape::default(),
            rate_limit: 10,
            api_key: None,
            faults: Faults::default(),
            absolute_links: false,
        }
    }
}

/// The simulator's shared state.
#[derive(Debug)]
pub struct Simulator {
    pub estate: Estate,
    pub series: Series,
    pub stats: Stats,
    pub absolute_links: bool,
    api_key: Option<String>,
    organization_limiter: RateLimiter,
    ip_limiter: RateLimiter,
    /// A std Mutex: read or changed in a few instructions, never held across an await.
    faults: Mutex<Faults>,
    sequence: AtomicU64,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        let seed = config.shape.seed;
        Self {
            estate: Estate::generate(config.shape),
            series: Series::new(seed),
            stats: Stats::default(),
            absolute_links: config.absolute_links,
            api_key: config.api_key,
            organization_limiter: RateLimiter::new(config.rate_limit),
            ip_limiter: RateLimiter::new(if config.rate_limit == 0 { 0 } else { PER_IP_RATE }),
            faults: Mutex::new(config.faults),
            sequence: AtomicU64::new(0),
        }
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().expect("faults lock is never poisoned").clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().expect("faults lock is never poisoned") = faults;
    }

    /// Takes one request of a storm, if one is raging.
    fn storm_hit(&self) -> bool {
        let mut faults = self.faults.lock().expect("faults lock is never poisoned");
        if faults.storm > 0 {
            faults.storm -= 1;
            true
        } else {
            false
        }
    }

    fn seed(&self) -> u64 {
        self.estate.shape.seed
    }
}

/// The whole application: API, shard alias and admin endpoints.
pub fn router(simulator: Arc<Simulator>) -> Router {
    let api = handlers::routes()
        .route_layer(middleware::from_fn_with_state(simulator.clone(), gate))
        .with_state(simulator.clone());
    Router::new()
        .nest("/api/v1", api.clone())
        .nest(&format!("{SHARD_PREFIX}/api/v1"), api)
        .route("/_sim/faults", get(get_faults).put(put_faults))
        .route("/_sim/stats", get(get_stats))
        .with_state(simulator)
}

/// Meraki's checks before an operation runs, in order: (faults: latency, redirects), auth, rate limit,
/// (faults: server errors); and after it, body faults.
async fn gate(State(simulator): State<Arc<Simulator>>, request: Request, next: Next) -> Response {
    let sequence = simulator.sequence.fetch_add(1, Ordering::Relaxed);
    let original = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |uri| uri.0.clone());
    let api_path = request.uri().path().to_owned();
    let (operation, organization_id) = classify(&simulator.estate, &api_path);
    simulator.stats.request(&operation);
    let faults = simulator.faults();
    let seed = simulator.seed();
    let response = async {
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        let path_and_query = original.path_and_query().map_or("/", |value| value.as_str());
        if let Some(foreign) = &faults.redirect_to {
            let tail = path_and_query.strip_prefix(SHARD_PREFIX).unwrap_or(path_and_query);
            let tail = tail.strip_prefix("/api/v1").unwrap_or(tail);
            return redirect(&format!("{foreign}{tail}"));
        }
        let roll = faults.roll_before(seed, sequence);
        if roll == Some(Roll::Redirect) && !path_and_query.starts_with(SHARD_PREFIX) {
            let origin = origin(request.headers());
            return redirect(&format!("{origin}{SHARD_PREFIX}{path_and_query}"));
        }
        if let Err(error) = authenticate(&simulator, request.headers()) {
            return error.into_response();
        }
        if simulator.storm_hit() {
            return ApiError::rate_limited(1).into_response();
        }
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
        if let Err(seconds) = simulator.ip_limiter.take(&peer) {
            return ApiError { message: "API rate limit exceeded for IP address".into(), ..ApiError::rate_limited(seconds) }
                .into_response();
        }
        if let Some(organization_id) = &organization_id
            && let Err(seconds) = simulator.organization_limiter.take(organization_id)
        {
            return ApiError::rate_limited(seconds).into_response();
        }
        if let Some(Roll::ServerError(status)) = roll {
            let status = StatusCode::from_u16(status).expect("fault statuses are valid");
            return ApiError::new(status, "Something went wrong on our end (simulated)").into_response();
        }
        let response = next.run(request).await;
        if response.status() != StatusCode::OK {
            return response;
        }
        match faults.roll_after(seed, sequence) {
            Some(Roll::Truncate) => truncate(response).await,
            Some(Roll::Malformed) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response(),
            _ => response,
        }
    }
    .await;
    simulator.stats.answered(response.status().as_u16());
    response
}

fn authenticate(simulator: &Simulator, headers: &HeaderMap) -> Result<(), ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let legacy = headers
        .get("X-Cisco-Meraki-API-Key")
        .and_then(|value| value.to_str().ok());
    let presented = bearer.or(legacy).map(str::trim).filter(|key| !key.is_empty());
    match (presented, &simulator.api_key) {
        (None, _) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "Missing API key")),
        (Some(key), Some(expected)) if key != expected => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "Invalid API key"))
        }
        _ => Ok(()),
    }
}

/// The operation's path template and the organization charged for it.
fn classify(estate: &Estate, api_path: &str) -> (String, Option<String>) {
    let segments: Vec<&str> = api_path.trim_matches('/').split('/').collect();
    let (template, organization_id) = match segments.as_slice() {
        ["organizations"] => ("/organizations".to_owned(), None),
        ["organizations", id, rest @ ..] => (
            format!("/organizations/{{organizationId}}/{}", rest.join("/")),
            Some(id.to_string()),
        ),
        ["networks", id, rest @ ..] => (
            format!("/networks/{{networkId}}/{}", rest.join("/")),
            estate.organization_of(id).map(str::to_owned),
        ),
        ["devices", serial, rest @ ..] => (
            format!("/devices/{{serial}}/{}", rest.join("/")),
            estate.organization_of(serial).map(str::to_owned),
        ),
        _ => (api_path.to_owned(), None),
    };
    (format!("GET {template}"), organization_id)
}

/// `http://HOST` of the request, from its Host header.
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, value)]).into_response(),
        Err(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect target").into_response(),
    }
}

async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let cut = bytes.slice(0..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

async fn get_faults(State(simulator): State<Arc<Simulator>>) -> Json<Faults> {
    Json(simulator.faults())
}

async fn put_faults(State(simulator): State<Arc<Simulator>>, Json(faults): Json<Faults>) -> Json<Faults> {
    simulator.set_faults(faults);
    Json(simulator.faults())
}

async fn get_stats(State(simulator): State<Arc<Simulator>>) -> impl IntoResponse {
    Json(simulator.stats.snapshot())
}
