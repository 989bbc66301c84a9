#!/usr/bin/env python3
"""Syslog into Kafka: semaphore's `[[sources.syslog]]` against rsyslog with `omkafka` (Debian's rsyslog-kafka)
into the same embedded broker, the same messages from syslog-ng's `loggen`, in the same run.

For each receiver and transport, one loggen run sends RFC 5424 messages of ~300 bytes (octet counted over TCP),
and the table gives, on the whole receiving process: messages in Kafka, wall seconds from loggen's start to the
last one in Kafka, messages/s, CPU seconds (user+sys from /proc/PID/stat) and CPU µs per message. TCP runs
at loggen's full speed (TCP holds loggen back when the receiver is slower); UDP at a fixed rate, and what did
not arrive is reported as lost. A last phase sends 2,000 messages/s over TCP for 10 s while a consumer tails
each topic and reports receive → readable in Kafka latency (p50, p99) from the receiver's own receive time in
the record (semaphore's `receivedAt`, rsyslog's `timegenerated`).

Debian's omkafka links Debian's librdkafka 2.0.2, which cannot read the embedded broker's ApiVersions v3 answer
("Protocol read buffer underflow for ApiVersion v3"), so rsyslogd runs with the librdkafka that the
confluent-kafka wheel bundles (2.16, same ABI) on LD_LIBRARY_PATH: Debian's rsyslog and omkafka, a current
librdkafka, as semaphore links one too.

omkafka runs three ways: its own small record (five fields, uncompressed); semaphore's record (the same fields
of `syslog.message/1`, about 820 bytes, keyed by the sender, zstd, idempotent, acks=all: the same work and the
same guarantees, only without Kafka headers, which Debian's omkafka cannot write); and that record without
idempotence. rsyslog's imudp does not strip loggen's octet count from a datagram, so over UDP rsyslog parses
every line a little wrong (hostname "300"); the work is the same.

Other peers, as the issue asks: rsyslog to a file (its ceiling without Kafka), and a Python receiver that parses and
produces with confluent-kafka (what a user would otherwise write).

Usage: bench/syslog.py [--messages 300000] [--udp-rate 20000] [--binary target/release/semaphore]
                       [--receivers semaphore omkafka omkafka-same omkafka-same-unsafe python file]
                       [--transports tcp udp latency]
Needs: rsyslog, rsyslog-kafka, loggen (.ci/install-syslog-ng), python3-confluent-kafka (.ci/requirements.txt).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime

from confluent_kafka import Consumer, TopicPartition

from common import free_port, cpu_seconds

HERE = os.path.dirname(os.path.abspath(__file__))


def wait_for(condition, limit, what):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if condition():
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def listening(port, udp=False):
    if udp:
        return True
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


class Topic:
    """Counts what a topic holds: the sum of its partitions' high watermarks."""

    def __init__(self, brokers, name):
        self.name = name
        self.consumer = Consumer({"bootstrap.servers": brokers, "group.id": "bench-count"})

    def count(self):
        metadata = self.consumer.list_topics(self.name, timeout=5)
        partitions = metadata.topics[self.name].partitions
        return sum(self.consumer.get_watermark_offsets(TopicPartition(self.name, p), timeout=5)[1]
                   for p in partitions)


def semaphore_receiver(binary, directory, brokers, tcp, udp):
    config = os.path.join(directory, "semaphore.toml")
    with open(config, "w") as file:
        file.write(f'data_dir = "{directory}/semaphore"\n[kafka]\nbrokers = "{brokers}"\n'
                   f'[[sources.syslog]]\nlisten = ["tcp://127.0.0.1:{tcp}", "udp://127.0.0.1:{udp}"]\n'
                   f'receive_buffer_bytes = 8388608\nraw = "never"\n')
    log = open(os.path.join(directory, "semaphore.log"), "w")
    return subprocess.Popen([binary, "run", "-c", config], stdout=subprocess.DEVNULL, stderr=log)


def rsyslog_json(end):
    """The record rsyslog writes: its receive time (`timegenerated`, microseconds) and the parsed fields."""
    return ('template(name="semaphore_bench" type="list") {\n'
            '  constant(value="{\\"receivedAt\\":\\"") property(name="timegenerated" dateFormat="rfc3339")\n'
            '  constant(value="\\",\\"hostname\\":\\"") property(name="hostname" format="json")\n'
            '  constant(value="\\",\\"appName\\":\\"") property(name="app-name" format="json")\n'
            '  constant(value="\\",\\"severity\\":") property(name="syslogseverity")\n'
            '  constant(value=",\\"message\\":\\"") property(name="msg" format="json")\n'
            f'  constant(value="\\"}}{end}")\n}}\n')


