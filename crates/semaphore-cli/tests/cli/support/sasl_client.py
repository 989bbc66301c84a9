"""An independent Kafka client (Python confluent-kafka) over SASL_SSL, as a Confluent Cloud user's program
connects: the username and password from the environment (KAFKA_USERNAME, KAFKA_PASSWORD), never from the
command line.

  sasl_client.py BOOTSTRAP CA_FILE MECHANISM PRODUCE_TOPIC READ_TOPIC COUNT

produces one record (key "from-python") to PRODUCE_TOPIC, then reads READ_TOPIC from its beginning until it
has read COUNT records or 60 s passed, and prints {"read": N} as JSON.
"""

import json
import os
import sys
import time

from confluent_kafka import Consumer, Producer


def settings(bootstrap, ca_file, mechanism):
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": mechanism,
        "sasl.username": os.environ["KAFKA_USERNAME"],
        "sasl.password": os.environ["KAFKA_PASSWORD"],
        "ssl.ca.location": ca_file,
    }


def produce_one(config, topic):
    failures = []
    producer = Producer(config)
    producer.produce(
        topic,
        key="from-python",
        value=json.dumps({"from": "python"}).encode(),
        on_delivery=lambda error, _message: error and failures.append(str(error)),
    )
    if producer.flush(30) or failures:
        sys.exit("not delivered: " + ("; ".join(failures) or "still queued after 30 s"))


def read(config, topic, count):
    consumer = Consumer({
        **config,
        "group.id": "python-sasl-ssl",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    records = 0
    deadline = time.monotonic() + 60
    while records < count and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        records += 1
    consumer.close()
    return records


if __name__ == "__main__":
    bootstrap, ca_file, mechanism, produce_topic, read_topic, count = sys.argv[1:7]
    config = settings(bootstrap, ca_file, mechanism)
    produce_one(config, produce_topic)
    print(json.dumps({"read": read(config, read_topic, int(count))}))
