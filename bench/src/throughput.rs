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
//! - `windowed`: the input record's key counted in tumbling 5-minute windows without grace
//!   (`groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(5 min)).count()`), written with
//!   Kafka's time-windowed key serde (key ‖ 8-byte window start). Ours is written with the DSL.
//! - `join`: the input stream joined with a table (`stream.join(table, (line, profile) ->
//!   line + "," + profile)`), the table topic `bench-st-<pid>-table-<partitions>` holding one
//!   record per key `k0..k4999`, written before the input and stamped before it (so every
//!   side reads it first). Ours is written with the DSL. (Quix runs neither of these two.)
//!
//! The input (`lines` lines of 10 words drawn from `w0..w4999`, keys `k0..k4999`, from a
//! seeded generator; line `i` stamped `INPUT_BASE_TS + 10 ms * i`) is written once per shape
//! before any application starts. Shapes: 1 input
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

use crate::measure::peak_rss_kb;
use crate::BrokerCpu;

mod app;
mod report;
mod runs;
pub(crate) use app::child;
use app::*;
use report::*;
use runs::*;

/// Words per line and the vocabulary (`w0..w4999`); line keys are `k0..k4999`.
const WORDS_PER_LINE: usize = 10;
const VOCABULARY: u64 = 5000;
const KEYS: u64 = 5000;
/// `statestore.cache.max.bytes` on every side (Java and ours divide it over the threads).
const CACHE_BYTES: usize = 10 * 1024 * 1024;
const COMMIT_MS: u64 = 100;
/// The first input line's timestamp (2023-11-14T22:15:00Z, a multiple of the window size);
/// each further line 10 ms later.
const INPUT_BASE_TS: i64 = 1_700_000_100_000;
const INPUT_STEP_MS: i64 = 10;
/// The `windowed` topology's tumbling window.
const WINDOW_MS: i64 = 5 * 60 * 1000;

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
    Windowed,
    Join,
}

