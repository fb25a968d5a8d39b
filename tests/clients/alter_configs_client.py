"""AlterConfigs (the whole-set API) from two Python clients against kite serve, as
tests/tests/kafka_clients.rs runs it: confluent-kafka creates a topic with retention.ms=60000;
its (deprecated) alter_configs sets retention.bytes=1000 only, so retention.ms goes back to its
default; kafka-python's alter_configs, forced to AlterConfigs (incremental=False), sets
retention.ms=120000 and itself sends retention.bytes along, so that stays. After each, prints
`NAME VALUE set|default` for both, from confluent-kafka's describe_configs. Then broker 0's
configs (the server started with --override auto.leader.rebalance.enable=false), each as
`broker NAME VALUE set|default read-only|dynamic`, what an incremental alteration of a static
one gets, and a throttle rate set on broker 0 (`broker NAME VALUE SOURCE` after it).
Usage: alter_configs_client.py BOOTSTRAP TOPIC"""
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                  NewTopic)
from kafka.admin import ConfigResource as KafkaPythonResource
from kafka.admin import ConfigResourceType, KafkaAdminClient

WAIT_SECONDS = 30

bootstrap, topic = sys.argv[1:3]
admin = AdminClient({"bootstrap.servers": bootstrap})
new = NewTopic(topic, num_partitions=1, replication_factor=1, config={"retention.ms": "60000"})
admin.create_topics([new])[topic].result(WAIT_SECONDS)
resource = ConfigResource(ConfigResource.Type.TOPIC, topic)


def show():
    configs = admin.describe_configs([resource])[resource].result(WAIT_SECONDS)
    for name in ["retention.bytes", "retention.ms"]:
        print(name, configs[name].value, "default" if configs[name].is_default else "set")


whole = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.bytes": "1000"})
admin.alter_configs([whole])[whole].result(WAIT_SECONDS)
show()

kafka_python = KafkaAdminClient(bootstrap_servers=bootstrap)
kafka_python.alter_configs(
    [KafkaPythonResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "120000"})],
    incremental=False)
kafka_python.close()
show()

broker = ConfigResource(ConfigResource.Type.BROKER, "0")
for name, entry in sorted(admin.describe_configs([broker])[broker].result(WAIT_SECONDS).items()):
    print("broker", name, entry.value, "default" if entry.is_default else "set",
          "read-only" if entry.is_read_only else "dynamic")
turn_on = ConfigEntry("auto.leader.rebalance.enable", "true",
                      incremental_operation=AlterConfigOpType.SET)
altering = ConfigResource(ConfigResource.Type.BROKER, "0", incremental_configs=[turn_on])
try:
    admin.incremental_alter_configs([altering])[altering].result(WAIT_SECONDS)
    print("broker altered")
except KafkaException as e:
    print("broker alter refused", e.args[0].name())
throttle = ConfigEntry("leader.replication.throttled.rate", "1000000",
                       incremental_operation=AlterConfigOpType.SET)
throttling = ConfigResource(ConfigResource.Type.BROKER, "0", incremental_configs=[throttle])
admin.incremental_alter_configs([throttling])[throttling].result(WAIT_SECONDS)
entry = admin.describe_configs([broker])[broker].result(WAIT_SECONDS)["leader.replication.throttled.rate"]
print("broker", entry.name, entry.value, ConfigSource(entry.source).name)
