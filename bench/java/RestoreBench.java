// bench/java/RestoreBench.java: the Java Kafka Streams 4.4.0 (RocksDB) side of the restore
// benchmark. A single source file, run in Java's source-file mode (no build tool):
//
//   java -cp '<libs>/*' bench/java/RestoreBench.java MODE --bootstrap HOST:PORT [options]
//
// where <libs> holds kafka-streams 4.4.0 and its runtime dependencies (bench/java/run-restore-bench
// downloads them and runs the modes in the right order; it is the normal way to run this).
//
// Modes
//   fill-kv        create <app>-input and <app>-store-changelog (1 partition each, the changelog
//                  compacted), after deleting them and the group <app> if they exist, and write
//                  --records records straight into the changelog: key "key-%09d" (i), value
//                  --value-size random bytes.
//   restore-kv     start KafkaStreams (application.id <app>, an empty --state-dir, one stream
//                  thread) on a topology source(<app>-input) -> processor that puts each record
//                  into the persistent (RocksDB) key-value store "store"
//                  (Stores.persistentKeyValueStore, or persistentTimestampedKeyValueStore with
//                  --timestamped; caching off, changelog on). A global StateRestoreListener
//                  times the restoration of <app>-store-changelog; when it ends the program
//                  checks the store with interactive queries (the first and the last changelog
//                  record must be there, with their values), measures the state dir, closes and
//                  prints the RESULT line on stdout.
//   fill-window    like fill-kv, but the changelog is what a windowed store logs: key = the
//                  serialized key ‖ 8-byte big-endian window start ‖ 4-byte big-endian seqnum
//                  (0: no duplicates retained), as WindowKeySchema.toStoreKeyBinary lays it out;
//                  value = the raw value; record timestamp = the window start (a timestamped
//                  window store restores it as the value's timestamp). Record i has key
//                  "key-%09d" (i / W) and window start base + (i % W) minutes, W = --windows
//                  (default 1440, one day of 1-minute windows), base = now - W minutes rounded
//                  to the minute; so all (key, window) pairs are distinct. The changelog is
//                  "compact,delete" with retention.ms = store retention + 1 day, as Kafka
//                  Streams creates window changelogs.
//   restore-window like restore-kv with Stores.persistentWindowStore (persistentTimestampedWindowStore
//                  with --timestamped): 1-minute windows, retention max(1 day, 2 W minutes), so
//                  nothing restored is expired.
//   putget         no broker: Stores.persistentKeyValueStore("x").get() (the bare RocksDBStore,
//                  KeyValueStore<Bytes, byte[]>), initialised through kafka-streams-test-utils'
//                  MockProcessorContext.getStateStoreContext(); times --records puts of
//                  --value-size values in key order, one commit(Map.of()) (what a task's commit
//                  calls; in 4.4 it does not flush the memtable, close() does), then --records
//                  gets in a shuffled order (every one must hit). --layer metered times the store
//                  as a processor sees it instead: Stores.keyValueStoreBuilder(...) with String
//                  keys and byte[] values, caching and logging off (MeteredKeyValueStore over the
//                  RocksDB store). Keys and values are made before the clock starts.
//   cleanup        delete <app>-input, <app>-store-changelog and the group <app>.
//
// Options: --bootstrap H:P (127.0.0.1:19092), --app NAME (bench-restore-java), --records N
// (1000000), --value-size B (100), --windows W (1440), --timestamped, --state-dir DIR (restore
// and putget: wiped first; default a temporary dir), --layer raw|metered (putget),
// --timeout-s S (600), --prop key=value (repeatable: extra StreamsConfig properties for
// restore-*, e.g. restore.consumer.max.poll.records=5000).
//
// RESULT line fields: records = restored (or put) records; bytes = key + value bytes of those
// records as they are in the changelog (window keys with their 12-byte suffix); ms = from
// onRestoreStart to onRestoreEnd; total_ms = from KafkaStreams.start() to onRestoreEnd (adds
// startup, the group join and the changelog offset look-ups); rps = records / (ms / 1000);
// mbps = bytes / 10^6 / (ms / 1000); peak_rss_kb = VmHWM of this JVM when restoration ended;
// state_dir_bytes = the size of all files under the state dir once the client is RUNNING after
// the restore; state_dir_closed_bytes = the same after close() (memtables flushed: Kafka
// Streams runs RocksDB without a WAL).
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.TimestampedWindowStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.WindowStore;

