//! Foreign-key table-table joins (KIP-213) through the `TopologyTestDriver`: orders keyed by
//! id whose value names a customer (`"<customer>,<item>"`), joined with customers. Each test
//! drives one of Kafka's cases; the whole set is also compared with Java 4.4's driver, record
//! for record and byte for byte on the internal topics, by
//! `integration-tests/tests/dsl_ttd_java_fk_joins.rs`.

use streams_core::serde::{Deserializer, Serializer};
use streams_core::testing::{TestInputTopic, TopologyTestDriver};
use streams_dsl::serdes::StringSerde;
use streams_dsl::{KTable, Materialized, StreamsBuilder, TableJoined};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;
type Input = TestInputTopic<String, Option<String>>;

/// The customer of an order, `None` without one (`&String`: the extractor of a table of
/// `String` values).
#[allow(clippy::ptr_arg)]
fn customer(order: &String) -> Option<String> {
    order.split_once(',').map(|(c, _)| c.to_owned())
}

fn pair(o: &String, c: Option<&String>) -> String {
    format!("{o}+{}", c.map_or("null", String::as_str))
}

/// Orders and customers joined by `join`, written to `out`.
struct Fixture {
    driver: TopologyTestDriver,
    orders: Input,
    customers: Input,
}

impl Fixture {
    fn new(
        join: impl FnOnce(&KTable<String, String>, &KTable<String, String>) -> KTable<String, String>,
    ) -> Result<Self> {
        let b = StreamsBuilder::new();
        let orders = b.table::<String, String>("orders");
        let customers = b.table::<String, String>("customers");
        join(&orders, &customers).to_stream().to("out");
        let driver = TopologyTestDriver::new(b.build()?, [("application.id", "fk")], 0)?;
        let orders = driver.create_input_topic("orders", StringSerde, StringSerde)?;
        let customers = driver.create_input_topic("customers", StringSerde, StringSerde)?;
        Ok(Fixture {
            driver,
            orders,
            customers,
        })
    }

    fn order(&mut self, id: &str, value: Option<&str>, ts: i64) -> Result {
        Ok(self
            .orders
            .pipe_input_with_timestamp(id.to_owned(), value.map(str::to_owned), ts)?)
    }

    fn customer(&mut self, id: &str, value: Option<&str>, ts: i64) -> Result {
        Ok(self
            .customers
            .pipe_input_with_timestamp(id.to_owned(), value.map(str::to_owned), ts)?)
    }

    /// Everything written to `out` since the last call: (key, value, timestamp).
    fn out(&self) -> Result<Vec<(String, Option<String>, i64)>> {
        let out = self.driver.create_output_topic::<String, Option<String>>(
            "out",
            StringSerde,
            StringSerde,
        );
        Ok(out
            .read_records_to_list()?
            .into_iter()
            .map(|r| (r.key, r.value, r.timestamp.unwrap_or(-1)))
            .collect())
    }
}

fn row(k: &str, v: Option<&str>, ts: i64) -> (String, Option<String>, i64) {
    (k.to_owned(), v.map(str::to_owned), ts)
}

fn inner() -> Result<Fixture> {
    Fixture::new(|o, c| o.join_on_foreign_key(c, customer, |o, c| pair(o, Some(c))))
}

fn left() -> Result<Fixture> {
    Fixture::new(|o, c| o.left_join_on_foreign_key(c, customer, pair))
}

#[test]
fn an_order_joins_its_customer_at_the_later_timestamp() -> Result {
    let mut f = inner()?;
    f.customer("A", Some("alice"), 10)?;
    f.order("o1", Some("A,pen"), 5)?;
    assert_eq!(f.out()?, vec![row("o1", Some("A,pen+alice"), 10)]);
    // An order without its customer has no row in an inner join…
    f.order("o2", Some("B,ink"), 20)?;
    assert_eq!(f.out()?, vec![]);
    // …until the customer arrives: the right side fans out to its subscribers.
    f.customer("B", Some("bob"), 30)?;
    assert_eq!(f.out()?, vec![row("o2", Some("B,ink+bob"), 30)]);
    Ok(())
}

