//! Kafka's `WordCountTransformerDemo` (kafka-streams-examples 4.3.1): the DSL's `process`
//! into a Processor API processor that counts words in the in-memory store `Counts` (String
//! keys, Integer counts) and, once per second of stream time, prints and forwards every
//! count as `(word, count as a decimal string)` to `streams-wordcount-processor-output`.
//! Application id `streams-wordcount-transformer`; record cache off, as in the Java demo.
//!
//! ```text
//! cargo run -p streams-dsl --example wordcount_transformer -- BOOTSTRAP [at_least_once|exactly_once_v2]
//! ```

mod common;

use std::time::Duration;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext, PunctuationType};
use streams_core::record::Record;
use streams_core::serde::{I32Serde, StringSerde};
use streams_core::state::StoreHandle;
use streams_core::topology::StoreBuilder;
use streams_dsl::StreamsBuilder;

/// Counts words and forwards every count once per second of stream time.
struct WordCountProcessor {
    counts: StoreHandle<String, i32>,
}

impl Processor<Option<String>, String, String, String> for WordCountProcessor {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), BoxError> {
        let counts = self.counts.clone();
        ctx.schedule(
            Duration::from_secs(1),
            PunctuationType::StreamTime,
            move |ctx, timestamp| {
                println!("----------- {timestamp} ----------- ");
                for (word, count) in ctx.key_value_store(&counts)?.all()? {
                    println!("[{word}, {count}]");
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
        for word in common::split_non_word(&record.value.to_lowercase()) {
            let count = store.get(&word)?.map_or(1, |c| c.wrapping_add(1));
            store.put(&word, &count)?;
        }
        Ok(())
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("wordcount_transformer: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::parse_args("wordcount_transformer")?;
    let counts = StoreHandle::new("Counts", StringSerde, I32Serde);
    let builder = StreamsBuilder::new();
    builder.add_state_store(StoreBuilder::in_memory_key_value(&counts));
    let store = counts.clone();
    builder
        .stream::<Option<String>, String>("streams-plaintext-input")
        .process(
            move || WordCountProcessor {
                counts: store.clone(),
            },
            &["Counts"],
        )
        .to("streams-wordcount-processor-output");
    let config = common::config(
        "streams-wordcount-transformer",
        &args,
        &[("statestore.cache.max.bytes", "0")],
    )?;
    common::run_until_signal(builder.build()?, config)
}
