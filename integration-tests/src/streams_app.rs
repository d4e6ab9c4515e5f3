//! The `streams_count` application (`src/bin/streams_count.rs`) as a child process the tests
//! start, kill and stop, what it reports on stdout, and readers for its output.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, ListOffsetsOptions, OffsetSpec};
use kafka_wire::consumer::{Consumer, ConsumerConfig, IsolationLevel, Offset};
use kafka_wire::TopicPartition;

/// What one instance last reported.
#[derive(Debug, Default, Clone)]
pub struct View {
    /// The application's state (`Running`, `Rebalancing`, …; empty before the first change).
    pub state: String,
    /// Its active tasks (`0_3`, …) after its last rebalance.
    pub tasks: BTreeSet<String>,
    /// The last `tasks` line, with the tasks per thread.
    pub tasks_line: String,
    /// When `tasks` last changed.
    pub tasks_since: Option<Instant>,
    /// The process has closed its stdout (exited or killed).
    pub exited: bool,
    /// Its standby (and warm-up) tasks.
    pub standbys: BTreeSet<String>,
    /// Restorations it finished: (store, changelog, records, ms).
    pub restores: Vec<(String, String, u64, u64)>,
    /// Every stdout line, in order.
    pub lines: Vec<String>,
}

/// One running `streams_count` process.
pub struct Instance {
    /// The test's number for this instance (kept across restarts).
    pub id: usize,
    /// How many times this id was started.
    pub incarnation: usize,
    child: Child,
    stdin: Option<ChildStdin>,
    view: Arc<Mutex<View>>,
    reader: Option<JoinHandle<()>>,
}

/// How to start an instance.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// The `streams_count` binary (`env!("CARGO_BIN_EXE_streams_count")`).
    pub binary: String,
    /// Bootstrap servers.
    pub bootstrap: String,
    /// `application.id` (also the group).
    pub application_id: String,
    /// Input topic.
    pub input: String,
    /// Output topic.
    pub output: String,
    /// `num.stream.threads`.
    pub threads: usize,
    /// Extra `KEY=VALUE` settings.
    pub settings: Vec<String>,
    /// Echo every stdout line of the instances to stderr.
    pub echo: bool,
    /// When set, each incarnation's stderr goes to `<dir>/instance-<id>.<incarnation>.stderr`
    /// (instead of the test's stderr) and its stdout lines are copied to
    /// `<dir>/instance-<id>.<incarnation>.stdout`.
    pub log_dir: Option<PathBuf>,
    /// Extra environment of the process (`RUST_LOG`, …).
    pub env: Vec<(String, String)>,
}