#[test]
fn a_foreign_key_change_moves_the_row() -> Result {
    let mut f = inner()?;
    f.customer("A", Some("alice"), 1)?;
    f.customer("B", Some("bob"), 2)?;
    f.order("o1", Some("A,pen"), 3)?;
    f.order("o1", Some("B,pen"), 4)?;
    assert_eq!(
        f.out()?,
        vec![
            row("o1", Some("A,pen+alice"), 3),
            row("o1", Some("B,pen+bob"), 4)
        ]
    );
    // The old customer's updates no longer reach the order.
    f.customer("A", Some("alice2"), 5)?;
    assert_eq!(f.out()?, vec![]);
    // Moving to a customer that does not exist deletes the row.
    f.order("o1", Some("C,pen"), 6)?;
    assert_eq!(f.out()?, vec![row("o1", None, 6)]);
    Ok(())
}

#[test]
fn deletes_on_either_side_delete_the_row() -> Result {
    let mut f = inner()?;
    f.customer("A", Some("alice"), 1)?;
    f.order("o1", Some("A,pen"), 2)?;
    f.order("o2", Some("A,ink"), 3)?;
    f.out()?;
    f.customer("A", None, 4)?;
    assert_eq!(f.out()?, vec![row("o1", None, 4), row("o2", None, 4)]);
    f.customer("A", Some("alice2"), 5)?;
    f.order("o1", None, 6)?;
    assert_eq!(
        f.out()?,
        vec![
            row("o1", Some("A,pen+alice2"), 5),
            row("o2", Some("A,ink+alice2"), 5),
            row("o1", None, 6),
        ]
    );
    // A right update after the delete reaches only the remaining order.
    f.customer("A", Some("alice3"), 7)?;
    assert_eq!(f.out()?, vec![row("o2", Some("A,ink+alice3"), 7)]);
    Ok(())
}

#[test]
fn a_left_join_keeps_orders_without_customers() -> Result {
    let mut f = left()?;
    f.order("o1", Some("A,pen"), 1)?;
    f.order("o2", Some("nofk"), 2)?;
    assert_eq!(
        f.out()?,
        vec![
            row("o1", Some("A,pen+null"), 1),
            row("o2", Some("nofk+null"), 2)
        ]
    );
    f.customer("A", Some("alice"), 3)?;
    f.customer("A", None, 4)?;
    assert_eq!(
        f.out()?,
        vec![
            row("o1", Some("A,pen+alice"), 3),
            row("o1", Some("A,pen+null"), 4)
        ]
    );
    // Losing the foreign key keeps the row, without a customer.
    f.customer("A", Some("alice2"), 5)?;
    f.order("o1", Some("nofk"), 6)?;
    f.order("o1", None, 7)?;
    assert_eq!(
        f.out()?,
        vec![
            row("o1", Some("A,pen+alice2"), 5),
            row("o1", Some("nofk+null"), 6),
            row("o1", None, 7),
        ]
    );
    Ok(())
}

#[test]
fn an_inner_join_skips_orders_without_a_foreign_key() -> Result {
    let mut f = inner()?;
    f.customer("A", Some("alice"), 1)?;
    f.order("o1", Some("nofk"), 2)?;
    assert_eq!(f.out()?, vec![]);
    // Gaining one joins; losing it again deletes.
    f.order("o1", Some("A,pen"), 3)?;
    f.order("o1", Some("nofk"), 4)?;
    assert_eq!(
        f.out()?,
        vec![row("o1", Some("A,pen+alice"), 3), row("o1", None, 4)]
    );
    Ok(())
}

#[test]
fn an_out_of_order_update_joins_at_the_customers_later_timestamp() -> Result {
    let mut f = inner()?;
    f.customer("A", Some("alice"), 50)?;
    f.order("o1", Some("A,pen"), 100)?;
    f.order("o1", Some("A,cap"), 20)?;
    assert_eq!(
        f.out()?,
        vec![
            row("o1", Some("A,pen+alice"), 100),
            row("o1", Some("A,cap+alice"), 50)
        ]
    );
    Ok(())
}