def rsyslog_same_record():
    """semaphore's `syslog.message/1` as an rsyslog template: the same fields, in the same order, with the nulls
    semaphore writes for what loggen's lines do not carry (vendor fields, device identity), so that omkafka
    produces records of the same size as semaphore's. rsyslog keeps structured data as its text."""
    def string(field, prop, extra=""):
        return (f'  constant(value="\\"{field}\\":\\"") property(name="{prop}" format="json"{extra})\n'
                f'  constant(value="\\",")\n')
    def number(field, prop):
        return f'  constant(value="\\"{field}\\":") property(name="{prop}")\n  constant(value=",")\n'
    def constant(text):
        return '  constant(value="' + text.replace('"', '\\"') + '")\n'
    nulls = ["vendor", "mnemonic", "sequence", "eventType", "fields", "parseError"]
    identity = ["deviceName", "serial", "site", "role", "networkId", "networkName", "tags"]
    return ('template(name="semaphore_same" type="list") {\n' + constant("{")
            + string("ts", "timereported", ' dateFormat="rfc3339"') + constant('"tsSource":"message",')
            + string("receivedAt", "timegenerated", ' dateFormat="rfc3339"')
            + number("facility", "syslogfacility") + string("facilityName", "syslogfacility-text")
            + number("severity", "syslogseverity") + string("severityName", "syslogseverity-text")
            + string("hostname", "hostname") + string("appName", "app-name") + string("procId", "procid")
            + string("msgId", "msgid") + string("structuredData", "structured-data") + string("message", "msg")
            + constant("".join(f'"{field}":null,' for field in nulls)) + constant('"invalidUtf8":false,')
            # rsyslog 8.2302 has no property for the sender's port (`fromhost-port` came later).
            + string("sourceIp", "fromhost-ip") + constant('"sourcePort":null,')
            + string("transport", "inputname")
            + constant("".join(f'"{field}":null,' for field in identity))
            + constant('"truncated":false,"raw":null}') + '}\n'
            'template(name="semaphore_key" type="list") { property(name="fromhost-ip") }\n')


def modern_librdkafka(directory):
    """A directory holding `librdkafka.so.1`: the library bundled in the confluent-kafka wheel."""
    import confluent_kafka
    bundled = os.path.join(os.path.dirname(os.path.dirname(confluent_kafka.__file__)), "confluent_kafka.libs")
    library = next(name for name in os.listdir(bundled) if name.startswith("librdkafka"))
    linked = os.path.join(directory, "librdkafka")
    os.makedirs(linked, exist_ok=True)
    if not os.path.exists(os.path.join(linked, "librdkafka.so.1")):
        os.symlink(os.path.join(bundled, library), os.path.join(linked, "librdkafka.so.1"))
    return linked


def rsyslog_receiver(directory, brokers, tcp, udp, destination):
    """rsyslogd with imtcp and imudp, writing each message as JSON to Kafka (omkafka) or to a file. `kafka`: a
    small record of five fields, uncompressed; `kafka-same`: semaphore's record and producer settings (the same
    fields, keyed by the sender, zstd, idempotent, every replica's acknowledgement); only Kafka headers, which
    Debian's omkafka cannot write, are left out."""
    if destination == "kafka":
        action = (f'action(type="omkafka" broker=["{brokers}"] topic="syslog.rsyslog" template="semaphore_bench" '
                  f'confParam=["linger.ms=5", "compression.codec=none"])\n')
        modules, end = 'module(load="omkafka")\n', ""
    elif destination.startswith("kafka-same"):
        # `kafka-same-unsafe`: idempotence off, which costs omkafka 4× the CPU per message here.
        idempotence = "false" if destination.endswith("unsafe") else "true"
        topic = "syslog.rsyslog-unsafe" if destination.endswith("unsafe") else "syslog.rsyslog-same"
        action = (f'action(type="omkafka" broker=["{brokers}"] topic="{topic}" template="semaphore_same" '
                  f'dynaKey="on" key="semaphore_key" confParam=["linger.ms=5", "compression.codec=zstd", '
                  f'"enable.idempotence={idempotence}", "acks=all", "partitioner=murmur2_random"])\n')
        modules, end = 'module(load="omkafka")\n' + rsyslog_same_record(), ""
    else:
        action = f'action(type="omfile" file="{directory}/rsyslog.out" template="semaphore_bench")\n'
        # One line per message: the file is counted in lines.
        modules, end = "", "\\n"
    config = os.path.join(directory, f"rsyslog-{destination}.conf")
    with open(config, "w") as file:
        file.write(f'global(workDirectory="{directory}" maxMessageSize="64k")\n'
                   f'module(load="imtcp")\nmodule(load="imudp")\n{modules}{rsyslog_json(end)}'
                   f'input(type="imtcp" address="127.0.0.1" port="{tcp}")\n'
                   f'input(type="imudp" address="127.0.0.1" port="{udp}" rcvbufSize="8m")\n{action}')
    log = open(os.path.join(directory, f"rsyslog-{destination}.log"), "w")
    environment = dict(os.environ)
    if destination.startswith("kafka"):
        environment["LD_LIBRARY_PATH"] = modern_librdkafka(directory)
    return subprocess.Popen(["rsyslogd", "-n", "-i", os.path.join(directory, f"rsyslog-{destination}.pid"),
                             "-f", config], stdout=log, stderr=log, env=environment)


