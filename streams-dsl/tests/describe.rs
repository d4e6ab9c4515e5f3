//! DSL programs built into topologies and described: node, store and topic names as Kafka
//! Streams 4.4 generates them, and `describe()` as Java prints it for the same program.

use streams_dsl::{
    Branched, Consumed, DslError, Grouped, Materialized, Named, Produced, Repartitioned,
    StreamsBuilder,
};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn described(builder: StreamsBuilder) -> std::result::Result<String, DslError> {
    Ok(builder.build()?.describe().to_string())
}

fn assert_text(actual: &str, expected: &str) {
    assert_eq!(
        actual.trim_end(),
        expected.trim_end(),
        "\nactual:\n{actual}\nexpected:\n{expected}"
    );
}

/// Kafka's `WordCountDemo`; Java 4.4's `describe()` of it (the Kafka Streams tutorial).
#[test]
fn word_count_is_described_as_java_describes_it() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("streams-plaintext-input")
        .flat_map_values(|line| {
            line.to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .group_by(|_, word| word.clone())
        .count_with(Named::empty(), Materialized::as_("counts-store"))
        .to_stream()
        .to("streams-wordcount-output");
    let topology = builder.build()?;
    assert_text(
        &topology.describe().to_string(),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> counts-store-repartition-filter
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Processor: counts-store-repartition-filter (stores: [])
      --> counts-store-repartition-sink
      <-- KSTREAM-KEY-SELECT-0000000002
    Sink: counts-store-repartition-sink (topic: counts-store-repartition)
      <-- counts-store-repartition-filter

  Sub-topology: 1
    Source: counts-store-repartition-source (topics: [counts-store-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])
      --> KTABLE-TOSTREAM-0000000007
      <-- counts-store-repartition-source
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)
      <-- KTABLE-TOSTREAM-0000000007
",
    );
    assert_eq!(topology.internal_topics(), vec!["counts-store-repartition"]);
    assert_eq!(
        topology.changelog_topic("wc", "counts-store").as_deref(),
        Some("wc-counts-store-changelog")
    );
    Ok(())
}

#[test]
fn group_by_key_without_a_key_change_needs_no_repartition() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .map_values(|v| v.len() as i64)
        .group_by_key()
        .count()
        .to_stream()
        .to("output");
    assert_text(
        &described(builder)?,
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-MAPVALUES-0000000001
    Processor: KSTREAM-MAPVALUES-0000000001 (stores: [])
      --> KSTREAM-AGGREGATE-0000000003
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000002])
      --> KTABLE-TOSTREAM-0000000004
      <-- KSTREAM-MAPVALUES-0000000001
    Processor: KTABLE-TOSTREAM-0000000004 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000005 (topic: output)
      <-- KTABLE-TOSTREAM-0000000004
",
    );
    Ok(())
}

/// A key change before `groupByKey`: the repartition topic is named after the generated
/// store, and its nodes keep generated names (Kafka's `KSTREAM.*-[0-9]{10}` rule).
#[test]
fn a_key_change_before_grouping_inserts_a_repartition_topic_named_as_kafka_names_it() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .map(|k, v| (v, k))
        .group_by_key()
        .reduce(|a, b| a + &b)
        .to_stream()
        .to("output");
    let topology = builder.build()?;
    assert_eq!(
        topology.internal_topics(),
        vec!["KSTREAM-REDUCE-STATE-STORE-0000000002-repartition"]
    );
    assert_text(
        &topology.describe().to_string(),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-MAP-0000000001
    Processor: KSTREAM-MAP-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000005
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-MAP-0000000001
    Sink: KSTREAM-SINK-0000000004 (topic: KSTREAM-REDUCE-STATE-STORE-0000000002-repartition)
      <-- KSTREAM-FILTER-0000000005

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [KSTREAM-REDUCE-STATE-STORE-0000000002-repartition])
      --> KSTREAM-REDUCE-0000000003
    Processor: KSTREAM-REDUCE-0000000003 (stores: [KSTREAM-REDUCE-STATE-STORE-0000000002])
      --> KTABLE-TOSTREAM-0000000007
      <-- KSTREAM-SOURCE-0000000006
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-REDUCE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: output)
      <-- KTABLE-TOSTREAM-0000000007
