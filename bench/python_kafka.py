"""Python confluent-kafka side of bench/kafka_throughput.sh, with the same settings as semaphore's producer.

  python_kafka.py produce BROKERS TOPIC RECORDS SIZE [x|json]  -> one JSON line: records/s, MB/s
  python_kafka.py print BROKERS TOPIC value|json              -> every record on stdout, then exit at the end

`produce` writes SIZE-byte values: `x` repeated (the default), or a JSON object padded to SIZE bytes, as the
collector's records are JSON. `print` is the peer of `semaphore consume TOPIC -e -f value|json`, written as a
Python user would write it: every partition assigned from the beginning, records read in batches, each printed
(the value, or semaphore's JSON envelope), exit once every partition reported its end.
"""

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, Producer, TopicPartition


def produce(brokers, topic, records, size, kind="x"):
    producer = Producer({
        "bootstrap.servers": brokers,
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": "zstd",
        "linger.ms": 5,
        "partitioner": "murmur2_random",
        "queue.buffering.max.messages": 1000000,
    })
    keys = [f"Q2XX-{index:04}-BNCH".encode() for index in range(1000)]
    if kind == "json":
        payloads = [json_payload(index, size) for index in range(1000)]
    else:
        payloads = [b"x" * size]
    failed = 0

    def report(error, _message):
        nonlocal failed
        if error is not None:
            failed += 1

    started = time.monotonic()
    for index in range(records):
        while True:
            try:
                producer.produce(topic, key=keys[index % 1000], value=payloads[index % len(payloads)],
                                 on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)
    seconds = time.monotonic() - started
    print(json.dumps({"tool": "python", "records": records, "size": size, "failed": failed, "seconds": round(seconds, 3),
                      "records_per_second": round(records / seconds), "mb_per_second": round(records * size / seconds / 1e6, 2)}))


def json_payload(index, size):
    """An uplink-like JSON object of exactly `size` bytes (at least about 105), padded in its last string."""
    head = json.dumps({"serial": f"Q2XX-{index:04}-BNCH", "uplink": "wan1", "ts": 1764547200 + index,
                       "lossPercent": 0.0, "latencyMs": 12.5, "pad": ""}, separators=(",", ":"))
    if size < len(head):
        sys.exit(f"a JSON value needs at least {len(head)} bytes, not {size}")
    return (head[:-2] + "x" * (size - len(head)) + '"}').encode()


def print_records(brokers, topic, output_format):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "bench-python-print", "enable.auto.commit": False,
                         "enable.partition.eof": True})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in partitions])
    remaining = set(partitions)
    out = sys.stdout.buffer
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    while remaining:
        for message in consumer.consume(num_messages=10000, timeout=1.0):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                continue
            if output_format == "value":
                out.write(message.value() or b"")
            else:
                out.write(encode(envelope(message)).encode())
            out.write(b"\n")
    out.flush()
    consumer.close()


def envelope(message):
    """semaphore's `-f json` envelope: the value as JSON when it is JSON, else as text."""
    value = message.value()
    if value is not None:
        try:
            value = json.loads(value)
        except ValueError:
            value = value.decode("utf-8", "replace")
    key = message.key()
    kind, timestamp = message.timestamp()
    return {
        "headers": {name: None if data is None else data.decode("utf-8", "replace")
                    for name, data in (message.headers() or [])},
        "key": None if key is None else key.decode("utf-8", "replace"),
        "offset": message.offset(),
        "partition": message.partition(),
        "timestamp": None if kind == TIMESTAMP_NOT_AVAILABLE else timestamp,
        "topic": message.topic(),
        "value": value,
    }


if __name__ == "__main__":
    if sys.argv[1] == "produce":
        produce(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), *sys.argv[6:7])
    elif sys.argv[1] == "print":
        print_records(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
