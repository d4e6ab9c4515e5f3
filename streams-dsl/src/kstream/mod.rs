//! [`KStream`]: a record stream, and its stateless operations (Kafka's `KStream`).

mod group;
mod join;
mod output;
mod repartition;
mod split;
mod table_join;

pub use split::BranchedKStream;

use std::marker::PhantomData;
use std::sync::Arc;

use crate::names;
use crate::options::Named;
use crate::plan::{processor_name, push, NodeSpec, PlanRef, Role};
use crate::processors::ops::{
    Filter, FlatMap, FlatMapValues, Map, MapValues, OpProcessor, PassThrough, Peek, RecordOp,
    SelectKey,
};
use crate::serdes::DynSerde;

/// An unbounded stream of `K`/`V` records (Kafka's `KStream`). Operations return new streams
/// and may be called any number of times on one stream (each adds a child node). Nothing runs
/// until [`crate::StreamsBuilder::build`] turns the program into a topology.
pub struct KStream<K, V> {
    pub(crate) plan: PlanRef,
    /// The node forwarding this stream's records.
    pub(crate) name: String,
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    /// A key-changing operation came before: grouping or joining needs a repartition topic
    /// (Kafka's `repartitionRequired`).
    pub(crate) repartition_required: bool,
    /// The source of the repartition topic a join of this stream made, shared by its clones
    /// (Kafka's `KStreamImpl.repartitionNode`: later unnamed joins read it again).
    pub(crate) join_repartition: JoinRepartition,
}

/// See [`KStream::join_repartition`].
pub(crate) type JoinRepartition = std::rc::Rc<std::cell::RefCell<Option<String>>>;

