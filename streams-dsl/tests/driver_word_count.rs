//! Kafka's `WordCountDemo` (`streams-plaintext-input` → `streams-wordcount-output`, lines
//! lower-cased and split on `\W+`) through the `TopologyTestDriver`, with the records Java's
//! driver returns for the same input — Kafka's own `WordCountDemoTest` cases, then the exact
//! sequence: one count update per word occurrence, in order, stamped with its line's time.

use std::collections::BTreeMap;
use std::time::Duration;

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, StringSerde};
use streams_dsl::{Materialized, Named, Produced, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

const INPUT: &str = "streams-plaintext-input";
const OUTPUT: &str = "streams-wordcount-output";

/// Java's `line.split("\\W+")`: `\W` is `[^a-zA-Z0-9_]`; a leading separator yields a
/// leading empty word, trailing empty words are dropped, and an empty line is one empty word.
fn java_split_non_word(line: &str) -> Vec<String> {
    let mut words: Vec<String> = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_owned)
        .collect();
    // Runs of separators split once: drop the empty pieces between adjacent separators,
    // keeping a leading one.
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, w) in words.drain(..).enumerate() {
        if i == 0 || !w.is_empty() {
            out.push(w);
        }
    }
    if line.is_empty() {
        return vec![String::new()];
    }
    while out.len() > 1 && out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    if out.len() == 1 && out[0].is_empty() && !line.is_empty() {
        // Only separators: Java returns an empty array.
        out.clear();
    }
    out
}

/// `WordCountDemo`'s topology.
fn word_count_driver() -> std::result::Result<TopologyTestDriver, Box<dyn std::error::Error>> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(INPUT)
        .flat_map_values(|line| java_split_non_word(&line.to_lowercase()))
        .group_by(|_, word| word.clone())
        .count_with(Named::empty(), Materialized::as_("counts-store"))
        .to_stream()
        .to_with(OUTPUT, Produced::with(StringSerde, I64Serde));
    Ok(TopologyTestDriver::new(
        builder.build()?,
        [("application.id", "streams-wordcount")],
        0,
    )?)
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn java_split_matches_java() {
    assert_eq!(java_split_non_word("hello kafka"), vec!["hello", "kafka"]);
    assert_eq!(
        java_split_non_word("  hi,  there!! "),
        vec!["", "hi", "there"]
    );
    assert_eq!(java_split_non_word(""), vec![""]);
    assert_eq!(java_split_non_word("..."), Vec::<String>::new());
    assert_eq!(
        java_split_non_word("snake_case x2"),
        vec!["snake_case", "x2"]
    );
}

/// Kafka's `WordCountDemoTest.testOneWord`.
#[test]
fn one_word() -> Result {
    let driver = word_count_driver()?;
    let mut input =
        driver.create_input_topic::<Option<String>, String>(INPUT, StringSerde, StringSerde)?;
    let output = driver.create_output_topic::<String, i64>(OUTPUT, StringSerde, I64Serde);
    input.pipe_value(s("Hello"))?;
    assert_eq!(output.read_key_value()?, (s("hello"), 1));
    assert!(output.is_empty());
    Ok(())
}

/// Kafka's `WordCountDemoTest.testCountListOfWords`, then every record in order.
#[test]
fn count_list_of_words() -> Result {
    let lines = [
        s("Apache Kafka Streams Example"),
        s("Using Kafka Streams Test Utils"),
        s("Reading and Writing Kafka Topic"),
    ];
    let driver = word_count_driver()?;
    let mut input =
        driver.create_input_topic::<Option<String>, String>(INPUT, StringSerde, StringSerde)?;
    let output = driver.create_output_topic::<String, i64>(OUTPUT, StringSerde, I64Serde);
    input.pipe_value_list(lines.clone())?;
    let expected: BTreeMap<String, i64> = [
        ("apache", 1),
        ("kafka", 3),
        ("streams", 2),
        ("example", 1),
        ("using", 1),
        ("test", 1),
        ("utils", 1),
        ("reading", 1),
        ("and", 1),
        ("writing", 1),
        ("topic", 1),
    ]
    .into_iter()
    .map(|(w, n)| (s(w), n))
    .collect();
    assert_eq!(output.read_key_values_to_map()?, expected);

    // The same lines one second apart: one update per word occurrence, in order.
    let driver = word_count_driver()?;
    let mut input =
        driver.create_input_topic::<Option<String>, String>(INPUT, StringSerde, StringSerde)?;
    let output = driver.create_output_topic::<String, i64>(OUTPUT, StringSerde, I64Serde);
    input.pipe_value_list_from(lines, 1_000, Duration::from_secs(1))?;
    let r = |w: &str, n: i64, t: i64| TestRecord::at(s(w), n, t);
    assert_eq!(
        output.read_records_to_list()?,
        vec![
            r("apache", 1, 1_000),
            r("kafka", 1, 1_000),
            r("streams", 1, 1_000),
            r("example", 1, 1_000),
            r("using", 1, 2_000),
            r("kafka", 2, 2_000),
            r("streams", 2, 2_000),
            r("test", 1, 2_000),
            r("utils", 1, 2_000),
            r("reading", 1, 3_000),
            r("and", 1, 3_000),
            r("writing", 1, 3_000),
            r("kafka", 3, 3_000),
            r("topic", 1, 3_000),
        ]
    );
    Ok(())
}

/// A word repeated within a line is counted once per occurrence (each goes through the
/// repartition topic on its own and is committed on its own), and Java's split gives a
/// leading empty word for a line starting with a separator — counted like any other.
#[test]
fn repeated_words_and_java_split_edges() -> Result {
    let driver = word_count_driver()?;
    let mut input =
        driver.create_input_topic::<Option<String>, String>(INPUT, StringSerde, StringSerde)?;
    let output = driver.create_output_topic::<String, i64>(OUTPUT, StringSerde, I64Serde);
    input.pipe_value_with_timestamp(s("To be, or not to BE"), 10)?;
    input.pipe_value_with_timestamp(s(" -- be"), 20)?;
    let r = |w: &str, n: i64, t: i64| TestRecord::at(s(w), n, t);
    assert_eq!(
        output.read_records_to_list()?,
        vec![
            r("to", 1, 10),
            r("be", 1, 10),
            r("or", 1, 10),
            r("not", 1, 10),
            r("to", 2, 10),
            r("be", 2, 10),
            r("", 1, 20),
            r("be", 3, 20),
        ]
    );
    let store = driver.get_key_value_store::<String, i64>("counts-store")?;
    assert_eq!(store.get(&s("be"))?, Some(3));
    assert_eq!(store.approximate_num_entries()?, 5);
    // Every word went through the repartition topic.
    let repartition = driver.create_output_topic::<String, String>(
        "streams-wordcount-counts-store-repartition",
        StringSerde,
        StringSerde,
    );
    assert_eq!(repartition.queue_size(), 8);
    Ok(())
}
