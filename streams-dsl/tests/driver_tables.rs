//! Tables through the `TopologyTestDriver`: `table` (upserts, tombstones), `to_table` after a
//! key change (through a repartition topic), and a global table's store.

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::StringSerde;
use streams_dsl::{Consumed, Materialized, Named, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

/// A materialized table emits each update (the driver commits after every record, so the
/// cache holds none back) and a tombstone for a deleted key. Deleting a key the table never
/// had emits nothing through the cache (Kafka's caching store flushes a key only with a new
/// or an old value), but a tombstone without it (Kafka's uncached table source forwards
/// every update).
#[test]
fn a_table_emits_upserts_and_tombstones_of_known_keys() -> Result {
    for cached in [true, false] {
        let builder = StreamsBuilder::new();
        let m = Materialized::as_("prices");
        let m = if cached { m } else { m.with_caching_disabled() };
        builder
            .table_with::<String, String>("price-updates", Consumed::default(), m)
            .to_stream()
            .to("prices-out");
        let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "t")], 0)?;
        let mut input = driver.create_input_topic::<String, Option<String>>(
            "price-updates",
            StringSerde,
            StringSerde,
        )?;
        let out = driver.create_output_topic::<String, Option<String>>(
            "prices-out",
            StringSerde,
            StringSerde,
        );
        input.pipe_input_with_timestamp(s("apple"), Some(s("1.00")), 1)?;
        input.pipe_input_with_timestamp(s("pear"), Some(s("2.00")), 2)?;
        input.pipe_input_with_timestamp(s("apple"), Some(s("1.10")), 3)?;
        input.pipe_input_with_timestamp(s("apple"), None, 4)?;
        input.pipe_input_with_timestamp(s("plum"), None, 5)?;
        let mut expected = vec![
            TestRecord::at(s("apple"), Some(s("1.00")), 1),
            TestRecord::at(s("pear"), Some(s("2.00")), 2),
            TestRecord::at(s("apple"), Some(s("1.10")), 3),
            TestRecord::at(s("apple"), None, 4),
        ];
        if !cached {
            expected.push(TestRecord::at(s("plum"), None, 5));
        }
        assert_eq!(out.read_records_to_list()?, expected, "cached: {cached}");
        let store = driver.get_key_value_store::<String, String>("prices")?;
        assert_eq!(store.all()?, vec![(s("pear"), s("2.00"))]);
    }
    Ok(())
}

#[test]
fn to_table_after_a_key_change_goes_through_a_repartition_topic() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("logins")
        .select_key(|_, user| user.clone())
        .to_table_with(
            Named::as_("last-login"),
            Materialized::as_("last-login-store"),
        )
        .to_stream()
        .to("last-login-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "tt")], 0)?;
    let mut input =
        driver.create_input_topic::<String, String>("logins", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, Option<String>>(
        "last-login-out",
        StringSerde,
        StringSerde,
    );
    input.pipe_input_with_timestamp(s("host-1"), s("ada"), 10)?;
    input.pipe_input_with_timestamp(s("host-2"), s("bob"), 20)?;
    input.pipe_input_with_timestamp(s("host-3"), s("ada"), 30)?;
    assert_eq!(
        out.read_key_values_to_list()?,
        vec![
            (s("ada"), Some(s("ada"))),
            (s("bob"), Some(s("bob"))),
            (s("ada"), Some(s("ada")))
        ]
    );
    assert!(
        driver
            .produced_topic_names()
            .iter()
            .any(|t| t.starts_with("tt-") && t.ends_with("-repartition")),
        "{:?}",
        driver.produced_topic_names()
    );
    let store = driver.get_key_value_store::<String, String>("last-login-store")?;
    assert_eq!(store.get(&s("ada"))?, Some(s("ada")));
    Ok(())
}

#[test]
fn a_global_table_is_filled_as_its_topic_is_piped() -> Result {
    let builder = StreamsBuilder::new();
    builder.global_table::<String, String>(
        "countries",
        Consumed::default(),
        Materialized::as_("countries-store"),
    );
    builder.stream::<String, String>("unused").to("unused-out");
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "g")], 0)?;
    let mut input = driver.create_input_topic::<String, Option<String>>(
        "countries",
        StringSerde,
        StringSerde,
    )?;
    input.pipe_input(s("fr"), Some(s("France")))?;
    input.pipe_input(s("de"), Some(s("Germany")))?;
    input.pipe_input(s("fr"), None)?;
    let store = driver.get_key_value_store::<String, String>("countries-store")?;
    assert_eq!(store.all()?, vec![(s("de"), s("Germany"))]);
    assert!(
        driver.produced_topic_names().is_empty(),
        "a global store has no changelog"
    );
    Ok(())
}

/// `statestore.cache.max.bytes=0` turns caching off on every store, as Kafka's
/// `rewriteTopology` does: a materialized table then forwards a tombstone of a key it never
/// had, as an uncached one does (Java's driver prints `plum null` here too).
#[test]
fn a_zero_byte_cache_makes_a_materialized_table_uncached() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table_with::<String, String>("price-updates", Consumed::default(), Materialized::as_("p"))
        .to_stream()
        .to("prices-out");
    let props = [("application.id", "t"), ("statestore.cache.max.bytes", "0")];
    let driver = TopologyTestDriver::new(builder.build()?, props, 0)?;
    let mut input = driver.create_input_topic::<String, Option<String>>(
        "price-updates",
        StringSerde,
        StringSerde,
    )?;
    let out = driver.create_output_topic::<String, Option<String>>(
        "prices-out",
        StringSerde,
        StringSerde,
    );
    input.pipe_input_with_timestamp(s("apple"), Some(s("1.00")), 1)?;
    input.pipe_input_with_timestamp(s("plum"), None, 2)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("apple"), Some(s("1.00")), 1),
            TestRecord::at(s("plum"), None, 2),
        ]
    );
    Ok(())
}
