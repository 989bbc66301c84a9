#!/usr/bin/env python3
"""One SNMP poll cycle of many snmpsim agents (issue 14): semaphore's `[[sources.snmp]]` against the shell loop an
operator would otherwise run (net-snmp's `snmpget` and `snmpbulkwalk` per target under `xargs -P`) and against
Python pysnmp doing the same walks, one after the other against the same agents, in the same run.

The agents: snmpsim (/opt/snmpsim, `.ci/install-snmpsim`) serving one recording of an access switch that this script
writes (the system group, ifNumber, and ifTable and ifXTable with the default profile's columns for --ports ports),
each agent on its own loopback address 127.X.Y.Z, all on one UDP port; run as `nobody` (snmpsim refuses root), in
--snmpsim-processes processes sharing the agents out.

What every contender does per target, the same work: SNMPv2c, one GET of sysName, sysDescr, sysObjectID and
sysUpTime, then GETBULK walks of ifTable and ifXTable (max-repetitions 25), timeout 5 s, 1 retry, at most 64
targets at once, and the results to a file (no Kafka):
- shell: `xargs -P 64`, per target `snmpget` + `snmpbulkwalk` of ifTable + `snmpbulkwalk` of ifXTable
  (`-m "" -On -Cr25`), into one file per target;
- pysnmp: bench/snmp_pysnmp.py (asyncio, `get_cmd`/`bulk_walk_cmd`, an asyncio semaphore of 64), JSON lines;
- semaphore: `semaphore run --once` with one `[[sources.snmp]]` and `[[outputs.file]]` (JSON lines);
  with --kafka, once more into the embedded broker (reported on its own row).

Each row is measured on the contender's whole process tree: wall seconds from spawn to exit (the cycle), user and
system CPU seconds of the process and every descendant it reaped (`/usr/bin/time`, i.e. `wait4`; the shell loop's
thousands of short processes included), the largest single process's peak RSS (the same `wait4`), and the tree's
peak PSS summed over its live processes (sampled every 0.25 s: what 64 concurrent net-snmp commands hold
together). snmpsim's own CPU over each contender's cycle is measured too (/proc), with how busy that kept its
processes: near 100 % of a core each, the agents, not the contender, bound the cycle. Afterwards the records are
counted (a device counts when its four system values arrived, an interface when its columns did), so a run that
lost devices cannot look fast.

Usage: python3 bench/snmp.py [--agents 1000] [--ports 24] [--snmpsim-processes CORES] [--rounds 1] [--skip-semaphore]
                             [--kafka] [--binary target/release/semaphore] [--keep]
Prints Markdown tables; paste them into bench/README.md.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from common import descendants, free_port, tree_cpu_seconds

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESPONDER = "/opt/snmpsim/bin/snmpsim-command-responder"
SNMPSIM_PYTHON = "/opt/snmpsim/bin/python"
COMMUNITY = "bench-switch"  # snmpsim serves `COMMUNITY.snmprec` to this community
IN_FLIGHT, MAX_REPETITIONS, TIMEOUT_S, RETRIES = 64, 25, 5, 1

SYSTEM = ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0"]
IF_TABLE, IF_X_TABLE = "1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"
# The default profile's columns: (column, snmprec tag, name).
IF_TABLE_COLUMNS = [(2, 4, "ifDescr"), (3, 2, "ifType"), (5, 66, "ifSpeed"), (7, 2, "ifAdminStatus"),
                    (8, 2, "ifOperStatus"), (10, 65, "ifInOctets"), (11, 65, "ifInUcastPkts"),
                    (13, 65, "ifInDiscards"), (14, 65, "ifInErrors"), (16, 65, "ifOutOctets"),
                    (17, 65, "ifOutUcastPkts"), (19, 65, "ifOutDiscards"), (20, 65, "ifOutErrors")]
IF_X_TABLE_COLUMNS = [(1, 4, "ifName"), (2, 65, "ifInMulticastPkts"), (3, 65, "ifInBroadcastPkts"),
                      (4, 65, "ifOutMulticastPkts"), (5, 65, "ifOutBroadcastPkts"), (6, 70, "ifHCInOctets"),
                      (7, 70, "ifHCInUcastPkts"), (8, 70, "ifHCInMulticastPkts"), (9, 70, "ifHCInBroadcastPkts"),
                      (10, 70, "ifHCOutOctets"), (11, 70, "ifHCOutUcastPkts"), (12, 70, "ifHCOutMulticastPkts"),
                      (13, 70, "ifHCOutBroadcastPkts"), (15, 66, "ifHighSpeed"), (18, 4, "ifAlias")]
COLUMNS = len(IF_TABLE_COLUMNS) + len(IF_X_TABLE_COLUMNS)


def recording(ports, seed=14):
    """An access switch in snmprec's `OID|TAG|VALUE` lines, in OID order: the system group, ifNumber, and ifTable and
    ifXTable with the default profile's columns for `ports` gigabit ports (every other one connected and the last
    two uplinks, counters of weeks of traffic, the 32-bit ones wrapped), then ifStackTable's status column."""
    rng = random.Random(seed)
    rows = []
    for index in range(1, ports + 1):
        up = index % 2 == 1 or index > ports - 2  # the last two: uplinks
        scale = 50 if index > ports - 2 else 1
        counters = {name: rng.randrange(10**9, 10**11) * scale if up else 0 for name in
                    ("in_octets", "out_octets")}
        for name, divisor in (("in_ucast", 700), ("out_ucast", 650)):
            counters[name] = counters[name.replace("ucast", "octets")] // divisor
        for name in ("in_multicast", "in_broadcast", "out_multicast", "out_broadcast"):
            counters[name] = rng.randrange(10**4, 10**7) if up else 0
        counters["in_discards"] = rng.randrange(0, 500) if up else 0
        counters["out_discards"] = rng.randrange(0, 2000) if up else 0
        counters["in_errors"] = rng.randrange(0, 20) if up else 0
        counters["out_errors"] = 0
        rows.append((index, up, counters))

    def c32(value):
        return value % (1 << 32)

    values = {
        "ifDescr": lambda i, up, c: f"GigabitEthernet1/0/{i}",
        "ifType": lambda i, up, c: 6,
        "ifSpeed": lambda i, up, c: 1_000_000_000,
        "ifAdminStatus": lambda i, up, c: 1,
        "ifOperStatus": lambda i, up, c: 1 if up else 2,
        "ifInOctets": lambda i, up, c: c32(c["in_octets"]),
        "ifInUcastPkts": lambda i, up, c: c32(c["in_ucast"]),
        "ifInDiscards": lambda i, up, c: c["in_discards"],
        "ifInErrors": lambda i, up, c: c["in_errors"],
        "ifOutOctets": lambda i, up, c: c32(c["out_octets"]),
        "ifOutUcastPkts": lambda i, up, c: c32(c["out_ucast"]),
        "ifOutDiscards": lambda i, up, c: c["out_discards"],
        "ifOutErrors": lambda i, up, c: c["out_errors"],
        "ifName": lambda i, up, c: f"Gi1/0/{i}",
        "ifInMulticastPkts": lambda i, up, c: c32(c["in_multicast"]),
        "ifInBroadcastPkts": lambda i, up, c: c32(c["in_broadcast"]),
        "ifOutMulticastPkts": lambda i, up, c: c32(c["out_multicast"]),
        "ifOutBroadcastPkts": lambda i, up, c: c32(c["out_broadcast"]),
        "ifHCInOctets": lambda i, up, c: c["in_octets"],
        "ifHCInUcastPkts": lambda i, up, c: c["in_ucast"],
        "ifHCInMulticastPkts": lambda i, up, c: c["in_multicast"],
        "ifHCInBroadcastPkts": lambda i, up, c: c["in_broadcast"],
        "ifHCOutOctets": lambda i, up, c: c["out_octets"],
        "ifHCOutUcastPkts": lambda i, up, c: c["out_ucast"],
        "ifHCOutMulticastPkts": lambda i, up, c: c["out_multicast"],
        "ifHCOutBroadcastPkts": lambda i, up, c: c["out_broadcast"],
        "ifHighSpeed": lambda i, up, c: 1000,
        "ifAlias": lambda i, up, c: ("uplink to dist-1" if i > ports - 2 else f"desk {100 + i}") if up else "",
    }
    lines = [
        "1.3.6.1.2.1.1.1.0|4|Cisco IOS Software, Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4 (simulated)",
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.2694",
        "1.3.6.1.2.1.1.3.0|67|372211533",
        "1.3.6.1.2.1.1.5.0|4|access-sw-01",
        f"1.3.6.1.2.1.2.1.0|2|{ports}",
    ]
    # OID order: ifTable column by column, each row by row; then ifXTable.
    for table, columns in ((IF_TABLE, IF_TABLE_COLUMNS), (IF_X_TABLE, IF_X_TABLE_COLUMNS)):
        for column, tag, name in columns:
            for index, up, counters in rows:
                lines.append(f"{table}.1.{column}.{index}|{tag}|{values[name](index, up, counters)}")
    # What follows ifXTable on a device (ifStackTable): a walk of ifXTable ends leaving the table, as on a switch,
    # not at the end of the agent's MIB view.
    lines += [f"1.3.6.1.2.1.31.1.2.1.3.0.{index}|2|1" for index, _, _ in rows]
    return "\n".join(lines) + "\n"


