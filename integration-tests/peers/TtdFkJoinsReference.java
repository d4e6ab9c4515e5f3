// Java's reference output for integration-tests/tests/dsl_ttd_java_fk_joins.rs: builds one of
// a fixed set of foreign-key table-table joins (KIP-213) with Kafka Streams 4.4.0, pipes the
// fixed feed FEED through Java's TopologyTestDriver and prints every record of the output
// topic, one line each: topic \t key \t value \t timestamp (null as "null"). An "_opt"
// suffix builds with topology.optimization=all, "_uncached" with statestore.cache.max.bytes=0;
// a "_described" or "_opt" case prints
// describe() first, each line after "(describe)\t". The "bytes" and "left_bytes" cases print
// the records of the two internal topics and of the subscription store's changelog first, as
// hex ("(bytes)\t" topic \t key \t value \t timestamp).
//
// Usage: java -cp <jars> TtdFkJoinsReference <topology>...
//
// The feed and the topologies must stay identical to the Rust test's.

import java.util.HexFormat;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.test.TestRecord;

public class TtdFkJoinsReference {
    record In(String topic, String key, String value, long ts) {}

    /** Orders (left, "<customer>,<item>") and customers (right): FK changes, deletes on both
     *  sides, a null foreign key, an out-of-order update, an unchanged value. */
    static final List<In> FEED = List.of(
            new In("right", "A", "alice", 1000),
            new In("left", "o1", "A,pen", 2000),
            new In("left", "o2", "B,ink", 3000),
            new In("right", "B", "bob", 4000),
            new In("left", "o1", "B,pen", 5000),
            new In("right", "A", "alice2", 6000),
            new In("left", "o3", "nofk", 7000),
            new In("left", "o2", null, 8000),
            new In("right", "B", null, 9000),
            new In("left", "o1", "A,cap", 3500),
            new In("right", "B", "bob2", 10000),
            new In("left", "o4", "C,box", 11000),
            new In("right", "C", "carol", 12000),
            new In("left", "o4", "C,box", 13000),
            new In("left", "o3", "B,mug", 13500),
            new In("right", "A", null, 14000),
            new In("left", "o1", null, 15000),
            new In("left", "o5", "A,hat", 16000),
            new In("right", "A", "alice3", 17000),
            new In("left", "o5", "nofk", 18000),
            new In("left", "o6", "D,cup", 19000),
            new In("left", "o6", null, 20000));

    static final Serde<String> STR = Serdes.String();

    static final ValueJoiner<String, String, String> PAIR = (l, r) -> "[" + l + ", " + r + "]";

    /** The customer of an order, null without one. */
    static String customer(String order) {
        int comma = order.indexOf(',');
        return comma < 0 ? null : order.substring(0, comma);
    }

    public static void main(String[] args) {
        for (String name : args) {
            System.out.println("== " + name);
            run(name);
        }
        System.out.flush();
    }

