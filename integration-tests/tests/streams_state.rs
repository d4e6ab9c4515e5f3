//! Persistent state on Apache Kafka: the `streams_count` application with its "Counts" store on
//! redb (`app.store=persistent`), each instance with its own `state.dir` unless a test shares
//! one.
//!
//! - A clean restart restores nothing, a restart after SIGKILL only the tail past the last
//!   commit, a wiped state directory the whole changelog; the counts stay right.
//! - A changelog truncated by `delete-records` below an instance's stored position while it
//!   is down: it wipes the store, restores from the new log start, and the counts are right.
//! - A task directory locked by someone else is not opened (the task waits, its partition is
//!   not processed) until the lock goes; two instances share one `state.dir` through hand-overs.
//! - Standby: with `num.standby.replicas=1`, SIGKILL the active instance; the standby takes
//!   over and restores only its small lag.
//! - Warm-up: a new instance with an empty state directory first gets warm-up replicas and the
//!   active tasks only after a probing rebalance once it caught up.
//!
//! The tests share one broker and the machine's two cores, so they run one at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use integration_tests::streams_app::{
    all_tasks, caught_up, end_offsets, last_counts, wait_settled, AppSpec, Instance,
};
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, AlterConfigOp, ConfigResource, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const PARTITIONS: i32 = 2;
const KEYS: usize = 500;

struct Setup {
    rt: tokio::runtime::Runtime,
    admin: Admin,
    bootstrap: String,
    input: String,
    output: String,
    app: String,
    dirs: PathBuf,
}

impl Setup {
    fn new(test: &str) -> Option<Setup> {
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
        let input = unique_topic("streams-state-in");
        let output = unique_topic("streams-state-out");
        let app = unique_topic("streams-state-app");
        rt.block_on(async {
            create_ready_topic(&admin, NewTopic::new(&input, PARTITIONS, 1)).await;
            create_ready_topic(&admin, NewTopic::new(&output, PARTITIONS, 1)).await;
        });
        let dirs = std::env::temp_dir().join(&app);
        let _ = std::fs::remove_dir_all(&dirs);
        Some(Setup {
            rt,
            admin,
            bootstrap,
            input,
            output,
            app,
            dirs,
        })
    }

    fn state_dir(&self, name: &str) -> PathBuf {
        self.dirs.join(name)
    }

    fn spec(&self, state_dir: &str, extra: &[&str]) -> AppSpec {
        let mut settings = vec![
            "app.store=persistent".to_owned(),
            format!("state.dir={}", self.state_dir(state_dir).display()),
        ];
        settings.extend(extra.iter().map(|s| (*s).to_owned()));
        AppSpec {
            binary: env!("CARGO_BIN_EXE_streams_count").into(),
            bootstrap: self.bootstrap.clone(),
            application_id: self.app.clone(),
            input: self.input.clone(),
            output: self.output.clone(),
            threads: 1,
            settings,
            echo: std::env::var_os("STREAMS_STATE_ECHO").is_some(),
            log_dir: None,
            env: Vec::new(),
        }
    }

    /// Write `rounds` rounds: every key once per round.
    fn produce_rounds(&self, rounds: usize) {
        self.rt.block_on(async {
            let producer = Producer::connect(ProducerConfig::new(&self.bootstrap))
                .await
                .unwrap();
            let mut deliveries = Vec::new();
            for r in 0..rounds {
                for k in 0..KEYS {
                    let record = ProducerRecord::new(&self.input)
                        .key(format!("k{k}"))
                        .value(r.to_string());
                    deliveries.push(producer.send(record).await.unwrap());
                }
            }
            for d in deliveries {
                d.await.unwrap();
            }
            producer.close().await.unwrap();
        });
    }

