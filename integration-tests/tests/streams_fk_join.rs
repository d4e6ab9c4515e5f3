//! A foreign-key table join (KIP-213) on Apache Kafka: orders (3 partitions) joined with the
//! customer each names (2 partitions) by a running application. The subscription topic is
//! created with the customers' partition count and the response topic with the orders'
//! (Kafka's co-partitioning of the two), subscriptions reach the partition holding their
//! customer, answers come back to the partition holding their order, and every order ends
//! joined with its customer's latest value.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use std::sync::Arc;
use streams_core::runtime::{KafkaStreams, StreamsConfig};

use streams_dsl::options::KeyPartitioner;
use streams_dsl::{StreamsBuilder, TableJoined};

#[test]
fn orders_join_their_customers_across_partitions() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_fk_join") else {
        return;
    };
    run(&bootstrap, false);
}

/// Orders and customers written to partitions of the producer's own choosing (not the
/// default partitioner's): a `TableJoined` with both tables' partitioners routes the
/// subscriptions to the partitions holding their customers (and answers back to the orders').
#[test]
fn table_joined_partitioners_follow_custom_partitioning() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_fk_join_partitioners") else {
        return;
    };
    run(&bootstrap, true);
}

/// The partition of order `o<i>` (custom layout): `i % 3`.
fn order_partition(key: &str) -> Option<i32> {
    key.strip_prefix('o')?.parse::<i32>().ok().map(|i| i % 3)
}

/// The partition of customer `A`…`E` (custom layout): its letter's index `% 2`.
fn customer_partition(key: &str) -> Option<i32> {
    key.bytes()
        .next()
        .map(|b| i32::from(b.wrapping_sub(b'A')) % 2)
}

fn run(bootstrap: &str, custom: bool) {
    let bootstrap = bootstrap.to_owned();
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let orders = unique_topic("fk-orders");
    let customers = unique_topic("fk-customers");
    let output = unique_topic("fk-out");
    let admin = rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&orders, 3, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&customers, 2, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, 1, 1)).await;
        admin
    });
    // 5 customers, 30 orders; then every customer renamed and a third of the orders moved.
    let produce = |records: Vec<(String, String, String)>| {
        rt.block_on(async {
            let p = Producer::connect(ProducerConfig::new(&bootstrap))
                .await
                .unwrap();
            for (topic, k, v) in records {
                let mut r = ProducerRecord::new(&topic);
                if custom {
                    let part = if topic == orders {
                        order_partition(&k)
                    } else {
                        customer_partition(&k)
                    };
                    if let Some(part) = part {
                        r = r.partition(part);
                    }
                }
                p.send(r.key(k).value(v)).await.unwrap().await.unwrap();
            }
            p.close().await.unwrap();
        })
    };
    let customer_ids = ["A", "B", "C", "D", "E"];
    let mut expected = BTreeMap::new();
    let mut first = Vec::new();
    for c in customer_ids {
        first.push((customers.clone(), c.to_owned(), format!("{c}-v1")));
    }
    for i in 0..30 {
        let c = customer_ids[i % 5];
        first.push((orders.clone(), format!("o{i}"), format!("{c},item{i}")));
    }
    produce(first);

    let b = StreamsBuilder::new();
    let o = b.table::<String, String>(&orders);
    let c = b.table::<String, String>(&customers);
    let table_joined = if custom {
        let by_order: KeyPartitioner<String> = Arc::new(|_, k: &String, _| order_partition(k));
        let by_customer: KeyPartitioner<String> =
            Arc::new(|_, k: &String, _| customer_partition(k));
        TableJoined::with(Some(by_order), Some(by_customer))
    } else {
        TableJoined::default()
    };
    o.join_on_foreign_key_with(
        &c,
        |v: &String| v.split_once(',').map(|(c, _)| c.to_owned()),
        |o: &String, c: &String| format!("{o}|{c}"),
        table_joined,
        None,
    )
    .to_stream()
    .to(&output);
    let app = unique_topic("fk-app");
    let mut config = StreamsConfig::new(&app, &bootstrap);
    config.set("commit.interval.ms", "200").unwrap();
    config.set("num.stream.threads", "2").unwrap();
    let mut streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    streams.start().unwrap();

    let mut second = Vec::new();
    for c in customer_ids {
        second.push((customers.clone(), c.to_owned(), format!("{c}-v2")));
    }
    for i in (0..30).step_by(3) {
        let c = customer_ids[(i + 1) % 5];
        second.push((orders.clone(), format!("o{i}"), format!("{c},moved{i}")));
    }
    produce(second);
    for i in 0..30 {
        let (c, item) = if i % 3 == 0 {
            (customer_ids[(i + 1) % 5], format!("moved{i}"))
        } else {
            (customer_ids[i % 5], format!("item{i}"))
        };
        expected.insert(format!("o{i}"), format!("{c},{item}|{c}-v2"));
    }

    // The latest joined value of each order.
    let latest = rt.block_on(async {
        let mut consumer = Consumer::connect(ConsumerConfig::new(&bootstrap))
            .await
            .unwrap();
        let tp = TopicPartition::new(&output, 0);
        consumer.assign([tp.clone()]);
        consumer.seek(&tp, Offset::Beginning).unwrap();
        let mut latest: BTreeMap<String, Option<String>> = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            for r in consumer.poll(Duration::from_millis(300)).await.unwrap() {
                let k = r.key.map(|k| String::from_utf8_lossy(&k).into_owned());
                let v = r.value.map(|v| String::from_utf8_lossy(&v).into_owned());
                if let Some(k) = k {
                    latest.insert(k, v);
                }
            }
            let done = expected
                .iter()
                .all(|(k, v)| latest.get(k).and_then(Option::as_deref) == Some(v.as_str()));
            if done {
                break;
            }
        }
        latest
    });
    let registration = format!("{app}-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic");
    let response = format!("{app}-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic");
    let described = rt
        .block_on(admin.describe_topics(&[registration.as_str(), response.as_str()]))
        .unwrap();
    streams.close(Duration::from_secs(10));
    let partitions: Vec<usize> = described.iter().map(|d| d.partitions.len()).collect();
    eprintln!(
        "internal topic partitions {partitions:?}; {} orders joined",
        latest.len()
    );
    assert_eq!(
        partitions,
        vec![2, 3],
        "registration like the customers, response like the orders"
    );
    for (k, v) in &expected {
        assert_eq!(
            latest.get(k).and_then(Option::as_deref),
            Some(v.as_str()),
            "order {k}"
        );
    }
}