def python_receiver(directory, brokers, tcp, udp):
    log = open(os.path.join(directory, "python.log"), "w")
    return subprocess.Popen([sys.executable, os.path.join(HERE, "syslog_python_receiver.py"), brokers,
                             str(tcp), str(udp)], stdout=log, stderr=log)


def loggen(transport, port, messages, rate):
    # --interval: loggen stops after 10 s by default; --number is what ends it here.
    arguments = ["loggen", "--inet", "--syslog-proto", "--size", "300", "--number", str(messages), "--interval", "3600",
                 "--rate", str(rate), "--quiet"]
    arguments.append("--stream" if transport == "tcp" else "--dgram")
    return subprocess.Popen(arguments + ["127.0.0.1", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def measure(name, process, counted, transport, port, messages, rate):
    """One loggen run into `process`; returns its table row, or a row saying why it could not be measured."""
    before_count, before_cpu = counted(), cpu_seconds(process.pid)
    started = time.monotonic()
    sender = loggen(transport, port, messages, rate)
    sender.wait()
    sent_by = time.monotonic()
    # Until every message is in Kafka, or nothing more came for `quiet` seconds: then what arrived (UDP may lose;
    # omkafka over TCP was seen to hold a few dozen messages back for minutes).
    quiet = 3 if transport == "udp" else 10
    last, last_change = counted(), time.monotonic()
    while last - before_count < messages and time.monotonic() - last_change < quiet:
        time.sleep(0.2)
        now = counted()
        if now != last:
            last, last_change = now, time.monotonic()
    done = last_change
    arrived = last - before_count
    cpu = cpu_seconds(process.pid) - before_cpu
    missing = "lost" if transport == "udp" else f"not in Kafka {quiet} s after the last one"
    lost = f" ({messages - arrived:,} {missing})" if arrived < messages else ""
    return (f"| {name} | {transport} | {arrived:,}{lost} | {done - started:.2f} (loggen {sent_by - started:.2f}) "
            f"| {arrived / (done - started):,.0f} | {cpu:.2f} | {f'{cpu / arrived * 1e6:.2f}' if arrived else '—'} |")


def receive_latencies(brokers, topic, stop, out):
    """Tails `topic` from its end and appends (now - receivedAt) in ms for every record until `stop`."""
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"bench-latency-{topic}",
                         "auto.offset.reset": "latest", "fetch.wait.max.ms": 10, "enable.auto.commit": False})
    consumer.subscribe([topic])
    while not stop.is_set():
        message = consumer.poll(0.1)
        if message is None or message.error():
            continue
        now = time.time()
        value = json.loads(message.value())
        received = value["receivedAt"]
        out.append((now - datetime.fromisoformat(received.replace("Z", "+00:00")).timestamp()) * 1000)
    consumer.close()


