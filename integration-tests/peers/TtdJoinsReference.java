// Java's reference output for integration-tests/tests/dsl_ttd_java_joins.rs: builds one of a
// fixed set of joined topologies with Kafka Streams 4.4.0, pipes a fixed input through Java's
// TopologyTestDriver and prints every record of the output topic, one line each:
// topic \t key \t value \t timestamp (null as "null"). An "_opt" suffix builds with
// topology.optimization=all and prints describe() first, each line after "(describe)\t".
//
// Usage: java -cp <jars> TtdJoinsReference <topology>...
//
// The feeds (DOC, MIX) and the topologies must stay identical to the Rust test's.

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.test.TestRecord;

public class TtdJoinsReference {
    record In(String topic, String key, String value, long ts) {}

    /** The developer guide's join timeline: one key, values at seconds (here ms x 1000). */
    static final List<In> DOC = List.of(
            new In("left", "k", null, 1000),
            new In("right", "k", null, 2000),
            new In("left", "k", "A", 3000),
            new In("right", "k", "a", 4000),
            new In("left", "k", "B", 5000),
            new In("right", "k", "b", 6000),
            new In("left", "k", null, 7000),
            new In("right", "k", null, 8000),
            new In("left", "k", "C", 9000),
            new In("right", "k", "c", 10000),
            new In("right", "k", null, 11000),
            new In("left", "k", null, 12000),
            new In("right", "k", null, 13000),
            new In("right", "k", "d", 14000),
            new In("left", "k", "D", 15000),
            new In("left", "k", "E", 40000),
            new In("left", "k", "F", 60000),
            new In("right", "k", "f", 80000),
            new In("left", "k", "G", 100000));

    /** Several keys, out-of-order records, null keys and values, a global table. */
    static final List<In> MIX = List.of(
            new In("global", "A", "alpha", 0),
            new In("global", "B", "beta", 0),
            new In("left", "a", "A1", 1000),
            new In("right", "a", "a1", 1500),
            new In("left", "b", "B1", 2000),
            new In("right", "c", "c1", 2500),
            new In("left", null, "N1", 3000),
            new In("right", null, "n1", 3100),
            new In("right", "b", "b1", 9000),
            new In("left", "a", "A2", 12000),
            new In("right", "a", null, 12500),
            new In("left", "c", "C1", 4000),
            new In("left", "b", null, 13000),
            new In("right", "a", "a2", 20000),
            new In("left", "d", "D1", 30000),
            new In("right", "d", "d1", 45000),
            new In("left", "a", "A3", 60000),
            new In("right", "e", "e1", 61000),
            new In("probe", "a", "P1", 70000),
            new In("probe", "b", "P2", 70000),
            new In("probe", "c", "P3", 70000),
            new In("probe", "d", "P4", 70000),
            new In("probe", "e", "P5", 70000));

    static final Serde<String> STR = Serdes.String();

    static final ValueJoiner<String, String, String> PAIR = (l, r) -> "[" + l + ", " + r + "]";

