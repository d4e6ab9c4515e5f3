//! Aggregations through the `TopologyTestDriver`: `group_by_key().count()`, and `group_by`
//! with `reduce` and `aggregate` through the automatic repartition topic. The stores are
//! cached (Kafka's default) and the driver commits after every input record, as Java's
//! driver does, so each input record yields exactly one update of its key, stamped with the
//! record's timestamp.

use std::time::Duration;

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, StringSerde};
use streams_dsl::{Grouped, Materialized, Named, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn group_by_key_count_emits_one_update_per_record_and_fills_its_store() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("clicks")
        .group_by_key()
        .count_with(Named::empty(), Materialized::as_("click-counts"))
        .to_stream()
        .to("click-counts-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "clicks")], 0)?;
    let mut input = driver.create_input_topic_with(
        "clicks",
        StringSerde,
        StringSerde,
        100,
        Duration::from_millis(5),
    )?;
    let out = driver.create_output_topic::<String, i64>("click-counts-out", StringSerde, I64Serde);
    input.pipe_key_value_list([
        (s("alice"), s("/a")),
        (s("bob"), s("/b")),
        (s("alice"), s("/c")),
        (s("alice"), s("/a")),
    ])?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("alice"), 1, 100),
            TestRecord::at(s("bob"), 1, 105),
            TestRecord::at(s("alice"), 2, 110),
            TestRecord::at(s("alice"), 3, 115),
        ]
    );
    // No key change: no repartition topic, only the output and the store's changelog.
    let topics: Vec<String> = driver.produced_topic_names().into_iter().collect();
    assert_eq!(
        topics,
        vec![s("click-counts-out"), s("clicks-click-counts-changelog")]
    );
    // The changelog got the same writes: one per commit per key.
    let changelog = driver.changelog_topic("click-counts").ok_or("not logged")?;
    assert_eq!(changelog, "clicks-click-counts-changelog");
    let logged = driver.create_output_topic::<String, i64>(&changelog, StringSerde, I64Serde);
    assert_eq!(
        logged.read_key_values_to_list()?,
        vec![
            (s("alice"), 1),
            (s("bob"), 1),
            (s("alice"), 2),
            (s("alice"), 3)
        ]
    );
    let store = driver.get_key_value_store::<String, i64>("click-counts")?;
    assert_eq!(store.get(&s("alice"))?, Some(3));
    assert_eq!(store.get(&s("carol"))?, None);
    assert_eq!(store.all()?, vec![(s("alice"), 3), (s("bob"), 1)]);
    assert_eq!(
        store.range(Some(&s("b")), None)?,
        vec![(s("bob"), 1)],
        "range by key bytes"
    );
    // Asking with the wrong types names the store.
    let e = driver
        .get_key_value_store::<String, String>("click-counts")
        .unwrap_err();
    assert!(e.to_string().contains("click-counts"), "{e}");
    let e = driver
        .get_key_value_store::<String, i64>("nope")
        .unwrap_err();
    assert!(e.to_string().contains("\"nope\""), "{e}");
    Ok(())
}

