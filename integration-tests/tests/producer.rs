//! The producer against real brokers: batching with every codec, delivery reports, keyed
//! placement identical to the Java client.

use std::collections::BTreeMap;

use integration_tests::{create_ready_topic, fetch_batches, unique_topic, Broker, Peer};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::partitioner::partition_for_key;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

async fn produce_and_verify(broker: Broker, codecs: &[&str], stores_producer_ids: bool) {
    let Some(bootstrap) = broker.bootstrap("produce_and_verify") else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    for codec in codecs {
        let topic = unique_topic(&format!("producer-{codec}"));
        create_ready_topic(&admin, NewTopic::new(&topic, 4, 1)).await;
        let mut config = ProducerConfig::new(&bootstrap);
        config
            .set("compression.type", codec)
            .unwrap()
            .set("linger.ms", "10")
            .unwrap();
        let producer = Producer::connect(config).await.unwrap();
        const N: usize = 5000;
        let mut deliveries = Vec::with_capacity(N);
        for i in 0..N {
            let record = ProducerRecord::new(&topic)
                .key(format!("key-{i}"))
                .value(format!("value-{i}"))
                .header("i", i.to_string());
            deliveries.push(producer.send(record).await.unwrap());
        }
        let mut placed: BTreeMap<i32, Vec<(i64, usize)>> = BTreeMap::new();
        for (i, d) in deliveries.into_iter().enumerate() {
            let m = d.await.unwrap_or_else(|e| panic!("record {i}: {e}"));
            assert_eq!(
                m.partition,
                partition_for_key(format!("key-{i}").as_bytes(), 4)
            );
            placed.entry(m.partition).or_default().push((m.offset, i));
        }
        producer.close().await.unwrap();
        let mut read = 0;
        for (partition, expected) in &placed {
            let tp = TopicPartition::new(&topic, *partition);
            let batches = fetch_batches(admin.client(), &tp, 0, expected.len())
                .await
                .unwrap();
            let records: Vec<_> = batches.iter().flat_map(|b| &b.records).collect();
            assert_eq!(
                records.len(),
                expected.len(),
                "{codec} partition {partition}"
            );
            for (r, (offset, i)) in records.iter().zip(expected) {
                assert_eq!(r.offset, *offset);
                assert_eq!(r.value.as_deref(), Some(format!("value-{i}").as_bytes()));
            }
            assert!(batches.iter().all(|b| b.compression.name() == *codec));
            if stores_producer_ids {
                assert!(
                    batches.iter().all(|b| b.producer_id >= 0),
                    "idempotent batches carry a producer id"
                );
            }
            read += records.len();
        }
        println!(
            "{broker:?} {codec}: produced and read back {read} records in order on {} partitions",
            placed.len()
        );
        assert_eq!(read, N);
    }
}

#[tokio::test]
async fn produce_every_codec_on_kafka() {
    produce_and_verify(
        Broker::Kafka,
        &["none", "gzip", "snappy", "lz4", "zstd"],
        true,
    )
    .await
}

#[tokio::test]
async fn produce_every_codec_on_noida() {
    produce_and_verify(
        Broker::Noida,
        &["none", "gzip", "snappy", "lz4", "zstd"],
        true,
    )
    .await
}

#[tokio::test]
async fn produce_on_tansu() {
    // tansu re-creates batches from its SQLite rows without the producer id.
    produce_and_verify(Broker::Tansu, &["none", "zstd"], false).await
}

/// 100k keyed records written by the Java producer sit exactly where our partitioner puts
/// the same keys.
#[tokio::test]
async fn keyed_placement_matches_the_java_producer() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("keyed_placement_matches_the_java_producer")
    else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("java-keys");
    const PARTITIONS: i32 = 12;
    const N: usize = 100_000;
    create_ready_topic(&admin, NewTopic::new(&topic, PARTITIONS, 1)).await;
    Peer::Java.run(&["produce-keys", &bootstrap, &topic, &N.to_string()]);
    let (mut matches, mut total) = (0, 0);
    for partition in 0..PARTITIONS {
        let tp = TopicPartition::new(&topic, partition);
        let latest = admin
            .list_offsets(&[(tp.clone(), kafka_wire::admin::OffsetSpec::Latest)])
            .await
            .unwrap()[&tp]
            .offset as usize;
        let batches = fetch_batches(admin.client(), &tp, 0, latest).await.unwrap();
        for r in batches.iter().flat_map(|b| &b.records) {
            let key = r.key.as_deref().unwrap();
            total += 1;
            if partition_for_key(key, PARTITIONS as usize) == partition {
                matches += 1;
            }
        }
    }
    println!("partitioner cross-check with the Java producer: {matches} of {total} keys on the same partition");
    assert_eq!(total, N);
    assert_eq!(matches, N);
}
