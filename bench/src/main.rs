//! `bench run`: produce and consume benchmarks of kafka-wire, rust-rdkafka, rskafka and the Java
//! client on one broker, interleaved, several rounds; each client runs in its own process under
//! `/usr/bin/time` so wall time, CPU seconds and peak RSS are measured the same way for all.
//! The broker's own CPU seconds during each run are read from `/proc/<pid>/stat` of its JVM
//! (see `bench::broker`; "n/a" when it cannot be found), to show when the broker is the
//! bottleneck rather than the client.
//!
//! `bench produce|consume <client> <bootstrap> <topic> <count> <size> <keyed>` is one run of one
//! client (what `run` spawns); it prints `elapsed <seconds>`.
//!
//! `bench txn [bootstrap] [rounds] [scale]`: the cost of transactions (see `txn.rs`), alone.
//!
//! `bench streams-throughput [bootstrap] [options]`: our streams runtime against Java Kafka
//! Streams and Quix Streams on WordCount, a stateful count, a windowed count and a stream–table
//! join (see `throughput.rs`).
//!
//! `bench streams-pageview [bootstrap] [options]`: Kafka's PageView demos (604 800 window updates
//! per page view), ours against Java's (see `pageview.rs`).
//!
//! With `KAFKA_WIRE_BENCH_BEFORE=<path of a bench binary built from an earlier commit>`, `run`
//! adds the client `kw-before`: that binary's kafka-wire, interleaved with today's in the same
//! rounds, so a change is measured before and after on the same broker in the same run.

use std::collections::{BTreeMap, VecDeque};
use std::process::Command;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

use bench::broker::{self, Broker};

/// Wall-clock milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

mod measure;
mod pageview;
mod restore;
mod streams;
mod throughput;
mod txn;

const CLIENTS: [&str; 4] = ["kafka-wire", "rdkafka", "rskafka", "java"];

/// The clients of a run: [`CLIENTS`], plus `kw-before` when `KAFKA_WIRE_BENCH_BEFORE` names an
/// earlier build of this benchmark.
fn clients() -> Vec<&'static str> {
    let mut clients = CLIENTS.to_vec();
    if before_binary().is_some() {
        clients.insert(1, "kw-before");
    }
    clients
}

fn before_binary() -> Option<std::path::PathBuf> {
    std::env::var_os("KAFKA_WIRE_BENCH_BEFORE").map(Into::into)
}

fn value(size: usize, i: usize) -> Vec<u8> {
    let mut v = vec![b'x'; size];
    let s = i.to_string();
    let n = s.len().min(size);
    v[..n].copy_from_slice(&s.as_bytes()[..n]);
    v
}

fn key(keyed: bool, i: usize) -> Option<String> {
    keyed.then(|| format!("key-{:08}", i % 10_000))
}

/// kafka-wire's producer settings in every produce workload (the same as the peers').
fn kw_producer_config(bootstrap: &str) -> ProducerConfig {
    let mut config = ProducerConfig::new(bootstrap);
    config
        .set("linger.ms", "5")
        .unwrap()
        .set("batch.size", "65536")
        .unwrap();
    config
}

