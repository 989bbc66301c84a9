#!/usr/bin/env python3
"""Sinks: records/s from Kafka into InfluxDB and into the Prometheus exporter, and the dashboard's update latency,
each beside a peer measured in the same run.

One embedded broker (`semaphore broker --memory`) holds N uplink records (the collector's JSON, 200 uplinks,
sample times in the last hour, with the schema header), produced once by Python's confluent-kafka.

- InfluxDB (Debian's influxd 1.6, started here): `semaphore run` with one `[[sinks.influxdb]]` (batch 5000)
  against the peer a user would otherwise write: a Python confluent-kafka consumer that turns each record into
  the same line protocol and POSTs batches of 5000 with `requests`, committing after each write (the same
  at-least-once contract). Each writes its own database; the time is from process start to every record written
  (semaphore: its `semaphore_sink_records_total`; the peer: its own count), and both databases are checked to
  hold N points.
- Prometheus exporter: `semaphore run` with one `[[sinks.prometheus]]` against a Python consumer updating
  `prometheus_client` gauges (the three gauges per uplink), same timing.
- Dashboard update latency: with the dashboard sink running and an SSE client on `/events`, one record is
  produced every 200 ms; latency = SSE event received − produce call. The peer is a bare confluent-kafka consumer
  in the same script measuring produce → receive, i.e. what Kafka alone costs; the difference is the dashboard's.

Usage: python3 bench/sinks.py [--records 100000] [--latency-samples 100]
Needs: target/release/semaphore (cargo build --release -p semaphore-cli), influxd, pip confluent-kafka requests
prometheus_client. Prints Markdown; copy it into bench/README.md.
"""

import argparse
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from common import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEMAPHORE = os.path.join(ROOT, "target", "release", "semaphore")
TOPIC = "meraki.uplinks.loss_latency"


def wait_for(condition, limit, what):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def http(url, data=None):
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


def record(index, base, count):
    """The collector's record; sample times ascend with the index, as the collector writes them."""
    uplink = index % 200
    minute = (count - 1 - index) // 200
    serial = f"Q2BE-{uplink:04d}-0000"
    return {
        "organizationId": "1", "networkId": f"N_{uplink % 20}", "networkName": f"Branch {uplink % 20}",
        "serial": serial, "deviceName": f"{serial} mx", "model": "MX68", "tags": ["bench"],
        "uplink": "wan1" if uplink % 2 else "wan2", "ip": "8.8.8.8",
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base - minute)),
        "lossPercent": None if index % 97 == 0 else round((index % 7) * 0.3, 1),
        "latencyMs": None if index % 97 == 0 else 20.0 + index % 13,
        "jitter": None, "goodput": None, "activeDdnsHostname": None,
        "ddnsHostnameWan1": None, "ddnsHostnameWan2": None,
    }


HEADERS = [("content-type", b"application/json"), ("semaphore-schema", b"meraki.uplink_loss_latency/1"),
           ("source", b"bench")]


def produce(brokers, count):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": brokers, "linger.ms": 20, "compression.type": "zstd"})
    base = int(time.time()) // 60 * 60 - 120
    for index in range(count):
        item = record(index, base, count)
        while True:
            try:
                producer.produce(TOPIC, key=item["serial"], value=json.dumps(item).encode(), headers=HEADERS,
                                 timestamp=int(time.mktime(time.strptime(item["ts"], "%Y-%m-%dT%H:%M:%SZ")) * 1000))
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(120)


def line(item):
    def escape(text, special):
        return "".join("\\" + c if c in special else c for c in text)
    tags = {"org": item["organizationId"], "network": item["networkId"], "network_name": item["networkName"],
            "serial": item["serial"], "device_name": item["deviceName"], "uplink": item["uplink"], "ip": item["ip"]}
    tag_text = "".join(f",{k}={escape(v, ', =')}" for k, v in sorted(tags.items()) if v)
    fields = [f"{name}={float(item[key])!r}" for name, key in (("loss", "lossPercent"), ("latency", "latencyMs"))
              if item[key] is not None]
    fields.append(f"up={'true' if item['lossPercent'] is not None else 'false'}")
    ts = int(time.mktime(time.strptime(item["ts"], "%Y-%m-%dT%H:%M:%SZ")))
    return f"meraki_uplink{tag_text} {','.join(fields)} {ts}"


def python_influx_peer(brokers, influx, database, count):
    """A user's Kafka → InfluxDB bridge: consume, line protocol, POST 5000 at a time, commit after each write."""
    import requests
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"peer-influx-{time.time()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([TOPIC])
    session = requests.Session()
    done = 0
    while done < count:
        messages = consumer.consume(5000, timeout=0.5)
        good = [m for m in messages if m.error() is None]
        if not good:
            continue
        body = "\n".join(line(json.loads(m.value())) for m in good)
        answer = session.post(f"http://{influx}/write", params={"db": database, "precision": "s"}, data=body)
        answer.raise_for_status()
        consumer.commit(asynchronous=True)
        done += len(good)
    consumer.close()


