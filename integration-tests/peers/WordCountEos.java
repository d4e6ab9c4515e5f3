// WordCountEos BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR [KEY=VALUE ...]
//
// The Java Kafka Streams 4.4.0 twin of integration-tests/src/bin/wordcount_eos.rs, which
// tests/streams_eos_recovery.rs SIGKILLs and restarts to compare recovery times: the Processor
// API, each line lower-cased and split on "\\W+" (empty pieces skipped), a count per word in
// the store "Counts" (String -> Long, logged), every new count forwarded as (word, count) with
// Long serialization. processing.guarantee=exactly_once_v2, statestore.cache.max.bytes=0,
// auto.offset.reset=earliest, everything else at Kafka Streams' defaults (session.timeout.ms
// 45 s, no static membership), then the KEY=VALUE arguments.
//
// The store is in memory: the jars scripts/test downloads (kafka-streams, kafka-clients,
// slf4j) have no RocksDB, and after an unclean shutdown under exactly-once Kafka Streams wipes
// a persistent store and restores it from the changelog anyway.
//
// stdout: "state <FROM> -> <TO>" on every state change. Closes when stdin closes (exit 0).
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

public class WordCountEos {
    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: WordCountEos BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR [KEY=VALUE ...]");
            System.exit(64);
        }
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        for (int i = 5; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        Topology topology = new Topology();
        topology.addSource("Source", Serdes.String().deserializer(), Serdes.String().deserializer(), args[2]);
        topology.addProcessor("Count", () -> new Processor<String, String, String, Long>() {
            private ProcessorContext<String, Long> context;
            private KeyValueStore<String, Long> counts;

            @Override
            public void init(ProcessorContext<String, Long> context) {
                this.context = context;
                this.counts = context.getStateStore("Counts");
            }

            @Override
            public void process(Record<String, String> record) {
                for (String word : record.value().toLowerCase(Locale.ROOT).split("\\W+")) {
                    if (word.isEmpty()) {
                        continue;
                    }
                    Long old = counts.get(word);
                    long count = old == null ? 1 : old + 1;
                    counts.put(word, count);
                    context.forward(new Record<>(word, count, record.timestamp()));
                }
            }
        }, "Source");
        topology.addStateStore(
            Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("Counts"), Serdes.String(), Serdes.Long()),
            "Count");
        topology.addSink("Sink", args[3], Serdes.String().serializer(), Serdes.Long().serializer(), "Count");

        KafkaStreams streams = new KafkaStreams(topology, props);
        streams.setStateListener((to, from) -> {
            System.out.println("state " + from + " -> " + to);
            System.out.flush();
        });
        streams.start();
        while (System.in.read() >= 0) {
            // until stdin closes
        }
        streams.close(Duration.ofSeconds(30));
        System.exit(0);
    }
}
