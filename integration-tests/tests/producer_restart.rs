//! Nothing is lost, nothing duplicated: an idempotent producer (acks=all) keeps sending while
//! the single Apache Kafka broker is killed with SIGKILL and restarted; afterwards the topic
//! holds exactly the records sent, once each, in per-partition order. Own test binary: it
//! kills the shared broker.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use integration_tests::{broker_script, create_ready_topic, fetch_batches, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

#[tokio::test]
async fn idempotent_producer_survives_broker_kill() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("idempotent_producer_survives_broker_kill")
    else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("idempotent-kill");
    const PARTITIONS: i32 = 3;
    const N: usize = 30_000;
    create_ready_topic(&admin, NewTopic::new(&topic, PARTITIONS, 1)).await;

    let mut config = ProducerConfig::new(&bootstrap);
    config
        .set("linger.ms", "5")
        .unwrap()
        .set("reconnect.backoff.max.ms", "500")
        .unwrap();
    config.set("request.timeout.ms", "5000").unwrap();
    let producer = Producer::connect(config).await.unwrap();
    let mut deliveries = Vec::with_capacity(N);
    let mut killed_at = None;
    let mut restart = None;
    let start = Instant::now();
    for i in 0..N {
        if i == N / 3 {
            broker_script(&["kill", "kafka"]);
            killed_at = Some(i);
            restart = Some(tokio::task::spawn_blocking(|| {
                broker_script(&["start", "kafka"])
            }));
        }
        let record = ProducerRecord::new(&topic)
            .key(format!("key-{}", i % 97))
            .value(i.to_string());
        deliveries.push(producer.send(record).await.unwrap());
        if i % 1000 == 0 {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let mut failed = 0;
    for d in deliveries {
        if let Err(e) = d.await {
            failed += 1;
            eprintln!("delivery failed: {e}");
        }
    }
    restart.unwrap().await.unwrap();
    producer.close().await.unwrap();
    println!(
        "sent {N} records, broker killed after {:?} records, {failed} failed deliveries, {:?}",
        killed_at,
        start.elapsed()
    );

    let mut seen = HashSet::new();
    let (mut read, mut duplicates, mut out_of_order) = (0usize, 0usize, 0usize);
    let mut per_key_last: BTreeMap<String, usize> = BTreeMap::new();
    for partition in 0..PARTITIONS {
        let tp = TopicPartition::new(&topic, partition);
        let end = admin
            .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
            .await
            .unwrap()[&tp]
            .offset as usize;
        let batches = fetch_batches(admin.client(), &tp, 0, end).await.unwrap();
        for r in batches.iter().flat_map(|b| &b.records) {
            read += 1;
            let i: usize = std::str::from_utf8(r.value.as_deref().unwrap())
                .unwrap()
                .parse()
                .unwrap();
            if !seen.insert(i) {
                duplicates += 1;
            }
            let key = String::from_utf8_lossy(r.key.as_deref().unwrap()).into_owned();
            if per_key_last.get(&key).is_some_and(|last| *last > i) {
                out_of_order += 1;
            }
            per_key_last.insert(key, i);
        }
    }
    let lost = (0..N).filter(|i| !seen.contains(i)).count();
    println!("IDEMPOTENCE UNDER KILL: sent {N}, read back {read}, duplicates {duplicates}, lost {lost}, out of order {out_of_order}, failed deliveries {failed}");
    assert_eq!((failed, duplicates, lost, out_of_order), (0, 0, 0, 0));
    assert_eq!(read, N);
}
