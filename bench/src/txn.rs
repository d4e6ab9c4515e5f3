//! `bench txn`: what transactions cost. 1M unkeyed 100 B records to a single-partition topic
//! (the same records and producer settings as `bench run`'s first produce workload), produced
//!
//! - by kafka-wire as a plain idempotent producer (the baseline: `bench produce kafka-wire`);
//! - transactionally, committing every 100 ms and every 1 s, by kafka-wire, rust-rdkafka and
//!   the Java client (ProducerPerformance `--transactional-id … --transaction-duration-ms …`);
//!   rskafka has no transactions (printed as n/a).
//!
//! A transactional run begins a transaction, sends, and once the interval has elapsed since the
//! transaction began (checked after every record, as ProducerPerformance does) commits —
//! which waits for every record of the transaction — and begins the next; the last one is
//! committed at the end. Each run is its own process under `/usr/bin/time` like in `bench run`,
//! interleaved, and after each run the topic's end offset is read: it must be the record count
//! plus one commit marker per transaction, which gives the "txns" column.
//!
//! `bench produce-txn <client> <bootstrap> <topic> <count> <size> <interval ms>
//! <transactional.id>` is one transactional run of kafka-wire or rdkafka (what `txn` spawns);
//! it prints `elapsed <seconds>` and `transactions <committed>`.

use std::collections::{BTreeMap, VecDeque};
use std::process::Command;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerRecord};
use kafka_wire::TopicPartition;

use super::{
    create_bench_topic, java_command, java_produce_args, kw_producer_config, median, median_known,
    or_na, print_broker_cpu_legend, rdkafka_producer_config, rdkafka_send, try_timed, value,
    BrokerCpu, Measure, RdProducer,
};

/// One kafka-wire transactional run; returns the number of transactions committed.
pub(crate) async fn produce_kw(
    bootstrap: &str,
    topic: &str,
    count: usize,
    size: usize,
    interval: Duration,
    transactional_id: &str,
) -> usize {
    let mut config = kw_producer_config(bootstrap);
    config.set("transactional.id", transactional_id).unwrap();
    let producer = Producer::connect(config).await.unwrap();
    producer.init_transactions().await.unwrap();
    producer.begin_transaction().unwrap();
    let mut began = Instant::now();
    let mut commits = 0;
    // The same window of outstanding deliveries as the idempotent run (`produce_kw`).
    let mut window = VecDeque::with_capacity(20_000);
    for i in 0..count {
        let r = ProducerRecord::new(topic).value(value(size, i));
        window.push_back(producer.send(r).await.unwrap());
        if window.len() >= 20_000 {
            window.pop_front().unwrap().await.unwrap();
        }
        if i + 1 < count && began.elapsed() >= interval {
            producer.commit_transaction().await.unwrap();
            commits += 1;
            // All acknowledged: the commit waited for them.
            for d in window.drain(..) {
                d.await.unwrap();
            }
            producer.begin_transaction().unwrap();
            began = Instant::now();
        }
    }
    producer.commit_transaction().await.unwrap();
    for d in window {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
    commits + 1
}

/// One rust-rdkafka transactional run; returns the number of transactions committed.
pub(crate) fn produce_rdkafka(
    bootstrap: &str,
    topic: &str,
    count: usize,
    size: usize,
    interval: Duration,
    transactional_id: &str,
) -> usize {
    use rdkafka::producer::Producer as _;
    let mut config = rdkafka_producer_config(bootstrap);
    config.set("transactional.id", transactional_id);
    let producer: RdProducer = config.create().unwrap();
    let timeout = Duration::from_secs(120);
    producer.init_transactions(timeout).unwrap();
    producer.begin_transaction().unwrap();
    let mut began = Instant::now();
    let mut commits = 0;
    for i in 0..count {
        rdkafka_send(&producer, topic, &value(size, i), None);
        if i + 1 < count && began.elapsed() >= interval {
            producer.commit_transaction(timeout).unwrap();
            commits += 1;
            producer.begin_transaction().unwrap();
            began = Instant::now();
        }
    }
    producer.commit_transaction(timeout).unwrap();
    commits + 1
}

/// A workload of `bench txn`: no interval = the idempotent baseline (kafka-wire only).
struct Workload {
    name: &'static str,
    interval_ms: Option<u64>,
}

const WORKLOADS: [Workload; 3] = [
    Workload {
        name: "produce 1M x 100 B idempotent",
        interval_ms: None,
    },
    Workload {
        name: "produce 1M x 100 B txn 100 ms",
        interval_ms: Some(100),
    },
    Workload {
        name: "produce 1M x 100 B txn 1 s",
        interval_ms: Some(1000),
    },
];

const SIZE: usize = 100;

/// The clients measured in a workload, in table order.
fn clients(w: &Workload) -> &'static [&'static str] {
    if w.interval_ms.is_some() {
        &["kafka-wire", "rdkafka", "java"]
    } else {
        &["kafka-wire"]
    }
}

