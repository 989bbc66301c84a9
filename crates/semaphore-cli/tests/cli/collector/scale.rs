//! Issue 4's cost at scale: one Meraki call per organization per cycle, at 500 and at 10,000 appliances.

use std::time::Duration;

use serde_json::Value;

use crate::support::{Broker, Daemon, Simulate, consume_all, eventually, http_get, metric};

use super::{UPLINKS_TOPIC, caught_up, write_config};

const ORG_UPLINKS_OPERATION: &str = "GET /organizations/{organizationId}/devices/uplinksLossAndLatency";

/// Issue 4: one cycle costs one call per organization, whatever the number of appliances; `/metrics` says so.
#[test]
fn one_cycle_costs_one_call_per_organization_at_500_and_10000_appliances() {
    for (organizations, appliances) in [(2, 500), (1, 10_000)] {
        let simulator = Simulate::start(&[
            "--organizations",
            &organizations.to_string(),
            "--appliances",
            &appliances.to_string(),
        ]);
        let broker = Broker::start();
        let setup = write_config("cycle", &simulator, &broker.address, "initial_lookback_s = 60");
        let mut daemon = Daemon::start(&setup.config, &setup.directory.join("run.log"));
        let admin = daemon.admin_address();
        assert!(
            eventually(Duration::from_secs(120), || caught_up(&setup)),
            "{}",
            daemon.log_text()
        );
        // The next cycles find nothing new or one new minute: still one call per organization at most.
        let cycle =
            |metrics: &str| metric(metrics, "semaphore_cycle_api_requests{source=\"meraki_uplinks\"}");
        assert!(eventually(Duration::from_secs(30), || {
            http_get(&admin, "/metrics")
                .and_then(|(_, text)| cycle(&text))
                .is_some()
        }));
        let (_, metrics) = http_get(&admin, "/metrics").unwrap();
        assert!(cycle(&metrics).unwrap() <= organizations as f64, "{metrics}");
        assert_eq!(
            metric(&metrics, "semaphore_meraki_rate_limited_total"),
            Some(0.0),
            "{metrics}"
        );
        // Keeping up is checked by the watermark (caught up above), not by timing a cycle: this machine is
        // shared, and cycle times are measured in bench/collector_cycle.py.
        assert!(
            metric(&metrics, "semaphore_cycle_seconds{source=\"meraki_uplinks\"}").is_some(),
            "{metrics}"
        );
        let address = simulator
            .base_url
            .trim_start_matches("http://")
            .trim_end_matches("/api/v1")
            .to_owned();
        let (_, stats) = http_get(&address, "/_sim/stats").unwrap();
        let stats: Value = serde_json::from_str(&stats).unwrap();
        let polls = stats["by_operation"][ORG_UPLINKS_OPERATION].as_u64().unwrap();
        let cycles = metric(&metrics, "semaphore_polls_total{source=\"meraki_uplinks\"}").unwrap() as u64;
        assert!(
            polls <= cycles * organizations as u64 + organizations as u64,
            "{polls} org-wide calls for {cycles} cycles: {stats}"
        );
        assert_eq!(stats["rate_limited"], 0, "{stats}");
        daemon.signal("TERM");
        assert!(
            daemon
                .wait_exit(Duration::from_secs(20))
                .expect("stops")
                .success()
        );
        let records = consume_all(&broker.address, UPLINKS_TOPIC);
        assert!(
            records.len() >= organizations * appliances * 2,
            "{} records",
            records.len()
        );
        std::fs::remove_dir_all(&setup.directory).unwrap();
    }
}