    /// Wait until the group committed the input's end.
    fn wait_caught_up(&self, what: &str) {
        let start = Instant::now();
        while !self
            .rt
            .block_on(caught_up(&self.admin, &self.app, &self.input, PARTITIONS))
        {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{what}: the application never committed the input's end"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn changelog(&self) -> String {
        format!("{}-Counts-changelog", self.app)
    }

    fn changelog_records(&self) -> i64 {
        self.rt
            .block_on(end_offsets(&self.admin, &self.changelog(), PARTITIONS))
            .values()
            .sum()
    }

    /// Every key's last count must be `rounds`.
    fn assert_counts(&self, rounds: i64, what: &str) {
        let (last, _) = self.rt.block_on(last_counts(
            &self.bootstrap,
            &self.admin,
            &self.output,
            PARTITIONS,
        ));
        assert_eq!(last.len(), KEYS, "{what}: keys in the output");
        let wrong: BTreeMap<&String, &i64> = last.iter().filter(|(_, c)| **c != rounds).collect();
        assert!(
            wrong.is_empty(),
            "{what}: keys whose last count is not {rounds}: {:?}",
            wrong.iter().take(10).collect::<Vec<_>>()
        );
    }
}

fn wait_running(instances: &[&Instance]) {
    wait_settled(
        instances,
        &all_tasks(PARTITIONS),
        Duration::from_millis(500),
        Duration::from_secs(90),
    );
}

/// Records restored per restoration the instance reported.
fn restored(i: &Instance) -> Vec<u64> {
    i.view().restores.iter().map(|r| r.2).collect()
}

#[test]
fn restarts_restore_only_the_tail_and_a_wiped_directory_everything() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(s) = Setup::new("streams_state") else {
        return;
    };
    let spec = s.spec("a", &[]);
    s.produce_rounds(100);
    let a = Instance::start(&spec, 0, 0);
    wait_running(&[&a]);
    s.wait_caught_up("first run");
    assert_eq!(a.stop(Duration::from_secs(30)), Some(0));
    let changelog = s.changelog_records();

    // Clean restart: the positions committed with the data at close are the changelog's end.
    let a = Instance::start(&spec, 0, 1);
    wait_running(&[&a]);
    let after_clean = restored(&a);
    // More input, then SIGKILL while it is being processed: only the tail past the last
    // store commit is restored.
    s.produce_rounds(20);
    std::thread::sleep(Duration::from_millis(200));
    a.kill();
    let changelog_before_kill = s.changelog_records();
    let a = Instance::start(&spec, 0, 2);
    wait_running(&[&a]);
    let after_kill = restored(&a);
    assert_eq!(a.stop(Duration::from_secs(30)), Some(0));

    // Wiped state directory: everything.
    std::fs::remove_dir_all(s.state_dir("a")).unwrap();
    let a = Instance::start(&spec, 0, 3);
    wait_running(&[&a]);
    let after_wipe = restored(&a);
    s.wait_caught_up("after the wipe, before the last round");
    s.produce_rounds(1);
    s.wait_caught_up("after the wipe");
    assert_eq!(a.stop(Duration::from_secs(30)), Some(0));
    // At-least-once: the records processed after the last commit before the SIGKILL count
    // twice; none is lost.
    let (last, _) =
        s.rt.block_on(last_counts(&s.bootstrap, &s.admin, &s.output, PARTITIONS));
    assert_eq!(last.len(), KEYS);
    assert!(
        last.values().all(|c| *c >= 121),
        "a key lost counts: {last:?}"
    );
    let changelog_end = s.changelog_records();
    eprintln!(
        "state: changelog records {changelog} after the first run; restored after a clean restart {after_clean:?} (sum {}), after SIGKILL {after_kill:?} (sum {}, changelog then {changelog_before_kill}), after wiping the state directory {after_wipe:?} (sum {}, changelog {changelog_end} before the last round)",
        after_clean.iter().sum::<u64>(),
        after_kill.iter().sum::<u64>(),
        after_wipe.iter().sum::<u64>(),
    );
    assert_eq!(
        after_clean.iter().sum::<u64>(),
        0,
        "a clean restart restores nothing"
    );
    assert!(
        after_kill.iter().sum::<u64>() <= (20 * KEYS) as u64,
        "after SIGKILL only the tail past the last commit is restored"
    );
    assert!(
        after_wipe.iter().sum::<u64>() as i64 >= changelog_before_kill,
        "a wiped directory restores the whole changelog"
    );
    let _ = std::fs::remove_dir_all(&s.dirs);
}

