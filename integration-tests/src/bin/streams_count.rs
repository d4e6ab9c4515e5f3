//! `streams_count BOOTSTRAP APPLICATION_ID INPUT OUTPUT NUM_THREADS [KEY=VALUE ...]`
//!
//! A stateful streams application, the process `tests/streams_kill_loop*.rs` (through
//! `src/streams_kill.rs`), `tests/streams_scaling.rs` and others start, kill and stop: Source(INPUT, String keys and values) →
//! Processor "Count" (a count per key in the in-memory store "Counts", logged to
//! `<APPLICATION_ID>-Counts-changelog`; every update forwards `(key, count)`) → Sink(OUTPUT,
//! String key, i64 big-endian value). `commit.interval.ms=1000`, `session.timeout.ms=6000`,
//! `heartbeat.interval.ms=1000`, then the optional `KEY=VALUE` settings. The pseudo-setting
//! `app.store=persistent` makes "Counts" a persistent (redb) store under `state.dir`.
//!
//! stdout, one line each (the tests parse them):
//! - `state <FROM> -> <TO>` on every state change of the application;
//! - `tasks <ids>|<thread>:<ids> ...` whenever the active tasks of this instance change (after
//!   each rebalance), `<ids>` comma-separated (`-` for none), e.g.
//!   `tasks 0_0,0_3|StreamThread-1:0_0 StreamThread-2:0_3`;
//! - `standbys <ids>` whenever the standby (and warm-up) tasks of this instance change;
//! - `restore-start <store> <changelog> <start> <end>`, `restore-end <store> <changelog>
//!   <records> <ms>` for every changelog restoration;
//! - `wipe <task> <store> <reason>` when a store is emptied to be restored from its changelog's
//!   start (`StateRestoreListener::on_store_wiped`);
//! - `closing <why>` and `closed <true|false>` when it stops.
//!
//! Runs until stdin closes or SIGTERM arrives, then closes the application (commit, leave the
//! group) and exits 0; exits 3 if the application went to ERROR. `RUST_LOG` enables tracing on
//! stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::process::exit;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use kafka_wire::TopicPartition;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StateRestoreListener, StreamsConfig};
use streams_core::serde::{I64Serde, StringSerde};
use streams_core::state::StoreHandle;
use streams_core::topology::{StoreBuilder, TopologyBuilder};
use streams_core::TaskId;

/// Counts records per key and forwards every new count.
struct Count {
    counts: StoreHandle<String, i64>,
}

impl Processor<String, String, String, i64> for Count {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, String>,
    ) -> Result<(), BoxError> {
        let mut store = ctx.key_value_store(&self.counts)?;
        let count = store.get(&record.key)?.unwrap_or(0) + 1;
        store.put(&record.key, &count)?;
        ctx.forward(record.with_value(count))?;
        Ok(())
    }
}

/// Prints every restoration (start and end, with its duration).
#[derive(Default)]
struct PrintRestores {
    started: Mutex<BTreeMap<TopicPartition, Instant>>,
}

impl StateRestoreListener for PrintRestores {
    fn on_restore_start(&self, changelog: &TopicPartition, store: &str, start: i64, end: i64) {
        if let Ok(mut m) = self.started.lock() {
            m.insert(changelog.clone(), Instant::now());
        }
        println!("restore-start {store} {changelog} {start} {end}");
    }

    fn on_restore_end(&self, changelog: &TopicPartition, store: &str, total: u64) {
        let ms = self
            .started
            .lock()
            .ok()
            .and_then(|mut m| m.remove(changelog))
            .map_or(0, |t| t.elapsed().as_millis());
        println!("restore-end {store} {changelog} {total} {ms}");
    }

    fn on_store_wiped(&self, task: TaskId, store: &str, reason: &str) {
        println!("wipe {task} {store} {reason}");
    }
}

enum Event {
    State(State),
    Stop(&'static str),
}

fn die(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("streams_count: fatal: {what}: {err}");
    exit(2)
}

fn ids(tasks: &BTreeSet<TaskId>) -> String {
    if tasks.is_empty() {
        return "-".into();
    }
    tasks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!(
            "usage: streams_count BOOTSTRAP APPLICATION_ID INPUT OUTPUT NUM_THREADS [KEY=VALUE ...]"
        );
        exit(64);
    }
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let (bootstrap, app, input, output, threads) =
        (&args[0], &args[1], &args[2], &args[3], &args[4]);

