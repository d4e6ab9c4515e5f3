//! Stateless DSL operations run through the broker-less `TopologyTestDriver`: filter,
//! filter_not, map, flat_map_values, select_key, split, merge and peek, asserting the exact
//! records (key, value, timestamp, headers) Kafka's driver returns for the same input.

use std::time::Duration;

use kafka_wire::protocol::record_batch::Header;
use streams_core::testing::{TestDriverError, TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, StringSerde};
use streams_dsl::{Branched, Named, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

fn driver(
    builder: StreamsBuilder,
) -> std::result::Result<TopologyTestDriver, Box<dyn std::error::Error>> {
    Ok(TopologyTestDriver::new(
        builder.build()?,
        [("application.id", "stateless")],
        0,
    )?)
}

#[test]
fn filter_and_filter_not_split_numbers_keeping_key_and_timestamp() -> Result {
    let builder = StreamsBuilder::new();
    let numbers = builder.stream::<String, i64>("numbers");
    numbers.filter(|_, v| v % 2 == 0).to("evens");
    numbers.filter_not(|_, v| v % 2 == 0).to("odds");
    let driver = driver(builder)?;
    // Auto-advancing timestamps: 1000, 1010, 1020, 1030.
    let mut input = driver.create_input_topic_with(
        "numbers",
        StringSerde,
        I64Serde,
        1_000,
        Duration::from_millis(10),
    )?;
    let evens = driver.create_output_topic::<String, i64>("evens", StringSerde, I64Serde);
    let odds = driver.create_output_topic::<String, i64>("odds", StringSerde, I64Serde);
    input.pipe_key_value_list([(s("a"), 1), (s("b"), 2), (s("c"), 3), (s("d"), 4)])?;
    assert_eq!(input.current_time(), 1_040);
    assert_eq!(
        evens.read_records_to_list()?,
        vec![
            TestRecord::at(s("b"), 2, 1_010),
            TestRecord::at(s("d"), 4, 1_030)
        ]
    );
    assert_eq!(odds.queue_size(), 2);
    assert_eq!(
        odds.read_key_values_to_list()?,
        vec![(s("a"), 1), (s("c"), 3)]
    );
    assert!(evens.is_empty() && odds.is_empty());
    Ok(())
}

#[test]
fn map_swaps_keys_and_values_and_headers_pass_through() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .map(|k, v| (v, k))
        .to("swapped");
    let driver = driver(builder)?;
    let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, String>("swapped", StringSerde, StringSerde);
    let headers = vec![Header::new("trace", Some("t-1"))];
    input.pipe_record(
        TestRecord::new(s("k1"), s("v1"))
            .with_timestamp(77)
            .with_headers(headers.clone()),
    )?;
    let r = out.read_record()?;
    assert_eq!(
        (r.key.as_str(), r.value.as_str(), r.timestamp),
        ("v1", "k1", Some(77))
    );
    assert_eq!(r.headers, headers, "headers travel with the record");
    assert!(matches!(
        out.read_record(),
        Err(TestDriverError::NoRecord { topic }) if topic == "swapped"
    ));
    Ok(())
}

#[test]
fn flat_map_values_emits_each_value_under_the_key_with_the_input_timestamp() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("lines")
        .flat_map_values(|line| {
            line.split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .to("words");
    let driver = driver(builder)?;
    let mut input = driver.create_input_topic("lines", StringSerde, StringSerde)?;
    let out =
        driver.create_output_topic::<Option<String>, String>("words", StringSerde, StringSerde);
    input.pipe_input_with_timestamp(Some(s("doc")), s("to be or"), 5)?;
    input.pipe_value_with_timestamp(s("not"), 6)?;
    input.pipe_value_with_timestamp(s(""), 7)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(Some(s("doc")), s("to"), 5),
            TestRecord::at(Some(s("doc")), s("be"), 5),
            TestRecord::at(Some(s("doc")), s("or"), 5),
            TestRecord::at(None, s("not"), 6),
        ]
    );
    Ok(())
}

