//! `bench streams-throughput [bootstrap] [options]`: our streams runtime against Java Kafka
//! Streams 4.4.0 (`bench/java/StreamsThroughputBench.java`) and Quix Streams 3.28.1
//! (`bench/quix/streams_bench.py`) on the same broker in the same run, interleaved (ours, java,
//! quix, ours, java, quix, ...), on two topologies that are the same on every side:
//!
//! - `wordcount`: Kafka's WordCountDemo. Lines lower-cased, split on `\W+`, empty words
//!   dropped, re-keyed by word through the repartition topic `<app>-counts-repartition` (Quix:
//!   `repartition__<app>--<input>--counts`), counted per word in a store logged to a changelog
//!   behind the record cache, every count the cache flushes forwarded to the output (String
//!   key, 8-byte big-endian Long value). Ours is written with the Processor API
//!   ([`wordcount_topology`]).
//! - `count`: the input record's key counted, no repartition.
//!
//! The input (`lines` lines of 10 words drawn from `w0..w4999`, keys `k0..k4999`, from a
//! seeded generator) is written once per shape before any application starts. Shapes: 1 input
//! partition and 1 stream thread; 4 partitions and 2 threads (Quix: 2 processes in one group,
//! their CPU and RSS summed). Every side: `commit.interval.ms=100`, `statestore.cache.max.bytes`
//! 10 MB (Quix has no such cache), `auto.offset.reset=earliest`, at-least-once and
//! exactly-once (v2; Quix `exactly-once`).
//!
//! Measured per run, each application a child process of this one:
//! - wall: from spawning the process until a `read_committed` reader of the output topic
//!   (started before the process) has seen every word's (key's) final count, as computed here
//!   from the generated input;
//! - start-up: from spawning the process until the group `<app>` has a committed offset
//!   (polled every 25 ms with OffsetFetch; the same definition on every side); first output:
//!   until the reader's first record;
//! - CPU: user+sys seconds of the process (`/proc/<pid>/stat`, all threads) and peak RSS
//!   (`VmHWM`), read the moment the reader is done (close not included);
//! - the broker's CPU seconds over the same interval (`BrokerCpu`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig};
use streams_core::serde::{I64Serde, StringSerde};
use streams_core::state::StoreHandle;
use streams_core::topology::{StoreBuilder, Topology, TopologyBuilder};

use crate::BrokerCpu;

/// Words per line and the vocabulary (`w0..w4999`); line keys are `k0..k4999`.
const WORDS_PER_LINE: usize = 10;
const VOCABULARY: u64 = 5000;
const KEYS: u64 = 5000;
/// `statestore.cache.max.bytes` on every side (Java and ours divide it over the threads).
const CACHE_BYTES: usize = 10 * 1024 * 1024;
const COMMIT_MS: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Ours,
    Java,
    Quix,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Java => "java",
            Side::Quix => "quix",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Topo {
    WordCount,
    Count,
}

