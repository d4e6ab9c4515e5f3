// Java twins of the two Kafka Streams demos that cannot be pointed at a test broker:
// kafka-streams-examples' PipeDemo (bootstrap hard-coded to localhost:9092) and the Streams
// quickstart tutorial's LineSplit (not in the examples jar). Same application ids, topics,
// serdes and topologies as the originals; the bootstrap and state.dir come from a properties
// file, as the WordCount demos take theirs. Used by integration-tests/tests/streams_dsl_demos.rs.
//
//   java DemoTwins (pipe|linesplit) PROPERTIES_FILE

import java.io.FileInputStream;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

public final class DemoTwins {
    public static void main(final String[] args) throws Exception {
        final String demo = args[0];
        final Properties props = new Properties();
        try (final FileInputStream fis = new FileInputStream(args[1])) {
            props.load(fis);
        }
        props.putIfAbsent(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.putIfAbsent(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        final StreamsBuilder builder = new StreamsBuilder();
        if (demo.equals("pipe")) {
            // PipeDemo
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "streams-pipe");
            builder.stream("streams-plaintext-input").to("streams-pipe-output");
        } else if (demo.equals("linesplit")) {
            // The quickstart tutorial's LineSplit
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "streams-linesplit");
            builder.<String, String>stream("streams-plaintext-input")
                .flatMapValues(value -> Arrays.asList(value.split("\\W+")))
                .to("streams-linesplit-output");
        } else {
            throw new IllegalArgumentException("unknown demo " + demo);
        }
        final KafkaStreams streams = new KafkaStreams(builder.build(), props);
        final CountDownLatch latch = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close();
            latch.countDown();
        }));
        streams.start();
        latch.await();
    }
}