impl Topo {
    fn name(self) -> &'static str {
        match self {
            Topo::WordCount => "wordcount",
            Topo::Count => "count",
            Topo::Windowed => "windowed",
            Topo::Join => "join",
        }
    }
    /// Whether `bench/quix/streams_bench.py` has this topology.
    fn in_quix(self) -> bool {
        matches!(self, Topo::WordCount | Topo::Count)
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
                    "windowed" => Some(Topo::Windowed),
                    "join" => Some(Topo::Join),
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

const USAGE: &str = "usage: bench streams-throughput [bootstrap=127.0.0.1:19092] [--quick (1 round, 50k lines)] [--rounds 2] [--lines 200000] [--sides ours,java,quix] [--topologies wordcount,count,windowed,join] [--shapes 1p1t,4p2t] [--guarantees alos,eos] [--store persistent|memory] [--perf FILE] [--timeout-s 300] [--java-xmx 256m|default]";

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

/// What a topology's output must hold at the end: each key's (bytes) latest value (bytes).
type Expected = HashMap<Vec<u8>, Vec<u8>>;

/// The generated lines (key, line, timestamp), and the final output every side must reach.
struct Input {
    lines: Vec<(String, String, i64)>,
    words: usize,
    word_counts: Expected,
    key_counts: Expected,
    /// Per key and 5-minute window (Kafka's time-windowed key: key ‖ start), the count.
    window_counts: Expected,
    /// Per key, its last line joined with its profile (`line,profile-<n>`).
    joined: Expected,
}

/// The `join` topology's table: `k<n>` → `profile-<n>` for every key.
fn profile(key_index: u64) -> String {
    format!("profile-{key_index}")
}

fn counts(map: HashMap<Vec<u8>, i64>) -> Expected {
    map.into_iter()
        .map(|(k, n)| (k, n.to_be_bytes().to_vec()))
        .collect()
}

fn generate(lines: usize) -> Input {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(lines);
    let mut word_counts: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut key_counts: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut window_counts: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut joined = Expected::new();
    for i in 0..lines {
        let key_index = rng.next() % KEYS;
        let key = format!("k{key_index}");
        let ts = INPUT_BASE_TS + INPUT_STEP_MS * i as i64;
        let mut line = String::with_capacity(WORDS_PER_LINE * 6);
        for w in 0..WORDS_PER_LINE {
            if w > 0 {
                line.push(' ');
            }
            let word = format!("w{}", rng.next() % VOCABULARY);
            line.push_str(&word);
            *word_counts.entry(word.into_bytes()).or_default() += 1;
        }
        *key_counts.entry(key.clone().into_bytes()).or_default() += 1;
        let mut windowed = key.clone().into_bytes();
        windowed.extend_from_slice(&(ts - ts.rem_euclid(WINDOW_MS)).to_be_bytes());
        *window_counts.entry(windowed).or_default() += 1;
        joined.insert(
            key.clone().into_bytes(),
            format!("{line},{}", profile(key_index)).into_bytes(),
        );
        out.push((key, line, ts));
    }
    Input {
        lines: out,
        words: lines * WORDS_PER_LINE,
        word_counts: counts(word_counts),
        key_counts: counts(key_counts),
        window_counts: counts(window_counts),
        joined,
    }
}

/// Create `topic` with `partitions` and write `records` (key, value, timestamp) into it
/// (keyed: Java's partitioner).
async fn preload(
    bootstrap: &str,
    admin: &Admin,
    topic: &str,
    partitions: i32,
    records: &[(String, String, i64)],
) {
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
    for (k, v, ts) in records {
        let r = ProducerRecord::new(topic)
            .key(k.clone())
            .value(v.clone())
            .timestamp(*ts);
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
    expected: Arc<Expected>,
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
    let mut latest: Expected = HashMap::with_capacity(expected.len());
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
            let key = r.key.as_deref().unwrap_or_default();
            let value = r.value.as_deref().unwrap_or_default();
            let Some(want) = expected.get(key) else {
                progress.lock().expect("progress").error = Some(format!(
                    "unexpected output record key {:?} value {:?}",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(value)
                ));
                return;
            };
            let was_right = match latest.get_mut(key) {
                Some(slot) => {
                    let was = slot.as_slice() == want.as_slice();
                    slot.clear();
                    slot.extend_from_slice(value);
                    was
                }
                None => {
                    latest.insert(key.to_vec(), value.to_vec());
                    false
                }
            };
            let is_right = value == want.as_slice();
            match (was_right, is_right) {
                (true, false) => matched -= 1,
                (false, true) => matched += 1,
                _ => {}
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
    let window_counts = Arc::new(input.window_counts.clone());
    let joined = Arc::new(input.joined.clone());
    let mut all: BTreeMap<Key, BTreeMap<Side, Medians>> = BTreeMap::new();
    let tag = std::process::id();
    for shape in &o.shapes {
        let input_topic = format!("bench-st-{tag}-in-{}", shape.partitions);
        preload(
            &o.bootstrap,
            &admin,
            &input_topic,
            shape.partitions,
            &input.lines,
        )
        .await;
        let table_topic = format!("bench-st-{tag}-table-{}", shape.partitions);
        if o.topologies.contains(&Topo::Join) {
            // Stamped before the first line: every side reads the table first.
            let table: Vec<(String, String, i64)> = (0..KEYS)
                .map(|k| (format!("k{k}"), profile(k), INPUT_BASE_TS - 1000))
                .collect();
            preload(&o.bootstrap, &admin, &table_topic, shape.partitions, &table).await;
        }
        for topo in &o.topologies {
            for guarantee in &o.guarantees {
                let key = (*topo, *shape, *guarantee);
                let mut runs: BTreeMap<Side, Vec<Result<Measure, String>>> = BTreeMap::new();
                for round in 0..o.rounds {
                    for side in &o.sides {
                        if *side == Side::Quix && !topo.in_quix() {
                            continue;
                        }
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
                            table_topic: &table_topic,
                            expected: match topo {
                                Topo::WordCount => word_counts.clone(),
                                Topo::Count => key_counts.clone(),
                                Topo::Windowed => window_counts.clone(),
                                Topo::Join => joined.clone(),
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
        if o.topologies.contains(&Topo::Join) {
            let _ = admin.delete_topics(&[&table_topic]).await;
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
            table_topic: "",
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
        let total = |e: &Expected| -> i64 {
            e.values()
                .map(|v| i64::from_be_bytes(v.as_slice().try_into().unwrap()))
                .sum()
        };
        assert_eq!(total(&a.word_counts), 10_000);
        assert_eq!(total(&a.key_counts), 1000);
        assert_eq!(total(&a.window_counts), 1000);
        assert_eq!(a.joined.len(), a.key_counts.len());
        assert!(a.lines[0].1.split(' ').all(|w| w.starts_with('w')));
        // 1000 lines 10 ms apart from a window's start: all in the first 5-minute window
        // (10 s), keyed `k<n>` ‖ the window's start.
        let (k, _, ts) = &a.lines[999];
        assert_eq!(*ts, INPUT_BASE_TS + 9990);
        let mut windowed = k.clone().into_bytes();
        windowed.extend_from_slice(&INPUT_BASE_TS.to_be_bytes());
        assert!(a.window_counts.contains_key(&windowed));
    }
}