impl Topo {
    fn name(self) -> &'static str {
        match self {
            Topo::WordCount => "wordcount",
            Topo::Count => "count",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Guarantee {
    Alos,
    Eos,
}

impl Guarantee {
    fn name(self) -> &'static str {
        match self {
            Guarantee::Alos => "alos",
            Guarantee::Eos => "eos",
        }
    }
    /// Kafka Streams' `processing.guarantee` (Java and ours).
    fn kafka(self) -> &'static str {
        match self {
            Guarantee::Alos => "at_least_once",
            Guarantee::Eos => "exactly_once_v2",
        }
    }
    fn quix(self) -> &'static str {
        match self {
            Guarantee::Alos => "at-least-once",
            Guarantee::Eos => "exactly-once",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    partitions: i32,
    threads: usize,
}

impl Shape {
    fn name(self) -> String {
        format!("{}p{}t", self.partitions, self.threads)
    }
}

/// What the command line asked for.
#[derive(Debug, Clone)]
struct Options {
    bootstrap: String,
    rounds: usize,
    lines: usize,
    sides: Vec<Side>,
    topologies: Vec<Topo>,
    shapes: Vec<Shape>,
    guarantees: Vec<Guarantee>,
    /// Our store: persistent (redb, as Java's and Quix's RocksDB) or in memory.
    store: String,
    /// Profile one extra run of ours (wordcount, first shape, at-least-once) into this file.
    perf: Option<PathBuf>,
    timeout: Duration,
    /// Java's `-Xmx` (`default`: none, the JVM's default heap, a quarter of RAM).
    java_xmx: String,
}

fn parse_list<T>(arg: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    arg.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).ok_or_else(|| format!("unknown value {s:?}")))
        .collect()
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        bootstrap: "127.0.0.1:19092".into(),
        rounds: 2,
        lines: 200_000,
        sides: vec![Side::Ours, Side::Java, Side::Quix],
        topologies: vec![Topo::WordCount, Topo::Count],
        shapes: vec![
            Shape {
                partitions: 1,
                threads: 1,
            },
            Shape {
                partitions: 4,
                threads: 2,
            },
        ],
        guarantees: vec![Guarantee::Alos, Guarantee::Eos],
        store: "persistent".into(),
        perf: None,
        timeout: Duration::from_secs(300),
        java_xmx: "256m".into(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--quick" {
            o.rounds = 1;
            o.lines = 50_000;
            continue;
        }
        if !a.starts_with("--") {
            o.bootstrap = a.clone();
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--rounds" => o.rounds = v.parse().map_err(|_| format!("--rounds {v}"))?,
            "--lines" => o.lines = v.parse().map_err(|_| format!("--lines {v}"))?,
            "--timeout-s" => {
                o.timeout = Duration::from_secs(v.parse().map_err(|_| format!("--timeout-s {v}"))?)
            }
            "--sides" => {
                o.sides = parse_list(v, |s| match s {
                    "ours" => Some(Side::Ours),
                    "java" => Some(Side::Java),
                    "quix" => Some(Side::Quix),
                    _ => None,
                })?
            }
            "--topologies" => {
                o.topologies = parse_list(v, |s| match s {
                    "wordcount" => Some(Topo::WordCount),
                    "count" => Some(Topo::Count),
                    _ => None,
                })?
            }
            "--shapes" => {
                o.shapes = parse_list(v, |s| {
                    let (p, t) = s.strip_suffix('t')?.split_once('p')?;
                    Some(Shape {
                        partitions: p.parse().ok().filter(|p| *p > 0)?,
                        threads: t.parse().ok().filter(|t| *t > 0)?,
                    })
                })?
            }
            "--guarantees" => {
                o.guarantees = parse_list(v, |s| match s {
                    "alos" => Some(Guarantee::Alos),
                    "eos" => Some(Guarantee::Eos),
                    _ => None,
                })?
            }
            "--store" => {
                if v != "persistent" && v != "memory" {
                    return Err(format!("--store {v}: persistent or memory"));
                }
                o.store = v.clone();
            }
            "--perf" => o.perf = Some(PathBuf::from(v)),
            "--java-xmx" => o.java_xmx = v.clone(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.rounds == 0 || o.lines == 0 {
        return Err("--rounds and --lines must be above 0".into());
    }
    Ok(o)
}

const USAGE: &str = "usage: bench streams-throughput [bootstrap=127.0.0.1:19092] [--quick (1 round, 50k lines)] [--rounds 2] [--lines 200000] [--sides ours,java,quix] [--topologies wordcount,count] [--shapes 1p1t,4p2t] [--guarantees alos,eos] [--store persistent|memory] [--perf FILE] [--timeout-s 300] [--java-xmx 256m|default]";

// ---- the input ----------------------------------------------------------------------------

/// xorshift64*: the input is the same in every run and on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The generated lines, keyed, and the final counts every side must reach.
struct Input {
    lines: Vec<(String, String)>,
    words: usize,
    word_counts: HashMap<String, i64>,
    key_counts: HashMap<String, i64>,
}

fn generate(lines: usize) -> Input {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(lines);
    let mut word_counts: HashMap<String, i64> = HashMap::new();
    let mut key_counts: HashMap<String, i64> = HashMap::new();
    for _ in 0..lines {
        let key = format!("k{}", rng.next() % KEYS);
        let mut line = String::with_capacity(WORDS_PER_LINE * 6);
        for w in 0..WORDS_PER_LINE {
            if w > 0 {
                line.push(' ');
            }
            let word = format!("w{}", rng.next() % VOCABULARY);
            line.push_str(&word);
            *word_counts.entry(word).or_default() += 1;
        }
        *key_counts.entry(key.clone()).or_default() += 1;
        out.push((key, line));
    }
    Input {
        lines: out,
        words: lines * WORDS_PER_LINE,
        word_counts,
        key_counts,
    }
}

/// Create `topic` with `partitions` and write every line into it (keyed: Java's partitioner).
async fn preload(bootstrap: &str, admin: &Admin, topic: &str, partitions: i32, input: &Input) {
    let _ = admin.delete_topics(&[topic]).await;
    admin
        .create_topic(NewTopic::new(topic, partitions, 1))
        .await
        .expect("create the input topic");
    admin
        .wait_for_leaders(&[topic.to_owned()])
        .await
        .expect("input leaders");
    let mut config = ProducerConfig::new(bootstrap);
    config.set("linger.ms", "5").expect("linger.ms");
    config.set("batch.size", "262144").expect("batch.size");
    let producer = Producer::connect(config).await.expect("producer");
    let mut window = std::collections::VecDeque::new();
    for (k, v) in &input.lines {
        let r = ProducerRecord::new(topic).key(k.clone()).value(v.clone());
        window.push_back(producer.send(r).await.expect("send"));
        if window.len() >= 50_000 {
            window
                .pop_front()
                .expect("window")
                .await
                .expect("delivered");
        }
    }
    for d in window {
        d.await.expect("delivered");
    }
    producer.close().await.expect("close the producer");
}

// ---- our application (the child process) ----------------------------------------------------

/// WordCountDemo's `flatMapValues(split \W+)` + `filter(non-empty)` + `groupBy(word)`'s
/// selection: forwards `(word, word)` for each word of the lower-cased line.
struct Split;

impl Processor<Option<String>, String, String, String> for Split {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<Option<String>, String>,
    ) -> Result<(), BoxError> {
        // Java's toLowerCase(Locale.ROOT) and split("\\W+"): \W is anything but [A-Za-z0-9_].
        let line = record.value.to_lowercase();
        for word in line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
        {
            ctx.forward(Record::new(
                word.to_owned(),
                word.to_owned(),
                record.timestamp,
            ))?;
        }
        Ok(())
    }
}

/// The DSL's `count()`: the record's key counted in a caching store; what the cache flushes
/// (at commit or eviction) is forwarded, as a KTable's flush listener does.
struct Count {
    store: StoreHandle<String, i64>,
}

impl<V: 'static> Processor<String, V, String, i64> for Count {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), BoxError> {
        ctx.on_cache_flush(&self.store, |ctx, flush| {
            if let Some(n) = flush.new {
                ctx.forward(Record::new(flush.key, n, flush.timestamp))?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, V>,
    ) -> Result<(), BoxError> {
        let mut store = ctx.key_value_store(&self.store)?;
        let n = store.get(&record.key)?.unwrap_or(0) + 1;
        store.put(&record.key, &n)?;
        Ok(())
    }
}

fn counts_store(handle: &StoreHandle<String, i64>, persistent: bool) -> StoreBuilder {
    let b = if persistent {
        StoreBuilder::persistent_key_value(handle)
    } else {
        StoreBuilder::in_memory_key_value(handle)
    };
    b.with_caching_enabled()
}

/// How the WordCount's repartition topic is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Repartition {
    /// `TopologyBuilder::add_internal_topic("counts-repartition")`: the runtime creates
    /// `<app>-counts-repartition` and purges it. Today (streams-core at 395fba7) a sink to an
    /// internal topic writes to the topic as named, without the `<application.id>-` prefix
    /// (`processor/node.rs`, `SinkNode::process`), so the records never reach the source.
    Internal,
    /// The workaround: `<app>-counts-rekeyed` as an ordinary topic, created by the child before
    /// it starts the application (Java's repartition-topic configs, as many partitions as the
    /// input), named as such by the sink and the source. (Not `…-repartition`: the assignor
    /// takes every `<app>-…-repartition` topic for an internal one and wants its writer.)
    External(String),
}