def latency(name, brokers, topic, port):
    stop, samples = threading.Event(), []
    tail = threading.Thread(target=receive_latencies, args=(brokers, topic, stop, samples))
    tail.start()
    time.sleep(5)  # the consumer's group join and first fetch
    loggen("tcp", port, 20_000, 2_000).wait()
    time.sleep(3)
    stop.set()
    tail.join()
    if not samples:
        return f"| {name} | no records read |"
    samples.sort()
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    return f"| {name} | {len(samples):,} | {pick(0.5):.1f} | {pick(0.99):.1f} | {samples[-1]:.1f} |"


def file_lines(path):
    try:
        with open(path, "rb") as file:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--udp-rate", type=int, default=20_000)
    parser.add_argument("--binary", default="target/release/semaphore")
    parser.add_argument("--receivers", nargs="+", choices=["semaphore", "omkafka", "omkafka-same", "omkafka-same-unsafe", "python", "file"],
                        default=["semaphore", "omkafka", "omkafka-same", "omkafka-same-unsafe", "python", "file"],
                        help="who receives (all by default)")
    parser.add_argument("--transports", nargs="+", choices=["tcp", "udp", "latency"],
                        default=["tcp", "udp", "latency"], help="which runs (all by default)")
    arguments = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="semaphore-syslog-bench-")
    port = free_port()
    brokers = f"127.0.0.1:{port}"
    broker = subprocess.Popen([arguments.binary, "broker", "--memory", "--listen", brokers],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: listening(port), 30, "the broker")
    topic_names = ["syslog.messages", "syslog.rsyslog", "syslog.rsyslog-same", "syslog.rsyslog-unsafe", "syslog.python"]
    for topic in topic_names:
        subprocess.run([arguments.binary, "topics", "create", topic, "--brokers", brokers], check=True,
                       stdout=subprocess.DEVNULL)

    topics = {name: Topic(brokers, name) for name in topic_names}
    receivers = [
        ("semaphore", "semaphore", lambda tcp, udp: semaphore_receiver(arguments.binary, directory, brokers, tcp, udp),
         topics["syslog.messages"].count, "syslog.messages"),
        ("rsyslog omkafka", "omkafka", lambda tcp, udp: rsyslog_receiver(directory, brokers, tcp, udp, "kafka"),
         topics["syslog.rsyslog"].count, "syslog.rsyslog"),
        ("rsyslog omkafka, semaphore's record", "omkafka-same",
         lambda tcp, udp: rsyslog_receiver(directory, brokers, tcp, udp, "kafka-same"),
         topics["syslog.rsyslog-same"].count, "syslog.rsyslog-same"),
        ("rsyslog omkafka, semaphore's record, not idempotent", "omkafka-same-unsafe",
         lambda tcp, udp: rsyslog_receiver(directory, brokers, tcp, udp, "kafka-same-unsafe"),
         topics["syslog.rsyslog-unsafe"].count, "syslog.rsyslog-unsafe"),
        ("python confluent-kafka", "python", lambda tcp, udp: python_receiver(directory, brokers, tcp, udp),
         topics["syslog.python"].count, "syslog.python"),
        ("rsyslog to a file (no Kafka)", "file", lambda tcp, udp: rsyslog_receiver(directory, brokers, tcp, udp, "file"),
         lambda: file_lines(os.path.join(directory, "rsyslog.out")), None),
    ]
    rows, latency_rows = [], []
    for name, short, start, counted, topic in receivers:
        if short not in arguments.receivers:
            continue
        tcp, udp = free_port(), free_port()
        process = start(tcp, udp)
        try:
            wait_for(lambda: listening(tcp), 60, f"{name} listening")
            time.sleep(1)
            if "tcp" in arguments.transports:
                rows.append(measure(name, process, counted, "tcp", tcp, arguments.messages, 10_000_000))
                print(rows[-1], file=sys.stderr, flush=True)
            if "udp" in arguments.transports:
                rows.append(measure(name, process, counted, "udp", udp, arguments.messages // 3,
                                    arguments.udp_rate))
                print(rows[-1], file=sys.stderr, flush=True)
            if topic and "latency" in arguments.transports:
                latency_rows.append(latency(name, brokers, topic, tcp))
        finally:
            process.terminate()
            process.wait()
    for topic in topics.values():
        topic.consumer.close()
    broker.terminate()
    broker.wait()
    print("| receiver | transport | messages in Kafka | wall s | messages/s | CPU s (user+sys) | CPU µs/message |")
    print("|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print("\nReceive → readable in Kafka, TCP at 2,000 messages/s:\n")
    print("| receiver | messages | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(latency_rows))


if __name__ == "__main__":
    main()
