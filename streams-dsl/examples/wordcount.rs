//! Kafka's `WordCountDemo` (kafka-streams-examples 4.3.1) in the DSL, with the same
//! application id, topics, serdes and output records:
//!
//! ```text
//! cargo run -p streams-dsl --example wordcount -- BOOTSTRAP [at_least_once|exactly_once_v2]
//! ```
//!
//! Reads lines from `streams-plaintext-input` (String keys and values), lower-cases each and
//! splits it as Java's `split("\\W+")` does (an empty leading piece counts as the word `""`,
//! as in Java), counts the words, and writes every updated count to
//! `streams-wordcount-output` (String word, 8-byte big-endian Long count). Like the Java demo
//! it turns the record cache off (`statestore.cache.max.bytes=0`), so each word of each line
//! gives one output record. Application id `streams-wordcount`.

mod common;

use streams_core::serde::{I64Serde, StringSerde};
use streams_dsl::{Produced, StreamsBuilder};

fn main() {
    if let Err(e) = run() {
        eprintln!("wordcount: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::parse_args("wordcount")?;
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("streams-plaintext-input")
        .flat_map_values(|line: String| common::split_non_word(&line.to_lowercase()))
        .group_by(|_, word: &String| word.clone())
        .count()
        .to_stream()
        .to_with(
            "streams-wordcount-output",
            Produced::with(StringSerde, I64Serde),
        );
    let topology = builder.build()?;
    let config = common::config(
        "streams-wordcount",
        &args,
        &[("statestore.cache.max.bytes", "0")],
    )?;
    common::run_until_signal(topology, config)
}