/// Source(input) → Split → RepartitionSink | RepartitionSource → Count(store `counts`) →
/// Sink(output): two sub-topologies; the changelog is `<app>-counts-changelog` as in Java, the
/// repartition topic `<app>-counts-repartition` (internal) or `<app>-counts-rekeyed`.
fn wordcount_topology(
    input: &str,
    output: &str,
    persistent: bool,
    repartition: &Repartition,
) -> Result<Topology, Box<dyn std::error::Error>> {
    let store = StoreHandle::new("counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let topic = match repartition {
        Repartition::Internal => {
            b.add_internal_topic("counts-repartition");
            "counts-repartition"
        }
        Repartition::External(physical) => physical.as_str(),
    };
    let source =
        b.add_source::<Option<String>, String>("Source", &[input], StringSerde, StringSerde)?;
    let split = b.add_processor("Split", &[&source], || Split)?;
    b.add_sink(
        "RepartitionSink",
        topic,
        StringSerde,
        StringSerde,
        &[&split],
    )?;
    let again =
        b.add_source::<String, String>("RepartitionSource", &[topic], StringSerde, StringSerde)?;
    let s = store.clone();
    let count = b.add_processor("Count", &[&again], move || Count { store: s.clone() })?;
    b.add_state_store(counts_store(&store, persistent), &["Count"])?;
    b.add_sink("Sink", output, StringSerde, I64Serde, &[&count])?;
    Ok(b.build()?)
}

/// Create the workaround's repartition topic as Kafka Streams creates one (delete policy,
/// infinite retention, 50 MB segments), unless it exists.
async fn create_repartition_topic(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<(), Box<dyn std::error::Error>> {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await?;
    if !admin.list_topics().await?.iter().any(|t| t == topic) {
        let mut t = NewTopic::new(topic, partitions, 1);
        for (k, v) in [
            ("cleanup.policy", "delete"),
            ("retention.ms", "-1"),
            ("segment.bytes", "52428800"),
            ("message.timestamp.type", "CreateTime"),
        ] {
            t.configs.insert(k.into(), v.into());
        }
        admin.create_topic(t).await?;
    }
    admin.wait_for_leaders(&[topic.to_owned()]).await?;
    Ok(())
}

/// Source(input) → Count(store `counts`) → Sink(output).
fn count_topology(
    input: &str,
    output: &str,
    persistent: bool,
) -> Result<Topology, Box<dyn std::error::Error>> {
    let store = StoreHandle::new("counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let source = b.add_source::<String, String>("Source", &[input], StringSerde, StringSerde)?;
    let s = store.clone();
    let count = b.add_processor("Count", &[&source], move || Count { store: s.clone() })?;
    b.add_state_store(counts_store(&store, persistent), &["Count"])?;
    b.add_sink("Sink", output, StringSerde, I64Serde, &[&count])?;
    Ok(b.build()?)
}

/// The settings every side gets (ours: through `StreamsConfig::set`).
fn our_config(
    bootstrap: &str,
    app: &str,
    threads: usize,
    guarantee: &str,
    state_dir: &str,
) -> Result<StreamsConfig, Box<dyn std::error::Error>> {
    let mut config = StreamsConfig::new(app, bootstrap);
    config.set("num.stream.threads", &threads.to_string())?;
    config.set("processing.guarantee", guarantee)?;
    config.set("commit.interval.ms", &COMMIT_MS.to_string())?;
    config.set("statestore.cache.max.bytes", &CACHE_BYTES.to_string())?;
    config.set("state.dir", state_dir)?;
    config.set("auto.offset.reset", "earliest")?;
    // Diagnostics only (never in the measured runs): extra settings for ours.
    if let Ok(extra) = std::env::var("BENCH_OURS_SET") {
        for kv in extra.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or("BENCH_OURS_SET: key=value,...")?;
            config.set(k, v)?;
        }
    }
    Ok(config)
}

/// `bench streams-throughput-child <topology> <bootstrap> <app> <input> <output> <threads>
/// <guarantee> <state dir> <persistent|memory> <input partitions>`: our application, until
/// stdin closes. Prints `state <FROM> -> <TO>`; exits 3 if the application went to ERROR.
/// `BENCH_INTERNAL_REPARTITION=1`: declare the repartition topic internal (see
/// [`Repartition`]).
pub(crate) fn child(args: &[String]) {
    let get = |i: usize| args.get(i).cloned().unwrap_or_default();
    let (topology, bootstrap, app, input, output) = (get(0), get(1), get(2), get(3), get(4));
    let threads: usize = get(5).parse().expect("threads");
    let (guarantee, state_dir, store) = (get(6), get(7), get(8));
    let partitions: i32 = get(9).parse().expect("input partitions");
    let persistent = store != "memory";
    let repartition = if std::env::var_os("BENCH_INTERNAL_REPARTITION").is_some() {
        Repartition::Internal
    } else {
        Repartition::External(format!("{app}-counts-rekeyed"))
    };
    if let (Repartition::External(topic), "wordcount") = (&repartition, topology.as_str()) {
        tokio::runtime::Handle::current()
            .block_on(create_repartition_topic(&bootstrap, topic, partitions))
            .unwrap_or_else(|e| panic!("create {topic}: {e}"));
    }
    let topology = match topology.as_str() {
        "wordcount" => wordcount_topology(&input, &output, persistent, &repartition),
        "count" => count_topology(&input, &output, persistent),
        other => panic!("unknown topology {other:?}"),
    }
    .expect("topology");
    let config = our_config(&bootstrap, &app, threads, &guarantee, &state_dir)
        .unwrap_or_else(|e| panic!("config: {e}"));
    let mut streams = KafkaStreams::new(topology, config).expect("KafkaStreams::new");
    let (tx, rx) = std::sync::mpsc::channel::<bool>();
    let failed = tx.clone();
    streams.set_state_listener(move |from, to| {
        println!("state {from:?} -> {to:?}");
        if to == State::Error {
            let _ = failed.send(true);
        }
    });
    std::thread::spawn(move || {
        let mut buf = String::new();
        while std::io::stdin()
            .read_line(&mut buf)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            buf.clear();
        }
        let _ = tx.send(false);
    });
    streams.start().expect("start");
    let error = rx.recv().unwrap_or(false);
    let closed = streams.close(Duration::from_secs(30));
    println!("closed {closed}");
    std::process::exit(if error { 3 } else { 0 });
}

