// bench/java/StreamsThroughputBench.java: the Java Kafka Streams 4.4.0 side of `bench
// streams-throughput` (bench/src/throughput.rs). Compiled once by bench/java/run-streams-bench
// (javac into the cache, so the JVM's start-up is not charged for compiling) and started by the
// benchmark as `java -Xmx256m -cp <classes>:<libs>/* StreamsThroughputBench [options]`.
//
// Topologies (the DSL, as Kafka's WordCountDemo writes them):
//   wordcount  stream(input) -> flatMapValues(lower-case, split on \W+) -> filter(non-empty word)
//              -> groupBy(word) [repartition topic <app>-counts-repartition]
//              -> count(Materialized.as("counts")) [RocksDB, changelog <app>-counts-changelog,
//              record cache] -> toStream() -> to(output, String key, Long value)
//   count      stream(input) -> groupByKey() -> count(Materialized.as("counts")) -> toStream()
//              -> to(output): the input key counted, no repartition.
//   windowed   stream(input) -> groupByKey() -> windowedBy(TimeWindows.ofSizeWithNoGrace(5 min))
//              -> count(Materialized.as("counts")) -> toStream() -> to(output, the
//              time-windowed String key serde, Long value)
//   join       stream(input) -> join(table(--table), (line, profile) -> line + "," + profile)
//              -> to(output, String, String)
//
// Options: --bootstrap H:P, --app ID, --topology wordcount|count|windowed|join, --input T,
// --table T (join), --output T,
// --threads N (num.stream.threads), --guarantee at_least_once|exactly_once_v2, --cache-bytes B
// (statestore.cache.max.bytes), --commit-ms MS (commit.interval.ms), --state-dir DIR.
//
// stdout: `state <OLD> -> <NEW>` on each state change. Runs until stdin closes (or SIGTERM),
// then closes the application and exits 0; exits 3 if the application went to ERROR.
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

public class StreamsThroughputBench {
    public static void main(String[] args) throws Exception {
        String bootstrap = "127.0.0.1:19092";
        String app = "bench-streams-java";
        String topology = "wordcount";
        String input = null;
        String table = null;
        String output = null;
        String threads = "1";
        String guarantee = "at_least_once";
        String cacheBytes = String.valueOf(10L * 1024 * 1024);
        String commitMs = "100";
        String stateDir = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--bootstrap": bootstrap = v; break;
                case "--app": app = v; break;
                case "--topology": topology = v; break;
                case "--input": input = v; break;
                case "--table": table = v; break;
                case "--output": output = v; break;
                case "--threads": threads = v; break;
                case "--guarantee": guarantee = v; break;
                case "--cache-bytes": cacheBytes = v; break;
                case "--commit-ms": commitMs = v; break;
                case "--state-dir": stateDir = v; break;
                default: throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (input == null || output == null || stateDir == null) {
            throw new IllegalArgumentException("--input, --output and --state-dir are required");
        }

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");

        StreamsBuilder b = new StreamsBuilder();
        KStream<String, String> source =
            b.stream(input, Consumed.with(Serdes.String(), Serdes.String()));
        Materialized<String, Long, KeyValueStore<Bytes, byte[]>> store = Materialized.as("counts");
        if (topology.equals("windowed")) {
            final long size = Duration.ofMinutes(5).toMillis();
            source.groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(size)))
                .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("counts"))
                .toStream()
                .to(output, Produced.with(
                    WindowedSerdes.timeWindowedSerdeFrom(String.class, size), Serdes.Long()));
            run(b, p);
            return;
        }
        if (topology.equals("join")) {
            if (table == null) {
                throw new IllegalArgumentException("--table is required for the join topology");
            }
            KTable<String, String> profiles =
                b.table(table, Consumed.with(Serdes.String(), Serdes.String()));
            source.join(profiles, (line, profile) -> line + "," + profile)
                .to(output, Produced.with(Serdes.String(), Serdes.String()));
            run(b, p);
            return;
        }
        KTable<String, Long> counts;
        switch (topology) {
            case "wordcount":
                counts = source
                    .flatMapValues(v -> Arrays.asList(v.toLowerCase(Locale.ROOT).split("\\W+")))
                    .filter((k, w) -> !w.isEmpty())
                    .groupBy((k, w) -> w, Grouped.with(Serdes.String(), Serdes.String()))
                    .count(store);
                break;
            case "count":
                counts = source
                    .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                    .count(store);
                break;
            default:
                throw new IllegalArgumentException("unknown topology " + topology);
        }
        counts.toStream().to(output, Produced.with(Serdes.String(), Serdes.Long()));
        run(b, p);
    }

    // Run the topology until stdin closes (or SIGTERM), then close and halt.
    private static void run(StreamsBuilder b, Properties p) throws Exception {
        KafkaStreams streams = new KafkaStreams(b.build(p), p);
        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean failed = new AtomicBoolean(false);
        streams.setStateListener((now, old) -> {
            System.out.println("state " + old + " -> " + now);
            if (now == KafkaStreams.State.ERROR) {
                failed.set(true);
                stop.countDown();
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            streams.close(Duration.ofSeconds(10));
        }));
        Thread stdin = new Thread(() -> {
            try {
                InputStream in = System.in;
                byte[] buf = new byte[256];
                while (in.read(buf) >= 0) {
                    // keep reading until EOF
                }
            } catch (Exception e) {
                // EOF or closed: stop
            }
            stop.countDown();
        }, "stdin-watch");
        stdin.setDaemon(true);
        stdin.start();
        streams.start();
        stop.await();
        streams.close(Duration.ofSeconds(30));
        System.out.println("closed");
        System.out.flush();
        Runtime.getRuntime().halt(failed.get() ? 3 : 0);
    }
}
