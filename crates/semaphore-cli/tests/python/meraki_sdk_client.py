"""Meraki's official Python SDK against `semaphore simulate`: lists organizations, networks and every device
through Link pagination, then rides out a 429 storm with the SDK's own retry logic.

Usage: meraki_sdk_client.py BASE_URL CACHE_DIR. Prints one JSON object with what it saw.
"""

import json
import os
import sys
import time
import urllib.request

import meraki


def put_faults(base_url, faults):
    admin = base_url.rsplit("/api/v1", 1)[0] + "/_sim/faults"
    request = urllib.request.Request(
        admin, data=json.dumps(faults).encode(), method="PUT", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def stats(base_url):
    with urllib.request.urlopen(base_url.rsplit("/api/v1", 1)[0] + "/_sim/stats") as response:
        return json.load(response)


def main():
    base_url, cache_dir = sys.argv[1], sys.argv[2]
    dashboard = meraki.DashboardAPI(
        api_key="sdk-test-key",
        base_url=base_url,
        output_log=False,
        print_console=False,
        suppress_logging=True,
        maximum_retries=5,
        wait_on_rate_limit=True,
        smart_flow_cache_path=os.path.join(cache_dir, "rate_limit_cache.json"),
    )
    organizations = dashboard.organizations.getOrganizations()
    organization_id = organizations[0]["id"]
    networks = dashboard.organizations.getOrganizationNetworks(organization_id, total_pages="all")
    devices = dashboard.organizations.getOrganizationDevices(organization_id, total_pages="all", perPage=1000)
    uplinks = dashboard.organizations.getOrganizationDevicesUplinksLossAndLatency(organization_id, timespan=300)

    before = stats(base_url)["rate_limited"]
    put_faults(base_url, {"storm": 3})
    started = time.monotonic()
    after_storm = dashboard.organizations.getOrganizations()
    storm_seconds = time.monotonic() - started
    rate_limited = stats(base_url)["rate_limited"] - before

    print(json.dumps({
        "organizations": len(organizations),
        "networks": len(networks),
        "devices": len(devices),
        "distinct_serials": len({device["serial"] for device in devices}),
        "uplink_series": len(uplinks),
        "after_storm_organizations": len(after_storm),
        "storm_429s": rate_limited,
        "storm_seconds": round(storm_seconds, 2),
    }))


if __name__ == "__main__":
    main()