// ---- one measured run ---------------------------------------------------------------------------

/// What the output reader has seen.
#[derive(Debug, Default)]
struct Progress {
    first_output: Option<Instant>,
    done: Option<Instant>,
    records: u64,
    error: Option<String>,
}

/// Read `topic` (read_committed, from the beginning) until every key of `expected` has its
/// expected value as its latest value, or `stop`.
async fn read_output(
    bootstrap: String,
    topic: String,
    partitions: i32,
    expected: Arc<HashMap<String, i64>>,
    progress: Arc<Mutex<Progress>>,
    stop: Arc<AtomicBool>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut config = ConsumerConfig::new(&bootstrap);
    config
        .set("isolation.level", "read_committed")
        .expect("isolation.level");
    let mut consumer = Consumer::connect(config).await.expect("reader");
    let tps: Vec<TopicPartition> = (0..partitions)
        .map(|p| TopicPartition::new(&topic, p))
        .collect();
    consumer.assign(tps.clone());
    for tp in &tps {
        consumer.seek(tp, Offset::Beginning).expect("seek");
    }
    let _ = ready.send(());
    let mut latest: HashMap<String, i64> = HashMap::with_capacity(expected.len());
    let mut matched = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let records = match consumer.poll(Duration::from_millis(100)).await {
            Ok(r) => r,
            Err(e) => {
                progress.lock().expect("progress").error = Some(format!("reader: {e}"));
                return;
            }
        };
        if records.is_empty() {
            continue;
        }
        let now = Instant::now();
        for r in &records {
            let key = r
                .key
                .as_deref()
                .and_then(|k| std::str::from_utf8(k).ok())
                .unwrap_or("");
            let value = r
                .value
                .as_deref()
                .and_then(|v| <[u8; 8]>::try_from(v).ok())
                .map(i64::from_be_bytes);
            let (Some(want), Some(value)) = (expected.get(key), value) else {
                progress.lock().expect("progress").error = Some(format!(
                    "unexpected output record key {key:?} value {:?}",
                    r.value
                ));
                return;
            };
            let old = match latest.get_mut(key) {
                Some(slot) => Some(std::mem::replace(slot, value)),
                None => {
                    latest.insert(key.to_owned(), value);
                    None
                }
            };
            if old == Some(*want) {
                matched -= 1;
            }
            if value == *want {
                matched += 1;
            }
        }
        let mut p = progress.lock().expect("progress");
        p.records += records.len() as u64;
        p.first_output.get_or_insert(now);
        if matched == expected.len() {
            p.done = Some(now);
            return;
        }
    }
}

