// kafkajs (Kafka's protocol written again in JavaScript) against kite serve, as
// tests/tests/kafka_clients.rs runs it: create a topic of three partitions with the admin client,
// produce six keyed records (its default partitioner is Java's murmur2) as an idempotent producer,
// read them back in a consumer group and commit. Prints `produced KEY PARTITION OFFSET`, then
// `consumed KEY VALUE PARTITION OFFSET`, one line per record.
// Usage: node kafkajs_client.js BOOTSTRAP TOPIC GROUP  (NODE_PATH names where kafkajs is)
const { Kafka, logLevel } = require("kafkajs");

const RECORDS = 6;
const WAIT_MS = 30000;

async function main() {
  const [bootstrap, topic, group] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: "kafkajs-test", brokers: bootstrap.split(","), logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
  const produced = [];
  for (const message of messages) {
    const [meta] = await producer.send({ topic, acks: -1, messages: [message] });
    produced.push([message.key, meta.partition, Number(meta.baseOffset)]);
  }
  await producer.disconnect();
  for (const [key, partition, offset] of produced) console.log("produced", key, partition, offset);

  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const consumed = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out consuming")), WAIT_MS);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        consumed.push([message.key.toString(), message.value.toString(), partition, Number(message.offset)]);
        if (consumed.length === RECORDS) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect(); // commits what was read and leaves the group
  consumed.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const record of consumed) console.log("consumed", ...record);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
