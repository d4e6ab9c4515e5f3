//! `cogroup` through the `TopologyTestDriver`: two grouped streams, one regrouped through a
//! repartition topic, aggregated into one table with one aggregator each.

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, StringSerde};
use streams_dsl::{Grouped, Materialized, Named, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

/// Clicks keyed by user and purchases keyed by order (regrouped by user): each record
/// updates its user's summary with its stream's aggregator, one update per record (the
/// driver commits after each; the shared store's cache is flushed once, not per stream).
#[test]
fn cogroup_aggregates_two_streams_into_one_table() -> Result {
    let builder = StreamsBuilder::new();
    let clicks = builder.stream::<String, String>("clicks").group_by_key();
    let purchases = builder.stream::<String, String>("purchases").group_by_with(
        |_, v| {
            v.split_once(':')
                .map_or(v.clone(), |(user, _)| user.to_owned())
        },
        Grouped::with(StringSerde, StringSerde),
    );
    clicks
        .cogroup(|_, page, agg: String| format!("{agg} click:{page}"))
        .cogroup(&purchases, |_, v, agg| {
            let amount = v.split_once(':').map_or("?", |(_, a)| a);
            format!("{agg} buy:{amount}")
        })
        .aggregate_with(
            || s("|"),
            Named::as_("activity"),
            Materialized::as_("activity-store"),
        )
        .to_stream()
        .to("activity-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "cg")], 0)?;
    let mut clicks_in =
        driver.create_input_topic::<String, String>("clicks", StringSerde, StringSerde)?;
    let mut purchases_in =
        driver.create_input_topic::<String, String>("purchases", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, Option<String>>(
        "activity-out",
        StringSerde,
        StringSerde,
    );
    clicks_in.pipe_input_with_timestamp(s("ann"), s("/home"), 1)?;
    purchases_in.pipe_input_with_timestamp(s("order-1"), s("ann:30"), 2)?;
    purchases_in.pipe_input_with_timestamp(s("order-2"), s("ben:5"), 3)?;
    clicks_in.pipe_input_with_timestamp(s("ann"), s("/cart"), 4)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("ann"), Some(s("| click:/home")), 1),
            TestRecord::at(s("ann"), Some(s("| click:/home buy:30")), 2),
            TestRecord::at(s("ben"), Some(s("| buy:5")), 3),
            TestRecord::at(s("ann"), Some(s("| click:/home buy:30 click:/cart")), 4),
        ]
    );
    assert!(driver
        .produced_topic_names()
        .contains("cg-activity-store-repartition"));
    let store = driver.get_key_value_store::<String, String>("activity-store")?;
    assert_eq!(store.get(&s("ben"))?, Some(s("| buy:5")));
    Ok(())
}

/// A cogrouped count-like table regrouped again: the cogroup's table sends old values to a
/// grouping, so a key's old aggregate leaves its group.
#[test]
fn a_cogrouped_table_sends_old_values_to_a_grouping() -> Result {
    let builder = StreamsBuilder::new();
    let a = builder.stream::<String, String>("a").group_by_key();
    let b = builder.stream::<String, String>("b").group_by_key();
    a.cogroup(|_, _, n: i64| n + 1)
        .cogroup(&b, |_, _, n| n + 10)
        .aggregate(|| 0)
        .group_by(|_, n| (if *n >= 10 { s("high") } else { s("low") }, 1i64))
        .count()
        .to_stream()
        .to("levels");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "lv")], 0)?;
    let mut a_in = driver.create_input_topic::<String, String>("a", StringSerde, StringSerde)?;
    let mut b_in = driver.create_input_topic::<String, String>("b", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, Option<i64>>("levels", StringSerde, I64Serde);
    a_in.pipe_input_with_timestamp(s("k"), s("x"), 1)?;
    b_in.pipe_input_with_timestamp(s("k"), s("y"), 2)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("low"), Some(1), 1),
            TestRecord::at(s("low"), Some(0), 2),
            TestRecord::at(s("high"), Some(1), 2),
        ]
    );
    Ok(())
}

/// Kafka's names for a cogroup: the store first, each stream's aggregation, then the merge
/// node the table is; with `Named`, `<name>-cogroup-agg-<n>` and `<name>-cogroup-merge`,
/// drawing the same indexes (checked against Java 4.4's `describe()`).
#[test]
fn cogroup_nodes_are_named_as_kafka_names_them() -> Result {
    for named in [None, Some("act")] {
        let builder = StreamsBuilder::new();
        let a = builder.stream::<String, String>("a").group_by_key();
        let b = builder.stream::<String, String>("b").group_by_key();
        let cogrouped = a.cogroup(|_, _, n: i64| n + 1).cogroup(&b, |_, _, n| n + 2);
        let table = match named {
            None => cogrouped.aggregate(|| 0),
            Some(n) => cogrouped.aggregate_with(|| 0, Named::as_(n), Materialized::default()),
        };
        table.to_stream().to("out");
        let described = builder.build()?.describe().to_string();
        let expected: &[&str] = match named {
            None => &[
                "Processor: COGROUPKSTREAM-AGGREGATE-0000000003 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])",
                "Processor: COGROUPKSTREAM-AGGREGATE-0000000004 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])",
                "Processor: COGROUPKSTREAM-MERGE-0000000005 (stores: [])",
                "Processor: KTABLE-TOSTREAM-0000000006 (stores: [])",
            ],
            Some(_) => &[
                "Processor: act-cogroup-agg-0 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])",
                "Processor: act-cogroup-agg-1 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])",
                "Processor: act-cogroup-merge (stores: [])",
                // Named nodes draw their indexes too (Java 4.4's describe()).
                "Processor: KTABLE-TOSTREAM-0000000006 (stores: [])",
            ],
        };
        for line in expected {
            assert!(described.contains(line), "{line} missing in\n{described}");
        }
    }
    Ok(())
}
