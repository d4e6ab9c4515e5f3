//! What Kafka's demos ported here share: the command line, the configuration every demo
//! gets, Java's `split("\\W+")` as owned words, and a clean close on SIGINT or SIGTERM (the Java demos'
//! shutdown hook).
//!
//! Command line: `BOOTSTRAP [at_least_once|exactly_once_v2]` — the bootstrap servers, then
//! the processing guarantee (at-least-once when left out). State goes under
//! `$STATE_DIR` when set, else `<system temp dir>/kafka-streams` (Java's `state.dir` default).

#![allow(dead_code)] // each example uses what it needs

use std::error::Error;
use std::time::Duration;

use streams_core::runtime::{KafkaStreams, StreamsConfig};
use streams_core::topology::Topology;

/// The parsed command line.
pub struct DemoArgs {
    /// `bootstrap.servers`.
    pub bootstrap: String,
    /// `processing.guarantee`.
    pub guarantee: String,
}

/// Parse `BOOTSTRAP [at_least_once|exactly_once_v2]`, or explain the usage of `example`.
pub fn parse_args(example: &str) -> Result<DemoArgs, String> {
    let usage = || {
        format!(
            "usage: cargo run -p streams-dsl --example {example} -- BOOTSTRAP [at_least_once|exactly_once_v2]"
        )
    };
    let mut args = std::env::args().skip(1);
    let bootstrap = args.next().ok_or_else(usage)?;
    if bootstrap.starts_with('-') {
        return Err(usage());
    }
    let guarantee = args.next().unwrap_or_else(|| "at_least_once".into());
    if guarantee != "at_least_once" && guarantee != "exactly_once_v2" {
        return Err(format!(
            "unknown processing guarantee {guarantee:?}: at_least_once or exactly_once_v2\n{}",
            usage()
        ));
    }
    if let Some(extra) = args.next() {
        return Err(format!("unexpected argument {extra:?}\n{}", usage()));
    }
    Ok(DemoArgs {
        bootstrap,
        guarantee,
    })
}

/// The configuration of the demo `application_id`: the demo's settings (Kafka's demos set
/// `auto.offset.reset=earliest` so a rerun reads the sample again), the guarantee and the
/// state directory.
pub fn config(
    application_id: &str,
    args: &DemoArgs,
    settings: &[(&str, &str)],
) -> Result<StreamsConfig, Box<dyn Error>> {
    let mut config = StreamsConfig::new(application_id, &args.bootstrap);
    config.set("processing.guarantee", &args.guarantee)?;
    config.set("auto.offset.reset", "earliest")?;
    let state_dir = std::env::var_os("STATE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("kafka-streams"));
    config.set("state.dir", &state_dir.to_string_lossy())?;
    for (k, v) in settings {
        config.set(k, v)?;
    }
    Ok(config)
}

/// Start `topology`, run until SIGINT or SIGTERM, then close (committing what was
/// processed) and return.
pub fn run_until_signal(topology: Topology, config: StreamsConfig) -> Result<(), Box<dyn Error>> {
    let mut streams = KafkaStreams::new(topology, config)?;
    streams.start()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })?;
    eprintln!("closing");
    streams.close(Duration::from_secs(30));
    Ok(())
}

/// Java's `split("\\W+")` pieces of `line`, owned.
pub fn split_non_word(line: &str) -> Vec<String> {
    streams_core::java_text::split_non_word(line)
        .into_iter()
        .map(str::to_owned)
        .collect()
}
pub mod pageview;
