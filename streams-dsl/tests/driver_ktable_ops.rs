//! Table operations through the `TopologyTestDriver`, with Kafka Streams 4.4's semantics:
//! `filter`'s tombstones with and without old values, `map_values` (materialized and not),
//! and `group_by` aggregations whose rows move between groups. The driver commits after
//! every record (flushing every cache), as Java's driver does.

use bytes::Bytes;
use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{BytesSerde, I64Serde, StringSerde};
use streams_dsl::{Consumed, Grouped, Materialized, Named, StreamsBuilder};

type Error = Box<dyn std::error::Error>;
type Result = std::result::Result<(), Error>;
type Scores = Vec<TestRecord<String, Option<i64>>>;

fn s(v: &str) -> String {
    v.to_owned()
}

/// Pipes `a=5@1, b=20@2, b=3@3, a=null@4` into `scores` and returns what the filtered
/// table (`> 10`) emitted.
fn filtered(materialized_source: bool) -> std::result::Result<Scores, Error> {
    let builder = StreamsBuilder::new();
    let m = if materialized_source {
        Materialized::as_("scores-store")
    } else {
        Materialized::default()
    };
    builder
        .table_with::<String, i64>("scores", Consumed::default(), m)
        .filter(|_, v| *v > 10)
        .to_stream()
        .to("high-scores");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "f")], 0)?;
    let mut input =
        driver.create_input_topic::<String, Option<i64>>("scores", StringSerde, I64Serde)?;
    let out =
        driver.create_output_topic::<String, Option<i64>>("high-scores", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("a"), Some(5), 1)?;
    input.pipe_input_with_timestamp(s("b"), Some(20), 2)?;
    input.pipe_input_with_timestamp(s("b"), Some(3), 3)?;
    input.pipe_input_with_timestamp(s("a"), None, 4)?;
    Ok(out.read_records_to_list()?)
}

/// Without old values (the source table has no store), Kafka's `KTableFilter` cannot know
/// whether a rejected key was in the filtered table: every rejected update is a tombstone,
/// also of keys that never passed.
#[test]
fn a_filter_without_old_values_forwards_a_tombstone_for_every_rejected_update() -> Result {
    assert_eq!(
        filtered(false)?,
        vec![
            TestRecord::at(s("a"), None, 1),
            TestRecord::at(s("b"), Some(20), 2),
            TestRecord::at(s("b"), None, 3),
            TestRecord::at(s("a"), None, 4),
        ]
    );
    Ok(())
}

/// A materialized parent sends old values to the filter (Kafka's filter asks for them when
/// it is created): an update rejected before and after is dropped, a row leaving the
/// filtered table is a tombstone.
#[test]
fn a_filter_with_old_values_forwards_only_real_deletions() -> Result {
    assert_eq!(
        filtered(true)?,
        vec![
            TestRecord::at(s("b"), Some(20), 2),
            TestRecord::at(s("b"), None, 3),
        ]
    );
    Ok(())
}

/// `filter_not` and a materialized `map_values`: the mapped table's store holds each
/// key's mapped value, a deletion stays a deletion.
#[test]
fn filter_not_and_a_materialized_map_values() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("names")
        .filter_not(|_, v| v.is_empty())
        .map_values_with(
            |_, v| v.len() as i64,
            Named::as_("name-length"),
            Materialized::as_("name-lengths"),
        )
        .to_stream()
        .to("name-lengths-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "mv")], 0)?;
    let mut input =
        driver.create_input_topic::<String, Option<String>>("names", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, Option<i64>>(
        "name-lengths-out",
        StringSerde,
        I64Serde,
    );
    input.pipe_input_with_timestamp(s("k1"), Some(s("ada")), 10)?;
    input.pipe_input_with_timestamp(s("k2"), Some(s("grace")), 11)?;
    input.pipe_input_with_timestamp(s("k1"), Some(s("")), 12)?;
    input.pipe_input_with_timestamp(s("k3"), Some(s("")), 13)?;
    input.pipe_input_with_timestamp(s("k2"), Some(s("alan")), 14)?;
    // The mapped table is cached: k3, never in it, flushes nothing (neither a new nor an
    // old value); k1 leaving it is a tombstone.
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("k1"), Some(3), 10),
            TestRecord::at(s("k2"), Some(5), 11),
            TestRecord::at(s("k1"), None, 12),
            TestRecord::at(s("k2"), Some(4), 14),
        ]
    );
    let store = driver.get_key_value_store::<String, i64>("name-lengths")?;
    assert_eq!(store.all()?, vec![(s("k2"), 4)]);
    Ok(())
}

