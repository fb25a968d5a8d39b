"""confluent-kafka's transactional producer and read_committed consumer against Kite, as
tests/tests/kafka_clients.rs runs it:
1. a transaction of three records to OUTPUT, committed; then one of two, aborted;
2. consume-transform-produce: a read_committed consumer in GROUP reads INPUT, and each record
   goes upper-cased to OUTPUT in one transaction with the consumed offsets
   (send_offsets_to_transaction), committed;
3. a second producer with the same transactional.id fences the first, whose commit then fails;
4. OUTPUT read from the beginning, read_committed and read_uncommitted.
Prints `fenced True|False`, then `committed V,V,…` and `uncommitted V,V,…` (sorted values).
Usage: confluent_transactions.py BOOTSTRAP INPUT OUTPUT GROUP INPUT_RECORDS"""
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

WAIT_SECONDS = 30

bootstrap, source, output, group, input_records = sys.argv[1:6]
input_records = int(input_records)


def producer(transactional_id):
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                  "transaction.timeout.ms": 60000})
    p.init_transactions(WAIT_SECONDS)
    return p


# 1. One transaction committed, one aborted.
first = producer("orders-app")
first.begin_transaction()
for value in ("c1", "c2", "c3"):
    first.produce(output, value=value.encode())
first.commit_transaction(WAIT_SECONDS)
first.begin_transaction()
for value in ("a1", "a2"):
    first.produce(output, value=value.encode())
# Sent before the abort (librdkafka drops what it has not sent yet): they are in the log, aborted.
first.flush(WAIT_SECONDS)
first.abort_transaction(WAIT_SECONDS)

# 2. Consume, transform, produce: the output and the consumed offsets in one transaction.
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "isolation.level": "read_committed"})
consumer.subscribe([source])
consumed = []
while len(consumed) < input_records:
    message = consumer.poll(1.0)
    if message is None or message.error():
        continue
    consumed.append(message)
first.begin_transaction()
for message in consumed:
    first.produce(output, key=message.key(), value=message.value().upper())
positions = consumer.position(consumer.assignment())
first.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), WAIT_SECONDS)
first.commit_transaction(WAIT_SECONDS)
consumer.close()

# 3. A new instance of the same transactional.id fences the first.
first.begin_transaction()
first.produce(output, value=b"zombie")
first.flush(WAIT_SECONDS)
second = producer("orders-app")
try:
    first.commit_transaction(WAIT_SECONDS)
    fenced = False
except KafkaException as e:
    fenced = e.args[0].fatal() or "fenced" in str(e).lower()
print("fenced", fenced)


# 4. What each isolation level reads.
def read_all(isolation):
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader-" + isolation,
                       "auto.offset.reset": "earliest", "enable.auto.commit": False,
                       "isolation.level": isolation, "enable.partition.eof": True})
    partitions = reader.list_topics(output, timeout=WAIT_SECONDS).topics[output].partitions
    reader.assign([TopicPartition(output, p, 0) for p in partitions])
    values, ended = [], set()
    while len(ended) < len(partitions):
        message = reader.poll(1.0)
        if message is None:
            continue
        if message.error():
            ended.add(message.partition())
            continue
        values.append(message.value().decode())
    reader.close()
    return sorted(values)


print("committed", ",".join(read_all("read_committed")))
print("uncommitted", ",".join(read_all("read_uncommitted")))
