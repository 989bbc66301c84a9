"""Python confluent-kafka side of bench/kafka_throughput.sh, with the same settings as semaphore's producer.

  python_kafka.py produce BROKERS TOPIC RECORDS SIZE   -> one JSON line: records/s, MB/s
  python_kafka.py consume BROKERS TOPIC RECORDS        -> one JSON line: records/s, MB/s
"""

import json
import sys
import time

from confluent_kafka import Consumer, Producer


def produce(brokers, topic, records, size):
    producer = Producer({
        "bootstrap.servers": brokers,
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": "zstd",
        "linger.ms": 5,
        "partitioner": "murmur2_random",
        "queue.buffering.max.messages": 1000000,
    })
    payload = b"x" * size
    keys = [f"Q2XX-{index:04}-BNCH".encode() for index in range(1000)]
    failed = 0

    def report(error, _message):
        nonlocal failed
        if error is not None:
            failed += 1

    started = time.monotonic()
    for index in range(records):
        while True:
            try:
                producer.produce(topic, key=keys[index % 1000], value=payload, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)
    seconds = time.monotonic() - started
    print(json.dumps({"tool": "python", "records": records, "size": size, "failed": failed, "seconds": round(seconds, 3),
                      "records_per_second": round(records / seconds), "mb_per_second": round(records * size / seconds / 1e6, 2)}))


def consume(brokers, topic, records):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"bench-python-{time.time()}", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    received = 0
    size = 0
    started = None
    deadline = time.monotonic() + 300
    while received < records and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=10000, timeout=1.0):
            if message.error():
                continue
            if started is None:
                started = time.monotonic()
            received += 1
            size += len(message.value() or b"")
    seconds = time.monotonic() - (started or time.monotonic())
    consumer.close()
    print(json.dumps({"tool": "python", "records": received, "seconds": round(seconds, 3),
                      "records_per_second": round(received / seconds) if seconds else 0,
                      "mb_per_second": round(size / seconds / 1e6, 2) if seconds else 0}))


if __name__ == "__main__":
    if sys.argv[1] == "produce":
        produce(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]))
