//! An exactly-once instance restarted while another producer's transaction is open on its
//! changelog must neither wipe its store nor lose counts, on Apache Kafka (single node).
//!
//! Found by `cluster_streams_kill_loop` (exactly-once): an instance SIGKILLed with an open
//! transaction stayed down, its task moved, and the new owner committed several transactions
//! past the crashed one's records on the changelog; while the crashed transaction was still open
//! (until its `transaction.timeout.ms`, or until its instance came back and fenced it), the
//! changelog's last stable offset (LSO) stayed at that transaction's first record, below the new
//! owner's committed transactions. The new owner was restarted in that window, and restoration,
//! which ends at the LSO under exactly-once, went wrong in one of two ways:
//! - its committed position was above the LSO: taken for "past the changelog's end (was the
//!   topic deleted and recreated?)", the store was wiped and restored up to the LSO only;
//! - its durable position was below the LSO (redb commits between fsyncs are not durable): the
//!   store was restored up to the LSO only, without the committed transactions after it.
//!
//! Either way the task went on from its committed input offsets with older counts: the output
//! repeated counts and the final counts came out low.
//!
//! Here the open transaction is made on purpose: one `streams_count` instance (one thread, a
//! one-partition input, persistent store, `exactly_once_v2`) counts 1 000 records; a separate
//! transactional producer begins a transaction, writes one record to the changelog and keeps it
//! open; the instance counts 1 000 more (its commits pass the LSO), is SIGKILLed and started
//! again on the same `state.dir`; the foreign transaction is aborted 3 s later, and the instance
//! counts 500 more. Checks: no `wipe` line, and the output read with `read_committed` holds for
//! every key exactly 1, 2, …, n (250 per key). Once with the default fsync interval of the
//! stores, once with every redb commit durable (`statestore.fsync.interval.ms=0`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::streams_app::{
    caught_up, end_offsets, read_all_committed, stable_offsets, AppSpec, Instance,
};
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};

const KEYS: usize = 10;

async fn produce(bootstrap: &str, topic: &str, from: usize, n: usize) {
    integration_tests::streams_app::produce_keyed(bootstrap, topic, from, n, KEYS).await
}