",
    );
    Ok(())
}

#[test]
fn grouped_names_the_repartition_topic_and_count_with_burns_a_store_name() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone())
        .group_by_key_with(Grouped::as_("by-value"))
        .count_with(Named::as_("counter"), Materialized::default())
        .to_stream()
        .to("output");
    let topology = builder.build()?;
    assert_eq!(topology.internal_topics(), vec!["by-value-repartition"]);
    let text = topology.describe().to_string();
    // source 0, key-select 1, burnt store 2, store 3, `counter` 4 (an index drawn for the
    // named processor too), repartition 5-7, to-stream 8, sink 9: Java 4.4's describe().
    for line in [
        "Processor: counter (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])",
        "Source: by-value-repartition-source (topics: [by-value-repartition])",
        "Processor: KTABLE-TOSTREAM-0000000008 (stores: [])",
        "Sink: KSTREAM-SINK-0000000009 (topic: output)",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    Ok(())
}

#[test]
fn stateless_operations_are_named_with_one_shared_index() -> Result {
    let builder = StreamsBuilder::new();
    let s = builder.stream::<String, String>("input");
    let other = builder.stream_with(&["other"], Consumed::as_("OtherSource"));
    s.filter(|_, v| !v.is_empty())
        .filter_not(|_, v| v == "x")
        .peek(|_, _| {})
        .merge(&other)
        .flat_map(|k, v| vec![(k, v)])
        .select_key(|k, _| k.clone())
        .map_values(|v| v)
        .print(streams_dsl::Printed::to_sys_out());
    s.foreach(|_, _| {});
    s.repartition().to_with("output", Produced::as_("Out"));
    let topology = builder.build()?;
    let names: Vec<String> = topology
        .describe()
        .subtopologies
        .iter()
        .flat_map(|s| s.nodes.iter().map(|n| n.name.clone()))
        .collect();
    // Java 4.4's describe() of the same program, node for node: a named source or sink
    // draws an index too.
    assert_eq!(
        names,
        [
            "KSTREAM-SOURCE-0000000000",
            "KSTREAM-FILTER-0000000002",
            "KSTREAM-FILTER-0000000003",
            "KSTREAM-PEEK-0000000004",
            "OtherSource",
            "KSTREAM-MERGE-0000000005",
            "KSTREAM-FLATMAP-0000000006",
            "KSTREAM-KEY-SELECT-0000000007",
            // repartition(): its name 11, then sink 12, filter 13, source 14 (generated).
            "KSTREAM-FILTER-0000000013",
            "KSTREAM-MAPVALUES-0000000008",
            "KSTREAM-FOREACH-0000000010",
            "KSTREAM-PRINTER-0000000009",
            "KSTREAM-SINK-0000000012",
            "KSTREAM-SOURCE-0000000014",
            "Out",
        ]
    );
    assert_eq!(
        topology.internal_topics(),
        vec!["KSTREAM-REPARTITION-0000000011-repartition"]
    );
    Ok(())
}

#[test]
fn split_names_branches_after_the_split() -> Result {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("numbers")
        .split_named(Named::as_("sign-"))
        .branch_with(|_, v| *v < 0, Branched::as_("negative"))
        .branch(|_, v| *v == 0)
        .default_branch();
    let keys: Vec<&str> = branches.keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["sign-0", "sign-2", "sign-negative"]);
    for (name, stream) in &branches {
        stream.to(&format!("out-{name}"));
    }
    let text = described(builder)?;
    assert!(
        text.contains("Processor: sign- (stores: [])\n      --> sign-0, sign-2, sign-negative"),
        "{text}"
    );
    // Unnamed: KSTREAM-BRANCH-<i> and KSTREAM-BRANCH-<i>1, …
    let builder = StreamsBuilder::new();
    let b = builder
        .stream::<String, i64>("numbers")
        .split()
        .branch(|_, v| *v < 0)
        .no_default_branch();
    assert_eq!(
        b.keys().collect::<Vec<_>>(),
        vec!["KSTREAM-BRANCH-00000000011"]
    );
    Ok(())
}

