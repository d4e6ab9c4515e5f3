//! `filter`, `filterNot` and `mapValues` on a table (Kafka's `KTableFilter` and
//! `KTableMapValues`).

use std::sync::Arc;

use super::KTable;
use crate::change::Change;
use crate::joins::value_getter::{MappedGetter, ValueGetterRef};
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, NodeSpec};
use crate::processors::table_ops::{TableMap, ValueFn};
use crate::serdes::DynSerde;
use crate::store::table_store_builder;
use crate::table_node::TableNode;

const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde)";

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// The rows `predicate` accepts (Kafka's `filter`). An update the predicate rejects
    /// deletes its key downstream: it is forwarded as a tombstone, unless this table gets
    /// old values (its parent is materialized, or a grouping follows) and the key was not
    /// in the filtered table before either, as Kafka's `KTableFilter` does.
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.do_filter(predicate, false, Named::empty(), None)
    }

    /// [`filter`](Self::filter) with a processor name.
    pub fn filter_named(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        self.do_filter(predicate, false, named, None)
    }

    /// [`filter`](Self::filter) with a processor name and a store: the filtered table is
    /// materialized when `materialized` names one (Kafka's `filter(predicate, Named,
    /// Materialized)`).
    pub fn filter_with(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, V>,
    ) -> Self {
        self.do_filter(predicate, false, named, Some(materialized))
    }

    /// The rows `predicate` rejects (Kafka's `filterNot`), with [`filter`](Self::filter)'s
    /// tombstone rules.
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.do_filter(predicate, true, Named::empty(), None)
    }

    /// [`filter_not`](Self::filter_not) with a processor name.
    pub fn filter_not_named(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        self.do_filter(predicate, true, named, None)
    }

    /// [`filter_not`](Self::filter_not) with a processor name and a store.
    pub fn filter_not_with(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, V>,
    ) -> Self {
        self.do_filter(predicate, true, named, Some(materialized))
    }

    fn do_filter(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        negate: bool,
        named: Named,
        materialized: Option<Materialized<K, V>>,
    ) -> Self {
        let f: ValueFn<K, V, V> =
            Arc::new(move |k, v| (predicate(k, v) != negate).then(|| v.clone()));
        // A filter keeps the parent's value serde unless `materialized` gives one.
        let materialized = materialized.map(|mut m| {
            if m.value_serde.is_none() {
                m.value_serde = self.value_serde.clone();
            }
            m
        });
        let value_serde = materialized
            .as_ref()
            .and_then(|m| m.value_serde.clone())
            .or_else(|| self.value_serde.clone());
        let table = self.derive_table(names::KTABLE_FILTER, f, true, named, materialized);
        KTable {
            value_serde,
            ..table
        }
    }

    /// A new value for each row (Kafka's `mapValues`); a deletion stays a deletion.
    pub fn map_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        self.map_values_with_key(move |_, v| mapper(v), Named::empty())
    }

    /// A new value from the key and value (Kafka's `mapValues` with a `ValueMapperWithKey`),
    /// with a processor name.
    pub fn map_values_with_key<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
        named: Named,
    ) -> KTable<K, V2> {
        let f: ValueFn<K, V, V2> = Arc::new(move |k, v| Some(mapper(k, v.clone())));
        self.derive_table(names::KTABLE_MAP_VALUES, f, false, named, None)
    }

    /// [`map_values_with_key`](Self::map_values_with_key) with a store: the mapped table is
    /// materialized when `materialized` names one. Its value serde is `materialized`'s, else
    /// the default for `V2`.
    pub fn map_values_with<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, V2>,
    ) -> KTable<K, V2> {
        let f: ValueFn<K, V, V2> = Arc::new(move |k, v| Some(mapper(k, v.clone())));
        self.derive_table(
            names::KTABLE_MAP_VALUES,
            f,
            false,
            named,
            Some(materialized),
        )
    }

    /// Kafka's `doFilter`/`doMapValues`: a store name burnt when a `Materialized` without a
    /// name is given, the processor name, then the node (materialized when the store is
    /// named). The key serde is `materialized`'s or this table's; the value serde
    /// `materialized`'s (filter keeps this table's).
    fn derive_table<V2: Clone + 'static>(
        &self,
        prefix: &str,
        f: ValueFn<K, V, V2>,
        is_filter: bool,
        named: Named,
        materialized: Option<Materialized<K, V2>>,
    ) -> KTable<K, V2> {
        if materialized.as_ref().is_some_and(|m| m.name.is_none()) {
            self.plan.borrow_mut().names.store(prefix);
        }
        let name = processor_name(&self.plan, named.name, prefix);
        let materialized = materialized.filter(|m| m.name.is_some());
        let key = materialized
            .as_ref()
            .and_then(|m| m.key_serde.clone())
            .or_else(|| self.key_serde.clone());
        let value: Option<DynSerde<V2>> = materialized.as_ref().and_then(|m| m.value_serde.clone());
        let queryable = materialized.as_ref().and_then(|m| m.name.clone());
        let node = match &materialized {
            Some(m) => {
                let node = TableNode::stateful();
                node.set_output_versioned(m.history_retention.is_some());
                node
            }
            None => TableNode::derived(self.node.clone()),
        };
        let parent_node = self.node.clone();
        // Kafka's filter asks its parent for old values at once, without forcing a store.
        if is_filter && self.node.enable_sending_old_values(false) {
            node.enable_sending_old_values(false);
        }
        let built = node.clone();
        let (parent, node_name) = (self.name.clone(), name.clone());
        let (k, v) = (key.clone(), value.clone());
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let store = match materialized {
                Some(m) => {
                    let store = m.name.clone().unwrap_or_default();
                    let (ks, vs) = b.serdes(k, v, &store, MATERIALIZED_FIX)?;
                    Some(table_store_builder(&store, ks, vs, &m))
                }
                None => None,
            };
            let table_store = store.as_ref().map(|(_, s)| s.clone());
            let send_old_values = built.sends_old_values();
            let versioned_semantics = parent_node.is_output_versioned();
            let p = b.handle::<K, Change<V>>(&parent)?;
            let f_getter = f.clone();
            let h = b.tb.add_processor::<K, Change<V>, K, Change<V2>, _, _>(
                &node_name,
                &[&p],
                move || TableMap {
                    f: f.clone(),
                    is_filter,
                    send_old_values,
                    store: table_store.clone(),
                    versioned_semantics,
                },
            )?;
            b.put(&node_name, h);
            let getter: Option<ValueGetterRef<K, V2>> = match &store {
                Some((_, s)) => Some(s.getter()),
                None => b.getter::<K, V>(&parent).map(|parent| {
                    Arc::new(MappedGetter {
                        parent,
                        f: f_getter,
                    }) as ValueGetterRef<K, V2>
                }),
            };
            if let Some(g) = getter {
                b.put_getter(&node_name, g);
            }
            if let Some((builder, _)) = store {
                b.tb.add_state_store(builder, &[&node_name])?;
            }
            Ok(())
        });
        KTable::new(self.plan.clone(), name, key, value, queryable, node)
    }
}
