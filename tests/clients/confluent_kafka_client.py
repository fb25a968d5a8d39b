"""confluent-kafka (librdkafka's Python binding) against kite serve, as tests/tests/kafka_clients.rs
runs it: create a topic of three partitions with the admin client, produce six keyed records as an
idempotent producer with Java's partitioner, read them back in a consumer group,
commit, leave. Prints one line per record: `produced KEY PARTITION OFFSET`, then
`consumed KEY VALUE PARTITION OFFSET`, then what the admin client lists and describes:
`listed GROUP…`, `described GROUP STATE MEMBERS` and `cluster N brokers, controller ID`. Usage: confluent_kafka_client.py BOOTSTRAP TOPIC GROUP"""
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

RECORDS = 6
WAIT_SECONDS = 30

bootstrap, topic, group = sys.argv[1:4]
# The admin client creates the topic (CreateTopics): three partitions, three replicas.
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3,
                              config={"retention.ms": "3600000"})])[topic].result(WAIT_SECONDS)
produced = []
producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "acks": "all",
                     "enable.idempotence": True})
for i in range(RECORDS):
    producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i,
                     on_delivery=lambda err, m: produced.append((err, m.key(), m.partition(), m.offset())))
producer.flush(WAIT_SECONDS)
for err, key, partition, offset in sorted(produced, key=lambda p: p[1]):
    if err is not None:
        sys.exit(f"delivery failed: {err}")
    print("produced", key.decode(), partition, offset)

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest"})
consumer.subscribe([topic])
consumed = []
deadline = time.time() + WAIT_SECONDS
while len(consumed) < RECORDS and time.time() < deadline:
    message = consumer.poll(1)
    if message is None:
        continue
    if message.error():
        sys.exit(f"consume failed: {message.error()}")
    consumed.append((message.key().decode(), message.value().decode(), message.partition(), message.offset()))
consumer.close()  # commits what was read and leaves the group
for record in sorted(consumed):
    print("consumed", *record)

# The admin client's view of the group (ListGroups at every broker, DescribeGroups at its coordinator).
listed = admin.list_consumer_groups().result(WAIT_SECONDS)
print("listed", *sorted(g.group_id for g in listed.valid))
described = admin.describe_consumer_groups([group])[group].result(WAIT_SECONDS)
print("described", described.group_id, described.state.name, len(described.members))
# And the cluster (DescribeCluster): its brokers and controller.
cluster = admin.describe_cluster().result(WAIT_SECONDS)
print("cluster", len(cluster.nodes), "brokers, controller", cluster.controller.id)
# And the topic's configs: one changed (IncrementalAlterConfigs), then read (DescribeConfigs):
# the one it set, and a default.
change = ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET)
resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[change])
admin.incremental_alter_configs([resource])[resource].result(WAIT_SECONDS)
resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
configs = admin.describe_configs([resource])[resource].result(WAIT_SECONDS)
for name in ("retention.ms", "cleanup.policy"):
    print("config", name, configs[name].value, configs[name].source)
