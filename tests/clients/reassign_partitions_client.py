"""Partition reassignment from kafka-python's admin client against kite serve (three brokers),
as tests/tests/kafka_clients.rs runs it: a one-partition topic with two replicas gets five
records; its leader's replica moves to the broker that has none (AlterPartitionReassignments);
ListPartitionReassignments is polled until the move is done; Metadata then gives the new
replicas, a consumer reads every record, and cancelling the finished move is refused; reordered,
a preferred leader election (ElectLeaders) hands the leadership to the new first replica. Prints
`moved OLD -> NEW`, `done`, `replicas R…`, `read N`, `cancel ERROR_NAME`, `preferred B leads L`.
Usage: reassign_partitions_client.py BOOTSTRAP TOPIC"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

WAIT_SECONDS = 30
RECORDS = 5
BROKERS = [0, 1, 2]

bootstrap, topic = sys.argv[1:3]
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=2)])
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
for i in range(RECORDS):
    producer.send(topic, partition=0, value=b"v%d" % i)
producer.flush(WAIT_SECONDS)


def partition():
    return admin.describe_topics([topic])[0]["partitions"][0]


before = partition()
newcomer = next(b for b in BROKERS if b not in before["replica_nodes"])
target = [newcomer] + [r for r in before["replica_nodes"] if r != before["leader_id"]]
tp = TopicPartition(topic, 0)
errors = admin.alter_partition_reassignments({tp: target})
print("moved", before["leader_id"], "->", newcomer, *(e.__name__ for e in errors.values() if e))

deadline = time.monotonic() + WAIT_SECONDS
while admin.list_partition_reassignments([tp]) and time.monotonic() < deadline:
    time.sleep(0.1)
print("done" if not admin.list_partition_reassignments([tp]) else "still moving")
print("replicas", *partition()["replica_nodes"])

consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                         consumer_timeout_ms=WAIT_SECONDS * 1000)
consumer.assign([tp])
read = 0
for _ in consumer:
    read += 1
    if read == RECORDS:
        break
print("read", read)
errors = admin.alter_partition_reassignments({tp: None})
print("cancel", *(e.__name__ for e in errors.values() if e))

# Reordered, the other replica is preferred; a preferred election (ElectLeaders) makes it lead.
reordered = list(reversed(partition()["replica_nodes"]))
admin.alter_partition_reassignments({tp: reordered})
admin.elect_leaders(0, {topic: [0]})
print("preferred", reordered[0], "leads", partition()["leader_id"])
