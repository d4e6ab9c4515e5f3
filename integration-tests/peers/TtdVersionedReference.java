// Java's reference output for integration-tests/tests/dsl_ttd_java_versioned.rs: builds one of
// a fixed set of topologies over versioned tables (KIP-889/KIP-914/KIP-923) with Kafka
// Streams 4.4.0, pipes the fixed feed FEED through Java's TopologyTestDriver and prints every
// record of the output topic, one line each: topic \t key \t value \t timestamp (null as
// "null"). A record the driver fails on prints "(process error)" and ends the feed. A "_describe" case prints describe() first, each line after "(describe)\t"; a
// topology Java refuses prints "(error)".
//
// Usage: java -cp <jars incl. rocksdbjni> TtdVersionedReference <topology>...
//
// The feed and the topologies must stay identical to the Rust test's.

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;

public class TtdVersionedReference {
    record In(String topic, String key, String value, long ts) {}

    /**
     * A stream and two tables with out-of-order updates (table "a" at 2000 after 5000), an
     * update beyond the 5 s history (at 100 after 9000), deletes, late stream records and a
     * stream record before its key's first table value.
     */
    static final List<In> FEED = List.of(
            new In("table", "a", "a1", 1000),
            new In("table", "b", "b1", 1000),
            new In("other", "a", "x1", 1200),
            new In("stream", "a", "S1", 1500),
            new In("table", "a", "a2", 5000),
            new In("other", "a", "x2", 5500),
            new In("stream", "a", "S2", 6000),
            new In("stream", "a", "S3", 3000),
            new In("table", "a", "a0", 2000),
            new In("other", "a", "x0", 1800),
            new In("stream", "a", "S4", 2500),
            new In("table", "b", null, 7000),
            new In("stream", "b", "S5", 4000),
            new In("stream", "b", "S6", 8000),
            new In("table", "c", "c1", 9000),
            new In("other", "c", "y1", 8800),
            new In("stream", "c", "S7", 8500),
            new In("stream", "c", "S8", 9500),
            new In("table", "a", "aX", 100),
            new In("other", "c", "y0", 8700),
            new In("stream", "a", "S9", 100),
            new In("stream", "b", "S10", 7500),
            new In("stream", null, "N1", 9600),
            new In("stream", "d", "S11", 20000),
            new In("table", "a", "a3", 30000),
            new In("other", "a", "x3", 29000),
            new In("stream", "a", "S12", 25000),
            new In("stream", "a", "S13", 31000),
            new In("table", "a", "a4", 26000),
            new In("stream", "a", "S14", 40000));

    static final Serde<String> STR = Serdes.String();

    static final ValueJoiner<String, String, String> PAIR = (l, r) -> "[" + l + ", " + r + "]";

    static Materialized<String, String, KeyValueStore<Bytes, byte[]>> versioned(String name) {
        return Materialized.as(Stores.persistentVersionedKeyValueStore(name, Duration.ofSeconds(5)));
    }

    static KTable<String, String> table(StreamsBuilder b, String topic, String store) {
        return b.table(topic, Consumed.with(STR, STR), versioned(store));
    }

    static Joined<String, String, String> grace(long ms) {
        return Joined.<String, String, String>with(STR, STR, STR).withGracePeriod(Duration.ofMillis(ms));
    }

    public static void main(String[] args) {
        for (String name : args) {
            System.out.println("== " + name);
            try {
                run(name);
            } catch (IllegalArgumentException | org.apache.kafka.streams.errors.TopologyException e) {
                System.out.println("(error)");
            }
        }
        System.out.flush();
    }