#[test]
fn a_named_materialized_join_is_queryable_and_names_its_topics() -> Result {
    let b = StreamsBuilder::new();
    let orders = b.table::<String, String>("orders");
    let customers = b.table::<String, String>("customers");
    let joined = orders.join_on_foreign_key_with(
        &customers,
        customer,
        |o, c| pair(o, Some(c)),
        TableJoined::as_("oc"),
        Some(Materialized::as_("joined")),
    );
    assert_eq!(joined.queryable_store_name(), Some("joined"));
    let topology = b.build()?;
    assert_eq!(
        topology.internal_topics(),
        vec![
            "oc-subscription-registration-topic",
            "oc-subscription-response-topic"
        ]
    );
    // The registration topic is partitioned like the customers, the response like the orders.
    let group = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
    assert_eq!(
        topology.copartition_groups(),
        &[
            group("customers", "oc-subscription-registration-topic"),
            group("orders", "oc-subscription-response-topic"),
        ]
    );
    let described = topology.describe().to_string();
    assert!(
        described.contains("Processor: oc-subscription-receive (stores: [oc-subscription-store])")
    );
    assert!(described.contains("Processor: oc-result (stores: [joined])"));

    let driver = TopologyTestDriver::new(topology, [("application.id", "fk")], 0)?;
    let mut o =
        driver.create_input_topic::<String, Option<String>>("orders", StringSerde, StringSerde)?;
    let mut c = driver.create_input_topic::<String, Option<String>>(
        "customers",
        StringSerde,
        StringSerde,
    )?;
    c.pipe_input_with_timestamp("A".to_owned(), Some("alice".to_owned()), 1)?;
    o.pipe_input_with_timestamp("o1".to_owned(), Some("A,pen".to_owned()), 2)?;
    let store = driver.get_key_value_store::<String, String>("joined")?;
    assert_eq!(store.get(&"o1".to_owned())?, Some("A,pen+alice".to_owned()));
    Ok(())
}

/// A string serde remembering the topics it serializes for.
#[derive(Clone, Default)]
struct Recording(std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>);

impl Serializer<String> for Recording {
    fn serialize(
        &self,
        topic: &str,
        value: &String,
    ) -> std::result::Result<Option<bytes::Bytes>, streams_core::serde::SerdeError> {
        if let Ok(mut seen) = self.0.lock() {
            seen.insert(topic.to_owned());
        }
        StringSerde.serialize(topic, value)
    }
}

impl Deserializer<String> for Recording {
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> std::result::Result<String, streams_core::serde::SerdeError> {
        StringSerde.deserialize(topic, data)
    }
}

/// A topic-aware serde (a schema registry's) sees Kafka's pseudo-topics, decorated with the
/// application id, so it uses the subjects a Java instance uses.
#[test]
fn keys_and_values_are_serialized_for_kafkas_pseudo_topics() -> Result {
    let keys = Recording::default();
    let values = Recording::default();
    let b = StreamsBuilder::new();
    let orders = b.table_with::<String, String>(
        "orders",
        streams_dsl::Consumed::with(keys.clone(), values.clone()),
        Materialized::default(),
    );
    let customers = b.table_with::<String, String>(
        "customers",
        streams_dsl::Consumed::with(keys.clone(), StringSerde),
        Materialized::default(),
    );
    orders
        .join_on_foreign_key(&customers, customer, |o, c| pair(o, Some(c)))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(b.build()?, [("application.id", "fk")], 0)?;
    let mut o =
        driver.create_input_topic::<String, Option<String>>("orders", StringSerde, StringSerde)?;
    let mut c = driver.create_input_topic::<String, Option<String>>(
        "customers",
        StringSerde,
        StringSerde,
    )?;
    c.pipe_input_with_timestamp("A".to_owned(), Some("alice".to_owned()), 1)?;
    o.pipe_input_with_timestamp("o1".to_owned(), Some("A,pen".to_owned()), 2)?;
    let base = "fk-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic";
    let seen = |r: &Recording| r.0.lock().map(|s| s.clone()).unwrap_or_default();
    let (keys, values) = (seen(&keys), seen(&values));
    assert!(keys.contains(&format!("{base}-pk")), "{keys:?}");
    assert!(keys.contains(&format!("{base}-fk")), "{keys:?}");
    assert!(values.contains(&format!("{base}-vh")), "{values:?}");
    Ok(())
}