/// An unmaterialized `map_values` forwards every update, a tombstone for a deleted key
/// (the parent's tombstone mapped: deletions are not mapped).
#[test]
fn map_values_without_a_store_maps_each_update() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("prices")
        .map_values(|cents| format!("{}.{:02}", cents / 100, cents % 100))
        .to_stream()
        .to("prices-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "p")], 0)?;
    let mut input =
        driver.create_input_topic::<String, Option<i64>>("prices", StringSerde, I64Serde)?;
    let out = driver.create_output_topic::<String, Option<String>>(
        "prices-out",
        StringSerde,
        StringSerde,
    );
    input.pipe_input_with_timestamp(s("apple"), Some(105), 1)?;
    input.pipe_input_with_timestamp(s("apple"), None, 2)?;
    input.pipe_input_with_timestamp(s("pear"), None, 3)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("apple"), Some(s("1.05")), 1),
            TestRecord::at(s("apple"), None, 2),
            TestRecord::at(s("pear"), None, 3),
        ]
    );
    Ok(())
}

/// Users and their regions, counted per region: a user moving from A to B decrements A
/// and increments B (two repartition records, the subtraction first); a deleted user
/// decrements its region down to 0, which stays; an update within a region is one record
/// with both values, the count unchanged. The unmaterialized source table is materialized
/// for the old values, in its generated store.
#[test]
fn group_by_count_moves_a_user_between_regions() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("user-regions")
        .group_by(|user, region| (region.clone(), user.clone()))
        .count()
        .to_stream()
        .to("region-counts");
    let topology = builder.build()?;
    let driver = TopologyTestDriver::new(topology, [("application.id", "regions")], 0)?;
    let mut input = driver.create_input_topic::<String, Option<String>>(
        "user-regions",
        StringSerde,
        StringSerde,
    )?;
    let out =
        driver.create_output_topic::<String, Option<i64>>("region-counts", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("alice"), Some(s("A")), 1)?;
    input.pipe_input_with_timestamp(s("bob"), Some(s("A")), 2)?;
    input.pipe_input_with_timestamp(s("alice"), Some(s("B")), 3)?;
    input.pipe_input_with_timestamp(s("bob"), None, 4)?;
    input.pipe_input_with_timestamp(s("carol"), Some(s("B")), 5)?;
    input.pipe_input_with_timestamp(s("carol"), Some(s("B")), 6)?;
    input.pipe_input_with_timestamp(s("dave"), None, 7)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("A"), Some(1), 1),
            TestRecord::at(s("A"), Some(2), 2),
            TestRecord::at(s("A"), Some(1), 3),
            TestRecord::at(s("B"), Some(1), 3),
            TestRecord::at(s("A"), Some(0), 4),
            TestRecord::at(s("B"), Some(2), 5),
            TestRecord::at(s("B"), Some(2), 6),
        ]
    );
    // Kafka's names: the source's store drawn first, the count's store, its repartition
    // topic, and the source table's changelog (it was materialized for the old values).
    let topics: Vec<String> = driver.produced_topic_names().into_iter().collect();
    assert_eq!(
        topics,
        vec![
            s("region-counts"),
            s("regions-KTABLE-AGGREGATE-STATE-STORE-0000000004-changelog"),
            s("regions-KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition"),
            s("regions-user-regions-STATE-STORE-0000000000-changelog"),
        ]
    );
    // The repartition topic in Kafka's `Change` encoding: `{new}1`, `{old}0`, and both
    // (`{varint len(new)}{new}{old}2`) for carol's update within B.
    let repartition = driver.create_output_topic::<String, Bytes>(
        "regions-KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition",
        StringSerde,
        BytesSerde,
    );
    let b = |v: &[u8]| Bytes::copy_from_slice(v);
    assert_eq!(
        repartition.read_key_values_to_list()?,
        vec![
            (s("A"), b(b"alice\x01")),
            (s("A"), b(b"bob\x01")),
            (s("A"), b(b"alice\x00")),
            (s("B"), b(b"alice\x01")),
            (s("A"), b(b"bob\x00")),
            (s("B"), b(b"carol\x01")),
            (s("B"), b(b"\x0acarolcarol\x02")),
        ]
    );
    let store =
        driver.get_key_value_store::<String, i64>("KTABLE-AGGREGATE-STATE-STORE-0000000004")?;
    assert_eq!(store.all()?, vec![(s("A"), 0), (s("B"), 2)]);
    Ok(())
}

