// Apache Kafka's own Java client (kafka-clients) against kite serve, as tests/tests/kafka_clients.rs
// runs it (`java -cp 'JARS/*' java_client.java BOOTSTRAP TOPIC GROUP`, the single-file source
// launcher): the admin client creates a topic of three partitions, the producer (idempotent with
// acks=all, the Java client's defaults since 3.0) sends six keyed records, zstd-compressed, with its
// default partitioner, a consumer group reads them back, commits and leaves; then the admin client lists
// and describes the group, describes the cluster, and changes and reads a topic config. Prints the
// same lines as confluent_kafka_client.py: `produced KEY PARTITION OFFSET`, `consumed KEY VALUE
// PARTITION OFFSET`, `listed GROUP…`, `described GROUP STATE MEMBERS`, `cluster N brokers,
// controller ID`, `config NAME VALUE SOURCE` (the source as the Java client names it).

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class JavaClient {
    static final int RECORDS = 6;
    static final long WAIT_SECONDS = 30;

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], group = args[2];
        Properties common = new Properties();
        common.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(common)) {
            NewTopic newTopic = new NewTopic(topic, 3, (short) 3).configs(Map.of("retention.ms", "3600000"));
            admin.createTopics(List.of(newTopic)).all().get(WAIT_SECONDS, TimeUnit.SECONDS);
            produce(common, topic);
            consume(common, topic, group);
            describe(admin, topic, group);
        }
    }

    static void produce(Properties common, String topic) throws Exception {
        Properties config = new Properties();
        config.putAll(common);
        config.put("key.serializer", StringSerializer.class.getName());
        config.put("value.serializer", StringSerializer.class.getName());
        config.put("compression.type", "zstd"); // zstd-jni on the client, Kite's own codec on the broker
        List<String> produced = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            for (int i = 0; i < RECORDS; i++) {
                RecordMetadata sent = producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i))
                        .get(WAIT_SECONDS, TimeUnit.SECONDS);
                produced.add("produced k" + i + " " + sent.partition() + " " + sent.offset());
            }
        }
        produced.forEach(System.out::println);
    }

    static void consume(Properties common, String topic, String group) {
        Properties config = new Properties();
        config.putAll(common);
        config.put("group.id", group);
        config.put("auto.offset.reset", "earliest");
        config.put("enable.auto.commit", "false");
        config.put("key.deserializer", StringDeserializer.class.getName());
        config.put("value.deserializer", StringDeserializer.class.getName());
        TreeSet<String> consumed = new TreeSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + WAIT_SECONDS * 1000;
            while (consumed.size() < RECORDS && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofSeconds(1))) {
                    consumed.add("consumed " + record.key() + " " + record.value() + " " + record.partition()
                            + " " + record.offset());
                }
            }
            consumer.commitSync(Duration.ofSeconds(WAIT_SECONDS));
        } // close() leaves the group
        consumed.forEach(System.out::println);
    }

    static void describe(Admin admin, String topic, String group) throws Exception {
        TreeSet<String> listed = new TreeSet<>();
        for (ConsumerGroupListing listing : admin.listConsumerGroups().all().get(WAIT_SECONDS, TimeUnit.SECONDS)) {
            listed.add(listing.groupId());
        }
        System.out.println("listed " + String.join(" ", listed));
        ConsumerGroupDescription described = admin.describeConsumerGroups(List.of(group))
                .describedGroups().get(group).get(WAIT_SECONDS, TimeUnit.SECONDS);
        System.out.println("described " + described.groupId() + " " + described.state().name() + " "
                + described.members().size());
        DescribeClusterResult cluster = admin.describeCluster();
        System.out.println("cluster " + cluster.nodes().get(WAIT_SECONDS, TimeUnit.SECONDS).size()
                + " brokers, controller " + cluster.controller().get(WAIT_SECONDS, TimeUnit.SECONDS).id());
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        AlterConfigOp change = new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET);
        admin.incrementalAlterConfigs(Map.of(resource, List.of(change))).all().get(WAIT_SECONDS, TimeUnit.SECONDS);
        Config configs = admin.describeConfigs(List.of(resource)).all().get(WAIT_SECONDS, TimeUnit.SECONDS).get(resource);
        for (String name : List.of("retention.ms", "cleanup.policy")) {
            ConfigEntry entry = configs.get(name);
            System.out.println("config " + name + " " + entry.value() + " " + entry.source());
        }
    }
}
