//! Kafka's `WordCountProcessorDemo` (kafka-streams-examples) on our Processor API: the same
//! application id, topics, store and output records.
//!
//! ```text
//! cargo run -p streams-core --example wordcount_processor -- 127.0.0.1:9092
//! ```
//! Reads lines from `streams-plaintext-input`, counts words in the in-memory store `Counts`,
//! and every second of stream time writes every word's count (as a string) to
//! `streams-wordcount-processor-output`. Stops on Ctrl-C or after `--seconds N`.

use std::time::Duration;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext, PunctuationType};
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, StreamsConfig};
use streams_core::serde::{I64Serde, StringSerde};
use streams_core::state::StoreHandle;
use streams_core::topology::{StoreBuilder, TopologyBuilder};

/// Splits lines into words, counts them, and forwards all counts once per second.
struct WordCountProcessor {
    counts: StoreHandle<String, i64>,
}

impl Processor<Option<String>, String, String, String> for WordCountProcessor {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), BoxError> {
        let counts = self.counts.clone();
        ctx.schedule(
            Duration::from_secs(1),
            PunctuationType::StreamTime,
            move |ctx, timestamp| {
                for (word, count) in ctx.key_value_store(&counts)?.all()? {
                    ctx.forward(Record::new(word, count.to_string(), timestamp))?;
                }
                Ok(())
            },
        );
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<Option<String>, String>,
    ) -> Result<(), BoxError> {
        let mut store = ctx.key_value_store(&self.counts)?;
        for word in record.value.to_lowercase().split(' ') {
            let word = word.to_owned();
            let count = store.get(&word)?.unwrap_or(0) + 1;
            store.put(&word, &count)?;
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bootstrap = args
        .first()
        .cloned()
        .unwrap_or_else(|| "localhost:9092".into());
    let seconds: Option<u64> = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }

    let mut config = StreamsConfig::new("streams-wordcount-processor", &bootstrap);
    config.set("auto.offset.reset", "earliest")?;
    config.set("commit.interval.ms", "1000")?;

    let counts = StoreHandle::new("Counts", StringSerde, I64Serde);
    let mut builder = TopologyBuilder::new();
    let source = builder.add_source::<Option<String>, String>(
        "Source",
        &["streams-plaintext-input"],
        StringSerde,
        StringSerde,
    )?;
    let c = counts.clone();
    let process = builder.add_processor("Process", &[&source], move || WordCountProcessor {
        counts: c.clone(),
    })?;
    builder.add_state_store(StoreBuilder::in_memory_key_value(&counts), &["Process"])?;
    builder.add_sink(
        "Sink",
        "streams-wordcount-processor-output",
        StringSerde,
        StringSerde,
        &[&process],
    )?;
    let topology = builder.build()?;

    let mut streams = KafkaStreams::new(topology, config)?;
    streams.set_state_listener(|from, to| eprintln!("state {from:?} -> {to:?}"));
    streams.start()?;
    match seconds {
        Some(s) => std::thread::sleep(Duration::from_secs(s)),
        None => {
            let (tx, rx) = std::sync::mpsc::channel();
            let _ = std::thread::spawn(move || {
                let mut line = String::new();
                // Stop when stdin closes (or on Ctrl-C, which ends the process).
                while std::io::stdin()
                    .read_line(&mut line)
                    .map(|n| n > 0)
                    .unwrap_or(false)
                {
                    line.clear();
                }
                let _ = tx.send(());
            });
            let _ = rx.recv();
        }
    }
    streams.close(Duration::from_secs(10));
    Ok(())
}