#[test]
fn a_changelog_truncated_below_the_stored_position_is_restored_from_its_new_start() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(s) = Setup::new("streams_state") else {
        return;
    };
    // Instance A keeps state from round 1 only.
    s.produce_rounds(1);
    let a = Instance::start(&s.spec("a", &[]), 0, 0);
    wait_running(&[&a]);
    s.wait_caught_up("A, round 1");
    assert_eq!(a.stop(Duration::from_secs(30)), Some(0));
    // Instance B (another state.dir) processes rounds 2 and 3.
    let b = Instance::start(&s.spec("b", &[]), 1, 0);
    wait_running(&[&b]);
    s.produce_rounds(1);
    s.wait_caught_up("B, round 2");
    std::thread::sleep(Duration::from_millis(1500));
    let round2_end =
        s.rt.block_on(end_offsets(&s.admin, &s.changelog(), PARTITIONS));
    s.produce_rounds(1);
    s.wait_caught_up("B, round 3");
    assert_eq!(b.stop(Duration::from_secs(30)), Some(0));
    // Everything before round 3's changelog records goes; every key has a round-3 record.
    let before: Vec<(TopicPartition, i64)> = round2_end
        .iter()
        .map(|(p, o)| (TopicPartition::new(s.changelog(), *p), *o))
        .collect();
    // A compacted topic refuses delete-records (POLICY_VIOLATION): let it delete too, as
    // retention would on a windowed store's `compact,delete` changelog.
    s.rt.block_on(s.admin.incremental_alter_configs(
        &ConfigResource::Topic(s.changelog()),
        &[AlterConfigOp::Set(
            "cleanup.policy".into(),
            "compact,delete".into(),
        )],
    ))
    .unwrap();
    let low = s.rt.block_on(s.admin.delete_records(&before)).unwrap();
    eprintln!("state: changelog truncated: new log start per partition {low:?}");
    // A comes back with its round-1 state and positions below the new log start.
    let a = Instance::start(&s.spec("a", &[]), 0, 1);
    wait_running(&[&a]);
    let lines: Vec<String> = a
        .view()
        .lines
        .into_iter()
        .filter(|l| l.starts_with("restore-"))
        .collect();
    eprintln!("state: A restarted on its stale state: {lines:?}");
    for (p, start) in &round2_end {
        let want = format!("restore-start Counts {}-{p} {start} ", s.changelog());
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "A restored partition {p} from the new log start {start}: {lines:?}"
        );
    }
    s.produce_rounds(1);
    s.wait_caught_up("A, round 4");
    assert_eq!(a.stop(Duration::from_secs(30)), Some(0));
    s.assert_counts(4, "after the truncated restore");
    let _ = std::fs::remove_dir_all(&s.dirs);
}

