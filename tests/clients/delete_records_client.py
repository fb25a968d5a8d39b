"""DeleteRecords from two Python clients against kite serve, as tests/tests/kafka_clients.rs runs
it: confluent-kafka creates a one-partition topic (three replicas) and produces five records; its
admin client deletes the records before offset 2 and then asks for offset 9 (past the high
watermark: refused); kafka-python's admin client deletes before offset 3; a consumer from the
earliest offset then reads from there. Prints `deleted LOW_WATERMARK`, `refused ERROR_NAME`,
`kafka-python LOW_WATERMARK`, then `read VALUE…`. Usage: delete_records_client.py BOOTSTRAP TOPIC"""
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import TopicPartition as KafkaPythonPartition
from kafka.admin import KafkaAdminClient

WAIT_SECONDS = 30
RECORDS = 5

bootstrap, topic = sys.argv[1:3]
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=3)])[topic].result(WAIT_SECONDS)
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
for i in range(RECORDS):
    producer.produce(topic, partition=0, value=b"v%d" % i)
producer.flush(WAIT_SECONDS)

deleted = admin.delete_records([TopicPartition(topic, 0, 2)])
print("deleted", list(deleted.values())[0].result(WAIT_SECONDS).low_watermark)
try:
    list(admin.delete_records([TopicPartition(topic, 0, 9)]).values())[0].result(WAIT_SECONDS)
    print("refused nothing")
except KafkaException as e:
    print("refused", e.args[0].name())

kafka_python = KafkaAdminClient(bootstrap_servers=bootstrap)
answer = kafka_python.delete_records({KafkaPythonPartition(topic, 0): 3})
print("kafka-python", answer[KafkaPythonPartition(topic, 0)]["low_watermark"])
kafka_python.close()

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "after-delete",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
consumer.assign([TopicPartition(topic, 0, -2)])  # OFFSET_BEGINNING: the log start
values = []
while len(values) < RECORDS - 3:
    message = consumer.poll(WAIT_SECONDS)
    if message is None:
        break
    if message.error() is None:
        values.append(message.value().decode())
print("read", *values)
consumer.close()
