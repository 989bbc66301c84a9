#!/usr/bin/env python3
"""One collector cycle against the simulator at several estate sizes: Meraki API calls (by operation, from the
simulator's own counters), cycle time, whole-process time, CPU seconds (user+sys of the whole process, also per record) and peak RSS, for the org-wide strategy
(source meraki_uplinks) beside the per-device one (source meraki_device_history, the original scripts' way).

Records go to a file (no Kafka), so the Meraki side is what is measured. The simulator enforces Meraki's
rate limit (10 requests/s per organization). Per-device cycles above --per-device-max appliances are not run
(20,000 calls at 9/s take 37 minutes); their cost is computed from the measured smaller runs and marked so.

Usage: python3 bench/collector_cycle.py [--sizes 100 1000 10000 50000] [--per-device-max 1000]
Prints a Markdown table; copy it into bench/README.md.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEMAPHORE = os.path.join(ROOT, "target", "release", "semaphore")


def stats(address):
    with urllib.request.urlopen(f"http://{address}/_sim/stats") as response:
        return json.load(response)


def start_simulator(appliances):
    port = free_port()
    process = subprocess.Popen(
        [SEMAPHORE, "simulate", "--listen", f"127.0.0.1:{port}", "--appliances", str(appliances)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    process.stdout.readline()
    return process, f"127.0.0.1:{port}"


def run_cycle(address, strategy, directory):
    records = os.path.join(directory, "records.jsonl")
    source = {
        "org-wide": "[[sources.meraki_uplinks]]\ninitial_lookback_s = 60\nddns = false\ninterval_s = 3600\n",
        "per-device": "[[sources.meraki_device_history]]\ninitial_lookback_s = 60\ntimespan_s = 60\ninterval_s = 3600\n",
    }[strategy]
    config = os.path.join(directory, "semaphore.toml")
    with open(config, "w") as file:
        file.write(
            f'data_dir = "{directory}/data"\n[meraki]\nurl = "http://{address}/api/v1"\n[admin]\nlisten = ""\n'
            f'{source}[[outputs.file]]\npath = "{records}"\n')
    before = stats(address)
    started = time.monotonic()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "RSS_KB=%M USER_S=%U SYS_S=%S", SEMAPHORE, "run", "--once", "-c", config],
        env={**os.environ, "MERAKI_DASHBOARD_API_KEY": "bench", "SEMAPHORE_LOG": "semaphore=debug"},
        capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{strategy}: semaphore run failed:\n{result.stderr[-3000:]}")
    after = stats(address)
    calls = {operation: count - before["by_operation"].get(operation, 0)
             for operation, count in after["by_operation"].items()}
    cycle = re.search(r"Cycle done\..*?seconds=([0-9.]+)", re.sub(r"\x1b\[[0-9;]*m", "", result.stderr))
    rss = int(re.search(r"RSS_KB=(\d+)", result.stderr).group(1))
    cpu = sum(float(re.search(rf"{name}=([0-9.]+)", result.stderr).group(1)) for name in ("USER_S", "SYS_S"))
    with open(records) as file:
        lines = sum(1 for _ in file)
    return {
        "calls": sum(calls.values()),
        "loss_latency_calls": sum(count for operation, count in calls.items() if "oss" in operation),
        "rate_limited": after["rate_limited"] - before["rate_limited"],
        "cycle_s": float(cycle.group(1)) if cycle else float("nan"),
        "run_s": elapsed,
        "rss_mib": rss / 1024,
        "cpu_s": cpu,
        "records": lines,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 50000])
    parser.add_argument("--per-device-max", type=int, default=1000)
    arguments = parser.parse_args()
    print("Building the release binary...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-q", "--ignore-rust-version", "-p", "semaphore-cli"], cwd=ROOT, check=True)
    print("| appliances | strategy | API calls | loss/latency calls | 429s | cycle (s) | whole run (s) | CPU user+sys (s) | CPU µs/record | peak RSS (MiB) | records |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    per_call = None
    for appliances in arguments.sizes:
        simulator, address = start_simulator(appliances)
        try:
            for strategy in ["org-wide", "per-device"]:
                if strategy == "per-device" and appliances > arguments.per_device_max:
                    calls = 2 * appliances
                    estimate = f"~{calls / 9:.0f} (computed: {calls} calls at 9/s)" if per_call is None else \
                        f"~{calls * per_call:.0f} (computed from the {arguments.per_device_max}-appliance run)"
                    print(f"| {appliances} | {strategy} | {calls} + inventory (computed) | {calls} | - | {estimate} | - | - | - | - | - |")
                    continue
                with tempfile.TemporaryDirectory() as directory:
                    row = run_cycle(address, strategy, directory)
                if strategy == "per-device":
                    per_call = row["cycle_s"] / max(row["loss_latency_calls"], 1)
                print(f"| {appliances} | {strategy} | {row['calls']} | {row['loss_latency_calls']} | {row['rate_limited']} | "
                      f"{row['cycle_s']:.2f} | {row['run_s']:.2f} | {row['cpu_s']:.2f} | "
                      f"{1e6 * row['cpu_s'] / max(row['records'], 1):.1f} | {row['rss_mib']:.0f} | {row['records']} |", flush=True)
        finally:
            simulator.terminate()
            simulator.wait()


if __name__ == "__main__":
    main()
