//! [`KTable`]: a changelog stream, the latest value of each key (Kafka's `KTable`), and
//! `to_stream`; its operations are in [`ops`] (filter, mapValues) and [`group`] (groupBy).

mod fk_join;
mod group;
mod join;
mod ops;
mod suppress;

use crate::change::Change;
use crate::kstream::KStream;
use crate::names;
use crate::options::Named;
use crate::plan::{processor_name, PlanRef, Role};
use crate::processors::ops::MapValues;
use crate::serdes::{DynSerde, OptionSerde};
use crate::table_node::TableNodeRef;

/// The latest value of each key (Kafka's `KTable`), from [`crate::StreamsBuilder::table`],
/// [`KStream::to_table`], an aggregation or a table operation. Its node forwards each update
/// to the next table node as Kafka's `Change`: the key's new value (`None` for a deletion)
/// and, only when a downstream node needs it (a grouping's subtractor), the value it
/// replaces; a table source is then materialized in its generated store, as Kafka does.
/// A filter or mapValues without a store computes its old values from its parent's.
///
/// Joins read a table through its value getter ([`crate::joins`]): a source table a join
/// reads is materialized in its generated store, as in Kafka.
///
/// Foreign-key joins ([`join_on_foreign_key`](Self::join_on_foreign_key)) join a row with the
/// row of another table its value names.
///
/// A table kept in a versioned store ([`crate::Materialized::as_versioned`]) answers joins
/// as of a time and marks out-of-order updates (KIP-914); filters and mapValues without a
/// store inherit that.
///
/// Not yet: transformValues.
pub struct KTable<K, V> {
    pub(crate) plan: PlanRef,
    pub(crate) name: String,
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    pub(crate) queryable_store_name: Option<String>,
    /// Whether the node keeps a store and sends old values, shared with its build step.
    pub(crate) node: TableNodeRef,
}

impl<K, V> Clone for KTable<K, V> {
    fn clone(&self) -> Self {
        KTable {
            plan: self.plan.clone(),
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            queryable_store_name: self.queryable_store_name.clone(),
            node: self.node.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for KTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KTable")
            .field("name", &self.name)
            .field("queryable_store_name", &self.queryable_store_name)
            .finish_non_exhaustive()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    pub(crate) fn new(
        plan: PlanRef,
        name: String,
        key_serde: Option<DynSerde<K>>,
        value_serde: Option<DynSerde<V>>,
        queryable_store_name: Option<String>,
        node: TableNodeRef,
    ) -> Self {
        KTable {
            plan,
            name,
            key_serde,
            value_serde,
            queryable_store_name,
            node,
        }
    }

    /// The node whose updates this table is.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's name when it was given with `Materialized::as_` (Kafka's
    /// `queryableStoreName`).
    pub fn queryable_store_name(&self) -> Option<&str> {
        self.queryable_store_name.as_deref()
    }

    /// The table's updates as a stream (Kafka's `toStream`): deletions are `None` values,
    /// written as tombstones by `to`.
    pub fn to_stream(&self) -> KStream<K, Option<V>> {
        self.to_stream_named(Named::empty())
    }

    /// [`to_stream`](Self::to_stream) with a processor name.
    pub fn to_stream_named(&self, named: Named) -> KStream<K, Option<V>> {
        let name = processor_name(&self.plan, named.name, names::KTABLE_TO_STREAM);
        let stream = self.as_change_stream();
        stream.add_op::<K, Option<V>, _>(
            &name,
            MapValues(|_: &K, c: Change<V>| c.new),
            Role::Plain,
        );
        stream.derive(
            name,
            self.key_serde.clone(),
            self.value_serde
                .clone()
                .map(|s| DynSerde::new(OptionSerde::of(s))),
            false,
        )
    }

    /// The table's node as a stream of its changes (for operations on it).
    pub(crate) fn as_change_stream(&self) -> KStream<K, Change<V>> {
        KStream {
            plan: self.plan.clone(),
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: None,
            repartition_required: false,
            join_repartition: Default::default(),
        }
    }
}
