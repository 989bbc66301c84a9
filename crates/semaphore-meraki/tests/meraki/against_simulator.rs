//! The client against the simulator over real HTTP: discovery at scale within Meraki's budget, every injected
//! fault ending in a successful retry or a clear typed error, pagination, redirects, and a key that never
//! leaves home.

use std::time::Duration;

use chrono::{DurationRound, TimeDelta, Utc};
use semaphore_meraki::backoff::{Backoff, RetryPolicy};
use semaphore_meraki::error::ErrorKind;
use semaphore_meraki::query::{
    DevicesQuery, HistoryQuery, TimeWindow, Uplink, UplinkStatusesQuery, UplinksLossAndLatencyQuery,
};
use semaphore_meraki::{ApiKey, Client, MerakiError};
use semaphore_meraki_sim::series::Series;
use semaphore_meraki_sim::{EstateShape, Faults, RunningSimulator, SimConfig, spawn};

const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        backoff: Backoff::new(Duration::from_millis(5), Duration::from_millis(50)).jittered(),
    }
}

fn client_for(simulator: &RunningSimulator, retry: RetryPolicy) -> Client {
    Client::builder(ApiKey::new(KEY).unwrap())
        .base_url(simulator.base_url().parse().unwrap())
        .retry_policy(retry)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn small_simulator(faults: Faults) -> RunningSimulator {
    let shape = EstateShape {
        seed: 11,
        organizations: 1,
        networks: 3,
        appliances: 30,
        clients_per_network: 25,
    };
    spawn(SimConfig {
        shape,
        faults,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Like Meraki itself: page links are absolute URLs.
async fn absolute_link_simulator(faults: Faults) -> RunningSimulator {
    let shape = EstateShape {
        seed: 11,
        organizations: 1,
        networks: 3,
        appliances: 30,
        clients_per_network: 25,
    };
    spawn(SimConfig {
        shape,
        faults,
        absolute_links: true,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Every device of the organization, read in pages of `per_page`.
async fn devices_in_pages(
    client: &Client,
    organization_id: &str,
    per_page: u32,
) -> Vec<semaphore_meraki::model::Device> {
    let query = DevicesQuery {
        per_page: Some(per_page),
        ..Default::default()
    };
    client
        .organization_devices(organization_id, &query)
        .await
        .unwrap()
}

/// One task per serial, all at once, each on its own clone of the client; every call must succeed.
async fn management_interfaces_at_once(client: &Client, serials: Vec<String>) {
    let tasks: Vec<_> = serials
        .into_iter()
        .map(|serial| {
            let client = client.clone();
            tokio::spawn(async move { client.device_management_interface(&serial).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

fn organization_id(simulator: &RunningSimulator) -> String {
    simulator.simulator.estate.organizations[0].id.clone()
}

#[tokio::test]
async fn discovery_of_ten_thousand_appliances_stays_within_budget() {
    let shape = EstateShape {
        seed: 5,
        organizations: 1,
        networks: 200,
        appliances: 10_000,
        clients_per_network: 1,
    };
    let simulator = spawn(SimConfig {
        shape,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = client_for(&simulator, RetryPolicy::default());
    let organizations = client.organizations().await.unwrap();
    assert_eq!(organizations.len(), 1);
    let organization_id = &organizations[0].id;
    let networks = client
        .organization_networks(organization_id, &Default::default())
        .await
        .unwrap();
    assert_eq!(networks.len(), 200);
    let devices = client
        .organization_devices(organization_id, &DevicesQuery::default())
        .await
        .unwrap();
    assert_eq!(devices.len(), 10_000);
    let distinct: std::collections::HashSet<_> = devices.iter().map(|device| &device.serial).collect();
    assert_eq!(distinct.len(), 10_000, "pagination neither repeats nor skips");
    let statuses = client
        .organization_appliance_uplink_statuses(organization_id, &UplinkStatusesQuery::default())
        .await
        .unwrap();
    assert_eq!(statuses.len(), 10_000);
    let series = client
        .organization_uplinks_loss_and_latency(organization_id, &Default::default())
        .await
        .unwrap();
    assert_eq!(series.len(), 20_000, "two uplinks per appliance in one call");
    // Then a burst of per-device calls from many tasks at once: the shared budget paces them.
    let serials: Vec<String> = devices
        .iter()
        .take(40)
        .map(|device| device.serial.clone())
        .collect();
    management_interfaces_at_once(&client, serials).await;
    let stats = simulator.simulator.stats.snapshot();
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    let metrics = client.metrics().snapshot();
    assert_eq!(metrics.rate_limited, 0);
    assert_eq!(
        metrics.pages,
        1 + 1 + 10 + 10,
        "organizations, networks, 10 device pages, 10 status pages"
    );
    assert_eq!(
        stats.requests, metrics.requests,
        "every request the client counted reached the simulator"
    );
}

#[tokio::test]
async fn rate_limit_storm_is_waited_out() {
    let simulator = small_simulator(Faults {
        storm: 3,
        ..Default::default()
    })
    .await;
    let client = client_for(&simulator, fast_retries(6));
    let organizations = client.organizations().await.unwrap();
    assert_eq!(organizations.len(), 1);
    let metrics = client.metrics().snapshot();
    assert_eq!(
        (metrics.rate_limited, metrics.retries, metrics.requests),
        (3, 3, 4)
    );
}

#[tokio::test]
async fn endless_rate_limiting_ends_in_a_typed_error() {
    let simulator = small_simulator(Faults {
        storm: 100,
        ..Default::default()
    })
    .await;
    let client = client_for(&simulator, fast_retries(2));
    let error = client.organizations().await.unwrap_err();
    assert!(
        matches!(error, MerakiError::RateLimited { attempts: 2, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("10 requests/s"), "{error}");
    assert_eq!(client.metrics().snapshot().errors_of(ErrorKind::RateLimited), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let flaky = small_simulator(Faults {
        error_rate: 0.5,
        ..Default::default()
    })
    .await;
    let client = client_for(&flaky, fast_retries(10));
    let organization_id = organization_id(&flaky);
    let devices = devices_in_pages(&client, &organization_id, 3).await;
    assert_eq!(devices.len(), 30);
    assert!(client.metrics().snapshot().retries > 0);

    let broken = small_simulator(Faults {
        error_rate: 1.0,
        ..Default::default()
    })
    .await;
    let client = client_for(&broken, fast_retries(3));
    let error = client.organizations().await.unwrap_err();
    assert!(
        matches!(error, MerakiError::Server { attempts: 3, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("try again later"), "{error}");
}

#[tokio::test]
async fn broken_bodies_are_retried_then_reported() {
    let flaky = absolute_link_simulator(Faults {
        truncate_rate: 0.3,
        malformed_rate: 0.3,
        ..Default::default()
    })
    .await;
    let client = client_for(&flaky, fast_retries(12));
    let organization_id = organization_id(&flaky);
    let devices = devices_in_pages(&client, &organization_id, 3).await;
    assert_eq!(devices.len(), 30);

    let truncating = small_simulator(Faults {
        truncate_rate: 1.0,
        ..Default::default()
    })
    .await;
    let error = client_for(&truncating, fast_retries(2))
        .organizations()
        .await
        .unwrap_err();
    assert!(matches!(error, MerakiError::InvalidResponse { .. }), "{error}");
    assert!(error.to_string().contains("not the expected JSON"), "{error}");

    let proxy_page = small_simulator(Faults {
        malformed_rate: 1.0,
        ..Default::default()
    })
    .await;
    let error = client_for(&proxy_page, fast_retries(2))
        .organizations()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("502 Bad Gateway"),
        "the error quotes what came back: {error}"
    );
}

#[tokio::test]
async fn slow_answers_time_out_clearly() {
    let slow = small_simulator(Faults {
        latency_ms: 400,
        ..Default::default()
    })
    .await;
    let client = Client::builder(ApiKey::new(KEY).unwrap())
        .base_url(slow.base_url().parse().unwrap())
        .retry_policy(fast_retries(2))
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let error = client.organizations().await.unwrap_err();
    assert!(
        matches!(error, MerakiError::Timeout { attempts: 2, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn unreachable_host_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder(ApiKey::new(KEY).unwrap())
        .base_url(format!("http://{address}/api/v1").parse().unwrap())
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let error = client.organizations().await.unwrap_err();
    assert!(
        matches!(error, MerakiError::Connection { attempts: 2, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("check DNS, proxy and firewall"),
        "{error}"
    );
}

#[tokio::test]
async fn redirects_to_a_shard_keep_the_key() {
    let redirecting = absolute_link_simulator(Faults {
        redirect_rate: 1.0,
        ..Default::default()
    })
    .await;
    let client = client_for(&redirecting, fast_retries(2));
    let organization_id = organization_id(&redirecting);
    let devices = devices_in_pages(&client, &organization_id, 10).await;
    assert_eq!(devices.len(), 30);
    let metrics = client.metrics().snapshot();
    assert!(metrics.redirects >= 1, "{metrics:?}");
    assert_eq!(
        redirecting.simulator.stats.snapshot().by_status.get(&401),
        None,
        "the key followed the redirect"
    );
}

#[tokio::test]
async fn redirect_to_a_foreign_host_is_refused_and_the_key_never_sent() {
    let foreign = small_simulator(Faults::default()).await;
    let redirecting = small_simulator(Faults {
        redirect_to: Some(foreign.base_url()),
        ..Default::default()
    })
    .await;
    let client = client_for(&redirecting, fast_retries(3));
    let error = client.organizations().await.unwrap_err();
    assert!(matches!(error, MerakiError::Redirect { .. }), "{error}");
    assert!(error.to_string().contains("never sent elsewhere"), "{error}");
    assert_eq!(
        foreign.simulator.stats.snapshot().requests,
        0,
        "the foreign host got no request at all"
    );
}

#[tokio::test]
async fn wrong_key_and_unknown_ids_are_typed_errors() {
    let shape = EstateShape {
        seed: 1,
        organizations: 1,
        networks: 1,
        appliances: 1,
        clients_per_network: 1,
    };
    let strict = spawn(SimConfig {
        shape,
        api_key: Some("the-right-key".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let client = client_for(&strict, fast_retries(3));
    let error = client.organizations().await.unwrap_err();
    assert!(matches!(error, MerakiError::Unauthorized { .. }), "{error}");
    assert!(error.to_string().contains("MERAKI_DASHBOARD_API_KEY"), "{error}");
    assert_eq!(client.metrics().snapshot().requests, 1, "a 401 is not retried");

    let open = small_simulator(Faults::default()).await;
    let client = client_for(&open, fast_retries(3));
    let error = client
        .organization_devices("999", &DevicesQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(error, MerakiError::NotFound { .. }), "{error}");
    assert!(error.to_string().contains("check the organization id"), "{error}");
}

#[tokio::test]
async fn invalid_parameters_never_reach_meraki() {
    let simulator = small_simulator(Faults::default()).await;
    let client = client_for(&simulator, fast_retries(3));
    let organization_id = organization_id(&simulator);
    let now = Utc::now();
    let too_wide = UplinksLossAndLatencyQuery {
        window: TimeWindow::between(now - TimeDelta::minutes(20), now - TimeDelta::minutes(5)),
        ..Default::default()
    };
    let error = client
        .organization_uplinks_loss_and_latency(&organization_id, &too_wide)
        .await
        .unwrap_err();
    assert!(
        matches!(error, MerakiError::InvalidParameter { parameter: "t1", .. }),
        "{error}"
    );
    let bad_resolution = HistoryQuery {
        resolution: Some(120),
        ..HistoryQuery::new("8.8.8.8")
    };
    let serial = simulator.simulator.estate.appliances[&organization_id][0]
        .device
        .serial
        .clone();
    let error = client
        .device_loss_and_latency_history(&serial, &bad_resolution)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("resolution") && error.to_string().contains("not sent"),
        "{error}"
    );
    let bad_page = DevicesQuery {
        per_page: Some(5000),
        ..Default::default()
    };
    assert!(
        client
            .organization_devices(&organization_id, &bad_page)
            .await
            .is_err()
    );
    assert_eq!(simulator.simulator.stats.snapshot().requests, 0);
    assert_eq!(
        client.metrics().snapshot().errors_of(ErrorKind::InvalidParameter),
        3
    );
}

#[tokio::test]
async fn pagination_stops_at_the_callers_limit() {
    let simulator = small_simulator(Faults::default()).await;
    let client = client_for(&simulator, fast_retries(3));
    let network_id = simulator.simulator.estate.networks[&organization_id(&simulator)][0]
        .id
        .clone();
    let query = semaphore_meraki::query::ClientsQuery {
        per_page: Some(3),
        max_items: Some(7),
        ..Default::default()
    };
    let clients = client.network_clients(&network_id, &query).await.unwrap();
    assert_eq!(clients.len(), 7);
    assert_eq!(client.metrics().snapshot().pages, 3);
    let all = client
        .network_clients(
            &network_id,
            &semaphore_meraki::query::ClientsQuery {
                per_page: Some(4),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    assert!(
        all.iter()
            .all(|client| client.other.contains_key("os") && client.usage.is_some())
    );
}

#[tokio::test]
async fn down_uplink_reports_nulls_and_history_matches_the_series() {
    let simulator = small_simulator(Faults::default()).await;
    let client = client_for(&simulator, fast_retries(3));
    let organization_id = organization_id(&simulator);
    let seed = simulator.simulator.estate.shape.seed;
    let flapper = simulator.simulator.estate.appliances[&organization_id]
        .iter()
        .find(|appliance| Series::is_flapper(seed, &appliance.device.serial))
        .map(|appliance| appliance.device.serial.clone())
        .expect("the estate has a flapping wan2");
    // The first five minutes of the hour before last: the flapper's wan2 is down then.
    let hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(1);
    let query = UplinksLossAndLatencyQuery {
        window: TimeWindow::between(hour, hour + TimeDelta::minutes(5)),
        uplink: Some(Uplink::Wan2),
        ..Default::default()
    };
    let series = client
        .organization_uplinks_loss_and_latency(&organization_id, &query)
        .await
        .unwrap();
    assert_eq!(series.len(), 30);
    let down = series.iter().find(|uplink| uplink.serial == flapper).unwrap();
    assert_eq!(down.time_series.len(), 5);
    assert!(
        down.time_series
            .iter()
            .all(|point| point.loss_percent.is_none() && point.latency_ms.is_none())
    );
    let up = series
        .iter()
        .find(|uplink| uplink.serial != flapper && uplink.time_series.iter().all(|p| p.latency_ms.is_some()));
    assert!(up.is_some(), "other uplinks report numbers");
    // The per-device history at 60 s agrees with the org-wide series minute by minute.
    let other = up.unwrap();
    let history = HistoryQuery {
        window: TimeWindow::between(hour, hour + TimeDelta::minutes(5)),
        uplink: Some(Uplink::Wan2),
        ..HistoryQuery::new("8.8.8.8")
    };
    let intervals = client
        .device_loss_and_latency_history(&other.serial, &history)
        .await
        .unwrap();
    let from_history: Vec<_> = intervals
        .iter()
        .map(|interval| (interval.start_time, interval.latency_ms))
        .collect();
    let from_series: Vec<_> = other
        .time_series
        .iter()
        .map(|point| (point.ts, point.latency_ms))
        .collect();
    assert_eq!(from_history, from_series);
}

#[tokio::test]
async fn clones_share_one_budget() {
    let simulator = small_simulator(Faults::default()).await;
    let client = client_for(&simulator, fast_retries(3));
    let organization_id = organization_id(&simulator);
    let devices = client
        .organization_devices(&organization_id, &DevicesQuery::default())
        .await
        .unwrap();
    let serials: Vec<String> = devices
        .iter()
        .cycle()
        .take(35)
        .map(|device| device.serial.clone())
        .collect();
    management_interfaces_at_once(&client, serials).await;
    assert_eq!(
        simulator.simulator.stats.snapshot().rate_limited,
        0,
        "36 calls from 35 tasks, no 429"
    );
}

#[tokio::test]
async fn a_streamed_answer_comes_a_chunk_at_a_time_and_a_broken_one_is_a_clear_error() {
    let simulator = small_simulator(Faults::default()).await;
    let client = client_for(&simulator, fast_retries(2));
    let organization_id = organization_id(&simulator);
    let query = UplinksLossAndLatencyQuery::default();
    let whole = client
        .organization_uplinks_loss_and_latency(&organization_id, &query)
        .await
        .unwrap();
    assert_eq!(whole.len(), 60, "two uplinks of 30 appliances");
    let mut stream = client
        .organization_uplinks_loss_and_latency_stream(&organization_id, &query)
        .await
        .unwrap();
    let (mut sizes, mut streamed) = (Vec::new(), Vec::new());
    while let Some(chunk) = stream.next_chunk(7).await.unwrap() {
        sizes.push(chunk.len());
        streamed.extend(chunk);
    }
    assert_eq!(sizes, [7, 7, 7, 7, 7, 7, 7, 7, 4]);
    let uplinks = |series: &[semaphore_meraki::model::UplinkLossAndLatency]| {
        series
            .iter()
            .map(|series| (series.serial.clone(), series.uplink.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(uplinks(&streamed), uplinks(&whole));

    // The simulator answers 200, then half a body or a proxy's HTML page: the stream ends with the reason.
    let faults = [
        (
            Faults {
                truncate_rate: 1.0,
                ..Default::default()
            },
            "the answer ends before its array is closed",
        ),
        (
            Faults {
                malformed_rate: 1.0,
                ..Default::default()
            },
            "the answer is not an array",
        ),
    ];
    for (faults, reason) in faults {
        simulator.simulator.set_faults(faults);
        let mut stream = client
            .organization_uplinks_loss_and_latency_stream(&organization_id, &query)
            .await
            .unwrap();
        let error = loop {
            match stream.next_chunk(1000).await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a broken answer must end with an error"),
                Err(error) => break error,
            }
        };
        assert!(matches!(error, MerakiError::InvalidResponse { .. }), "{error}");
        assert!(error.to_string().contains(reason), "{error}");
        assert!(
            stream.next_chunk(1).await.unwrap().is_none(),
            "nothing after the error"
        );
    }
    assert!(client.metrics().snapshot().errors_of(ErrorKind::InvalidResponse) >= 2);
}