impl Instance {
    /// Start instance `id` (incarnation `incarnation`).
    pub fn start(spec: &AppSpec, id: usize, incarnation: usize) -> Instance {
        let (stderr, mut copy) = match &spec.log_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
                let file = |ext: &str| {
                    let path = dir.join(format!("instance-{id}.{incarnation}.{ext}"));
                    std::fs::File::create(&path)
                        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
                };
                (Stdio::from(file("stderr")), Some(file("stdout")))
            }
            None => (Stdio::inherit(), None),
        };
        let mut child = Command::new(&spec.binary)
            .args([
                &spec.bootstrap,
                &spec.application_id,
                &spec.input,
                &spec.output,
                &spec.threads.to_string(),
            ])
            .args(&spec.settings)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", spec.binary));
        let stdout = child.stdout.take().expect("piped");
        let stdin = child.stdin.take();
        let view = Arc::new(Mutex::new(View::default()));
        let v = view.clone();
        let echo = spec.echo;
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if echo {
                    eprintln!("[instance {id}.{incarnation}] {line}");
                }
                if let Some(f) = copy.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                let mut view = v.lock().unwrap();
                view.lines.push(line.clone());
                if let Some(rest) = line.strip_prefix("standbys ") {
                    view.standbys = rest
                        .split(',')
                        .filter(|t| !t.is_empty() && *t != "-")
                        .map(str::to_owned)
                        .collect();
                } else if let Some(rest) = line.strip_prefix("restore-end ") {
                    let f: Vec<&str> = rest.split(' ').collect();
                    if let [store, changelog, records, ms] = f[..] {
                        view.restores.push((
                            store.to_owned(),
                            changelog.to_owned(),
                            records.parse().unwrap_or(0),
                            ms.parse().unwrap_or(0),
                        ));
                    }
                } else if let Some(rest) = line.strip_prefix("state ") {
                    if let Some((_, to)) = rest.split_once(" -> ") {
                        view.state = to.trim().to_owned();
                    }
                } else if let Some(rest) = line.strip_prefix("tasks ") {
                    let all = rest.split('|').next().unwrap_or_default();
                    view.tasks = all
                        .split(',')
                        .filter(|t| !t.is_empty() && *t != "-")
                        .map(str::to_owned)
                        .collect();
                    view.tasks_line = rest.to_owned();
                    view.tasks_since = Some(Instant::now());
                }
            }
            v.lock().unwrap().exited = true;
        });
        Instance {
            id,
            incarnation,
            child,
            stdin,
            view,
            reader: Some(reader),
        }
    }

    /// What it last reported.
    pub fn view(&self) -> View {
        self.view.lock().unwrap().clone()
    }

    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL and reap; returns everything it reported (read to the end of its stdout).
    pub fn kill(mut self) -> View {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.final_view()
    }

    /// Graceful stop by closing stdin (the application closes: commit, leave the group);
    /// returns its exit status (SIGKILL after `within`).
    pub fn stop(self, within: Duration) -> Option<i32> {
        self.stop_with_view(within).0
    }

    /// [`Instance::stop`], also returning everything it reported.
    pub fn stop_with_view(mut self, within: Duration) -> (Option<i32>, View) {
        drop(self.stdin.take());
        let code = self.wait(within);
        (code, self.final_view())
    }

    /// The view once the process is gone and its stdout was read to the end.
    fn final_view(&mut self) -> View {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.view()
    }

    /// Graceful stop by SIGTERM; as [`Instance::stop`].
    pub fn terminate(mut self, within: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.wait(within)
    }

    fn wait(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() >= deadline {
                eprintln!(
                    "instance {} did not stop within {within:?}: SIGKILL",
                    self.id
                );
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process exited by itself (status if so).
    pub fn exited(&mut self) -> Option<i32> {
        match self.child.try_wait() {
            Ok(Some(s)) => Some(s.code().unwrap_or(-1)),
            _ => None,
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tasks `0_0..0_{n-1}`.
pub fn all_tasks(n: i32) -> BTreeSet<String> {
    (0..n).map(|p| format!("0_{p}")).collect()
}

/// Whether the instances are settled: each `Running`, and every task of `expected` owned by
/// exactly one of them.
pub fn settled(instances: &[&Instance], expected: &BTreeSet<String>) -> bool {
    let mut owned: Vec<String> = Vec::new();
    for i in instances {
        let v = i.view();
        if v.state != "Running" {
            return false;
        }
        owned.extend(v.tasks);
    }
    let distinct: BTreeSet<String> = owned.iter().cloned().collect();
    owned.len() == expected.len() && &distinct == expected
}

/// Wait until [`settled`] holds for `stable` without a break; panics after `within` with what
/// each instance reports.
pub fn wait_settled(
    instances: &[&Instance],
    expected: &BTreeSet<String>,
    stable: Duration,
    within: Duration,
) -> Duration {
    let start = Instant::now();
    let mut since: Option<Instant> = None;
    loop {
        if settled(instances, expected) {
            let s = *since.get_or_insert_with(Instant::now);
            if s.elapsed() >= stable {
                return start.elapsed();
            }
        } else {
            since = None;
        }
        if start.elapsed() > within {
            let views: Vec<String> = instances
                .iter()
                .map(|i| {
                    let v = i.view();
                    format!(
                        "instance {}: state {:?}, tasks {}",
                        i.id, v.state, v.tasks_line
                    )
                })
                .collect();
            panic!(
                "the instances never settled on one owner per task within {within:?}: {}",
                views.join("; ")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `instance → tasks` for printing.
pub fn assignment(instances: &[&Instance]) -> String {
    instances
        .iter()
        .map(|i| {
            let v = i.view();
            format!(
                "instance {} -> [{}] ({})",
                i.id,
                v.tasks.iter().cloned().collect::<Vec<_>>().join(","),
                v.tasks_line.split('|').nth(1).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether the group committed the end offset of every partition of `input`.
pub async fn caught_up(admin: &Admin, group: &str, input: &str, partitions: i32) -> bool {
    let tps: Vec<TopicPartition> = (0..partitions)
        .map(|p| TopicPartition::new(input, p))
        .collect();
    let Ok(committed) = admin.list_group_offsets(group, Some(&tps)).await else {
        return false;
    };
    let specs: Vec<(TopicPartition, OffsetSpec)> = tps
        .iter()
        .map(|tp| (tp.clone(), OffsetSpec::Latest))
        .collect();
    let Ok(ends) = admin.list_offsets(&specs).await else {
        return false;
    };
    tps.iter().all(|tp| {
        let end = ends.get(tp).map_or(0, |o| o.offset);
        committed.get(tp).map_or(end == 0, |c| c.offset >= end)
    })
}

/// The end offsets of every partition of `topic`.
pub async fn end_offsets(admin: &Admin, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let specs: Vec<(TopicPartition, OffsetSpec)> = (0..partitions)
        .map(|p| (TopicPartition::new(topic, p), OffsetSpec::Latest))
        .collect();
    admin
        .list_offsets(&specs)
        .await
        .unwrap_or_else(|e| panic!("end offsets of {topic}: {e}"))
        .into_iter()
        .map(|(tp, o)| (tp.partition, o.offset))
        .collect()
}

/// Every record of `topic` (all `partitions`, from the beginning to the current end), in
/// offset order per partition.
pub async fn read_all(
    bootstrap: &str,
    admin: &Admin,
    topic: &str,
    partitions: i32,
) -> Vec<kafka_wire::consumer::ConsumerRecord> {
    let ends = end_offsets(admin, topic, partitions).await;
    read_to(
        bootstrap,
        topic,
        partitions,
        &ends,
        IsolationLevel::ReadUncommitted,
    )
    .await
}

/// Every committed record of `topic`, read with `isolation.level=read_committed` from the
/// beginning to the high watermark, once no transaction is open on any partition (the last
/// stable offset equals the high watermark; panics if that takes over `within`). In offset order
/// per partition; aborted records and transaction markers are not in it.
pub async fn read_all_committed(
    bootstrap: &str,
    admin: &Admin,
    topic: &str,
    partitions: i32,
    within: Duration,
) -> Vec<kafka_wire::consumer::ConsumerRecord> {
    let start = Instant::now();
    let ends = loop {
        let high = end_offsets(admin, topic, partitions).await;
        let stable = stable_offsets(admin, topic, partitions).await;
        if high == stable {
            break high;
        }
        assert!(
            start.elapsed() < within,
            "{topic}: transactions still open after {within:?}: last stable offsets {stable:?}, high watermarks {high:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    read_to(
        bootstrap,
        topic,
        partitions,
        &ends,
        IsolationLevel::ReadCommitted,
    )
    .await
}

/// The last stable offsets (`read_committed` end offsets) of every partition of `topic`.
pub async fn stable_offsets(admin: &Admin, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let specs: Vec<(TopicPartition, OffsetSpec)> = (0..partitions)
        .map(|p| (TopicPartition::new(topic, p), OffsetSpec::Latest))
        .collect();
    let options = ListOffsetsOptions {
        isolation_level: IsolationLevel::ReadCommitted,
    };
    admin
        .list_offsets_with(&specs, options)
        .await
        .unwrap_or_else(|e| panic!("stable offsets of {topic}: {e}"))
        .into_iter()
        .map(|(tp, o)| (tp.partition, o.offset))
        .collect()
}

/// Every record of `topic` below `ends` (per partition), read under `isolation`.
async fn read_to(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    ends: &BTreeMap<i32, i64>,
    isolation: IsolationLevel,
) -> Vec<kafka_wire::consumer::ConsumerRecord> {
    let mut config = ConsumerConfig::new(bootstrap);
    if isolation == IsolationLevel::ReadCommitted {
        config.set("isolation.level", "read_committed").unwrap();
    }
    let mut reader = Consumer::connect(config)
        .await
        .unwrap_or_else(|e| panic!("reader: {e}"));
    let tps: Vec<TopicPartition> = (0..partitions)
        .map(|p| TopicPartition::new(topic, p))
        .collect();
    reader.assign(tps.clone());
    for tp in &tps {
        reader.seek(tp, Offset::Beginning).unwrap();
    }
    let mut out = Vec::new();
    let start = Instant::now();
    while !tps
        .iter()
        .all(|tp| reader.position(tp).unwrap_or(0) >= ends[&tp.partition])
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "reading {topic} to its end {ends:?} took too long"
        );
        out.extend(reader.poll(Duration::from_millis(500)).await.unwrap());
    }
    out.retain(|r| r.offset < ends[&r.partition]);
    out
}

/// The last count per key of a `streams_count` output (String key, i64 big-endian value),
/// with the number of records read.
pub async fn last_counts(
    bootstrap: &str,
    admin: &Admin,
    topic: &str,
    partitions: i32,
) -> (BTreeMap<String, i64>, usize) {
    let records = read_all(bootstrap, admin, topic, partitions).await;
    let mut last = BTreeMap::new();
    for r in &records {
        let key =
            String::from_utf8(r.key.as_deref().unwrap_or_default().to_vec()).expect("UTF-8 keys");
        let value: [u8; 8] = r
            .value
            .as_deref()
            .unwrap_or_default()
            .try_into()
            .expect("8-byte counts");
        last.insert(key, i64::from_be_bytes(value));
    }
    (last, records.len())
}

/// Write records `from..from + n` to `topic`, record `i` keyed `k{i % keys}` with value `v{i}`
/// (the `streams_count` input), and wait until each is acknowledged.
pub async fn produce_keyed(bootstrap: &str, topic: &str, from: usize, n: usize, keys: usize) {
    let mut config = kafka_wire::producer::ProducerConfig::new(bootstrap);
    config.set("linger.ms", "5").expect("linger.ms");
    let producer = kafka_wire::producer::Producer::connect(config)
        .await
        .unwrap_or_else(|e| panic!("producer: {e}"));
    let mut pending = Vec::with_capacity(n);
    for i in from..from + n {
        let record = kafka_wire::producer::ProducerRecord::new(topic)
            .key(format!("k{}", i % keys))
            .value(format!("v{i}"));
        pending.push(
            producer
                .send(record)
                .await
                .unwrap_or_else(|e| panic!("send to {topic}: {e}")),
        );
    }
    for d in pending {
        d.await.unwrap_or_else(|e| panic!("write to {topic}: {e}"));
    }
    producer
        .close()
        .await
        .unwrap_or_else(|e| panic!("close: {e}"));
}
