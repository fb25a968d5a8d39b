"""Two confluent-kafka consumers in one group against kite serve, as tests/tests/kafka_clients.rs
runs it: the first takes every partition; the second joins and the group rebalances between
them; together they read every record and commit; the first leaves and the second takes its
partitions over. Prints a line per step: `first N` (partitions), `split A B` (each one's count,
smaller first), `read N` (records), `rest N` (the second's partitions after the first left).
Usage: confluent_group_rebalance.py BOOTSTRAP TOPIC GROUP PARTITIONS RECORDS"""
import sys
import time

from confluent_kafka import Consumer, TopicPartition

WAIT_SECONDS = 40

bootstrap, topic, group = sys.argv[1:4]
partitions, records = int(sys.argv[4]), int(sys.argv[5])
config = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
          "enable.auto.commit": False, "heartbeat.interval.ms": 500}


def until(what, step):
    """Runs step() until it returns a value, or fails after WAIT_SECONDS."""
    deadline = time.time() + WAIT_SECONDS
    while time.time() < deadline:
        value = step()
        if value is not None:
            return value
    sys.exit(f"timed out waiting for {what}")


read = []


def poll(consumer):
    message = consumer.poll(0.1)
    if message is not None and not message.error():
        read.append((message.partition(), message.offset()))


first = Consumer(config)
first.subscribe([topic])
until("the first consumer's assignment",
      lambda: (poll(first), len(first.assignment()) == partitions or None)[1])
print("first", len(first.assignment()))

second = Consumer(config)
second.subscribe([topic])


def split():
    poll(first)
    poll(second)
    a, b = len(first.assignment()), len(second.assignment())
    return sorted([a, b]) if a and b and a + b == partitions else None


print("split", *until("the rebalance between two", split))
until("every record", lambda: (poll(first), poll(second), len(set(read)) >= records or None)[2])
print("read", len(set(read)))
# Each commits the end of the partitions it now owns: between them, every record was read (one
# may have read a partition before the rebalance gave it to the other, which has not yet).
ends = {p: 1 + max(o for q, o in read if q == p) for p in range(partitions)}
for consumer in (first, second):
    owned = [TopicPartition(topic, tp.partition, ends[tp.partition]) for tp in consumer.assignment()]
    consumer.commit(offsets=owned, asynchronous=False)
first.close()  # leaves the group: the second takes its partitions over
print("rest", until("the second consumer taking over",
                    lambda: (poll(second), len(second.assignment()) if len(second.assignment()) == partitions else None)[1]))
second.close()
