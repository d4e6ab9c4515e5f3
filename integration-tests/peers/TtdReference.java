// Java's reference output for integration-tests/tests/dsl_ttd_java.rs: builds one of a fixed
// set of DSL topologies with Kafka Streams 4.4.0, feeds a fixed input through Java's
// TopologyTestDriver (kafka-streams-test-utils 4.4.0) and prints every record of the output
// topics, one line each: topic \t key \t value \t timestamp (null as "null", numbers in
// decimal). Pseudo-topics in parentheses report what peek/foreach saw.
//
// Usage: java -cp <jars> TtdReference <topology>...   (a "_nocache" suffix sets
// statestore.cache.max.bytes=0; otherwise Kafka's default cache is on)
//
// The feed (FEED) and the topologies must stay identical to the Rust test's.

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.test.TestRecord;

public class TtdReference {
    record In(String topic, String key, String value, long ts) {}

    /** The input, piped in this order (records of topics a topology does not read skipped). */
    static final List<In> FEED = List.of(
            new In("input", "a", "apple", 100),
            new In("input", "b", "banana", 50),
            new In("input", "a", "avocado", 200),
            new In("input2", "x", "xigua", 175),
            new In("input", "c", "cherry", 150),
            new In("input", "b", null, 300),
            new In("input", "d", "date", 250),
            new In("input2", "y", "yam", 60),
            new In("input", "a", "apricot", 400),
            new In("input", "e", null, 120),
            new In("input", "c", "coconut", 90),
            new In("input", "d", "durian", 250),
            new In("input3", null, "nokey", 130),
            new In("input3", "k", "kiwi", 140),
            new In("input3", null, null, 160),
            new In("input3", "k", "kumquat", 110));

    /** Runs each named topology in turn, its lines after a "== name" line. */
    public static void main(String[] args) {
        for (String name : args) {
            System.out.println("== " + name);
            run(name);
        }
        System.out.flush();
    }

    /** The first letter of a value, "none" for a null one: the new key of the "opt_" cases. */
    static final class Initial {
        static final KeyValueMapper<String, String, String> KEY =
                (k, v) -> v == null ? "none" : v.substring(0, 1);
    }

