//! `group_by_key` and `group_by`: a [`KGroupedStream`] to aggregate.

use super::KStream;
use crate::grouped_stream::KGroupedStream;
use crate::names;
use crate::options::Grouped;
use crate::plan::{processor_name, Role};
use crate::processors::ops::SelectKey;

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Group the records by their key (Kafka's `groupByKey`); if a key-changing operation
    /// came before, the aggregation will repartition by the new key.
    pub fn group_by_key(&self) -> KGroupedStream<K, V> {
        self.group_by_key_with(Grouped::default())
    }

    /// [`group_by_key`](Self::group_by_key) with serdes and a name for the repartition topic.
    pub fn group_by_key_with(&self, grouped: Grouped<K, V>) -> KGroupedStream<K, V> {
        KGroupedStream {
            plan: self.plan.clone(),
            name: self.name.clone(),
            key_serde: grouped.key_serde.or_else(|| self.key_serde.clone()),
            value_serde: grouped.value_serde.or_else(|| self.value_serde.clone()),
            repartition_name: grouped.name,
            repartition_required: self.repartition_required,
        }
    }

    /// Group the records by a new key (Kafka's `groupBy`): a `KSTREAM-KEY-SELECT-` node,
    /// and a repartition topic before the aggregation.
    pub fn group_by<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
    ) -> KGroupedStream<K2, V> {
        self.group_by_with(selector, Grouped::default())
    }

    /// [`group_by`](Self::group_by) with serdes and a name (of the key selection and the
    /// repartition topic).
    pub fn group_by_with<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
        grouped: Grouped<K2, V>,
    ) -> KGroupedStream<K2, V> {
        let name = processor_name(&self.plan, grouped.name.clone(), names::KEY_SELECT);
        self.add_op::<K2, V, _>(&name, SelectKey(selector), Role::KeyChanging);
        KGroupedStream {
            plan: self.plan.clone(),
            name,
            key_serde: grouped.key_serde,
            value_serde: grouped.value_serde.or_else(|| self.value_serde.clone()),
            repartition_name: grouped.name,
            repartition_required: true,
        }
    }
}
