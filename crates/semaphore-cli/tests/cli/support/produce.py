"""Produces records to a topic, as any Kafka client would: one JSON object per stdin line,
{"topic": ..., "key": ..., "value": <string sent as is> , "headers": {name: value}}."""
import json
import sys

from confluent_kafka import Producer

producer = Producer({"bootstrap.servers": sys.argv[1]})
failures = []
for line in sys.stdin:
    if not line.strip():
        continue
    item = json.loads(line)
    producer.produce(
        item["topic"],
        key=item.get("key"),
        value=item["value"].encode(),
        headers=list(item.get("headers", {}).items()),
        on_delivery=lambda error, _message: error and failures.append(str(error)),
    )
producer.flush(30)
if failures:
    sys.exit("not delivered: " + "; ".join(failures))
