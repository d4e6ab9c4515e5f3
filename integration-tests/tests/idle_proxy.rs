//! Through an idle-closing TLS proxy (Debian's stunnel4 with a 3 s idle timeout,
//! `scripts/idle-proxy`), as Azure Event Hubs closes connections idle for 240 s: a producer
//! that pauses longer than the timeout between bursts and a consumer reading along lose and
//! duplicate nothing — the client notices the closed connections and reconnects.

use std::collections::BTreeMap;
use std::time::Duration;

use integration_tests::{create_ready_topic, unique_topic};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_across_idle_closes_lose_and_duplicate_nothing() {
    let (Ok(proxy), Ok(ca)) = (
        std::env::var("KAFKA_WIRE_IDLE_PROXY"),
        std::env::var("KAFKA_WIRE_SSL_CA"),
    ) else {
        if std::env::var("KAFKA_WIRE_REQUIRE_BROKERS").as_deref() == Ok("1") {
            panic!("idle_proxy: KAFKA_WIRE_IDLE_PROXY / KAFKA_WIRE_SSL_CA not set (scripts/idle-proxy start)");
        }
        eprintln!("SKIPPED idle_proxy: start Kafka with KAFKA_PROXY=1 KAFKA_SSL=1, then scripts/idle-proxy start");
        return;
    };
    integration_tests::init_logging();
    let tls = |c: &mut ClientConfig| {
        c.set("security.protocol", "SSL").unwrap();
        c.set("ssl.ca.location", &ca).unwrap();
    };
    let mut ac = ClientConfig::new(&proxy);
    tls(&mut ac);
    let admin = Admin::connect(ac).await.unwrap();
    let topic = unique_topic("idle-proxy");
    create_ready_topic(&admin, NewTopic::new(&topic, 2, 1)).await;

    let mut pc = ProducerConfig::new(&proxy);
    tls(&mut pc.client);
    let producer = Producer::connect(pc).await.unwrap();
    let mut cc = ConsumerConfig::new(&proxy);
    tls(&mut cc.client);
    let mut consumer = Consumer::connect(cc).await.unwrap();
    let tps: Vec<TopicPartition> = (0..2).map(|p| TopicPartition::new(&topic, p)).collect();
    consumer.assign(tps.clone());
    for tp in &tps {
        consumer.seek(tp, Offset::Beginning).unwrap();
    }

    const BURSTS: usize = 5;
    const PER_BURST: usize = 200;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut sent = 0;
    for burst in 0..BURSTS {
        let mut ds = Vec::new();
        for i in 0..PER_BURST {
            let v = format!("{burst}-{i}");
            ds.push(
                producer
                    .send(ProducerRecord::new(&topic).value(v))
                    .await
                    .unwrap(),
            );
        }
        for d in ds {
            d.await
                .expect("delivered although the proxy closed the idle connection");
        }
        sent += PER_BURST;
        // Read what is there, then stay idle longer than the proxy's 3 s timeout.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while seen.values().sum::<usize>() < sent && std::time::Instant::now() < deadline {
            for r in consumer.poll(Duration::from_millis(300)).await.unwrap() {
                *seen
                    .entry(
                        String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
                            .into_owned(),
                    )
                    .or_default() += 1;
            }
        }
        if burst + 1 < BURSTS {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
    }
    producer.close().await.unwrap();
    let received: usize = seen.values().sum();
    let duplicates = received - seen.len();
    let lost = sent - seen.len();
    println!(
        "idle-closing proxy (stunnel, 3 s idle timeout, 4 s pauses): sent {sent}, received {received}, duplicates {duplicates}, lost {lost}"
    );
    assert_eq!(lost, 0);
    assert_eq!(duplicates, 0);
}
