//! A broker restarted while a client is connected: the client reconnects and the next request
//! succeeds. Restarts the single-node Apache Kafka broker, so it lives in its own test binary
//! (cargo runs test binaries one after another).

use std::time::{Duration, Instant};

use integration_tests::{
    broker_script, create_ready_topic, fetch_batches, produce_batch, unique_topic, value_batch,
    Broker,
};
use kafka_wire::admin::{Admin, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::TopicPartition;

#[tokio::test]
async fn client_survives_a_broker_restart() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("client_survives_a_broker_restart") else {
        return;
    };
    integration_tests::init_logging();
    let mut config = ClientConfig::new(&bootstrap);
    config.set("default.api.timeout.ms", "60000").unwrap();
    config.set("reconnect.backoff.max.ms", "500").unwrap();
    let admin = Admin::connect(config).await.unwrap();
    let topic = unique_topic("restart");
    create_ready_topic(&admin, NewTopic::new(&topic, 1, 1)).await;
    let tp = TopicPartition::new(&topic, 0);
    produce_batch(admin.client(), &tp, &value_batch(["r0"]))
        .await
        .unwrap();

    // SIGKILL, not a clean shutdown: the client sees its connection die.
    broker_script(&["kill", "kafka"]);
    let restarted = tokio::task::spawn_blocking(|| broker_script(&["start", "kafka"]));

    let start = Instant::now();
    produce_batch(admin.client(), &tp, &value_batch(["r1"]))
        .await
        .expect("produce after restart");
    println!(
        "first produce after kill -9 + restart succeeded after {:?}",
        start.elapsed()
    );
    restarted.await.unwrap();
    let latest = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
        .await
        .unwrap();
    assert_eq!(latest[&tp].offset, 2);
    let batches = fetch_batches(admin.client(), &tp, 0, 2).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.records.len()).sum::<usize>(), 2);
    assert!(start.elapsed() < Duration::from_secs(90));
    admin.delete_topics(&[&topic]).await.unwrap();
}
