"""A confluent-kafka consumer while its partition's leader is stopped, as
tests/tests/kafka_clients.rs runs it: it reads the two records there, stops the leader with
`kite cluster stop-broker`, and reads the two produced after at the new leader. librdkafka
checks its position there first with OffsetForLeaderEpoch (KIP-320): the epoch it read ended
where the new leader's began, so nothing was truncated and it reads on. Prints `leader N`, one
`record VALUE OFFSET EPOCH` line per record, then `kite cluster describe` as it lists this
client's connections (with its requests by API).
Usage: confluent_failover_consumer.py BOOTSTRAP TOPIC KITE_BIN WS_URL"""
import subprocess
import sys
import time

from confluent_kafka import Consumer, Producer

WAIT_SECONDS = 30

bootstrap, topic, kite, ws_url = sys.argv[1:5]
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "failover-readers",
                     "auto.offset.reset": "earliest", "topic.metadata.refresh.interval.ms": 1000})
consumer.subscribe([topic])
read = []


def read_until(count):
    deadline = time.time() + WAIT_SECONDS
    while len(read) < count and time.time() < deadline:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            read.append(message)
            print("record", message.value().decode(), message.offset(), message.leader_epoch(), flush=True)


for value in (b"a", b"b"):
    producer.produce(topic, value=value)
producer.flush(WAIT_SECONDS)
read_until(2)
leader = consumer.list_topics(topic, timeout=WAIT_SECONDS).topics[topic].partitions[0].leader
print("leader", leader)
subprocess.run([kite, "cluster", "--server", ws_url, "stop-broker", str(leader)],
               check=True, stdout=subprocess.DEVNULL)
for value in (b"c", b"d"):
    producer.produce(topic, value=value)
producer.flush(WAIT_SECONDS)
read_until(4)
described = subprocess.run([kite, "cluster", "--server", ws_url, "describe"],
                           check=True, capture_output=True, text=True).stdout
print(described)
consumer.close()
