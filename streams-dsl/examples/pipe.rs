//! Kafka's `PipeDemo` (kafka-streams-examples 4.3.1): every record of
//! `streams-plaintext-input` copied unchanged to `streams-pipe-output`. Application id
//! `streams-pipe`.
//!
//! ```text
//! cargo run -p streams-dsl --example pipe -- BOOTSTRAP [at_least_once|exactly_once_v2]
//! ```

mod common;

use streams_dsl::StreamsBuilder;

fn main() {
    if let Err(e) = run() {
        eprintln!("pipe: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::parse_args("pipe")?;
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, Option<String>>("streams-plaintext-input")
        .to("streams-pipe-output");
    let config = common::config("streams-pipe", &args, &[])?;
    common::run_until_signal(builder.build()?, config)
}