class Snmpsim:
    """snmpsim-command-responder as `nobody`, in `processes` processes, each serving its share of the agents."""

    def __init__(self, directory, agents, processes, recording):
        self.data = os.path.join(directory, "recordings")
        os.makedirs(self.data)
        self.write(recording)
        port = free_port(socket.SOCK_DGRAM)
        # A second octet of its own per run (as the tests' snmpsim does), so agents of runs side by side never clash.
        octet = 2 + port % 250
        self.agents = [f"127.{octet}.{index // 250}.{index % 250 + 1}:{port}" for index in range(agents)]
        self.directory = directory
        self.processes = []
        for number in range(processes):
            share = self.agents[number::processes]
            if not share:
                continue
            cache = os.path.join(directory, f"snmpsim-cache-{number}")
            os.makedirs(cache)
            shutil.chown(cache, "nobody")
            log = open(os.path.join(directory, f"snmpsim-{number}.log"), "w")
            arguments = ["runuser", "-u", "nobody", "--", RESPONDER, f"--data-dir={self.data}",
                         f"--cache-dir={cache}", "--log-level=error"]
            arguments += [f"--agent-udpv4-endpoint={agent}" for agent in share]
            self.processes.append((subprocess.Popen(arguments, stdout=log, stderr=log), share))

    def write(self, text):
        with open(os.path.join(self.data, f"{COMMUNITY}.snmprec"), "w") as file:
            file.write(text)

    def wait_answering(self, limit=600):
        """Until the last agent of every process answers a GET (snmpsim indexes the recording, then binds)."""
        started = time.monotonic()
        for process, share in self.processes:
            while True:
                if process.poll() is not None:
                    sys.exit(f"snmpsim exited ({process.returncode}); see {self.directory}/snmpsim-*.log")
                answer = subprocess.run(["snmpget", "-v2c", "-c", COMMUNITY, "-m", "", "-On", "-t", "1", "-r", "0",
                                         share[-1], SYSTEM[0]], capture_output=True, text=True)
                if answer.returncode == 0 and SYSTEM[0] in answer.stdout:
                    break
                if time.monotonic() - started > limit:
                    sys.exit(f"snmpsim's agent {share[-1]} did not answer in {limit} s: {answer.stderr.strip()}")
                time.sleep(0.5)
        return time.monotonic() - started

    def cpu_seconds(self):
        return sum(tree_cpu_seconds(process.pid) for process, _ in self.processes)

    def stop(self):
        for process, _ in self.processes:
            # runuser's child is snmpsim itself: signal it by its pid, then runuser.
            for pid in reversed(descendants(process.pid)):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process, _ in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                for pid in reversed(descendants(process.pid)):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                process.wait()


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for row in rollup:
                if row.startswith("Pss:"):
                    return int(row.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def measured(arguments, environment, snmpsim, log_path):
    """Runs `arguments` to its end under /usr/bin/time; returns its wall seconds, the user and system CPU seconds of
    its whole tree (`wait4`: the process and every descendant it reaped), the largest single process's peak RSS,
    the tree's sampled peak PSS, and snmpsim's CPU seconds meanwhile. /usr/bin/time rather than `wait4` from here:
    a child forked from this Python starts with Python's memory, which its peak RSS would then report."""
    usage_path = log_path + ".time"
    log = open(log_path, "w")
    snmpsim_before = snmpsim.cpu_seconds()
    started = time.monotonic()
    process = subprocess.Popen(["/usr/bin/time", "-o", usage_path, "-f", "%x %U %S %M"] + arguments,
                               env=environment, stdout=log, stderr=log)
    peak_pss, done = [0], threading.Event()

    def sample():
        while not done.wait(0.25):
            peak_pss[0] = max(peak_pss[0], sum(pss_kib(pid) for pid in descendants(process.pid)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    wall = time.monotonic() - started
    snmpsim_cpu = snmpsim.cpu_seconds() - snmpsim_before
    done.set()
    sampler.join()
    log.close()
    with open(usage_path) as usage:
        # A command killed by a signal gets a "Command terminated by signal N" line first.
        exit_code, user, system, rss_kib = usage.read().split("\n")[-2].split()
    return {"wall": wall, "user": float(user), "sys": float(system), "cpu": float(user) + float(system),
            "rss_mib": int(rss_kib) / 1024, "pss_mib": peak_pss[0] / 1024, "snmpsim_cpu": snmpsim_cpu,
            "exit": int(exit_code)}


def shell_loop(directory, targets_file, environment, snmpsim):
    """The operator's loop: `xargs -P 64`, per target snmpget + two snmpbulkwalks into one file."""
    out = os.path.join(directory, "shell-out")
    os.makedirs(out)
    common = f'-v2c -c "$BENCH_COMMUNITY" -m "" -On -t {TIMEOUT_S} -r {RETRIES}'
    script = (f'snmpget {common} "$1" {" ".join(SYSTEM)} > "$OUT/$1.txt" 2>&1; '
              f'snmpbulkwalk {common} -Cr{MAX_REPETITIONS} "$1" {IF_TABLE} >> "$OUT/$1.txt" 2>&1; '
              f'snmpbulkwalk {common} -Cr{MAX_REPETITIONS} "$1" {IF_X_TABLE} >> "$OUT/$1.txt" 2>&1')
    row = measured(["xargs", "-a", targets_file, "-P", str(IN_FLIGHT), "-n", "1", "sh", "-c", script, "sh"],
                   {**environment, "OUT": out}, snmpsim, os.path.join(directory, "shell.log"))
    row.update(count_shell(out))
    return row


def count_shell(out):
    """Devices whose four system values arrived, interfaces whose 28 columns arrived, across the target files."""
    systems = interfaces = 0
    wanted = {f"{IF_TABLE}.1.{column}" for column, _, _ in IF_TABLE_COLUMNS}
    wanted |= {f"{IF_X_TABLE}.1.{column}" for column, _, _ in IF_X_TABLE_COLUMNS}
    for name in os.listdir(out):
        found, columns = set(), {}
        with open(os.path.join(out, name), errors="replace") as file:
            for line in file:
                if not line.startswith(".") or " = " not in line:
                    continue
                oid = line.split(" = ", 1)[0][1:]
                if oid in SYSTEM:
                    found.add(oid)
                    continue
                column, _, index = oid.rpartition(".")
                if column in wanted:
                    columns.setdefault(index, set()).add(column)
        systems += len(found) == len(SYSTEM)
        interfaces += sum(len(seen) == COLUMNS for seen in columns.values())
    return {"systems": systems, "interfaces": interfaces}


# What a semaphore `snmp.interface/1` record must carry to count: names and counters of both tables (its schema
# has the speed as `ifHighSpeed` and `speedBitsPerSecond`, not `ifSpeed`).
SEMAPHORE_REQUIRED = ["ifName", "ifAlias", "ifDescr", "ifOperStatus", "ifHCInOctets", "ifHCOutOctets", "ifInErrors",
                      "ifOutErrors", "ifHCInBroadcastPkts", "ifOutDiscards"]


def count_lines(path, required):
    """Distinct devices and interfaces in a JSON lines file: a record with `ifIndex` is an interface's and counts
    when every `required` field has a value, one with `sysDescr` (and no `ifIndex`) a device's."""
    systems, interfaces = set(), set()
    try:
        with open(path) as file:
            for line in file:
                record = json.loads(line)
                if "ifIndex" in record:
                    if all(record.get(name) is not None for name in required):
                        interfaces.add((record.get("target"), record["ifIndex"]))
                elif "sysDescr" in record:
                    systems.add(record.get("target"))
    except FileNotFoundError:
        pass
    return {"systems": len(systems), "interfaces": len(interfaces)}


def pysnmp_peer(directory, targets_file, environment, snmpsim):
    output = os.path.join(directory, "pysnmp.jsonl")
    row = measured([SNMPSIM_PYTHON, os.path.join(HERE, "snmp_pysnmp.py"), targets_file, output,
                    "--in-flight", str(IN_FLIGHT), "--max-repetitions", str(MAX_REPETITIONS),
                    "--timeout", str(TIMEOUT_S), "--retries", str(RETRIES)],
                   environment, snmpsim, os.path.join(directory, "pysnmp.log"))
    row.update(count_lines(output, [name for _, _, name in IF_TABLE_COLUMNS + IF_X_TABLE_COLUMNS]))
    return row


def semaphore_config(directory, name, targets, destination):
    listed = ",\n  ".join(f'"{target}"' for target in targets)
    config = os.path.join(directory, f"{name}.toml")
    with open(config, "w") as file:
        file.write(f'data_dir = "{directory}/{name}-data"\n[admin]\nlisten = ""\n'
                   f'[[sources.snmp]]\nid = "bench"\ntargets = [\n  {listed},\n]\nversion = "2c"\n'
                   f'community_env = "BENCH_COMMUNITY"\nmax_in_flight = {IN_FLIGHT}\n'
                   f'max_repetitions = {MAX_REPETITIONS}\ninterval_s = 60\ntimeout_s = {TIMEOUT_S}\n'
                   f'retries = {RETRIES}\n{destination}')
    return config


def source_cycle_seconds(log_path):
    """The source's own cycle time, from its `Cycle done.` line (debug level), when it logged one."""
    try:
        with open(log_path, errors="replace") as log:
            text = re.sub(r"\x1b\[[0-9;]*m", "", log.read())
    except FileNotFoundError:
        return None
    found = re.search(r"Cycle done\..*?seconds=([0-9.]+)", text)
    return float(found.group(1)) if found else None


def semaphore_file(binary, directory, targets, environment, snmpsim, index):
    output = os.path.join(directory, f"semaphore-{index}.jsonl")
    config = semaphore_config(directory, f"semaphore-{index}", targets, f'[[outputs.file]]\npath = "{output}"\n')
    log = os.path.join(directory, f"semaphore-{index}.log")
    row = measured([binary, "run", "--once", "-c", config], {**environment, "SEMAPHORE_LOG": "semaphore=debug"},
                   snmpsim, log)
    row.update(count_lines(output, SEMAPHORE_REQUIRED))
    row["source_cycle"] = source_cycle_seconds(log)
    failed(row, log)
    return row


def failed(row, log):
    """Shows the end of semaphore's log when it exited with an error (a config it does not know, a lost target)."""
    if row["exit"]:
        with open(log, errors="replace") as file:
            tail = re.sub(r"\x1b\[[0-9;]*m", "", file.read())[-2000:]
        print(f"  semaphore exited {row['exit']}; the end of {log}:\n{tail}", file=sys.stderr)


class Broker:
    """The embedded broker (`semaphore broker --memory`) with the SNMP topics, for the --kafka row."""

    def __init__(self, binary, directory):
        port = free_port()
        self.brokers = f"127.0.0.1:{port}"
        log = open(os.path.join(directory, "broker.log"), "w")
        self.process = subprocess.Popen([binary, "broker", "--memory", "--listen", self.brokers],
                                        stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while subprocess.run([binary, "topics", "create", "snmp.system", "--brokers", self.brokers],
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                sys.exit("the embedded broker did not come up")
            time.sleep(0.5)
        subprocess.run([binary, "topics", "create", "snmp.interfaces", "--brokers", self.brokers], check=True,
                       capture_output=True)

    def counts(self):
        from confluent_kafka import Consumer, TopicPartition
        consumer = Consumer({"bootstrap.servers": self.brokers, "group.id": "bench-count"})
        try:
            totals = {}
            for topic in ("snmp.system", "snmp.interfaces"):
                partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
                totals[topic] = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                                    for p in partitions)
            return totals
        finally:
            consumer.close()

    def stop(self):
        self.process.terminate()
        self.process.wait()


def semaphore_kafka(binary, directory, targets, environment, snmpsim, broker, index):
    config = semaphore_config(directory, f"semaphore-kafka-{index}", targets,
                              f'[kafka]\nbrokers = "{broker.brokers}"\n')
    log = os.path.join(directory, f"semaphore-kafka-{index}.log")
    before = broker.counts()
    row = measured([binary, "run", "--once", "-c", config], {**environment, "SEMAPHORE_LOG": "semaphore=debug"},
                   snmpsim, log)
    after = broker.counts()
    row.update({"systems": after["snmp.system"] - before["snmp.system"],
                "interfaces": after["snmp.interfaces"] - before["snmp.interfaces"],
                "source_cycle": source_cycle_seconds(log)})
    failed(row, log)
    return row


def median_row(rows):
    keys = [key for key, value in rows[0].items() if isinstance(value, (int, float)) and value is not None]
    merged = {key: statistics.median(row[key] for row in rows) for key in keys}
    cycles = [row.get("source_cycle") for row in rows if row.get("source_cycle") is not None]
    merged["source_cycle"] = statistics.median(cycles) if cycles else None
    merged["exit"] = max(row["exit"] for row in rows)
    return merged


def table(results, agents, ports, processes):
    expected_interfaces = agents * ports
    print(f"\n{agents:,} agents × {ports} ports (expected: {agents:,} system records, {expected_interfaces:,} "
          f"interface records); snmpsim in {processes} process(es); {IN_FLIGHT} targets in flight, "
          f"max-repetitions {MAX_REPETITIONS}, SNMPv2c\n")
    print("| contender | cycle s | CPU s (user+sys) | user s | sys s | CPU ms/device | peak RSS MiB (largest process) "
          "| peak PSS MiB (tree) | system records | interface records | snmpsim CPU s | snmpsim busy |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        cycle = f"{row['wall']:.2f}"
        if row.get("source_cycle") is not None:
            cycle += f" (source: {row['source_cycle']:.2f})"
        lost = ""
        if row["systems"] < agents or row["interfaces"] < expected_interfaces:
            lost = " **incomplete**"
        if row["exit"]:
            lost += f" (exit {row['exit']})"
        busy = row["snmpsim_cpu"] / row["wall"] / processes * 100
        print(f"| {name}{lost} | {cycle} | {row['cpu']:.2f} | {row['user']:.2f} | {row['sys']:.2f} "
              f"| {row['cpu'] / agents * 1000:.2f} | {row['rss_mib']:.0f} | {row['pss_mib']:.0f} "
              f"| {row['systems']:,.0f} | {row['interfaces']:,.0f} | {row['snmpsim_cpu']:.2f} | {busy:.0f} % |")
    answered = [row["snmpsim_cpu"] for row in results.values() if row["systems"]]
    needed = statistics.median(answered) if answered else 0.0
    floor = needed / min(processes, os.cpu_count())
    print(f"\nsnmpsim spent {needed:.1f} CPU s answering one cycle (median over the contenders): in {processes} "
          f"process(es) on {os.cpu_count()} cores, no cycle can be shorter than {floor:.1f} s, "
          f"and every CPU second a contender spends on these cores lengthens it.")
    peers = {name: row for name, row in results.items() if not name.startswith("semaphore")}
    ours = results.get("semaphore")
    if not ours or not peers:
        return
    if ours["exit"]:
        print(f"\nsemaphore exited {ours['exit']}: no ratios (see its log above).")
        return
    print("\nRatios (semaphore / peer):\n")
    print("| peer | cycle | CPU | peak RSS (largest process) | peak PSS (tree) |")
    print("|---|---:|---:|---:|---:|")
    for name, row in peers.items():
        print(f"| {name} | {ours['wall'] / row['wall']:.2f} | {ours['cpu'] / max(row['cpu'], 1e-9):.3f} "
              f"| {ours['rss_mib'] / row['rss_mib']:.2f} | {ours['pss_mib'] / max(row['pss_mib'], 1e-9):.2f} |")
    best = min(peers, key=lambda name: peers[name]["cpu"])
    complete = ours["systems"] >= agents and ours["interfaces"] >= expected_interfaces
    cycle_met = ours["wall"] < 60 and complete
    cpu_met = ours["cpu"] * 5 <= peers[best]["cpu"] and complete
    print(f"\nGoal: cycle well inside 60 s: {ours['wall']:.2f} s, {'met' if cycle_met else 'NOT met'}; "
          f"CPU ≤ 1/5 of the "
          f"best peer's ({best}, {peers[best]['cpu']:.2f} s): {ours['cpu']:.2f} s = "
          f"{ours['cpu'] / max(peers[best]['cpu'], 1e-9):.3f}×, {'met' if cpu_met else 'NOT met'}"
          f"{'' if complete else ' (semaphore lost records)'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--ports", type=int, default=24)
    parser.add_argument("--snmpsim-processes", type=int, default=os.cpu_count(),
                        help="snmpsim processes sharing the agents out (default: one a core; one process of snmpsim, "
                             "pure Python, answers 1,000 agents × 24 ports in no less than about 62 s)")
    parser.add_argument("--rounds", type=int, default=1, help="cycles of each contender, interleaved; medians kept")
    parser.add_argument("--skip-semaphore", action="store_true", help="the peers only (a binary without SNMP)")
    parser.add_argument("--kafka", action="store_true",
                        help="also semaphore into the embedded broker (a row of its own)")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "semaphore"))
    parser.add_argument("--keep", action="store_true", help="keep the work directory (outputs, logs)")
    arguments = parser.parse_args()
    for tool in ("snmpget", "snmpbulkwalk", "runuser", "xargs", "/usr/bin/time"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (net-snmp: apt-get install snmp; util-linux; findutils; time)")
    if not arguments.skip_semaphore and not os.access(arguments.binary, os.X_OK):
        sys.exit(f"{arguments.binary} is missing: cargo build --release -p semaphore-cli, or --binary PATH")
    if not os.path.exists(RESPONDER):
        sys.exit(f"{RESPONDER} is missing: run .ci/install-snmpsim")

    directory = tempfile.mkdtemp(prefix="semaphore-snmp-bench-")
    os.chmod(directory, 0o755)  # snmpsim runs as nobody
    snmpsim = Snmpsim(directory, arguments.agents, arguments.snmpsim_processes, recording(arguments.ports))
    broker = None
    try:
        started = snmpsim.wait_answering()
        print(f"snmpsim: {arguments.agents:,} agents answering after {started:.1f} s "
              f"({len(snmpsim.processes)} process(es))", file=sys.stderr)
        targets_file = os.path.join(directory, "targets.txt")
        with open(targets_file, "w") as file:
            file.write("\n".join(snmpsim.agents) + "\n")
        environment = {**os.environ, "BENCH_COMMUNITY": COMMUNITY}
        contenders = {}
        if not arguments.skip_semaphore:
            contenders["semaphore"] = lambda index: semaphore_file(
                arguments.binary, directory, snmpsim.agents, environment, snmpsim, index)
        contenders[f"shell: xargs -P {IN_FLIGHT} snmpget + snmpbulkwalk"] = lambda index: shell_loop(
            os.path.join(directory, f"round-{index}"), targets_file, environment, snmpsim)
        contenders[f"pysnmp {pysnmp_version()} asyncio"] = lambda index: pysnmp_peer(
            os.path.join(directory, f"round-{index}"), targets_file, environment, snmpsim)
        if arguments.kafka and not arguments.skip_semaphore:
            broker = Broker(arguments.binary, directory)
            contenders["semaphore into the embedded broker (Kafka)"] = lambda index: semaphore_kafka(
                arguments.binary, directory, snmpsim.agents, environment, snmpsim, broker, index)
        rows = {name: [] for name in contenders}
        for index in range(arguments.rounds):
            os.makedirs(os.path.join(directory, f"round-{index}"))
            for name, run in contenders.items():
                print(f"round {index + 1}: {name} (load average {os.getloadavg()[0]:.2f})...", file=sys.stderr,
                      flush=True)
                row = run(index)
                print(f"  {row['wall']:.2f} s, CPU {row['cpu']:.2f} s, {row['systems']:,} systems, "
                      f"{row['interfaces']:,} interfaces, snmpsim CPU {row['snmpsim_cpu']:.2f} s",
                      file=sys.stderr, flush=True)
                rows[name].append(row)
        results = {name: median_row(found) for name, found in rows.items()}
        if arguments.rounds > 1:
            print(f"\nMedians of {arguments.rounds} rounds.")
        table(results, arguments.agents, arguments.ports, len(snmpsim.processes))
    finally:
        if broker:
            broker.stop()
        snmpsim.stop()
        if arguments.keep:
            print(f"work directory kept: {directory}", file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)


def pysnmp_version():
    answer = subprocess.run([SNMPSIM_PYTHON, "-c", "import pysnmp; print(pysnmp.__version__)"],
                            capture_output=True, text=True)
    return answer.stdout.strip() or "?"


if __name__ == "__main__":
    main()
