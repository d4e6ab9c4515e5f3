//! Stream threads at run time on Apache Kafka: a thread removed while records flow hands its
//! tasks to the remaining one, a thread added takes some back, and with a tiny
//! `buffered.records.per.partition` (partitions paused and resumed all the time) every record
//! still arrives exactly once, in order per key.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig};
use streams_core::serde::StringSerde;
use streams_core::topology::TopologyBuilder;

const PARTITIONS: i32 = 4;

/// `StreamThread-<n>` from a thread's full name.
fn short(name: &str) -> String {
    let mut parts: Vec<&str> = name.rsplit('-').take(2).collect();
    parts.reverse();
    parts.join("-")
}

fn tasks(s: &KafkaStreams) -> Vec<(String, Vec<String>)> {
    s.local_thread_metadata()
        .into_iter()
        .map(|t| {
            let name = short(&t.thread_name);
            (
                name,
                t.active_tasks.iter().map(|id| id.to_string()).collect(),
            )
        })
        .collect()
}

fn settled(s: &KafkaStreams, threads: usize) -> bool {
    let t = tasks(s);
    s.state() == State::Running
        && t.len() == threads
        && t.iter().map(|(_, ts)| ts.len()).sum::<usize>() == PARTITIONS as usize
}

fn wait(s: &KafkaStreams, threads: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if settled(s, threads) {
            std::thread::sleep(Duration::from_millis(500));
            if settled(s, threads) {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn threads_added_and_removed_while_records_flow_lose_nothing() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_threads") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let input = unique_topic("threads-in");
    let output = unique_topic("threads-out");
    let producer = rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&input, PARTITIONS, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, PARTITIONS, 1)).await;
        Producer::connect(ProducerConfig::new(&bootstrap))
            .await
            .unwrap()
    });
    let mut b = TopologyBuilder::new();
    let src = b
        .add_source::<String, String>("Source", &[&input], StringSerde, StringSerde)
        .unwrap();
    b.add_sink("Sink", &output, StringSerde, StringSerde, &[&src])
        .unwrap();
    let mut config = StreamsConfig::new(&unique_topic("threads-app"), &bootstrap);
    config.set("num.stream.threads", "2").unwrap();
    config.set("commit.interval.ms", "200").unwrap();
    config.set("buffered.records.per.partition", "5").unwrap();
    config.set("consumer.max.poll.records", "50").unwrap();
    let mut streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    assert!(wait(&streams, 2), "two threads: {:?}", tasks(&streams));
    eprintln!("threads: 2 threads: {:?}", tasks(&streams));

    let mut sent = 0usize;
    let mut send = |n: usize| {
        rt.block_on(async {
            let mut ds = Vec::new();
            for _ in 0..n {
                let r = ProducerRecord::new(&input)
                    .key(format!("k{}", sent % 20))
                    .value(sent.to_string());
                ds.push(producer.send(r).await.unwrap());
                sent += 1;
            }
            for d in ds {
                d.await.unwrap();
            }
        })
    };
    send(2000);
    let removed = streams.remove_stream_thread(Duration::from_secs(20));
    assert!(wait(&streams, 1), "one thread: {:?}", tasks(&streams));
    eprintln!(
        "threads: removed {:?}; now {:?}",
        removed.as_deref().map(short),
        tasks(&streams)
    );
    send(2000);
    let added = streams.add_stream_thread().unwrap();
    assert!(
        wait(&streams, 2),
        "two threads again: {:?}",
        tasks(&streams)
    );
    eprintln!(
        "threads: added {}; now {:?}",
        short(&added),
        tasks(&streams)
    );
    send(2000);

    let got = rt.block_on(async {
        let mut c = Consumer::connect(ConsumerConfig::new(&bootstrap))
            .await
            .unwrap();
        let tps: Vec<TopicPartition> = (0..PARTITIONS)
            .map(|p| TopicPartition::new(&output, p))
            .collect();
        c.assign(tps.clone());
        for tp in &tps {
            c.seek(tp, Offset::Beginning).unwrap();
        }
        let mut per_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut n = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while n < sent && Instant::now() < deadline {
            for r in c.poll(Duration::from_millis(300)).await.unwrap() {
                let k = String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned();
                let v: usize = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
                    .parse()
                    .unwrap();
                per_key.entry(k).or_default().push(v);
                n += 1;
            }
        }
        per_key
    });
    streams.close(Duration::from_secs(10));
    let total: usize = got.values().map(Vec::len).sum();
    let in_order = got.values().all(|vs| vs.windows(2).all(|w| w[0] < w[1]));
    let polls = streams
        .metrics()
        .into_iter()
        .find(|m| m.name == "poll-total")
        .map_or(0.0, |m| m.value);
    eprintln!(
        "threads: sent {sent}, output {total}, keys {}, in order per key {in_order}, polls {polls}",
        got.len()
    );
    assert_eq!(
        total, sent,
        "every record exactly once (a graceful hand-over commits first)"
    );
    assert!(in_order);
}
