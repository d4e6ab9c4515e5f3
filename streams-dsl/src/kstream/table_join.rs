//! Stream-table and stream-global-table joins (Kafka's `KStream.join/leftJoin(KTable,
//! ValueJoiner[, Joined])` and `join/leftJoin(GlobalKTable, KeyValueMapper, ValueJoiner[,
//! Named])`): each stream record is joined with the table's current value, read through the
//! table's value getter; table updates emit nothing.

use std::sync::Arc;

use std::time::Duration;

use streams_core::serde::BytesSerde;
use streams_core::state::StoreHandle;
use streams_core::topology::StoreBuilder;

use super::KStream;
use crate::error::DslError;
use crate::joins::join_buffer::JoinBuffer;
use crate::joins::stream_table::GraceSpec;
use crate::joins::value_getter::ValueGetterRef;
use crate::plan::Build;
use crate::serdes::DynSerde;

const JOINED_FIX: &str = "Joined::with(key_serde, value_serde, table_value_serde)";
use crate::global_ktable::GlobalKTable;
use crate::joins::stream_table::{KeyMapper, LookupJoiner, StreamTableJoin};
use crate::ktable::KTable;
use crate::names;
use crate::options::{Joined, Named};
use crate::plan::{processor_name, push, NodeSpec};

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Each record joined with `table`'s value of its key, when there is one (Kafka's
    /// `join(KTable, ValueJoiner)`): `KSTREAM-JOIN-<i>`, at the record's timestamp.
    pub fn join_table<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, &VT) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_table_with(table, move |_, v, t| joiner(v, t), Joined::default())
    }

    /// [`join_table`](Self::join_table) with a joiner reading the key, serdes and a name
    /// (`Joined`).
    pub fn join_table_with<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&K, &V, &VT) -> VR + Send + Sync + 'static,
        joined: Joined<K, V, VT>,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        // Never called without a table value: the inner join emits nothing then.
        let j: LookupJoiner<K, V, VT, VR> = Arc::new(move |k, v, t| t.map(|t| joiner(k, v, t)));
        self.stream_table_join(table, j, joined, false)
    }

    /// Each record joined with `table`'s value of its key, `None` when the table has none
    /// (Kafka's `leftJoin(KTable, ValueJoiner)`): `KSTREAM-LEFTJOIN-<i>`. A record with a null
    /// key is joined with `None` (KIP-962).
    pub fn left_join_table<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, Option<&VT>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_table_with(table, move |_, v, t| joiner(v, t), Joined::default())
    }

    /// [`left_join_table`](Self::left_join_table) with a joiner reading the key, serdes and a
    /// name.
    pub fn left_join_table_with<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&K, &V, Option<&VT>) -> VR + Send + Sync + 'static,
        joined: Joined<K, V, VT>,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: LookupJoiner<K, V, VT, VR> = Arc::new(move |k, v, t| Some(joiner(k, v, t)));
        self.stream_table_join(table, j, joined, true)
    }

    /// Kafka's `join(KTable)`/`leftJoin(KTable)`: a repartition when the key changed
    /// (`<Joined name or this node>-repartition`), then `doStreamTableJoin`.
    fn stream_table_join<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: LookupJoiner<K, V, VT, VR>,
        joined: Joined<K, V, VT>,
        left: bool,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        let key_serde = joined.key_serde.clone().or_else(|| self.key_serde.clone());
        let value_serde = joined
            .value_serde
            .clone()
            .or_else(|| self.value_serde.clone());
        let prefix = joined.name.clone().unwrap_or_else(|| self.name.clone());
        let input = self.join_input(&prefix, key_serde.clone(), value_serde.clone());
        table.node.materialize_for_getter();
        let prefix = if left { names::LEFT_JOIN } else { names::JOIN };
        let name = processor_name(&self.plan, joined.name.clone(), prefix);
        let (node, table_node) = (name.clone(), table.name.clone());
        let (ks, vs) = (key_serde.clone(), value_serde);
        let grace = joined.grace_period;
        let mut spec = NodeSpec::new(&name, &[&input]).parent_at(&table_node, None);
        if left {
            spec = spec.relaxed_null_key_join();
        }
        push(&self.plan, spec, move |b| {
            let getter = b.required_getter::<K, VT>(&table_node, &node)?;
            let (ks_buf, vs_buf) = (ks.clone(), vs.clone());
            let key_serde = b.optional_serde(ks);
            let value_serde = b.optional_serde(vs);
            let grace = match grace {
                Some(grace) => Some(Arc::new(grace_spec(
                    b, &node, &getter, grace, ks_buf, vs_buf,
                )?)),
                None => None,
            };
            let p = b.handle::<K, V>(&input)?;
            let g = getter.clone();
            let spec = grace.clone();
            let h =
                b.tb.add_processor::<K, V, K, VR, _, _>(&node, &[&p], move || StreamTableJoin {
                    key_mapper: Arc::new(|k: &K, _: &V| k.clone()),
                    getter: g.clone(),
                    joiner: joiner.clone(),
                    left,
                    key_serde: key_serde.clone(),
                    mapped_key_serde: key_serde.clone(),
                    value_serde: value_serde.clone(),
                    grace: spec
                        .as_ref()
                        .map(|s| (Arc::clone(s), JoinBuffer::new(s.grace_ms))),
                })?;
            b.put(&node, h);
            let stores = getter.store_names();
            let stores: Vec<&str> = stores.iter().map(String::as_str).collect();
            b.tb.connect_processor_and_state_stores(&node, &stores)?;
            // Kafka's `<join>-Buffer`, a logged time-ordered store.
            if let Some(spec) = grace {
                let builder = StoreBuilder::persistent_key_value(&spec.store);
                b.tb.add_state_store(builder, &[&node])?;
            }
            let (l, r) = (b.resolve(&input), b.resolve(&table_node));
            b.tb.copartition_sources(&[&l, &r]);
            Ok(())
        });
        self.derive(name, key_serde, None, false)
    }

    /// Each record joined with `global`'s value of `key_mapper(key, value)`, when there is
    /// one (Kafka's `join(GlobalKTable, KeyValueMapper, ValueJoiner)`; named
    /// `KSTREAM-LEFTJOIN-<i>` as Kafka names both global joins). No repartition, no
    /// co-partitioning: every instance has the whole table.
    pub fn join_global<KG, VG, VR>(
        &self,
        global: &GlobalKTable<KG, VG>,
        key_mapper: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(&V, &VG) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        KG: Clone + 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_global_named(
            global,
            key_mapper,
            move |_, v, g| joiner(v, g),
            Named::empty(),
        )
    }

    /// [`join_global`](Self::join_global) with a joiner reading the key and a name.
    pub fn join_global_named<KG, VG, VR>(
        &self,
        global: &GlobalKTable<KG, VG>,
        key_mapper: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(&K, &V, &VG) -> VR + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K, VR>
    where
        KG: Clone + 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: LookupJoiner<K, V, VG, VR> = Arc::new(move |k, v, g| g.map(|g| joiner(k, v, g)));
        self.global_join(global, Arc::new(key_mapper), j, false, named)
    }

    /// Each record joined with `global`'s value of `key_mapper(key, value)`, `None` when
    /// there is none (Kafka's `leftJoin(GlobalKTable, KeyValueMapper, ValueJoiner)`).
    pub fn left_join_global<KG, VG, VR>(
        &self,
        global: &GlobalKTable<KG, VG>,
        key_mapper: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VG>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        KG: Clone + 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_global_named(
            global,
            key_mapper,
            move |_, v, g| joiner(v, g),
            Named::empty(),
        )
    }

    /// [`left_join_global`](Self::left_join_global) with a joiner reading the key and a name.
    pub fn left_join_global_named<KG, VG, VR>(
        &self,
        global: &GlobalKTable<KG, VG>,
        key_mapper: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(&K, &V, Option<&VG>) -> VR + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K, VR>
    where
        KG: Clone + 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: LookupJoiner<K, V, VG, VR> = Arc::new(move |k, v, g| Some(joiner(k, v, g)));
        self.global_join(global, Arc::new(key_mapper), j, true, named)
    }

    fn global_join<KG, VG, VR>(
        &self,
        global: &GlobalKTable<KG, VG>,
        key_mapper: KeyMapper<K, V, KG>,
        joiner: LookupJoiner<K, V, VG, VR>,
        left: bool,
        named: Named,
    ) -> KStream<K, VR>
    where
        KG: Clone + 'static,
        VG: Clone + 'static,
        VR: Clone + 'static,
    {
        let name = processor_name(&self.plan, named.name, names::LEFT_JOIN);
        let (node, input) = (name.clone(), self.name.clone());
        let global_key = format!("global:{}", global.store_name);
        let (ks, vs) = (self.key_serde.clone(), self.value_serde.clone());
        let mut spec = NodeSpec::new(&name, &[&input]);
        if left {
            spec = spec.relaxed_null_key_join();
        }
        push(&self.plan, spec, move |b| {
            let getter = b.required_getter::<KG, VG>(&global_key, &node)?;
            let key_serde = b.optional_serde(ks);
            let value_serde = b.optional_serde(vs);
            let mapped_key_serde = b.optional_serde::<KG>(None);
            let p = b.handle::<K, V>(&input)?;
            let h =
                b.tb.add_processor::<K, V, K, VR, _, _>(&node, &[&p], move || StreamTableJoin {
                    key_mapper: key_mapper.clone(),
                    getter: getter.clone(),
                    joiner: joiner.clone(),
                    left,
                    key_serde: key_serde.clone(),
                    mapped_key_serde: mapped_key_serde.clone(),
                    value_serde: value_serde.clone(),
                    grace: None,
                })?;
            b.put(&node, h);
            Ok(())
        });
        self.derive(
            name,
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }
}

