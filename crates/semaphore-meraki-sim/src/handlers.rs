//! One handler per Meraki operation, each enforcing Meraki's parameter rules (shared with the client in
//! `semaphore_meraki::query`) and answering with the client's own model types.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};
use semaphore_meraki::model::{
    Device, LossAndLatencyInterval, LossAndLatencyPoint, Network, UplinkLossAndLatency, UplinkStatuses,
};
use semaphore_meraki::query::{
    self, CLIENTS_PER_PAGE, DEVICES_PER_PAGE, NETWORKS_PER_PAGE, ORG_UPLINKS_MIN_AGE, PerPageRange,
    TimeWindow, UPLINK_STATUSES_PER_PAGE, Uplink,
};
use serde::Serialize;

use crate::api_error::ApiError;
use crate::clients::network_clients;
use crate::estate::{Appliance, PROBE_DESTINATION, UPLINKS};
use crate::pagination::{PageRequest, SelfUrl, paginate};
use crate::server::{Simulator, origin};

type Sim = State<Arc<Simulator>>;
type Pairs = Query<Vec<(String, String)>>;

pub fn routes() -> Router<Arc<Simulator>> {
    Router::new()
        .route("/organizations", get(organizations))
        .route(
            "/organizations/{organization_id}/networks",
            get(organization_networks),
        )
        .route(
            "/organizations/{organization_id}/devices",
            get(organization_devices),
        )
        .route(
            "/organizations/{organization_id}/devices/uplinksLossAndLatency",
            get(uplinks_loss_and_latency),
        )
        .route(
            "/organizations/{organization_id}/appliance/uplink/statuses",
            get(appliance_uplink_statuses),
        )
        .route(
            "/organizations/{organization_id}/uplinks/statuses",
            get(uplinks_statuses),
        )
        .route("/networks/{network_id}/devices", get(network_devices))
        .route("/networks/{network_id}/clients", get(clients))
        .route("/devices/{serial}/managementInterface", get(management_interface))
        .route(
            "/devices/{serial}/lossAndLatencyHistory",
            get(loss_and_latency_history),
        )
}

/// The query string, read the way Meraki reads it.
struct Params(Vec<(String, String)>);

impl Params {
    fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `name[]=a&name[]=b` (the SDK's encoding), also accepting a plain repeated `name`.
    fn array(&self, name: &str) -> Vec<String> {
        let bracketed = format!("{name}[]");
        self.0
            .iter()
            .filter(|(key, _)| *key == bracketed || key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    fn time(&self, name: &'static str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.one(name)
            .map(|value| {
                query::parse_time(value).ok_or_else(|| {
                    ApiError::bad_request(format!("'{name}' must be an ISO 8601 time or epoch seconds"))
                })
            })
            .transpose()
    }

    fn seconds(&self, name: &'static str) -> Result<Option<Duration>, ApiError> {
        self.one(name)
            .map(|value| {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("'{name}' must be a positive number of seconds"))
                    })
            })
            .transpose()
    }

    fn integer(&self, name: &'static str) -> Result<Option<u32>, ApiError> {
        self.one(name)
            .map(|value| {
                value
                    .parse::<u32>()
                    .map_err(|_| ApiError::bad_request(format!("'{name}' must be an integer")))
            })
            .transpose()
    }

    fn window(&self) -> Result<TimeWindow, ApiError> {
        Ok(TimeWindow {
            t0: self.time("t0")?,
            t1: self.time("t1")?,
            timespan: self.seconds("timespan")?,
        })
    }

    fn uplink(&self) -> Result<Option<Uplink>, ApiError> {
        self.one("uplink")
            .map(|value| value.parse::<Uplink>().map_err(ApiError::from))
            .transpose()
    }

    fn page(&self, range: PerPageRange) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            per_page: range.check(self.integer("perPage")?)? as usize,
            starting_after: self.one("startingAfter").map(str::to_owned),
            ending_before: self.one("endingBefore").map(str::to_owned),
        })
    }
}

