//! Repartition topics (`repartition()`, and the ones grouping and `to_table` insert after a
//! key change) and `to_table`.

use std::any::Any;
use std::sync::Arc;

use streams_core::timestamp::FailOnInvalidTimestamp;

use super::KStream;
use crate::change::Change;
use crate::error::DslError;
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named, Repartitioned, StreamPartitioner};
use crate::plan::{
    processor_name, processor_name_or_draw, push, Mergeable, MergedRepartition, NodeSpec, Step,
};
use crate::processors::ops::{NotNullKey, OpProcessor, PassThrough};
use crate::processors::table_source::TableSource;
use crate::serdes::DynSerde;
use crate::store::table_store_builder;
use crate::table_node::TableNode;

const REPARTITION_FIX: &str = "Repartitioned::with / Grouped::with(key_serde, value_serde)";

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Send the records through an internal topic `<prefix>-repartition`, partitioned by
    /// their (new) key, as Kafka's `createRepartitionedSource` does: a pass-through filter,
    /// a sink and a source, named `<topic>-filter`/`-sink`/`-source`, or generated names when
    /// `prefix` is itself generated. Three names are always drawn from the index, as in Kafka.
    /// `mergeable`: one `topology.optimization=merge.repartition.topics` may merge (those of
    /// aggregations and `to_table`; not `repartition()`'s). Returns the source's name.
    pub(crate) fn repartition_nodes(
        &self,
        prefix: &str,
        key_serde: Option<DynSerde<K>>,
        value_serde: Option<DynSerde<V>>,
        partitioner: Option<StreamPartitioner<K, V>>,
        mergeable: bool,
    ) -> String {
        let topic = if prefix.ends_with(names::REPARTITION_TOPIC_SUFFIX) {
            prefix.to_owned()
        } else {
            format!("{prefix}{}", names::REPARTITION_TOPIC_SUFFIX)
        };
        let (gen_sink, gen_filter, gen_source) = {
            let mut p = self.plan.borrow_mut();
            (
                p.names.processor(names::SINK),
                p.names.processor(names::FILTER),
                p.names.processor(names::SOURCE),
            )
        };
        let nodes = if names::is_generated(prefix) {
            RepartitionNodes {
                sink: gen_sink,
                filter: gen_filter,
                source: gen_source,
            }
        } else {
            RepartitionNodes::named_after(&topic)
        };
        let source = nodes.source.clone();
        let mut spec = NodeSpec::new(&source, &[&self.name]);
        if mergeable {
            spec = spec.mergeable(Mergeable {
                topic: topic.clone(),
                key_serde: key_serde.clone().map(|s| Box::new(s) as Box<dyn Any>),
                value_serde: value_serde.clone().map(|s| Box::new(s) as Box<dyn Any>),
                write_merged: Box::new(merged_repartition::<K, V>),
            });
        }
        let step = repartition_step(
            self.name.clone(),
            topic,
            nodes,
            key_serde,
            value_serde,
            partitioner,
        );
        push(&self.plan, spec, step);
        source
    }

    /// The node a join reads this stream from (Kafka's `repartitionForJoin`): after a key
    /// change, the source of `<repartition_name>-repartition`; three names are drawn either
    /// way, and a join named after this stream's node (an unnamed one) reads the repartition
    /// an earlier join of this stream made, as Kafka reuses it.
    pub(crate) fn join_input(
        &self,
        repartition_name: &str,
        key_serde: Option<DynSerde<K>>,
        value_serde: Option<DynSerde<V>>,
    ) -> String {
        if !self.repartition_required {
            return self.name.clone();
        }
        let existing = self.join_repartition.borrow().clone();
        match existing {
            Some(source) if repartition_name == self.name => {
                let mut p = self.plan.borrow_mut();
                for prefix in [names::SINK, names::FILTER, names::SOURCE] {
                    p.names.processor(prefix);
                }
                source
            }
            _ => {
                let source =
                    self.repartition_nodes(repartition_name, key_serde, value_serde, None, true);
                *self.join_repartition.borrow_mut() = Some(source.clone());
                source
            }
        }
    }

    /// The same records through a new internal topic, partitioned by key (Kafka's
    /// `repartition()`): `<application.id>-KSTREAM-REPARTITION-<index>-repartition`.
    pub fn repartition(&self) -> Self {
        self.repartition_with(Repartitioned::default())
    }

    /// [`repartition`](Self::repartition) with a name (the topic is
    /// `<application.id>-<name>-repartition`), serdes and a partitioner.
    pub fn repartition_with(&self, repartitioned: Repartitioned<K, V>) -> Self {
        let name = processor_name_or_draw(&self.plan, repartitioned.name, names::REPARTITION);
        let key = repartitioned.key_serde.or_else(|| self.key_serde.clone());
        let value = repartitioned
            .value_serde
            .or_else(|| self.value_serde.clone());
        let source = self.repartition_nodes(
            &name,
            key.clone(),
            value.clone(),
            repartitioned.partitioner,
            false,
        );
        self.derive(source, key, value, false)
    }

    /// The stream as a table: each record is the new value of its key (Kafka's `toTable`).
    /// Not materialized (no store) unless [`to_table_with`](Self::to_table_with) names one.
    pub fn to_table(&self) -> KTable<K, V> {
        self.to_table_with(Named::empty(), Materialized::default())
    }

    /// [`to_table`](Self::to_table) with a processor name and a store.
    pub fn to_table_with(&self, named: Named, materialized: Materialized<K, V>) -> KTable<K, V> {
        let name = processor_name(&self.plan, named.name, names::TO_TABLE);
        let queryable = materialized.name.clone();
        let table_node = TableNode::source(queryable.is_some());
        table_node.set_output_versioned(materialized.history_retention.is_some());
        let built = table_node.clone();
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => self.plan.borrow_mut().names.store(names::TO_TABLE),
        };
        let key = materialized
            .key_serde
            .clone()
            .or_else(|| self.key_serde.clone());
        let value = materialized
            .value_serde
            .clone()
            .or_else(|| self.value_serde.clone());
        let parent = if self.repartition_required {
            self.repartition_nodes(&name, key.clone(), value.clone(), None, true)
        } else {
            self.name.clone()
        };
        let node = name.clone();
        let (k, v) = (key.clone(), value.clone());
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let key_serde = b.optional_serde(k.clone());
            let store = match built.is_materialized() {
                true => {
                    let (ks, vs) = b.serdes(
                        k,
                        v,
                        &store_name,
                        "Materialized::with(key_serde, value_serde)",
                    )?;
                    Some(table_store_builder(&store_name, ks, vs, &materialized))
                }
                false => None,
            };
            let p = b.handle::<K, V>(&parent)?;
            let table_store = store.as_ref().map(|(_, s)| s.clone());
            let send_old_values = built.sends_old_values();
            let h = b
                .tb
                .add_processor::<K, V, K, Change<V>, _, _>(&node, &[&p], move || TableSource {
                    store: table_store.clone(),
                    send_old_values,
                    key_serde: key_serde.clone(),
                })?;
            b.put(&node, h);
            if let Some((_, s)) = &store {
                b.put_getter(&node, s.getter());
            }
            if let Some((builder, _)) = store {
                b.tb.add_state_store(builder, &[&node])?;
            }
            Ok(())
        });
        KTable::new(self.plan.clone(), name, key, value, queryable, table_node)
    }
}

