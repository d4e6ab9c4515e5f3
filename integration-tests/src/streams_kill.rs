//! The crash loop of the streams runtime, shared by `tests/streams_kill_loop.rs` (at-least-once),
//! `tests/streams_kill_loop_eos.rs` (exactly-once) and `tests/cluster_streams_kill_loop.rs`
//! (the three-node cluster, with broker nodes killed too).
//!
//! Three instances of the `streams_count` application (separate processes, two stream threads
//! each, each with its own `state.dir`) count records per key (`k0..k99`) of a 6-partition
//! input into the store "Counts" and write every new count `(key, count)` to the output. While
//! 200 000 records are written steadily (about a minute), a random running instance is
//! SIGKILLed every 1–3.5 s and restarted: at once (40 %), after up to 2 s (45 %) or, when no
//! other instance is down, after the session timeout plus 2 s (15 %: its static members expire
//! and its tasks move to the others). The loop goes on until the input is written and at least
//! [`KillLoop::min_kills`] kills happened, [`KillLoop::min_kills_per_instance`] of each
//! instance. On the three-node cluster, [`KillLoop::broker_kills`] broker nodes are SIGKILLed
//! one after the other during the loop (`scripts/broker stop-node kafka3 N`) and started again
//! after 2–5 s.
//!
//! Then the group's committed offsets must reach the end of the input; the instances are stopped
//! gracefully and the output is read from the beginning with `isolation.level=read_committed`.
//! The true counts are counted independently from the input topic read back. What the run found
//! is an [`Outcome`]: its [`Outcome::line`] is the one result line each test prints, and
//! [`Outcome::check_at_least_once`] / [`Outcome::check_exactly_once`] are the guarantees'
//! assertions. Every incarnation's stdout and stderr (`RUST_LOG=streams_core=info` unless
//! `RUST_LOG` is set) are kept under `$TMPDIR/streams-kill-<application id>/` when the run fails
//! (removed when it passes, unless `STREAMS_KILL_LOOP_KEEP_LOGS` is set).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use rand::Rng;

use crate::streams_app::{
    all_tasks, assignment, caught_up, end_offsets, read_all, read_all_committed, wait_settled,
    AppSpec, Instance, View,
};
mod outcome;
pub use outcome::Outcome;

use crate::{broker_script, create_ready_topic, unique_topic, Broker};

/// Input partitions (and tasks).
pub const PARTITIONS: i32 = 6;
/// Application instances (processes).
pub const INSTANCES: usize = 3;
/// Stream threads per instance.
pub const THREADS: usize = 2;
/// Input records.
pub const N: usize = 200_000;
/// Distinct keys, written round robin.
pub const KEYS: usize = 100;
/// Input written in chunks of this many records…
const CHUNK: usize = 1000;
/// …with this pause after each (200 000 records in about a minute).
const PAUSE: Duration = Duration::from_millis(200);
/// `session.timeout.ms` of the instances (`streams_count`'s).
const SESSION_TIMEOUT: Duration = Duration::from_secs(6);
/// Give up waiting for the instances to catch up after this long past the last kill.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(120);

/// Kill loops in one test binary run one after the other (they share the broker and 2 cores).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `processing.guarantee`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarantee {
    /// `at_least_once` (the default).
    AtLeastOnce,
    /// `exactly_once_v2`.
    ExactlyOnceV2,
}

impl Guarantee {
    /// The setting's value.
    pub fn name(self) -> &'static str {
        match self {
            Guarantee::AtLeastOnce => "at_least_once",
            Guarantee::ExactlyOnceV2 => "exactly_once_v2",
        }
    }
}

/// One crash loop: what to run and how hard to kill.
#[derive(Debug, Clone)]
pub struct KillLoop {
    /// The test's name (SKIPPED messages).
    pub test: &'static str,
    /// The `streams_count` binary (`env!("CARGO_BIN_EXE_streams_count")` in a test).
    pub binary: &'static str,
    /// `Broker::Kafka` (single node) or `Broker::Kafka3` (three nodes, replication factor 3).
    pub broker: Broker,
    /// The processing guarantee.
    pub guarantee: Guarantee,
    /// `app.store=persistent` (redb under each instance's `state.dir`) or in memory.
    pub persistent: bool,
    /// Kills in total, at least.
    pub min_kills: usize,
    /// Kills of each instance, at least.
    pub min_kills_per_instance: usize,
    /// Broker nodes SIGKILLed (and restarted) during the loop, one at a time (`Kafka3` only).
    pub broker_kills: usize,
    /// Extra `KEY=VALUE` settings of the instances.
    pub settings: Vec<String>,
}