def python_exporter_peer(brokers, count):
    """A user's Kafka → Prometheus exporter: prometheus_client gauges per uplink."""
    from confluent_kafka import Consumer
    from prometheus_client import CollectorRegistry, Gauge
    registry = CollectorRegistry()
    labels = ["organization_id", "network_id", "network_name", "serial", "device_name", "uplink", "ip"]
    latency = Gauge("meraki_uplink_latency_seconds", "latency", labels, registry=registry)
    loss = Gauge("meraki_uplink_loss_ratio", "loss", labels, registry=registry)
    up = Gauge("meraki_uplink_up", "up", labels, registry=registry)
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"peer-prom-{time.time()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([TOPIC])
    done = 0
    while done < count:
        for message in consumer.consume(1000, timeout=0.5):
            if message.error():
                continue
            item = json.loads(message.value())
            values = [item["organizationId"], item["networkId"], item["networkName"] or "", item["serial"],
                      item["deviceName"] or "", item["uplink"], item["ip"]]
            up.labels(*values).set(0 if item["lossPercent"] is None else 1)
            if item["lossPercent"] is not None:
                loss.labels(*values).set(item["lossPercent"] / 100)
                latency.labels(*values).set(item["latencyMs"] / 1000)
            done += 1
        consumer.commit(asynchronous=True)
    consumer.close()


def metric(admin, name):
    status, text = http(f"http://{admin}/metrics")
    for row in text.splitlines():
        if row.startswith(name + " "):
            return float(row.split()[-1])
    return 0.0


def semaphore_sink(brokers, sink_toml, sink_id, count, directory):
    admin = f"127.0.0.1:{free_port()}"
    config = os.path.join(directory, f"{sink_id}.toml")
    with open(config, "w") as file:
        file.write(f'data_dir = "{directory}/data-{sink_id}"\n[kafka]\nbrokers = "{brokers}"\n'
                   f'[admin]\nlisten = "{admin}"\n{sink_toml}')
    started = time.monotonic()
    process = subprocess.Popen([SEMAPHORE, "run", "-c", config], stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(directory, f"{sink_id}.log"), "w"))
    wait_for(lambda: metric(admin, f'semaphore_sink_records_total{{sink="{sink_id}"}}') >= count, 600,
             f"{sink_id} to deliver {count}")
    elapsed = time.monotonic() - started
    rss = peak_rss(process.pid)
    process.terminate()
    process.wait(30)
    return elapsed, rss, admin