/// The three nodes of a repartition topic.
struct RepartitionNodes {
    sink: String,
    filter: String,
    source: String,
}

impl RepartitionNodes {
    /// `<topic>-sink`, `<topic>-filter`, `<topic>-source`.
    fn named_after(topic: &str) -> Self {
        RepartitionNodes {
            sink: format!("{topic}-sink"),
            filter: format!("{topic}-filter"),
            source: format!("{topic}-source"),
        }
    }
}

/// The step writing a repartition topic after `parent`.
fn repartition_step<K: Clone + 'static, V: Clone + 'static>(
    parent: String,
    topic: String,
    nodes: RepartitionNodes,
    key_serde: Option<DynSerde<K>>,
    value_serde: Option<DynSerde<V>>,
    partitioner: Option<StreamPartitioner<K, V>>,
) -> Step {
    Box::new(move |b| {
        let RepartitionNodes {
            sink,
            filter,
            source,
        } = nodes;
        let (ks, vs) = b.serdes(key_serde, value_serde, &sink, REPARTITION_FIX)?;
        b.tb.add_internal_topic(&topic);
        let p = b.handle::<K, V>(&parent)?;
        // Kafka's filter passes every record to a left/outer join downstream (which joins
        // null keys, KIP-962) and drops null keys otherwise.
        let f = if b.pass_null_keys.contains(&source) {
            b.tb.add_processor::<K, V, K, V, _, _>(&filter, &[&p], || {
                OpProcessor(Arc::new(PassThrough))
            })?
        } else {
            let not_null = Arc::new(NotNullKey(ks.clone()));
            b.tb.add_processor::<K, V, K, V, _, _>(&filter, &[&p], move || {
                OpProcessor(not_null.clone())
            })?
        };
        b.put(&filter, f);
        match partitioner {
            Some(part) => {
                b.tb.add_sink_partitioned(&sink, &topic, ks.clone(), vs.clone(), part, &[&f])?
            }
            None => {
                b.tb.add_sink(&sink, &topic, ks.clone(), vs.clone(), &[&f])?
            }
        }
        let s = b.tb.add_source_with::<K, V>(
            &source,
            &[&topic],
            None,
            ks,
            vs,
            None,
            Some(Arc::new(FailOnInvalidTimestamp)),
        )?;
        b.put(&source, s);
        Ok(())
    })
}

/// The step writing the repartition that replaces a merged group (Kafka's
/// `createRepartitionNode`: named after the group's first topic, no partitioner), in the
/// first repartition's record types.
fn merged_repartition<K: Clone + 'static, V: Clone + 'static>(m: MergedRepartition) -> Step {
    let unmergeable = |m: &MergedRepartition, detail: &str| DslError::UnmergeableRepartition {
        node: m.parent.clone(),
        topic: m.topic.clone(),
        detail: detail.to_owned(),
    };
    let key = match m
        .key_serde
        .as_ref()
        .map(|s| s.downcast_ref::<DynSerde<K>>())
    {
        None => Ok(None),
        Some(Some(s)) => Ok(Some(s.clone())),
        Some(None) => Err(unmergeable(&m, "the grouped keys are of different types")),
    };
    let value = match m
        .value_serde
        .as_ref()
        .map(|s| s.downcast_ref::<DynSerde<V>>())
    {
        None => Ok(None),
        Some(Some(s)) => Ok(Some(s.clone())),
        Some(None) => Err(unmergeable(&m, "the grouped values are of different types")),
    };
    let types = unmergeable(
        &m,
        "its records are not of the grouped types (a process() between changes them)",
    );
    let nodes = RepartitionNodes::named_after(&m.topic);
    Box::new(move |b| {
        if b.handle::<K, V>(&m.parent).is_err() {
            return Err(types);
        }
        repartition_step(m.parent, m.topic, nodes, key?, value?, None)(b)
    })
}
