//! Exactly-once under crashes, on Apache Kafka: two `eos_copier` processes (a consumer group
//! plus a transactional producer, KIP-447 style) copy 100 000 records from a 6-partition topic
//! to another, writing `"<input partition>:<input offset>"` for each input record. While the
//! input is being written and copied, a random copier is killed with SIGKILL every 0.5–2.5 s
//! and restarted at once, 20 times. Afterwards a read_committed reader of the output must find
//! every input exactly once: no input lost (its transaction committed the offsets but not the
//! record) and none duplicated (an aborted transaction's records or offsets became visible, or
//! a restarted member reprocessed from offsets that were not yet stable).
//!
//! The copiers are static members (`group.instance.id` per slot): with dynamic members every
//! restart waits for the killed member's session to expire (6 s, the broker's minimum), so at
//! this kill rate the group never finishes a rebalance and no kill lands on a transaction in
//! progress. They also pause mid-transaction (simulated processing), so most kills hit a
//! transaction with records already written; the read_uncommitted count of the output proves
//! it (records of aborted transactions). A copier exiting by itself (a fatal error, or a
//! record failing after its transaction committed) is restarted, counted and fails the test.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use rand::Rng;

const PARTITIONS: i32 = 6;
const N: usize = 100_000;
const KILLS: usize = 20;
/// The copiers' `session.timeout.ms`: how long a killed member blocks a rebalance.
const SESSION_TIMEOUT_MS: &str = "6000";
/// The copiers' `transaction.timeout.ms`: how long a killed member's open transaction blocks
/// its partitions (plus up to the broker's 10 s abort scan interval).
const TRANSACTION_TIMEOUT_MS: &str = "8000";
/// The copiers pause this long in the middle of each transaction (simulated processing), so
/// that most kills hit a transaction with records already written.
const TXN_PAUSE_MS: &str = "40";
/// The input is written in chunks of this many records…
const INPUT_CHUNK: usize = 400;
/// …with this pause after each (100 000 records in about 35 s, as long as the kill loop).
const INPUT_PAUSE: Duration = Duration::from_millis(130);
/// Give up waiting for the copy after this long past the last kill.
const FINISH_WITHIN: Duration = Duration::from_secs(100);

/// The two copier processes; killed when dropped (also when the test panics).
struct Copiers {
    args: Vec<String>,
    children: Vec<Child>,
    started: usize,
    /// Copiers that exited by themselves.
    exits: Vec<String>,
}

impl Copiers {
    /// Start a copier for `slot`: a static group member with the slot's `group.instance.id`,
    /// so a restart takes over the killed copier's partitions at once.
    fn spawn(&mut self, slot: usize) -> Child {
        let id = self.started;
        self.started += 1;
        let mut child = Command::new(env!("CARGO_BIN_EXE_eos_copier"))
            .args(&self.args)
            .arg(format!("copier-slot-{slot}"))
            .env("EOS_COPIER_TXN_PAUSE_MS", TXN_PAUSE_MS)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("eos_copier starts");
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("[copier {id}] {line}");
            }
        });
        child
    }

    /// Restart a copier that exited by itself (a fatal error: it printed why on stderr) and
    /// note it; the test fails on such exits after counting what they cost.
    fn check_alive(&mut self) {
        for slot in 0..self.children.len() {
            if let Ok(Some(status)) = self.children[slot].try_wait() {
                eprintln!("copier in slot {slot} exited by itself with {status}; restarting it");
                self.exits.push(format!("slot {slot}: {status}"));
                assert!(
                    self.exits.len() <= 20,
                    "copiers keep failing: {:?}",
                    self.exits
                );
                self.children[slot] = self.spawn(slot);
            }
        }
    }

    /// SIGKILL the copier in `slot` and start a new one in its place.
    fn kill_and_restart(&mut self, slot: usize) {
        let child = &mut self.children[slot];
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        self.children[slot] = self.spawn(slot);
    }
}

