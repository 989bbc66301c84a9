#!/usr/bin/env python3
"""The Kafka output's disk spool: what it costs to take records to disk while Kafka is away and to replay them
when it is back, against writing the same records straight to Kafka, in the same run.

One `semaphore run -c` process with a `[[sources.generator]]` (records of ~300 bytes, 100 keys) and the
Kafka output, three phases, each measured on the whole process (user+sys CPU seconds from /proc/PID/stat,
start-up included for the first two; wall time from the spawn, or the broker's return, until semaphore's own
/metrics show the phase done):

  direct:  the broker is up; N records go straight to Kafka.
  spool:   the broker is down; N records go to the spool (synced to disk per batch).
  replay:  the broker comes back; the spool is sent to Kafka until it is empty.

Usage: bench/spool.py [--records 200000] [--binary target/release/semaphore]
"""

import argparse
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

from common import free_port, cpu_seconds


def metric(admin, name):
    with urllib.request.urlopen(f"http://{admin}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def wait_for(condition, limit, what):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if condition():
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def start_broker(binary, port):
    broker = subprocess.Popen([binary, "broker", "--memory", "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, 30, "the broker")
    return broker


def start_run(binary, directory, port, admin_port, records, name):
    config = os.path.join(directory, f"{name}.toml")
    with open(config, "w") as file:
        file.write(f'data_dir = "{directory}/{name}"\n[kafka]\nbrokers = "127.0.0.1:{port}"\n'
                   f'[admin]\nlisten = "127.0.0.1:{admin_port}"\n'
                   f'[[sources.generator]]\nrate_per_second = 1000000\nkeys = 100\ncount = {records}\n'
                   f'message_bytes = 150\n[outputs.kafka]\nspool_after_s = 1\n')
    log = open(os.path.join(directory, f"{name}.log"), "w")
    process = subprocess.Popen([binary, "run", "-c", config], stdout=subprocess.DEVNULL, stderr=log)
    admin = f"127.0.0.1:{admin_port}"
    wait_for(lambda: metric(admin, "semaphore_kafka_queue_depth") is not None
             or metric(admin, "semaphore_spool_records") is not None, 60, "the admin server")
    return process, admin


def row(phase, records, wall, cpu):
    print(f"| {phase} | {records:,} | {wall:.2f} | {records / wall:,.0f} | {cpu:.2f} | {cpu / records * 1e6:.2f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--binary", default="target/release/semaphore")
    arguments = parser.parse_args()
    records = arguments.records
    directory = tempfile.mkdtemp(prefix="semaphore-spool-bench-")
    print("| phase | records | wall s | records/s | CPU s (user+sys) | CPU µs/record |")
    print("|---|---:|---:|---:|---:|---:|")

    port = free_port()
    broker = start_broker(arguments.binary, port)
    # From the spawn: the generator's first batch is made before the admin server answers.
    started = time.monotonic()
    process, admin = start_run(arguments.binary, directory, port, free_port(), records, "direct")
    cpu_before = 0.0
    done = wait_for(lambda: metric(admin, 'semaphore_kafka_delivered_total') >= records, 600, "direct delivery")
    row("direct to Kafka", records, done - started, cpu_seconds(process.pid) - cpu_before)
    process.terminate()
    process.wait()
    broker.terminate()
    broker.wait()

    port = free_port()
    process, admin = start_run(arguments.binary, directory, port, free_port(), records, "spooled")
    # From the first spooled record: before it, the first batch waited spool_after_s (and the topic check its
    # timeout) for a Kafka that is not there, while the generator made the rest.
    started = wait_for(lambda: metric(admin, "semaphore_spool_records") > 0, 120, "the first spooled record")
    cpu_before, first = cpu_seconds(process.pid), metric(admin, "semaphore_spool_records")
    done = wait_for(lambda: metric(admin, "semaphore_spool_records") >= records, 600, "spooling")
    row("to the spool (Kafka away)", int(records - first), done - started, cpu_seconds(process.pid) - cpu_before)
    spool_bytes = metric(admin, "semaphore_spool_bytes")

    broker = start_broker(arguments.binary, port)
    cpu_before, started = cpu_seconds(process.pid), time.monotonic()
    done = wait_for(lambda: metric(admin, "semaphore_spool_records") == 0, 600, "the replay")
    row("replayed to Kafka", records, done - started, cpu_seconds(process.pid) - cpu_before)
    print(f"\nspool on disk at its fullest: {spool_bytes / 1e6:.1f} MB ({spool_bytes / records:.0f} bytes/record)")
    process.terminate()
    process.wait()
    broker.terminate()
    broker.wait()


if __name__ == "__main__":
    main()