/// Purchases keyed by customer, regrouped by size class and summed: the key change sends the
/// records through `<application.id>-<store>-repartition`, which the driver feeds back into
/// the aggregating sub-topology at once.
#[test]
fn group_by_reduce_goes_through_the_repartition_topic() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("purchases")
        .group_by_with(
            |_, amount| if *amount >= 100 { s("big") } else { s("small") },
            Grouped::with(StringSerde, I64Serde).with_name("by-size"),
        )
        .reduce_with(|a, b| a + b, Named::empty(), Materialized::as_("totals"))
        .to_stream()
        .to("totals-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "shop")], 0)?;
    let mut input = driver.create_input_topic("purchases", StringSerde, I64Serde)?;
    let out = driver.create_output_topic::<String, i64>("totals-out", StringSerde, I64Serde);
    input.pipe_input_with_timestamp(s("c1"), 50, 1)?;
    input.pipe_input_with_timestamp(s("c2"), 150, 2)?;
    input.pipe_input_with_timestamp(s("c1"), 30, 3)?;
    input.pipe_input_with_timestamp(s("c3"), 200, 4)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("small"), 50, 1),
            TestRecord::at(s("big"), 150, 2),
            TestRecord::at(s("small"), 80, 3),
            TestRecord::at(s("big"), 350, 4),
        ]
    );
    // The repartitioned records are readable too, rekeyed, with the original values.
    let repartition = driver.create_output_topic::<String, i64>(
        "shop-by-size-repartition",
        StringSerde,
        I64Serde,
    );
    assert_eq!(
        repartition.read_key_values_to_list()?,
        vec![
            (s("small"), 50),
            (s("big"), 150),
            (s("small"), 30),
            (s("big"), 200)
        ]
    );
    let totals = driver.get_key_value_store::<String, i64>("totals")?;
    assert_eq!(totals.all()?, vec![(s("big"), 350), (s("small"), 80)]);
    Ok(())
}

#[test]
fn group_by_aggregate_folds_from_the_initializer_per_new_key() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("events")
        .group_by(|_, v| v.split(':').next().unwrap_or_default().to_owned())
        .aggregate_with(
            String::new,
            |_, v, agg| {
                let item = v.split(':').nth(1).unwrap_or_default();
                if agg.is_empty() {
                    item.to_owned()
                } else {
                    format!("{agg},{item}")
                }
            },
            Named::empty(),
            Materialized::as_("lists"),
        )
        .to_stream()
        .to("lists-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "agg")], 0)?;
    let mut input = driver.create_input_topic_with::<String, String>(
        "events",
        StringSerde,
        StringSerde,
        1_000,
        Duration::from_secs(1),
    )?;
    let out = driver.create_output_topic::<String, String>("lists-out", StringSerde, StringSerde);
    input.pipe_value_list([s("u1:x"), s("u2:y"), s("u1:z")])?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("u1"), s("x"), 1_000),
            TestRecord::at(s("u2"), s("y"), 2_000),
            TestRecord::at(s("u1"), s("x,z"), 3_000),
        ]
    );
    // The repartition topic is named after the store (no Grouped name).
    assert!(driver
        .produced_topic_names()
        .contains("agg-lists-repartition"));
    let store = driver.get_key_value_store::<String, String>("lists")?;
    assert_eq!(store.get(&s("u1"))?, Some(s("x,z")));
    Ok(())
}

/// A store without caching forwards every update at once — the same records as with
/// caching under the driver's commit after every record.
#[test]
fn an_uncached_count_emits_the_same_records() -> Result {
    let run = |cached: bool| -> std::result::Result<Vec<TestRecord<String, i64>>, Box<dyn std::error::Error>> {
        let builder = StreamsBuilder::new();
        let m = Materialized::as_("counts");
        let m = if cached { m } else { m.with_caching_disabled() };
        builder
            .stream::<String, String>("in")
            .group_by_key()
            .count_with(Named::empty(), m)
            .to_stream()
            .to("out");
        let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "c")], 0)?;
        let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
        let out = driver.create_output_topic::<String, i64>("out", StringSerde, I64Serde);
        input.pipe_input_with_timestamp(s("a"), s("1"), 10)?;
        input.pipe_input_with_timestamp(s("a"), s("2"), 20)?;
        input.pipe_input_with_timestamp(s("b"), s("3"), 30)?;
        Ok(out.read_records_to_list()?)
    };
    let expected = vec![
        TestRecord::at(s("a"), 1, 10),
        TestRecord::at(s("a"), 2, 20),
        TestRecord::at(s("b"), 1, 30),
    ];
    assert_eq!(run(true)?, expected);
    assert_eq!(run(false)?, expected);
    Ok(())
}