    static void run(String name) {
        boolean optimize = name.endsWith("_opt");
        String base = optimize ? name.substring(0, name.length() - 4) : name;
        boolean describe = optimize || base.endsWith("_described");
        boolean uncached = base.endsWith("_uncached");
        base = base.replace("_described", "").replace("_uncached", "");
        StreamsBuilder b = new StreamsBuilder();
        switch (base) {
            case "inner", "bytes" -> b.<String, String>table("left")
                    .join(b.<String, String>table("right"), TtdFkJoinsReference::customer, PAIR)
                    .toStream().to("out");
            case "left", "left_bytes" -> b.<String, String>table("left")
                    .leftJoin(b.<String, String>table("right"), TtdFkJoinsReference::customer, PAIR)
                    .toStream().to("out");
            case "named" -> b.<String, String>table("left")
                    .join(b.<String, String>table("right"), TtdFkJoinsReference::customer, PAIR,
                            TableJoined.as("orders-customers"))
                    .toStream().to("out");
            case "left_named" -> b.<String, String>table("left")
                    .leftJoin(b.<String, String>table("right"), TtdFkJoinsReference::customer, PAIR,
                            TableJoined.as("oc"), Materialized.as("oc-store"))
                    .toStream().to("out");
            case "materialized" -> b.<String, String>table("left")
                    .join(b.<String, String>table("right"), TtdFkJoinsReference::customer, PAIR,
                            Materialized.as("joined"))
                    .toStream().to("out");
            case "left_materialized" -> b.<String, String>table("left")
                    .leftJoin(b.<String, String>table("right"), TtdFkJoinsReference::customer, PAIR,
                            Materialized.<String, String, org.apache.kafka.streams.state.KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]>>with(null, null))
                    .toStream().to("out");
            case "key_extractor" -> b.<String, String>table("left")
                    .leftJoin(b.<String, String>table("right"),
                            (String k, String v) -> k.equals("o3") ? "C" : customer(v), PAIR)
                    .toStream().to("out");
            case "views" -> {
                KTable<String, String> l = b.<String, String>table("left")
                        .filter((k, v) -> !k.equals("o4"));
                KTable<String, String> r = b.<String, String>table("right")
                        .mapValues(v -> v.toUpperCase(), Named.as("upper"),
                                Materialized.<String, String, org.apache.kafka.streams.state.KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]>>with(null, null));
                l.leftJoin(r, TtdFkJoinsReference::customer, PAIR)
                        .mapValues(v -> "v " + v)
                        .toStream().to("out");
            }
            case "chained" -> {
                KTable<String, String> r = b.table("right");
                KTable<String, String> j = b.<String, String>table("left")
                        .join(r, TtdFkJoinsReference::customer, PAIR);
                j.join(r, v -> v.substring(1, 2), (a, c) -> a + " again " + c)
                        .toStream().to("out");
            }
            case "self" -> {
                KTable<String, String> t = b.table("left");
                t.leftJoin(t, v -> v.startsWith("A") ? "o1" : "o4", PAIR).toStream().to("out");
            }
            case "grouped" -> b.<String, String>table("left")
                    .leftJoin(b.<String, String>table("right"), TtdFkJoinsReference::customer, PAIR)
                    .groupBy((k, v) -> org.apache.kafka.streams.KeyValue.pair(
                            v.endsWith(", null]") ? "without" : "with", v))
                    .count()
                    .toStream()
                    .mapValues(c -> "count " + c)
                    .to("out");
            default -> throw new IllegalArgumentException("unknown topology " + name);
        }
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ttd");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
        if (optimize) {
            p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
        }
        if (uncached) {
            p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
        }
        Topology topology = optimize ? b.build(p) : b.build();
        if (describe) {
            for (String line : topology.describe().toString().split("\n")) {
                if (!line.isBlank()) {
                    System.out.println("(describe)\t" + line.stripTrailing());
                }
            }
        }
        try (TopologyTestDriver d = new TopologyTestDriver(topology, p, java.time.Instant.EPOCH)) {
            java.util.Map<String, TestInputTopic<String, String>> inputs = new java.util.HashMap<>();
            for (In r : FEED) {
                if (!topology.describe().toString().contains(r.topic() + "]")) {
                    continue;
                }
                inputs.computeIfAbsent(r.topic(), t -> d.createInputTopic(t, STR.serializer(), STR.serializer()))
                        .pipeInput(r.key(), r.value(), r.ts());
            }
            if (base.endsWith("bytes")) {
                HexFormat hex = HexFormat.of();
                for (String topic : List.of(
                        "ttd-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
                        "ttd-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic",
                        "ttd-KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010-changelog")) {
                    for (TestRecord<byte[], byte[]> r : d.createOutputTopic(topic,
                            new ByteArrayDeserializer(), new ByteArrayDeserializer()).readRecordsToList()) {
                        System.out.println("(bytes)\t" + topic + "\t" + (r.key() == null ? "null" : hex.formatHex(r.key())) + "\t"
                                + (r.value() == null ? "null" : hex.formatHex(r.value())) + "\t" + r.timestamp());
                    }
                }
            }
            for (TestRecord<String, String> r : d.createOutputTopic("out", STR.deserializer(), STR.deserializer())
                    .readRecordsToList()) {
                System.out.println("out\t" + r.key() + "\t" + r.value() + "\t" + r.timestamp());
            }
        }
    }
}
