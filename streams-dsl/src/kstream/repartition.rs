//! Repartition topics (`repartition()`, and the ones grouping and `to_table` insert after a
//! key change) and `to_table`.

use std::sync::Arc;

use streams_core::timestamp::FailOnInvalidTimestamp;

use super::KStream;
use crate::change::Change;
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named, Repartitioned, StreamPartitioner};
use crate::plan::{processor_name, push};
use crate::processors::ops::{NotNullKey, OpProcessor};
use crate::processors::table_source::{TableSource, TableStore};
use crate::serdes::DynSerde;
use crate::store::kv_store_builder;
use crate::table_node::TableNode;

const REPARTITION_FIX: &str = "Repartitioned::with / Grouped::with(key_serde, value_serde)";

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Send the records through an internal topic `<prefix>-repartition`, partitioned by
    /// their (new) key, as Kafka's `createRepartitionedSource` does: a pass-through filter,
    /// a sink and a source, named `<topic>-filter`/`-sink`/`-source`, or generated names when
    /// `prefix` is itself generated. Three names are always drawn from the index, as in Kafka.
    /// Returns the source's name.
    pub(crate) fn repartition_nodes(
        &self,
        prefix: &str,
        key_serde: Option<DynSerde<K>>,
        value_serde: Option<DynSerde<V>>,
        partitioner: Option<StreamPartitioner<K, V>>,
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
        let (sink, filter, source) = if names::is_generated(prefix) {
            (gen_sink, gen_filter, gen_source)
        } else {
            (
                format!("{topic}-sink"),
                format!("{topic}-filter"),
                format!("{topic}-source"),
            )
        };
        let parent = self.name.clone();
        let source_name = source.clone();
        push(&self.plan, move |b| {
            let (ks, vs) = b.serdes(key_serde, value_serde, &sink, REPARTITION_FIX)?;
            b.tb.add_internal_topic(&topic);
            let p = b.handle::<K, V>(&parent)?;
            let not_null = Arc::new(NotNullKey(ks.clone()));
            let f =
                b.tb.add_processor::<K, V, K, V, _, _>(&filter, &[&p], move || {
                    OpProcessor(not_null.clone())
                })?;
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
        });
        source_name
    }

    /// The same records through a new internal topic, partitioned by key (Kafka's
    /// `repartition()`): `<application.id>-KSTREAM-REPARTITION-<index>-repartition`.
    pub fn repartition(&self) -> Self {
        self.repartition_with(Repartitioned::default())
    }

    /// [`repartition`](Self::repartition) with a name (the topic is
    /// `<application.id>-<name>-repartition`), serdes and a partitioner.
    pub fn repartition_with(&self, repartitioned: Repartitioned<K, V>) -> Self {
        let name = processor_name(&self.plan, repartitioned.name, names::REPARTITION);
        let key = repartitioned.key_serde.or_else(|| self.key_serde.clone());
        let value = repartitioned
            .value_serde
            .or_else(|| self.value_serde.clone());
        let source =
            self.repartition_nodes(&name, key.clone(), value.clone(), repartitioned.partitioner);
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
            self.repartition_nodes(&name, key.clone(), value.clone(), None)
        } else {
            self.name.clone()
        };
        let node = name.clone();
        let (k, v) = (key.clone(), value.clone());
        push(&self.plan, move |b| {
            let key_serde = b.optional_serde(k.clone());
            let store = match built.is_materialized() {
                true => {
                    let (ks, vs) = b.serdes(
                        k,
                        v,
                        &store_name,
                        "Materialized::with(key_serde, value_serde)",
                    )?;
                    let (builder, handle) = kv_store_builder(&store_name, ks, vs, &materialized);
                    Some((
                        builder,
                        TableStore {
                            handle,
                            caching: materialized.caching,
                        },
                    ))
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
            if let Some((builder, _)) = store {
                b.tb.add_state_store(builder, &[&node])?;
            }
            Ok(())
        });
        KTable::new(self.plan.clone(), name, key, value, queryable, table_node)
    }
}