impl KillLoop {
    /// A loop with a persistent store, at least 20 kills (5 of each instance), no broker kills.
    /// Exactly-once also sets `commit.interval.ms=100` (Kafka Streams' default under it).
    pub fn new(
        test: &'static str,
        binary: &'static str,
        broker: Broker,
        guarantee: Guarantee,
    ) -> KillLoop {
        let mut settings = Vec::new();
        if guarantee == Guarantee::ExactlyOnceV2 {
            settings.push("commit.interval.ms=100".to_owned());
        }
        KillLoop {
            test,
            binary,
            broker,
            guarantee,
            persistent: true,
            min_kills: 20,
            min_kills_per_instance: 5,
            broker_kills: 0,
            settings,
        }
    }

    /// Run it; `None` when the broker is not configured (the test is skipped).
    pub fn run(&self) -> Option<Outcome> {
        let bootstrap = self.broker.bootstrap(self.test)?;
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        crate::init_logging();
        Some(Run::new(self, bootstrap).go())
    }
}

/// A slot of the loop: the running incarnation, or when a killed one restarts.
struct Slot {
    running: Option<Instance>,
    restart_at: Option<Instant>,
    incarnations: usize,
    kills: usize,
}

struct Run<'a> {
    kl: &'a KillLoop,
    bootstrap: String,
    rt: tokio::runtime::Runtime,
    admin: Admin,
    input: String,
    output: String,
    app: String,
    specs: Vec<AppSpec>,
    state_root: PathBuf,
    log_dir: PathBuf,
    start: Instant,
    /// Final views of every incarnation that ended.
    ended: Vec<(usize, usize, View)>,
    exits: Vec<String>,
}

impl<'a> Run<'a> {
    fn new(kl: &'a KillLoop, bootstrap: String) -> Run<'a> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let admin = rt
            .block_on(Admin::connect(ClientConfig::new(&bootstrap)))
            .unwrap();
        let prefix = match kl.guarantee {
            Guarantee::AtLeastOnce => "streams-kill",
            Guarantee::ExactlyOnceV2 => "streams-kill-eos",
        };
        let input = unique_topic(&format!("{prefix}-in"));
        let output = unique_topic(&format!("{prefix}-out"));
        let app = unique_topic(&format!("{prefix}-app"));
        let replication = if kl.broker == Broker::Kafka3 { 3 } else { 1 };
        rt.block_on(async {
            create_ready_topic(&admin, NewTopic::new(&input, PARTITIONS, replication)).await;
            create_ready_topic(&admin, NewTopic::new(&output, PARTITIONS, replication)).await;
        });
        let state_root = std::env::temp_dir().join(format!("streams-kill-state-{app}"));
        let log_dir = std::env::temp_dir().join(format!("streams-kill-{app}"));
        let mut env = Vec::new();
        if std::env::var_os("RUST_LOG").is_none() {
            env.push(("RUST_LOG".to_owned(), "streams_core=info".to_owned()));
        }
        let specs = (0..INSTANCES)
            .map(|i| {
                let mut settings = vec![
                    format!("processing.guarantee={}", kl.guarantee.name()),
                    format!(
                        "app.store={}",
                        if kl.persistent {
                            "persistent"
                        } else {
                            "memory"
                        }
                    ),
                    format!(
                        "state.dir={}",
                        state_root.join(format!("instance-{i}")).display()
                    ),
                    format!("replication.factor={replication}"),
                ];
                settings.extend(kl.settings.iter().cloned());
                if let Ok(extra) = std::env::var("STREAMS_KILL_LOOP_SETTINGS") {
                    settings.extend(extra.split_whitespace().map(str::to_owned));
                }
                AppSpec {
                    binary: kl.binary.into(),
                    bootstrap: bootstrap.clone(),
                    application_id: app.clone(),
                    input: input.clone(),
                    output: output.clone(),
                    threads: THREADS,
                    settings,
                    echo: true,
                    log_dir: Some(log_dir.clone()),
                    env: env.clone(),
                }
            })
            .collect();
        eprintln!(
            "kill loop: {} on {:?}, application {app}, input {input}, output {output}, logs in {}",
            kl.guarantee.name(),
            kl.broker,
            log_dir.display()
        );
        Run {
            kl,
            bootstrap,
            rt,
            admin,
            input,
            output,
            app,
            specs,
            state_root,
            log_dir,
            start: Instant::now(),
            ended: Vec::new(),
            exits: Vec::new(),
        }
    }