#[test]
fn select_key_rekeys_without_repartitioning_a_stateless_stream() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("input")
        .select_key(|_, v| v.len() as i64)
        .to("by-length");
    let driver = driver(builder)?;
    let mut input =
        driver.create_input_topic::<String, String>("input", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<i64, String>("by-length", I64Serde, StringSerde);
    input.pipe_value_list_from(
        [s("kafka"), s("rust"), s("streams")],
        100,
        Duration::from_millis(1),
    )?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(5, s("kafka"), 100),
            TestRecord::at(4, s("rust"), 101),
            TestRecord::at(7, s("streams"), 102),
        ]
    );
    assert_eq!(
        driver
            .produced_topic_names()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![s("by-length")],
        "no repartition topic without a grouping"
    );
    Ok(())
}

#[test]
fn split_sends_each_record_to_the_first_matching_branch_or_the_default() -> Result {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("amounts")
        .split_named(Named::as_("split-"))
        .branch_with(|_, v| *v < 10, Branched::as_("small"))
        .branch_with(|_, v| *v < 100, Branched::as_("medium"))
        .default_branch_with(Branched::as_("large"));
    let names: Vec<&str> = branches.keys().map(String::as_str).collect();
    assert_eq!(names, vec!["split-large", "split-medium", "split-small"]);
    for (name, stream) in &branches {
        stream.to(name.trim_start_matches("split-"));
    }
    let driver = driver(builder)?;
    let mut input = driver.create_input_topic("amounts", StringSerde, I64Serde)?;
    let read = |topic: &str| {
        driver
            .create_output_topic::<String, i64>(topic, StringSerde, I64Serde)
            .read_key_values_to_list()
    };
    input.pipe_key_value_list([(s("a"), 5), (s("b"), 50), (s("c"), 500), (s("d"), 9)])?;
    assert_eq!(read("small")?, vec![(s("a"), 5), (s("d"), 9)]);
    assert_eq!(read("medium")?, vec![(s("b"), 50)]);
    assert_eq!(read("large")?, vec![(s("c"), 500)]);
    Ok(())
}

#[test]
fn merge_interleaves_two_inputs_in_the_order_they_are_piped() -> Result {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left");
    let right = builder.stream::<String, String>("right");
    left.merge(&right)
        .peek(|_, _| {})
        .map_values(|v| v.to_uppercase())
        .to("merged");
    let driver = driver(builder)?;
    let mut l = driver.create_input_topic("left", StringSerde, StringSerde)?;
    let mut r = driver.create_input_topic("right", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, String>("merged", StringSerde, StringSerde);
    l.pipe_input_with_timestamp(s("l"), s("one"), 30)?;
    r.pipe_input_with_timestamp(s("r"), s("two"), 10)?;
    l.pipe_input_with_timestamp(s("l"), s("three"), 20)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("l"), s("ONE"), 30),
            TestRecord::at(s("r"), s("TWO"), 10),
            TestRecord::at(s("l"), s("THREE"), 20),
        ],
        "each piped record is processed before the next is piped"
    );
    Ok(())
}

#[test]
fn piping_into_a_topic_the_topology_does_not_read_names_it() -> Result {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("input").to("output");
    let driver = driver(builder)?;
    let e = driver
        .create_input_topic::<String, String>("nope", StringSerde, StringSerde)
        .unwrap_err();
    assert!(
        matches!(&e, TestDriverError::UnknownTopic { topic, known } if topic == "nope" && known == "input"),
        "{e}"
    );
    let out = driver.create_output_topic::<String, i64>("output", StringSerde, I64Serde);
    let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
    input.pipe_input(s("k"), s("not a number"))?;
    let e = out.read_value().unwrap_err();
    assert!(
        matches!(&e, TestDriverError::Serde { topic, role: "value", .. } if topic == "output"),
        "{e}"
    );
    Ok(())
}
