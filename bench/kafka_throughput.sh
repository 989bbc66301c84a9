#!/usr/bin/env bash
# Producer and consumer throughput through the embedded broker, in one run, same broker, same record size:
#   semaphore's producer path (crates/semaphore/examples/bus_bench.rs) and `semaphore consume`,
#   librdkafka's own rdkafka_performance (built from the rdkafka-sys crate's copy of librdkafka),
#   Python confluent-kafka (bench/python_kafka.py).
# Usage: bench/kafka_throughput.sh [RECORDS] [SIZE]. Prints a Markdown table; copy it into bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
size=${2:-200}
out=bench/out
mkdir -p "$out"

echo "Building release binaries..." >&2
cargo build --release -q -p semaphore-cli
cargo build --release -q -p semaphore --example bus_bench
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
"$semaphore" broker --memory --listen "$brokers" > "$out/broker.log" 2>&1 &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
export SEMAPHORE_BROKERS=$brokers

for tool in semaphore rdkafka python; do
  "$semaphore" topics create "bench-$tool" --partitions 6 > /dev/null
done

measure() { # command... -> seconds (wall clock)
  local started ended
  started=$(date +%s.%N); "$@" > /dev/null 2>&1; ended=$(date +%s.%N)
  python3 -c "print(round($ended - $started, 3))"
}

echo "Producing $records records of $size bytes with each tool..." >&2
sem_produce=$(target/release/examples/bus_bench "$brokers" bench-semaphore "$records" "$size")
rk_produce_s=$(measure "$out/rdkafka_performance" -P -t bench-rdkafka -b "$brokers" -s "$size" -c "$records" -q \
  -X acks=all -X enable.idempotence=true -X compression.type=zstd -X linger.ms=5 -X partitioner=murmur2_random)
py_produce=$(python3 bench/python_kafka.py produce "$brokers" bench-python "$records" "$size")

echo "Consuming each topic from the beginning..." >&2
sem_consume_s=$(measure "$semaphore" consume bench-semaphore -e -f value)
rk_consume_s=$(measure "$out/rdkafka_performance" -G "bench-rk-$$" -t bench-rdkafka -b "$brokers" -c "$records" -q -X auto.offset.reset=earliest)
py_consume=$(python3 bench/python_kafka.py consume "$brokers" bench-python "$records")

python3 - "$records" "$size" "$sem_produce" "$rk_produce_s" "$py_produce" "$sem_consume_s" "$rk_consume_s" "$py_consume" <<'PY'
import json, sys
records, size = int(sys.argv[1]), int(sys.argv[2])
sem_p, rk_p_s, py_p = json.loads(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5])
sem_c_s, rk_c_s, py_c = float(sys.argv[6]), float(sys.argv[7]), json.loads(sys.argv[8])
def row(name, seconds, note=""):
    rate = records / seconds
    return rate, f"| {name} | {seconds:.2f} | {rate:,.0f} | {records*size/seconds/1e6:.2f} |"
print(f"Records: {records:,} of {size} B, 6 partitions, 1,000 keys; embedded broker (--memory), one machine.\n")
print("| producer | seconds | records/s | MB/s |\n| --- | ---: | ---: | ---: |")
rates = {}
for name, seconds in [("semaphore (bus::producer, 10k in flight)", sem_p["seconds"]),
                      ("rdkafka_performance (librdkafka 2.12.1, process wall time)", rk_p_s),
                      ("Python confluent-kafka 2.16", py_p["seconds"])]:
    rates[name], line = row(name, seconds); print(line)
base = rates["semaphore (bus::producer, 10k in flight)"]
print("\nRatios (semaphore / peer): " + ", ".join(f"{name.split(' (')[0]}: {base / rate:.2f}" for name, rate in rates.items() if rate != base))
print("\n| consumer | seconds | records/s | MB/s |\n| --- | ---: | ---: | ---: |")
rates = {}
for name, seconds in [("semaphore consume -e -f value (process wall time)", sem_c_s),
                      ("rdkafka_performance -G (process wall time)", rk_c_s),
                      ("Python confluent-kafka 2.16 (first record to last)", py_c["seconds"])]:
    rates[name], line = row(name, seconds); print(line)
base = rates["semaphore consume -e -f value (process wall time)"]
print("\nRatios (semaphore / peer): " + ", ".join(f"{name.split(' (')[0]}: {base / rate:.2f}" for name, rate in rates.items() if rate != base))
PY
