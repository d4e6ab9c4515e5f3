//! A consumer group survives its coordinator's node being killed (SIGKILL) in the three-node
//! Apache Kafka cluster: members rediscover the coordinator (NOT_COORDINATOR /
//! COORDINATOR_NOT_AVAILABLE / broken connection), keep their partitions or rejoin, keep
//! committing, and every record sent is consumed (at-least-once: none lost).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use integration_tests::group_member::Member;
use integration_tests::{broker_script, create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::cluster::coordinator::{Coordinator, CoordinatorType};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};

const PARTITIONS: i32 = 6;
const N: usize = 6000;

async fn produce(bootstrap: &str, topic: &str, from: usize, n: usize) {
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for i in from..from + n {
        let record = ProducerRecord::new(topic)
            .partition((i % PARTITIONS as usize) as i32)
            .value(i.to_string());
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

async fn wait_all(members: [&Member; 2], n: usize) -> Duration {
    let start = Instant::now();
    loop {
        let distinct: BTreeSet<(i32, i64)> = members
            .iter()
            .flat_map(|m| m.seen.lock().unwrap().records.clone())
            .collect();
        if distinct.len() >= n {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "only {} of {n}",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_node_killed() {
    let Some(bootstrap) = Broker::Kafka3.bootstrap("coordinator_node_killed") else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("coord-move");
    let group = unique_topic("g-coord");
    create_ready_topic(&admin, NewTopic::new(&topic, PARTITIONS, 3)).await;
    produce(&bootstrap, &topic, 0, N / 2).await;

    let a = Member::start(&bootstrap, &group, &topic, &[]).await;
    let b = Member::start(&bootstrap, &group, &topic, &[]).await;
    wait_all([&a, &b], N / 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await; // commits

    let coordinator = Coordinator::new(admin.client().clone(), CoordinatorType::Group, &group);
    let node = coordinator.node().await.unwrap();
    println!("coordinator of {group} is node {node}; killing it");
    broker_script(&["stop-node", "kafka3", &node.to_string()]);
    let killed = Instant::now();
    produce(&bootstrap, &topic, N / 2, N / 2).await;
    let took = wait_all([&a, &b], N).await;
    coordinator.mark_unknown();
    let new_node = coordinator.node().await.unwrap();
    println!(
        "all {N} records consumed {:?} after the kill; the new coordinator is node {new_node}",
        killed.elapsed().max(took)
    );
    assert_ne!(new_node, node);
    tokio::time::sleep(Duration::from_secs(2)).await; // auto commits reach the new coordinator
    let sa = a.stop(true).await;
    let sb = b.stop(true).await;
    broker_script(&["start-node", "kafka3", &node.to_string()]);
    let mut all: Vec<(i32, i64)> = sa
        .records
        .iter()
        .chain(sb.records.iter())
        .copied()
        .collect();
    let consumed = all.len();
    all.sort();
    all.dedup();
    let lost = N - all.len();
    println!(
        "coordinator move: sent {N}, consumed {consumed}, duplicates {}, lost {lost}",
        consumed - all.len()
    );
    assert_eq!(lost, 0);
    // The group's offsets survived the move: the committed positions cover everything.
    let committed = admin.list_group_offsets(&group, None).await.unwrap();
    let total: i64 = committed.values().map(|o| o.offset).sum();
    assert_eq!(
        total, N as i64,
        "committed offsets after the move: {committed:?}"
    );
}
