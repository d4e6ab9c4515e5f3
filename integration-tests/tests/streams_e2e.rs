//! The streams runtime end to end on Apache Kafka, in this process: a stateless pipe and a
//! filter/map topology over a 3-partition topic produce exactly the expected records (keys,
//! values and timestamps preserved, per-key order kept), and the poison-record handlers: with
//! `LogAndContinueExceptionHandler` and a dead-letter topic an undeserializable record is
//! skipped and lands in the dead-letter topic with the `__streams.errors.*` headers while the
//! rest flows; with the default `LogAndFail` the application goes to `Error` and the error
//! names the record's topic, partition and offset.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use integration_tests::{create_ready_topic, now_ms, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, ConsumerRecord, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::error::BoxError;
use streams_core::processor::ProcessorContext;
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig, UncaughtResponse};
use streams_core::serde::{BytesSerde, StringSerde};
use streams_core::topology::{Topology, TopologyBuilder};

const PARTITIONS: i32 = 3;
const N: usize = 3_000;

/// (key, value, timestamp) of a record, as bytes.
type Triple = (Option<Bytes>, Option<Bytes>, i64);

struct Env {
    bootstrap: String,
    rt: tokio::runtime::Runtime,
    admin: Admin,
}

fn env(test: &str) -> Option<Env> {
    let bootstrap = Broker::Kafka.bootstrap(test)?;
    integration_tests::init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let admin = rt
        .block_on(Admin::connect(ClientConfig::new(&bootstrap)))
        .unwrap();
    Some(Env {
        bootstrap,
        rt,
        admin,
    })
}

impl Env {
    fn topic(&self, prefix: &str, partitions: i32) -> String {
        let name = unique_topic(prefix);
        self.rt.block_on(create_ready_topic(
            &self.admin,
            NewTopic::new(&name, partitions, 1),
        ));
        name
    }

    /// Send these records (partition by key unless given) and wait for all.
    fn produce(&self, records: Vec<ProducerRecord>) {
        self.rt.block_on(async {
            let producer = Producer::connect(ProducerConfig::new(&self.bootstrap))
                .await
                .unwrap();
            let mut deliveries = Vec::new();
            for r in records {
                deliveries.push(producer.send(r).await.unwrap());
            }
            for d in deliveries {
                d.await.unwrap();
            }
            producer.close().await.unwrap();
        });
    }

    /// Read `topic` from the beginning until `expected` records arrived, then 2 s more (to see
    /// any extra record); panics after 60 s.
    fn read(&self, topic: &str, partitions: i32, expected: usize) -> Vec<ConsumerRecord> {
        self.rt.block_on(async {
            let mut reader = Consumer::connect(ConsumerConfig::new(&self.bootstrap))
                .await
                .unwrap();
            let tps: Vec<TopicPartition> = (0..partitions)
                .map(|p| TopicPartition::new(topic, p))
                .collect();
            reader.assign(tps.clone());
            for tp in &tps {
                reader.seek(tp, Offset::Beginning).unwrap();
            }
            let start = Instant::now();
            let mut out = Vec::new();
            let mut complete_at: Option<Instant> = None;
            loop {
                out.extend(reader.poll(Duration::from_millis(200)).await.unwrap());
                if out.len() >= expected {
                    let at = *complete_at.get_or_insert_with(Instant::now);
                    if at.elapsed() >= Duration::from_secs(2) {
                        return out;
                    }
                }
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "{topic}: {} of {expected} records after 60 s",
                    out.len()
                );
            }
        })
    }
}

fn config(app: &str, bootstrap: &str, extra: &[(&str, &str)]) -> StreamsConfig {
    let mut c = StreamsConfig::new(app, bootstrap);
    c.set("commit.interval.ms", "500").unwrap();
    c.set("num.stream.threads", "2").unwrap();
    for (k, v) in extra {
        c.set(k, v).unwrap();
    }
    c
}