def peak_rss(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def timed_peer(function, *arguments):
    started = time.monotonic()
    function(*arguments)
    return time.monotonic() - started


def influx_count(influx, database):
    query = urllib.parse.urlencode({"db": database, "q": "SELECT count(up) FROM meraki_uplink"})
    status, body = http(f"http://{influx}/query?{query}")
    series = json.loads(body)["results"][0].get("series")
    return series[0]["values"][0][1] if series else 0


def start_influx(directory):
    influx = f"127.0.0.1:{free_port()}"
    config = os.path.join(directory, "influx.conf")
    with open(config, "w") as file:
        file.write(f'reporting-disabled = true\nbind-address = "127.0.0.1:{free_port()}"\n[meta]\n  dir = "{directory}/meta"\n'
                   f'[data]\n  dir = "{directory}/data"\n  wal-dir = "{directory}/wal"\n  query-log-enabled = false\n'
                   f'[http]\n  bind-address = "{influx}"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n')
    process = subprocess.Popen(["influxd", "-config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: http(f"http://{influx}/ping")[0] == 204, 30, "influxd")
    for database in ("semaphore", "peer"):
        http(f"http://{influx}/query", data=urllib.parse.urlencode({"q": f"CREATE DATABASE {database}"}).encode())
    return process, influx


def dashboard_latency(brokers, directory, samples):
    from confluent_kafka import Consumer, Producer
    dashboard = f"127.0.0.1:{free_port()}"
    config = os.path.join(directory, "dashboard.toml")
    with open(config, "w") as file:
        file.write(f'data_dir = "{directory}/data-dashboard"\n[kafka]\nbrokers = "{brokers}"\n[admin]\nlisten = ""\n'
                   f'[sinks.dashboard]\nlisten = "{dashboard}"\n')
    process = subprocess.Popen([SEMAPHORE, "run", "-c", config], stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(directory, "dashboard.log"), "w"))
    def records_read():
        status, body = http(f"http://{dashboard}/api/snapshot")
        return json.loads(body)["records"] if status == 200 else -1
    # The backlog of the last hour read first, so only live updates are timed.
    wait_for(lambda: records_read() >= 0, 60, "the dashboard")
    previous = -1
    while records_read() != previous:
        previous = records_read()
        time.sleep(1)
    produced = {}
    seen_sse, seen_kafka = {}, {}

    def sse():
        # The page's way: a tick says something changed, then it asks for what it shows (here, the Q2LT uplinks).
        host, port = dashboard.split(":")
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(f"GET /events HTTP/1.1\r\nHost: {dashboard}\r\nAccept: text/event-stream\r\n\r\n".encode())
            buffer = b""
            while len(seen_sse) < samples:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                *events, buffer = buffer.split(b"\n\n")
                if not any(b"event: tick" in event for event in events):
                    continue
                _, body = http(f"http://{dashboard}/api/overview?q=q2lt-&limit=500")
                now = time.monotonic()
                for row in json.loads(body)["rows"]:
                    if row["serial"] in produced and row["serial"] not in seen_sse:
                        seen_sse[row["serial"]] = now

    def kafka():
        consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"peer-latency-{time.time()}",
                             "auto.offset.reset": "latest", "fetch.wait.max.ms": 10})
        consumer.subscribe([TOPIC])
        deadline = time.monotonic() + samples * 0.2 + 60
        while len(seen_kafka) < samples and time.monotonic() < deadline:
            message = consumer.poll(0.05)
            if message is None or message.error():
                continue
            serial = json.loads(message.value())["serial"]
            if serial.startswith("Q2LT") and serial not in seen_kafka:
                seen_kafka[serial] = time.monotonic()
        consumer.close()

    threads = [threading.Thread(target=sse, daemon=True), threading.Thread(target=kafka, daemon=True)]
    for thread in threads:
        thread.start()
    time.sleep(5)  # both readers assigned and waiting
    producer = Producer({"bootstrap.servers": brokers, "linger.ms": 0})
    base = int(time.time()) // 60 * 60
    for index in range(samples):
        item = record(index, base, samples)
        item["serial"] = f"Q2LT-{index:04d}-0000"
        produced[item["serial"]] = time.monotonic()
        producer.produce(TOPIC, key=item["serial"], value=json.dumps(item).encode(), headers=HEADERS)
        producer.flush(10)
        time.sleep(0.2)
    for thread in threads:
        thread.join(60)
    process.terminate()
    process.wait(30)

    def percentiles(seen):
        latencies = sorted((seen[serial] - produced[serial]) * 1000 for serial in seen)
        if os.environ.get("BENCH_VERBOSE"):
            print([round(value) for value in latencies])
        if not latencies:
            return float("nan"), float("nan"), 0
        return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95) - 1], len(latencies)
    return percentiles(seen_sse), percentiles(seen_kafka)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--latency-samples", type=int, default=100)
    arguments = parser.parse_args()
    count = arguments.records
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        broker = subprocess.Popen([SEMAPHORE, "broker", "--listen", f"127.0.0.1:{port}", "--memory"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        broker.stdout.readline()
        brokers = f"127.0.0.1:{port}"
        subprocess.run([SEMAPHORE, "topics", "create", TOPIC, "--brokers", brokers], check=True,
                       stdout=subprocess.DEVNULL)
        produce(brokers, count)
        influxd, influx = start_influx(directory)
        try:
            semaphore_influx, influx_rss, _ = semaphore_sink(
                brokers, f'[[sinks.influxdb]]\nendpoint = "http://{influx}"\ndatabase = "semaphore"\nbatch_size = 5000\n',
                "influxdb", count, directory)
            peer_influx = timed_peer(python_influx_peer, brokers, influx, "peer", count)
            points = (influx_count(influx, "semaphore"), influx_count(influx, "peer"))
        finally:
            influxd.terminate()
        semaphore_exporter, exporter_rss, _ = semaphore_sink(
            brokers, f'[[sinks.prometheus]]\nlisten = "127.0.0.1:{free_port()}"\n', "prometheus", count, directory)
        peer_exporter = timed_peer(python_exporter_peer, brokers, count)
        (sse_p50, sse_p95, sse_n), (kafka_p50, kafka_p95, kafka_n) = dashboard_latency(
            brokers, directory, arguments.latency_samples)
        broker.terminate()

    print(f"Records: {count:,} uplink samples (200 uplinks), embedded broker (--memory), 6 partitions, one machine.\n")
    print("| Kafka → destination | seconds | records/s | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| semaphore `[[sinks.influxdb]]` (batch 5000) → InfluxDB 1.6 | {semaphore_influx:.2f} | {count / semaphore_influx:,.0f} | {influx_rss:.0f} |")
    print(f"| Python confluent-kafka + requests, same line protocol, batch 5000 | {peer_influx:.2f} | {count / peer_influx:,.0f} | |")
    print(f"| semaphore `[[sinks.prometheus]]` exporter | {semaphore_exporter:.2f} | {count / semaphore_exporter:,.0f} | {exporter_rss:.0f} |")
    print(f"| Python confluent-kafka + prometheus_client gauges | {peer_exporter:.2f} | {count / peer_exporter:,.0f} | |")
    print()
    print(f"Points in InfluxDB afterwards: semaphore {points[0]:,}, peer {points[1]:,} (of {count:,}).")
    print(f"Ratios (semaphore records/s ÷ peer): InfluxDB {peer_influx / semaphore_influx:.2f}, exporter {peer_exporter / semaphore_exporter:.2f}")
    print()
    print("| update latency, produce → seen | p50 ms | p95 ms | samples |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| dashboard: SSE event on /events | {sse_p50:.0f} | {sse_p95:.0f} | {sse_n} |")
    print(f"| bare confluent-kafka consumer (Kafka alone) | {kafka_p50:.0f} | {kafka_p95:.0f} | {kafka_n} |")


if __name__ == "__main__":
    main()
