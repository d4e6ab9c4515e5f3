// Java's reference output for integration-tests/tests/dsl_ttd_java_windows.rs: builds one of
// a fixed set of windowed-aggregation topologies with Kafka Streams 4.4.0, pipes a fixed
// input (out-of-order and late records, a null key) through Java's TopologyTestDriver,
// advancing its wall clock one second after each record, and prints every output record, one
// line each: topic \t key (Windowed.toString()) \t value \t timestamp. Then the driver's
// dropped-records-total metric.
//
// Usage: java -cp <jars> TtdWindowsReference <topology>...   (a "_nocache" suffix sets
// statestore.cache.max.bytes=0; an "_opt" suffix builds with topology.optimization=all and
// prints describe() first)
//
// The feed (FEED) and the topologies must stay identical to the Rust test's.

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
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
import org.apache.kafka.streams.test.TestRecord;

public class TtdWindowsReference {
    record In(String key, String value, long ts) {}

    /** The input of topic "win", piped in this order, the wall clock one second on after each. */
    static final List<In> FEED = List.of(
            new In("a", "a1", 1000),
            new In("b", "b1", 2000),
            new In("a", "a2", 4500),
            new In("a", "a3", 12000),
            new In("b", "b2", 6000),
            new In("a", "a4", 16000),
            new In(null, "n1", 16500),
            new In("b", "b3", 3000),
            new In("c", "c1", 21000),
            new In("a", "a5", 14000),
            new In("b", "b4", 25000),
            new In("a", "a6", 19999),
            new In("a", "a7", 8200),
            new In("c", "c2", 40000));

