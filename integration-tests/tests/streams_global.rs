//! A global store on Apache Kafka: filled from every partition of its topic before the stream
//! threads start, read by a task of another sub-topology, and kept current while running.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::error::BoxError;
use streams_core::processor::ProcessorContext;
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig};
use streams_core::serde::StringSerde;
use streams_core::state::StoreHandle;
use streams_core::topology::{StoreBuilder, TopologyBuilder};

async fn send(producer: &Producer, topic: &str, key: &str, value: &str) {
    producer
        .send(
            ProducerRecord::new(topic)
                .key(key.to_owned())
                .value(value.to_owned()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
}

async fn read_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    want: usize,
) -> Vec<(String, String)> {
    let mut consumer = Consumer::connect(ConsumerConfig::new(bootstrap))
        .await
        .unwrap();
    let tps: Vec<TopicPartition> = (0..partitions)
        .map(|p| TopicPartition::new(topic, p))
        .collect();
    consumer.assign(tps.clone());
    for tp in &tps {
        consumer.seek(tp, Offset::Beginning).unwrap();
    }
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.len() < want && Instant::now() < deadline {
        for r in consumer.poll(Duration::from_millis(500)).await.unwrap() {
            let k = String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned();
            let v = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned();
            out.push((k, v));
        }
    }
    out
}

#[test]
fn a_global_store_is_filled_before_processing_and_kept_current() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_global") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let customers = unique_topic("customers");
    let orders = unique_topic("orders");
    let enriched = unique_topic("enriched");
    let producer = rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&customers, 2, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&orders, 3, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&enriched, 1, 1)).await;
        let producer = Producer::connect(ProducerConfig::new(&bootstrap))
            .await
            .unwrap();
        for (id, name) in [("c1", "Alice"), ("c2", "Bob"), ("c3", "Carol")] {
            send(&producer, &customers, id, name).await;
        }
        producer
    });

    let store = StoreHandle::new("Customers", StringSerde, StringSerde);
    let mut b = TopologyBuilder::new();
    let src = b
        .add_source::<String, String>("Orders", &[&orders], StringSerde, StringSerde)
        .unwrap();
    let lookup = store.clone();
    let enrich = b
        .add_processor("Enrich", &[&src], move || {
            let lookup = lookup.clone();
            move |ctx: &mut ProcessorContext<'_, String, String>,
                  r: Record<String, String>|
                  -> Result<(), BoxError> {
                let name = ctx
                    .key_value_store(&lookup)?
                    .get(&r.key)?
                    .unwrap_or_else(|| "?".into());
                let v = format!("{} for {name}", r.value);
                ctx.forward(r.with_value(v))?;
                Ok(())
            }
        })
        .unwrap();
    b.add_sink("Sink", &enriched, StringSerde, StringSerde, &[&enrich])
        .unwrap();
    let writer = store.clone();
    b.add_global_store(
        StoreBuilder::in_memory_key_value(&store),
        "CustomerSource",
        &customers,
        StringSerde,
        StringSerde,
        "CustomerUpdater",
        move || {
            let writer = writer.clone();
            move |ctx: &mut ProcessorContext<'_, (), ()>,
                  r: Record<String, String>|
                  -> Result<(), BoxError> {
                ctx.key_value_store(&writer)?.put(&r.key, &r.value)?;
                Ok(())
            }
        },
    )
    .unwrap();
    let topology = b.build().unwrap();
    eprintln!("{}", topology.describe());

    let mut config = StreamsConfig::new(&unique_topic("global-app"), &bootstrap);
    config.set("commit.interval.ms", "200").unwrap();
    let mut streams = KafkaStreams::new(topology, config).unwrap();
    streams.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while streams.state() != State::Running && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(streams.state(), State::Running);
    rt.block_on(async {
        for (id, order) in [("c1", "o1"), ("c2", "o2"), ("c3", "o3")] {
            send(&producer, &orders, id, order).await;
        }
        // Kept current: an update while running is seen by the next order.
        send(&producer, &customers, "c1", "Alice Smith").await;
    });
    std::thread::sleep(Duration::from_secs(2));
    rt.block_on(send(&producer, &orders, "c1", "o4"));
    let out: BTreeMap<String, String> = rt
        .block_on(read_all(&bootstrap, &enriched, 1, 4))
        .into_iter()
        .map(|(k, v)| (v.clone(), k))
        .collect();
    eprintln!("enriched: {out:?}");
    streams.close(Duration::from_secs(10));
    assert_eq!(
        out.keys().cloned().collect::<Vec<_>>(),
        vec![
            "o1 for Alice",
            "o2 for Bob",
            "o3 for Carol",
            "o4 for Alice Smith"
        ]
    );
}