/// ProducerPerformance's arguments for one run.
fn java_args(
    bootstrap: &str,
    topic: &str,
    count: usize,
    interval_ms: Option<u64>,
    transactional_id: &str,
) -> Vec<String> {
    let txn: Vec<String> = match interval_ms {
        Some(ms) => vec![
            "--transactional-id".into(),
            transactional_id.into(),
            "--transaction-duration-ms".into(),
            ms.to_string(),
        ],
        None => Vec::new(),
    };
    java_produce_args(bootstrap, topic, count, SIZE, &txn)
}

/// The measured command of one run.
fn command(
    client: &str,
    bootstrap: &str,
    topic: &str,
    count: usize,
    interval_ms: Option<u64>,
    transactional_id: &str,
) -> Command {
    if client == "java" {
        let mut cmd = java_command();
        cmd.args(java_args(
            bootstrap,
            topic,
            count,
            interval_ms,
            transactional_id,
        ));
        return cmd;
    }
    let (count, size) = (count.to_string(), SIZE.to_string());
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "TIME %e %U %S %M"]);
    cmd.arg(std::env::current_exe().expect("self"));
    match interval_ms {
        Some(ms) => cmd.args([
            "produce-txn",
            client,
            bootstrap,
            topic,
            &count,
            &size,
            &ms.to_string(),
            transactional_id,
        ]),
        None => cmd.args(["produce", client, bootstrap, topic, &count, &size, "0"]),
    };
    cmd
}

