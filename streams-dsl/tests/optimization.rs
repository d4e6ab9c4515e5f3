//! `topology.optimization`: how it is given and what each rule changes. The merged
//! topologies themselves are compared with Java's `describe()` and output in
//! `integration-tests/tests/dsl_ttd_java.rs` (the `_opt` cases).

use streams_core::runtime::StreamsConfig;
use streams_core::topology::TopologyOptimization;
use streams_dsl::{Consumed, DslError, Materialized, StreamsBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn table_program() -> StreamsBuilder {
    let builder = StreamsBuilder::new();
    builder
        .table_with::<String, String>(
            "users",
            Consumed::default(),
            Materialized::as_("users-store"),
        )
        .to_stream()
        .to("users-out");
    builder
}

fn two_counts_after_one_key_change() -> StreamsBuilder {
    let builder = StreamsBuilder::new();
    let rekeyed = builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone());
    rekeyed.group_by_key().count().to_stream().to("out1");
    rekeyed.group_by_key().count().to_stream().to("out2");
    builder
}

#[test]
fn reuse_ktable_source_topics_restores_a_table_from_its_topic() -> Result {
    let plain = table_program().build()?;
    assert_eq!(
        plain.changelog_topic("app", "users-store").as_deref(),
        Some("app-users-store-changelog")
    );
    assert_eq!(plain.source_changelog("users-store"), None);

    let reused = table_program().build_with_optimization(
        TopologyOptimization::parse("reuse.ktable.source.topics").map_err(|e| e.to_string())?,
    )?;
    assert_eq!(reused.changelog_topic("app", "users-store"), None);
    assert_eq!(reused.source_changelog("users-store"), Some("users"));
    Ok(())
}

#[test]
fn merge_repartition_topics_leaves_one_topic_per_key_change() -> Result {
    let plain = two_counts_after_one_key_change().build()?;
    assert_eq!(
        plain.internal_topics(),
        vec![
            "KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition",
            "KSTREAM-AGGREGATE-STATE-STORE-0000000009-repartition",
        ]
    );
    let merged = two_counts_after_one_key_change().build_with_optimization(
        TopologyOptimization::parse("merge.repartition.topics").map_err(|e| e.to_string())?,
    )?;
    assert_eq!(
        merged.internal_topics(),
        vec!["KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition"]
    );
    assert_eq!(merged.subtopologies().len(), 2);
    Ok(())
}

#[test]
fn the_setting_comes_from_the_streams_config_as_in_java() -> Result {
    let mut config = StreamsConfig::new("app", "localhost:9092");
    let unset = two_counts_after_one_key_change().build_with(&config)?;
    assert_eq!(unset.internal_topics().len(), 2);
    config.set("topology.optimization", "all")?;
    let all = two_counts_after_one_key_change().build_with(&config)?;
    assert_eq!(all.internal_topics().len(), 1);
    let err = config
        .set("topology.optimization", "all,merge.repartition.topics")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("cannot be combined"), "{err}");
    Ok(())
}

#[test]
fn a_merge_that_would_change_record_types_is_refused_with_the_fix() {
    // A process() between the key change and the grouping changes the record types; Java
    // would push the key changer's records through the grouping's serdes.
    let builder = StreamsBuilder::new();
    let rekeyed = builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone());
    rekeyed
        .process(
            || {
                |ctx: &mut streams_core::processor::ProcessorContext<'_, String, i64>,
                 r: streams_core::record::Record<String, String>|
                 -> std::result::Result<(), streams_core::error::BoxError> {
                    let n = r.value.len() as i64;
                    ctx.forward(r.with_value(n))?;
                    Ok(())
                }
            },
            &[],
        )
        .group_by_key()
        .count()
        .to_stream()
        .to("out");
    let err = builder
        .build_with_optimization(TopologyOptimization::ALL)
        .expect_err("merged across a type change");
    assert!(
        matches!(err, DslError::UnmergeableRepartition { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("topology.optimization"), "{err}");
}