/// `reduce(adder, subtractor)` of account balances per branch, with a `Grouped` name for
/// the repartition topic: an account's new balance replaces its old one in the sum; an
/// account moving branch leaves one sum for the other. Timestamps are the latest of the
/// record's and the sum's.
#[test]
fn group_by_reduce_subtracts_old_values_and_adds_new_ones() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("accounts")
        .group_by_with(
            |_, v| {
                let (branch, amount) = v.split_once(':').unwrap_or((v, "0"));
                (branch.to_owned(), amount.parse::<i64>().unwrap_or(0))
            },
            Grouped::with(StringSerde, I64Serde).with_name("by-branch"),
        )
        .reduce_with(
            |sum, v| sum + v,
            |sum, v| sum - v,
            Named::as_("branch-sums"),
            Materialized::as_("branch-sums-store"),
        )
        .to_stream()
        .to("branch-sums-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "bank")], 0)?;
    let mut input = driver.create_input_topic::<String, Option<String>>(
        "accounts",
        StringSerde,
        StringSerde,
    )?;
    let out =
        driver.create_output_topic::<String, Option<i64>>("branch-sums-out", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("a1"), Some(s("north:10")), 1)?;
    input.pipe_input_with_timestamp(s("a2"), Some(s("north:5")), 5)?;
    input.pipe_input_with_timestamp(s("a1"), Some(s("north:7")), 3)?;
    input.pipe_input_with_timestamp(s("a2"), Some(s("south:5")), 6)?;
    input.pipe_input_with_timestamp(s("a1"), None, 8)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("north"), Some(10), 1),
            TestRecord::at(s("north"), Some(15), 5),
            // Out of order: the sum keeps its later timestamp.
            TestRecord::at(s("north"), Some(12), 5),
            TestRecord::at(s("north"), Some(7), 6),
            TestRecord::at(s("south"), Some(5), 6),
            TestRecord::at(s("north"), Some(0), 8),
        ]
    );
    assert!(driver
        .produced_topic_names()
        .contains("bank-by-branch-repartition"));
    let store = driver.get_key_value_store::<String, i64>("branch-sums-store")?;
    assert_eq!(store.all()?, vec![(s("north"), 0), (s("south"), 5)]);
    Ok(())
}

