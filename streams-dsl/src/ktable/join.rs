//! Table-table joins (Kafka's `KTable.join/leftJoin/outerJoin(KTable, ValueJoiner[, Named,
//! Materialized])`, `KTableImpl.doJoin`): a `KTABLE-JOINTHIS-` processor after this table
//! reading the other's value getter, a `KTABLE-JOINOTHER-` after the other reading this
//! one's, and a `KTABLE-MERGE-` node (materialized when asked) whose updates are the joined
//! table's.

use std::sync::Arc;

use super::KTable;
use crate::change::Change;
use crate::joins::table_table::{SideRule, TableJoinSide, TableSideJoiner};
use crate::joins::value_getter::{JoinGetter, TableJoinKind, TableJoiner, ValueGetterRef};
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, NodeSpec};
use crate::processors::table_ops::TableMap;
use crate::store::table_store_builder;
use crate::table_node::TableNode;

const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde)";

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// The rows both tables have, joined (Kafka's `join(KTable, ValueJoiner)`).
    pub fn join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_with(other, joiner, Named::empty(), None)
    }

    /// [`join`](Self::join) with a name and, when given, a store for the joined table.
    pub fn join_with<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        named: Named,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: TableJoiner<K, V, VO, VR> = Arc::new(move |_, a, b| match (a, b) {
            (Some(a), Some(b)) => Some(joiner(a, b)),
            _ => None,
        });
        self.table_join(other, j, TableJoinKind::Inner, named, materialized)
    }

    /// Every row of this table, joined with the other's value or `None` (Kafka's
    /// `leftJoin(KTable, ValueJoiner)`).
    pub fn left_join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_with(other, joiner, Named::empty(), None)
    }

    /// [`left_join`](Self::left_join) with a name and, when given, a store.
    pub fn left_join_with<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        named: Named,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: TableJoiner<K, V, VO, VR> = Arc::new(move |_, a, b| a.map(|a| joiner(a, b)));
        self.table_join(other, j, TableJoinKind::Left, named, materialized)
    }

    /// Every row of either table, joined with the other's value or `None` (Kafka's
    /// `outerJoin(KTable, ValueJoiner)`).
    pub fn outer_join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.outer_join_with(other, joiner, Named::empty(), None)
    }

    /// [`outer_join`](Self::outer_join) with a name and, when given, a store.
    pub fn outer_join_with<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
        named: Named,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: TableJoiner<K, V, VO, VR> = Arc::new(move |_, a, b| Some(joiner(a, b)));
        self.table_join(other, j, TableJoinKind::Outer, named, materialized)
    }

    /// Kafka's `doJoin`: the store name (generated `KTABLE-MERGE-STATE-STORE-<i>` for a
    /// `Materialized` without one), the merge name, old values from the outer sides, then
    /// the two side names.
    fn table_join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: TableJoiner<K, V, VO, VR>,
        kind: TableJoinKind,
        named: Named,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        let queryable = materialized.as_ref().and_then(|m| m.name.clone());
        let materialized = materialized.map(|mut m| {
            if m.name.is_none() {
                m.name = Some(self.plan.borrow_mut().names.store(names::KTABLE_MERGE));
            }
            m
        });
        let merge = processor_name(&self.plan, named.name.clone(), names::KTABLE_MERGE);
        if kind != TableJoinKind::Inner {
            self.node.enable_sending_old_values(true);
        }
        if kind == TableJoinKind::Outer {
            other.node.enable_sending_old_values(true);
        }
        self.node.materialize_for_getter();
        other.node.materialize_for_getter();
        let (this_name, other_name) = {
            let mut p = self.plan.borrow_mut();
            let t = p.names.processor(names::KTABLE_JOIN_THIS);
            let o = p.names.processor(names::KTABLE_JOIN_OTHER);
            match &named.name {
                Some(n) => (format!("{n}-join-this"), format!("{n}-join-other")),
                None => (t, o),
            }
        };
        let key = materialized
            .as_ref()
            .and_then(|m| m.key_serde.clone())
            .or_else(|| self.key_serde.clone());
        let value = materialized.as_ref().and_then(|m| m.value_serde.clone());
        let node = match &materialized {
            Some(m) => {
                let node = TableNode::stateful();
                node.set_output_versioned(m.history_retention.is_some());
                node
            }
            None => TableNode::joined(self.node.clone(), other.node.clone()),
        };
        let (this_node, other_node) = (self.node.clone(), other.node.clone());
        let built = node.clone();
        let (left_table, right_table) = (self.name.clone(), other.name.clone());
        let spec = NodeSpec::new(&merge, &[&left_table, &right_table]);
        let (k, v) = (key.clone(), value.clone());
        let merge_node = merge.clone();
        push(&self.plan, spec, move |b| {
            let left_getter = b.required_getter::<K, V>(&left_table, &merge_node)?;
            let right_getter = b.required_getter::<K, VO>(&right_table, &merge_node)?;
            let send_old_values = built.sends_old_values();
            // KIP-914: a side reading a versioned table skips its out-of-order updates.
            let this_versioned = this_node.is_output_versioned();
            let other_versioned = other_node.is_output_versioned();
            let (this_rule, other_rule) = match kind {
                TableJoinKind::Inner => (SideRule::Inner, SideRule::Inner),
                TableJoinKind::Left => (SideRule::LeftOfLeft, SideRule::RightOfLeft),
                TableJoinKind::Outer => (SideRule::Outer, SideRule::Outer),
            };
            let j = joiner.clone();
            let this_joiner: TableSideJoiner<K, V, VO, VR> = Arc::new(move |k, a, b| j(k, a, b));
            let j = joiner.clone();
            let other_joiner: TableSideJoiner<K, VO, V, VR> = Arc::new(move |k, b, a| j(k, a, b));
            let lp = b.handle::<K, Change<V>>(&left_table)?;
            let rp = b.handle::<K, Change<VO>>(&right_table)?;
            let g = right_getter.clone();
            let t = b.tb.add_processor::<K, Change<V>, K, Change<VR>, _, _>(
                &this_name,
                &[&lp],
                move || TableJoinSide {
                    getter: g.clone(),
                    rule: this_rule,
                    joiner: this_joiner.clone(),
                    send_old_values,
                    versioned_semantics: this_versioned,
                },
            )?;
            let g = left_getter.clone();
            let o = b.tb.add_processor::<K, Change<VO>, K, Change<VR>, _, _>(
                &other_name,
                &[&rp],
                move || TableJoinSide {
                    getter: g.clone(),
                    rule: other_rule,
                    joiner: other_joiner.clone(),
                    send_old_values,
                    versioned_semantics: other_versioned,
                },
            )?;
            let store = match materialized {
                Some(m) => {
                    let name = m.name.clone().unwrap_or_default();
                    let (ks, vs) = b.serdes(k, v, &name, MATERIALIZED_FIX)?;
                    Some(table_store_builder(&name, ks, vs, &m))
                }
                None => None,
            };
            let table_store = store.as_ref().map(|(_, s)| s.clone());
            let m = b.tb.add_processor::<K, Change<VR>, K, Change<VR>, _, _>(
                &merge_node,
                &[&t, &o],
                move || TableMap {
                    f: Arc::new(|_: &K, v: &VR| Some(v.clone())),
                    is_filter: false,
                    send_old_values,
                    store: table_store.clone(),
                    versioned_semantics: false,
                },
            )?;
            b.put(&merge_node, m);
            let right_stores = right_getter.store_names();
            let right_stores: Vec<&str> = right_stores.iter().map(String::as_str).collect();
            b.tb.connect_processor_and_state_stores(&this_name, &right_stores)?;
            let left_stores = left_getter.store_names();
            let left_stores: Vec<&str> = left_stores.iter().map(String::as_str).collect();
            b.tb.connect_processor_and_state_stores(&other_name, &left_stores)?;
            let getter: ValueGetterRef<K, VR> = match &store {
                Some((_, s)) => s.getter(),
                None => Arc::new(JoinGetter {
                    left: left_getter,
                    right: right_getter,
                    kind,
                    joiner,
                }),
            };
            b.put_getter(&merge_node, getter);
            if let Some((builder, _)) = store {
                b.tb.add_state_store(builder, &[&merge_node])?;
            }
            let (l, r) = (b.resolve(&left_table), b.resolve(&right_table));
            b.tb.copartition_sources(&[&l, &r]);
            Ok(())
        });
        KTable::new(self.plan.clone(), merge, key, value, queryable, node)
    }
}