#[test]
fn tables_draw_the_store_name_first_and_materialize_only_when_named() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("users")
        .to_stream()
        .to("users-out");
    let text = described(builder)?;
    assert!(
        text.contains("Source: KSTREAM-SOURCE-0000000001 (topics: [users])\n      --> KTABLE-SOURCE-0000000002"),
        "{text}"
    );
    assert!(
        text.contains("Processor: KTABLE-SOURCE-0000000002 (stores: [])"),
        "{text}"
    );

    let builder = StreamsBuilder::new();
    let t = builder.table_with::<String, String>(
        "users",
        Consumed::as_("Users"),
        Materialized::as_("users-store"),
    );
    assert_eq!(t.queryable_store_name(), Some("users-store"));
    let topology = builder.build()?;
    let text = topology.describe().to_string();
    assert!(
        text.contains("Source: Users-source (topics: [users])"),
        "{text}"
    );
    assert!(
        text.contains("Processor: Users (stores: [users-store])"),
        "{text}"
    );
    assert_eq!(topology.source_changelog("users-store"), None);
    assert_eq!(
        topology.changelog_topic("app", "users-store").as_deref(),
        Some("app-users-store-changelog")
    );
    Ok(())
}

#[test]
fn a_global_table_is_a_global_store() -> Result {
    let builder = StreamsBuilder::new();
    let g = builder.global_table::<String, String>(
        "countries",
        Consumed::default(),
        Materialized::default(),
    );
    assert_eq!(g.queryable_store_name(), "countries-STATE-STORE-0000000000");
    let topology = builder.build()?;
    assert_eq!(
        topology.global_store_names(),
        vec!["countries-STATE-STORE-0000000000"]
    );
    let text = topology.describe().to_string();
    assert!(text.contains("for global store"), "{text}");
    assert!(
        text.contains("Processor: KTABLE-SOURCE-0000000002"),
        "{text}"
    );
    Ok(())
}

#[test]
fn to_table_after_a_key_change_repartitions() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone())
        .to_table_with(Named::empty(), Materialized::as_("latest"))
        .to_stream()
        .to("output");
    let topology = builder.build()?;
    assert_eq!(
        topology.internal_topics(),
        vec!["KSTREAM-TOTABLE-0000000002-repartition"]
    );
    let text = topology.describe().to_string();
    assert!(
        text.contains("Processor: KSTREAM-TOTABLE-0000000002 (stores: [latest])"),
        "{text}"
    );
    Ok(())
}

#[test]
fn repartition_with_a_name_names_topic_and_nodes() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .repartition_with(Repartitioned::as_("shuffle").with_number_of_partitions(4))
        .to("output");
    let topology = builder.build()?;
    assert_eq!(topology.internal_topics(), vec!["shuffle-repartition"]);
    let text = topology.describe().to_string();
    for n in [
        "shuffle-repartition-filter",
        "shuffle-repartition-sink",
        "shuffle-repartition-source",
    ] {
        assert!(text.contains(n), "{n} missing from\n{text}");
    }
    Ok(())
}

/// Windowed aggregations are named as Java 4.4 names them (checked with its describe()):
/// `count(Named)` draws no extra store index,
/// `count(Named, Materialized)` without a store name does (Kafka keeps that for
/// compatibility); the store of a windowed aggregation is `KSTREAM-AGGREGATE-STATE-STORE-…`.
#[test]
fn windowed_counts_are_named_as_java_names_them() -> Result {
    use std::time::Duration;
    use streams_dsl::{Materialized, Named, SessionWindows, TimeWindows};
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").group_by_key();
    grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(1))?)
        .count_named(Named::as_("plain"));
    grouped
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(
            Duration::from_secs(1),
        )?)
        .count_with(Named::as_("burning"), Materialized::default());
    let described = builder.build()?.describe().to_string();
    // plain: store 1, processor name drawn 2; burning: burnt 3, store 4, processor drawn 5.
    assert!(
        described.contains("Processor: plain (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])"),
        "{described}"
    );
    assert!(
        described
            .contains("Processor: burning (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000004])"),
        "{described}"
    );
    Ok(())
}