impl Drop for Copiers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The group's committed offsets summed over the input partitions.
async fn committed_total(admin: &Admin, group: &str, input: &[TopicPartition]) -> i64 {
    match admin.list_group_offsets(group, Some(input)).await {
        Ok(offsets) => offsets.values().map(|o| o.offset.max(0)).sum(),
        Err(e) => {
            eprintln!("list_group_offsets: {e}");
            0
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_copiers_lose_and_duplicate_nothing() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("transactions_kill_loop") else {
        return;
    };
    integration_tests::init_logging();
    let test_start = Instant::now();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let input = unique_topic("eos-in");
    let output = unique_topic("eos-out");
    let group = unique_topic("eos-copier");
    create_ready_topic(&admin, NewTopic::new(&input, PARTITIONS, 1)).await;
    create_ready_topic(&admin, NewTopic::new(&output, PARTITIONS, 1)).await;

    let input_tps: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::new(&input, p))
        .collect();
    let mut copiers = Copiers {
        args: vec![
            bootstrap.clone(),
            input.clone(),
            output.clone(),
            group.clone(),
            SESSION_TIMEOUT_MS.into(),
            TRANSACTION_TIMEOUT_MS.into(),
        ],
        children: Vec::new(),
        started: 0,
        exits: Vec::new(),
    };
    let first = copiers.spawn(0);
    let second = copiers.spawn(1);
    copiers.children = vec![first, second];

    // The input, written by a plain idempotent producer while the copiers work and get killed
    // (paced over ~25 s, so the kills hit transactions in progress); remember where each
    // record landed.
    let producer = Producer::connect(ProducerConfig::new(&bootstrap))
        .await
        .unwrap();
    let topic = input.clone();
    let writing = tokio::spawn(async move {
        let mut deliveries = Vec::with_capacity(N);
        for i in 0..N {
            let record = ProducerRecord::new(&topic)
                .partition((i % PARTITIONS as usize) as i32)
                .value(format!("in-{i}"));
            deliveries.push(producer.send(record).await.unwrap());
            if i % INPUT_CHUNK == INPUT_CHUNK - 1 {
                tokio::time::sleep(INPUT_PAUSE).await;
            }
        }
        let mut inputs: HashSet<(i32, i64)> = HashSet::with_capacity(N);
        for d in deliveries {
            let m = d.await.unwrap();
            inputs.insert((m.partition, m.offset));
        }
        producer.close().await.unwrap();
        inputs
    });
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Kill a random copier at random intervals, restarting it at once.
    let mut kills = 0;
    let mut rng = rand::rng();
    while kills < KILLS {
        let pause = rng.random_range(500..=2500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        copiers.check_alive();
        let slot = rng.random_range(0..2);
        copiers.kill_and_restart(slot);
        kills += 1;
        let done = committed_total(&admin, &group, &input_tps).await;
        eprintln!("kill {kills}: slot {slot} after {pause} ms; {done}/{N} inputs committed");
    }
    let last_kill = Instant::now();
    let inputs = writing.await.unwrap();
    assert_eq!(inputs.len(), N);
    // Committed offsets summed over the partitions once everything is copied.
    let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
    for &(p, o) in &inputs {
        let end = ends.entry(p).or_default();
        *end = (*end).max(o + 1);
    }
    let input_end: i64 = ends.values().sum();
    println!(
        "kill loop: {kills} kills done after {:?}",
        test_start.elapsed()
    );

    // Let the survivors finish: every input offset committed (offsets commit with the
    // transaction that wrote the outputs).
    loop {
        copiers.check_alive();
        let done = committed_total(&admin, &group, &input_tps).await;
        if done >= input_end {
            break;
        }
        assert!(
            last_kill.elapsed() < FINISH_WITHIN,
            "the copiers did not finish within {FINISH_WITHIN:?} of the last kill: {done}/{input_end} inputs committed"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "kill loop: all inputs committed {:?} after the last kill",
        last_kill.elapsed()
    );

    // Read the output with read_committed until our position reaches the high watermark of
    // every partition (so no transaction is open any more: the last stable offset caught up)
    // and nothing new arrived for 2 s.
    let mut config = ConsumerConfig::new(&bootstrap);
    config.set("isolation.level", "read_committed").unwrap();
    let mut reader = Consumer::connect(config).await.unwrap();
    let output_tps: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::new(&output, p))
        .collect();
    reader.assign(output_tps.clone());
    for tp in &output_tps {
        reader.seek(tp, Offset::Beginning).unwrap();
    }
    let latest: Vec<(TopicPartition, OffsetSpec)> = output_tps
        .iter()
        .map(|tp| (tp.clone(), OffsetSpec::Latest))
        .collect();
    let mut seen: HashMap<(i32, i64), usize> = HashMap::with_capacity(N);
    let mut output_records = 0usize;
    let mut misplaced = 0usize;
    let mut last_new = Instant::now();
    let read_start = Instant::now();
    loop {
        let records = reader.poll(Duration::from_millis(500)).await.unwrap();
        if !records.is_empty() {
            last_new = Instant::now();
        }
        for r in records {
            output_records += 1;
            let value = r.value.as_deref().unwrap_or_default();
            let text = std::str::from_utf8(value).unwrap();
            let (p, o) = text
                .split_once(':')
                .and_then(|(p, o)| Some((p.parse::<i32>().ok()?, o.parse::<i64>().ok()?)))
                .unwrap_or_else(|| panic!("unexpected output value {text:?}"));
            if p != r.partition {
                misplaced += 1;
            }
            *seen.entry((p, o)).or_default() += 1;
        }
        if last_new.elapsed() > Duration::from_secs(2) {
            let ends = admin.list_offsets(&latest).await.unwrap();
            let done = output_tps
                .iter()
                .all(|tp| reader.position(tp) >= Some(ends[tp].offset));
            if done {
                break;
            }
        }
        assert!(
            read_start.elapsed() < Duration::from_secs(60),
            "the output never became stable: positions {:?}",
            output_tps
                .iter()
                .map(|tp| reader.position(tp))
                .collect::<Vec<_>>()
        );
    }
    let exits = std::mem::take(&mut copiers.exits);
    drop(copiers);

    // The same log read_uncommitted: the surplus are records of aborted transactions, i.e.
    // kills (or aborts) that hit a transaction in progress.
    let mut reader = Consumer::connect(ConsumerConfig::new(&bootstrap))
        .await
        .unwrap();
    reader.assign(output_tps.clone());
    for tp in &output_tps {
        reader.seek(tp, Offset::Beginning).unwrap();
    }
    let ends = admin.list_offsets(&latest).await.unwrap();
    let mut uncommitted = 0usize;
    let read_start = Instant::now();
    while !output_tps
        .iter()
        .all(|tp| reader.position(tp) >= Some(ends[tp].offset))
        && read_start.elapsed() < Duration::from_secs(30)
    {
        uncommitted += reader.poll(Duration::from_millis(500)).await.unwrap().len();
    }

    let duplicates = seen.values().filter(|&&n| n > 1).count();
    let lost = inputs.iter().filter(|k| !seen.contains_key(k)).count();
    let unknown = seen.keys().filter(|k| !inputs.contains(k)).count();
    let positions: BTreeMap<i32, Option<i64>> = output_tps
        .iter()
        .map(|tp| (tp.partition, reader.position(tp)))
        .collect();
    println!(
        "kill loop: kills {kills}, input {N}, output {output_records}, duplicates {duplicates}, lost {lost}"
    );
    println!(
        "kill loop: distinct inputs in the output {}, unknown {unknown}, misplaced {misplaced}, records of aborted transactions {}, copiers that exited by themselves {exits:?}, reader positions {positions:?}, total {:?}",
        seen.len(),
        uncommitted.saturating_sub(output_records),
        test_start.elapsed()
    );
    assert!(kills >= KILLS);
    assert_eq!(lost, 0, "exactly-once: no input lost");
    assert_eq!(duplicates, 0, "exactly-once: no input copied twice");
    assert_eq!(unknown, 0, "every output names a real input");
    assert_eq!(misplaced, 0, "outputs go to the input's partition number");
    assert!(exits.is_empty(), "no copier fails by itself: {exits:?}");
    assert_eq!(output_records, N);
}