/// The topic's (single partition's) end offset once it has stopped moving: commit markers
/// are written by the transaction coordinator after EndTxn has been answered, so the last
/// one may land just after the client exited.
async fn settled_end_offset(admin: &Admin, topic: &str) -> Option<i64> {
    let spec = [(TopicPartition::new(topic, 0), OffsetSpec::Latest)];
    let read = || async {
        admin
            .list_offsets(&spec)
            .await
            .ok()
            .and_then(|m| m.values().next().map(|o| o.offset))
    };
    let mut last = read().await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = read().await;
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// One run's measure and the transactions its topic shows (end offset − records).
type Run = (Measure, Option<i64>);

pub(crate) async fn run(bootstrap: &str, rounds: usize, scale: f64) {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let broker = BrokerCpu::find(bootstrap);
    eprintln!("{}", broker.describe());
    let count = ((1_000_000_f64 / scale).round() as usize).max(1);
    let runs: Vec<(usize, &str)> = WORKLOADS
        .iter()
        .enumerate()
        .flat_map(|(wi, w)| clients(w).iter().map(move |c| (wi, *c)))
        .collect();
    let mut results: BTreeMap<(usize, &str), Vec<Run>> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    for round in 0..rounds {
        // Interleave: rotate the order of all runs every round.
        for k in 0..runs.len() {
            let (wi, client) = runs[(k + round) % runs.len()];
            let w = &WORKLOADS[wi];
            let name = format!("bench-txn-{}-{round}-{wi}-{client}", std::process::id());
            create_bench_topic(&admin, &name).await;
            let mut cmd = command(client, bootstrap, &name, count, w.interval_ms, &name);
            let before = broker.ticks();
            let measured = try_timed(&mut cmd);
            let after = broker.ticks();
            match measured {
                Ok(mut m) => {
                    m.broker_cpu = broker.seconds(before, after);
                    let end = settled_end_offset(&admin, &name).await;
                    let txns = end.map(|e| e - count as i64);
                    let expected_ok = match (w.interval_ms, txns) {
                        (None, Some(t)) => t == 0,
                        (Some(_), Some(t)) => t >= 1,
                        (_, None) => true,
                    };
                    if !expected_ok {
                        eprintln!(
                            "WARNING round {round} {} {client}: end offset {end:?} for {count} \
                             records does not match (records lost or no commit markers?)",
                            w.name
                        );
                    }
                    eprintln!("round {round} {} {client}: {m:?}, txns {txns:?}", w.name);
                    results.entry((wi, client)).or_default().push((m, txns));
                }
                Err(e) => {
                    eprintln!("round {round} {} {client}: {e}", w.name);
                    failures.push(format!("round {round} {} {client}", w.name));
                }
            }
        }
    }
    print_table(&results, &failures, rounds, count, &broker);
}

/// Medians of one client's runs in one workload.
#[derive(Debug, Clone, Copy)]
struct Summary {
    rate: f64,
    rss: f64,
    cpu_per_1m: f64,
    broker_cpu: Option<f64>,
    txns: Option<f64>,
}

fn summarize(runs: &[Run], count: usize) -> Summary {
    let wall = median(runs.iter().map(|r| r.0.wall).collect());
    Summary {
        rate: count as f64 / wall,
        rss: median(runs.iter().map(|r| r.0.rss_mb).collect()),
        cpu_per_1m: median(runs.iter().map(|r| r.0.cpu).collect()) * 1e6 / count as f64,
        broker_cpu: median_known(runs.iter().map(|r| r.0.broker_cpu)),
        txns: median_known(runs.iter().map(|r| r.1.map(|t| t as f64))),
    }
}

/// `ours / theirs`: rate, client CPU per record and peak RSS.
fn ratio(ours: &Summary, theirs: Option<&Summary>) -> String {
    match theirs {
        Some(t) => format!(
            "{:.2}x rate, {:.2}x CPU/rec, {:.2}x RSS",
            ours.rate / t.rate,
            ours.cpu_per_1m / t.cpu_per_1m,
            ours.rss / t.rss
        ),
        None => "n/a".into(),
    }
}

fn print_table(
    results: &BTreeMap<(usize, &str), Vec<Run>>,
    failures: &[String],
    rounds: usize,
    count: usize,
    broker: &BrokerCpu,
) {
    println!(
        "\nmedian of {rounds} rounds, {count} records of {SIZE} B per run; CPU = user+sys seconds \
         of the client process per 1M records; txns = transactions committed per run (commit \
         markers in the topic)"
    );
    print_broker_cpu_legend(broker);
    println!(
        "{:<30} {:<11} {:>12} {:>9} {:>10} {:>14} {:>13} {:>6}",
        "workload",
        "client",
        "records/s",
        "MB/s",
        "peak RSS",
        "CPU s/1M rec",
        "broker CPU s",
        "txns"
    );
    let summary = |wi: usize, client: &str| {
        results
            .get(&(wi, client))
            .filter(|r| !r.is_empty())
            .map(|r| summarize(r, count))
    };
    let baseline = summary(0, "kafka-wire");
    for (wi, w) in WORKLOADS.iter().enumerate() {
        for client in clients(w) {
            match summary(wi, client) {
                Some(s) => println!(
                    "{:<30} {:<11} {:>12.0} {:>9.1} {:>7.0} MB {:>14.2} {:>13} {:>6}",
                    w.name,
                    client,
                    s.rate,
                    s.rate * SIZE as f64 / 1e6,
                    s.rss,
                    s.cpu_per_1m,
                    or_na(s.broker_cpu),
                    s.txns.map_or_else(|| "n/a".into(), |t| format!("{t:.0}"))
                ),
                None => println!("{:<30} {:<11} every run failed", w.name, client),
            }
        }
        if w.interval_ms.is_none() {
            continue;
        }
        println!(
            "{:<30} {:<11} n/a (rskafka has no transactions)",
            w.name, "rskafka"
        );
        if let Some(ours) = summary(wi, "kafka-wire") {
            println!(
                "{:<30} ours txn / ours idempotent: {}",
                "",
                ratio(&ours, baseline.as_ref())
            );
            println!(
                "{:<30} ours/rdkafka {} | ours/java {} | ours/rskafka n/a",
                "",
                ratio(&ours, summary(wi, "rdkafka").as_ref()),
                ratio(&ours, summary(wi, "java").as_ref())
            );
        }
    }
    if !failures.is_empty() {
        println!(
            "failed runs (left out of the medians): {}",
            failures.join("; ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(wall: f64, cpu: f64, rss_mb: f64) -> Measure {
        Measure {
            wall,
            cpu,
            rss_mb,
            broker_cpu: None,
        }
    }

    #[test]
    fn summaries_and_ratios() {
        let ours = summarize(
            &[(m(1.0, 0.8, 20.0), Some(10)), (m(2.0, 0.9, 22.0), Some(12))],
            1_000_000,
        );
        assert_eq!(ours.rate, 500_000.0);
        assert_eq!(ours.txns, Some(12.0));
        assert_eq!(ours.broker_cpu, None);
        let theirs = summarize(&[(m(4.0, 1.8, 40.0), Some(20))], 1_000_000);
        assert_eq!(
            ratio(&ours, Some(&theirs)),
            "2.00x rate, 0.50x CPU/rec, 0.55x RSS"
        );
        assert_eq!(ratio(&ours, None), "n/a");
    }

    #[test]
    fn commands_carry_the_transaction_settings() {
        let args = |c: &Command| -> Vec<String> {
            c.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let kw = command("kafka-wire", "b:1", "t", 10, Some(100), "id");
        let a = args(&kw);
        assert_eq!(
            a[a.len() - 8..],
            [
                "produce-txn",
                "kafka-wire",
                "b:1",
                "t",
                "10",
                "100",
                "100",
                "id"
            ]
        );
        let base = command("kafka-wire", "b:1", "t", 10, None, "id");
        let a = args(&base);
        assert_eq!(
            a[a.len() - 7..],
            ["produce", "kafka-wire", "b:1", "t", "10", "100", "0"]
        );
        let java = java_args("b:1", "t", 10, Some(1000), "id");
        let at = java.iter().position(|a| a == "--transactional-id").unwrap();
        assert_eq!(
            java[at..at + 4],
            [
                "--transactional-id",
                "id",
                "--transaction-duration-ms",
                "1000"
            ]
        );
        assert!(java.iter().position(|a| a == "--producer-props").unwrap() > at);
    }
}