impl<K, V> Clone for KStream<K, V> {
    fn clone(&self) -> Self {
        KStream {
            plan: self.plan.clone(),
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            repartition_required: self.repartition_required,
            join_repartition: self.join_repartition.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for KStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KStream")
            .field("name", &self.name)
            .field("repartition_required", &self.repartition_required)
            .finish_non_exhaustive()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// The name of the node whose records this stream is (what `print` labels lines with).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A stream of `node`'s output, on the same plan.
    pub(crate) fn derive<K2, V2>(
        &self,
        node: String,
        key_serde: Option<DynSerde<K2>>,
        value_serde: Option<DynSerde<V2>>,
        repartition_required: bool,
    ) -> KStream<K2, V2> {
        KStream {
            plan: self.plan.clone(),
            name: node,
            key_serde,
            value_serde,
            repartition_required,
            join_repartition: JoinRepartition::default(),
        }
    }

    /// Queue processor `name` running `op` on this stream's records; `role` tells the
    /// optimizer whether it changes keys or values.
    pub(crate) fn add_op<K2, V2, O>(&self, name: &str, op: O, role: Role)
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        O: RecordOp<K, V, K2, V2>,
    {
        let parent = self.name.clone();
        let spec = NodeSpec::new(name, &[&parent]).role(role);
        let name = name.to_owned();
        let op = Arc::new(op);
        push(&self.plan, spec, move |b| {
            let p = b.handle::<K, V>(&parent)?;
            let h =
                b.tb.add_processor::<K, V, K2, V2, _, _>(&name, &[&p], move || {
                    OpProcessor(op.clone())
                })?;
            b.put(&name, h);
            Ok(())
        });
    }

    fn op<K2, V2, O>(&self, named: Named, prefix: &str, op: O, role: Role) -> String
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        O: RecordOp<K, V, K2, V2>,
    {
        let name = processor_name(&self.plan, named.name, prefix);
        self.add_op::<K2, V2, O>(&name, op, role);
        name
    }

    /// The records `predicate` accepts (Kafka's `filter`).
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filter_named(predicate, Named::empty())
    }

    /// [`filter`](Self::filter) with a processor name.
    pub fn filter_named(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        let op = Filter {
            predicate,
            negate: false,
        };
        let name = self.op::<K, V, _>(named, names::FILTER, op, Role::Plain);
        self.derive(
            name,
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// The records `predicate` rejects (Kafka's `filterNot`).
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filter_not_named(predicate, Named::empty())
    }

    /// [`filter_not`](Self::filter_not) with a processor name.
    pub fn filter_not_named(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        let op = Filter {
            predicate,
            negate: true,
        };
        let name = self.op::<K, V, _>(named, names::FILTER, op, Role::Plain);
        self.derive(
            name,
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// A new key and value for each record (Kafka's `map`); grouping after it repartitions.
    pub fn map<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        mapper: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.map_named(mapper, Named::empty())
    }

    /// [`map`](Self::map) with a processor name.
    pub fn map_named<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        mapper: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K2, V2> {
        let name = self.op::<K2, V2, _>(named, names::MAP, Map(mapper), Role::KeyChanging);
        self.derive(name, None, None, true)
    }

    /// A new value for each record (Kafka's `mapValues`); the key stays, so no repartition.
    pub fn map_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.map_values_with_key(move |_, v| mapper(v), Named::empty())
    }

    /// A new value from the key and value (Kafka's `mapValues` with a
    /// `ValueMapperWithKey`), with a processor name.
    pub fn map_values_with_key<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K, V2> {
        let name = self.op::<K, V2, _>(
            named,
            names::MAP_VALUES,
            MapValues(mapper),
            Role::ValueChanging,
        );
        self.derive(
            name,
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }

    /// Zero or more records for each record (Kafka's `flatMap`).
    pub fn flat_map<K2, V2, I>(
        &self,
        mapper: impl Fn(K, V) -> I + Send + Sync + 'static,
    ) -> KStream<K2, V2>
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        I: IntoIterator<Item = (K2, V2)> + 'static,
    {
        self.flat_map_named(mapper, Named::empty())
    }

    /// [`flat_map`](Self::flat_map) with a processor name.
    pub fn flat_map_named<K2, V2, I>(
        &self,
        mapper: impl Fn(K, V) -> I + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K2, V2>
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        I: IntoIterator<Item = (K2, V2)> + 'static,
    {
        let name = self.op::<K2, V2, _>(
            named,
            names::FLAT_MAP,
            FlatMap(mapper, PhantomData),
            Role::KeyChanging,
        );
        self.derive(name, None, None, true)
    }

    /// Zero or more values for each record, under its key (Kafka's `flatMapValues`).
    pub fn flat_map_values<V2, I>(
        &self,
        mapper: impl Fn(V) -> I + Send + Sync + 'static,
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        I: IntoIterator<Item = V2> + 'static,
    {
        self.flat_map_values_with_key(move |_, v| mapper(v), Named::empty())
    }

    /// Zero or more values from the key and value (Kafka's `flatMapValues` with a
    /// `ValueMapperWithKey`), with a processor name.
    pub fn flat_map_values_with_key<V2, I>(
        &self,
        mapper: impl Fn(&K, V) -> I + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        I: IntoIterator<Item = V2> + 'static,
    {
        let op = FlatMapValues(mapper, PhantomData);
        let name = self.op::<K, V2, _>(named, names::FLAT_MAP_VALUES, op, Role::ValueChanging);
        self.derive(
            name,
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }

    /// A new key for each record (Kafka's `selectKey`); grouping after it repartitions.
    pub fn select_key<K2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
    ) -> KStream<K2, V> {
        self.select_key_named(mapper, Named::empty())
    }

    /// [`select_key`](Self::select_key) with a processor name.
    pub fn select_key_named<K2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K2, V> {
        let name = self.op::<K2, V, _>(
            named,
            names::KEY_SELECT,
            SelectKey(mapper),
            Role::KeyChanging,
        );
        self.derive(name, None, self.value_serde.clone(), true)
    }

    /// Call `action` on each record and pass it on (Kafka's `peek`).
    pub fn peek(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) -> Self {
        self.peek_named(action, Named::empty())
    }

    /// [`peek`](Self::peek) with a processor name.
    pub fn peek_named(
        &self,
        action: impl Fn(&K, &V) + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        let name = self.op::<K, V, _>(named, names::PEEK, Peek(action), Role::Plain);
        self.derive(
            name,
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// This stream's and `other`'s records in one stream (Kafka's `merge`); both must come
    /// from the same builder.
    pub fn merge(&self, other: &KStream<K, V>) -> Self {
        self.merge_named(other, Named::empty())
    }

    /// [`merge`](Self::merge) with a processor name.
    pub fn merge_named(&self, other: &KStream<K, V>, named: Named) -> Self {
        let name = processor_name(&self.plan, named.name, names::MERGE);
        let parents = [self.name.clone(), other.name.clone()];
        let node = name.clone();
        let spec = NodeSpec::new(&name, &[&parents[0], &parents[1]]).role(Role::Merge);
        push(&self.plan, spec, move |b| {
            let a = b.handle::<K, V>(&parents[0])?;
            let c = b.handle::<K, V>(&parents[1])?;
            let h =
                b.tb.add_processor::<K, V, K, V, _, _>(&node, &[&a, &c], || {
                    OpProcessor(Arc::new(PassThrough))
                })?;
            b.put(&node, h);
            Ok(())
        });
        // Neither side's serdes can stand for both (Kafka drops them too).
        self.derive(
            name,
            None,
            None,
            self.repartition_required || other.repartition_required,
        )
    }
}
