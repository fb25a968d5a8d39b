"""ListOffsets from two Python clients against kite serve, as tests/tests/kafka_clients.rs runs it:
confluent-kafka creates a one-partition topic, produces four records whose CreateTimes are
1000, 9000, 2000 and 3000 (the largest is not the newest), then its admin client asks for the
earliest, latest, first-at-or-after-2500 and largest-timestamp offsets (ListOffsets v7+ for the
last, KIP-734); kafka-python asks offsets_for_times for 2500. Prints `SPEC OFFSET TIMESTAMP` per
answer (`earliest`, `latest`, `time`, `max`, `kafka-python`). Usage: list_offsets_client.py BOOTSTRAP TOPIC"""
import sys

from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaPythonPartition

WAIT_SECONDS = 30
CREATE_TIMES = [1000, 9000, 2000, 3000]
LOOKUP_MS = 2500

bootstrap, topic = sys.argv[1:3]
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=3)])[topic].result(WAIT_SECONDS)
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
for i, created in enumerate(CREATE_TIMES):
    producer.produce(topic, partition=0, value=b"v%d" % i, timestamp=created)
    producer.flush(WAIT_SECONDS)  # one batch each, in this order
partition = TopicPartition(topic, 0)
for name, spec in [("earliest", OffsetSpec.earliest()), ("latest", OffsetSpec.latest()),
                   ("time", OffsetSpec.for_timestamp(LOOKUP_MS)), ("max", OffsetSpec.max_timestamp())]:
    info = admin.list_offsets({partition: spec})[partition].result(WAIT_SECONDS)
    print(name, info.offset, info.timestamp)
consumer = KafkaConsumer(bootstrap_servers=bootstrap)
found = consumer.offsets_for_times({KafkaPythonPartition(topic, 0): LOOKUP_MS})
answer = found[KafkaPythonPartition(topic, 0)]
print("kafka-python", answer.offset, answer.timestamp)
consumer.close()
