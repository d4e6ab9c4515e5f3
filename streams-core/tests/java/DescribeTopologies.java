// The reference side of streams-core/tests/describe_java.rs: builds each test topology with
// Kafka Streams 4.4.0's Processor API (`org.apache.kafka.streams.Topology`) and writes
// `topology.describe().toString()` to OUTDIR/<name>.txt, byte for byte.
//
//   java -cp "$KAFKA_STREAMS_LIBS/*" DescribeTopologies.java OUTDIR
//
// The Rust test builds the same topologies (same node names, parents, topics and stores, added
// in the same order) and compares its own description with each file.
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

public class DescribeTopologies {
  /** A processor that drops its input: only the shape of the topology matters here. */
  static <K, V> ProcessorSupplier<K, V, K, V> noop() {
    return () -> new Processor<K, V, K, V>() {
      @Override
      public void process(Record<K, V> record) { }
    };
  }

  static <K, V> ProcessorSupplier<K, V, Void, Void> updater() {
    return () -> new Processor<K, V, Void, Void>() {
      @Override
      public void process(Record<K, V> record) { }
    };
  }

  static StoreBuilder<KeyValueStore<String, Long>> store(String name) {
    return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), Serdes.Long());
  }

  static Topology pipe() {
    Topology t = new Topology();
    t.addSource("Source", "streams-pipe-input");
    t.addSink("Sink", "streams-pipe-output", "Source");
    return t;
  }

  static Topology filterMapBranch() {
    Topology t = new Topology();
    t.addSource("Source", "input");
    t.addProcessor("Filter", noop(), "Source");
    t.addProcessor("Map", noop(), "Filter");
    t.addProcessor("MapValues", noop(), "Map");
    t.addSink("SinkA", "output-a", "Map");
    t.addSink("SinkB", "output-b", "MapValues");
    return t;
  }

  static Topology sharedStores() {
    Topology t = new Topology();
    t.addSource("SourceA", "orders");
    t.addSource("SourceB", "payments");
    t.addProcessor("Enrich", noop(), "SourceA");
    t.addProcessor("Settle", noop(), "SourceB");
    t.addStateStore(store("Orders"), "Enrich");
    t.addStateStore(store("Customers"), "Enrich", "Settle");
    t.addSink("EnrichedSink", "enriched", "Enrich");
    t.addSink("SettledSink", "settled", "Settle");
    return t;
  }

  static Topology patternMerge() {
    Topology t = new Topology();
    t.addSource("TopicSource", "clicks", "views", "purchases", "signups");
    t.addSource("PatternSource", Pattern.compile("events-.*"));
    t.addProcessor("Merge", noop(), "TopicSource", "PatternSource");
    t.addSink("MergedSink", "merged", "Merge");
    return t;
  }

  static Topology repartition() {
    Topology t = new Topology();
    t.addSource("Source", "input");
    t.addProcessor("SelectKey", noop(), "Source");
    t.addSink("RepartitionSink", "repartition", "SelectKey");
    t.addSource("RepartitionSource", "repartition");
    t.addProcessor("Aggregate", noop(), "RepartitionSource");
    t.addStateStore(store("Totals"), "Aggregate");
    t.addSink("Out", "totals", "Aggregate");
    return t;
  }

  static Topology globalStore() {
    Topology t = new Topology();
    t.addSource("Source", "orders");
    t.addProcessor("Enrich", noop(), "Source");
    t.addSink("Sink", "enriched", "Enrich");
    t.addGlobalStore(store("Customers").withLoggingDisabled(), "CustomerSource",
        Serdes.String().deserializer(), Serdes.String().deserializer(), "customers",
        "CustomerUpdater", updater());
    t.addSource("AuditSource", "audit");
    t.addSink("AuditSink", "audit-copy", "AuditSource");
    return t;
  }

  static Topology wordCount() {
    Topology t = new Topology();
    t.addSource("Source", "streams-plaintext-input");
    t.addProcessor("Process", noop(), "Source");
    t.addStateStore(store("Counts"), "Process");
    t.addSink("Sink", "streams-wordcount-processor-output", "Process");
    return t;
  }

  static Topology diamond() {
    Topology t = new Topology();
    t.addSource("src", "in");
    t.addProcessor("a", noop(), "src");
    t.addProcessor("b", noop(), "src");
    t.addProcessor("c", noop(), "a", "b");
    t.addProcessor("d", noop(), "c");
    t.addProcessor("e", noop(), "src");
    t.addProcessor("f", noop(), "src");
    t.addProcessor("g", noop(), "f");
    t.addProcessor("h", noop(), "g");
    t.addSink("sink-1", "t1", "d");
    t.addSink("sink-2", "t2", "b");
    t.addSink("sink-3", "t3", "e", "h");
    t.addStateStore(store("store-one"), "c");
    t.addStateStore(store("store-two"), "c");
    t.addStateStore(store("store-three"), "c", "d");
    t.addStateStore(store("alpha"), "c");
    t.addStateStore(store("Zeta"), "c");
    return t;
  }

  static Topology threeSubtopologies() {
    Topology t = new Topology();
    t.addSource("c-source", "c");
    t.addSink("c-sink", "c-out", "c-source");
    t.addSource("a-source", "a");
    t.addProcessor("a-proc", noop(), "a-source");
    t.addSink("a-sink", "a-out", "a-proc");
    t.addSource("b-source", Pattern.compile("b-[0-9]+"));
    t.addSink("b-sink", "b-out", "b-source");
    return t;
  }

  /** Many topics, stores and neighbours: HashSet resizes and deep TreeSets. */
  static Topology wide() {
    Topology t = new Topology();
    String[] topics = new String[14];
    for (int i = 0; i < topics.length; i++) {
      topics[i] = "topic-" + i;
    }
    t.addSource("hub", topics);
    String[] last = new String[12];
    for (int i = 0; i < 12; i++) {
      String name = "p" + i;
      t.addProcessor(name, noop(), "hub");
      for (int j = 0; j < i * 7 % 5; j++) {
        String next = "p" + i + "-" + j;
        t.addProcessor(next, noop(), name);
        name = next;
      }
      last[i] = name;
    }
    t.addSource("side-input", Pattern.compile("side-.*"));
    String[] joinParents = new String[9];
    for (int i = 0; i < 8; i++) {
      joinParents[i] = last[7 - i];
    }
    joinParents[8] = "side-input";
    t.addProcessor("join", noop(), joinParents);
    t.addSink("out", "joined", "join");
    for (int i = 0; i < 12; i += 3) {
      t.addSink("side-" + i, "side-out-" + i, last[i]);
    }
    for (int k = 0; k < 13; k++) {
      t.addStateStore(store("store-" + k), "join");
    }
    return t;
  }

  static Topology empty() {
    return new Topology();
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: DescribeTopologies OUTDIR");
      System.exit(2);
    }
    Map<String, Supplier<Topology>> all = new LinkedHashMap<>();
    all.put("pipe", DescribeTopologies::pipe);
    all.put("filter-map-branch", DescribeTopologies::filterMapBranch);
    all.put("shared-stores", DescribeTopologies::sharedStores);
    all.put("pattern-merge", DescribeTopologies::patternMerge);
    all.put("repartition", DescribeTopologies::repartition);
    all.put("wordcount", DescribeTopologies::wordCount);
    all.put("global-store", DescribeTopologies::globalStore);
    all.put("diamond", DescribeTopologies::diamond);
    all.put("three-subtopologies", DescribeTopologies::threeSubtopologies);
    all.put("wide", DescribeTopologies::wide);
    all.put("empty", DescribeTopologies::empty);
    Path out = Paths.get(args[0]);
    Files.createDirectories(out);
    for (Map.Entry<String, Supplier<Topology>> e : all.entrySet()) {
      String text = e.getValue().get().describe().toString();
      Files.write(out.resolve(e.getKey() + ".txt"), text.getBytes(StandardCharsets.UTF_8));
    }
    System.out.println("ok " + all.size());
  }
}
