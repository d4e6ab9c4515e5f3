//! Tasks that stay keep processing through a rebalance (cooperative protocol), on Apache
//! Kafka. Instance C is busy in a slow record for 6 s, so it does not rejoin while instance B
//! joins: the coordinator parks the other members' JoinGroup until C is back. Instance A keeps
//! the tasks it owns through that rebalance, and must go on processing them while its join is
//! parked (each output carries the wall-clock time it was processed at).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::error::BoxError;
use streams_core::processor::ProcessorContext;
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig};
use streams_core::serde::StringSerde;
use streams_core::topology::{Topology, TopologyBuilder};

const PARTITIONS: i32 = 6;

fn now_ms() -> i64 {
    integration_tests::now_ms()
}

/// Forwards `<partition>:<processed at ms>`; a record with value `slow` blocks for 6 s.
fn topology(input: &str, output: &str) -> Topology {
    let mut b = TopologyBuilder::new();
    let src = b
        .add_source::<String, String>("Source", &[input], StringSerde, StringSerde)
        .unwrap();
    let p = b
        .add_processor("Stamp", &[&src], || {
            |ctx: &mut ProcessorContext<'_, String, String>,
             r: Record<String, String>|
             -> Result<(), BoxError> {
                if r.value == "slow" {
                    std::thread::sleep(Duration::from_secs(6));
                }
                let partition = ctx.record_metadata().map_or(-1, |m| m.partition);
                let v = format!("{partition}:{}", now_ms());
                ctx.forward(r.with_value(v))?;
                Ok(())
            }
        })
        .unwrap();
    b.add_sink("Sink", output, StringSerde, StringSerde, &[&p])
        .unwrap();
    b.build().unwrap()
}

fn owned(s: &KafkaStreams) -> Vec<i32> {
    s.local_thread_metadata()
        .iter()
        .flat_map(|t| t.active_tasks.iter().map(|id| id.partition))
        .collect()
}

#[test]
fn tasks_that_stay_keep_processing_while_a_rebalance_is_parked() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_cooperative") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let input = unique_topic("coop-in");
    let output = unique_topic("coop-out");
    let producer = rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&input, PARTITIONS, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, 1, 1)).await;
        Producer::connect(ProducerConfig::new(&bootstrap))
            .await
            .unwrap()
    });
    let app = unique_topic("coop-app");
    let start = || {
        let mut config = StreamsConfig::new(&app, &bootstrap);
        config.set("commit.interval.ms", "100").unwrap();
        config.set("consumer.session.timeout.ms", "10000").unwrap();
        let mut s = KafkaStreams::new(topology(&input, &output), config).unwrap();
        s.start().unwrap();
        s
    };
    let settle = |all: &[&KafkaStreams]| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let n: usize = all.iter().map(|s| owned(s).len()).sum();
            // Every instance must hold tasks (6 partitions, at most 3 instances): an instance
            // can report RUNNING before the rebalance its join starts has given it any.
            if n == PARTITIONS as usize
                && all
                    .iter()
                    .all(|s| s.state() == State::Running && !owned(s).is_empty())
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    let mut a = start();
    let mut c = start();
    assert!(settle(&[&a, &c]), "a {:?}, c {:?}", owned(&a), owned(&c));
    let a_owned = owned(&a);
    let c_owned = owned(&c);
    eprintln!("cooperative: a owns {a_owned:?}, c owns {c_owned:?}");

    // Records flow to every partition all along.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flowing = {
        let stop = stop.clone();
        let input = input.clone();
        rt.spawn(async move {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for p in 0..PARTITIONS {
                    let r = ProducerRecord::new(&input)
                        .partition(p)
                        .key(format!("k{p}"))
                        .value(i.to_string());
                    let _ = producer.send(r).await;
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            producer.flush().await;
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    // C gets stuck in a slow record; then B joins.
    let slow_partition = c_owned[0];
    rt.block_on(async {
        let p = Producer::connect(ProducerConfig::new(&bootstrap))
            .await
            .unwrap();
        p.send(
            ProducerRecord::new(&input)
                .partition(slow_partition)
                .key("slow")
                .value("slow"),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    });
    std::thread::sleep(Duration::from_millis(300));
    let b_started = now_ms();
    let mut b = start();
    assert!(
        settle(&[&a, &b, &c]),
        "after b joined: a {:?}, b {:?}, c {:?}",
        owned(&a),
        owned(&b),
        owned(&c)
    );
    let settled_at = now_ms();
    let a_after = owned(&a);
    eprintln!(
        "cooperative: b joined at +0 ms, settled after {} ms: a {:?}, b {:?}, c {:?}",
        settled_at - b_started,
        owned(&a),
        owned(&b),
        owned(&c)
    );
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    rt.block_on(flowing).unwrap();

    // Outputs A processed, per partition, between B's start and the settled assignment.
    let stamps: Vec<(i32, i64)> = rt.block_on(async {
        let mut consumer = Consumer::connect(ConsumerConfig::new(&bootstrap))
            .await
            .unwrap();
        let tp = TopicPartition::new(&output, 0);
        consumer.assign([tp.clone()]);
        consumer.seek(&tp, Offset::Beginning).unwrap();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            for r in consumer.poll(Duration::from_millis(300)).await.unwrap() {
                let v =
                    String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned();
                if let Some((p, t)) = v.split_once(':') {
                    out.push((p.parse().unwrap_or(-1), t.parse().unwrap_or(0)));
                }
            }
        }
        out
    });
    a.close(Duration::from_secs(10));
    b.close(Duration::from_secs(10));
    c.close(Duration::from_secs(10));
    let stayed: Vec<i32> = a_owned
        .iter()
        .copied()
        .filter(|p| a_after.contains(p))
        .collect();
    let mut during: BTreeMap<i32, usize> = BTreeMap::new();
    let mut gaps: BTreeMap<i32, i64> = BTreeMap::new();
    for p in &a_owned {
        let mut ts: Vec<i64> = stamps
            .iter()
            .filter(|(q, _)| q == p)
            .map(|(_, t)| *t)
            .collect();
        ts.sort();
        during.insert(
            *p,
            ts.iter()
                .filter(|t| **t > b_started && **t < settled_at)
                .count(),
        );
        let gap = ts
            .windows(2)
            .filter(|w| w[1] > b_started && w[0] < settled_at)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(i64::MAX);
        gaps.insert(*p, gap);
    }
    eprintln!("cooperative: a's partitions {a_owned:?} (stayed: {stayed:?}); outputs processed while the rebalance was parked {during:?}; largest gap per partition in that window {gaps:?} ms");
    let window = settled_at - b_started;
    assert!(
        window >= 3_000,
        "the rebalance was held by the slow member ({window} ms)"
    );
    assert!(!stayed.is_empty(), "a kept some of its tasks");
    for p in &stayed {
        assert!(
            during.get(p).copied().unwrap_or(0) > 20
                && gaps.get(p).copied().unwrap_or(i64::MAX) < 2_000,
            "task 0_{p} stayed with a and kept processing while the join was parked"
        );
    }
}
