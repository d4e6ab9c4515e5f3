//! An idempotent producer keeps writing while a partition leader of the three-node Apache
//! Kafka cluster is killed: every record ends up in the topic exactly once, in order.

use std::collections::HashSet;
use std::time::Instant;

use integration_tests::{broker_script, create_ready_topic, fetch_batches, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

#[tokio::test]
async fn idempotent_producer_survives_leader_kill() {
    let Some(bootstrap) = Broker::Kafka3.bootstrap("idempotent_producer_survives_leader_kill")
    else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("cluster-idempotent");
    const N: usize = 20_000;
    create_ready_topic(
        &admin,
        NewTopic::new(&topic, 1, 3).config("min.insync.replicas", "2"),
    )
    .await;
    let tp = TopicPartition::new(&topic, 0);
    let leader = admin.client().leader(&tp).await.unwrap().node_id;

    let mut config = ProducerConfig::new(&bootstrap);
    config.set("request.timeout.ms", "5000").unwrap();
    let producer = Producer::connect(config).await.unwrap();
    let start = Instant::now();
    let mut deliveries = Vec::with_capacity(N);
    for i in 0..N {
        if i == N / 2 {
            broker_script(&["stop-node", "kafka3", &leader.to_string()]);
        }
        deliveries.push(
            producer
                .send(ProducerRecord::new(&topic).value(i.to_string()))
                .await
                .unwrap(),
        );
        if i % 500 == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    let mut failed = 0;
    for d in deliveries {
        if let Err(e) = d.await {
            if failed == 0 {
                println!("first failed delivery: {e}");
            }
            failed += 1;
        }
    }
    producer.close().await.unwrap();
    admin.client().invalidate_metadata();
    let new_leader = admin.client().leader(&tp).await.unwrap().node_id;
    let end = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
        .await
        .unwrap()[&tp]
        .offset as usize;
    let batches = fetch_batches(admin.client(), &tp, 0, end).await.unwrap();
    let values: Vec<usize> = batches
        .iter()
        .flat_map(|b| &b.records)
        .map(|r| {
            std::str::from_utf8(r.value.as_deref().unwrap())
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let distinct: HashSet<usize> = values.iter().copied().collect();
    let in_order = values.windows(2).all(|w| w[0] < w[1]);
    println!(
        "LEADER KILL: leader {leader} -> {new_leader}; sent {N}, read {}, duplicates {}, lost {}, in order {in_order}, failed {failed}, {:?}",
        values.len(),
        values.len() - distinct.len(),
        N - distinct.len(),
        start.elapsed()
    );
    broker_script(&["start-node", "kafka3", &leader.to_string()]);
    assert_ne!(leader, new_leader);
    assert_eq!(failed, 0);
    assert_eq!(values, (0..N).collect::<Vec<_>>());
}
