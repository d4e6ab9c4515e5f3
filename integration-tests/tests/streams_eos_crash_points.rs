//! Exactly-once state after a crash at each point of the commit, on Apache Kafka, without a
//! wipe (`streams_core::runtime::eos` explains the ordering).
//!
//! For each injected crash point — after the offsets joined the transaction but before
//! EndTxn, after EndTxn but before the redb commit, and after both — one `streams_count`
//! instance (one stream thread, a 2-partition input, the persistent redb store "Counts",
//! `processing.guarantee=exactly_once_v2`) counts 20 000 records already in the input and
//! aborts its own process (`std::process::abort`, no destructor, no goodbye) at the third
//! commit that has something to commit. 2 000 more records are written; the instance is
//! started again on the same `state.dir` (same process id, so the same `transactional.id` and
//! static members) and runs until its output holds one record per input record.
//!
//! Checks, per crash point: the process really died at that point; the output read with
//! `read_committed` holds, for every key, exactly the counts 1, 2, …, n in order (no duplicate,
//! no gap), n being the key's number of input records; no store was wiped; and the restart
//! restored from the position redb had committed, not from the changelog's start (after a crash
//! before the redb commit it restores exactly the last transaction's changelog records).
//!
//! A second test fences the running application's producer five times (another producer
//! initializes the stream thread's `transactional.id`, `<application.id>-<process id>-1`, read
//! from the state directory): each time the thread's transaction fails as fenced, its tasks go
//! back to their last commit (closed dirty, created again) and it goes on with a new producer,
//! without the application leaving RUNNING; the output again holds exactly 1..n per key.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::streams_app::{read_all_committed, AppSpec, Instance};
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig};

const PARTITIONS: i32 = 2;
const FIRST: usize = 20_000;
const SECOND: usize = 2_000;
const KEYS: usize = 20;

async fn produce(bootstrap: &str, topic: &str, from: usize, n: usize) {
    integration_tests::streams_app::produce_keyed(bootstrap, topic, from, n, KEYS).await
}

/// Per key, its output counts in offset order.
fn counts_per_key(records: &[kafka_wire::consumer::ConsumerRecord]) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in records {
        let key = String::from_utf8(r.key.as_deref().unwrap_or_default().to_vec()).unwrap();
        let value: [u8; 8] = r.value.as_deref().unwrap_or_default().try_into().unwrap();
        out.entry(key).or_default().push(i64::from_be_bytes(value));
    }
    out
}

/// Per key, the outputs that did not raise its count by exactly one: (duplicates — not above
/// the last count —, gaps — more than one above it).
fn sequence_faults(per_key: &BTreeMap<String, Vec<i64>>) -> (usize, usize) {
    let (mut duplicates, mut gaps) = (0, 0);
    for counts in per_key.values() {
        let mut last = 0;
        for c in counts {
            if *c <= last {
                duplicates += 1;
            } else if *c > last + 1 {
                gaps += 1;
            }
            last = last.max(*c);
        }
    }
    (duplicates, gaps)
}

/// The broker, a runtime and an admin client for the tests of this file.
struct Setup {
    bootstrap: String,
    rt: tokio::runtime::Runtime,
    admin: Admin,
}

impl Setup {
    fn new() -> Option<Setup> {
        let bootstrap = Broker::Kafka.bootstrap("streams_eos_crash_points")?;
        integration_tests::init_logging();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let admin = rt
            .block_on(Admin::connect(ClientConfig::new(&bootstrap)))
            .unwrap();
        Some(Setup {
            bootstrap,
            rt,
            admin,
        })
    }

