//! Records with a null key or value through the `TopologyTestDriver`: aggregations and
//! tables skip them, as Kafka's `KStreamAggregate`, `KStreamReduce` and `KTableSource` do, and
//! a repartition drops them (Kafka's repartition filter keeps `key != null`).

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, StringSerde};
use streams_dsl::{Consumed, Materialized, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn group_by_key_count_skips_null_keys() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("in")
        .group_by_key()
        .count()
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "nk")], 0)?;
    let mut input =
        driver.create_input_topic::<Option<String>, String>("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Option<String>, i64>("out", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(Some(s("a")), s("x"), 1)?;
    input.pipe_value_with_timestamp(s("no key"), 2)?;
    input.pipe_input_with_timestamp(None, s("no key either"), 3)?;
    input.pipe_input_with_timestamp(Some(s("a")), s("y"), 4)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(Some(s("a")), 1, 1),
            TestRecord::at(Some(s("a")), 2, 4)
        ]
    );
    Ok(())
}

#[test]
fn group_by_to_a_null_key_drops_the_record_before_the_repartition_topic() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by(|_, v| (!v.is_empty()).then(|| v.clone()))
        .count()
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "nk2")], 0)?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Option<String>, i64>("out", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("k"), s("v"), 1)?;
    input.pipe_input_with_timestamp(s("k"), s(""), 2)?;
    input.pipe_input_with_timestamp(s("k"), s("v"), 3)?;
    assert_eq!(
        out.read_key_values_to_list()?,
        vec![(Some(s("v")), 1), (Some(s("v")), 2)]
    );
    let repartition: Vec<String> = driver
        .produced_topic_names()
        .into_iter()
        .filter(|t| t.ends_with("-repartition"))
        .collect();
    assert_eq!(repartition.len(), 1);
    let topic = driver.create_output_topic::<Option<String>, String>(
        &repartition[0],
        StringSerde,
        StringSerde,
    );
    assert_eq!(
        topic.queue_size(),
        2,
        "the null key never reached the topic"
    );
    Ok(())
}

#[test]
fn a_null_value_is_skipped_by_an_aggregation_too() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, Option<String>>("in")
        .group_by_key()
        .count()
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "nv")], 0)?;
    let mut input =
        driver.create_input_topic::<String, Option<String>>("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, i64>("out", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("k"), Some(s("v")), 1)?;
    input.pipe_input_with_timestamp(s("k"), None, 2)?;
    input.pipe_input_with_timestamp(s("k"), Some(s("w")), 3)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![TestRecord::at(s("k"), 1, 1), TestRecord::at(s("k"), 2, 3)]
    );
    Ok(())
}

#[test]
fn tables_skip_null_keys() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table_with::<Option<String>, String>(
            "updates",
            Consumed::default(),
            Materialized::as_("table-store"),
        )
        .to_stream()
        .to("table-out");
    builder.global_table::<Option<String>, String>(
        "global-updates",
        Consumed::default(),
        Materialized::as_("global-store"),
    );
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "tn")], 0)?;
    let mut table = driver.create_input_topic::<Option<String>, Option<String>>(
        "updates",
        StringSerde,
        StringSerde,
    )?;
    let mut global = driver.create_input_topic::<Option<String>, Option<String>>(
        "global-updates",
        StringSerde,
        StringSerde,
    )?;
    let out = driver.create_output_topic::<Option<String>, Option<String>>(
        "table-out",
        StringSerde,
        StringSerde,
    );
    table.pipe_input_with_timestamp(None, Some(s("dropped")), 1)?;
    table.pipe_input_with_timestamp(Some(s("k")), Some(s("kept")), 2)?;
    global.pipe_input(None, Some(s("dropped")))?;
    global.pipe_input(Some(s("g")), Some(s("kept")))?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![TestRecord::at(Some(s("k")), Some(s("kept")), 2)]
    );
    let store = driver.get_key_value_store::<Option<String>, String>("global-store")?;
    assert_eq!(store.all()?, vec![(Some(s("g")), s("kept"))]);
    Ok(())
}