fn wait_caught_up(rt: &tokio::runtime::Runtime, admin: &Admin, spec: &AppSpec, what: &str) {
    let start = Instant::now();
    while !rt.block_on(caught_up(admin, &spec.application_id, &spec.input, 1)) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: the instance did not commit the end of the input within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The store's durable position is below the LSO (default `statestore.fsync.interval.ms`: the
/// commits since the last fsync are not durable).
#[test]
fn restart_while_another_transaction_is_open_on_the_changelog() {
    run(&[]);
}

/// The store's durable position is above the LSO (every redb commit durable).
#[test]
fn restart_while_another_transaction_is_open_on_the_changelog_every_commit_durable() {
    run(&["statestore.fsync.interval.ms=0"]);
}

fn run(extra: &[&str]) {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_eos_open_txn") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let admin = rt
        .block_on(Admin::connect(ClientConfig::new(&bootstrap)))
        .unwrap();
    let input = unique_topic("eos-open-txn-in");
    let output = unique_topic("eos-open-txn-out");
    let app = unique_topic("eos-open-txn-app");
    let changelog = format!("{app}-Counts-changelog");
    let state_dir = std::env::temp_dir().join(format!("{app}-state"));
    rt.block_on(async {
        create_ready_topic(&admin, NewTopic::new(&input, 1, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, 1, 1)).await;
    });
    let spec = AppSpec {
        binary: env!("CARGO_BIN_EXE_streams_count").into(),
        bootstrap: bootstrap.clone(),
        application_id: app.clone(),
        input: input.clone(),
        output: output.clone(),
        threads: 1,
        settings: vec![
            "processing.guarantee=exactly_once_v2".to_owned(),
            "commit.interval.ms=100".to_owned(),
            "app.store=persistent".to_owned(),
            format!("state.dir={}", state_dir.display()),
        ]
        .into_iter()
        .chain(extra.iter().map(|s| (*s).to_owned()))
        .collect(),
        echo: true,
        log_dir: None,
        env: vec![(
            "RUST_LOG".into(),
            std::env::var("RUST_LOG").unwrap_or_else(|_| "streams_core=info".into()),
        )],
    };

    let first = Instance::start(&spec, 0, 0);
    rt.block_on(produce(&bootstrap, &input, 0, 1000));
    wait_caught_up(&rt, &admin, &spec, "first 1000");

    // Another producer's transaction, open on the changelog.
    let mut config = ProducerConfig::new(&bootstrap);
    config
        .set("transactional.id", &unique_topic("eos-open-txn-other"))
        .unwrap();
    config.set("transaction.timeout.ms", "120000").unwrap();
    let other = rt.block_on(Producer::connect(config)).unwrap();
    rt.block_on(async {
        other.init_transactions().await.unwrap();
        other.begin_transaction().unwrap();
        let record = ProducerRecord::new(&changelog)
            .partition(0)
            .key("k0")
            .value(0i64.to_be_bytes().to_vec());
        other.send(record).await.unwrap().await.unwrap();
    });

    rt.block_on(produce(&bootstrap, &input, 1000, 1000));
    wait_caught_up(&rt, &admin, &spec, "second 1000");
    let high = rt.block_on(end_offsets(&admin, &changelog, 1))[&0];
    let stable = rt.block_on(stable_offsets(&admin, &changelog, 1))[&0];
    eprintln!("open txn: changelog high watermark {high}, last stable offset {stable}");
    assert!(
        stable < high,
        "the foreign transaction holds the changelog's last stable offset back"
    );

    let crashed = first.kill();
    let second = Instance::start(&spec, 0, 1);
    // The foreign transaction ends 3 s after the restart (a crashed instance's would end at its
    // transaction.timeout.ms, 10 s under exactly-once, or when the instance comes back): an
    // instance may wait for it, but must not restore without the transactions committed after it.
    std::thread::sleep(Duration::from_secs(3));
    eprintln!(
        "open txn: the restarted instance reports {:?}; aborting the foreign transaction",
        second.view().state
    );
    rt.block_on(async {
        other.abort_transaction().await.unwrap();
        other.close().await.unwrap();
    });
    rt.block_on(produce(&bootstrap, &input, 2000, 500));
    wait_caught_up(&rt, &admin, &spec, "after the restart");
    let (code, view) = second.stop_with_view(Duration::from_secs(30));

    let records = rt.block_on(read_all_committed(
        &bootstrap,
        &admin,
        &output,
        1,
        Duration::from_secs(30),
    ));
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    let mut faults = Vec::new();
    for r in &records {
        let key = String::from_utf8(r.key.as_deref().unwrap_or_default().to_vec()).unwrap();
        let value: [u8; 8] = r.value.as_deref().unwrap_or_default().try_into().unwrap();
        let value = i64::from_be_bytes(value);
        let previous = last.insert(key.clone(), value).unwrap_or(0);
        if value != previous + 1 && faults.len() < 10 {
            faults.push(format!("{key} @{}: {previous} -> {value}", r.offset));
        }
    }
    let wipes: Vec<&String> = crashed
        .lines
        .iter()
        .chain(view.lines.iter())
        .filter(|l| l.starts_with("wipe "))
        .collect();
    println!(
        "open txn on the changelog {extra:?}: output records {} (want 2500), keys {:?}, wipes {wipes:?}, first faults {faults:?}",
        records.len(),
        last
    );
    let _ = std::fs::remove_dir_all(&state_dir);
    assert_eq!(code, Some(0), "the restarted instance stops cleanly");
    assert!(
        wipes.is_empty(),
        "no store wiped under exactly-once: {wipes:?}"
    );
    assert!(faults.is_empty(), "each key's output is 1..n: {faults:?}");
    assert_eq!(records.len(), 2500);
    assert!(last.values().all(|c| *c == 250), "{last:?}");
}