    static JoinWindows docWindows() {
        return JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(15), Duration.ofSeconds(5));
    }

    static JoinWindows mixWindows() {
        return JoinWindows.ofTimeDifferenceAndGrace(Duration.ofSeconds(5), Duration.ofSeconds(2));
    }

    /** The first letter of a value, the global table's key. */
    static String initial(String k, String v) {
        return v == null ? null : v.substring(0, 1);
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
        boolean throttled = base.endsWith("_throttled");
        StreamsBuilder b = new StreamsBuilder();
        List<In> feed = base.startsWith("doc_") ? DOC : MIX;
        switch (base.replace("_throttled", "")) {
            case "doc_ss_inner" -> b.<String, String>stream("left")
                    .join(b.<String, String>stream("right"), PAIR, docWindows()).to("out");
            case "doc_ss_left" -> b.<String, String>stream("left")
                    .leftJoin(b.<String, String>stream("right"), PAIR, docWindows()).to("out");
            case "doc_ss_outer" -> b.<String, String>stream("left")
                    .outerJoin(b.<String, String>stream("right"), PAIR, docWindows()).to("out");
            case "doc_st_inner" -> b.<String, String>stream("left")
                    .join(b.<String, String>table("right"), PAIR).to("out");
            case "doc_st_left" -> b.<String, String>stream("left")
                    .leftJoin(b.<String, String>table("right"), PAIR).to("out");
            case "doc_tt_inner" -> b.<String, String>table("left")
                    .join(b.<String, String>table("right"), PAIR).toStream().to("out");
            case "doc_tt_left" -> b.<String, String>table("left")
                    .leftJoin(b.<String, String>table("right"), PAIR).toStream().to("out");
            case "doc_tt_outer" -> b.<String, String>table("left")
                    .outerJoin(b.<String, String>table("right"), PAIR).toStream().to("out");
            case "ss_inner" -> b.<String, String>stream("left")
                    .join(b.<String, String>stream("right"), PAIR, mixWindows()).to("out");
            case "ss_left" -> b.<String, String>stream("left")
                    .leftJoin(b.<String, String>stream("right"), PAIR, mixWindows()).to("out");
            case "ss_outer" -> b.<String, String>stream("left")
                    .outerJoin(b.<String, String>stream("right"), PAIR,
                            mixWindows().before(Duration.ofSeconds(1)))
                    .to("out");
            case "ss_rekeyed" -> {
                KStream<String, String> l = b.<String, String>stream("left")
                        .selectKey((k, v) -> v == null ? "none" : v.substring(0, 1).toLowerCase());
                KStream<String, String> r = b.<String, String>stream("right")
                        .selectKey((k, v) -> v == null ? "none" : v.substring(0, 1));
                l.leftJoin(r, PAIR, mixWindows()).to("out");
            }
            case "ss_named" -> b.<String, String>stream("left")
                    .map((k, v) -> org.apache.kafka.streams.KeyValue.pair(k == null ? "z" : k, v))
                    .outerJoin(b.<String, String>stream("right"), PAIR, mixWindows(),
                            StreamJoined.<String, String, String>as("js").withName("sj"))
                    .to("out");
            case "st_inner" -> b.<String, String>stream("left")
                    .join(b.<String, String>table("right"), PAIR).to("out");
            case "st_left" -> b.<String, String>stream("left")
                    .leftJoin(b.<String, String>table("right"), PAIR).to("out");
            case "st_rekeyed" -> b.<String, String>stream("left")
                    .selectKey((k, v) -> v == null ? "none" : v.substring(0, 1).toLowerCase())
                    .leftJoin(b.<String, String>table("right"), PAIR, Joined.as("stj"))
                    .to("out");
            case "st_view" -> {
                KTable<String, String> t = b.<String, String>table("right")
                        .filter((k, v) -> !v.startsWith("b"))
                        .mapValues(v -> v.toUpperCase());
                b.<String, String>stream("left").leftJoin(t, PAIR).to("out");
            }
            case "global" -> {
                GlobalKTable<String, String> g = b.globalTable("global");
                KStream<String, String> s = b.stream("left");
                s.join(g, TtdJoinsReference::initial, PAIR).to("out");
                s.leftJoin(g, TtdJoinsReference::initial, PAIR, Named.as("gl")).to("out");
            }
            case "tt_inner" -> b.<String, String>table("left")
                    .join(b.<String, String>table("right"), PAIR).toStream().to("out");
            case "tt_left" -> b.<String, String>table("left")
                    .leftJoin(b.<String, String>table("right"), PAIR).toStream().to("out");
            case "tt_outer" -> b.<String, String>table("left")
                    .outerJoin(b.<String, String>table("right"), PAIR).toStream().to("out");
            case "tt_materialized" -> b.<String, String>table("left")
                    .outerJoin(b.<String, String>table("right"), PAIR, Named.as("tj"),
                            Materialized.as("joined-store"))
                    .toStream().to("out");
            case "tt_chain" -> {
                KTable<String, String> j = b.<String, String>table("left")
                        .leftJoin(b.<String, String>table("right"), PAIR);
                b.<String, String>stream("probe", Consumed.as("probe"))
                        .join(j, PAIR).to("out");
            }
            case "tt_grouped" -> b.<String, String>table("left")
                    .outerJoin(b.<String, String>table("right"), PAIR)
                    .groupBy((k, v) -> org.apache.kafka.streams.KeyValue.pair(v.contains("null") ? "half" : "full", v))
                    .reduce((a, v) -> a + "+" + v, (a, v) -> a + "-" + v)
                    .toStream().to("out");
            case "ss_self_left" -> {
                KStream<String, String> s = b.stream("left");
                s.leftJoin(s, PAIR, mixWindows()).to("out");
            }
            case "ss_self_asym" -> {
                KStream<String, String> s = b.stream("left");
                s.join(s, PAIR, mixWindows().before(Duration.ofSeconds(1)).after(Duration.ofSeconds(10))).to("out");
            }
            case "doc_ss_self" -> {
                KStream<String, String> s = b.stream("left");
                s.join(s, PAIR, docWindows().before(Duration.ofSeconds(4))).to("out");
            }
            case "st_to_table" -> {
                KStream<String, String> s = b.stream("left");
                KTable<String, String> t = b.<String, String>stream("right").toTable();
                s.leftJoin(t, PAIR).to("out");
            }
            case "tt_views" -> {
                KTable<String, String> l = b.<String, String>table("left")
                        .filter((k, v) -> !v.startsWith("B"));
                KTable<String, String> r = b.<String, String>table("right")
                        .mapValues(v -> v + "!", Materialized.as("bang"));
                l.outerJoin(r, PAIR).toStream().to("out");
            }
            case "null_keys_rekeyed" -> {
                // A key change keeping null keys: they reach the left joins through the
                // repartition topics (KIP-962); the inner join and the count drop them.
                KStream<String, String> s = b.<String, String>stream("left").selectKey((k, v) -> k);
                KTable<String, String> t = b.table("right");
                s.leftJoin(t, PAIR).to("out");
                s.join(t, PAIR).mapValues(v -> "inner " + v).to("out");
                KStream<String, String> r = b.<String, String>stream("probe").selectKey((k, v) -> k);
                s.leftJoin(r, PAIR, mixWindows()).mapValues(v -> "ss " + v).to("out");
                s.groupByKey().count().toStream().mapValues(v -> "count " + v).to("out");
            }
            case "ss_self_rekeyed" -> {
                KStream<String, String> s = b.<String, String>stream("left").selectKey((k, v) -> k);
                s.join(s, PAIR, mixWindows()).to("out");
            }
            case "ss_self" -> {
                KStream<String, String> s = b.stream("left");
                s.join(s, PAIR, mixWindows()).to("out");
            }
            default -> throw new IllegalArgumentException("unknown topology " + name);
        }
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ttd");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
        if (throttled) {
            // The application default; Java's driver sets 0 (scan at every record) otherwise.
            p.put("__emit.interval.ms.kstreams.outer.join.spurious.results.fix__", 1000L);
        }
        if (optimize) {
            p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
        }
        Topology topology = optimize ? b.build(p) : b.build();
        if (optimize) {
            for (String line : topology.describe().toString().split("\n")) {
                if (!line.isBlank()) {
                    System.out.println("(describe)\t" + line.stripTrailing());
                }
            }
        }
        // A wall clock standing still, as ours does: Java's driver takes its "initial wall-clock
        // time" as its MockTime's auto-tick, so the two-argument constructor (auto-tick = now)
        // jumps the clock ahead at every read; EPOCH makes the auto-tick 0.
        try (TopologyTestDriver d = new TopologyTestDriver(topology, p, java.time.Instant.EPOCH)) {
            java.util.Map<String, TestInputTopic<String, String>> inputs = new java.util.HashMap<>();
            for (In r : feed) {
                if (!topology.describe().toString().contains(r.topic() + "]")) {
                    continue;
                }
                inputs.computeIfAbsent(r.topic(), t -> d.createInputTopic(t, STR.serializer(), STR.serializer()))
                        .pipeInput(r.key(), r.value(), r.ts());
            }
            for (TestRecord<String, String> r : d.createOutputTopic("out", STR.deserializer(), STR.deserializer())
                    .readRecordsToList()) {
                System.out.println("out\t" + r.key() + "\t" + r.value() + "\t" + r.timestamp());
            }
        }
    }
}
