//! `bench streams-restore [bootstrap] [records=1000000] [rounds=1]`: restoring a state store
//! from its changelog, our redb stores against Java Kafka Streams 4.4.0's RocksDB stores
//! (`bench/java/run-restore-bench`), same broker, same run, interleaved: key-value and window
//! stores, 1M records of 100-byte values written straight into `<app>-store-changelog`
//! (Java's layout: keys `key-%09d`; windowed keys `key ‖ 8-byte start ‖ 4-byte seqnum`). Then the
//! put/get micro-benchmark of one store from one task (no broker).
//!
//! Each restore runs in a process of its own (`bench streams-restore-child`) with an empty
//! state directory, so its peak RSS is the restore's. Printed per run: records/s and MB/s from
//! restore start to end, peak RSS, state directory bytes, and the ratios to Java.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::runtime::{KafkaStreams, StateRestoreListener, StreamsConfig};
use streams_core::serde::BytesSerde;
use streams_core::state::{windowed_changelog_key, StoreHandle};
use streams_core::topology::{StoreBuilder, TopologyBuilder};

/// Windows per key in window mode (as the Java side: one a minute for a day).
const WINDOWS: usize = 1440;

fn value(i: usize, size: usize) -> Bytes {
    let mut v = vec![0u8; size];
    let mut x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for b in &mut v {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    Bytes::from(v)
}

/// Create `<app>-store-changelog` (1 partition) and write `records` into it.
async fn fill(bootstrap: &str, app: &str, mode: &str, records: usize) -> u64 {
    let admin = Admin::connect(ClientConfig::new(bootstrap))
        .await
        .expect("admin");
    let changelog = format!("{app}-store-changelog");
    let input = format!("{app}-input");
    let _ = admin.delete_topics(&[&changelog, &input]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut topic = NewTopic::new(&changelog, 1, 1);
    topic.configs.insert(
        "cleanup.policy".into(),
        if mode == "kv" {
            "compact"
        } else {
            "compact,delete"
        }
        .into(),
    );
    if mode == "window" {
        topic
            .configs
            .insert("retention.ms".into(), (3 * 86_400_000i64).to_string());
    }
    admin.create_topic(topic).await.expect("create changelog");
    admin
        .create_topic(NewTopic::new(&input, 1, 1))
        .await
        .expect("create input");
    admin
        .wait_for_leaders(&[changelog.clone(), input.clone()])
        .await
        .expect("leaders");
    let mut config = ProducerConfig::new(bootstrap);
    config.set("linger.ms", "5").expect("linger.ms");
    config.set("batch.size", "262144").expect("batch.size");
    let producer = Producer::connect(config).await.expect("producer");
    let now_min = crate::now_ms() / 60_000 * 60_000;
    let mut bytes = 0u64;
    let mut window = std::collections::VecDeque::new();
    for i in 0..records {
        let key = if mode == "kv" {
            Bytes::from(format!("key-{i:09}"))
        } else {
            let start = now_min - (i % WINDOWS) as i64 * 60_000;
            windowed_changelog_key(format!("key-{:09}", i / WINDOWS).as_bytes(), start, 0)
        };
        let v = value(i, 100);
        bytes += (key.len() + v.len()) as u64;
        let r = ProducerRecord::new(&changelog)
            .partition(0)
            .key(key)
            .value(v);
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
    producer.close().await.expect("close");
    bytes
}

#[derive(Default)]
struct Timing {
    started: Option<Instant>,
    ended: Option<(Duration, u64)>,
}

#[derive(Clone, Default)]
struct Watch(Arc<Mutex<Timing>>);

impl StateRestoreListener for Watch {
    fn on_restore_start(&self, _: &TopicPartition, _: &str, _: i64, _: i64) {
        if let Ok(mut t) = self.0.lock() {
            t.started = Some(Instant::now());
        }
    }
    fn on_restore_end(&self, _: &TopicPartition, _: &str, total: u64) {
        if let Ok(mut t) = self.0.lock() {
            let took = t.started.map(|s| s.elapsed()).unwrap_or_default();
            t.ended = Some((took, total));
        }
    }
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else {
        return std::fs::metadata(p).map_or(0, |m| m.len());
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                dir_bytes(&path)
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The child: start the application with an empty state directory, wait for the restore,
/// print one RESULT line.
pub(crate) fn child(mode: &str, bootstrap: &str, app: &str, bytes: u64) {
    let state_dir = std::env::temp_dir().join(format!("{app}-state"));
    let _ = std::fs::remove_dir_all(&state_dir);
    let store = StoreHandle::new("store", BytesSerde, BytesSerde);
    let mut b = TopologyBuilder::new();
    let input = format!("{app}-input");
    let source = b
        .add_source::<Bytes, Bytes>("Source", &[&input], BytesSerde, BytesSerde)
        .expect("source");
    let st = store.clone();
    b.add_processor("Put", &[&source], move || Put { store: st.clone() })
        .expect("processor");
    let builder = if mode == "kv" {
        StoreBuilder::persistent_key_value(&store)
    } else {
        StoreBuilder::window(&store, true, 2 * 86_400_000, false)
    };
    b.add_state_store(builder, &["Put"]).expect("store");
    let _ = source;
    let topology = b.build().expect("topology");
    let mut config = StreamsConfig::new(app, bootstrap);
    config
        .set("state.dir", &state_dir.display().to_string())
        .expect("state.dir");
    let watch = Watch::default();
    let started = Instant::now();
    let mut streams = KafkaStreams::new(topology, config).expect("streams");
    streams.set_global_state_restore_listener(watch.clone());
    streams.start().expect("start");
    let (took, records) = loop {
        if let Some(done) = watch.0.lock().ok().and_then(|t| t.ended) {
            break done;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no restore end"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let total = started.elapsed();
    let rss = peak_rss_kb();
    let state = dir_bytes(&state_dir);
    streams.close(Duration::from_secs(30));
    let secs = took.as_secs_f64().max(1e-9);
    println!(
        "RESULT impl=kafka-wire-redb mode={mode} records={records} bytes={bytes} ms={:.0} total_ms={:.0} rps={:.0} mbps={:.1} peak_rss_kb={rss} state_dir_bytes={state}",
        secs * 1000.0,
        total.as_secs_f64() * 1000.0,
        records as f64 / secs,
        bytes as f64 / secs / 1e6,
    );
    let _ = std::fs::remove_dir_all(&state_dir);
}

struct Put {
    store: StoreHandle<Bytes, Bytes>,
}

impl streams_core::processor::Processor<Bytes, Bytes, (), ()> for Put {
    fn process(
        &mut self,
        ctx: &mut streams_core::processor::ProcessorContext<'_, (), ()>,
        record: streams_core::record::Record<Bytes, Bytes>,
    ) -> Result<(), streams_core::error::BoxError> {
        ctx.key_value_store(&self.store)?
            .put(&record.key, &record.value)?;
        Ok(())
    }
}

fn fields(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn num(f: &BTreeMap<String, String>, k: &str) -> f64 {
    f.get(k).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

fn java_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("java/run-restore-bench")
}

fn run_java(bootstrap: &str, args: &[&str]) -> Option<BTreeMap<String, String>> {
    let out = Command::new(java_script())
        .args(args)
        .env("KAFKA_WIRE_KAFKA", bootstrap)
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("RESULT "))?;
    Some(fields(line))
}

async fn run_ours(bootstrap: &str, mode: &str, records: usize) -> Option<BTreeMap<String, String>> {
    let app = format!("bench-restore-kw-{mode}-{}", std::process::id());
    let bytes = fill(bootstrap, &app, mode, records).await;
    let exe = std::env::current_exe().ok()?;
    let out = tokio::process::Command::new(exe)
        .args([
            "streams-restore-child",
            mode,
            bootstrap,
            &app,
            &bytes.to_string(),
        ])
        .output()
        .await
        .ok()?;
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.ok()?;
    let _ = admin
        .delete_topics(&[&format!("{app}-store-changelog"), &format!("{app}-input")])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find(|l| l.starts_with("RESULT ")) {
        Some(line) => Some(fields(line)),
        None => {
            eprintln!(
                "restore child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
    }
}

fn row(client: &str, mode: &str, f: &BTreeMap<String, String>) {
    println!(
        "{:<8} {:<28} {:>10.0} {:>8.1} {:>9.0} MB {:>10.1} MB",
        mode,
        client,
        num(f, "rps"),
        num(f, "mbps"),
        num(f, "peak_rss_kb") / 1024.0,
        state_bytes(f) / 1e6,
    );
}

/// State directory bytes: after close when reported (RocksDB flushes its memtable then).
fn state_bytes(f: &BTreeMap<String, String>) -> f64 {
    num(f, "state_dir_bytes").max(num(f, "state_dir_closed_bytes"))
}

pub(crate) async fn run(bootstrap: &str, records: usize, rounds: usize) {
    let cpu = crate::BrokerCpu::find(bootstrap);
    println!(
        "restore of {records} changelog records (100-byte values) into an empty state directory; {}",
        cpu.describe()
    );
    println!(
        "{:<8} {:<28} {:>10} {:>8} {:>12} {:>13}   broker CPU s",
        "store", "client", "records/s", "MB/s", "peak RSS", "state dir"
    );
    for mode in ["kv", "window"] {
        let mut ours = Vec::new();
        let mut java = Vec::new();
        for _ in 0..rounds {
            let before = cpu.ticks();
            if let Some(f) = run_ours(bootstrap, mode, records).await {
                row("kafka-wire (redb)", mode, &f);
                ours.push(f);
            }
            let mid = cpu.ticks();
            let rec = records.to_string();
            if let Some(f) = run_java(bootstrap, &[mode, "--records", &rec]) {
                row("java kafka-streams (rocksdb)", mode, &f);
                java.push(f);
            }
            let after = cpu.ticks();
            println!(
                "{:<37} broker CPU over the whole runs (fill + restore): ours {} s, java {} s",
                "",
                cpu.seconds(before, mid)
                    .map_or("n/a".into(), |s| format!("{s:.2}")),
                cpu.seconds(mid, after)
                    .map_or("n/a".into(), |s| format!("{s:.2}")),
            );
        }
        let median = |v: &[BTreeMap<String, String>], k: &str| {
            let mut xs: Vec<f64> = v.iter().map(|f| num(f, k)).collect();
            xs.sort_by(f64::total_cmp);
            xs.get(xs.len() / 2).copied().unwrap_or(0.0)
        };
        let median_state = |v: &[BTreeMap<String, String>]| {
            let mut xs: Vec<f64> = v.iter().map(state_bytes).collect();
            xs.sort_by(f64::total_cmp);
            xs.get(xs.len() / 2).copied().unwrap_or(0.0)
        };
        if !ours.is_empty() && !java.is_empty() {
            println!(
                "{:<8} ours/java: {:.2}x records/s, {:.2}x peak RSS, {:.2}x state dir (medians)",
                mode,
                median(&ours, "rps") / median(&java, "rps").max(1.0),
                median(&ours, "peak_rss_kb") / median(&java, "peak_rss_kb").max(1.0),
                median_state(&ours) / median_state(&java).max(1.0),
            );
        }
    }
    putget(records);
    if let Some(f) = run_java(bootstrap, &["putget", "--records", &records.to_string()]) {
        println!(
            "putget   java kafka-streams (rocksdb): {:.0} puts/s, {:.0} gets/s, state dir {:.1} MB",
            num(&f, "puts_per_s"),
            num(&f, "gets_per_s"),
            num(&f, "state_dir_closed_bytes") / 1e6
        );
    }
}

/// Puts then shuffled gets of one persistent key-value store (redb), one commit at the end,
/// as one task would do between two commits.
fn putget(records: usize) {
    use streams_core::state::backend::{RedbBackend, SharedBackend};
    use streams_core::state::{BackendKeyValueStore, KeyValueStore};
    let dir = std::env::temp_dir().join(format!("bench-putget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let backend = SharedBackend::new(Box::new(
        RedbBackend::open(&dir.join("state.redb")).expect("redb"),
    ));
    let mut store = BackendKeyValueStore::new("x", backend.clone());
    let keys: Vec<Bytes> = (0..records)
        .map(|i| Bytes::from(format!("key-{i:09}")))
        .collect();
    let start = Instant::now();
    for (i, k) in keys.iter().enumerate() {
        store.put(k.clone(), value(i, 100)).expect("put");
    }
    let put = start.elapsed();
    let start = Instant::now();
    backend
        .lock()
        .commit(&BTreeMap::new(), true)
        .expect("commit");
    let commit = start.elapsed();
    let mut order: Vec<usize> = (0..records).collect();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let start = Instant::now();
    let mut hits = 0usize;
    for i in order {
        if store.get(&keys[i]).expect("get").is_some() {
            hits += 1;
        }
    }
    let get = start.elapsed();
    assert_eq!(hits, records);
    println!(
        "putget   kafka-wire (redb): {:.0} puts/s, {:.0} gets/s (commit {:.0} ms), state dir {:.1} MB ({:.1} MB per million keys)",
        records as f64 / put.as_secs_f64(),
        records as f64 / get.as_secs_f64(),
        commit.as_secs_f64() * 1000.0,
        dir_bytes(&dir) as f64 / 1e6,
        dir_bytes(&dir) as f64 / 1e6 / (records as f64 / 1e6),
    );
    let _ = std::fs::remove_dir_all(&dir);
}
