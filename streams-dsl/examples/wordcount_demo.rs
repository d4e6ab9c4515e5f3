//! The README's demo (`scripts/demo`): Kafka's WordCount in the DSL, fed sample text, its
//! counts printed as they change, then a clean stop.
//!
//! ```text
//! cargo run --release -p streams-dsl --example wordcount_demo -- BOOTSTRAP
//! ```
//!
//! Creates fresh topics (`wordcount-demo-<time>-input` and `-output`), starts WordCount under
//! `exactly_once_v2` (the topology of `examples/wordcount.rs`: lower-case, split on `\W+`,
//! group by word, count), produces a few lines of text one by one, and prints each count
//! update read back with `read_committed` (so only committed results show). Closes the
//! application, deletes the topics and its group, and exits.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::runtime::{KafkaStreams, StreamsConfig};
use streams_core::serde::{I64Serde, StringSerde};
use streams_dsl::{Produced, StreamsBuilder};

const TEXT: &[&str] = &[
    "All streams lead to Kafka",
    "Hello Kafka Streams",
    "Join Kafka Summit",
    "the quick brown fox jumps over the lazy dog",
    "Kafka Streams in Rust: one static binary, exactly once",
];

fn main() {
    let Some(bootstrap) = std::env::args().nth(1) else {
        eprintln!("usage: cargo run -p streams-dsl --example wordcount_demo -- BOOTSTRAP");
        std::process::exit(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wordcount_demo: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = run(&bootstrap, &runtime) {
        eprintln!("wordcount_demo: {e}");
        std::process::exit(1);
    }
}

/// Java's `split("\\W+")` words of the lower-cased line (as `examples/wordcount.rs`).
fn words(line: &str) -> Vec<String> {
    common::split_non_word(&line.to_lowercase())
}

fn run(bootstrap: &str, rt: &tokio::runtime::Runtime) -> Result<(), Box<dyn std::error::Error>> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let app = format!("wordcount-demo-{stamp}");
    let (input, output) = (format!("{app}-input"), format!("{app}-output"));
    let admin = rt.block_on(Admin::connect(ClientConfig::new(bootstrap)))?;
    rt.block_on(async {
        admin.create_topic(NewTopic::new(&input, 1, 1)).await?;
        admin.create_topic(NewTopic::new(&output, 1, 1)).await?;
        admin
            .wait_for_leaders(&[input.clone(), output.clone()])
            .await
    })?;

    // The application: WordCount in the DSL.
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(&input)
        .flat_map_values(|line: String| words(&line))
        .group_by(|_, word: &String| word.clone())
        .count()
        .to_stream()
        .to_with(&output, Produced::with(StringSerde, I64Serde));
    let topology = builder.build()?;
    println!(
        "The topology (as Kafka Streams describes it):\n{}",
        topology.describe()
    );
    let mut config = StreamsConfig::new(&app, bootstrap);
    config.set("processing.guarantee", "exactly_once_v2")?;
    config.set("statestore.cache.max.bytes", "0")?;
    config.set(
        "state.dir",
        &std::env::temp_dir().join("kafka-streams").to_string_lossy(),
    )?;
    let mut streams = KafkaStreams::new(topology, config)?;
    streams.start()?;

    let counted = rt.block_on(async {
        let producer = Producer::connect(ProducerConfig::new(bootstrap)).await?;
        let mut reader = ConsumerConfig::new(bootstrap);
        reader.set("isolation.level", "read_committed")?;
        let mut consumer = Consumer::connect(reader).await?;
        let tp = TopicPartition::new(&output, 0);
        consumer.assign([tp.clone()]);
        consumer.seek(&tp, Offset::Beginning)?;
        let expected: usize = TEXT.iter().map(|l| words(l).len()).sum();
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut updates = 0;
        for line in TEXT {
            println!("\n> {line}");
            producer
                .send(ProducerRecord::new(&input).value(line.to_string()))
                .await?
                .await?;
            // Print the updates this line caused, as the application commits them.
            let want: usize = updates + words(line).len();
            let deadline = Instant::now() + Duration::from_secs(30);
            while updates < want && Instant::now() < deadline {
                for r in consumer.poll(Duration::from_millis(200)).await? {
                    let word =
                        String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned();
                    let count = r
                        .value
                        .as_deref()
                        .and_then(|v| <[u8; 8]>::try_from(v).ok())
                        .map(i64::from_be_bytes)
                        .unwrap_or(-1);
                    println!("  {word:<10} {count}");
                    counts.insert(word, count);
                    updates += 1;
                }
            }
            if updates < want {
                return Err(format!("no committed count for {line:?} within 30 s").into());
            }
        }
        producer.close().await?;
        let _ = consumer.close().await;
        println!("\n{updates} updates for {expected} words; final counts:");
        Ok::<_, Box<dyn std::error::Error>>(counts)
    });
    streams.close(Duration::from_secs(30));
    let counts = counted?;
    for (word, count) in &counts {
        println!("  {word:<10} {count}");
    }
    rt.block_on(async {
        let _ = admin.delete_groups(&[app.as_str()]).await;
        let mut topics: Vec<String> = admin
            .list_topics()
            .await?
            .into_iter()
            .filter(|t| t.starts_with(&format!("{app}-")))
            .collect();
        topics.extend([input.clone(), output.clone()]);
        topics.dedup();
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        admin.delete_topics(&topics).await
    })?;
    println!("\nClosed cleanly; the demo's topics and group are deleted.");
    Ok(())
}
