// Java's reference output for integration-tests/tests/dsl_ttd_java_cogroup_windows.rs: builds
// one of a fixed set of windowed-cogroup topologies with Kafka Streams 4.4.0, pipes a fixed
// input of two topics (out-of-order and late records, a null key) through Java's
// TopologyTestDriver, advancing its wall clock one second after each record, and prints every
// output record, one line each: topic \t key (Windowed.toString()) \t value \t timestamp; then
// the changelog records of the named stores (key and value in hex), then the driver's
// dropped-records-total metric.
//
// Usage: java -cp <jars> TtdCogroupWindowsReference <topology>...   (a "_nocache" suffix sets
// statestore.cache.max.bytes=0; an "_opt" suffix builds with topology.optimization=all and
// prints describe() first)
//
// The feed (FEED) and the topologies must stay identical to the Rust test's.

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Aggregator;
import org.apache.kafka.streams.kstream.CogroupedKStream;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Merger;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindowedDeserializer;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindowedDeserializer;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.test.TestRecord;

public class TtdCogroupWindowsReference {
    record In(String topic, String key, String value, long ts) {}

    /** The input, piped in this order, the wall clock one second on after each record. */
    static final List<In> FEED = List.of(
            new In("left", "a", "a-l1", 1000),
            new In("right", "a", "a-r1", 1500),
            new In("left", "b", "b-l1", 2000),
            new In("right", "x", "b-r1", 4000),
            new In("left", "a", "a-l2", 12000),
            new In("right", "a", "a-r2", 9000),
            new In("left", null, "n-l", 13000),
            new In("right", "a", "a-r3", 16000),
            new In("left", "b", "b-l2", 3000),
            new In("right", "b", "b-r2", 5000),
            new In("left", "c", "c-l1", 21000),
            new In("right", "c", "c-r1", 20500),
            new In("left", "a", "a-l3", 7000),
            new In("right", "y", "a-r4", 14000),
            new In("right", "a", "a-r5", 5000),
            new In("left", "c", "c-l2", 40000),
            new In("right", "c", "c-r2", 41000));

    static final Duration TEN = Duration.ofSeconds(10);
    static final Duration FIVE = Duration.ofSeconds(5);
    static final long SIZE = TEN.toMillis();

    public static void main(String[] args) {
        for (String name : args) {
            System.out.println("== " + name);
            run(name);
        }
        System.out.flush();
    }