    static void run(String name) {
        StreamsBuilder b = new StreamsBuilder();
        boolean describe = name.endsWith("_describe");
        String base = describe ? name.substring(0, name.length() - "_describe".length()) : name;
        switch (base) {
            case "v_st_inner" -> b.<String, String>stream("stream")
                    .join(table(b, "table", "vt"), PAIR).to("out");
            case "v_st_left" -> b.<String, String>stream("stream")
                    .leftJoin(table(b, "table", "vt"), PAIR).to("out");
            case "plain_st_inner" -> b.<String, String>stream("stream")
                    .join(b.<String, String>table("table"), PAIR).to("out");
            case "v_st_grace" -> b.<String, String>stream("stream")
                    .join(table(b, "table", "vt"), PAIR, grace(2000)).to("out");
            case "v_st_grace_left" -> b.<String, String>stream("stream")
                    .leftJoin(table(b, "table", "vt"), PAIR, grace(2000)).to("out");
            case "v_st_grace_left_keyed" -> b.<String, String>stream("stream")
                    .filter((k, v) -> k != null)
                    .leftJoin(table(b, "table", "vt"), PAIR, grace(2000)).to("out");
            case "v_filter_materialized" -> {
                KTable<String, String> t = table(b, "table", "vt")
                        .filter((k, v) -> !v.equals("a2"), versioned("vf"));
                t.toStream().mapValues(v -> "table " + v).to("out");
                b.<String, String>stream("stream").filter((k, v) -> k != null)
                        .leftJoin(t, PAIR, grace(1000)).to("out");
            }
            case "v_tt_materialized" -> {
                KTable<String, String> t = table(b, "table", "vt")
                        .join(table(b, "other", "vo"), PAIR, versioned("vj"));
                b.<String, String>stream("stream").join(t, PAIR).to("out");
            }
            case "v_fk_left" -> table(b, "table", "vt")
                    .leftJoin(table(b, "other", "vo"), v -> v.startsWith("a") ? "a" : "c", PAIR)
                    .toStream().to("out");
            case "v_fk_inner_materialized" -> {
                KTable<String, String> t = table(b, "table", "vt")
                        .join(table(b, "other", "vo"), v -> v.startsWith("a") ? "a" : "c", PAIR,
                                versioned("vfk"));
                t.toStream().to("out");
                b.<String, String>stream("stream").filter((k, v) -> k != null)
                        .join(t, PAIR, grace(1000)).to("out");
            }
            case "v_suppress" -> table(b, "table", "vt")
                    .suppress(org.apache.kafka.streams.kstream.Suppressed.untilTimeLimit(
                            Duration.ofSeconds(1),
                            org.apache.kafka.streams.kstream.Suppressed.BufferConfig.unbounded()))
                    .toStream().to("out");
            case "v_grouped_count" -> table(b, "table", "vt")
                    .groupBy((k, v) -> org.apache.kafka.streams.KeyValue.pair(v.substring(0, 1), v))
                    .count().toStream().mapValues(c -> "count " + c).to("out");
            case "v_count_versioned" -> {
                KTable<String, Long> c = b.<String, String>stream("stream").filter((k, v) -> k != null)
                        .groupByKey()
                        .count(Materialized.<String, Long>as(
                                Stores.persistentVersionedKeyValueStore("vc", Duration.ofSeconds(5)))
                                .withValueSerde(Serdes.Long()));
                c.toStream().mapValues(n -> "count " + n).to("out");
                b.<String, String>stream("other").join(c, (v, n) -> v + "#" + n,
                        Joined.<String, String, Long>with(STR, STR, Serdes.Long())
                                .withGracePeriod(Duration.ofMillis(500)))
                        .to("out");
            }
            case "v_reduce_versioned" -> table(b, "table", "vt")
                    .groupBy((k, v) -> org.apache.kafka.streams.KeyValue.pair(v.substring(0, 1), v))
                    .reduce((x, y) -> x + "+" + y, (x, y) -> x + "-" + y, versioned("vr"))
                    .toStream().to("out");
            case "v_cogroup" -> {
                var g1 = b.<String, String>stream("stream").filter((k, v) -> k != null).groupByKey();
                var g2 = b.<String, String>stream("other").groupByKey();
                KTable<String, String> t = g1.<String>cogroup((k, v, agg) -> agg + v)
                        .cogroup(g2, (k, v, agg) -> agg + v.toUpperCase())
                        .aggregate(() -> "", versioned("vcg"));
                t.toStream().to("out");
                b.<String, String>stream("table").filter((k, v) -> v != null)
                        .join(t, PAIR, grace(1000)).to("out");
            }
            case "v_st_grace_zero" -> b.<String, String>stream("stream")
                    .join(table(b, "table", "vt"), PAIR, grace(0)).to("out");
            case "v_st_grace_named" -> b.<String, String>stream("stream")
                    .leftJoin(table(b, "table", "vt"), PAIR, grace(5000).withName("lookup")).to("out");
            case "v_st_filtered" -> b.<String, String>stream("stream")
                    .leftJoin(table(b, "table", "vt").filter((k, v) -> !v.equals("a2"))
                            .mapValues(v -> v + "!"), PAIR, grace(1000)).to("out");
            case "v_source_to_stream" -> table(b, "table", "vt").toStream().to("out");
            case "v_filter_to_stream" -> table(b, "table", "vt")
                    .filter((k, v) -> !v.startsWith("a0")).toStream().to("out");
            case "v_tt_inner" -> table(b, "table", "vt")
                    .join(table(b, "other", "vo"), PAIR).toStream().to("out");
            case "v_tt_left" -> table(b, "table", "vt")
                    .leftJoin(table(b, "other", "vo"), PAIR).toStream().to("out");
            case "v_tt_outer_mixed" -> table(b, "table", "vt")
                    .outerJoin(b.<String, String>table("other"), PAIR).toStream().to("out");
            case "v_to_table" -> b.<String, String>stream("stream")
                    .join(b.<String, String>stream("table").toTable(versioned("tt")), PAIR,
                            grace(1000))
                    .to("out");
            case "grace_plain_table" -> b.<String, String>stream("stream")
                    .join(b.<String, String>table("table"), PAIR, grace(1000)).to("out");
            case "grace_beyond_history" -> b.<String, String>stream("stream")
                    .join(table(b, "table", "vt"), PAIR, grace(6000)).to("out");
            default -> throw new IllegalStateException("unknown topology " + name);
        }
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ttd");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        Topology topology = b.build();
        String described = topology.describe().toString();
        if (describe) {
            for (String line : described.split("\n")) {
                if (!line.isBlank()) {
                    System.out.println("(describe)\t" + line.stripTrailing());
                }
            }
        }
        try (TopologyTestDriver d = new TopologyTestDriver(topology, p, java.time.Instant.EPOCH)) {
            java.util.Map<String, TestInputTopic<String, String>> inputs = new java.util.HashMap<>();
            for (In r : FEED) {
                if (!described.contains(r.topic() + "]")) {
                    continue;
                }
                try {
                    inputs.computeIfAbsent(r.topic(), t -> d.createInputTopic(t, STR.serializer(), STR.serializer()))
                            .pipeInput(r.key(), r.value(), r.ts());
                } catch (org.apache.kafka.streams.errors.StreamsException e) {
                    // A left join with a grace period cannot buffer a null key: Java's task
                    // fails (NullPointerException "key cannot be null" in the buffer's put).
                    System.out.println("(process error)");
                    break;
                }
            }
            for (TestRecord<String, String> r : d.createOutputTopic("out", STR.deserializer(), STR.deserializer())
                    .readRecordsToList()) {
                System.out.println("out\t" + r.key() + "\t" + r.value() + "\t" + r.timestamp());
            }
        }
    }
}