public class RestoreBench {
    static final String STORE = "store";
    static final long WINDOW_MS = 60_000L;
    static final long DAY_MS = 86_400_000L;
    static final int WINDOW_SUFFIX = 8 + 4; // window start + seqnum, WindowKeySchema

    // ---- options ------------------------------------------------------------------------------
    String mode;
    String bootstrap = "127.0.0.1:19092";
    String app = "bench-restore-java";
    long records = 1_000_000L;
    int valueSize = 100;
    int windows = 1440;
    boolean timestamped = false;
    String stateDir = null;
    String layer = "raw";
    long timeoutS = 600;
    final Map<String, String> extraProps = new HashMap<>();

    public static void main(final String[] args) throws Exception {
        final RestoreBench b = new RestoreBench();
        b.parse(args);
        printJvm();
        final int rc;
        switch (b.mode) {
            case "fill-kv": rc = b.fill(false); break;
            case "fill-window": rc = b.fill(true); break;
            case "restore-kv": rc = b.restore(false); break;
            case "restore-window": rc = b.restore(true); break;
            case "putget": rc = b.putget(); break;
            case "cleanup": rc = b.cleanup(); break;
            default: throw new IllegalArgumentException("unknown mode " + b.mode);
        }
        System.out.flush();
        // Exit explicitly: nothing (a lingering non-daemon thread) may keep the JVM alive.
        System.exit(rc);
    }

    void parse(final String[] args) {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: RestoreBench MODE [--bootstrap H:P] [--app NAME] [--records N] ...");
        }
        mode = args[0];
        for (int i = 1; i < args.length; i++) {
            final String a = args[i];
            if (a.equals("--timestamped")) {
                timestamped = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            final String v = args[++i];
            switch (a) {
                case "--bootstrap": bootstrap = v; break;
                case "--app": app = v; break;
                case "--records": records = Long.parseLong(v.replace("_", "")); break;
                case "--value-size": valueSize = Integer.parseInt(v); break;
                case "--windows": windows = Integer.parseInt(v); break;
                case "--state-dir": stateDir = v; break;
                case "--layer": layer = v; break;
                case "--timeout-s": timeoutS = Long.parseLong(v); break;
                case "--prop": {
                    final int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--prop wants key=value, got " + v);
                    }
                    extraProps.put(v.substring(0, eq), v.substring(eq + 1));
                    break;
                }
                default: throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (windows <= 0 || records <= 0 || valueSize < 0) {
            throw new IllegalArgumentException("--records and --windows must be > 0, --value-size >= 0");
        }
    }

    static void printJvm() {
        final Runtime rt = Runtime.getRuntime();
        System.err.printf(Locale.ROOT, "JVM: %s %s (%s), java.version=%s, flags=%s, max heap %d MiB, %d CPUs%n",
            System.getProperty("java.vm.name"), System.getProperty("java.vm.version"),
            System.getProperty("java.vm.vendor"), System.getProperty("java.version"),
            ManagementFactory.getRuntimeMXBean().getInputArguments(),
            rt.maxMemory() >> 20, rt.availableProcessors());
    }

    String changelog() {
        return app + "-" + STORE + "-changelog";
    }

    String inputTopic() {
        return app + "-input";
    }

    static String key(final long i) {
        return String.format(Locale.ROOT, "key-%09d", i);
    }

    long retentionMs() {
        return Math.max(DAY_MS, 2L * windows * WINDOW_MS);
    }

    /** Key + value bytes of the changelog the fill modes write, computed from the options. */
    long changelogBytes(final boolean windowed) {
        if (!windowed) {
            return records * (key(0).length() + valueSize);
        }
        final long keys = (records + windows - 1) / windows;
        long keyBytes = 0;
        // "key-%09d" is 13 bytes up to 10^9 keys, longer past it.
        for (long k = 0; k < keys; k++) {
            final long n = Math.min(windows, records - k * windows);
            keyBytes += n * key(k).length();
        }
        return keyBytes + records * (WINDOW_SUFFIX + valueSize);
    }

    // ---- fill ---------------------------------------------------------------------------------
    int fill(final boolean windowed) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            deleteAll(admin);
            final Map<String, String> changelogConfig = new HashMap<>();
            if (windowed) {
                changelogConfig.put("cleanup.policy", "compact,delete");
                changelogConfig.put("retention.ms", Long.toString(retentionMs() + DAY_MS));
            } else {
                changelogConfig.put("cleanup.policy", "compact");
            }
            final List<NewTopic> topics = List.of(
                new NewTopic(inputTopic(), 1, (short) 1),
                new NewTopic(changelog(), 1, (short) 1).configs(changelogConfig));
            retryCreate(admin, topics);
        }

