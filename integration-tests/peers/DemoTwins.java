// Java twins of the Kafka Streams demos that cannot be pointed at a test broker:
// kafka-streams-examples' PipeDemo, TemperatureDemo, PageViewTypedDemo and PageViewUntypedDemo
// (bootstrap hard-coded to localhost:9092) and the Streams quickstart tutorial's LineSplit
// (not in the examples jar). Same application ids, topics, serdes, settings and topologies as
// the originals — the page-view twins use the examples jar's own JSONSerde, POJOs and
// JsonTimestampExtractor, and connect-json's JsonNode serdes as the untyped demo does; the
// bootstrap and state.dir come from a properties file, as the WordCount demos take theirs.
// Used by integration-tests/tests/streams_dsl_demos.rs and streams_dsl_window_demos.rs.
//
//   java DemoTwins (pipe|linesplit|temperature|pageview-typed|pageview-untyped) PROPERTIES_FILE

import java.io.FileInputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.connect.json.JsonDeserializer;
import org.apache.kafka.connect.json.JsonSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.examples.pageview.JsonTimestampExtractor;
import org.apache.kafka.streams.examples.pageview.PageViewTypedDemo;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;

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
        } else if (demo.equals("temperature")) {
            // TemperatureDemo
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "streams-temperature");
            props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
            final KStream<Windowed<String>, String> max = builder.<String, String>stream("iot-temperature")
                .selectKey((key, value) -> "temp")
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(5), Duration.ofHours(24)))
                .reduce((value1, value2) -> Integer.parseInt(value1) > Integer.parseInt(value2) ? value1 : value2)
                .toStream()
                .filter((key, value) -> Integer.parseInt(value) > 20);
            max.to("iot-temperature-max",
                Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 5), Serdes.String()));
        } else if (demo.equals("pageview-typed")) {
            // PageViewTypedDemo
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "streams-pageview-typed");
            props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, JsonTimestampExtractor.class);
            props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, PageViewTypedDemo.JSONSerde.class);
            props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, PageViewTypedDemo.JSONSerde.class);
            props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
            props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000L);
            final KStream<String, PageViewTypedDemo.PageView> views = builder.stream("streams-pageview-input",
                Consumed.with(Serdes.String(), new PageViewTypedDemo.JSONSerde<>()));
            final KTable<String, PageViewTypedDemo.UserProfile> users = builder.table("streams-userprofile-input",
                Consumed.with(Serdes.String(), new PageViewTypedDemo.JSONSerde<>()));
            views.leftJoin(users, (view, profile) -> {
                    final PageViewTypedDemo.PageViewByRegion viewByRegion = new PageViewTypedDemo.PageViewByRegion();
                    viewByRegion.user = view.user;
                    viewByRegion.page = view.page;
                    viewByRegion.region = profile != null ? profile.region : "UNKNOWN";
                    return viewByRegion;
                })
                .map((user, viewRegion) -> new KeyValue<>(viewRegion.region, viewRegion))
                .groupByKey(Grouped.with(Serdes.String(), new PageViewTypedDemo.JSONSerde<>()))
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofDays(7), Duration.ofHours(24)).advanceBy(Duration.ofSeconds(1)))
                .count()
                .toStream()
                .map((key, value) -> {
                    final PageViewTypedDemo.WindowedPageViewByRegion wViewByRegion = new PageViewTypedDemo.WindowedPageViewByRegion();
                    wViewByRegion.windowStart = key.window().start();
                    wViewByRegion.region = key.key();
                    final PageViewTypedDemo.RegionCount rCount = new PageViewTypedDemo.RegionCount();
                    rCount.region = key.key();
                    rCount.count = value;
                    return new KeyValue<>(wViewByRegion, rCount);
                })
                .to("streams-pageviewstats-typed-output",
                    Produced.with(new PageViewTypedDemo.JSONSerde<>(), new PageViewTypedDemo.JSONSerde<>()));
        } else if (demo.equals("pageview-untyped")) {
            // PageViewUntypedDemo
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "streams-pageview-untyped");
            props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, JsonTimestampExtractor.class);
            props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
            final Serde<JsonNode> jsonSerde = Serdes.serdeFrom(new JsonSerializer(), new JsonDeserializer());
            final Consumed<String, JsonNode> consumed = Consumed.with(Serdes.String(), jsonSerde);
            final KStream<String, JsonNode> views = builder.stream("streams-pageview-input", consumed);
            final KTable<String, JsonNode> users = builder.table("streams-userprofile-input", consumed);
            final KTable<String, String> userRegions = users.mapValues(record -> record.get("region").textValue());
            views.leftJoin(userRegions, (view, region) -> {
                    final ObjectNode jNode = JsonNodeFactory.instance.objectNode();
                    return (JsonNode) jNode.put("user", view.get("user").textValue())
                        .put("page", view.get("page").textValue())
                        .put("region", region == null ? "UNKNOWN" : region);
                })
                .map((user, viewRegion) -> new KeyValue<>(viewRegion.get("region").textValue(), viewRegion))
                .groupByKey(Grouped.with(Serdes.String(), jsonSerde))
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofDays(7), Duration.ofHours(24)).advanceBy(Duration.ofSeconds(1)))
                .count()
                .toStream()
                .map((key, value) -> {
                    final ObjectNode keyNode = JsonNodeFactory.instance.objectNode();
                    keyNode.put("window-start", key.window().start()).put("region", key.key());
                    final ObjectNode valueNode = JsonNodeFactory.instance.objectNode();
                    valueNode.put("count", value);
                    return new KeyValue<>((JsonNode) keyNode, (JsonNode) valueNode);
                })
                .to("streams-pageviewstats-untyped-output", Produced.with(jsonSerde, jsonSerde));
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
