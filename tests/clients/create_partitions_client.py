"""CreatePartitions from two Python clients against kite serve, as tests/tests/kafka_clients.rs
runs it: confluent-kafka creates a one-partition topic, checks a growth to 3 with validate_only
(nothing changes), grows it to 3, is refused a shrink to 2; kafka-python grows it to 4; a
producer then writes to the last partition. Prints `validated N`, `grown N`, `refused NAME`,
`kafka-python N` (the partition count Metadata gives after each step) and `produced P`.
Usage: create_partitions_client.py BOOTSTRAP TOPIC"""
import sys

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic
from kafka.admin import KafkaAdminClient
from kafka.admin import NewPartitions as KafkaPythonPartitions

WAIT_SECONDS = 30

bootstrap, topic = sys.argv[1:3]
admin = AdminClient({"bootstrap.servers": bootstrap})


def count():
    return len(admin.list_topics(topic, timeout=WAIT_SECONDS).topics[topic].partitions)


admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=3)])[topic].result(WAIT_SECONDS)
admin.create_partitions([NewPartitions(topic, 3)], validate_only=True)[topic].result(WAIT_SECONDS)
print("validated", count())
admin.create_partitions([NewPartitions(topic, 3)])[topic].result(WAIT_SECONDS)
print("grown", count())
try:
    admin.create_partitions([NewPartitions(topic, 2)])[topic].result(WAIT_SECONDS)
    print("refused nothing")
except KafkaException as e:
    print("refused", e.args[0].name())

kafka_python = KafkaAdminClient(bootstrap_servers=bootstrap)
kafka_python.create_partitions({topic: KafkaPythonPartitions(total_count=4)})
kafka_python.close()
print("kafka-python", count())

producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
delivered = []
producer.produce(topic, partition=3, value=b"in the newest partition",
                 on_delivery=lambda err, msg: delivered.append(msg.partition() if err is None else err))
producer.flush(WAIT_SECONDS)
print("produced", *delivered)
