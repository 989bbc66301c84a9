#!/usr/bin/env bash
# Producer and consumer throughput through the embedded broker, in one run, same broker, same record size:
#   semaphore's producer path (crates/semaphore/examples/bus_bench.rs) and `semaphore consume -e -f value|json`,
#   librdkafka's own rdkafka_performance (built from the rdkafka-sys crate's copy of librdkafka),
#   Python confluent-kafka (bench/python_kafka.py): its producer, and `print`, the peer of `semaphore consume`.
# Every row has the whole process's CPU seconds (user + sys, from wait4) beside its wall time and records/s.
# Usage: bench/kafka_throughput.sh [RECORDS] [SIZE]; BENCH_ROUNDS (default 3) runs of each consumer, median kept;
# BENCH_STORAGE=memory (default) or sqlite: the broker's storage (`--memory` or `--data-dir` in a fresh directory);
# BENCH_BROKER=PATH: another `semaphore` binary to run the broker with (an earlier build, to compare brokers).
# Prints Markdown tables; copy them into bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
size=${2:-200}
rounds=${BENCH_ROUNDS:-3}
out=bench/out
mkdir -p "$out"

echo "Building release binaries..." >&2
cargo build --release -q --ignore-rust-version -p semaphore-cli
cargo build --release -q --ignore-rust-version -p semaphore --example bus_bench
semaphore=target/release/semaphore

# rdkafka_performance from the same librdkafka sources semaphore links.
rdkafka_out=$(dirname "$(find target/release/build -path '*rdkafka-sys-*/out/src/librdkafka.a' | head -n 1)")/..
zstd_lib=$(find target/release/build -path '*zstd-sys-*/out/libzstd.a' | head -n 1)
if [[ ! -x "$out/rdkafka_performance" ]]; then
  gcc -O2 -o "$out/rdkafka_performance" "$rdkafka_out/examples/rdkafka_performance.c" -I"$rdkafka_out/src" \
    "$rdkafka_out/src/librdkafka.a" "$zstd_lib" -lssl -lcrypto -lz -lpthread -lm -ldl -lrt
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
brokers=127.0.0.1:$port
storage=${BENCH_STORAGE:-memory}
broker_binary=${BENCH_BROKER:-$semaphore}
case "$storage" in
  memory) storage_flags=(--memory) ;;
  sqlite) broker_data=$(mktemp -d); storage_flags=(--data-dir "$broker_data") ;;
  *) echo "BENCH_STORAGE must be memory or sqlite, not $storage" >&2; exit 2 ;;
esac
"$broker_binary" broker "${storage_flags[@]}" --listen "$brokers" > "$out/broker.log" 2>&1 &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null || true; [[ -n "${broker_data:-}" ]] && rm -rf "$broker_data"' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
export SEMAPHORE_BROKERS=$brokers

for topic in semaphore rdkafka python print; do
  "$semaphore" topics create "bench-$topic" --partitions 6 > /dev/null
done

# timed NAME COMMAND... runs COMMAND with its stdout read through a pipe into $out/NAME.stdout (stderr into
# $out/NAME.stderr) and prints one JSON line: wall seconds, the whole process's user and sys CPU seconds (all its
# threads, from wait4), its exit status, the lines it printed, and the seconds from its last output to its exit.
timed() {
  local name=$1
  shift
  python3 - "$out/$name" "$@" <<'PY'
import json, os, subprocess, sys, time
prefix, command = sys.argv[1], sys.argv[2:]
with open(prefix + ".stdout", "wb") as sink, open(prefix + ".stderr", "wb") as stderr:
    started = time.monotonic()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
    last_output, lines = None, 0
    while chunk := os.read(process.stdout.fileno(), 1 << 20):
        last_output = time.monotonic()
        lines += chunk.count(b"\n")
        sink.write(chunk)
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    ended = time.monotonic()
process.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps({"wall": round(ended - started, 3), "user": round(usage.ru_utime, 3), "sys": round(usage.ru_stime, 3),
                  "status": process.returncode, "lines": lines,
                  "tail": None if last_output is None else round(ended - last_output, 3)}))
PY
}

echo "Producing $records records of $size bytes with each tool..." >&2
timed produce-semaphore target/release/examples/bus_bench "$brokers" bench-semaphore "$records" "$size" \
  > "$out/produce-semaphore.usage"
timed produce-rdkafka "$out/rdkafka_performance" -P -t bench-rdkafka -b "$brokers" -s "$size" -c "$records" -q \
  -X acks=all -X enable.idempotence=true -X compression.type=zstd -X linger.ms=5 -X partitioner=murmur2_random \
  > "$out/produce-rdkafka.usage"
timed produce-python python3 bench/python_kafka.py produce "$brokers" bench-python "$records" "$size" \
  > "$out/produce-python.usage"

# The consumers' topic: JSON values (as the collector writes), so `-f json` has JSON to parse and print.
echo "Producing the consumers' topic (JSON values)..." >&2
python3 bench/python_kafka.py produce "$brokers" bench-print "$records" "$size" json > /dev/null
# One read first, not reported, so no consumer is the first to ask the broker for these records.
python3 bench/python_kafka.py print "$brokers" bench-print value > /dev/null