async fn produce_kw(bootstrap: &str, topic: &str, count: usize, size: usize, keyed: bool) {
    let producer = Producer::connect(kw_producer_config(bootstrap))
        .await
        .unwrap();
    let mut window = VecDeque::with_capacity(20_000);
    for i in 0..count {
        let mut r = ProducerRecord::new(topic).value(value(size, i));
        if let Some(k) = key(keyed, i) {
            r = r.key(k);
        }
        window.push_back(producer.send(r).await.unwrap());
        if window.len() >= 20_000 {
            window.pop_front().unwrap().await.unwrap();
        }
    }
    for d in window {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

type RdProducer = rdkafka::producer::ThreadedProducer<rdkafka::producer::DefaultProducerContext>;

/// rust-rdkafka's producer settings in every produce workload (the same as the others').
fn rdkafka_producer_config(bootstrap: &str) -> rdkafka::config::ClientConfig {
    let mut config = rdkafka::config::ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("batch.size", "65536")
        .set("queue.buffering.max.messages", "1000000");
    config
}

/// Queue one record with rust-rdkafka, waiting while its queue is full.
fn rdkafka_send(producer: &RdProducer, topic: &str, v: &[u8], k: Option<&str>) {
    use rdkafka::producer::BaseRecord;
    loop {
        let mut rec: BaseRecord<'_, str, [u8]> = BaseRecord::to(topic).payload(v);
        if let Some(k) = k {
            rec = rec.key(k);
        }
        match producer.send(rec) {
            Ok(()) => break,
            Err((e, _)) => {
                if !matches!(
                    e.rdkafka_error_code(),
                    Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                ) {
                    panic!("rdkafka send: {e}");
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

fn produce_rdkafka(bootstrap: &str, topic: &str, count: usize, size: usize, keyed: bool) {
    use rdkafka::producer::Producer as _;
    let producer: RdProducer = rdkafka_producer_config(bootstrap).create().unwrap();
    for i in 0..count {
        let v = value(size, i);
        let k = key(keyed, i);
        rdkafka_send(&producer, topic, &v, k.as_deref());
    }
    producer.flush(Duration::from_secs(120)).unwrap();
}

async fn produce_rskafka(bootstrap: &str, topic: &str, count: usize, size: usize, keyed: bool) {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    use rskafka::client::partition::{Compression, UnknownTopicHandling};
    use rskafka::client::producer::{aggregator::RecordAggregator, BatchProducerBuilder};
    use rskafka::client::ClientBuilder;
    let client = ClientBuilder::new(vec![bootstrap.to_owned()])
        .build()
        .await
        .unwrap();
    let pc = client
        .partition_client(topic.to_owned(), 0, UnknownTopicHandling::Retry)
        .await
        .unwrap();
    let producer = BatchProducerBuilder::new(std::sync::Arc::new(pc))
        .with_linger(Duration::from_millis(5))
        .with_compression(Compression::NoCompression)
        .build(RecordAggregator::new(65_536));
    let mut pending = FuturesUnordered::new();
    for i in 0..count {
        let record = rskafka::record::Record {
            key: key(keyed, i).map(String::into_bytes),
            value: Some(value(size, i)),
            headers: Default::default(),
            timestamp: chrono::Utc::now(),
        };
        pending.push(producer.produce(record));
        if pending.len() >= 20_000 {
            pending.next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = pending.next().await {
        r.unwrap();
    }
}

async fn consume_kw(bootstrap: &str, topic: &str, count: usize) {
    let mut consumer = Consumer::connect(ConsumerConfig::new(bootstrap))
        .await
        .unwrap();
    let tp = TopicPartition::new(topic, 0);
    consumer.assign([tp.clone()]);
    consumer.seek(&tp, Offset::Beginning).unwrap();
    let mut n = 0;
    while n < count {
        n += consumer.poll(Duration::from_secs(5)).await.unwrap().len();
    }
}

fn consume_rdkafka(bootstrap: &str, topic: &str, count: usize) {
    use rdkafka::config::ClientConfig as RdConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
    let consumer: BaseConsumer = RdConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-rdkafka")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, rdkafka::Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut n = 0;
    while n < count {
        if let Some(m) = consumer.poll(Duration::from_secs(5)) {
            m.unwrap();
            n += 1;
        }
    }
}

async fn consume_rskafka(bootstrap: &str, topic: &str, count: usize) {
    use rskafka::client::partition::UnknownTopicHandling;
    use rskafka::client::ClientBuilder;
    let client = ClientBuilder::new(vec![bootstrap.to_owned()])
        .build()
        .await
        .unwrap();
    let pc = client
        .partition_client(topic.to_owned(), 0, UnknownTopicHandling::Retry)
        .await
        .unwrap();
    let (mut n, mut offset) = (0, 0);
    while n < count {
        let (records, _) = pc.fetch_records(offset, 1..52_428_800, 500).await.unwrap();
        for r in &records {
            offset = r.offset + 1;
        }
        n += records.len();
    }
}

/// One measured run: wall seconds, user+sys CPU seconds, peak RSS in MB, and the broker's
/// CPU seconds during the run (`None` when it could not be read).
#[derive(Debug, Clone, Copy)]
struct Measure {
    wall: f64,
    cpu: f64,
    rss_mb: f64,
    broker_cpu: Option<f64>,
}

/// The broker whose CPU time is measured around each run, and `/proc`'s clock ticks per second.
#[derive(Debug)]
struct BrokerCpu {
    broker: Option<Broker>,
    ticks_per_second: f64,
    ticks_assumed: bool,
}

impl BrokerCpu {
    fn find(bootstrap: &str) -> Self {
        let (ticks_per_second, ticks_assumed) = broker::clock_ticks();
        BrokerCpu {
            broker: broker::find(broker::bootstrap_port(bootstrap)),
            ticks_per_second,
            ticks_assumed,
        }
    }

    fn ticks(&self) -> Option<u64> {
        broker::cpu_ticks(self.broker.as_ref()?.pid)
    }

    /// CPU seconds between two readings of [`ticks`](Self::ticks).
    fn seconds(&self, before: Option<u64>, after: Option<u64>) -> Option<f64> {
        let used = after?.checked_sub(before?)?;
        Some(used as f64 / self.ticks_per_second)
    }

    fn describe(&self) -> String {
        let tck = format!(
            "CLK_TCK {}{}",
            self.ticks_per_second,
            if self.ticks_assumed {
                " (assumed: getconf failed)"
            } else {
                ""
            }
        );
        match &self.broker {
            Some(b) => format!("broker pid {} (found by {}), {tck}", b.pid, b.found_by),
            None => format!(
                "broker process not found (set KAFKA_WIRE_BROKER_PID): broker CPU is n/a, {tck}"
            ),
        }
    }
}

fn timed(cmd: &mut Command) -> Measure {
    try_timed(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// Run `cmd` (a `/usr/bin/time -f "TIME %e %U %S %M" …` command) and parse its measure; a
/// failed run is an error carrying its stderr.
fn try_timed(cmd: &mut Command) -> Result<Measure, String> {
    let out = cmd.output().map_err(|e| format!("spawn: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("benchmark run failed: {stderr}"));
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("TIME "))
        .ok_or_else(|| format!("no /usr/bin/time output: {stderr}"))?;
    let f: Vec<f64> = last[5..]
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if f.len() < 4 {
        return Err(format!("unreadable /usr/bin/time output: {last}"));
    }
    Ok(Measure {
        wall: f[0],
        cpu: f[1] + f[2],
        rss_mb: f[3] / 1024.0,
        broker_cpu: None,
    })
}

/// Spawn `cmd`, measured, with the broker's CPU time read just before and after.
fn timed_with_broker(cmd: &mut Command, broker: &BrokerCpu) -> Measure {
    let before = broker.ticks();
    let mut m = timed(cmd);
    m.broker_cpu = broker.seconds(before, broker.ticks());
    m
}

#[allow(clippy::too_many_arguments)]
fn run_client(
    broker: &BrokerCpu,
    mode: &str,
    client: &str,
    bootstrap: &str,
    topic: &str,
    count: usize,
    size: usize,
    keyed: bool,
) -> Option<Measure> {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "TIME %e %U %S %M"]);
    if client == "java" {
        let libs = std::env::var("KAFKA_WIRE_KAFKA_LIBS").expect("KAFKA_WIRE_KAFKA_LIBS");
        cmd.args(["java", "-Xmx1g", "-cp", &format!("{libs}/*")]);
        if mode == "produce" {
            if keyed {
                return None; // ProducerPerformance has no keys
            }
            cmd.args(java_produce_args(bootstrap, topic, count, size, &[]));
        } else {
            cmd.args([
                "org.apache.kafka.tools.ConsumerPerformance",
                "--bootstrap-server",
                bootstrap,
                "--topic",
                topic,
                "--messages",
                &count.to_string(),
                "--from-latest=false",
            ]);
            cmd.args(["--group", &format!("bench-java-{}", std::process::id())]);
        }
    } else if client == "kw-before" {
        cmd.arg(before_binary().expect("KAFKA_WIRE_BENCH_BEFORE"));
        cmd.args([
            mode,
            "kafka-wire",
            bootstrap,
            topic,
            &count.to_string(),
            &size.to_string(),
            if keyed { "1" } else { "0" },
        ]);
    } else {
        cmd.arg(std::env::current_exe().expect("self"));
        cmd.args([
            mode,
            client,
            bootstrap,
            topic,
            &count.to_string(),
            &size.to_string(),
            if keyed { "1" } else { "0" },
        ]);
    }
    Some(timed_with_broker(&mut cmd, broker))
}

/// The `java` command (its classpath: the Kafka jars in `KAFKA_WIRE_KAFKA_LIBS`), measured.
fn java_command() -> Command {
    let libs = std::env::var("KAFKA_WIRE_KAFKA_LIBS").expect("KAFKA_WIRE_KAFKA_LIBS");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "TIME %e %U %S %M"]);
    cmd.args(["java", "-Xmx1g", "-cp", &format!("{libs}/*")]);
    cmd
}

/// ProducerPerformance's arguments for `count` unkeyed records of `size` bytes, with the
/// settings every client uses; `extra` (e.g. the transaction options) goes before the
/// producer properties.
fn java_produce_args(
    bootstrap: &str,
    topic: &str,
    count: usize,
    size: usize,
    extra: &[String],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        &count.to_string(),
        "--record-size",
        &size.to_string(),
        "--throughput",
        "-1",
    ]
    .map(String::from)
    .to_vec();
    args.extend_from_slice(extra);
    args.extend(
        [
            "--producer-props",
            &format!("bootstrap.servers={bootstrap}"),
            "acks=all",
            "enable.idempotence=true",
            "linger.ms=5",
            "batch.size=65536",
        ]
        .map(String::from),
    );
    args
}

/// `scale` from the command line: record counts are divided by it (10 = a tenth); a value
/// between 0 and 1 is taken as the fraction itself (0.1 = a tenth as well).
fn parse_scale(arg: &str) -> Result<f64, String> {
    if arg.is_empty() {
        return Ok(1.0);
    }
    match arg.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1.0 => Ok(1.0 / s),
        Ok(s) if s.is_finite() && s >= 1.0 => Ok(s),
        _ => Err(format!(
            "scale must be a number > 0 (10 or 0.1 = a tenth of the records), not {arg:?}"
        )),
    }
}

async fn run(bootstrap: &str, rounds: usize, scale: f64) {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let broker = BrokerCpu::find(bootstrap);
    eprintln!("{}", broker.describe());
    let scaled = |n: usize| ((n as f64 / scale).round() as usize).max(1);
    let workloads: Vec<(&str, usize, usize, bool)> = vec![
        ("produce 1M x 100 B", scaled(1_000_000), 100, false),
        ("produce 1M x 100 B keyed", scaled(1_000_000), 100, true),
        ("produce 100k x 1 KiB", scaled(100_000), 1024, false),
    ];
    // results[workload][client] = measures
    let mut results: BTreeMap<String, BTreeMap<&str, Vec<Measure>>> = BTreeMap::new();
    // Per workload, the topic the first client filled: consumed by every client afterwards.
    let mut consume_topics: BTreeMap<usize, (String, usize, usize)> = BTreeMap::new();
    let clients = clients();
    for round in 0..rounds {
        for (wi, (name, count, size, keyed)) in workloads.iter().enumerate() {
            // Interleave: rotate the client order every round.
            for ci in 0..clients.len() {
                let client = clients[(ci + round + wi) % clients.len()];
                let topic = format!("bench-{}-{round}-{wi}-{client}", std::process::id());
                create_bench_topic(&admin, &topic).await;
                if let Some(m) = run_client(
                    &broker, "produce", client, bootstrap, &topic, *count, *size, *keyed,
                ) {
                    eprintln!("round {round} {name} {client}: {m:?}");
                    results
                        .entry(name.to_string())
                        .or_default()
                        .entry(client)
                        .or_default()
                        .push(m);
                }
                if !consume_topics.contains_key(&wi) && client != "java" {
                    consume_topics.insert(wi, (topic.clone(), *count, *size));
                }
            }
        }
        for (wi, (topic, count, size)) in &consume_topics {
            let name = workloads[*wi].0.replace("produce", "consume");
            for ci in 0..clients.len() {
                let client = clients[(ci + round + wi) % clients.len()];
                if let Some(m) = run_client(
                    &broker, "consume", client, bootstrap, topic, *count, *size, false,
                ) {
                    eprintln!("round {round} {name} {client}: {m:?}");
                    results
                        .entry(name.clone())
                        .or_default()
                        .entry(client)
                        .or_default()
                        .push(m);
                }
            }
        }
    }
    print_table(&results, &workloads, rounds, &broker);
}

/// A fresh one-partition topic for one run, ready to take records.
async fn create_bench_topic(admin: &Admin, name: &str) {
    admin.create_topic(NewTopic::new(name, 1, 1)).await.unwrap();
    admin.wait_for_leaders(&[name.to_owned()]).await.unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// The median of values that are all known, else `None`.
fn median_known(v: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let known: Option<Vec<f64>> = v.into_iter().collect();
    known.filter(|k| !k.is_empty()).map(median)
}

fn or_na(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.2}"))
}

/// The legend line of the "broker CPU s" column.
fn print_broker_cpu_legend(broker: &BrokerCpu) {
    println!(
        "broker CPU s = user+sys seconds the broker used during the client's run (÷ the run's \
         wall time = broker cores busy; {} cores here); {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        broker.describe()
    );
}

fn print_table(
    results: &BTreeMap<String, BTreeMap<&str, Vec<Measure>>>,
    workloads: &[(&str, usize, usize, bool)],
    rounds: usize,
    broker: &BrokerCpu,
) {
    println!(
        "\nmedian of {rounds} rounds; CPU = user+sys seconds of the client process per 1M records"
    );
    print_broker_cpu_legend(broker);
    println!(
        "{:<28} {:<11} {:>12} {:>9} {:>10} {:>14} {:>13}",
        "workload", "client", "records/s", "MB/s", "peak RSS", "CPU s/1M rec", "broker CPU s"
    );
    for (name, clients) in results {
        let produced = name.replace("consume", "produce");
        let (count, size) = workloads
            .iter()
            .find(|w| w.0 == produced)
            .map(|w| (w.1, w.2))
            .unwrap_or((workloads[0].1, 100));
        let mut rates = BTreeMap::new();
        for (client, ms) in clients {
            let wall = median(ms.iter().map(|m| m.wall).collect());
            let cpu = median(ms.iter().map(|m| m.cpu).collect());
            let rss = median(ms.iter().map(|m| m.rss_mb).collect());
            let broker_cpu = median_known(ms.iter().map(|m| m.broker_cpu));
            let rate = count as f64 / wall;
            rates.insert(*client, (rate, rss, broker_cpu));
            println!(
                "{:<28} {:<11} {:>12.0} {:>9.1} {:>8.0} MB {:>14.2} {:>13}",
                name,
                client,
                rate,
                rate * size as f64 / 1e6,
                rss,
                cpu * 1e6 / count as f64,
                or_na(broker_cpu)
            );
        }
        if let Some((ours, our_rss, our_broker)) = rates.get("kafka-wire") {
            let ratio = |c: &str| {
                rates
                    .get(c)
                    .map(|(r, rss, _)| format!("{:.2}x rate, {:.2}x RSS", ours / r, our_rss / rss))
                    .unwrap_or_else(|| "n/a".into())
            };
            let rskafka_broker = rates
                .get("rskafka")
                .map(|(_, _, b)| format!(" (broker CPU s {} vs {})", or_na(*our_broker), or_na(*b)))
                .unwrap_or_default();
            println!(
                "{:<28} ours/java {} | ours/rdkafka {} | ours/rskafka {}{}",
                "",
                ratio("java"),
                ratio("rdkafka"),
                ratio("rskafka"),
                rskafka_broker
            );
            if rates.contains_key("kw-before") {
                println!("{:<28} after/before {}", "", ratio("kw-before"));
            }
        }
    }
}

#[tokio::main]
async fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize| args.get(i).cloned().unwrap_or_default();
    match get(0).as_str() {
        "run" => {
            let bootstrap = if get(1).is_empty() { "127.0.0.1:19092".into() } else { get(1) };
            let rounds = get(2).parse().unwrap_or(3);
            let scale = match parse_scale(&get(3)) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("bench run: {e}");
                    std::process::exit(2);
                }
            };
            run(&bootstrap, rounds, scale).await
        }
        "txn" => {
            let bootstrap = if get(1).is_empty() { "127.0.0.1:19092".into() } else { get(1) };
            let rounds = get(2).parse().unwrap_or(3);
            let scale = match parse_scale(&get(3)) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("bench txn: {e}");
                    std::process::exit(2);
                }
            };
            txn::run(&bootstrap, rounds, scale).await
        }
        "streams-count" => {
            let bootstrap = if get(1).is_empty() { "127.0.0.1:19092".into() } else { get(1) };
            let records = get(2).parse().unwrap_or(1_000_000);
            let threads = get(3).parse().unwrap_or(1);
            streams::run(&bootstrap, records, threads).await
        }
        "streams-restore" => {
            let bootstrap = if get(1).is_empty() { "127.0.0.1:19092".into() } else { get(1) };
            let records = get(2).parse().unwrap_or(1_000_000);
            let rounds = get(3).parse().unwrap_or(1);
            restore::run(&bootstrap, records, rounds).await
        }
        "streams-throughput" => throughput::run(&args[1..]).await,
        "streams-pageview" => pageview::run(&args[1..]).await,
        "streams-throughput-child" => {
            // The child runs its own runtime for KafkaStreams: leave this one.
            tokio::task::block_in_place(|| throughput::child(&args[1..]))
        }
        "streams-restore-child" => {
            let bytes = get(4).parse().unwrap_or(0);
            // The child runs its own runtime for KafkaStreams: leave this one.
            tokio::task::block_in_place(|| restore::child(&get(1), &get(2), &get(3), bytes))
        }
        "produce-txn" => {
            let (client, bootstrap, topic) = (get(1), get(2), get(3));
            let count: usize = get(4).parse().expect("count");
            let size: usize = get(5).parse().unwrap_or(100);
            let interval = Duration::from_millis(get(6).parse().expect("interval ms"));
            let id = get(7);
            assert!(!id.is_empty(), "transactional.id");
            let start = Instant::now();
            let committed = match client.as_str() {
                "kafka-wire" => txn::produce_kw(&bootstrap, &topic, count, size, interval, &id).await,
                "rdkafka" => txn::produce_rdkafka(&bootstrap, &topic, count, size, interval, &id),
                other => panic!("no transactional client {other:?}"),
            };
            println!("elapsed {:.3}", start.elapsed().as_secs_f64());
            println!("transactions {committed}");
        }
        mode @ ("produce" | "consume") => {
            let (client, bootstrap, topic) = (get(1), get(2), get(3));
            let count: usize = get(4).parse().expect("count");
            let size: usize = get(5).parse().unwrap_or(100);
            let keyed = get(6) == "1";
            let start = Instant::now();
            match (mode, client.as_str()) {
                ("produce", "kafka-wire") => produce_kw(&bootstrap, &topic, count, size, keyed).await,
                ("produce", "rdkafka") => produce_rdkafka(&bootstrap, &topic, count, size, keyed),
                ("produce", "rskafka") => produce_rskafka(&bootstrap, &topic, count, size, keyed).await,
                ("consume", "kafka-wire") => consume_kw(&bootstrap, &topic, count).await,
                ("consume", "rdkafka") => consume_rdkafka(&bootstrap, &topic, count),
                ("consume", "rskafka") => consume_rskafka(&bootstrap, &topic, count).await,
                other => panic!("unknown client {other:?}"),
            }
            println!("elapsed {:.3}", start.elapsed().as_secs_f64());
        }
        _ => eprintln!("usage: bench run|txn [bootstrap] [rounds] [scale: 10 or 0.1 = a tenth] | bench produce|consume <client> <bootstrap> <topic> <count> <size> <keyed> | bench streams-throughput [bootstrap] [--quick] [options] | bench streams-pageview [bootstrap] [--views N] [--rounds R] [--demos typed,untyped] | bench produce-txn <client> <bootstrap> <topic> <count> <size> <interval ms> <transactional.id>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_is_a_divisor_or_a_fraction() {
        assert_eq!(parse_scale(""), Ok(1.0));
        assert_eq!(parse_scale("10"), Ok(10.0));
        assert_eq!(parse_scale("0.1"), Ok(10.0));
        assert_eq!(parse_scale("1"), Ok(1.0));
        assert!(parse_scale("0").is_err());
        assert!(parse_scale("-2").is_err());
        assert!(parse_scale("tenth").is_err());
    }

    #[test]
    fn broker_cpu_is_known_only_when_every_run_has_it() {
        assert_eq!(median_known([Some(1.0), Some(3.0), Some(2.0)]), Some(2.0));
        assert_eq!(median_known([Some(1.0), None]), None);
        assert_eq!(median_known([]), None);
        assert_eq!(or_na(None), "n/a");
        assert_eq!(or_na(Some(1.234)), "1.23");
        let b = BrokerCpu {
            broker: None,
            ticks_per_second: 100.0,
            ticks_assumed: true,
        };
        assert_eq!(b.seconds(Some(100), Some(350)), Some(2.5));
        assert_eq!(b.seconds(None, Some(350)), None);
        assert_eq!(b.seconds(Some(400), Some(350)), None);
        assert!(b.describe().contains("n/a"));
    }
}