    /// A fresh input and output topic, application id and state directory; the instance's
    /// exactly-once settings.
    fn app(&self, tag: &str) -> (AppSpec, std::path::PathBuf) {
        let input = unique_topic(&format!("eos-{tag}-in"));
        let output = unique_topic(&format!("eos-{tag}-out"));
        let app = unique_topic(&format!("eos-{tag}-app"));
        let state_dir = std::env::temp_dir().join(format!("{app}-state"));
        self.rt.block_on(async {
            create_ready_topic(&self.admin, NewTopic::new(&input, PARTITIONS, 1)).await;
            create_ready_topic(&self.admin, NewTopic::new(&output, PARTITIONS, 1)).await;
        });
        let spec = AppSpec {
            binary: env!("CARGO_BIN_EXE_streams_count").into(),
            bootstrap: self.bootstrap.clone(),
            application_id: app,
            input,
            output,
            threads: 1,
            settings: vec![
                "processing.guarantee=exactly_once_v2".to_owned(),
                "commit.interval.ms=100".to_owned(),
                "app.store=persistent".to_owned(),
                format!("state.dir={}", state_dir.display()),
            ],
            echo: false,
            log_dir: None,
            env: vec![(
                "RUST_LOG".into(),
                std::env::var("EOS_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )],
        };
        (spec, state_dir)
    }
}

fn run_point(setup: &Setup, point: &str) -> String {
    let (bootstrap, rt, admin) = (setup.bootstrap.as_str(), &setup.rt, &setup.admin);
    let (mut spec, state_dir) = setup.app("crash");
    let (input, output) = (spec.input.clone(), spec.output.clone());
    rt.block_on(produce(bootstrap, &input, 0, FIRST));
    let mut base = spec.settings.clone();
    base.extend([
        // Small polls: the 20 000 records take several commits.
        "consumer.max.poll.records=500".to_owned(),
        // Every redb commit durable, so each crash point shows its own outcome (with the
        // default, commits between fsyncs are replayed from the changelog too).
        "statestore.fsync.interval.ms=0".to_owned(),
    ]);
    spec.settings = base.clone();
    spec.settings.push(format!("__crash.point__={point}"));
    spec.settings.push("__crash.after.commits__=3".to_owned());

    // First run: it must die by its own hand at the point.
    let mut first = Instance::start(&spec, 0, 0);
    let started = Instant::now();
    let status = loop {
        if let Some(code) = first.exited() {
            break code;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{point}: the instance did not crash within 60 s: {:?}",
            first.view().lines
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let crashed_view = first.view();
    // SIGABRT: no exit code.
    assert_eq!(
        status, -1,
        "{point}: the instance exited with {status} instead of aborting"
    );
    let wipes_first = crashed_view
        .lines
        .iter()
        .filter(|l| l.starts_with("wipe "))
        .count();

    rt.block_on(produce(bootstrap, &input, FIRST, SECOND));

    // Second run: same state.dir, no crash.
    spec.settings = base;
    let second = Instance::start(&spec, 0, 1);
    let total = FIRST + SECOND;
    let records = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let ends =
                integration_tests::streams_app::end_offsets(admin, &output, PARTITIONS).await;
            // Each record's output plus transaction markers; read once enough is there.
            if ends.values().sum::<i64>() >= total as i64 {
                let records = read_all_committed(
                    bootstrap,
                    admin,
                    &output,
                    PARTITIONS,
                    Duration::from_secs(30),
                )
                .await;
                if records.len() >= total || Instant::now() > deadline {
                    break records;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{point}: the output did not reach {total} records within 90 s"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let (code, view) = second.stop_with_view(Duration::from_secs(30));
    assert_eq!(
        code,
        Some(0),
        "{point}: the restarted instance did not stop cleanly"
    );
    let per_key = counts_per_key(&records);
    let (duplicates, gaps) = sequence_faults(&per_key);
    for (key, counts) in &per_key {
        let expected = (total / KEYS) as i64;
        assert_eq!(
            counts.last().copied(),
            Some(expected),
            "{point}: {key}'s final count"
        );
    }
    let wipes = wipes_first + view.lines.iter().filter(|l| l.starts_with("wipe ")).count();
    let restored: Vec<String> = view
        .lines
        .iter()
        .filter(|l| l.starts_with("restore-start ") || l.starts_with("restore-end "))
        .cloned()
        .collect();
    let line = format!(
        "crash point {point}: crashed at commit 3 (exit by SIGABRT); inputs {total}; outputs {} (read_committed); keys {} with final count {} each; duplicates {duplicates}; gaps {gaps}; wipes {wipes}; restart restored {restored:?}",
        records.len(),
        per_key.len(),
        total / KEYS,
    );
    eprintln!("{line}");
    assert_eq!(per_key.len(), KEYS, "{point}: keys in the output");
    assert_eq!(records.len(), total, "{point}: one output per input");
    assert_eq!((duplicates, gaps, wipes), (0, 0, 0), "{point}");
    // Restoration started where redb had committed (a start above 0), never from the
    // changelog's beginning after a wipe.
    for l in restored.iter().filter(|l| l.starts_with("restore-start ")) {
        let start: i64 = l.split_whitespace().nth(3).unwrap().parse().unwrap();
        assert!(
            start > 0,
            "{point}: restored from the changelog's start: {l}"
        );
    }
    // Crashed after EndTxn but before the redb commit: the last transaction's changelog
    // records are restored; at the other points there is nothing committed past redb.
    let restored_records: u64 = restored
        .iter()
        .filter(|l| l.starts_with("restore-end "))
        .map(|l| l.split_whitespace().nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    if point == "after_end_txn" {
        assert!(
            restored_records > 0,
            "{point}: the committed transaction was not restored"
        );
    } else {
        assert_eq!(restored_records, 0, "{point}: restored {restored:?}");
    }
    let _ = std::fs::remove_dir_all(&state_dir);
    line
}

/// Fence the thread's producer `times` times while records flow; the application must recover
/// each time without an error and end with exact counts.
#[test]
fn a_fenced_producer_sends_the_tasks_back_to_their_last_commit_and_the_app_goes_on() {
    let Some(setup) = Setup::new() else {
        return;
    };
    let (bootstrap, rt, admin) = (setup.bootstrap.as_str(), &setup.rt, &setup.admin);
    let (spec, state_dir) = setup.app("fence");
    let (app, input, output) = (
        spec.application_id.clone(),
        spec.input.clone(),
        spec.output.clone(),
    );
    let instance = Instance::start(&spec, 0, 0);
    let metadata = state_dir.join(&app).join(streams_core::state::PROCESS_FILE);
    let started = Instant::now();
    let process_id = loop {
        if let Ok(text) = std::fs::read_to_string(&metadata) {
            break text
                .split('"')
                .nth(3)
                .expect("processId in the metadata file")
                .to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no {}",
            metadata.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let transactional_id = format!("{app}-{process_id}-1");
    const BATCH: usize = 2_000;
    const FENCES: usize = 5;
    let mut written = 0;
    for _ in 0..FENCES {
        rt.block_on(produce(bootstrap, &input, written, BATCH));
        written += BATCH;
        std::thread::sleep(Duration::from_millis(300));
        rt.block_on(async {
            let mut config = ProducerConfig::new(bootstrap);
            config.set("transactional.id", &transactional_id).unwrap();
            let fencer = Producer::connect(config).await.unwrap();
            fencer.init_transactions().await.unwrap();
            fencer.close().await.unwrap();
        });
        std::thread::sleep(Duration::from_millis(700));
    }
    rt.block_on(produce(bootstrap, &input, written, BATCH));
    written += BATCH;
    let records = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let records = read_all_committed(
                bootstrap,
                admin,
                &output,
                PARTITIONS,
                Duration::from_secs(30),
            )
            .await;
            if records.len() >= written || Instant::now() > deadline {
                break records;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let (code, view) = instance.stop_with_view(Duration::from_secs(30));
    let per_key = counts_per_key(&records);
    let (duplicates, gaps) = sequence_faults(&per_key);
    let errors = view.lines.iter().filter(|l| l.contains("-> Error")).count();
    let finals: Vec<i64> = per_key.values().filter_map(|c| c.last().copied()).collect();
    let line = format!(
        "fenced {FENCES} times: inputs {written}; outputs {} (read_committed); final counts {finals:?} (expected {} each); duplicates {duplicates}; gaps {gaps}; application errors {errors}; clean stop {code:?}",
        records.len(),
        written / KEYS
    );
    println!("{line}");
    assert_eq!(errors, 0, "{line}");
    assert_eq!(code, Some(0), "{line}");
    assert_eq!(records.len(), written, "{line}");
    assert_eq!((duplicates, gaps), (0, 0), "{line}");
    assert!(
        finals.iter().all(|c| *c == (written / KEYS) as i64),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&state_dir);
}

#[test]
fn each_crash_point_recovers_the_committed_state_without_a_wipe() {
    let Some(setup) = Setup::new() else {
        return;
    };
    let mut lines = Vec::new();
    for point in ["before_end_txn", "after_end_txn", "after_state_commit"] {
        lines.push(run_point(&setup, point));
    }
    for l in lines {
        println!("{l}");
    }
}