/// A JSON answer with a `Link` header.
fn paged<T: Serialize>(items: Vec<&T>, link: String) -> Response {
    let mut response = Json(items).into_response();
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// Where page links point: absolute URLs as Meraki's docs show them, or (the default) paths relative to the
/// API base as its spec's "relative links" and its SDK read them. The SDK prefixes the base URL to any link
/// whose host is not a Meraki domain, so absolute links to 127.0.0.1 would break it.
fn self_url(
    simulator: &Simulator,
    headers: &HeaderMap,
    uri: &OriginalUri,
    api_path: &Uri,
    pairs: Vec<(String, String)>,
) -> SelfUrl {
    if simulator.absolute_links {
        SelfUrl {
            origin: origin(headers),
            path: uri.0.path().to_owned(),
            pairs,
        }
    } else {
        SelfUrl {
            origin: String::new(),
            path: api_path.path().to_owned(),
            pairs,
        }
    }
}

async fn organizations(State(simulator): Sim) -> Response {
    Json(&simulator.estate.organizations).into_response()
}

fn require_organization(simulator: &Simulator, organization_id: &str) -> Result<(), ApiError> {
    simulator
        .estate
        .organization(organization_id)
        .map(|_| ())
        .ok_or_else(ApiError::not_found)
}

async fn organization_networks(
    State(simulator): Sim,
    Path(organization_id): Path<String>,
    Query(pairs): Pairs,
    headers: HeaderMap,
    uri: OriginalUri,
    api_path: Uri,
) -> Result<Response, ApiError> {
    require_organization(&simulator, &organization_id)?;
    let params = Params(pairs);
    let page = params.page(NETWORKS_PER_PAGE)?;
    let tags = params.array("tags");
    let networks: Vec<&Network> = simulator.estate.networks[&organization_id]
        .iter()
        .filter(|network| tags.is_empty() || network.tags.iter().any(|tag| tags.contains(tag)))
        .collect();
    let (items, link) = paginate(
        &networks,
        |network| &network.id,
        &page,
        &self_url(&simulator, &headers, &uri, &api_path, params.0),
    );
    Ok(paged(items, link))
}

async fn organization_devices(
    State(simulator): Sim,
    Path(organization_id): Path<String>,
    Query(pairs): Pairs,
    headers: HeaderMap,
    uri: OriginalUri,
    api_path: Uri,
) -> Result<Response, ApiError> {
    require_organization(&simulator, &organization_id)?;
    let params = Params(pairs);
    let page = params.page(DEVICES_PER_PAGE)?;
    let network_ids = params.array("networkIds");
    let product_types = params.array("productTypes");
    let models = params.array("models");
    let serials = params.array("serials");
    let tags = params.array("tags");
    let matches = |filter: &Vec<String>, value: Option<&String>| {
        filter.is_empty() || value.is_some_and(|value| filter.contains(value))
    };
    let devices: Vec<&Device> = simulator.estate.appliances[&organization_id]
        .iter()
        .map(|appliance| &appliance.device)
        .filter(|device| {
            matches(&network_ids, device.network_id.as_ref())
                && matches(&product_types, device.product_type.as_ref())
                && matches(&models, Some(&device.model))
                && matches(&serials, Some(&device.serial))
                && (tags.is_empty() || device.tags.iter().any(|tag| tags.contains(tag)))
        })
        .collect();
    let (items, link) = paginate(
        &devices,
        |device| &device.serial,
        &page,
        &self_url(&simulator, &headers, &uri, &api_path, params.0),
    );
    Ok(paged(items, link))
}

async fn network_devices(
    State(simulator): Sim,
    Path(network_id): Path<String>,
) -> Result<Response, ApiError> {
    let estate = &simulator.estate;
    let network = estate.network(&network_id).ok_or_else(ApiError::not_found)?;
    let devices: Vec<_> = estate
        .network_appliances(network)
        .into_iter()
        .map(|appliance| estate.network_device(appliance))
        .collect();
    Ok(Json(devices).into_response())
}

fn require_appliance<'a>(simulator: &'a Simulator, serial: &str) -> Result<&'a Appliance, ApiError> {
    simulator.estate.appliance(serial).ok_or_else(ApiError::not_found)
}

async fn management_interface(
    State(simulator): Sim,
    Path(serial): Path<String>,
) -> Result<Response, ApiError> {
    let appliance = require_appliance(&simulator, &serial)?;
    Ok(Json(simulator.estate.management_interface(appliance)).into_response())
}

async fn loss_and_latency_history(
    State(simulator): Sim,
    Path(serial): Path<String>,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let appliance = require_appliance(&simulator, &serial)?;
    let params = Params(pairs);
    let ip = params
        .one("ip")
        .filter(|ip| !ip.is_empty())
        .ok_or_else(|| ApiError::bad_request("'ip' must be specified"))?;
    let uplink = params.uplink()?.unwrap_or(Uplink::Wan1);
    let resolution = i64::from(query::check_resolution(params.integer("resolution")?)?);
    let now = Utc::now();
    let (t0, t1) = query::resolve_history_window(&params.window()?, now)?;
    let mut intervals = Vec::new();
    if UPLINKS.contains(&uplink.as_str()) {
        let mut start = DateTime::from_timestamp(t0.timestamp().div_euclid(resolution) * resolution, 0)
            .expect("in range");
        let step = TimeDelta::seconds(resolution);
        while start < t1 && start + step <= now {
            let sample =
                simulator
                    .series
                    .aggregate(&appliance.device.serial, uplink.as_str(), ip, start, resolution);
            intervals.push(LossAndLatencyInterval {
                start_time: start,
                end_time: start + step,
                loss_percent: sample.loss_percent,
                latency_ms: sample.latency_ms,
                goodput: sample.goodput,
                jitter: sample.jitter_ms,
            });
            start += step;
        }
    }
    Ok(Json(intervals).into_response())
}