consumers=(semaphore-value semaphore-json python-value python-json rdkafka)
echo "Consuming bench-print from the beginning, $rounds rounds of ${consumers[*]}..." >&2
for round in $(seq "$rounds"); do
  for consumer in "${consumers[@]}"; do
    case $consumer in
      semaphore-*) command=("$semaphore" consume bench-print -e -f "${consumer#semaphore-}") ;;
      python-*) command=(python3 bench/python_kafka.py print "$brokers" bench-print "${consumer#python-}") ;;
      rdkafka) command=("$out/rdkafka_performance" -G "bench-rk-$$-$round" -t bench-print -b "$brokers" -c "$records" -q
                        -X auto.offset.reset=earliest) ;;
    esac
    timed "consume-$consumer" "${command[@]}" > "$out/consume-$consumer.$round.usage"
  done
done

python3 - "$records" "$size" "$rounds" "$out" "$storage" "$broker_binary" <<'PY'
import json, statistics, sys
records, size, rounds, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
storage, broker = sys.argv[5], sys.argv[6]

def usage(path):
    with open(path) as file:
        return json.load(file)

def cpu(run):
    return run["user"] + run["sys"]

warnings = []
def check(name, run, lines=None):
    if run["status"] != 0:
        warnings.append(f"{name} exited with {run['status']} (see {out}/*.stderr)")
    if lines is not None and run["lines"] != lines:
        warnings.append(f"{name} printed {run['lines']:,} lines, not {lines:,}")

print(f"Records: {records:,} of {size} B, 6 partitions, 1,000 keys; embedded broker ({storage} storage, {broker}), one machine.\n")

# Producers: seconds as each tool times itself (semaphore and Python from the first send to the last
# acknowledgement, rdkafka_performance its whole process); CPU of the whole process.
producers = [
    ("semaphore (bus::producer, 10k in flight)", "semaphore", lambda run, stdout: json.loads(stdout)["seconds"]),
    ("rdkafka_performance (librdkafka 2.12.1, process wall time)", "rdkafka", lambda run, stdout: run["wall"]),
    ("Python confluent-kafka 2.16", "python", lambda run, stdout: json.loads(stdout)["seconds"]),
]
print("| producer | seconds | records/s | MB/s | CPU s (user+sys, whole process) |\n| --- | ---: | ---: | ---: | ---: |")
rates = {}
for name, tool, seconds_of in producers:
    run = usage(f"{out}/produce-{tool}.usage")
    check(f"producer {tool}", run)
    with open(f"{out}/produce-{tool}.stdout") as file:
        stdout = file.read().strip().splitlines()[-1] if tool != "rdkafka" else ""
    seconds = seconds_of(run, stdout)
    rates[tool] = records / seconds
    print(f"| {name} | {seconds:.2f} | {rates[tool]:,.0f} | {records * size / seconds / 1e6:.2f} | {cpu(run):.2f} |")
print(f"\nRatios (semaphore records/s / peer): rdkafka_performance {rates['semaphore'] / rates['rdkafka']:.2f}, "
      f"Python {rates['semaphore'] / rates['python']:.2f}")

# Consumers: every figure of the whole process, the median of the rounds.
consumers = [
    ("semaphore-value", "semaphore consume -e -f value"),
    ("semaphore-json", "semaphore consume -e -f json"),
    ("python-value", "Python confluent-kafka 2.16, print value"),
    ("python-json", "Python confluent-kafka 2.16, print JSON envelope"),
    ("rdkafka", "rdkafka_performance -G (reads, prints nothing)"),
]
median = {}
print(f"\n| consumer (whole process, median of {rounds}) | seconds | records/s | MB/s | CPU s | user s | sys s | "
      "exit after last output s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for tool, name in consumers:
    runs = [usage(f"{out}/consume-{tool}.{round}.usage") for round in range(1, rounds + 1)]
    for round, run in enumerate(runs, 1):
        check(f"{tool} round {round}", run, None if tool == "rdkafka" else records)
    figures = {key: statistics.median(run[key] for run in runs) for key in ("wall", "user", "sys")}
    figures["cpu"] = statistics.median(cpu(run) for run in runs)
    tails = [run["tail"] for run in runs if run["tail"] is not None]
    figures["tail"] = statistics.median(tails) if tails else None
    median[tool] = figures
    tail = "" if figures["tail"] is None else f"{figures['tail']:.2f}"
    print(f"| {name} | {figures['wall']:.2f} | {records / figures['wall']:,.0f} | "
          f"{records * size / figures['wall'] / 1e6:.2f} | {figures['cpu']:.2f} | {figures['user']:.2f} | "
          f"{figures['sys']:.2f} | {tail} |")

print("\nRatios (semaphore / peer; goal: CPU <= 1.2 and wall <= 1.1 of Python, records/s >= 0.9 of rdkafka_performance):\n")
print("| format | CPU / Python | wall / Python | records/s / rdkafka_performance |\n| --- | ---: | ---: | ---: |")
for output_format in ("value", "json"):
    ours, python, rdkafka = median[f"semaphore-{output_format}"], median[f"python-{output_format}"], median["rdkafka"]
    print(f"| `-f {output_format}` | {ours['cpu'] / python['cpu']:.2f} | {ours['wall'] / python['wall']:.2f} | "
          f"{rdkafka['wall'] / ours['wall']:.2f} |")

for warning in warnings:
    print(f"\nWARNING: {warning}")
PY
