//! A consumer keeps its position across a broker kill -9 and restart and reads on, missing
//! nothing. Own test binary: it kills the shared broker.

use std::time::{Duration, Instant};

use integration_tests::{broker_script, create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

async fn produce(bootstrap: &str, topic: &str, range: std::ops::Range<usize>) {
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for i in range {
        deliveries.push(
            producer
                .send(ProducerRecord::new(topic).value(i.to_string()))
                .await
                .unwrap(),
        );
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

#[tokio::test]
async fn consumer_resumes_after_broker_restart() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("consumer_resumes_after_broker_restart") else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("consumer-restart");
    create_ready_topic(&admin, NewTopic::new(&topic, 1, 1)).await;
    produce(&bootstrap, &topic, 0..1000).await;

    let mut config = ConsumerConfig::new(&bootstrap);
    config.set("reconnect.backoff.max.ms", "500").unwrap();
    let mut consumer = Consumer::connect(config).await.unwrap();
    let tp = TopicPartition::new(&topic, 0);
    consumer.assign([tp.clone()]);
    consumer.seek(&tp, Offset::Beginning).unwrap();
    let mut seen = Vec::new();
    while seen.len() < 1000 {
        for r in consumer.poll(Duration::from_secs(5)).await.unwrap() {
            seen.push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
        }
    }
    broker_script(&["kill", "kafka"]);
    broker_script(&["start", "kafka"]);
    produce(&bootstrap, &topic, 1000..2000).await;
    let start = Instant::now();
    while seen.len() < 2000 && start.elapsed() < Duration::from_secs(60) {
        for r in consumer
            .poll(Duration::from_secs(1))
            .await
            .unwrap_or_default()
        {
            seen.push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
        }
    }
    println!(
        "consumer read {} records across a broker kill -9 + restart, resumed in {:?}",
        seen.len(),
        start.elapsed()
    );
    let expected: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
}
