//! `group_by` on a table: a [`KGroupedTable`] to aggregate with adders and subtractors.

use std::sync::Arc;

use super::KTable;
use crate::change::Change;
use crate::grouped_table::KGroupedTable;
use crate::names;
use crate::options::Grouped;
use crate::plan::{processor_name, push, NodeSpec};
use crate::processors::table_ops::{Selector, TableGroupBy};

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Group the rows by a new key and value (Kafka's `groupBy(KeyValueMapper)`): a
    /// `KTABLE-SELECT-` node, then a repartition topic before the aggregation. The table
    /// sends old values from now on (a source table is materialized for it), so an updated
    /// row leaves its old group (the subtractor) and joins its new one (the adder).
    pub fn group_by<K2, V2>(
        &self,
        selector: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
    ) -> KGroupedTable<K2, V2>
    where
        K2: Clone + PartialEq + 'static,
        V2: Clone + 'static,
    {
        self.group_by_with(selector, Grouped::default())
    }

    /// [`group_by`](Self::group_by) with serdes and a name (of the selection, and of the
    /// repartition topic `<name>-repartition`).
    pub fn group_by_with<K2, V2>(
        &self,
        selector: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
        grouped: Grouped<K2, V2>,
    ) -> KGroupedTable<K2, V2>
    where
        K2: Clone + PartialEq + 'static,
        V2: Clone + 'static,
    {
        let name = processor_name(&self.plan, grouped.name.clone(), names::KTABLE_SELECT);
        let selector: Selector<K, V, K2, V2> = Arc::new(selector);
        let (parent, node) = (self.name.clone(), name.clone());
        let (k, v) = (grouped.key_serde.clone(), grouped.value_serde.clone());
        let parent_node = self.node.clone();
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let versioned_semantics = parent_node.is_output_versioned();
            let key_serde = b.optional_serde(k);
            let value_serde = b.optional_serde(v);
            let p = b.handle::<K, Change<V>>(&parent)?;
            let h = b.tb.add_processor::<K, Change<V>, K2, Change<V2>, _, _>(
                &node,
                &[&p],
                move || TableGroupBy {
                    selector: selector.clone(),
                    key_serde: key_serde.clone(),
                    value_serde: value_serde.clone(),
                    versioned_semantics,
                },
            )?;
            b.put(&node, h);
            Ok(())
        });
        self.node.enable_sending_old_values(true);
        KGroupedTable {
            plan: self.plan.clone(),
            name,
            key_serde: grouped.key_serde,
            value_serde: grouped.value_serde,
            repartition_name: grouped.name,
            repartition_source: Default::default(),
        }
    }
}