/// `aggregate(initializer, adder, subtractor)` after a filter: the filter gets old values
/// (a grouping follows), so a row filtered out after passing leaves its group.
#[test]
fn group_by_aggregate_after_a_filter_sees_rows_leave() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("orders")
        .filter(|_, amount| *amount > 0)
        .group_by(|_, amount| (if *amount >= 100 { s("big") } else { s("small") }, *amount))
        .aggregate_with(
            String::new,
            |_, v, agg| format!("{agg}+{v}"),
            |_, v, agg| format!("{agg}-{v}"),
            Named::empty(),
            Materialized::as_("order-log").with_caching_disabled(),
        )
        .to_stream()
        .to("order-log-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "o")], 0)?;
    let mut input =
        driver.create_input_topic::<String, Option<i64>>("orders", StringSerde, I64Serde)?;
    let out = driver.create_output_topic::<String, Option<String>>(
        "order-log-out",
        StringSerde,
        StringSerde,
    );
    input.pipe_input_with_timestamp(s("o1"), Some(50), 1)?;
    input.pipe_input_with_timestamp(s("o1"), Some(150), 2)?;
    input.pipe_input_with_timestamp(s("o1"), Some(-1), 3)?;
    input.pipe_input_with_timestamp(s("o2"), Some(-1), 4)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("small"), Some(s("+50")), 1),
            TestRecord::at(s("small"), Some(s("+50-50")), 2),
            TestRecord::at(s("big"), Some(s("+150")), 2),
            TestRecord::at(s("big"), Some(s("+150-150")), 3),
        ]
    );
    Ok(())
}

/// A materialized, uncached filter forwards every update as Kafka's
/// `TimestampedTupleForwarder` does without a cache: a rejected key it never held is a
/// tombstone too (no old values are asked for), and its store holds the filtered rows.
#[test]
fn an_uncached_materialized_filter_forwards_every_update() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("stock")
        .filter_with(
            |_, n| *n > 0,
            Named::as_("in-stock"),
            Materialized::as_("in-stock-store").with_caching_disabled(),
        )
        .to_stream()
        .to("in-stock-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "st")], 0)?;
    let mut input =
        driver.create_input_topic::<String, Option<i64>>("stock", StringSerde, I64Serde)?;
    let out =
        driver.create_output_topic::<String, Option<i64>>("in-stock-out", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("nut"), Some(0), 1)?;
    input.pipe_input_with_timestamp(s("bolt"), Some(4), 2)?;
    input.pipe_input_with_timestamp(s("bolt"), Some(0), 3)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("nut"), None, 1),
            TestRecord::at(s("bolt"), Some(4), 2),
            TestRecord::at(s("bolt"), None, 3),
        ]
    );
    let store = driver.get_key_value_store::<String, i64>("in-stock-store")?;
    assert_eq!(store.all()?, vec![]);
    Ok(())
}

/// `to_table` then `group_by`: the stream's table is materialized for the old values in
/// its generated `KSTREAM-TOTABLE-STATE-STORE-` store, so a key's new value replaces its
/// old one in the sums.
#[test]
fn a_to_table_grouping_materializes_the_table_for_old_values() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("readings")
        .to_table()
        .group_by_with(
            |sensor, v| (sensor.split('-').next().unwrap_or("").to_owned(), *v),
            Grouped::with(StringSerde, I64Serde),
        )
        .reduce(|a, b| a + b, |a, b| a - b)
        .to_stream()
        .to("room-totals");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "rt")], 0)?;
    let mut input = driver.create_input_topic::<String, i64>("readings", StringSerde, I64Serde)?;
    let out =
        driver.create_output_topic::<String, Option<i64>>("room-totals", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("kitchen-1"), 3, 1)?;
    input.pipe_input_with_timestamp(s("kitchen-2"), 4, 2)?;
    input.pipe_input_with_timestamp(s("kitchen-1"), 10, 3)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("kitchen"), Some(3), 1),
            TestRecord::at(s("kitchen"), Some(7), 2),
            TestRecord::at(s("kitchen"), Some(14), 3),
        ]
    );
    assert!(driver
        .produced_topic_names()
        .contains("rt-KSTREAM-TOTABLE-STATE-STORE-0000000002-changelog"));
    Ok(())
}