#[test]
fn a_locked_task_directory_is_never_opened_twice() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(s) = Setup::new("streams_state") else {
        return;
    };
    s.produce_rounds(2);
    // Someone else (this test) holds task 0_0's directory in the shared state.dir.
    let task_dir = s.state_dir("shared").join(&s.app).join("0_0");
    std::fs::create_dir_all(&task_dir).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(task_dir.join(".lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let spec = s.spec("shared", &[]);
    let a = Instance::start(&spec, 0, 0);
    let start = Instant::now();
    while a.view().tasks != BTreeSet::from(["0_1".to_owned()]) {
        assert!(start.elapsed() < Duration::from_secs(60), "A never ran 0_1");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        a.view().tasks,
        BTreeSet::from(["0_1".to_owned()]),
        "task 0_0 must wait for its directory"
    );
    assert!(
        !task_dir.join("state.redb").exists(),
        "the locked directory's database was opened"
    );
    drop(lock);
    wait_running(&[&a]);
    eprintln!("state: task 0_0 started once the directory was free");
    // A second instance on the same state.dir, through a hand-over each way.
    let b = Instance::start(&spec, 1, 0);
    let start = Instant::now();
    while a.view().tasks.len() + b.view().tasks.len() != 2
        || b.view().tasks.is_empty()
        || a.view().state != "Running"
        || b.view().state != "Running"
    {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "B never got a task"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.produce_rounds(1);
    s.wait_caught_up("A and B");
    assert_eq!(b.stop(Duration::from_secs(30)), Some(0));
    wait_running(&[&a]);
    s.produce_rounds(1);
    s.wait_caught_up("A after B left");
    assert_eq!(a.stop(Duration::from_secs(30)), Some(0));
    s.assert_counts(4, "shared state.dir");
    let _ = std::fs::remove_dir_all(&s.dirs);
}

#[test]
fn a_standby_takes_over_after_sigkill_restoring_only_its_lag() {
    standby_takeover("persistent");
}

#[test]
fn an_in_memory_standby_hands_its_store_over() {
    standby_takeover("memory");
}

fn standby_takeover(store: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(s) = Setup::new("streams_state") else {
        return;
    };
    let store_setting = format!("app.store={store}");
    let extra = ["num.standby.replicas=1", store_setting.as_str()];
    s.produce_rounds(40);
    let a = Instance::start(&s.spec("a", &extra), 0, 0);
    let b = Instance::start(&s.spec("b", &extra), 1, 0);
    wait_running(&[&a, &b]);
    let start = Instant::now();
    // Each holds the other's task as a standby.
    while a.view().standbys.is_empty() || b.view().standbys.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "standbys never placed: A {:?} B {:?}",
            a.view(),
            b.view()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.wait_caught_up("A and B");
    // Kill A while it processes new input: B's standby trails by what A wrote last.
    s.produce_rounds(20);
    std::thread::sleep(Duration::from_millis(300));
    let moved = a.view().tasks;
    eprintln!(
        "state: A runs {:?} (standbys {:?}), B runs {:?} (standbys {:?}); killing A",
        moved,
        a.view().standbys,
        b.view().tasks,
        b.view().standbys
    );
    let killed = Instant::now();
    a.kill();
    let restores_before = b.view().restores.len();
    while b.view().tasks != all_tasks(PARTITIONS) || b.view().state != "Running" {
        assert!(
            killed.elapsed() < Duration::from_secs(90),
            "B never took over: {:?}",
            b.view().tasks_line
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let takeover = killed.elapsed();
    let view = b.view();
    let takeover_restores: Vec<&(String, String, u64, u64)> =
        view.restores[restores_before..].iter().collect();
    let lag: u64 = takeover_restores.iter().map(|r| r.2).sum();
    eprintln!(
        "state: standby takeover ({store} store): B runs {:?} {takeover:?} after SIGKILL of A (session.timeout.ms=6000); restored {takeover_restores:?}: lag {lag} records of a changelog of {}",
        view.tasks,
        s.changelog_records()
    );
    assert!(
        lag < (20 * KEYS / 2) as u64,
        "the standby restored more than its lag: {lag}"
    );
    s.produce_rounds(1);
    s.wait_caught_up("B alone");
    assert_eq!(b.stop(Duration::from_secs(30)), Some(0));
    // At-least-once: a SIGKILL may repeat records processed after the last commit.
    let (last, _) =
        s.rt.block_on(last_counts(&s.bootstrap, &s.admin, &s.output, PARTITIONS));
    assert_eq!(last.len(), KEYS);
    assert!(
        last.values().all(|c| *c >= 61),
        "a key lost counts: {last:?}"
    );
    let _ = std::fs::remove_dir_all(&s.dirs);
}

#[test]
fn a_new_instance_warms_up_before_it_gets_active_tasks() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(s) = Setup::new("streams_state") else {
        return;
    };
    let extra = [
        "acceptable.recovery.lag=100",
        "probing.rebalance.interval.ms=60000",
    ];
    s.produce_rounds(60);
    let a = Instance::start(&s.spec("a", &extra), 0, 0);
    wait_running(&[&a]);
    s.wait_caught_up("A alone");
    let started = Instant::now();
    let b = Instance::start(&s.spec("b", &extra), 1, 0);
    let mut sequence: Vec<String> = Vec::new();
    let mut last = String::new();
    loop {
        let (va, vb) = (a.view(), b.view());
        let now = format!(
            "A active {:?} | B active {:?} warm-up/standby {:?}",
            va.tasks, vb.tasks, vb.standbys
        );
        if now != last {
            sequence.push(format!("{:>6.1}s {now}", started.elapsed().as_secs_f64()));
            last = now;
        }
        if !vb.tasks.is_empty() && va.state == "Running" && vb.state == "Running" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "B never got an active task: {sequence:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "state: warm-up assignment sequence:\n  {}",
        sequence.join("\n  ")
    );
    let warmed = sequence
        .iter()
        .position(|l| l.contains("B active {}") && !l.ends_with("standby {}"));
    let active = sequence.iter().position(|l| !l.contains("B active {}"));
    assert!(
        matches!((warmed, active), (Some(w), Some(x)) if w < x),
        "B must hold warm-ups before it gets an active task: {sequence:#?}"
    );
    let b_restores = b.view().restores;
    eprintln!("state: B's restorations when it took its active task: {b_restores:?}");
    s.produce_rounds(1);
    s.wait_caught_up("A and B");
    assert_eq!(b.stop(Duration::from_secs(30)), Some(0));
    assert_eq!(a.stop(Duration::from_secs(30)), Some(0));
    s.assert_counts(61, "after the warm-up");
    let _ = std::fs::remove_dir_all(&s.dirs);
}

/// For each record: add one to its key's one-minute window, then forward how many windows of
/// the key the store still returns.
struct WindowCount {
    store: streams_core::state::StoreHandle<String, i64>,
}

impl streams_core::processor::Processor<String, String, String, i64> for WindowCount {
    fn process(
        &mut self,
        ctx: &mut streams_core::processor::ProcessorContext<'_, String, i64>,
        record: streams_core::record::Record<String, String>,
    ) -> Result<(), streams_core::error::BoxError> {
        let start = record.timestamp - record.timestamp.rem_euclid(60_000);
        let mut w = ctx.window_store(&self.store)?;
        let n = w.fetch(&record.key, start)?.unwrap_or(0) + 1;
        w.put(&record.key, Some(&n), start)?;
        let live = w.fetch_range(&record.key, 0, i64::MAX, false)?.len() as i64;
        ctx.forward(record.with_value(live))?;
        Ok(())
    }
}

#[test]
fn window_retention_drops_old_segments_and_their_windows() {
    use streams_core::runtime::{KafkaStreams, StreamsConfig};
    use streams_core::serde::{I64Serde, StringSerde};
    use streams_core::state::backend::{RedbBackend, StateBackend};
    use streams_core::state::StoreHandle;
    use streams_core::topology::{StoreBuilder, TopologyBuilder};

    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(s) = Setup::new("streams_state") else {
        return;
    };
    const RETENTION: i64 = 180_000;
    let store = StoreHandle::new("Windows", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<String, String>("Source", &[&s.input], StringSerde, StringSerde)
        .unwrap();
    let st = store.clone();
    let p = b
        .add_processor("WindowCount", &[&source], move || WindowCount {
            store: st.clone(),
        })
        .unwrap();
    b.add_state_store(
        StoreBuilder::window(&store, true, RETENTION, false),
        &["WindowCount"],
    )
    .unwrap();
    b.add_sink("Sink", &s.output, StringSerde, I64Serde, &[&p])
        .unwrap();
    let topology = b.build().unwrap();
    let mut config = StreamsConfig::new(&s.app, &s.bootstrap);
    for (k, v) in [
        ("commit.interval.ms", "200".to_owned()),
        ("state.dir", s.state_dir("w").display().to_string()),
    ] {
        config.set(k, &v).unwrap();
    }
    // One record a minute for 10 minutes, all for key "k", on partition 0.
    let base = (integration_tests::now_ms() - 20 * 60_000) / 60_000 * 60_000;
    s.rt.block_on(async {
        let producer = Producer::connect(ProducerConfig::new(&s.bootstrap))
            .await
            .unwrap();
        for m in 0..10 {
            let r = ProducerRecord::new(&s.input)
                .partition(0)
                .key("k")
                .value(m.to_string())
                .timestamp(base + m * 60_000 + 5_000);
            producer.send(r).await.unwrap().await.unwrap();
        }
        producer.close().await.unwrap();
    });
    let mut streams = KafkaStreams::new(topology, config).unwrap();
    streams.start().unwrap();
    let start = Instant::now();
    let records = loop {
        let records = s.rt.block_on(integration_tests::streams_app::read_all(
            &s.bootstrap,
            &s.admin,
            &s.output,
            PARTITIONS,
        ));
        if records.len() >= 10 {
            break records;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {} outputs",
            records.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(streams.close(Duration::from_secs(30)));
    let live: Vec<i64> = records
        .iter()
        .map(|r| i64::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap()))
        .collect();
    // Windows starting at or before stream time minus 3 minutes are gone.
    assert_eq!(
        live,
        vec![1, 2, 3, 3, 3, 3, 3, 3, 3, 3],
        "live windows after each record"
    );
    let db = s.state_dir("w").join(&s.app).join("0_0").join("state.redb");
    let mut backend = RedbBackend::open(&db).unwrap();
    let tables = backend.tables().unwrap();
    let stream_time = base + 9 * 60_000;
    let oldest_live_segment = (stream_time - RETENTION) / 90_000 * 90_000;
    eprintln!(
        "state: window store after 10 minutes with a 3-minute retention: live windows per record {live:?}; segment tables {tables:?} (segment interval 90 s; oldest live segment starts at {oldest_live_segment})"
    );
    assert!(!tables.is_empty() && tables.len() <= 3, "{tables:?}");
    for t in &tables {
        let seg: i64 = t.trim_start_matches("Windows.").parse().unwrap();
        assert!(
            seg >= oldest_live_segment,
            "expired segment {t} still there: {tables:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&s.dirs);
}

/// Puts every record into its store (a table read straight from its topic).
struct Upsert {
    store: streams_core::state::StoreHandle<String, String>,
}

impl streams_core::processor::Processor<String, String, (), ()> for Upsert {
    fn process(
        &mut self,
        ctx: &mut streams_core::processor::ProcessorContext<'_, (), ()>,
        record: streams_core::record::Record<String, String>,
    ) -> Result<(), streams_core::error::BoxError> {
        ctx.key_value_store(&self.store)?
            .put(&record.key, &record.value)?;
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Restored(std::sync::Arc<Mutex<Vec<(String, u64)>>>);

impl streams_core::runtime::StateRestoreListener for Restored {
    fn on_restore_end(&self, changelog: &TopicPartition, _: &str, total: u64) {
        self.0.lock().unwrap().push((changelog.to_string(), total));
    }
}

#[test]
fn a_source_topic_doubles_as_the_changelog() {
    use streams_core::runtime::{KafkaStreams, StreamsConfig};
    use streams_core::serde::StringSerde;
    use streams_core::state::StoreHandle;
    use streams_core::topology::{StoreBuilder, TopologyBuilder};

    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(s) = Setup::new("streams_state") else {
        return;
    };
    s.produce_rounds(2);
    let run = |wipe: bool| -> Vec<(String, u64)> {
        if wipe {
            let _ = std::fs::remove_dir_all(s.state_dir("t"));
        }
        let store = StoreHandle::new("Table", StringSerde, StringSerde);
        let mut b = TopologyBuilder::new();
        let source = b
            .add_source::<String, String>("Source", &[&s.input], StringSerde, StringSerde)
            .unwrap();
        let st = store.clone();
        b.add_processor("Upsert", &[&source], move || Upsert { store: st.clone() })
            .unwrap();
        b.add_state_store(
            StoreBuilder::persistent_key_value(&store).with_source_topic_changelog(&s.input),
            &["Upsert"],
        )
        .unwrap();
        let mut config = StreamsConfig::new(&s.app, &s.bootstrap);
        config
            .set("state.dir", &s.state_dir("t").display().to_string())
            .unwrap();
        config.set("commit.interval.ms", "200").unwrap();
        let mut streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
        let restored = Restored::default();
        streams.set_global_state_restore_listener(restored.clone());
        streams.start().unwrap();
        let started = Instant::now();
        while streams.state() != streams_core::runtime::State::Running {
            assert!(started.elapsed() < Duration::from_secs(60), "never running");
            std::thread::sleep(Duration::from_millis(20));
        }
        s.wait_caught_up("table");
        assert!(streams.close(Duration::from_secs(30)));
        let out = restored.0.lock().unwrap().clone();
        out
    };
    let first = run(false);
    let wiped = run(true);
    let topics = s.rt.block_on(s.admin.list_topics()).unwrap();
    let changelog = format!("{}-Table-changelog", s.app);
    eprintln!(
        "state: source topic as changelog: first run restored {first:?}; after wiping {wiped:?}; changelog topic created: {}",
        topics.contains(&changelog)
    );
    assert!(
        first.is_empty(),
        "nothing to restore on the first run: {first:?}"
    );
    let total: u64 = wiped.iter().map(|r| r.1).sum();
    assert_eq!(
        total,
        (2 * KEYS) as u64,
        "the wiped store is rebuilt from the source topic up to the committed offsets"
    );
    assert!(
        !topics.contains(&changelog),
        "no changelog topic for a source-topic changelog"
    );
    let _ = std::fs::remove_dir_all(&s.dirs);
}