    fn start_instance(&self, slot: &mut Slot, id: usize) {
        slot.running = Some(Instance::start(&self.specs[id], id, slot.incarnations));
        slot.incarnations += 1;
        slot.restart_at = None;
    }

    /// Restart instances that exited by themselves (noting why) and those whose time came.
    fn tend(&mut self, slots: &mut [Slot]) {
        for (id, slot) in slots.iter_mut().enumerate() {
            if let Some(code) = slot.running.as_mut().and_then(Instance::exited) {
                let instance = slot.running.take().expect("running");
                let inc = instance.incarnation;
                let view = instance.kill();
                let tail = self.stderr_tail(id, inc, 30);
                eprintln!(
                    "kill loop: instance {id}.{inc} exited by itself with status {code}; its stderr ends with:\n{tail}"
                );
                self.exits
                    .push(format!("instance {id}.{inc}: exit status {code}"));
                self.ended.push((id, inc, view));
                self.start_instance(slot, id);
            }
            if slot.running.is_none() && slot.restart_at.is_some_and(|t| Instant::now() >= t) {
                self.start_instance(slot, id);
            }
        }
    }

    fn stderr_tail(&self, id: usize, incarnation: usize, lines: usize) -> String {
        let path = self
            .log_dir
            .join(format!("instance-{id}.{incarnation}.stderr"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn go(mut self) -> Outcome {
        let kl = self.kl;
        let mut slots: Vec<Slot> = (0..INSTANCES)
            .map(|_| Slot {
                running: None,
                restart_at: None,
                incarnations: 0,
                kills: 0,
            })
            .collect();
        for (id, slot) in slots.iter_mut().enumerate() {
            self.start_instance(slot, id);
        }
        {
            let refs: Vec<&Instance> = slots.iter().filter_map(|s| s.running.as_ref()).collect();
            let took = wait_settled(
                &refs,
                &all_tasks(PARTITIONS),
                Duration::from_secs(1),
                Duration::from_secs(90),
            );
            eprintln!("kill loop: settled after {took:?}: {}", assignment(&refs));
        }

        // The input: keys k0..k99 round robin, written steadily in the background.
        let producer = self
            .rt
            .block_on(Producer::connect(ProducerConfig::new(&self.bootstrap)))
            .unwrap();
        let topic = self.input.clone();
        let sending = self.rt.spawn(async move {
            let mut deliveries = Vec::with_capacity(CHUNK);
            for i in 0..N {
                let record = ProducerRecord::new(&topic)
                    .key(format!("k{}", i % KEYS))
                    .value(i.to_string());
                deliveries.push(producer.send(record).await.unwrap());
                if i % CHUNK == CHUNK - 1 {
                    for d in deliveries.drain(..) {
                        d.await.unwrap();
                    }
                    tokio::time::sleep(PAUSE).await;
                }
            }
            for d in deliveries {
                d.await.unwrap();
            }
            producer.close().await.unwrap();
        });

        // Broker nodes killed one at a time while the input flows (three-node cluster only).
        let broker_kills = (kl.broker == Broker::Kafka3 && kl.broker_kills > 0).then(|| {
            let count = kl.broker_kills;
            let start = self.start;
            std::thread::spawn(move || {
                let mut rng = rand::rng();
                let mut nodes = Vec::new();
                let mut last = 0u8;
                std::thread::sleep(Duration::from_secs(8));
                for k in 0..count {
                    let node = loop {
                        let n = rng.random_range(1..=3u8);
                        if n != last {
                            break n;
                        }
                    };
                    last = node;
                    eprintln!(
                        "kill loop: broker kill {} (SIGKILL kafka3 node {node}) at {:?}",
                        k + 1,
                        start.elapsed()
                    );
                    broker_script(&["stop-node", "kafka3", &node.to_string()]);
                    nodes.push(node);
                    std::thread::sleep(Duration::from_millis(rng.random_range(2000..5000)));
                    let restarting = Instant::now();
                    broker_script(&["start-node", "kafka3", &node.to_string()]);
                    eprintln!(
                        "kill loop: kafka3 node {node} back after {:?} (at {:?})",
                        restarting.elapsed(),
                        start.elapsed()
                    );
                    if k + 1 < count {
                        std::thread::sleep(Duration::from_millis(rng.random_range(3000..8000)));
                    }
                }
                nodes
            })
        });

        // The kill loop.
        let mut rng = rand::rng();
        let mut kills = 0usize;
        let mut next_kill = Instant::now() + Duration::from_millis(rng.random_range(1000..3500));
        let mut last_kill = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            self.tend(&mut slots);
            let done_killing = sending.is_finished()
                && kills >= kl.min_kills
                && slots.iter().all(|s| s.kills >= kl.min_kills_per_instance);
            if done_killing {
                if slots.iter().all(|s| s.running.is_some()) {
                    break;
                }
                continue;
            }
            if Instant::now() < next_kill {
                continue;
            }
            next_kill = Instant::now() + Duration::from_millis(rng.random_range(1000..3500));
            // A running victim; once the input is written, one that still lacks kills.
            let lacking = |s: &Slot| {
                !sending.is_finished()
                    || s.kills < kl.min_kills_per_instance
                    || kills < kl.min_kills
            };
            let candidates: Vec<usize> = (0..INSTANCES)
                .filter(|i| slots[*i].running.is_some() && lacking(&slots[*i]))
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let victim = candidates[rng.random_range(0..candidates.len())];
            let others_down = slots.iter().any(|s| s.running.is_none());
            let roll: f64 = rng.random();
            let down = if roll < 0.40 {
                Duration::ZERO
            } else if roll < 0.85 || others_down {
                Duration::from_millis(rng.random_range(0..2000))
            } else {
                SESSION_TIMEOUT + Duration::from_secs(2)
            };
            let slot = &mut slots[victim];
            let instance = slot.running.take().expect("running");
            let inc = instance.incarnation;
            eprintln!(
                "kill loop: kill {} (SIGKILL instance {victim}.{inc}, pid {}, tasks {:?}; restart after {down:?}) at {:?}",
                kills + 1,
                instance.pid(),
                instance.view().tasks,
                self.start.elapsed()
            );
            let view = instance.kill();
            self.ended.push((victim, inc, view));
            kills += 1;
            slot.kills += 1;
            slot.restart_at = Some(Instant::now() + down);
            last_kill = Instant::now();
            self.tend(&mut slots);
        }
        self.rt.block_on(sending).unwrap();
        let broker_nodes = broker_kills
            .map(|h| h.join().expect("the broker-kill thread failed"))
            .unwrap_or_default();
        let kills_of: Vec<usize> = slots.iter().map(|s| s.kills).collect();
        eprintln!(
            "kill loop: {kills} kills (per instance {kills_of:?}), broker nodes killed {broker_nodes:?}, input written and killing done at {:?}",
            self.start.elapsed()
        );

        // Caught up: the group committed the end of every input partition, and the output
        // stopped growing.
        loop {
            self.tend(&mut slots);
            if self
                .rt
                .block_on(caught_up(&self.admin, &self.app, &self.input, PARTITIONS))
            {
                break;
            }
            if last_kill.elapsed() > CATCH_UP_WITHIN {
                let refs: Vec<&Instance> =
                    slots.iter().filter_map(|s| s.running.as_ref()).collect();
                eprintln!(
                    "kill loop: not caught up; assignment: {}; logs in {}",
                    assignment(&refs),
                    self.log_dir.display()
                );
                panic!(
                    "the instances did not commit the end of the input within {CATCH_UP_WITHIN:?} of the last kill"
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let caught = last_kill.elapsed();
        let mut ends = self
            .rt
            .block_on(end_offsets(&self.admin, &self.output, PARTITIONS));
        loop {
            std::thread::sleep(Duration::from_secs(2));
            let now = self
                .rt
                .block_on(end_offsets(&self.admin, &self.output, PARTITIONS));
            if now == ends {
                break;
            }
            ends = now;
        }
        eprintln!("kill loop: caught up {caught:?} after the last kill");
        {
            let refs: Vec<&Instance> = slots.iter().filter_map(|s| s.running.as_ref()).collect();
            eprintln!("kill loop: final assignment: {}", assignment(&refs));
        }
        for (id, slot) in slots.iter_mut().enumerate() {
            if let Some(instance) = slot.running.take() {
                let inc = instance.incarnation;
                let (code, view) = instance.stop_with_view(Duration::from_secs(40));
                if code != Some(0) {
                    self.exits
                        .push(format!("instance {id}.{inc}: graceful stop gave {code:?}"));
                }
                self.ended.push((id, inc, view));
            }
        }

        self.outcome(kills, kills_of, broker_nodes, caught)
    }

    fn outcome(
        self,
        kills: usize,
        kills_of: Vec<usize>,
        broker_kills: Vec<u8>,
        caught_up: Duration,
    ) -> Outcome {
        // The truth, from the input read back.
        let inputs = self.rt.block_on(read_all(
            &self.bootstrap,
            &self.admin,
            &self.input,
            PARTITIONS,
        ));
        let mut truth: BTreeMap<String, i64> = BTreeMap::new();
        for r in &inputs {
            *truth.entry(key_of(r)).or_default() += 1;
        }
        // The committed output, per key in offset order.
        let outputs = self.rt.block_on(read_all_committed(
            &self.bootstrap,
            &self.admin,
            &self.output,
            PARTITIONS,
            Duration::from_secs(90),
        ));
        let mut last: BTreeMap<String, i64> = BTreeMap::new();
        let (mut duplicates, mut gaps) = (0usize, 0usize);
        let mut anomalies = Vec::new();
        for r in &outputs {
            let key = key_of(r);
            let value: [u8; 8] = r
                .value
                .as_deref()
                .unwrap_or_default()
                .try_into()
                .expect("8-byte counts");
            let value = i64::from_be_bytes(value);
            let previous = last.insert(key.clone(), value).unwrap_or(0);
            let what = if value <= previous {
                duplicates += 1;
                "duplicate"
            } else if value > previous + 1 {
                gaps += 1;
                "gap"
            } else {
                continue;
            };
            if anomalies.len() < 20 {
                anomalies.push(format!(
                    "{what} {key} {}@{}: {previous} -> {value}",
                    r.partition, r.offset
                ));
            }
        }
        let mut keys_below = Vec::new();
        let mut keys_above = Vec::new();
        for (k, t) in &truth {
            let c = last.get(k).copied().unwrap_or(0);
            if c < *t {
                keys_below.push((k.clone(), c, *t));
            } else if c > *t {
                keys_above.push((k.clone(), c, *t));
            }
        }
        let mut wipes = Vec::new();
        let (mut restores, mut restored) = (0usize, 0u64);
        for (id, inc, view) in &self.ended {
            for line in &view.lines {
                if line.starts_with("wipe ") {
                    wipes.push(format!("{id}.{inc}: {line}"));
                }
            }
            restores += view.restores.len();
            restored += view.restores.iter().map(|r| r.2).sum::<u64>();
        }
        let outcome = Outcome {
            guarantee: self.kl.guarantee,
            cluster: self.kl.broker.script_name(),
            store: if self.kl.persistent {
                "persistent"
            } else {
                "memory"
            },
            kills,
            kills_of,
            broker_kills,
            inputs: inputs.len(),
            expected_total: truth.values().sum(),
            actual_total: last.values().sum(),
            keys: last.len(),
            unknown_keys: last.keys().filter(|k| !truth.contains_key(*k)).count(),
            keys_below,
            keys_above,
            duplicates,
            gaps,
            anomalies,
            output_records: outputs.len(),
            wipes,
            restores: (restores, restored),
            exits: self.exits.clone(),
            caught_up,
            took: self.start.elapsed(),
            log_dir: self.log_dir.clone(),
        };
        let _ = std::fs::remove_dir_all(&self.state_root);
        outcome
    }
}

fn key_of(r: &kafka_wire::consumer::ConsumerRecord) -> String {
    String::from_utf8(r.key.as_deref().unwrap_or_default().to_vec()).expect("UTF-8 keys")
}
