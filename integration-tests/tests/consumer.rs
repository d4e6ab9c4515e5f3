//! The consumer with manual assignment against real brokers: reading everything back in
//! order, seeking (offset, beginning, end, -N, timestamp), pause/resume, the stream API, and
//! auto.offset.reset after records were deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use integration_tests::{create_ready_topic, now_ms, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

const N: usize = 6000;

async fn setup(broker: Broker) -> Option<(String, String, i64)> {
    let bootstrap = broker.bootstrap("consumer")?;
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("consumer");
    create_ready_topic(&admin, NewTopic::new(&topic, 3, 1)).await;
    let producer = Producer::connect(ProducerConfig::new(&bootstrap))
        .await
        .unwrap();
    let start = now_ms();
    let mut deliveries = Vec::new();
    for i in 0..N {
        let record = ProducerRecord::new(&topic)
            .partition((i % 3) as i32)
            .value(i.to_string())
            .timestamp(start + i as i64);
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
    Some((bootstrap, topic, start))
}

async fn consumer(bootstrap: &str, topic: &str) -> (Consumer, Vec<TopicPartition>) {
    let mut config = ConsumerConfig::new(bootstrap);
    config.set("auto.offset.reset", "earliest").unwrap();
    let mut c = Consumer::connect(config).await.unwrap();
    let tps: Vec<TopicPartition> = (0..3).map(|p| TopicPartition::new(topic, p)).collect();
    c.assign(tps.clone());
    (c, tps)
}

async fn read_all(broker: Broker) {
    let Some((bootstrap, topic, start)) = setup(broker).await else {
        return;
    };
    let (mut c, tps) = consumer(&bootstrap, &topic).await;
    let mut got: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    let mut total = 0;
    while total < N {
        let batch = c.poll(Duration::from_secs(5)).await.unwrap();
        assert!(!batch.is_empty(), "stalled after {total} records");
        for r in batch {
            let v: usize = std::str::from_utf8(r.value.as_deref().unwrap())
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(r.timestamp, start + v as i64);
            got.entry(r.partition).or_default().push(v);
            total += 1;
        }
    }
    for (p, values) in &got {
        let expected: Vec<usize> = (0..N).filter(|i| (i % 3) as i32 == *p).collect();
        assert_eq!(values, &expected, "partition {p} in order, complete");
    }
    assert!(tps.iter().all(|tp| c.at_end(tp)));
    println!("{broker:?}: read {total} records back in order from 3 partitions");

    // Seeks.
    let tp = tps[1].clone();
    c.seek(&tp, Offset::At(100)).unwrap();
    let r = first_of(&mut c, &tp).await;
    assert_eq!(r.offset, 100);
    c.seek(&tp, Offset::FromEnd(5)).unwrap();
    assert_eq!(first_of(&mut c, &tp).await.offset, (N / 3 - 5) as i64);
    c.seek(&tp, Offset::Beginning).unwrap();
    assert_eq!(first_of(&mut c, &tp).await.offset, 0);
    // Record v sits on partition v % 3 at offset v / 3 with timestamp start + v.
    c.seek(&tp, Offset::Timestamp(start + 3001)).unwrap();
    let r = first_of(&mut c, &tp).await;
    assert_eq!(r.offset, 1000, "first record at or after the timestamp");
    c.seek(&tp, Offset::End).unwrap();
    let polled = c.poll(Duration::from_millis(500)).await.unwrap();
    assert!(
        polled.iter().all(|r| r.partition != 1),
        "nothing after the end"
    );

    // Pause and resume.
    for p in &tps {
        c.seek(p, Offset::Beginning).unwrap();
    }
    c.pause(&tps[..2]);
    let polled = c.poll(Duration::from_secs(2)).await.unwrap();
    assert!(!polled.is_empty() && polled.iter().all(|r| r.partition == 2));
    c.resume(&tps[..2]);
    // The rest of partition 2, then all of 0 and 1, through the stream API.
    let rest = N - polled.len();
    let mut stream = c.stream();
    let mut per_partition: BTreeMap<i32, usize> = BTreeMap::new();
    for _ in 0..rest {
        let r = stream.next().await.unwrap().unwrap();
        *per_partition.entry(r.partition).or_default() += 1;
    }
    assert_eq!(per_partition.len(), 3, "resumed partitions flow again");
    assert_eq!(per_partition[&0], N / 3);
    assert_eq!(per_partition[&1], N / 3);
    drop(stream);
    let (full, incremental) = c.fetch_counts();
    println!(
        "{broker:?}: {full} full fetches, {incremental} incremental (KIP-227 session) fetches"
    );
    if broker == Broker::Kafka {
        assert!(incremental > 0, "Apache Kafka offers fetch sessions");
    }
}

async fn first_of(c: &mut Consumer, tp: &TopicPartition) -> kafka_wire::consumer::ConsumerRecord {
    for _ in 0..20 {
        for r in c.poll(Duration::from_secs(1)).await.unwrap() {
            if r.partition == tp.partition {
                return r;
            }
        }
    }
    panic!("no record from {tp}");
}

#[tokio::test]
async fn consumer_on_kafka() {
    read_all(Broker::Kafka).await
}

#[tokio::test]
async fn consumer_on_noida() {
    read_all(Broker::Noida).await
}

#[tokio::test]
async fn consumer_on_tansu() {
    read_all(Broker::Tansu).await
}

/// After DeleteRecords, a position below the log start resets per auto.offset.reset.
#[tokio::test]
async fn out_of_range_resets_on_kafka() {
    let Some((bootstrap, topic, _)) = setup(Broker::Kafka).await else {
        return;
    };
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let tp = TopicPartition::new(&topic, 0);
    admin.delete_records(&[(tp.clone(), 50)]).await.unwrap();
    let (mut c, _) = consumer(&bootstrap, &topic).await;
    c.assign([tp.clone()]);
    c.seek(&tp, Offset::At(10)).unwrap();
    let r = first_of(&mut c, &tp).await;
    assert_eq!(r.offset, 50, "earliest after OFFSET_OUT_OF_RANGE");

    let mut config = ConsumerConfig::new(&bootstrap);
    config.set("auto.offset.reset", "none").unwrap();
    let mut strict = Consumer::connect(config).await.unwrap();
    strict.assign([tp.clone()]);
    strict.seek(&tp, Offset::At(10)).unwrap();
    let err = strict.poll(Duration::from_secs(5)).await.unwrap_err();
    assert!(err.to_string().contains("OFFSET_OUT_OF_RANGE"), "{err}");
}
