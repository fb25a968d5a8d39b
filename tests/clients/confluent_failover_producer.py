"""An idempotent confluent-kafka producer while its partition's leader is stopped, as
tests/tests/kafka_clients.rs runs it: it queues RECORDS records (acks=all), and when half are
queued — the first still in flight — stops the leader with `kite cluster stop-broker`; librdkafka
finds the new leader and retries there. Prints `leader N` (the broker stopped), then `acked A
failed F` and one `value` line per acknowledged record.
Usage: confluent_failover_producer.py BOOTSTRAP TOPIC RECORDS KITE_BIN WS_URL"""
import subprocess
import sys

from confluent_kafka import Producer

WAIT_SECONDS = 60

bootstrap, topic, records, kite, ws_url = sys.argv[1:6]
records = int(records)
producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                     "linger.ms": 5, "retry.backoff.ms": 100})
leader = producer.list_topics(topic, timeout=WAIT_SECONDS).topics[topic].partitions[0].leader
print("leader", leader)
acked, failed = [], []


def delivered(error, message):
    (failed if error else acked).append(message.value().decode())


for i in range(records):
    producer.produce(topic, value=b"r%05d" % i, on_delivery=delivered)
    producer.poll(0)
    if i == records // 2:
        subprocess.run([kite, "cluster", "--server", ws_url, "stop-broker", str(leader)],
                       check=True, stdout=subprocess.DEVNULL)
left = producer.flush(WAIT_SECONDS)
print("acked", len(acked), "failed", len(failed), "queued", left)
for value in acked:
    print("value", value)
