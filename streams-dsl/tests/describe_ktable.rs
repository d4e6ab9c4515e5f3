//! Table programs described: node, store and topic names as Kafka Streams 4.4 generates
//! them for table operations and a grouped table's aggregation.

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, StringSerde};
use streams_dsl::{Grouped, Named, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

/// `table → filter → groupBy → count → toStream → to`: the source table is connected to
/// its generated store (materialized for the grouping's old values), the filter and the
/// selection have none, the repartition topic is named after the count's store.
#[test]
fn a_grouped_table_count_is_named_as_kafka_names_it() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("users")
        .filter(|_, region| !region.is_empty())
        .group_by(|user, region| (region.clone(), user.clone()))
        .count()
        .to_stream()
        .to("out");
    let described = builder.build()?.describe().to_string();
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [users])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [users-STATE-STORE-0000000000])
      --> KTABLE-FILTER-0000000003
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-FILTER-0000000003 (stores: [])
      --> KTABLE-SELECT-0000000004
      <-- KTABLE-SOURCE-0000000002
    Processor: KTABLE-SELECT-0000000004 (stores: [])
      --> KSTREAM-SINK-0000000006
      <-- KTABLE-FILTER-0000000003
    Sink: KSTREAM-SINK-0000000006 (topic: KTABLE-AGGREGATE-STATE-STORE-0000000005-repartition)
      <-- KTABLE-SELECT-0000000004

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000007 (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000005-repartition])
      --> KTABLE-AGGREGATE-0000000008
    Processor: KTABLE-AGGREGATE-0000000008 (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000005])
      --> KTABLE-TOSTREAM-0000000009
      <-- KSTREAM-SOURCE-0000000007
    Processor: KTABLE-TOSTREAM-0000000009 (stores: [])
      --> KSTREAM-SINK-0000000010
      <-- KTABLE-AGGREGATE-0000000008
    Sink: KSTREAM-SINK-0000000010 (topic: out)
      <-- KTABLE-TOSTREAM-0000000009";
    assert_eq!(
        described.trim_end(),
        expected,
        "\nactual:\n{described}\nexpected:\n{expected}"
    );
    Ok(())
}

/// With a `Grouped` name, a second aggregation of the same grouped table reads the same
/// repartition topic (Kafka reuses the repartition node).
#[test]
fn aggregations_of_a_named_grouping_share_its_repartition_topic() -> Result {
    let builder = StreamsBuilder::new();
    let grouped = builder.table::<String, String>("users").group_by_with(
        |user, region| (region.clone(), user.clone()),
        Grouped::with(StringSerde, StringSerde).with_name("by-region"),
    );
    grouped
        .count_with(Named::as_("count"), Default::default())
        .to_stream()
        .to("counts");
    grouped
        .aggregate(
            String::new,
            |_, user, agg| format!("{agg}+{user}"),
            |_, user, agg| format!("{agg}-{user}"),
        )
        .to_stream()
        .to("members");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "r")], 0)?;
    let mut input =
        driver.create_input_topic::<String, Option<String>>("users", StringSerde, StringSerde)?;
    let counts = driver.create_output_topic::<String, Option<i64>>("counts", StringSerde, I64Serde);
    let members =
        driver.create_output_topic::<String, Option<String>>("members", StringSerde, StringSerde);
    input.pipe_input_with_timestamp(s("ann"), Some(s("A")), 1)?;
    input.pipe_input_with_timestamp(s("ann"), Some(s("B")), 2)?;
    assert_eq!(
        counts.read_records_to_list()?,
        vec![
            TestRecord::at(s("A"), Some(1), 1),
            TestRecord::at(s("A"), Some(0), 2),
            TestRecord::at(s("B"), Some(1), 2),
        ]
    );
    assert_eq!(
        members.read_key_values_to_list()?,
        vec![
            (s("A"), Some(s("+ann"))),
            (s("A"), Some(s("+ann-ann"))),
            (s("B"), Some(s("+ann"))),
        ]
    );
    let repartitions: Vec<String> = driver
        .produced_topic_names()
        .into_iter()
        .filter(|t| t.ends_with("-repartition"))
        .collect();
    assert_eq!(repartitions, vec![s("r-by-region-repartition")]);
    Ok(())
}
