//! `LineSplit` from Kafka's Streams quickstart tutorial: each line of
//! `streams-plaintext-input` split as Java's `split("\\W+")` does (no lower-casing), each
//! piece a record of `streams-linesplit-output` with the line's key. Application id
//! `streams-linesplit`.
//!
//! ```text
//! cargo run -p streams-dsl --example linesplit -- BOOTSTRAP [at_least_once|exactly_once_v2]
//! ```

mod common;

use streams_dsl::StreamsBuilder;

fn main() {
    if let Err(e) = run() {
        eprintln!("linesplit: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::parse_args("linesplit")?;
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("streams-plaintext-input")
        .flat_map_values(|line: String| common::split_non_word(&line))
        .to("streams-linesplit-output");
    let config = common::config("streams-linesplit", &args, &[])?;
    common::run_until_signal(builder.build()?, config)
}
