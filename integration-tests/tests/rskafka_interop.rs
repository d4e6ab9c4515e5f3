//! rskafka (pure Rust, crates.io) as a peer: records it writes are read by our consumer and
//! records our producer writes are read by it, keys, values, headers and timestamps included.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use integration_tests::{create_ready_topic, now_ms, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use rskafka::client::partition::{Compression, UnknownTopicHandling};
use rskafka::client::ClientBuilder;
use rskafka::record::Record;

const N: usize = 500;

async fn interop(broker: Broker, codecs: &[(&str, Compression)]) {
    let Some(bootstrap) = broker.bootstrap("rskafka_interop") else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let rsk = ClientBuilder::new(vec![bootstrap.clone()])
        .build()
        .await
        .unwrap();
    for (name, compression) in codecs {
        // rskafka writes, we read.
        let topic = unique_topic(&format!("rskafka-in-{name}"));
        create_ready_topic(&admin, NewTopic::new(&topic, 1, 1)).await;
        let pc = rsk
            .partition_client(topic.clone(), 0, UnknownTopicHandling::Retry)
            .await
            .unwrap();
        let base = now_ms();
        let records: Vec<Record> = (0..N)
            .map(|i| Record {
                key: Some(format!("rk-{i}").into_bytes()),
                value: Some(format!("rv-{i}").into_bytes()),
                headers: BTreeMap::from([("i".to_owned(), i.to_string().into_bytes())]),
                timestamp: Utc.timestamp_millis_opt(base + i as i64).unwrap(),
            })
            .collect();
        for chunk in records.chunks(100) {
            pc.produce(chunk.to_vec(), *compression).await.unwrap();
        }
        let mut consumer = Consumer::connect(ConsumerConfig::new(&bootstrap))
            .await
            .unwrap();
        let tp = TopicPartition::new(&topic, 0);
        consumer.assign([tp.clone()]);
        consumer.seek(&tp, Offset::Beginning).unwrap();
        let mut got = Vec::new();
        while got.len() < N {
            let batch = consumer.poll(Duration::from_secs(5)).await.unwrap();
            assert!(!batch.is_empty(), "stalled at {}", got.len());
            got.extend(batch);
        }
        for (i, r) in got.iter().enumerate() {
            assert_eq!(r.key.as_deref(), Some(format!("rk-{i}").as_bytes()));
            assert_eq!(r.value.as_deref(), Some(format!("rv-{i}").as_bytes()));
            assert_eq!(r.timestamp, base + i as i64);
            assert_eq!(r.headers[0].key_str(), "i");
            assert_eq!(
                r.headers[0].value.as_deref(),
                Some(i.to_string().as_bytes())
            );
        }

        // We write, rskafka reads.
        let topic = unique_topic(&format!("rskafka-out-{name}"));
        create_ready_topic(&admin, NewTopic::new(&topic, 1, 1)).await;
        let mut config = ProducerConfig::new(&bootstrap);
        config.set("compression.type", name).unwrap();
        let producer = Producer::connect(config).await.unwrap();
        let base = now_ms();
        let mut deliveries = Vec::new();
        for i in 0..N {
            let record = ProducerRecord::new(&topic)
                .partition(0)
                .key(format!("kk-{i}"))
                .value(format!("kv-{i}"))
                .header("i", i.to_string())
                .timestamp(base + i as i64);
            deliveries.push(producer.send(record).await.unwrap());
        }
        for d in deliveries {
            d.await.unwrap();
        }
        producer.close().await.unwrap();
        let pc = rsk
            .partition_client(topic.clone(), 0, UnknownTopicHandling::Retry)
            .await
            .unwrap();
        let mut read = Vec::new();
        let mut offset = 0;
        while read.len() < N {
            let (records, _hw) = pc.fetch_records(offset, 1..1_000_000, 1_000).await.unwrap();
            for r in records {
                offset = r.offset + 1;
                read.push(r.record);
            }
        }
        for (i, r) in read.iter().enumerate() {
            assert_eq!(r.key.as_deref(), Some(format!("kk-{i}").as_bytes()));
            assert_eq!(r.value.as_deref(), Some(format!("kv-{i}").as_bytes()));
            assert_eq!(r.timestamp.timestamp_millis(), base + i as i64);
            assert_eq!(
                r.headers.get("i").map(Vec::as_slice),
                Some(i.to_string().as_bytes())
            );
        }
        println!(
            "{broker:?} {name}: {N} records rskafka -> kafka-wire and {N} kafka-wire -> rskafka"
        );
    }
}

#[tokio::test]
async fn rskafka_interop_on_kafka() {
    interop(
        Broker::Kafka,
        &[
            ("none", Compression::NoCompression),
            ("gzip", Compression::Gzip),
            ("snappy", Compression::Snappy),
        ],
    )
    .await
}

#[tokio::test]
async fn rskafka_interop_on_noida() {
    interop(
        Broker::Noida,
        &[
            ("none", Compression::NoCompression),
            ("gzip", Compression::Gzip),
        ],
    )
    .await
}

#[tokio::test]
async fn rskafka_interop_on_tansu() {
    interop(
        Broker::Tansu,
        &[
            ("none", Compression::NoCompression),
            ("gzip", Compression::Gzip),
        ],
    )
    .await
}
