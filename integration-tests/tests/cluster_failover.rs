//! In the three-node Apache Kafka cluster, the leader of a partition is stopped mid-stream:
//! the client refreshes metadata, re-routes to the new leader and keeps producing, with no hang.

use std::time::{Duration, Instant};

use integration_tests::{
    broker_script, create_ready_topic, fetch_batches, produce_batch, unique_topic, value_batch,
    Broker,
};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::TopicPartition;

#[tokio::test]
async fn leader_stopped_mid_stream() {
    let Some(bootstrap) = Broker::Kafka3.bootstrap("leader_stopped_mid_stream") else {
        return;
    };
    integration_tests::init_logging();
    let mut config = ClientConfig::new(&bootstrap);
    config.set("default.api.timeout.ms", "60000").unwrap();
    config.set("request.timeout.ms", "10000").unwrap();
    let admin = Admin::connect(config).await.unwrap();
    let topic = unique_topic("failover");
    create_ready_topic(
        &admin,
        NewTopic::new(&topic, 1, 3).config("min.insync.replicas", "2"),
    )
    .await;
    let tp = TopicPartition::new(&topic, 0);
    let old_leader = admin.client().leader(&tp).await.unwrap().node_id;

    let mut sent = 0i64;
    let mut worst = Duration::ZERO;
    let mut stopped = false;
    for i in 0..60 {
        if i == 20 {
            broker_script(&["stop-node", "kafka3", &old_leader.to_string()]);
            stopped = true;
            println!("stopped leader node {old_leader} after {sent} records");
        }
        let batch = value_batch([format!("r{i}")]);
        let start = Instant::now();
        produce_batch(admin.client(), &tp, &batch)
            .await
            .unwrap_or_else(|e| panic!("produce {i}: {e}"));
        worst = worst.max(start.elapsed());
        sent += 1;
    }
    let new_leader = admin.client().leader(&tp).await.unwrap().node_id;
    println!("leader moved {old_leader} -> {new_leader}; slowest produce {worst:?}; sent {sent}");
    assert_ne!(old_leader, new_leader);
    assert!(
        worst < Duration::from_secs(30),
        "a produce hung for {worst:?}"
    );
    let batches = fetch_batches(admin.client(), &tp, 0, sent as usize)
        .await
        .unwrap();
    let values: Vec<String> = batches
        .iter()
        .flat_map(|b| &b.records)
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect();
    let expected: Vec<String> = (0..60).map(|i| format!("r{i}")).collect();
    assert_eq!(
        values, expected,
        "every acknowledged record is readable, once, in order"
    );
    if stopped {
        broker_script(&["start-node", "kafka3", &old_leader.to_string()]);
    }
    admin.delete_topics(&[&topic]).await.unwrap();
}