    static final Duration TEN = Duration.ofSeconds(10);
    static final Duration FIVE = Duration.ofSeconds(5);

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
        Serde<Long> lng = Serdes.Long();
        StreamsBuilder b = new StreamsBuilder();
        // Output topic -> whether its values are longs.
        Map<String, Boolean> outputs = new LinkedHashMap<>();
        long size = TEN.toMillis();
        boolean session = false;
        // Stores whose changelog records are printed too (key and value in hex).
        List<String> changelogs = new java.util.ArrayList<>();
        KStream<String, String> in = b.stream("win");
        KGroupedStream<String, String> byKey = in.groupByKey();
        switch (base) {
            case "tumbling_count" -> {
                byKey.windowedBy(TimeWindows.ofSizeWithNoGrace(TEN)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "tumbling_count_grace" -> {
                byKey.windowedBy(TimeWindows.ofSizeAndGrace(TEN, FIVE)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "hopping_count" -> {
                byKey.windowedBy(TimeWindows.ofSizeAndGrace(TEN, FIVE).advanceBy(FIVE)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "hopping_uneven_count" -> {
                byKey.windowedBy(TimeWindows.ofSizeWithNoGrace(TEN).advanceBy(Duration.ofSeconds(3))).count()
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "tumbling_reduce" -> {
                byKey.windowedBy(TimeWindows.ofSizeAndGrace(TEN, FIVE)).reduce((agg, v) -> agg + "+" + v)
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), str));
                outputs.put("out", false);
            }
            case "tumbling_aggregate" -> {
                byKey.windowedBy(TimeWindows.ofSizeAndGrace(TEN, FIVE))
                        .aggregate(() -> "<", (k, v, agg) -> agg + v, Named.as("win-agg"),
                                Materialized.<String, String, org.apache.kafka.streams.state.WindowStore<org.apache.kafka.common.utils.Bytes, byte[]>>as("agg-store")
                                        .withValueSerde(str).withRetention(Duration.ofMinutes(1)))
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), str));
                outputs.put("out", false);
                changelogs.add("agg-store");
            }
            case "emit_final" -> {
                byKey.windowedBy(TimeWindows.ofSizeAndGrace(TEN, Duration.ofSeconds(2)))
                        .emitStrategy(EmitStrategy.onWindowClose())
                        .count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "emit_final_retained" -> {
                byKey.windowedBy(TimeWindows.ofSizeAndGrace(TEN, Duration.ofSeconds(2)))
                        .emitStrategy(EmitStrategy.onWindowClose())
                        .count(Materialized.<String, Long, org.apache.kafka.streams.state.WindowStore<org.apache.kafka.common.utils.Bytes, byte[]>>as("final-counts")
                                .withValueSerde(lng).withRetention(Duration.ofMinutes(1)))
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "emit_final_hopping" -> {
                byKey.windowedBy(TimeWindows.ofSizeAndGrace(TEN, FIVE).advanceBy(FIVE))
                        .emitStrategy(EmitStrategy.onWindowClose())
                        .reduce((agg, v) -> agg + "+" + v).toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), str));
                outputs.put("out", false);
            }
            case "rekey_count" -> {
                in.groupBy((k, v) -> v.substring(v.length() - 1))
                        .windowedBy(TimeWindows.ofSizeAndGrace(TEN, FIVE)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "rekey_two_windows" -> {
                KStream<String, String> m = in.selectKey((k, v) -> v.substring(v.length() - 1));
                m.groupByKey(Grouped.as("by-digit")).windowedBy(TimeWindows.ofSizeAndGrace(TEN, FIVE))
                        .count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                m.groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(TEN)).reduce((agg, v) -> agg + v)
                        .toStream()
                        .to("out2", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), str));
                outputs.put("out", true);
                outputs.put("out2", false);
            }
            case "sliding_count" -> {
                byKey.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(TEN, FIVE)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "sliding_count_no_grace" -> {
                byKey.windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(TEN)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "sliding_reduce" -> {
                byKey.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(TEN, FIVE))
                        .reduce((agg, v) -> agg + "+" + v).toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), str));
                outputs.put("out", false);
            }
            case "sliding_emit_final" -> {
                byKey.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(TEN, Duration.ofSeconds(2)))
                        .emitStrategy(EmitStrategy.onWindowClose())
                        .count(Materialized.<String, Long, org.apache.kafka.streams.state.WindowStore<org.apache.kafka.common.utils.Bytes, byte[]>>as("sliding-final")
                                .withValueSerde(lng).withRetention(Duration.ofMinutes(1)))
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "sliding_rekey" -> {
                in.groupBy((k, v) -> v.substring(v.length() - 1), Grouped.as("by-digit"))
                        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(TEN, FIVE)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, size), lng));
                outputs.put("out", true);
            }
            case "session_count" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, TEN)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), lng));
                outputs.put("out", true);
            }
            case "session_count_short_grace" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, Duration.ofSeconds(1))).count()
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), lng));
                outputs.put("out", true);
            }
            case "session_count_no_grace" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(FIVE)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), lng));
                outputs.put("out", true);
            }
            case "session_reduce" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, TEN))
                        .reduce((agg, v) -> agg + "+" + v).toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), str));
                outputs.put("out", false);
            }
            case "session_aggregate" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, TEN))
                        .aggregate(() -> "<", (k, v, agg) -> agg + v, (k, a1, a2) -> a1 + "|" + a2,
                                Named.as("sess-agg"),
                                Materialized.<String, String, org.apache.kafka.streams.state.SessionStore<org.apache.kafka.common.utils.Bytes, byte[]>>as("sess-store")
                                        .withValueSerde(str))
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), str));
                outputs.put("out", false);
                changelogs.add("sess-store");
            }
            // With the default retention (gap + grace) a session has expired from the store by
            // the time it closes: Kafka emits nothing. With a longer retention it does.
            case "session_emit_final_retained" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, Duration.ofSeconds(1)))
                        .emitStrategy(EmitStrategy.onWindowClose())
                        .count(Materialized.<String, Long, org.apache.kafka.streams.state.SessionStore<org.apache.kafka.common.utils.Bytes, byte[]>>as("final-sessions")
                                .withValueSerde(lng).withRetention(Duration.ofMinutes(1)))
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), lng));
                outputs.put("out", true);
            }
            case "session_emit_final" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, Duration.ofSeconds(1)))
                        .emitStrategy(EmitStrategy.onWindowClose())
                        .count().toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), lng));
                outputs.put("out", true);
            }
            case "session_rekey" -> {
                session = true;
                in.groupBy((k, v) -> v.substring(v.length() - 1))
                        .windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, TEN)).count().toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), lng));
                outputs.put("out", true);
            }
            case "session_suppressed" -> {
                session = true;
                byKey.windowedBy(SessionWindows.ofInactivityGapAndGrace(FIVE, TEN))
                        .count(Materialized.with(str, lng))
                        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                        .toStream()
                        .to("out", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), lng));
                outputs.put("out", true);
            }
            default -> throw new IllegalArgumentException("unknown topology " + name);
        }

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ttdw");
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
            TestInputTopic<String, String> input = d.createInputTopic("win", str.serializer(), str.serializer());
            for (In r : FEED) {
                input.pipeInput(r.key(), r.value(), r.ts());
                d.advanceWallClockTime(Duration.ofSeconds(1));
            }
            for (Map.Entry<String, Boolean> o : outputs.entrySet()) {
                Deserializer<?> values = o.getValue() ? lng.deserializer() : str.deserializer();
                Deserializer<Windowed<String>> keys = session
                        ? new SessionWindowedDeserializer<>(str.deserializer())
                        : new TimeWindowedDeserializer<>(str.deserializer(), size);
                @SuppressWarnings("unchecked")
                TestOutputTopic<Windowed<String>, Object> topic =
                        d.createOutputTopic(o.getKey(), keys, (Deserializer<Object>) values);
                for (TestRecord<Windowed<String>, Object> r : topic.readRecordsToList()) {
                    System.out.println(o.getKey() + "\t" + r.key() + "\t" + r.value() + "\t" + r.timestamp());
                }
            }
            for (String store : changelogs) {
                String topic = "ttdw-" + store + "-changelog";
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
