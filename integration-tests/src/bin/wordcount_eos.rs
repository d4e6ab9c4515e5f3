//! `wordcount_eos BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR [KEY=VALUE ...]`
//!
//! WordCount on the Processor API under exactly-once, the process `tests/streams_eos_recovery.rs`
//! SIGKILLs and restarts (its Java twin is `peers/WordCountEos.java`): Source(INPUT, nullable
//! String keys, String lines) → Processor "Count" (each line lower-cased and split as Java's
//! `split("\\W+")` on ASCII, empty pieces skipped; a count per word in the persistent (redb)
//! store "Counts" under STATE_DIR, logged to `<APPLICATION_ID>-Counts-changelog`; every new count
//! forwarded as `(word, count)`) → Sink(OUTPUT, String key, i64 big-endian value, as Java's
//! `LongSerializer`).
//!
//! Settings: `processing.guarantee=exactly_once_v2` (so `commit.interval.ms` 100), no record
//! cache, `auto.offset.reset=earliest`, everything else at its default (`session.timeout.ms`
//! 45 s and static membership on), then the `KEY=VALUE` arguments.
//!
//! stdout: `state <FROM> -> <TO>` on every state change. Runs until stdin closes or SIGTERM
//! arrives, then closes (exit 0); exits 3 if the application went to ERROR. `RUST_LOG` enables
//! tracing on stderr.

use std::process::exit;
use std::sync::mpsc;
use std::time::Duration;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig};
use streams_core::serde::{I64Serde, StringSerde};
use streams_core::state::StoreHandle;
use streams_core::topology::{StoreBuilder, TopologyBuilder};

/// Counts the words of each line and forwards every new count.
struct WordCount {
    counts: StoreHandle<String, i64>,
}

impl Processor<Option<String>, String, String, i64> for WordCount {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<Option<String>, String>,
    ) -> Result<(), BoxError> {
        let line = record.value.to_lowercase();
        let words: Vec<String> = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let timestamp = record.timestamp;
        for word in words {
            let count = {
                let mut store = ctx.key_value_store(&self.counts)?;
                let count = store.get(&word)?.unwrap_or(0) + 1;
                store.put(&word, &count)?;
                count
            };
            ctx.forward(Record::new(word, count, timestamp))?;
        }
        Ok(())
    }
}

enum Event {
    State(State),
    Stop,
}

fn die(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("wordcount_eos: fatal: {what}: {err}");
    exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!(
            "usage: wordcount_eos BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR [KEY=VALUE ...]"
        );
        exit(64);
    }
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let (bootstrap, app, input, output, state_dir) =
        (&args[0], &args[1], &args[2], &args[3], &args[4]);
    let mut config = StreamsConfig::new(app, bootstrap);
    let mut settings: Vec<(String, String)> = vec![
        ("processing.guarantee".into(), "exactly_once_v2".into()),
        ("state.dir".into(), state_dir.clone()),
        ("auto.offset.reset".into(), "earliest".into()),
    ];
    for kv in &args[5..] {
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| die("setting", format!("{kv:?} is not KEY=VALUE")));
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
        let source = builder.add_source::<Option<String>, String>(
            "Source",
            &[input],
            StringSerde,
            StringSerde,
        )?;
        let c = counts.clone();
        let count =
            builder.add_processor("Count", &[&source], move || WordCount { counts: c.clone() })?;
        builder.add_state_store(StoreBuilder::persistent_key_value(&counts), &["Count"])?;
        builder.add_sink("Sink", output, StringSerde, I64Serde, &[&count])?;
        Ok(builder.build()?)
    })()
    .unwrap_or_else(|e| die("topology", e));

    let (tx, rx) = mpsc::channel::<Event>();
    let mut streams = KafkaStreams::new(topology, config).unwrap_or_else(|e| die("new", e));
    let events = tx.clone();
    streams.set_state_listener(move |from, to| {
        println!("state {from:?} -> {to:?}");
        let _ = events.send(Event::State(to));
    });
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
        let _ = events.send(Event::Stop);
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
        let _ = events.send(Event::Stop);
    });

    streams.start().unwrap_or_else(|e| die("start", e));
    let error = loop {
        match rx.recv() {
            Ok(Event::State(State::Error)) => break true,
            Ok(Event::State(_)) => {}
            Ok(Event::Stop) | Err(_) => break false,
        }
    };
    streams.close(Duration::from_secs(30));
    exit(if error { 3 } else { 0 });
}
