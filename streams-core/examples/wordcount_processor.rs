//! Kafka's `WordCountProcessorDemo` (kafka-streams-examples 4.3.1) on our Processor API, with
//! the same output: `integration-tests/tests/streams_wordcount_java.rs` runs both on the same
//! input and finds the same records in `streams-wordcount-processor-output`.
//!
//! ```text
//! cargo run -p streams-core --example wordcount_processor -- [PROPERTIES_FILE | BOOTSTRAP] [--seconds N]
//! ```
//! Like the Java demo: the first argument is a Java properties file whose settings are applied
//! first (its `bootstrap.servers` says where Kafka is); then the demo's defaults fill what it
//! left unset: `application.id=streams-wordcount-processor`, `bootstrap.servers=localhost:9092`,
//! `statestore.cache.max.bytes=0`, String default serdes, `auto.offset.reset=earliest`. Ours
//! also takes a bare bootstrap (`host:port[,…]`) instead of the file.
//!
//! Reads lines from `streams-plaintext-input`; lower-cases each line and splits it as Java's
//! `split("\\W+")` does (on runs of characters other than ASCII letters, digits and `_`; an
//! empty leading piece is kept and counts as the word `""`, trailing empty pieces are dropped,
//! an empty line is the one word `""`); counts the words in the in-memory, logged store
//! `Counts` (String keys, 4-byte Integer counts, so its changelog holds what Java's does). A
//! stream-time punctuator (every second, aligned to 0, first at the first record) prints
//! `----------- <stream time> ----------- ` and `[word, count]` lines to stdout and forwards
//! every count, in the store's key order, as `(word, count as a decimal string)` with the
//! stream time as timestamp. Commits every 30 s (the default). Closes on Ctrl-C or SIGTERM, as
//! the Java demo's shutdown hook does, or after `--seconds N`.
//!
//! Differences that remain:
//! - Lower-casing is Unicode's, without a locale: it equals Java's `toLowerCase` in every
//!   locale but Turkish, Azeri and Lithuanian (where Java maps `I` to a dotless `ı`, say,
//!   which then splits words).
//! - `default.key.serde`/`default.value.serde` in the properties file must name the String
//!   serde (the topology's serdes are fixed); the Java demo would use any serde named there.
//!   `statestore.cache.max.bytes` is accepted and has no effect (as in Java here: `Counts` is
//!   built without caching).
//! - A record with a null value fails the stream thread in both (a NullPointerException in
//!   Java's processor; a deserialization error here), with different messages.
//! - A properties key our `StreamsConfig` rejects, or a value it cannot parse, is an error at
//!   start; Java logs unknown keys and goes on.

use std::time::Duration;

use streams_core::error::BoxError;
use streams_core::java_text::split_non_word;
use streams_core::processor::{Processor, ProcessorContext, PunctuationType};
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, StreamsConfig};
use streams_core::serde::{I32Serde, StringSerde};
use streams_core::state::StoreHandle;
use streams_core::topology::{StoreBuilder, TopologyBuilder};

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
        let line = record.value.to_lowercase();
        for word in split_non_word(&line) {
            let word = word.to_owned();
            let count = store.get(&word)?.map_or(1, |c| c.wrapping_add(1));
            store.put(&word, &count)?;
        }
        Ok(())
    }
}

/// Java's `Properties.load`: `key=value`, `key: value` or `key value` lines, `#`/`!`
/// comments, `\` continuation lines, and `\t \n \r \f \uXXXX` escapes.
fn parse_properties(text: &str) -> Vec<(String, String)> {
    // Join continuation lines (an odd number of trailing backslashes).
    let mut logical: Vec<String> = Vec::new();
    let mut pending: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim_start_matches([' ', '\t', '\x0c']);
        let line = match pending.take() {
            Some(mut p) => {
                p.push_str(line);
                p
            }
            None if line.is_empty() || line.starts_with(['#', '!']) => continue,
            None => line.to_owned(),
        };
        let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            pending = Some(line[..line.len() - 1].to_owned());
        } else {
            logical.push(line);
        }
    }
    logical.extend(pending);

    let unescape = |s: &str| -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('f') => out.push('\x0c'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        out.push(c);
                    }
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        out
    };
    logical
        .iter()
        .map(|line| {
            // The key ends at the first unescaped '=', ':' or whitespace.
            let mut end = line.len();
            let mut escaped = false;
            for (i, c) in line.char_indices() {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if matches!(c, '=' | ':' | ' ' | '\t' | '\x0c') {
                    end = i;
                    break;
                }
            }
            let rest = line[end..].trim_start_matches([' ', '\t', '\x0c']);
            let rest = rest
                .strip_prefix(['=', ':'])
                .map_or(rest, |r| r.trim_start_matches([' ', '\t', '\x0c']));
            (unescape(&line[..end]), unescape(rest))
        })
        .collect()
}

/// The settings: the properties file (or a bare bootstrap), then the demo's defaults.
fn config_from(first: Option<&str>) -> Result<StreamsConfig, Box<dyn std::error::Error>> {
    let props: Vec<(String, String)> = match first {
        Some(arg) if std::path::Path::new(arg).is_file() => {
            parse_properties(&std::fs::read_to_string(arg)?)
        }
        Some(bootstrap) => vec![("bootstrap.servers".into(), bootstrap.into())],
        None => Vec::new(),
    };
    let get = |key: &str| {
        props
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut config = StreamsConfig::new(
        get("application.id").unwrap_or("streams-wordcount-processor"),
        get("bootstrap.servers").unwrap_or("localhost:9092"),
    );
    for (key, value) in &props {
        match key.as_str() {
            "default.key.serde" | "default.value.serde" => {
                if !value.ends_with("StringSerde") {
                    return Err(format!(
                        "{key}={value}: this port's topology uses String serdes only"
                    )
                    .into());
                }
            }
            // No cached store in this topology: the cache size changes nothing (nor in Java).
            "statestore.cache.max.bytes" | "cache.max.bytes.buffering" => {}
            _ => {
                config.set(key, value)?;
            }
        }
    }
    if get("auto.offset.reset").is_none() {
        config.set("auto.offset.reset", "earliest")?;
    }
    Ok(config)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: Option<u64> = match args.iter().position(|a| a == "--seconds") {
        Some(i) => {
            let n = args
                .get(i + 1)
                .and_then(|s| s.parse().ok())
                .ok_or("--seconds takes a number")?;
            args.drain(i..i + 2);
            Some(n)
        }
        None => None,
    };
    if args.len() > 1 {
        println!(
            "Warning: arguments after the first (a properties file or a bootstrap) were ignored."
        );
    }
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let config = config_from(args.first().map(String::as_str))?;

    let counts = StoreHandle::new("Counts", StringSerde, I32Serde);
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
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    signals.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let timeout = async {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = timeout => {}
        }
        Ok::<_, std::io::Error>(())
    })?;
    streams.close(Duration::from_secs(10));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_java_properties() {
        let p = parse_properties(
            "# c\n! c\n  bootstrap.servers = a:1,\\\n   b:2\napplication.id:x\nk\\=y v\\u0041\nempty\n",
        );
        assert_eq!(
            p,
            [
                ("bootstrap.servers".into(), "a:1,b:2".into()),
                ("application.id".into(), "x".into()),
                ("k=y".into(), "vA".into()),
                ("empty".into(), String::new()),
            ]
        );
    }
}
