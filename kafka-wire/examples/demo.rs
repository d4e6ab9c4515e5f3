//! A tour of kafka-wire's public API against a running broker (`scripts/demo` starts one):
//! admin (describe the cluster, create a topic), an idempotent producer (keyed records placed
//! as the Java client places them, delivery results awaited), a consumer group (subscribe,
//! poll, commit), the group's lag through admin, then a transaction and its read_committed
//! view, and clean-up. Every error stops the demo with the error's own message.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::{Error, TopicPartition};

const RECORDS: usize = 1000;
const PARTITIONS: i32 = 3;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let bootstrap = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:19092".into());

    // Admin: the cluster and a fresh topic.
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await?;
    let cluster = admin.describe_cluster().await?;
    println!(
        "cluster {} with {} broker(s), controller {:?}",
        cluster.cluster_id.as_deref().unwrap_or("?"),
        cluster.brokers.len(),
        cluster.controller_id
    );
    let topic = format!("kafka-wire-demo-{}", std::process::id());
    admin
        .create_topic(NewTopic::new(&topic, PARTITIONS, 1).config("retention.ms", "3600000"))
        .await?;
    admin.wait_for_leaders(std::slice::from_ref(&topic)).await?;
    println!("created {topic} with {PARTITIONS} partitions");

    // Producer: idempotent by default; every delivery is awaited and checked.
    let mut config = ProducerConfig::new(&bootstrap);
    config.set("compression.type", "zstd")?;
    let producer = Producer::connect(config).await?;
    let started = Instant::now();
    let mut deliveries = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let record = ProducerRecord::new(&topic)
            .key(format!("customer-{}", i % 10))
            .value(format!("order {i}"))
            .header("source", "demo");
        deliveries.push(producer.send(record).await?);
    }
    let mut per_partition: BTreeMap<i32, (usize, i64)> = BTreeMap::new();
    for delivery in deliveries {
        let written = delivery.await?;
        let entry = per_partition.entry(written.partition).or_insert((0, -1));
        entry.0 += 1;
        entry.1 = entry.1.max(written.offset);
    }
    producer.close().await?;
    println!(
        "produced {RECORDS} records in {:?} (zstd, idempotent):",
        started.elapsed()
    );
    for (partition, (count, last)) in &per_partition {
        println!("  partition {partition}: {count} records, last at offset {last}");
    }

    // Consumer group: subscribe, poll until everything is read, commit.
    let group = format!("{topic}-group");
    let mut config = ConsumerConfig::new(&bootstrap);
    config
        .set("group.id", &group)?
        .set("auto.offset.reset", "earliest")?
        .set("enable.auto.commit", "false")?;
    let mut consumer = Consumer::connect(config).await?;
    consumer.subscribe([topic.as_str()])?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut read = 0;
    let mut first = None;
    while read < RECORDS && Instant::now() < deadline {
        for record in consumer.poll(Duration::from_millis(500)).await? {
            first.get_or_insert_with(|| {
                format!(
                    "{}-{}@{} key {:?} value {:?}",
                    record.topic,
                    record.partition,
                    record.offset,
                    record.key.as_deref().map(String::from_utf8_lossy),
                    record.value.as_deref().map(String::from_utf8_lossy)
                )
            });
            read += 1;
        }
    }
    consumer.commit_consumed().await?;
    println!(
        "group {group} read {read} of {RECORDS} records and committed; first: {}",
        first.unwrap_or_default()
    );
    consumer.close().await?;
    let lag = admin.consumer_lag(&group).await?;
    let total: i64 = lag.values().map(|l| l.lag).sum();
    println!(
        "lag of {group} through admin: {total} over {} partitions",
        lag.len()
    );
    if read != RECORDS || total != 0 {
        return Err(Error::InvalidArgument(format!(
            "the demo expected to read all {RECORDS} records with no lag left, read {read}, lag {total}"
        )));
    }

    // A transaction: aborted records stay invisible to read_committed readers.
    let mut config = ProducerConfig::new(&bootstrap);
    config.set("transactional.id", &format!("{topic}-tx"))?;
    let producer = Producer::connect(config).await?;
    producer.init_transactions().await?;
    producer.begin_transaction()?;
    let aborted = producer
        .send(ProducerRecord::new(&topic).partition(0).value("aborted"))
        .await?
        .await?;
    producer.abort_transaction().await?;
    producer.begin_transaction()?;
    let committed = producer
        .send(ProducerRecord::new(&topic).partition(0).value("committed"))
        .await?;
    producer.commit_transaction().await?;
    let committed = committed.await?;
    producer.close().await?;
    let mut config = ConsumerConfig::new(&bootstrap);
    config.set("isolation.level", "read_committed")?;
    let mut reader = Consumer::connect(config).await?;
    let tp = TopicPartition::new(&topic, 0);
    reader.assign([tp.clone()]);
    reader.seek(&tp, Offset::At(aborted.offset))?;
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader.at_end(&tp) && Instant::now() < deadline {
        for r in reader.poll(Duration::from_millis(200)).await? {
            seen.push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned());
        }
    }
    println!(
        "transactions: \"aborted\" written at offset {} then aborted, \"committed\" at {}; \
         a read_committed reader from offset {} sees {seen:?}",
        aborted.offset, committed.offset, aborted.offset
    );
    if seen != ["committed"] {
        return Err(Error::InvalidArgument(format!(
            "read_committed should see only the committed record, saw {seen:?}"
        )));
    }

    admin.delete_topics(&[&topic]).await?;
    admin.delete_groups(&[&group]).await?;
    println!("deleted {topic} and group {group}");
    Ok(())
}
