//! A source's own reset policy on Apache Kafka: with `OffsetReset::Latest` on the source, an
//! application without committed offsets skips what the topic already holds, although Kafka
//! Streams' default `auto.offset.reset` is earliest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset, OffsetReset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig};
use streams_core::serde::StringSerde;
use streams_core::timestamp::FailOnInvalidTimestamp;
use streams_core::topology::TopologyBuilder;

#[test]
fn a_source_with_its_own_reset_policy_starts_at_the_end() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_reset") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let input = unique_topic("reset-in");
    let output = unique_topic("reset-out");
    let producer = rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&input, 2, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, 1, 1)).await;
        let p = Producer::connect(ProducerConfig::new(&bootstrap))
            .await
            .unwrap();
        for i in 0..3 {
            p.send(ProducerRecord::new(&input).value(format!("old-{i}")))
                .await
                .unwrap()
                .await
                .unwrap();
        }
        p
    });
    let mut b = TopologyBuilder::new();
    let src = b
        .add_source_with::<Option<String>, String>(
            "Source",
            &[&input],
            None,
            StringSerde,
            StringSerde,
            Some(OffsetReset::Latest),
            Some(Arc::new(FailOnInvalidTimestamp)),
        )
        .unwrap();
    b.add_sink("Sink", &output, StringSerde, StringSerde, &[&src])
        .unwrap();
    let mut config = StreamsConfig::new(&unique_topic("reset-app"), &bootstrap);
    config.set("commit.interval.ms", "200").unwrap();
    let mut streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while streams.state() != State::Running && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    rt.block_on(async {
        for i in 0..2 {
            producer
                .send(ProducerRecord::new(&input).value(format!("new-{i}")))
                .await
                .unwrap()
                .await
                .unwrap();
        }
    });
    let values = rt.block_on(async {
        let mut c = Consumer::connect(ConsumerConfig::new(&bootstrap))
            .await
            .unwrap();
        let tp = TopicPartition::new(&output, 0);
        c.assign([tp.clone()]);
        c.seek(&tp, Offset::Beginning).unwrap();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while out.len() < 2 && Instant::now() < deadline {
            for r in c.poll(Duration::from_millis(300)).await.unwrap() {
                out.push(
                    String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned(),
                );
            }
        }
        std::thread::sleep(Duration::from_millis(500));
        for r in c.poll(Duration::from_millis(300)).await.unwrap() {
            out.push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned());
        }
        out
    });
    streams.close(Duration::from_secs(10));
    let mut sorted = values.clone();
    sorted.sort();
    eprintln!("output: {values:?}");
    assert_eq!(
        sorted,
        vec!["new-0", "new-1"],
        "the three old records are skipped"
    );
}