/// Persistent stores on redb in a temporary state directory behave as in memory.
#[test]
fn a_persistent_store_on_disk_counts_the_same() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .count_with(Named::empty(), Materialized::as_("disk-counts"))
        .to_stream()
        .to("out");
    let driver =
        TopologyTestDriver::new_on_disk(builder.build()?, [("application.id", "disk")], 0)?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, i64>("out", StringSerde, I64Serde);
    for i in 0..3 {
        input.pipe_input_with_timestamp(s("k"), s("v"), i)?;
    }
    assert_eq!(out.read_values_to_list()?, vec![1, 2, 3]);
    let store = driver.get_key_value_store::<String, i64>("disk-counts")?;
    assert_eq!(store.get(&s("k"))?, Some(3));
    driver.close()?;
    assert!(store.get(&s("k")).is_err(), "closed");
    Ok(())
}

/// An aggregate is stamped with the latest timestamp of its records (Kafka's
/// `max(record, aggregate)`): a record arriving out of order does not move it back. The
/// store keeps the timestamp, and the changelog is stamped with it too.
#[test]
fn an_out_of_order_record_keeps_the_aggregate_timestamp() -> Result {
    for cached in [true, false] {
        let builder = StreamsBuilder::new();
        let m = Materialized::as_("latest");
        let m = if cached { m } else { m.with_caching_disabled() };
        builder
            .stream::<String, i64>("in")
            .group_by_key()
            .reduce_with(|a, b| a + b, Named::empty(), m)
            .to_stream()
            .to("out");
        let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "ooo")], 0)?;
        let mut input = driver.create_input_topic("in", StringSerde, I64Serde)?;
        let out = driver.create_output_topic::<String, i64>("out", StringSerde, I64Serde);
        input.pipe_input_with_timestamp(s("k"), 1, 50)?;
        input.pipe_input_with_timestamp(s("k"), 2, 20)?;
        input.pipe_input_with_timestamp(s("j"), 5, 10)?;
        input.pipe_input_with_timestamp(s("k"), 3, 60)?;
        assert_eq!(
            out.read_records_to_list()?,
            vec![
                TestRecord::at(s("k"), 1, 50),
                TestRecord::at(s("k"), 3, 50),
                TestRecord::at(s("j"), 5, 10),
                TestRecord::at(s("k"), 6, 60),
            ],
            "cached: {cached}"
        );
        let store = driver.get_key_value_store::<String, i64>("latest")?;
        let k = store.get_with_timestamp(&s("k"))?.ok_or("no k")?;
        assert_eq!((k.value, k.timestamp), (6, 60));
        assert_eq!(store.all()?, vec![(s("j"), 5), (s("k"), 6)]);
        let changelog = driver.create_output_topic::<String, i64>(
            "ooo-latest-changelog",
            StringSerde,
            I64Serde,
        );
        let stamps: Vec<Option<i64>> = changelog
            .read_records_to_list()?
            .into_iter()
            .map(|r| r.timestamp)
            .collect();
        assert_eq!(stamps, vec![Some(50), Some(50), Some(10), Some(60)]);
    }
    Ok(())
}

/// With `statestore.cache.max.bytes=0` every write is evicted at once: the same updates.
#[test]
fn a_zero_cache_budget_forwards_every_update_at_once() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .count()
        .to_stream()
        .to("out");
    let props = [("application.id", "z"), ("statestore.cache.max.bytes", "0")];
    let driver = TopologyTestDriver::new(builder.build()?, props, 0)?;
    let mut input = driver.create_input_topic::<String, String>("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, i64>("out", StringSerde, I64Serde);
    input.pipe_key_value_list([(s("a"), s("1")), (s("a"), s("2")), (s("b"), s("3"))])?;
    assert_eq!(
        out.read_key_values_to_list()?,
        vec![(s("a"), 1), (s("a"), 2), (s("b"), 1)]
    );
    Ok(())
}
