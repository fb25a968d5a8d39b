"""kafka-python (Kafka's protocol written again in Python) against kite serve, as
tests/tests/kafka_clients.rs runs it: create a topic of three partitions with the admin client,
produce six keyed records with its defaults (idempotent,
Java's murmur2 partitioner), read them back in a consumer group, commit, leave. Prints one line per record:
`produced KEY PARTITION OFFSET`, then `consumed KEY VALUE PARTITION OFFSET`.
Usage: kafka_python_client.py BOOTSTRAP TOPIC GROUP"""
import sys

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

RECORDS = 6
WAIT_SECONDS = 30

bootstrap, topic, group = sys.argv[1:4]
# The admin client creates the topic (CreateTopics at the controller): three partitions, three replicas.
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3)])
admin.close()
# kafka-python 3's defaults: idempotent (InitProducerId, sequence numbers), acks=all.
producer = KafkaProducer(bootstrap_servers=bootstrap)
futures = [(b"k%d" % i, producer.send(topic, key=b"k%d" % i, value=b"v%d" % i)) for i in range(RECORDS)]
producer.flush(WAIT_SECONDS)
for key, future in futures:
    metadata = future.get(WAIT_SECONDS)
    print("produced", key.decode(), metadata.partition, metadata.offset)
producer.close()

consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                         consumer_timeout_ms=WAIT_SECONDS * 1000)
consumed = []
for message in consumer:
    consumed.append((message.key.decode(), message.value.decode(), message.partition, message.offset))
    if len(consumed) == RECORDS:
        break
consumer.commit()
consumer.close()
for record in sorted(consumed):
    print("consumed", *record)