        final Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L << 20));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        final long base = (System.currentTimeMillis() / WINDOW_MS - windows) * WINDOW_MS;
        final Random rnd = new Random(42);
        final AtomicReference<Exception> failure = new AtomicReference<>();
        final long t0 = System.nanoTime();
        long bytes = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long i = 0; i < records; i++) {
                final byte[] value = new byte[valueSize];
                rnd.nextBytes(value);
                final byte[] k;
                final long ts;
                if (windowed) {
                    final byte[] plain = key(i / windows).getBytes(StandardCharsets.UTF_8);
                    ts = base + (i % windows) * WINDOW_MS;
                    k = windowStoreKey(plain, ts, 0);
                } else {
                    k = key(i).getBytes(StandardCharsets.UTF_8);
                    ts = System.currentTimeMillis();
                }
                bytes += k.length + value.length;
                producer.send(new ProducerRecord<>(changelog(), 0, ts, k, value), (md, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                });
                if (failure.get() != null) {
                    break;
                }
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        final double s = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "filled %s: %d records, %d bytes (key+value) in %.1f s%s%n",
            changelog(), records, bytes, s, windowed ? ", window starts from " + base + " by " + WINDOW_MS + " ms" : "");
        if (bytes != changelogBytes(windowed)) {
            throw new IllegalStateException("byte count " + bytes + " != computed " + changelogBytes(windowed));
        }
        return 0;
    }

    /** WindowKeySchema's store/changelog key: key ‖ window start (8 bytes BE) ‖ seqnum (4 bytes BE). */
    static byte[] windowStoreKey(final byte[] key, final long windowStart, final int seqnum) {
        return ByteBuffer.allocate(key.length + WINDOW_SUFFIX).put(key).putLong(windowStart).putInt(seqnum).array();
    }

    void deleteAll(final Admin admin) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                admin.deleteConsumerGroups(List.of(app)).all().get();
                break;
            } catch (final ExecutionException e) {
                if (e.getCause() instanceof GroupIdNotFoundException) {
                    break;
                }
                // GroupNotEmptyException: a member that did not leave is still in it until its
                // session times out (45 s by default).
                if (attempt >= 100) {
                    System.err.println("warning: deleting group " + app + ": " + e.getCause());
                    break;
                }
                Thread.sleep(500);
            }
        }
        final List<String> names = List.of(inputTopic(), changelog());
        try {
            admin.deleteTopics(names).all().get();
        } catch (final ExecutionException e) {
            if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                throw e;
            }
        }
        // Deletion is asynchronous: wait until the topics are gone from the metadata.
        final long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            final Set<String> left = admin.listTopics().names().get();
            if (names.stream().noneMatch(left::contains)) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("topics still there after 60 s: " + names);
            }
            Thread.sleep(200);
        }
    }

    static void retryCreate(final Admin admin, final List<NewTopic> topics) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                admin.createTopics(topics).all().get();
                return;
            } catch (final ExecutionException e) {
                // A just-deleted topic can still be being removed (TopicExistsException).
                if (attempt >= 50) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    int cleanup() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            deleteAll(admin);
        }
        System.err.println("deleted " + inputTopic() + ", " + changelog() + " and group " + app);
        return 0;
    }

    // ---- restore ------------------------------------------------------------------------------
    /** Puts each input record into the store; the input topic stays empty in this benchmark. */
    static final class PutProcessor implements Processor<String, byte[], Void, Void> {
        final boolean windowed;
        final boolean timestamped;
        StateStore store;

        PutProcessor(final boolean windowed, final boolean timestamped) {
            this.windowed = windowed;
            this.timestamped = timestamped;
        }

        @Override
        public void init(final ProcessorContext<Void, Void> context) {
            store = context.getStateStore(STORE);
        }

        @Override
        @SuppressWarnings("unchecked")
        public void process(final Record<String, byte[]> r) {
            final long windowStart = r.timestamp() - r.timestamp() % WINDOW_MS;
            if (windowed && timestamped) {
                ((TimestampedWindowStore<String, byte[]>) store).put(r.key(), ValueAndTimestamp.make(r.value(), r.timestamp()), windowStart);
            } else if (windowed) {
                ((WindowStore<String, byte[]>) store).put(r.key(), r.value(), windowStart);
            } else if (timestamped) {
                ((TimestampedKeyValueStore<String, byte[]>) store).put(r.key(), ValueAndTimestamp.make(r.value(), r.timestamp()));
            } else {
                ((KeyValueStore<String, byte[]>) store).put(r.key(), r.value());
            }
        }
    }

    StoreBuilder<?> storeBuilder(final boolean windowed) {
        final StoreBuilder<?> b;
        if (windowed) {
            final Duration retention = Duration.ofMillis(retentionMs());
            final Duration size = Duration.ofMillis(WINDOW_MS);
            b = timestamped
                ? Stores.timestampedWindowStoreBuilder(Stores.persistentTimestampedWindowStore(STORE, retention, size, false), Serdes.String(), Serdes.ByteArray())
                : Stores.windowStoreBuilder(Stores.persistentWindowStore(STORE, retention, size, false), Serdes.String(), Serdes.ByteArray());
        } else {
            b = timestamped
                ? Stores.timestampedKeyValueStoreBuilder(Stores.persistentTimestampedKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray())
                : Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray());
        }
        // The changelog stays on (the default): it is what is restored. No cache in front.
        return b.withCachingDisabled();
    }

    /** Leave the group on close, so that cleanup can delete it right away. */
    static CloseOptions closeOptions(final int seconds) {
        return CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
            .withTimeout(Duration.ofSeconds(seconds));
    }

    String storeKind(final boolean windowed) {
        if (windowed) {
            return timestamped ? "persistentTimestampedWindowStore" : "persistentWindowStore";
        }
        return timestamped ? "persistentTimestampedKeyValueStore" : "persistentKeyValueStore";
    }

    int restore(final boolean windowed) throws Exception {
        final Path state = stateDir != null ? Path.of(stateDir) : Files.createTempDirectory("bench-restore-java-state");
        deleteRecursively(state);
        Files.createDirectories(state);

        final Topology topology = new Topology();
        topology.addSource("source", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), inputTopic());
        topology.addProcessor("put", () -> new PutProcessor(windowed, timestamped), "source");
        topology.addStateStore(storeBuilder(windowed), "put");

        final Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        p.putAll(extraProps);
        System.err.println("streams config (besides defaults): " + new java.util.TreeMap<>(p));

        final long expected = records;
        final CountDownLatch restored = new CountDownLatch(1);
        final AtomicLong restoreStartNs = new AtomicLong();
        final AtomicLong restoreEndNs = new AtomicLong();
        final AtomicLong restoredCount = new AtomicLong(-1);
        final AtomicLong startOffset = new AtomicLong(-1);
        final AtomicLong endOffset = new AtomicLong(-1);
        final AtomicLong batches = new AtomicLong();
        final AtomicLong peakRssAtEnd = new AtomicLong(-1);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch failed = new CountDownLatch(1);

        final KafkaStreams streams = new KafkaStreams(topology, p);
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            @Override
            public void onRestoreStart(final TopicPartition tp, final String store, final long start, final long end) {
                restoreStartNs.set(System.nanoTime());
                startOffset.set(start);
                endOffset.set(end);
                System.err.printf("restore of %s (%s) started: offsets %d..%d%n", store, tp, start, end);
            }

            @Override
            public void onBatchRestored(final TopicPartition tp, final String store, final long batchEndOffset, final long n) {
                batches.incrementAndGet();
            }

            @Override
            public void onRestoreEnd(final TopicPartition tp, final String store, final long total) {
                restoreEndNs.set(System.nanoTime());
                peakRssAtEnd.set(procStatusKb("VmHWM"));
                restoredCount.set(total);
                System.err.printf("restore of %s (%s) ended: %d records%n", store, tp, total);
                restored.countDown();
            }

            @Override
            public void onRestoreSuspended(final TopicPartition tp, final String store, final long total) {
                failure.compareAndSet(null, new IllegalStateException("restore of " + store + " suspended after " + total + " records"));
                failed.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            failure.compareAndSet(null, e);
            failed.countDown();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });

        final long startNs = System.nanoTime();
        streams.start();
        final long deadline = startNs + TimeUnit.SECONDS.toNanos(timeoutS);
        while (restored.getCount() > 0 && failed.getCount() > 0 && System.nanoTime() < deadline) {
            restored.await(100, TimeUnit.MILLISECONDS);
        }
        if (restored.getCount() > 0) {
            final Throwable f = failure.get();
            System.err.println(f != null ? "restore failed: " + f : "restore did not end within " + timeoutS + " s (state " + streams.state() + ")");
            if (f != null) {
                f.printStackTrace();
            }
            streams.close(closeOptions(30));
            return 1;
        }

        // After the restore: wait for RUNNING (the restored task becomes active), then check the
        // store through interactive queries and measure the state dir.
        while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            if (failure.get() != null || streams.state() == KafkaStreams.State.ERROR) {
                System.err.println("failed after the restore: " + failure.get());
                streams.close(closeOptions(30));
                return 1;
            }
            Thread.sleep(20);
        }
        String check;
        int rc = 0;
        try {
            check = verify(streams, windowed);
        } catch (final Exception | AssertionError e) {
            check = "FAILED";
            System.err.println("store check failed: " + e);
            rc = 1;
        }
        final long stateBytes = dirBytes(state);
        final long closeT0 = System.nanoTime();
        streams.close(closeOptions(60));
        final long closeMs = (System.nanoTime() - closeT0) / 1_000_000;
        final long stateClosedBytes = dirBytes(state);

        final long count = restoredCount.get();
        if (count != expected) {
            System.err.printf("restored %d records, expected %d%n", count, expected);
            rc = 1;
        }
        final long bytes = changelogBytes(windowed);
        final double ms = (restoreEndNs.get() - restoreStartNs.get()) / 1e6;
        final double totalMs = (restoreEndNs.get() - startNs) / 1e6;
        System.out.printf(Locale.ROOT,
            "RESULT impl=java-kafka-streams-4.4.0 mode=%s store=%s app=%s records=%d bytes=%d ms=%.0f total_ms=%.0f rps=%.0f mbps=%.1f "
                + "peak_rss_kb=%d state_dir_bytes=%d state_dir_closed_bytes=%d batches=%d close_ms=%d check=%s rocksdb=%s jvm=%s%n",
            windowed ? "window" : "kv", storeKind(windowed), app, count, bytes, ms, totalMs,
            count / (ms / 1000.0), bytes / 1e6 / (ms / 1000.0), peakRssAtEnd.get(), stateBytes, stateClosedBytes,
            batches.get(), closeMs, check, rocksdbVersion(), System.getProperty("java.version"));
        if (stateDir == null) {
            deleteRecursively(state);
        }
        return rc;
    }

    /**
     * Reads the first and the last record of the changelog and looks both up in the restored
     * store through interactive queries: checks the key layout as well as the count.
     */
    String verify(final KafkaStreams streams, final boolean windowed) throws Exception {
        final TopicPartition tp = new TopicPartition(changelog(), 0);
        final Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        final List<ConsumerRecord<byte[], byte[]>> samples = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            final long end = consumer.endOffsets(List.of(tp)).get(tp);
            for (final long offset : new long[] {0, end - 1}) {
                consumer.seek(tp, offset);
                final long deadline = System.currentTimeMillis() + 30_000;
                ConsumerRecord<byte[], byte[]> got = null;
                while (got == null && System.currentTimeMillis() < deadline) {
                    final ConsumerRecords<byte[], byte[]> rs = consumer.poll(Duration.ofMillis(500));
                    for (final ConsumerRecord<byte[], byte[]> r : rs) {
                        got = r;
                        break;
                    }
                }
                if (got == null) {
                    throw new AssertionError("could not read offset " + offset + " of " + tp);
                }
                samples.add(got);
            }
        }
        final StringDeserializer sd = new StringDeserializer();
        for (final ConsumerRecord<byte[], byte[]> r : samples) {
            byte[] actual;
            final String key;
            if (windowed) {
                final byte[] k = r.key();
                key = sd.deserialize(null, Arrays.copyOf(k, k.length - WINDOW_SUFFIX));
                final long windowStart = ByteBuffer.wrap(k).getLong(k.length - WINDOW_SUFFIX);
                final ReadOnlyWindowStore<String, byte[]> store = streams.store(
                    StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.<String, byte[]>windowStore()));
                actual = store.fetch(key, windowStart);
            } else {
                key = sd.deserialize(null, r.key());
                final ReadOnlyKeyValueStore<String, byte[]> store = streams.store(
                    StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.<String, byte[]>keyValueStore()));
                actual = store.get(key);
            }
            if (actual == null || !Arrays.equals(actual, r.value())) {
                throw new AssertionError("offset " + r.offset() + " key " + key + ": store has " + (actual == null ? "nothing" : actual.length + " other bytes"));
            }
        }
        if (!windowed) {
            final ReadOnlyKeyValueStore<String, byte[]> store = streams.store(
                StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.<String, byte[]>keyValueStore()));
            System.err.println("store approximateNumEntries: " + store.approximateNumEntries());
        }
        return "ok";
    }

    // ---- putget -------------------------------------------------------------------------------
    @SuppressWarnings("unchecked")
    int putget() throws Exception {
        final Path state = stateDir != null ? Path.of(stateDir) : Files.createTempDirectory("bench-restore-java-putget");
        deleteRecursively(state);
        Files.createDirectories(state);
        final Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, app + "-putget");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.putAll(extraProps);
        final MockProcessorContext<Void, Void> ctx = new MockProcessorContext<>(p, new TaskId(0, 0), state.toFile());
        if (records > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("putget: --records too large");
        }
        final int n = (int) records;

        // Keys and values are made before the clock starts: only the store is timed.
        final Random rnd = new Random(42);
        final byte[][] keys = new byte[n][];
        final byte[][] values = new byte[n][];
        for (int i = 0; i < n; i++) {
            keys[i] = key(i).getBytes(StandardCharsets.UTF_8);
            values[i] = new byte[valueSize];
            rnd.nextBytes(values[i]);
        }
        final List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(7));
        final int[] getOrder = order.stream().mapToInt(Integer::intValue).toArray();
        order.clear();

        final long putNs;
        final long flushNs;
        final long getNs;
        long hits = 0;
        final String storeKind;
        final StateStore closeable;
        if (layer.equals("raw")) {
            final KeyValueStore<Bytes, byte[]> store = Stores.persistentKeyValueStore("x").get();
            store.init(ctx.getStateStoreContext(), store);
            closeable = store;
            storeKind = "persistentKeyValueStore.get() (RocksDBStore, Bytes/byte[])";
            final Bytes[] bkeys = new Bytes[n];
            for (int i = 0; i < n; i++) {
                bkeys[i] = Bytes.wrap(keys[i]);
            }
            long t = System.nanoTime();
            for (int i = 0; i < n; i++) {
                store.put(bkeys[i], values[i]);
            }
            putNs = System.nanoTime() - t;
            t = System.nanoTime();
            store.commit(Map.of()); // what a task's commit does (flush() is deprecated in 4.4)
            flushNs = System.nanoTime() - t;
            t = System.nanoTime();
            for (final int i : getOrder) {
                final byte[] v = store.get(bkeys[i]);
                if (v != null && v.length == valueSize) {
                    hits++;
                }
            }
            getNs = System.nanoTime() - t;
        } else if (layer.equals("metered")) {
            final KeyValueStore<String, byte[]> store = Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("x"), Serdes.String(), Serdes.ByteArray())
                .withCachingDisabled().withLoggingDisabled().build();
            store.init(ctx.getStateStoreContext(), store);
            closeable = store;
            storeKind = "keyValueStoreBuilder(persistentKeyValueStore, String, byte[]) (Metered over RocksDBStore)";
            final String[] skeys = new String[n];
            for (int i = 0; i < n; i++) {
                skeys[i] = key(i);
            }
            long t = System.nanoTime();
            for (int i = 0; i < n; i++) {
                store.put(skeys[i], values[i]);
            }
            putNs = System.nanoTime() - t;
            t = System.nanoTime();
            store.commit(Map.of()); // what a task's commit does (flush() is deprecated in 4.4)
            flushNs = System.nanoTime() - t;
            t = System.nanoTime();
            for (final int i : getOrder) {
                final byte[] v = store.get(skeys[i]);
                if (v != null && v.length == valueSize) {
                    hits++;
                }
            }
            getNs = System.nanoTime() - t;
        } else {
            throw new IllegalArgumentException("--layer raw|metered");
        }
        final long stateBytes = dirBytes(state);
        closeable.close();
        final long stateClosedBytes = dirBytes(state);
        final long bytes = n * (long) (keys[0].length + valueSize);
        System.err.println("store: " + storeKind);
        System.out.printf(Locale.ROOT,
            "RESULT impl=java-kafka-streams-4.4.0 mode=putget layer=%s records=%d bytes=%d put_ms=%.0f puts_per_s=%.0f put_mbps=%.1f "
                + "commit_ms=%.0f get_ms=%.0f gets_per_s=%.0f get_hits=%d peak_rss_kb=%d state_dir_bytes=%d state_dir_closed_bytes=%d rocksdb=%s jvm=%s%n",
            layer, n, bytes, putNs / 1e6, n / (putNs / 1e9), bytes / 1e6 / (putNs / 1e9), flushNs / 1e6, getNs / 1e6, n / (getNs / 1e9), hits,
            procStatusKb("VmHWM"), stateBytes, stateClosedBytes, rocksdbVersion(), System.getProperty("java.version"));
        if (stateDir == null) {
            deleteRecursively(state);
        }
        return hits == n ? 0 : 1;
    }

    // ---- helpers ------------------------------------------------------------------------------
    /** A "VmXxx:   123 kB" line of /proc/self/status, in kB; -1 where there is none (not Linux). */
    static long procStatusKb(final String field) {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (final IOException | RuntimeException e) {
            // fall through
        }
        return -1;
    }

    static String rocksdbVersion() {
        try {
            return org.rocksdb.RocksDB.rocksdbVersion().toString();
        } catch (final Throwable t) {
            return "unknown";
        }
    }

    static long dirBytes(final Path dir) {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.mapToLong(f -> {
                try {
                    final BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                    return a.isRegularFile() ? a.size() : 0;
                } catch (final IOException e) {
                    return 0; // a file RocksDB removed meanwhile
                }
            }).sum();
        } catch (final IOException | UncheckedIOException e) {
            return -1;
        }
    }

    static void deleteRecursively(final Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Collections.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