    static void run(String name) {
        boolean optimize = name.endsWith("_opt");
        String unopt = optimize ? name.substring(0, name.length() - "_opt".length()) : name;
        boolean nocache = unopt.endsWith("_nocache");
        String base = nocache ? unopt.substring(0, unopt.length() - "_nocache".length()) : unopt;
        Serde<String> str = Serdes.String();
        Serde<Long> lng = Serdes.Long();
        StreamsBuilder b = new StreamsBuilder();
        // Output topic -> whether its values are longs; read in this order.
        Map<String, Boolean> outputs = new LinkedHashMap<>();
        Set<String> reads = Set.of("input");
        AtomicLong peeked = new AtomicLong();
        AtomicLong foreached = new AtomicLong();
        List<String> counters = new ArrayList<>();
        switch (base) {
            case "filter" -> {
                KStream<String, String> s = b.stream("input");
                s.filter((k, v) -> v != null && v.length() > 5).to("out-filter");
                s.filterNot((k, v) -> v != null && v.length() > 5).to("out-filter-not");
                outputs.put("out-filter", false);
                outputs.put("out-filter-not", false);
            }
            case "map" -> {
                KStream<String, String> s = b.stream("input");
                s.mapValues(v -> v == null ? null : v.toUpperCase()).to("out-map-values");
                s.map((k, v) -> KeyValue.pair(v == null ? "none" : v.substring(0, 2), k + "=" + v))
                        .to("out-map");
                outputs.put("out-map-values", false);
                outputs.put("out-map", false);
            }
            case "flat_map" -> {
                KStream<String, String> s = b.stream("input");
                s.flatMapValues(v -> v == null ? List.<String>of() : List.of(v, String.valueOf(v.length())))
                        .to("out-flat-map-values");
                s.flatMap((k, v) -> v == null
                                ? List.of(KeyValue.pair(k, "gone"))
                                : List.of(KeyValue.pair(k + "1", v), KeyValue.pair(k + "2", v.substring(1))))
                        .to("out-flat-map");
                outputs.put("out-flat-map-values", false);
                outputs.put("out-flat-map", false);
            }
            case "select_key_peek" -> {
                KStream<String, String> s = b.<String, String>stream("input")
                        .peek((k, v) -> peeked.incrementAndGet())
                        .selectKey((k, v) -> v == null ? "none" : v.substring(0, 1));
                s.foreach((k, v) -> foreached.incrementAndGet());
                s.to("out-select-key");
                outputs.put("out-select-key", false);
                counters.add("peek");
                counters.add("foreach");
            }
            case "merge" -> {
                reads = Set.of("input", "input2");
                b.<String, String>stream("input").merge(b.stream("input2")).to("out-merge");
                outputs.put("out-merge", false);
            }
            case "split" -> {
                Map<String, KStream<String, String>> branches = b.<String, String>stream("input")
                        .split(Named.as("s-"))
                        .branch((k, v) -> v == null, Branched.as("nulls"))
                        .branch((k, v) -> v.length() < 6, Branched.as("short"))
                        .defaultBranch(Branched.as("long"));
                branches.get("s-nulls").to("out-nulls");
                branches.get("s-short").to("out-short");
                branches.get("s-long").to("out-long");
                outputs.put("out-nulls", false);
                outputs.put("out-short", false);
                outputs.put("out-long", false);
            }
            case "repartition" -> {
                b.<String, String>stream("input")
                        .selectKey((k, v) -> v == null ? "none" : v.substring(0, 1))
                        .repartition(Repartitioned.as("rp"))
                        .to("out-repartition");
                outputs.put("out-repartition", false);
            }
            case "to_table" -> {
                b.<String, String>stream("input")
                        .toTable(Materialized.as("tt-store"))
                        .toStream()
                        .to("out-to-table");
                outputs.put("out-to-table", false);
            }
            case "table" -> {
                b.<String, String>table("input").toStream().to("out-table");
                outputs.put("out-table", false);
            }
            case "table_mat" -> {
                b.<String, String>table("input", Materialized.as("tbl-store")).toStream().to("out-table");
                outputs.put("out-table", false);
            }
            case "table_filter_map_values" -> {
                b.<String, String>table("input")
                        .filter((k, v) -> v.length() > 4)
                        .mapValues(v -> v.toUpperCase())
                        .toStream()
                        .to("out-table-ops");
                outputs.put("out-table-ops", false);
            }
            case "table_group_by_count" -> {
                b.<String, String>table("input")
                        .groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), v))
                        .count()
                        .toStream()
                        .to("out-table-count", Produced.with(str, lng));
                outputs.put("out-table-count", true);
            }
            case "table_group_by_reduce" -> {
                b.<String, String>table("input")
                        .groupBy((k, v) -> KeyValue.pair(String.valueOf(v.length() % 2), v))
                        .reduce((agg, v) -> agg + "+" + v, (agg, v) -> agg + "-" + v)
                        .toStream()
                        .to("out-table-reduce");
                outputs.put("out-table-reduce", false);
            }
            case "null_key" -> {
                reads = Set.of("input3");
                KStream<String, String> s = b.stream("input3");
                s.mapValues(v -> v == null ? null : v.toUpperCase()).to("out-null-key-map");
                s.groupByKey().count().toStream().to("out-null-key-count", Produced.with(str, lng));
                s.toTable(Materialized.as("nk-store")).toStream().to("out-null-key-table");
                outputs.put("out-null-key-map", false);
                outputs.put("out-null-key-count", true);
                outputs.put("out-null-key-table", false);
            }
            case "cogroup" -> {
                reads = Set.of("input", "input2");
                KGroupedStream<String, String> g1 = b.<String, String>stream("input").groupByKey();
                KGroupedStream<String, String> g2 = b.<String, String>stream("input2").groupBy((k, v) -> "a");
                g1.<Long>cogroup((k, v, agg) -> agg + v.length())
                        .cogroup(g2, (k, v, agg) -> agg + 1000)
                        .aggregate(() -> 0L, Materialized.with(str, lng))
                        .toStream()
                        .to("out-cogroup", Produced.with(str, lng));
                outputs.put("out-cogroup", true);
            }
            case "count" -> {
                b.<String, String>stream("input").groupByKey().count().toStream().to("out-count", Produced.with(str, lng));
                outputs.put("out-count", true);
            }
            case "group_by_reduce" -> {
                b.<String, String>stream("input")
                        .groupBy((k, v) -> v == null ? "none" : v.substring(0, 1), Grouped.as("by-letter"))
                        .reduce((a, v) -> a + "|" + v)
                        .toStream()
                        .to("out-reduce");
                outputs.put("out-reduce", false);
            }
            case "group_by_aggregate" -> {
                b.<String, String>stream("input")
                        .groupBy((k, v) -> v == null ? "none" : String.valueOf(v.length() % 3))
                        .aggregate(() -> 0L, (k, v, agg) -> agg + v.length(),
                                Materialized.with(str, lng))
                        .toStream()
                        .to("out-aggregate", Produced.with(str, lng));
                outputs.put("out-aggregate", true);
            }
            case "process" -> {
                b.<String, String>stream("input")
                        .process(() -> new Processor<String, String, String, String>() {
                            private ProcessorContext<String, String> ctx;

                            @Override
                            public void init(ProcessorContext<String, String> context) {
                                ctx = context;
                            }

                            @Override
                            public void process(Record<String, String> r) {
                                if (r.value() == null) {
                                    return;
                                }
                                ctx.forward(r.withKey(r.key() + "!").withTimestamp(r.timestamp() + 1));
                                if (r.value().length() > 5) {
                                    ctx.forward(r.withKey(r.value()).withValue(r.key()));
                                }
                            }
                        })
                        .to("out-process");
                outputs.put("out-process", false);
            }
            case "process_values" -> {
                b.<String, String>stream("input")
                        .processValues(() -> new FixedKeyProcessor<String, String, String>() {
                            private FixedKeyProcessorContext<String, String> ctx;

                            @Override
                            public void init(FixedKeyProcessorContext<String, String> context) {
                                ctx = context;
                            }

                            @Override
                            public void process(FixedKeyRecord<String, String> r) {
                                String v = r.value() == null ? "<null>" : r.value().toUpperCase();
                                ctx.forward(r.withValue(v).withTimestamp(r.timestamp() * 2));
                            }
                        })
                        .to("out-process-values");
                outputs.put("out-process-values", false);
            }
            // Built with topology.optimization=all (the "_opt" suffix): repartition topics
            // after one key change merged.
            case "opt_filter_peek" -> {
                KStream<String, String> m = b.<String, String>stream("input").selectKey(Initial.KEY);
                m.filter((k, v) -> v != null).groupByKey().count().toStream()
                        .to("out-opt-count", Produced.with(str, lng));
                m.peek((k, v) -> peeked.incrementAndGet()).groupByKey()
                        .reduce((a, v) -> a + "|" + v).toStream().to("out-opt-reduce");
                outputs.put("out-opt-count", true);
                outputs.put("out-opt-reduce", false);
                counters.add("peek");
            }
            case "opt_to_table" -> {
                KStream<String, String> m = b.<String, String>stream("input").selectKey(Initial.KEY);
                m.toTable(Materialized.as("opt-tt-store")).toStream().to("out-opt-table");
                m.groupByKey().count().toStream().to("out-opt-count", Produced.with(str, lng));
                outputs.put("out-opt-table", false);
                outputs.put("out-opt-count", true);
            }
            case "opt_merge" -> {
                reads = Set.of("input", "input2");
                KStream<String, String> x = b.<String, String>stream("input").selectKey(Initial.KEY);
                KStream<String, String> y = b.<String, String>stream("input2")
                        .map((k, v) -> KeyValue.pair(Initial.KEY.apply(k, v), v));
                x.merge(y).groupByKey().count().toStream().to("out-opt-count", Produced.with(str, lng));
                outputs.put("out-opt-count", true);
            }
            case "opt_value_changing" -> {
                KStream<String, String> m = b.<String, String>stream("input").selectKey(Initial.KEY);
                m.mapValues(v -> v == null ? null : v.toUpperCase()).groupByKey()
                        .reduce((a, v) -> a + "|" + v).toStream().to("out-opt-reduce");
                m.groupByKey().count().toStream().to("out-opt-count", Produced.with(str, lng));
                outputs.put("out-opt-reduce", false);
                outputs.put("out-opt-count", true);
            }
            case "opt_named" -> {
                KStream<String, String> m = b.<String, String>stream("input").selectKey(Initial.KEY);
                m.groupByKey(Grouped.as("first")).count(Materialized.as("first-store")).toStream()
                        .to("out-opt-count", Produced.with(str, lng));
                m.groupByKey(Grouped.as("second")).count().toStream()
                        .to("out-opt-count2", Produced.with(str, lng));
                outputs.put("out-opt-count", true);
                outputs.put("out-opt-count2", true);
            }
            case "opt_repartition" -> {
                KStream<String, String> m = b.<String, String>stream("input").selectKey(Initial.KEY);
                m.repartition().groupByKey().count().toStream().to("out-opt-count", Produced.with(str, lng));
                m.groupByKey().count().toStream().to("out-opt-count2", Produced.with(str, lng));
                outputs.put("out-opt-count", true);
                outputs.put("out-opt-count2", true);
            }
            case "opt_cogroup" -> {
                KStream<String, String> m = b.<String, String>stream("input").selectKey(Initial.KEY);
                KGroupedStream<String, String> g1 = m.groupByKey();
                KGroupedStream<String, String> g2 = m.filter((k, v) -> v != null).groupByKey();
                g1.<Long>cogroup((k, v, agg) -> agg + (v == null ? 0 : v.length()))
                        .cogroup(g2, (k, v, agg) -> agg + 1000)
                        .aggregate(() -> 0L, Materialized.with(str, lng))
                        .toStream()
                        .to("out-opt-cogroup", Produced.with(str, lng));
                outputs.put("out-opt-cogroup", true);
            }
            // suppress(untilTimeLimit): each key's latest count once stream time is 100 ms past
            // its first held-back update; unbounded, at most 2 records (emit early), and on a
            // table with deletions (tombstones are emitted by a time limit).
            case "suppress_time" -> {
                b.<String, String>stream("input").groupByKey().count()
                        .suppress(Suppressed.untilTimeLimit(Duration.ofMillis(100),
                                Suppressed.BufferConfig.unbounded()))
                        .toStream().to("out-suppress", Produced.with(str, lng));
                outputs.put("out-suppress", true);
            }
            case "suppress_max_records" -> {
                b.<String, String>stream("input").groupByKey().count()
                        .suppress(Suppressed.untilTimeLimit(Duration.ofMillis(1000),
                                Suppressed.BufferConfig.maxRecords(2).emitEarlyWhenFull()).withName("held"))
                        .toStream().to("out-suppress", Produced.with(str, lng));
                outputs.put("out-suppress", true);
            }
            case "suppress_table" -> {
                b.<String, String>table("input", Materialized.as("sup-src"))
                        .suppress(Suppressed.untilTimeLimit(Duration.ofMillis(50),
                                Suppressed.BufferConfig.maxBytes(10_000)))
                        .toStream().to("out-suppress");
                outputs.put("out-suppress", false);
            }
            // A table left-joined with its own suppressed view: the join reads a held-back key
            // through the suppress buffer (its value before the held-back updates).
            case "suppress_join" -> {
                KTable<String, String> t = b.table("input", Materialized.as("sj-src"));
                KTable<String, String> held = t.suppress(Suppressed.untilTimeLimit(Duration.ofMillis(100),
                        Suppressed.BufferConfig.unbounded()));
                t.leftJoin(held, (a, c) -> a + "/" + c).toStream().to("out-suppress-join");
                outputs.put("out-suppress-join", false);
            }
            // suppress(untilWindowCloses): each 100 ms window's final count once stream time
            // passed its end plus the 50 ms grace; late records dropped. The windowed key is
            // written as Java's Windowed.toString().
            case "suppress_windows" -> {
                b.<String, String>stream("input").groupByKey()
                        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(100), Duration.ofMillis(50)))
                        // The windowed table's key serde must be given for suppress's buffer.
                        .count(Materialized.with(str, lng))
                        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                        .toStream()
                        .map((k, v) -> KeyValue.pair(k.toString(), v))
                        .to("out-suppress-windows", Produced.with(str, lng));
                outputs.put("out-suppress-windows", true);
            }
            case "suppress_windows_hopping" -> {
                b.<String, String>stream("input")
                        .groupBy((k, v) -> v == null ? "none" : v.substring(0, 1))
                        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(200), Duration.ofMillis(100))
                                .advanceBy(Duration.ofMillis(50)))
                        .reduce((a, v) -> a + "|" + v, Materialized.with(str, str))
                        .filter((k, v) -> v.length() > 3)
                        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.maxRecords(100).shutDownWhenFull())
                                .withName("final"))
                        .toStream()
                        .map((k, v) -> KeyValue.pair(k.toString(), v))
                        .to("out-suppress-windows");
                outputs.put("out-suppress-windows", false);
            }
            default -> throw new IllegalArgumentException("unknown topology " + name);
        }

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "ttd");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1234");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        // In-memory stores: no RocksDB jar needed (ours keeps the driver's stores in memory too).
        p.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
        if (nocache) {
            p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        }
        if (optimize) {
            p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
        }
        // Java applies topology.optimization only when the properties are given to build().
        Topology topology = optimize ? b.build(p) : b.build();
        if (optimize) {
            for (String line : topology.describe().toString().split("\n")) {
                if (!line.isBlank()) {
                    System.out.println("(describe)\t" + line.stripTrailing());
                }
            }
        }
        try (TopologyTestDriver d = new TopologyTestDriver(topology, p)) {
            Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
            for (In r : FEED) {
                if (!reads.contains(r.topic())) {
                    continue;
                }
                inputs.computeIfAbsent(r.topic(), t -> d.createInputTopic(t, str.serializer(), str.serializer()))
                        .pipeInput(r.key(), r.value(), r.ts());
            }
            for (Map.Entry<String, Boolean> o : outputs.entrySet()) {
                Deserializer<?> values = o.getValue() ? lng.deserializer() : str.deserializer();
                @SuppressWarnings("unchecked")
                TestOutputTopic<String, Object> topic =
                        d.createOutputTopic(o.getKey(), str.deserializer(), (Deserializer<Object>) values);
                for (TestRecord<String, Object> r : topic.readRecordsToList()) {
                    System.out.println(o.getKey() + "\t" + r.key() + "\t" + r.value() + "\t" + r.timestamp());
                }
            }
        }
        for (String c : counters) {
            long n = c.equals("peek") ? peeked.get() : foreached.get();
            System.out.println("(" + c + ")\tnull\t" + n + "\t0");
        }
    }
}