/// The first moment the group has a committed offset.
async fn watch_first_commit(
    admin: Admin,
    group: String,
    first: Arc<Mutex<Option<Instant>>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(offsets) = admin.list_group_offsets(&group, None).await {
            if offsets.values().any(|o| o.offset >= 0) {
                *first.lock().expect("first commit") = Some(Instant::now());
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// One run's figures.
#[derive(Debug, Clone)]
struct Measure {
    wall: f64,
    startup: Option<f64>,
    first_output: Option<f64>,
    cpu: Option<f64>,
    rss_mb: Option<f64>,
    broker_cpu: Option<f64>,
    /// CPU seconds the rest of the machine used meanwhile (every CPU's busy time from
    /// `/proc/stat`, less the application, the broker and this benchmark): how quiet it was.
    other_cpu: Option<f64>,
    out_records: u64,
}

/// Busy clock ticks of all CPUs so far (`/proc/stat`: user, nice, system, irq, softirq, steal).
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let f: Vec<u64> = cpu
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    Some(f.first()? + f.get(1)? + f.get(2)? + f.get(5)? + f.get(6)? + f.get(7).unwrap_or(&0))
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Where the Java and Quix programs are, found once.
struct Peers {
    java_classpath: Option<String>,
    quix_python: Option<String>,
}

fn script_output(script: &Path, arg: &str) -> Result<String, String> {
    let out = Command::new(script)
        .arg(arg)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} {arg} failed", script.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Everything one run needs to know.
struct RunSpec<'a> {
    side: Side,
    topo: Topo,
    shape: Shape,
    guarantee: Guarantee,
    app: String,
    input_topic: &'a str,
    expected: Arc<HashMap<String, i64>>,
    work_dir: &'a Path,
    perf: Option<&'a Path>,
}

/// The commands to start (one, or one per thread for Quix).
fn commands(o: &Options, peers: &Peers, spec: &RunSpec<'_>, output: &str) -> Vec<Command> {
    let state = spec.work_dir.join(format!("{}-state", spec.app));
    let threads = spec.shape.threads;
    match spec.side {
        Side::Ours => {
            let exe = std::env::current_exe().expect("current exe");
            // Diagnostics only: BENCH_OURS_WRAP="heaptrack -o /tmp/ht" runs ours under a tool
            // (its CPU and RSS are then the tool's process').
            let wrap = std::env::var("BENCH_OURS_WRAP").unwrap_or_default();
            let mut words = wrap.split_whitespace();
            let mut c = match words.next() {
                Some(tool) => {
                    let mut c = Command::new(tool);
                    c.args(words).arg(&exe);
                    c
                }
                None => Command::new(&exe),
            };
            c.arg("streams-throughput-child").args([
                spec.topo.name(),
                &o.bootstrap,
                &spec.app,
                spec.input_topic,
                output,
                &threads.to_string(),
                spec.guarantee.kafka(),
                &state.display().to_string(),
                &o.store,
                &spec.shape.partitions.to_string(),
            ]);
            vec![c]
        }
        Side::Java => {
            let mut c = Command::new("java");
            if o.java_xmx != "default" {
                c.arg(format!("-Xmx{}", o.java_xmx));
            }
            c.args([
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                peers.java_classpath.as_deref().expect("java classpath"),
                "StreamsThroughputBench",
                "--bootstrap",
                &o.bootstrap,
                "--app",
                &spec.app,
                "--topology",
                spec.topo.name(),
                "--input",
                spec.input_topic,
                "--output",
                output,
                "--threads",
                &threads.to_string(),
                "--guarantee",
                spec.guarantee.kafka(),
                "--cache-bytes",
                &CACHE_BYTES.to_string(),
                "--commit-ms",
                &COMMIT_MS.to_string(),
                "--state-dir",
                &state.display().to_string(),
            ]);
            vec![c]
        }
        Side::Quix => (0..threads)
            .map(|i| {
                let mut c = Command::new(peers.quix_python.as_deref().expect("quix python"));
                c.arg(bench_dir().join("quix/streams_bench.py")).args([
                    "--bootstrap",
                    &o.bootstrap,
                    "--app",
                    &spec.app,
                    "--topology",
                    spec.topo.name(),
                    "--input",
                    spec.input_topic,
                    "--output",
                    output,
                    "--guarantee",
                    spec.guarantee.quix(),
                    "--commit-s",
                    &format!("{}", COMMIT_MS as f64 / 1000.0),
                    "--state-dir",
                    &state.join(i.to_string()).display().to_string(),
                ]);
                c
            })
            .collect(),
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Delete the run's topics (output, and every topic named after the application).
async fn cleanup(admin: &Admin, app: &str, output: &str) {
    let Ok(topics) = admin.list_topics().await else {
        return;
    };
    let mine: Vec<&str> = topics
        .iter()
        .filter(|t| t.contains(app) || t.as_str() == output)
        .map(String::as_str)
        .collect();
    if !mine.is_empty() {
        let _ = admin.delete_topics(&mine).await;
    }
}

/// Close the children's stdin, give them `grace` to close, then kill what is left.
fn stop_children(children: &mut [Child], grace: Duration) {
    for c in children.iter_mut() {
        drop(c.stdin.take());
    }
    let until = Instant::now() + grace;
    for c in children.iter_mut() {
        loop {
            match c.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
            }
        }
    }
}

async fn run_one(
    o: &Options,
    peers: &Peers,
    admin: &Admin,
    broker: &BrokerCpu,
    spec: &RunSpec<'_>,
) -> Result<Measure, String> {
    let output = format!("{}-out", spec.app);
    admin
        .create_topic(NewTopic::new(&output, spec.shape.partitions, 1))
        .await
        .map_err(|e| format!("create {output}: {e}"))?;
    admin
        .wait_for_leaders(std::slice::from_ref(&output))
        .await
        .map_err(|e| format!("leaders of {output}: {e}"))?;
    let progress = Arc::new(Mutex::new(Progress::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(read_output(
        o.bootstrap.clone(),
        output.clone(),
        spec.shape.partitions,
        spec.expected.clone(),
        progress.clone(),
        stop.clone(),
        ready_tx,
    ));
    ready_rx
        .await
        .map_err(|_| "the output reader did not start".to_string())?;
    let first_commit = Arc::new(Mutex::new(None));
    let commit_admin = Admin::connect(ClientConfig::new(&o.bootstrap))
        .await
        .map_err(|e| format!("admin: {e}"))?;
    let watcher = tokio::spawn(watch_first_commit(
        commit_admin,
        spec.app.clone(),
        first_commit.clone(),
        stop.clone(),
    ));

    let log = spec.work_dir.join(&spec.app);
    let mut children = Vec::new();
    let broker_before = broker.ticks();
    let machine_before = machine_busy_ticks();
    let self_before = crate::broker::cpu_ticks(std::process::id());
    let started = Instant::now();
    for (i, mut cmd) in commands(o, peers, spec, &output).into_iter().enumerate() {
        let out = std::fs::File::create(log.with_extension(format!("{i}.out")))
            .map_err(|e| format!("log: {e}"))?;
        let err = std::fs::File::create(log.with_extension(format!("{i}.err")))
            .map_err(|e| format!("log: {e}"))?;
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawn {:?}: {e}", cmd.get_program()))?;
        children.push(child);
    }
    let mut perf: Option<Child> = None;
    let timeout = o.timeout.mul_f64((o.lines as f64 / 200_000.0).max(0.25));
    let result = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        // perf attaches once the stream threads exist (it follows no thread created later):
        // at the first commit.
        if let (Some(file), None) = (spec.perf, &perf) {
            if first_commit.lock().expect("first commit").is_some() {
                perf = Some(
                    Command::new("perf")
                        .args(["record", "-g", "-q", "-o"])
                        .arg(file)
                        .args(["-p", &children[0].id().to_string()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("perf record (is /usr/bin/perf installed?)"),
                );
            }
        }
        let (done, error) = {
            let p = progress.lock().expect("progress");
            (p.done, p.error.clone())
        };
        if let Some(done) = done {
            let cpu: Option<u64> = children
                .iter()
                .map(|c| crate::broker::cpu_ticks(c.id()))
                .sum();
            let rss: Option<u64> = children.iter().map(|c| peak_rss_kb(c.id())).sum();
            let broker_after = broker.ticks();
            let machine = machine_busy_ticks()
                .zip(machine_before)
                .map(|(a, b)| a.saturating_sub(b));
            let own = crate::broker::cpu_ticks(std::process::id())
                .zip(self_before)
                .map(|(a, b)| a.saturating_sub(b));
            let broker_used = broker_after
                .zip(broker_before)
                .map(|(a, b)| a.saturating_sub(b));
            let other = (|| Some(machine?.saturating_sub(cpu? + own? + broker_used?)))()
                .map(|t| t as f64 / broker.ticks_per_second);
            let p = progress.lock().expect("progress");
            let since = |t: Instant| t.saturating_duration_since(started).as_secs_f64();
            let startup = *first_commit.lock().expect("first commit");
            break Ok(Measure {
                wall: since(done),
                startup: startup.map(since),
                first_output: p.first_output.map(since),
                cpu: cpu.map(|t| t as f64 / broker.ticks_per_second),
                rss_mb: rss.map(|kb| kb as f64 / 1024.0),
                broker_cpu: broker.seconds(broker_before, broker_after),
                other_cpu: other,
                out_records: p.records,
            });
        }
        if let Some(e) = error {
            break Err(e);
        }
        if let Some((i, status)) = children
            .iter_mut()
            .enumerate()
            .find_map(|(i, c)| c.try_wait().ok().flatten().map(|s| (i, s)))
        {
            break Err(format!(
                "process {i} exited ({status}) before the output was complete; stderr:\n{}",
                tail(&log.with_extension(format!("{i}.err")), 15)
            ));
        }
        if started.elapsed() > timeout {
            let p = progress.lock().expect("progress");
            break Err(format!(
                "timed out after {:?}: {} output records read",
                timeout, p.records
            ));
        }
    };
    if let Some(mut perf) = perf {
        // SIGINT makes perf write its file and exit.
        let _ = Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
    }
    stop.store(true, Ordering::Relaxed);
    stop_children(&mut children, Duration::from_secs(20));
    let _ = reader.await;
    let _ = watcher.await;
    cleanup(admin, &spec.app, &output).await;
    let _ = std::fs::remove_dir_all(spec.work_dir.join(format!("{}-state", spec.app)));
    if result.is_ok() {
        for i in 0..children.len() {
            let _ = std::fs::remove_file(log.with_extension(format!("{i}.out")));
            let _ = std::fs::remove_file(log.with_extension(format!("{i}.err")));
        }
    }
    result
}

// ---- the tables ---------------------------------------------------------------------------------

/// The median (the mean of the middle two for an even count).
fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn median_of(ms: &[Measure], f: impl Fn(&Measure) -> Option<f64>) -> Option<f64> {
    let known: Option<Vec<f64>> = ms.iter().map(f).collect();
    known.and_then(median)
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.decimals$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b.filter(|b| *b > 0.0)?)
}

/// Medians of one side in one configuration.
#[derive(Debug, Clone, Copy, Default)]
struct Medians {
    rate: Option<f64>,
    cpu: Option<f64>,
    rss: Option<f64>,
    startup: Option<f64>,
}

type Key = (Topo, Shape, Guarantee);

fn print_header() {
    println!(
        "{:<5} {:>5} {:>8} {:>8} {:>8} {:>10} {:>11} {:>10} {:>7} {:>8} {:>13} {:>9} {:>8}",
        "side",
        "round",
        "wall s",
        "start s",
        "1st out",
        "lines/s",
        "words/s",
        "lines/s/th",
        "CPU s",
        "RSS MB",
        "broker CPU s",
        "out recs",
        "other s"
    );
}

fn print_row(side: &str, round: &str, m: &Measure, lines: usize, words: usize, threads: usize) {
    let rate = lines as f64 / m.wall;
    println!(
        "{:<5} {:>5} {:>8.2} {:>8} {:>8} {:>10.0} {:>11.0} {:>10.0} {:>7} {:>8} {:>13} {:>9} {:>8}",
        side,
        round,
        m.wall,
        fmt(m.startup, 2),
        fmt(m.first_output, 2),
        rate,
        words as f64 / m.wall,
        rate / threads as f64,
        fmt(m.cpu, 2),
        fmt(m.rss_mb, 0),
        m.broker_cpu
            .map_or("n/a".into(), |b| format!("{b:.2} ({:.2}c)", b / m.wall)),
        m.out_records,
        fmt(m.other_cpu, 2)
    );
}

/// Print one configuration's runs, medians and ratios; return the medians per side.
fn print_config(
    key: Key,
    runs: &BTreeMap<Side, Vec<Result<Measure, String>>>,
    lines: usize,
    words: usize,
) -> BTreeMap<Side, Medians> {
    let (topo, shape, guarantee) = key;
    let words = if topo == Topo::WordCount {
        words
    } else {
        lines
    };
    println!(
        "\n== {} {} {} ({} lines, {} {}) ==",
        topo.name(),
        shape.name(),
        guarantee.name(),
        lines,
        words,
        if topo == Topo::WordCount {
            "words"
        } else {
            "records"
        }
    );
    print_header();
    let mut medians = BTreeMap::new();
    for (side, rs) in runs {
        let ok: Vec<Measure> = rs.iter().filter_map(|r| r.as_ref().ok()).cloned().collect();
        for (i, r) in rs.iter().enumerate() {
            match r {
                Ok(m) => print_row(side.name(), &i.to_string(), m, lines, words, shape.threads),
                Err(e) => println!(
                    "{:<5} {:>5} failed: {}",
                    side.name(),
                    i,
                    e.lines().next().unwrap_or("")
                ),
            }
        }
        if ok.is_empty() {
            continue;
        }
        let wall = median_of(&ok, |m| Some(m.wall));
        let med = Measure {
            wall: wall.unwrap_or(f64::NAN),
            startup: median_of(&ok, |m| m.startup),
            first_output: median_of(&ok, |m| m.first_output),
            cpu: median_of(&ok, |m| m.cpu),
            rss_mb: median_of(&ok, |m| m.rss_mb),
            broker_cpu: median_of(&ok, |m| m.broker_cpu),
            other_cpu: median_of(&ok, |m| m.other_cpu),
            out_records: ok[ok.len() / 2].out_records,
        };
        print_row(side.name(), "med", &med, lines, words, shape.threads);
        medians.insert(
            *side,
            Medians {
                rate: wall.map(|w| lines as f64 / w),
                cpu: med.cpu,
                rss: med.rss_mb,
                startup: med.startup,
            },
        );
    }
    if let Some(ours) = medians.get(&Side::Ours) {
        for peer in [Side::Java, Side::Quix] {
            if let Some(p) = medians.get(&peer) {
                println!(
                    "ours/{}: {}x records/s, {}x CPU s, {}x peak RSS, {}x start-up",
                    peer.name(),
                    fmt(ratio(ours.rate, p.rate), 2),
                    fmt(ratio(ours.cpu, p.cpu), 2),
                    fmt(ratio(ours.rss, p.rss), 2),
                    fmt(ratio(ours.startup, p.startup), 2),
                );
            }
        }
    }
    medians
}

/// The summary over every configuration, and the targets.
fn print_summary(all: &BTreeMap<Key, BTreeMap<Side, Medians>>) {
    println!("\n== summary (medians; rates in input lines/s) ==");
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "configuration",
        "ours/s",
        "java/s",
        "quix/s",
        "ours/java",
        "ours/quix",
        "CPU o/j",
        "ours CPU",
        "ours RSS",
        "eos/alos"
    );
    let get = |k: &Key, s: Side| all.get(k).and_then(|m| m.get(&s)).copied();
    let mut checks: Vec<(String, bool)> = Vec::new();
    for (key, sides) in all {
        let (topo, shape, guarantee) = *key;
        let ours = sides.get(&Side::Ours).copied().unwrap_or_default();
        let java = sides.get(&Side::Java).copied().unwrap_or_default();
        let quix = sides.get(&Side::Quix).copied().unwrap_or_default();
        let eos_cost = if guarantee == Guarantee::Eos {
            ratio(
                ours.rate,
                get(&(topo, shape, Guarantee::Alos), Side::Ours).and_then(|m| m.rate),
            )
        } else {
            None
        };
        let name = format!("{} {} {}", topo.name(), shape.name(), guarantee.name());
        println!(
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
            name,
            fmt(ours.rate, 0),
            fmt(java.rate, 0),
            fmt(quix.rate, 0),
            fmt(ratio(ours.rate, java.rate), 2),
            fmt(ratio(ours.rate, quix.rate), 2),
            fmt(ratio(ours.cpu, java.cpu), 2),
            fmt(ours.cpu, 2),
            fmt(ours.rss, 0),
            fmt(eos_cost, 2),
        );
        if let Some(r) = ratio(ours.rate, java.rate) {
            checks.push((
                format!("{name}: >= 2x Java's records/s ({r:.2}x)"),
                r >= 2.0,
            ));
        }
        if let Some(r) = ratio(ours.cpu, java.cpu) {
            checks.push((format!("{name}: <= 1/4 of Java's CPU ({r:.2}x)"), r <= 0.25));
        }
        if let Some(r) = ratio(ours.rate, quix.rate) {
            checks.push((
                format!("{name}: >= 20x Quix's records/s ({r:.1}x)"),
                r >= 20.0,
            ));
        }
        if let Some(rss) = ours.rss {
            checks.push((
                format!("{name}: peak RSS <= 50 MB ({rss:.0} MB)"),
                rss <= 50.0,
            ));
        }
        if let Some(r) = eos_cost {
            checks.push((
                format!(
                    "{name}: exactly-once >= 90 % of at-least-once ({:.0} %)",
                    r * 100.0
                ),
                r >= 0.9,
            ));
        }
    }
    println!("\ntargets:");
    for (what, met) in &checks {
        println!("  [{}] {what}", if *met { "met" } else { "NOT met" });
    }
}

// ---- the driver -------------------------------------------------------------------------------

pub(crate) async fn run(args: &[String]) {
    let o = match parse_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench streams-throughput: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let peers = Peers {
        java_classpath: o.sides.contains(&Side::Java).then(|| {
            script_output(&bench_dir().join("java/run-streams-bench"), "classpath")
                .expect("the Java side")
        }),
        quix_python: o.sides.contains(&Side::Quix).then(|| {
            script_output(&bench_dir().join("quix/run-quix-bench"), "python")
                .expect("the Quix side")
        }),
    };
    // Ours under exactly-once only if this build accepts it.
    let ours_eos = our_config(&o.bootstrap, "probe", 1, "exactly_once_v2", "/tmp").err();
    if let Some(e) = &ours_eos {
        eprintln!(
            "ours: exactly_once_v2 is not available in this build ({e}); ours is skipped under eos"
        );
    }
    let admin = Admin::connect(ClientConfig::new(&o.bootstrap))
        .await
        .expect("admin");
    let broker = BrokerCpu::find(&o.bootstrap);
    let work_dir = std::env::temp_dir().join(format!("bench-streams-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).expect("work dir");
    let started = Instant::now();
    println!(
        "streams-throughput: {} rounds, {} lines x {WORDS_PER_LINE} words (w0..w{}), keys k0..k{}; commit.interval.ms {COMMIT_MS}, statestore.cache.max.bytes {CACHE_BYTES}, our store {}; Java -Xmx{}; {}; {} cores; logs of failed runs in {}",
        o.rounds,
        o.lines,
        VOCABULARY - 1,
        KEYS - 1,
        o.store,
        o.java_xmx,
        broker.describe(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        work_dir.display()
    );
    println!(
        "columns: wall = spawn to the last correct count read (read_committed); start = spawn to the group's first committed offset; 1st out = to the first output record; lines/s and words/s = input / wall; CPU s and RSS MB = the application's user+sys seconds and peak RSS (VmHWM) when done (Quix 4p2t: 2 processes, summed); broker CPU s (cores busy); out recs = output records read; other s = CPU seconds of everything else on the machine meanwhile. Load average at start: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let input = generate(o.lines);
    let word_counts = Arc::new(input.word_counts.clone());
    let key_counts = Arc::new(input.key_counts.clone());
    let mut all: BTreeMap<Key, BTreeMap<Side, Medians>> = BTreeMap::new();
    let tag = std::process::id();
    for shape in &o.shapes {
        let input_topic = format!("bench-st-{tag}-in-{}", shape.partitions);
        preload(&o.bootstrap, &admin, &input_topic, shape.partitions, &input).await;
        for topo in &o.topologies {
            for guarantee in &o.guarantees {
                let key = (*topo, *shape, *guarantee);
                let mut runs: BTreeMap<Side, Vec<Result<Measure, String>>> = BTreeMap::new();
                for round in 0..o.rounds {
                    for side in &o.sides {
                        if *side == Side::Ours && *guarantee == Guarantee::Eos {
                            if let Some(e) = &ours_eos {
                                runs.entry(*side)
                                    .or_default()
                                    .push(Err(format!("exactly_once_v2 not available: {e}")));
                                continue;
                            }
                        }
                        let spec = RunSpec {
                            side: *side,
                            topo: *topo,
                            shape: *shape,
                            guarantee: *guarantee,
                            app: format!(
                                "bench-st-{tag}-{}-{}-{}-{round}-{}",
                                topo.name(),
                                shape.name(),
                                guarantee.name(),
                                side.name()
                            ),
                            input_topic: &input_topic,
                            expected: match topo {
                                Topo::WordCount => word_counts.clone(),
                                Topo::Count => key_counts.clone(),
                            },
                            work_dir: &work_dir,
                            perf: None,
                        };
                        let r = run_one(&o, &peers, &admin, &broker, &spec).await;
                        match &r {
                            Ok(m) => eprintln!(
                                "[{:>4.0} s] {} {} {} round {round} {}: {:.2} s, {} lines/s",
                                started.elapsed().as_secs_f64(),
                                topo.name(),
                                shape.name(),
                                guarantee.name(),
                                side.name(),
                                m.wall,
                                (o.lines as f64 / m.wall) as u64
                            ),
                            Err(e) => eprintln!(
                                "[{:>4.0} s] {} {} {} round {round} {}: FAILED {e}",
                                started.elapsed().as_secs_f64(),
                                topo.name(),
                                shape.name(),
                                guarantee.name(),
                                side.name()
                            ),
                        }
                        runs.entry(*side).or_default().push(r);
                    }
                }
                let medians = print_config(key, &runs, o.lines, input.words);
                all.insert(key, medians);
            }
        }
        if o.perf.is_none() || Some(shape) != o.shapes.first() {
            let _ = admin.delete_topics(&[&input_topic]).await;
        }
    }
    print_summary(&all);
    if let (Some(file), Some(shape)) = (&o.perf, o.shapes.first()) {
        let input_topic = format!("bench-st-{tag}-in-{}", shape.partitions);
        let spec = RunSpec {
            side: Side::Ours,
            topo: Topo::WordCount,
            shape: *shape,
            guarantee: Guarantee::Alos,
            app: format!("bench-st-{tag}-perf"),
            input_topic: &input_topic,
            expected: word_counts.clone(),
            work_dir: &work_dir,
            perf: Some(file),
        };
        match run_one(&o, &peers, &admin, &broker, &spec).await {
            Ok(m) => {
                println!(
                    "\nprofiled run (ours, wordcount {} alos, under perf record -g): {}",
                    shape.name(),
                    file.display()
                );
                print_header();
                print_row("ours", "perf", &m, o.lines, input.words, shape.threads);
            }
            Err(e) => println!("\nprofiled run failed: {e}"),
        }
        let _ = admin.delete_topics(&[&input_topic]).await;
    }
    println!("\ntotal {:.0} s", started.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir(&work_dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_shapes() {
        let o = parse_options(&[]).unwrap();
        assert_eq!(
            (o.rounds, o.lines, o.sides.len(), o.shapes.len()),
            (2, 200_000, 3, 2)
        );
        let args: Vec<String> = ["h:1", "--quick", "--shapes", "4p2t", "--sides", "ours,java"]
            .map(String::from)
            .to_vec();
        let o = parse_options(&args).unwrap();
        assert_eq!(o.bootstrap, "h:1");
        assert_eq!((o.rounds, o.lines), (1, 50_000));
        assert_eq!(
            o.shapes,
            [Shape {
                partitions: 4,
                threads: 2
            }]
        );
        assert_eq!(o.sides, [Side::Ours, Side::Java]);
        assert!(parse_options(&["--shapes".into(), "4x2".into()]).is_err());
        assert!(parse_options(&["--rounds".into()]).is_err());
    }

    #[test]
    fn the_input_is_deterministic_and_counted() {
        let a = generate(1000);
        let b = generate(1000);
        assert_eq!(a.lines, b.lines);
        assert_eq!(a.words, 10_000);
        assert_eq!(a.word_counts.values().sum::<i64>(), 10_000);
        assert_eq!(a.key_counts.values().sum::<i64>(), 1000);
        assert!(a.lines[0].1.split(' ').all(|w| w.starts_with('w')));
    }
}