    let mut config = StreamsConfig::new(app, bootstrap);
    let mut settings: Vec<(String, String)> = [
        ("num.stream.threads", threads.as_str()),
        ("commit.interval.ms", "1000"),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "1000"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let mut persistent = false;
    for kv in &args[5..] {
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| die("setting", format!("{kv:?} is not KEY=VALUE")));
        if k == "app.store" {
            persistent = match v {
                "persistent" => true,
                "memory" => false,
                other => die(
                    "app.store",
                    format!("{other:?} is neither persistent nor memory"),
                ),
            };
            continue;
        }
        settings.push((k.to_owned(), v.to_owned()));
    }
    for (k, v) in &settings {
        if let Err(e) = config.set(k, v) {
            die(&format!("setting {k}={v}"), e);
        }
    }

    let counts = StoreHandle::new("Counts", StringSerde, I64Serde);
    let mut builder = TopologyBuilder::new();
    let topology = (|| -> Result<_, Box<dyn std::error::Error>> {
        let source =
            builder.add_source::<String, String>("Source", &[input], StringSerde, StringSerde)?;
        let c = counts.clone();
        let count =
            builder.add_processor("Count", &[&source], move || Count { counts: c.clone() })?;
        let store = if persistent {
            StoreBuilder::persistent_key_value(&counts)
        } else {
            StoreBuilder::in_memory_key_value(&counts)
        };
        builder.add_state_store(store, &["Count"])?;
        builder.add_sink("Sink", output, StringSerde, I64Serde, &[&count])?;
        Ok(builder.build()?)
    })()
    .unwrap_or_else(|e| die("topology", e));

    let (tx, rx) = mpsc::channel::<Event>();
    let mut streams = KafkaStreams::new(topology, config).unwrap_or_else(|e| die("new", e));
    streams.set_global_state_restore_listener(PrintRestores::default());
    let events = tx.clone();
    streams.set_state_listener(move |from, to| {
        println!("state {from:?} -> {to:?}");
        let _ = events.send(Event::State(to));
    });

    // Stop on stdin closing or on SIGTERM.
    let events = tx.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin()
            .read_line(&mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            line.clear();
        }
        let _ = events.send(Event::Stop("stdin closed"));
    });
    let events = tx;
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| die("signal runtime", e));
        rt.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .unwrap_or_else(|e| die("watch SIGTERM", e));
            term.recv().await;
        });
        let _ = events.send(Event::Stop("SIGTERM"));
    });

    streams.start().unwrap_or_else(|e| die("start", e));
    let mut last_tasks: Option<String> = None;
    let mut last_standbys: Option<String> = None;
    let why = loop {
        let event = rx.recv_timeout(Duration::from_millis(100));
        let threads = streams.local_thread_metadata();
        let all: BTreeSet<TaskId> = threads
            .iter()
            .flat_map(|t| t.active_tasks.iter().copied())
            .collect();
        let per_thread: Vec<String> = threads
            .iter()
            .map(|t| {
                let short = t
                    .thread_name
                    .rsplit_once("-StreamThread-")
                    .map_or(t.thread_name.clone(), |(_, n)| format!("StreamThread-{n}"));
                format!("{short}:{}", ids(&t.active_tasks))
            })
            .collect();
        let line = format!("tasks {}|{}", ids(&all), per_thread.join(" "));
        if last_tasks.as_ref() != Some(&line) {
            println!("{line}");
            last_tasks = Some(line);
        }
        let standbys: BTreeSet<TaskId> = threads
            .iter()
            .flat_map(|t| t.standby_tasks.iter().copied())
            .collect();
        let line = format!("standbys {}", ids(&standbys));
        if last_standbys.as_ref() != Some(&line) {
            println!("{line}");
            last_standbys = Some(line);
        }
        match event {
            Ok(Event::Stop(why)) => break why,
            Ok(Event::State(State::Error)) => break "error",
            Ok(Event::State(_)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break "channel closed",
        }
    };
    println!("closing {why}");
    let closed = streams.close(Duration::from_secs(30));
    println!("closed {closed}");
    exit(if why == "error" { 3 } else { 0 });
}
