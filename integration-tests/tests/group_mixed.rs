//! A mixed consumer group on Apache Kafka: one kafka-wire consumer, one Java consumer
//! (kafka-clients 4.4.0) and one librdkafka consumer (confluent-kafka) with the same assignor
//! split a 12-partition topic among the three clients: the subscription and assignment wire
//! formats interoperate whoever is the leader.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use integration_tests::{create_ready_topic, unique_topic, Broker, Peer};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, ConsumerEvent};

const PARTITIONS: usize = 12;

async fn mixed_group(assignor: &str) {
    let Some(bootstrap) = Broker::Kafka.bootstrap("group_mixed") else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("mixed");
    let group = unique_topic("g-mixed");
    create_ready_topic(&admin, NewTopic::new(&topic, PARTITIONS as i32, 1)).await;

    // Current assignment per client.
    let owned: Arc<Mutex<BTreeMap<&'static str, BTreeSet<i32>>>> = Arc::default();
    let mut children = Vec::new();
    for (name, peer) in [("java", Peer::Java), ("librdkafka", Peer::Librdkafka)] {
        let mut child = peer.spawn(&["group", &bootstrap, &group, &topic, assignor, "40"]);
        let stdout = child.stdout.take().expect("piped");
        let o = owned.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("assignment ") {
                    let parts = rest.split(',').filter_map(|p| p.parse().ok()).collect();
                    o.lock().unwrap().insert(name, parts);
                }
            }
        });
        children.push(child);
    }

    let mut config = ConsumerConfig::new(&bootstrap);
    config.set("group.id", &group).unwrap();
    config
        .set("partition.assignment.strategy", assignor)
        .unwrap();
    config.set("session.timeout.ms", "10000").unwrap();
    config.set("heartbeat.interval.ms", "500").unwrap();
    let mut consumer = Consumer::connect(config).await.unwrap();
    consumer.subscribe([topic.clone()]).unwrap();
    let o = owned.clone();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let ours = tokio::spawn(async move {
        {
            let mut mine: BTreeSet<i32> = BTreeSet::new();
            let mut events = consumer.events();
            loop {
                let e = tokio::select! {
                    e = events.next() => e,
                    _ = &mut stop_rx => break,
                };
                match e.expect("endless").expect("consumer error") {
                    ConsumerEvent::Assigned(tps) => mine.extend(tps.iter().map(|tp| tp.partition)),
                    ConsumerEvent::Revoked(tps) | ConsumerEvent::Lost(tps) => {
                        for tp in tps {
                            mine.remove(&tp.partition);
                        }
                    }
                    ConsumerEvent::Record(_) => {}
                }
                o.lock().unwrap().insert("kafka-wire", mine.clone());
            }
        }
        consumer.close().await.unwrap();
    });

    let start = Instant::now();
    let split = loop {
        {
            let owned = owned.lock().unwrap();
            let total: usize = owned.values().map(BTreeSet::len).sum();
            let union: BTreeSet<i32> = owned.values().flatten().copied().collect();
            if owned.len() == 3
                && owned.values().all(|s| s.len() == PARTITIONS / 3)
                && total == PARTITIONS
                && union.len() == PARTITIONS
            {
                break owned.clone();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(35),
            "no three-way split: {:?}",
            owned.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "mixed group ({assignor}) split after {:?}:",
        start.elapsed()
    );
    for (client, parts) in &split {
        println!("  {client:<11} {parts:?}");
    }
    let _ = stop_tx.send(());
    ours.await.unwrap();
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_librdkafka_and_kafka_wire_share_a_range_group() {
    mixed_group("range").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_librdkafka_and_kafka_wire_share_a_cooperative_sticky_group() {
    mixed_group("cooperative-sticky").await;
}
