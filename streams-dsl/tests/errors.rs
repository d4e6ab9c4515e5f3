//! Invalid DSL programs: `build()` returns a typed error naming the node and the fix.

use streams_dsl::serdes::JsonSerde;
use streams_dsl::{Consumed, DslError, Materialized, Named, Produced, SerdeRole, StreamsBuilder};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Order {
    id: u32,
}

#[test]
fn a_type_without_a_serde_names_the_node_and_the_fix() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, Order>("orders").to("copy");
    let e = builder.build().unwrap_err();
    assert_eq!(
        e,
        DslError::MissingSerde {
            node: "KSTREAM-SOURCE-0000000000".into(),
            role: SerdeRole::Value,
            type_name: std::any::type_name::<Order>(),
            fix: "Consumed::with(key_serde, value_serde)",
        }
    );
    let text = e.to_string();
    assert!(text.contains("StreamsBuilder::default_serde"), "{text}");
}

#[test]
fn a_default_serde_or_an_explicit_one_fixes_it() {
    let builder = StreamsBuilder::new();
    builder.default_serde::<Order>(JsonSerde::new());
    builder.stream::<String, Order>("orders").to("copy");
    assert!(builder.build().is_ok());

    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            &["orders"],
            Consumed::<String, Order>::default().with_value_serde(JsonSerde::new()),
        )
        .map_values(|o| o.id as i64)
        .to("ids");
    assert!(
        builder.build().is_ok(),
        "the source's serde; i64's default at the sink"
    );

    // The serde travels with the stream to the sink (not past a value change).
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            &["orders"],
            Consumed::<String, Order>::default().with_value_serde(JsonSerde::new()),
        )
        .filter(|_, o| o.id > 0)
        .to("copy");
    assert!(builder.build().is_ok());

    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            &["orders"],
            Consumed::<String, Order>::default().with_value_serde(JsonSerde::new()),
        )
        .map_values(|o| o)
        .to("copy");
    match builder.build() {
        Err(DslError::MissingSerde { node, .. }) => assert_eq!(node, "KSTREAM-SINK-0000000002"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_aggregate_without_a_value_serde_names_the_store() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .aggregate(|| Order { id: 0 }, |_, _, o| Order { id: o.id + 1 });
    match builder.build() {
        Err(DslError::MissingSerde { node, role, .. }) => {
            assert_eq!(node, "KSTREAM-AGGREGATE-STATE-STORE-0000000001");
            assert_eq!(role, SerdeRole::Value);
        }
        other => panic!("{other:?}"),
    }
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .aggregate_with(
            || Order { id: 0 },
            |_, _, o| Order { id: o.id + 1 },
            Named::empty(),
            Materialized::default().with_value_serde(JsonSerde::new()),
        );
    assert!(builder.build().is_ok());
}

#[test]
fn a_name_used_twice_is_refused() {
    let builder = StreamsBuilder::new();
    let s = builder.stream::<String, String>("in");
    s.filter_named(|_, _| true, Named::as_("dup")).to("a");
    s.map_values_with_key(|_, v| v, Named::as_("dup")).to("b");
    let e = builder.build().unwrap_err();
    assert_eq!(e, DslError::DuplicateNode("dup".into()));
    assert!(e.to_string().contains("Named::as_"), "{e}");

    let builder = StreamsBuilder::new();
    let s = builder.stream::<String, String>("in");
    s.group_by_key()
        .count_with(Named::empty(), Materialized::as_("store"));
    s.group_by_key()
        .count_with(Named::empty(), Materialized::as_("store"));
    assert_eq!(
        builder.build().unwrap_err(),
        DslError::DuplicateStore("store".into())
    );
}

#[test]
fn a_sink_into_a_source_topic_needs_repartition_intent() {
    let builder = StreamsBuilder::new();
    let s = builder.stream::<String, String>("loop");
    s.map_values(|v| v + "!").to("loop");
    let e = builder.build().unwrap_err();
    assert_eq!(
        e,
        DslError::SinkToSourceTopic {
            sink: "KSTREAM-SINK-0000000002".into(),
            topic: "loop".into(),
            source_node: "KSTREAM-SOURCE-0000000000".into(),
        }
    );
    assert!(e.to_string().contains("repartition()"), "{e}");

    let builder = StreamsBuilder::new();
    let s = builder.stream::<String, String>("loop");
    s.map_values(|v| v + "!")
        .to_with("loop", Produced::default().with_repartition_intent());
    assert!(builder.build().is_ok());
}

#[test]
fn a_process_store_that_was_never_added_is_named() {
    use streams_core::error::BoxError;
    use streams_core::processor::ProcessorContext;
    use streams_core::record::Record;
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").process(
        || {
            |ctx: &mut ProcessorContext<'_, String, String>,
             r: Record<String, String>|
             -> Result<(), BoxError> {
                ctx.forward(r)?;
                Ok(())
            }
        },
        &["missing"],
    );
    assert_eq!(
        builder.build().unwrap_err(),
        DslError::UnknownStore {
            processor: "KSTREAM-PROCESSOR-0000000001".into(),
            store: "missing".into()
        }
    );
}