    static String hex(byte[] b) {
        if (b == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder();
        for (byte x : b) {
            out.append(String.format("%02x", x));
        }
        return out.toString();
    }

    static void run(String name) {
        boolean optimize = name.endsWith("_opt");
        String unopt = optimize ? name.substring(0, name.length() - "_opt".length()) : name;
        boolean nocache = unopt.endsWith("_nocache");
        String base = nocache ? unopt.substring(0, unopt.length() - "_nocache".length()) : unopt;
        Serde<String> str = Serdes.String();
        StreamsBuilder b = new StreamsBuilder();
        KGroupedStream<String, String> left = b.<String, String>stream("left").groupByKey();
        KStream<String, String> rightStream = b.stream("right");
        KGroupedStream<String, String> right = base.contains("rekey")
                ? rightStream.groupBy((k, v) -> v.substring(0, 1))
                : rightStream.groupByKey();
        Aggregator<String, String, String> leftAgg = (k, v, agg) -> agg + "L" + v;
        Aggregator<String, String, String> rightAgg = (k, v, agg) -> agg + "R" + v;
        CogroupedKStream<String, String> cogroup = left.cogroup(leftAgg).cogroup(right, rightAgg);
        TimeWindows tumbling = TimeWindows.ofSizeAndGrace(TEN, FIVE);
        SlidingWindows sliding = SlidingWindows.ofTimeDifferenceAndGrace(TEN, FIVE);
        SessionWindows sessions = SessionWindows.ofInactivityGapAndGrace(FIVE, TEN);
        Merger<String, String> merger = (k, a1, a2) -> a1 + "|" + a2;
        boolean session = false;
        List<String> changelogs = new ArrayList<>();
        KTable<Windowed<String>, String> table;
        switch (base) {
            case "tumbling", "rekey" -> table = cogroup.windowedBy(tumbling).aggregate(() -> "<");
            case "hopping" -> table = cogroup.windowedBy(tumbling.advanceBy(FIVE)).aggregate(() -> "<");
            case "sliding", "sliding_rekey" -> table = cogroup.windowedBy(sliding).aggregate(() -> "<");
            case "session", "session_rekey" -> {
                session = true;
                table = cogroup.windowedBy(sessions).aggregate(() -> "<", merger);
            }
            case "named" -> {
                table = cogroup.windowedBy(tumbling).aggregate(() -> "<", Named.as("cg"),
                        Materialized.<String, String, WindowStore<Bytes, byte[]>>as("cg-store")
                                .withRetention(Duration.ofMinutes(1)));
                changelogs.add("cg-store");
            }
            case "session_named" -> {
                session = true;
                table = cogroup.windowedBy(sessions).aggregate(() -> "<", merger, Named.as("cgs"),
                        Materialized.<String, String, SessionStore<Bytes, byte[]>>as("cg-sessions"));
                changelogs.add("cg-sessions");
            }
            // The suppression buffers windowed keys: the table needs its key serde (a
            // windowed cogroup's has none unless materialized with one; ours takes the first
            // stream's).
            case "suppressed" -> table = cogroup.windowedBy(tumbling)
                    .aggregate(() -> "<", Materialized.<String, String, WindowStore<Bytes, byte[]>>with(str, str))
                    .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()));
            case "session_suppressed" -> {
                session = true;
                table = cogroup.windowedBy(sessions)
                        .aggregate(() -> "<", merger, Materialized.<String, String, SessionStore<Bytes, byte[]>>with(str, str))
                        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()));
            }
            default -> throw new IllegalArgumentException("unknown topology " + name);
        }
        if (session) {
            table.toStream().to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), str));
        } else {
            table.toStream().to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, SIZE), str));
        }

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ttdcw");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
        if (nocache) {
            p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
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
        try (TopologyTestDriver d = new TopologyTestDriver(topology, p)) {
            TestInputTopic<String, String> leftIn = d.createInputTopic("left", str.serializer(), str.serializer());
            TestInputTopic<String, String> rightIn = d.createInputTopic("right", str.serializer(), str.serializer());
            for (In r : FEED) {
                (r.topic().equals("right") ? rightIn : leftIn).pipeInput(r.key(), r.value(), r.ts());
                d.advanceWallClockTime(Duration.ofSeconds(1));
            }
            Deserializer<Windowed<String>> keys = session
                    ? new SessionWindowedDeserializer<>(str.deserializer())
                    : new TimeWindowedDeserializer<>(str.deserializer(), SIZE);
            TestOutputTopic<Windowed<String>, String> out = d.createOutputTopic("out", keys, str.deserializer());
            for (TestRecord<Windowed<String>, String> r : out.readRecordsToList()) {
                System.out.println("out\t" + r.key() + "\t" + r.value() + "\t" + r.timestamp());
            }
            for (String store : changelogs) {
                String topic = "ttdcw-" + store + "-changelog";
                TestOutputTopic<byte[], byte[]> log = d.createOutputTopic(topic,
                        Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer());
                for (TestRecord<byte[], byte[]> r : log.readRecordsToList()) {
                    System.out.println(topic + "\t" + hex(r.key()) + "\t" + hex(r.value()) + "\t" + r.timestamp());
                }
            }
            double dropped = 0;
            for (Map.Entry<MetricName, ? extends Metric> m : d.metrics().entrySet()) {
                if (m.getKey().name().equals("dropped-records-total")) {
                    dropped += ((Number) m.getValue().metricValue()).doubleValue();
                }
            }
            System.out.println("(dropped-records-total)\tnull\t" + (long) dropped + "\t0");
        }
    }
}