async fn uplinks_loss_and_latency(
    State(simulator): Sim,
    Path(organization_id): Path<String>,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    require_organization(&simulator, &organization_id)?;
    let params = Params(pairs);
    let uplink_filter = params.uplink()?;
    let ip_filter = params.one("ip");
    let now = Utc::now();
    let (t0, t1) = query::resolve_org_uplinks_window(&params.window()?, now)?;
    // Minute samples with t0 <= ts < t1, and none fresher than 2 minutes ("data from at latest 2 minutes ago").
    let newest = now - ORG_UPLINKS_MIN_AGE;
    let first_minute = (t0.timestamp() + 59).div_euclid(60) * 60;
    let minutes: Vec<DateTime<Utc>> = (0..)
        .map(|index| DateTime::from_timestamp(first_minute + index * 60, 0).expect("in range"))
        .take_while(|ts| *ts < t1 && *ts <= newest)
        .collect();
    let mut series = Vec::new();
    if ip_filter.is_none_or(|ip| ip == PROBE_DESTINATION) {
        for appliance in &simulator.estate.appliances[&organization_id] {
            for uplink in UPLINKS
                .iter()
                .filter(|uplink| uplink_filter.is_none_or(|filter| filter.as_str() == **uplink))
            {
                let time_series = minutes
                    .iter()
                    .map(|ts| {
                        let sample =
                            simulator
                                .series
                                .sample(&appliance.device.serial, uplink, PROBE_DESTINATION, *ts);
                        LossAndLatencyPoint {
                            ts: *ts,
                            loss_percent: sample.loss_percent,
                            latency_ms: sample.latency_ms,
                        }
                    })
                    .collect();
                series.push(UplinkLossAndLatency {
                    network_id: appliance.device.network_id.clone().unwrap_or_default(),
                    serial: appliance.device.serial.clone(),
                    uplink: (*uplink).to_owned(),
                    ip: PROBE_DESTINATION.to_owned(),
                    time_series,
                });
            }
        }
    }
    Ok(Json(series).into_response())
}

async fn uplink_statuses(
    simulator: &Simulator,
    organization_id: &str,
    pairs: Vec<(String, String)>,
    headers: &HeaderMap,
    uri: &OriginalUri,
    api_path: &Uri,
    appliance_flavour: bool,
) -> Result<Response, ApiError> {
    require_organization(simulator, organization_id)?;
    let params = Params(pairs);
    let page = params.page(UPLINK_STATUSES_PER_PAGE)?;
    let network_ids = params.array("networkIds");
    let serials = params.array("serials");
    let statuses: Vec<UplinkStatuses> = simulator.estate.appliances[organization_id]
        .iter()
        .filter(|appliance| {
            network_ids.is_empty()
                || appliance
                    .device
                    .network_id
                    .as_ref()
                    .is_some_and(|id| network_ids.contains(id))
        })
        .filter(|appliance| serials.is_empty() || serials.contains(&appliance.device.serial))
        .map(|appliance| simulator.estate.uplink_statuses(appliance, appliance_flavour))
        .collect();
    let references: Vec<&UplinkStatuses> = statuses.iter().collect();
    let (items, link) = paginate(
        &references,
        |status| &status.serial,
        &page,
        &self_url(simulator, headers, uri, api_path, params.0),
    );
    Ok(paged(items, link))
}

async fn appliance_uplink_statuses(
    State(simulator): Sim,
    Path(organization_id): Path<String>,
    Query(pairs): Pairs,
    headers: HeaderMap,
    uri: OriginalUri,
    api_path: Uri,
) -> Result<Response, ApiError> {
    uplink_statuses(
        &simulator,
        &organization_id,
        pairs,
        &headers,
        &uri,
        &api_path,
        true,
    )
    .await
}

async fn uplinks_statuses(
    State(simulator): Sim,
    Path(organization_id): Path<String>,
    Query(pairs): Pairs,
    headers: HeaderMap,
    uri: OriginalUri,
    api_path: Uri,
) -> Result<Response, ApiError> {
    uplink_statuses(
        &simulator,
        &organization_id,
        pairs,
        &headers,
        &uri,
        &api_path,
        false,
    )
    .await
}

async fn clients(
    State(simulator): Sim,
    Path(network_id): Path<String>,
    Query(pairs): Pairs,
    headers: HeaderMap,
    uri: OriginalUri,
    api_path: Uri,
) -> Result<Response, ApiError> {
    let network = simulator
        .estate
        .network(&network_id)
        .ok_or_else(ApiError::not_found)?;
    let params = Params(pairs);
    let page = params.page(CLIENTS_PER_PAGE)?;
    let now = Utc::now();
    let start = query::resolve_clients_window(params.time("t0")?, params.seconds("timespan")?, now)?;
    let all = network_clients(
        simulator.estate.shape.seed,
        network,
        simulator.estate.shape.clients_per_network,
        now,
    );
    let seen: Vec<_> = all
        .iter()
        .filter(|client| {
            client
                .other
                .get("lastSeen")
                .and_then(|value| value.as_i64())
                .is_some_and(|seen| seen >= start.timestamp())
        })
        .collect();
    let (items, link) = paginate(
        &seen,
        |client| &client.id,
        &page,
        &self_url(&simulator, &headers, &uri, &api_path, params.0),
    );
    Ok(paged(items, link))
}
