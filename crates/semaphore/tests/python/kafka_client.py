"""An independent Kafka client (Python confluent-kafka) for interop tests against semaphore's embedded broker.

  kafka_client.py produce BOOTSTRAP TOPIC COUNT   -> produces COUNT keyed JSON records, prints their partitions
  kafka_client.py consume BOOTSTRAP TOPIC COUNT   -> reads COUNT records from the beginning, prints them as JSON
  kafka_client.py delete BOOTSTRAP TOPIC 0        -> deletes TOPIC with the AdminClient
"""

import json
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient


def produce(bootstrap, topic, count):
    # murmur2_random: the Java client's placement, as semaphore uses (librdkafka's default is CRC32-based).
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "compression.type": "zstd",
        "partitioner": "murmur2_random",
    })
    delivered = []

    def report(error, message):
        if error is not None:
            raise SystemExit(f"delivery failed: {error}")
        delivered.append({"key": message.key().decode(), "partition": message.partition(), "offset": message.offset()})

    for index in range(count):
        key = f"python-key-{index % 7}"
        value = json.dumps({"index": index, "from": "python"})
        producer.produce(topic, key=key, value=value, headers=[("source", b"python")], on_delivery=report)
    producer.flush(30)
    print(json.dumps(delivered))


def consume(bootstrap, topic, count):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "python-interop",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    records = []
    polls = 0
    while len(records) < count and polls < 300:
        polls += 1
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        records.append({
            "key": message.key().decode() if message.key() else None,
            "value": json.loads(message.value()),
            "partition": message.partition(),
            "headers": {key: value.decode() for key, value in (message.headers() or [])},
        })
    consumer.close()
    print(json.dumps(records))


def delete(bootstrap, topic, _count):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics([topic], operation_timeout=10).values():
        future.result()


if __name__ == "__main__":
    mode, bootstrap, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    {"produce": produce, "consume": consume, "delete": delete}[mode](bootstrap, topic, count)