/// Wait up to `within` for `state`; returns how long it took.
fn wait_state(streams: &KafkaStreams, state: State, within: Duration) -> Duration {
    let start = Instant::now();
    while streams.state() != state {
        assert!(
            start.elapsed() < within,
            "not {state:?} within {within:?}: {:?}",
            streams.state()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

fn triple(r: &ConsumerRecord) -> Triple {
    (r.key.clone(), r.value.clone(), r.timestamp)
}

/// The records per key, in the order read (offset order within a partition).
fn by_key(records: impl IntoIterator<Item = Triple>) -> BTreeMap<Option<Bytes>, Vec<Triple>> {
    let mut m: BTreeMap<Option<Bytes>, Vec<Triple>> = BTreeMap::new();
    for t in records {
        m.entry(t.0.clone()).or_default().push(t);
    }
    m
}

/// `N` keyed records `key-<i % 17>` / `value-<i>` with distinct timestamps in the past hour.
fn inputs(topic: &str) -> (Vec<ProducerRecord>, Vec<Triple>) {
    let base = now_ms() - 3_600_000;
    let mut records = Vec::new();
    let mut triples = Vec::new();
    for i in 0..N {
        let key = Bytes::from(format!("key-{}", i % 17));
        let value = Bytes::from(format!("value-{i}"));
        let ts = base + i as i64 * 7;
        records.push(
            ProducerRecord::new(topic)
                .key(key.clone())
                .value(value.clone())
                .timestamp(ts),
        );
        triples.push((Some(key), Some(value), ts));
    }
    (records, triples)
}

fn start(topology: Topology, config: StreamsConfig) -> KafkaStreams {
    let mut streams = KafkaStreams::new(topology, config).unwrap();
    streams.start().unwrap();
    streams
}

#[test]
fn stateless_pipe_copies_every_record_as_is() {
    let Some(env) = env("streams_e2e pipe") else {
        return;
    };
    let input = env.topic("streams-e2e-pipe-in", PARTITIONS);
    let output = env.topic("streams-e2e-pipe-out", PARTITIONS);
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<Option<Bytes>, Option<Bytes>>("Source", &[&input], BytesSerde, BytesSerde)
        .unwrap();
    b.add_sink("Sink", &output, BytesSerde, BytesSerde, &[&source])
        .unwrap();
    let app = unique_topic("streams-e2e-pipe");
    // More threads than tasks: one thread gets none and must still count as running.
    let mut streams = start(
        b.build().unwrap(),
        config(&app, &env.bootstrap, &[("num.stream.threads", "4")]),
    );
    let (records, expected) = inputs(&input);
    env.produce(records);
    let out = env.read(&output, PARTITIONS, N);
    let running = wait_state(&streams, State::Running, Duration::from_secs(30));
    // A cooperative hand-over between two threads leaves a task unowned for one generation
    // (the follow-up rebalance gives it to its new thread): wait until the assignment settled.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut threads = streams.local_thread_metadata();
    while threads.iter().map(|t| t.active_tasks.len()).sum::<usize>() != PARTITIONS as usize
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
        threads = streams.local_thread_metadata();
    }
    streams.close(Duration::from_secs(20));
    let idle = threads.iter().filter(|t| t.active_tasks.is_empty()).count();
    eprintln!(
        "streams_e2e pipe: Running {running:?} after the output was read; threads {}, without tasks {idle}: {:?}",
        threads.len(),
        threads
            .iter()
            .map(|t| (t.thread_state, t.active_tasks.iter().map(ToString::to_string).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    );
    assert_eq!(threads.len(), 4);
    let tasks: usize = threads.iter().map(|t| t.active_tasks.len()).sum();
    assert_eq!(tasks, PARTITIONS as usize, "every task runs on one thread");
    let got = by_key(out.iter().map(triple));
    let want = by_key(expected);
    eprintln!(
        "streams_e2e pipe: inputs {N}, outputs {}, keys {}, per-key sequences equal {}",
        out.len(),
        got.len(),
        got == want
    );
    assert_eq!(out.len(), N, "one output per input");
    assert_eq!(
        got, want,
        "keys, values, timestamps and per-key order preserved"
    );
}

#[test]
fn filter_map_drops_odd_values_and_upper_cases_the_rest() {
    let Some(env) = env("streams_e2e filter_map") else {
        return;
    };
    let input = env.topic("streams-e2e-fm-in", PARTITIONS);
    let output = env.topic("streams-e2e-fm-out", PARTITIONS);
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<String, String>("Source", &[&input], StringSerde, StringSerde)
        .unwrap();
    let evens = b
        .add_processor("EvenUpper", &[&source], || {
            |ctx: &mut ProcessorContext<'_, String, String>,
             r: Record<String, String>|
             -> Result<(), BoxError> {
                let n: u64 = r.value.rsplit('-').next().unwrap_or_default().parse()?;
                if n.is_multiple_of(2) {
                    let upper = r.value.to_uppercase();
                    ctx.forward(r.with_value(upper))?;
                }
                Ok(())
            }
        })
        .unwrap();
    b.add_sink("Sink", &output, StringSerde, StringSerde, &[&evens])
        .unwrap();
    let app = unique_topic("streams-e2e-fm");
    let mut streams = start(b.build().unwrap(), config(&app, &env.bootstrap, &[]));
    let (records, all) = inputs(&input);
    env.produce(records);
    let expected: Vec<Triple> = all
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, (k, v, ts))| {
            let upper = String::from_utf8(v.unwrap().to_vec())
                .unwrap()
                .to_uppercase();
            (k, Some(Bytes::from(upper)), ts)
        })
        .collect();
    let out = env.read(&output, PARTITIONS, expected.len());
    streams.close(Duration::from_secs(20));
    let got = by_key(out.iter().map(triple));
    let want = by_key(expected.clone());
    eprintln!(
        "streams_e2e filter/map: inputs {N}, expected outputs {}, outputs {}, per-key sequences equal {}",
        expected.len(),
        out.len(),
        got == want
    );
    assert_eq!(out.len(), expected.len());
    assert_eq!(got, want);
}

/// Good records around one record whose value is not UTF-8, all in partition 1: the poison
/// record is at offset 5.
fn with_poison(topic: &str) -> (Vec<ProducerRecord>, usize, i64) {
    let mut records = Vec::new();
    for i in 0..10 {
        let value: Bytes = if i == 5 {
            Bytes::from_static(&[0xff, 0xfe, 0x00, 0xc3])
        } else {
            Bytes::from(format!("good-{i}"))
        };
        records.push(
            ProducerRecord::new(topic)
                .partition(1)
                .key(format!("k{i}"))
                .value(value),
        );
    }
    (records, 9, 5)
}

fn pipe_strings(input: &str, output: &str) -> Topology {
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<String, String>("Source", &[input], StringSerde, StringSerde)
        .unwrap();
    b.add_sink("Sink", output, StringSerde, StringSerde, &[&source])
        .unwrap();
    b.build().unwrap()
}

#[test]
fn log_and_continue_sends_the_poison_record_to_the_dead_letter_topic() {
    let Some(env) = env("streams_e2e dlq") else {
        return;
    };
    let input = env.topic("streams-e2e-dlq-in", PARTITIONS);
    let output = env.topic("streams-e2e-dlq-out", PARTITIONS);
    let dlq = env.topic("streams-e2e-dlq", 1);
    let app = unique_topic("streams-e2e-dlq");
    let mut streams = start(
        pipe_strings(&input, &output),
        config(
            &app,
            &env.bootstrap,
            &[
                (
                    "default.deserialization.exception.handler",
                    "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler",
                ),
                ("errors.dead.letter.queue.topic.name", &dlq),
            ],
        ),
    );
    let (records, good, poison_offset) = with_poison(&input);
    env.produce(records);
    let out = env.read(&output, PARTITIONS, good);
    let dead = env.read(&dlq, 1, 1);
    // It keeps running (after the group settles).
    wait_state(&streams, State::Running, Duration::from_secs(30));
    let state = streams.state();
    streams.close(Duration::from_secs(20));
    let headers: BTreeMap<String, String> = dead
        .first()
        .map(|r| {
            r.headers
                .iter()
                .map(|h| {
                    (
                        String::from_utf8_lossy(&h.key).into_owned(),
                        String::from_utf8_lossy(h.value.as_deref().unwrap_or_default())
                            .into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    eprintln!(
        "streams_e2e dlq: outputs {} (expected {good}), dead letters {}, state {state:?}, headers {headers:?}",
        out.len(),
        dead.len()
    );
    assert_eq!(out.len(), good, "the good records flow");
    assert!(out
        .iter()
        .all(|r| r.value.as_deref().unwrap_or_default().starts_with(b"good-")));
    assert_eq!(dead.len(), 1, "one dead letter");
    let d = &dead[0];
    assert_eq!(d.key.as_deref(), Some(&b"k5"[..]));
    assert_eq!(d.value.as_deref(), Some(&[0xff, 0xfe, 0x00, 0xc3][..]));
    assert_eq!(headers.get("__streams.errors.topic"), Some(&input));
    assert_eq!(
        headers
            .get("__streams.errors.partition")
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(
        headers.get("__streams.errors.offset"),
        Some(&poison_offset.to_string())
    );
    assert!(headers.contains_key("__streams.errors.exception"));
    assert!(headers.contains_key("__streams.errors.message"));
    assert_eq!(state, State::Running);
}

#[test]
fn log_and_fail_stops_the_application_naming_the_record() {
    let Some(env) = env("streams_e2e fail") else {
        return;
    };
    let input = env.topic("streams-e2e-fail-in", PARTITIONS);
    let output = env.topic("streams-e2e-fail-out", PARTITIONS);
    let app = unique_topic("streams-e2e-fail");
    let mut streams = KafkaStreams::new(
        pipe_strings(&input, &output),
        config(&app, &env.bootstrap, &[]),
    )
    .unwrap();
    let error: Arc<Mutex<Option<String>>> = Arc::default();
    let e = error.clone();
    streams.set_uncaught_exception_handler(move |err| {
        *e.lock().unwrap() = Some(err.to_string());
        UncaughtResponse::ShutdownClient
    });
    streams.start().unwrap();
    let (records, _, poison_offset) = with_poison(&input);
    env.produce(records);
    let started = Instant::now();
    while streams.state() != State::Error {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the application did not fail; state {:?}",
            streams.state()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let message = error.lock().unwrap().clone().unwrap_or_default();
    streams.close(Duration::from_secs(20));
    eprintln!(
        "streams_e2e fail: state Error after {:?}; error: {message}",
        started.elapsed()
    );
    assert!(message.contains(&input), "names the topic: {message}");
    let at = format!("{input}-1@{poison_offset}");
    assert!(
        message.contains(&at),
        "names partition and offset ({at}): {message}"
    );
}