/// A grace period's buffer (Kafka's `doStreamTableJoin` with `Joined.gracePeriod`): the table
/// must be versioned with at least `grace` of history (else the build fails, as Kafka's
/// does); the store `<join>-Buffer` holds records serialized with the stream's serdes.
fn grace_spec<K: 'static, V: 'static, VT: 'static>(
    b: &Build<'_>,
    node: &str,
    getter: &ValueGetterRef<K, VT>,
    grace: Duration,
    key_serde: Option<DynSerde<K>>,
    value_serde: Option<DynSerde<V>>,
) -> Result<GraceSpec<K, V>, DslError> {
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let Some(history_ms) = getter.history_retention_ms() else {
        return Err(DslError::GraceNeedsVersionedTable {
            join: node.to_owned(),
        });
    };
    if grace_ms > history_ms {
        return Err(DslError::GraceBeyondHistory {
            join: node.to_owned(),
            store: getter.store_names().join(", "),
            grace_ms,
            history_ms,
        });
    }
    let (key_serde, value_serde) = b.serdes(key_serde, value_serde, node, JOINED_FIX)?;
    let store = StoreHandle::new(format!("{node}-Buffer"), BytesSerde, BytesSerde);
    Ok(GraceSpec {
        store,
        grace_ms,
        key_serde,
        value_serde,
        topic: node.to_owned(),
    })
}
