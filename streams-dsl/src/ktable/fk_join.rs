//! Foreign-key table-table joins (KIP-213; Kafka's `KTable.join/leftJoin(KTable,
//! foreignKeyExtractor, joiner[, TableJoined][, Materialized])`, `KTableImpl.doJoinOnForeignKey`):
//! the nodes, store and internal topics Java writes, with Java's names
//! (`KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<i>-topic`, `…-SUBSCRIPTION-STATE-STORE-<i>`,
//! `…-SUBSCRIPTION-RESPONSE-<i>-topic`, or `<name>-subscription-…` with a [`TableJoined`]
//! name). The processors are in [`crate::joins::foreign_key`].

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;

use streams_core::serde::BytesSerde;
use streams_core::state::StoreHandle;
use streams_core::timestamp::FailOnInvalidTimestamp;
use streams_core::topology::StoreBuilder;

use super::KTable;
use crate::change::Change;
use crate::error::SerdeRole;
use crate::joins::foreign_key::pseudo_topics::PseudoTopics;
use crate::joins::foreign_key::response::{ForeignKeyJoiner, ResponseJoin};
use crate::joins::foreign_key::send::{ForeignKeyExtractor, SubscriptionSend};
use crate::joins::foreign_key::subscriptions::{
    ForeignTableJoin, SubscriptionJoinForeign, SubscriptionReceive,
};
use crate::joins::foreign_key::wire::{
    SubscriptionResponseWrapper, SubscriptionResponseWrapperSerde, SubscriptionWrapper,
    SubscriptionWrapperSerde,
};
use crate::options::{Materialized, StreamPartitioner, TableJoined};
use crate::plan::{push, NodeSpec, PlanRef};
use crate::processors::table_source::TableSource;
use crate::serdes::{DynSerde, OptionSerde};
use crate::store::table_store_builder;
use crate::table_node::TableNode;

const FIX: &str = "KTable::table_with(topic, Consumed::with(key_serde, value_serde), …) for both tables, or StreamsBuilder::default_serde";
const FK_JOIN_STATE_STORE: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-";
const SUBSCRIPTION_REGISTRATION: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-";
const SUBSCRIPTION_RESPONSE: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-";
const SUBSCRIPTION_PROCESSOR: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-";
const RESPONSE_RESOLVER: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-";
const FK_JOIN_OUTPUT: &str = "KTABLE-FK-JOIN-OUTPUT-";
const KTABLE_SINK: &str = "KTABLE-SINK-";
const KTABLE_SOURCE: &str = "KTABLE-SOURCE-";

/// `<name><suffix>`, else a generated name with `prefix`; an index is drawn either way
/// (Kafka's `suffixWithOrElseGet`).
fn suffixed(plan: &PlanRef, name: &Option<String>, suffix: &str, prefix: &str) -> String {
    let generated = plan.borrow_mut().names.processor(prefix);
    match name {
        Some(n) => format!("{n}{suffix}"),
        None => generated,
    }
}

/// Every name of one foreign-key join, drawn in Kafka's order.
struct FkNames {
    registration_topic: String,
    registration: String,
    registration_sink: String,
    registration_source: String,
    store: String,
    receive: String,
    join_foreign: String,
    foreign_join: String,
    response_topic: String,
    response_sink: String,
    response_source: String,
    resolver: String,
    result: String,
}

impl FkNames {
    fn draw(plan: &PlanRef, name: &Option<String>) -> Self {
        let s = |suffix: &str, prefix: &str| suffixed(plan, name, suffix, prefix);
        FkNames {
            registration_topic: s("-subscription-registration", SUBSCRIPTION_REGISTRATION)
                + "-topic",
            registration: s(
                "-subscription-registration-processor",
                SUBSCRIPTION_REGISTRATION,
            ),
            registration_sink: s("-subscription-registration-sink", KTABLE_SINK),
            registration_source: s("-subscription-registration-source", KTABLE_SOURCE),
            store: s("-subscription-store", FK_JOIN_STATE_STORE),
            receive: s("-subscription-receive", SUBSCRIPTION_PROCESSOR),
            join_foreign: s("-subscription-join-foreign", SUBSCRIPTION_PROCESSOR),
            foreign_join: s("-foreign-join-subscription", SUBSCRIPTION_PROCESSOR),
            response_topic: s("-subscription-response", SUBSCRIPTION_RESPONSE) + "-topic",
            response_sink: s("-subscription-response-sink", KTABLE_SINK),
            response_source: s("-subscription-response-source", KTABLE_SOURCE),
            resolver: s("-subscription-response-resolver", RESPONSE_RESOLVER),
            result: s("-result", FK_JOIN_OUTPUT),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// The rows of this table joined with the row of `other` that their foreign key names
    /// (Kafka's `join(KTable, Function<V, KO>, ValueJoiner)`): a row whose `foreign_key` is
    /// `None`, or whose foreign row does not exist, has no joined row. Result keyed like this
    /// table; its updates come at the later timestamp of the two rows.
    ///
    /// ```
    /// use streams_dsl::StreamsBuilder;
    ///
    /// # fn main() -> Result<(), streams_dsl::DslError> {
    /// let builder = StreamsBuilder::new();
    /// // Orders "<customer id>,<item>" keyed by order id; customers keyed by id.
    /// let orders = builder.table::<String, String>("orders");
    /// let customers = builder.table::<String, String>("customers");
    /// orders
    ///     .join_on_foreign_key(
    ///         &customers,
    ///         |order: &String| order.split_once(',').map(|(customer, _)| customer.to_owned()),
    ///         |order, customer| format!("{order} for {customer}"),
    ///     )
    ///     .to_stream()
    ///     .to("orders-with-customers");
    /// let topology = builder.build()?;
    /// assert!(topology
    ///     .internal_topics()
    ///     .contains(&"KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic".to_owned()));
    /// # Ok(()) }
    /// ```
    pub fn join_on_foreign_key<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> Option<KO> + Send + Sync + 'static,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_on_foreign_key_with(other, foreign_key, joiner, TableJoined::default(), None)
    }

    /// [`join_on_foreign_key`](Self::join_on_foreign_key) with a [`TableJoined`] (name,
    /// partitioners) and, when given, a store for the result.
    pub fn join_on_foreign_key_with<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> Option<KO> + Send + Sync + 'static,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        table_joined: TableJoined<K, KO>,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_on_foreign_key_with_key(
            other,
            move |_, v| foreign_key(v),
            joiner,
            table_joined,
            materialized,
        )
    }

    /// [`join_on_foreign_key_with`](Self::join_on_foreign_key_with) with a foreign-key
    /// extractor reading the key too (KIP-1104's `BiFunction<K, V, KO>`).
    pub fn join_on_foreign_key_with_key<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&K, &V) -> Option<KO> + Send + Sync + 'static,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        table_joined: TableJoined<K, KO>,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: ForeignKeyJoiner<V, VO, VR> = Arc::new(move |a, b| match (a, b) {
            (Some(a), Some(b)) => Some(joiner(a, b)),
            _ => None,
        });
        self.fk_join(
            other,
            Arc::new(foreign_key),
            j,
            table_joined,
            materialized,
            false,
        )
    }

    /// Every row of this table, joined with the row of `other` its foreign key names, or with
    /// `None` when it has no foreign key or the foreign row does not exist (Kafka's
    /// `leftJoin(KTable, Function<V, KO>, ValueJoiner)`).
    pub fn left_join_on_foreign_key<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> Option<KO> + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_on_foreign_key_with(other, foreign_key, joiner, TableJoined::default(), None)
    }

    /// [`left_join_on_foreign_key`](Self::left_join_on_foreign_key) with a [`TableJoined`]
    /// and, when given, a store for the result.
    pub fn left_join_on_foreign_key_with<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> Option<KO> + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        table_joined: TableJoined<K, KO>,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_on_foreign_key_with_key(
            other,
            move |_, v| foreign_key(v),
            joiner,
            table_joined,
            materialized,
        )
    }

    /// [`left_join_on_foreign_key_with`](Self::left_join_on_foreign_key_with) with a
    /// foreign-key extractor reading the key too (KIP-1104).
    pub fn left_join_on_foreign_key_with_key<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&K, &V) -> Option<KO> + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        table_joined: TableJoined<K, KO>,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        let j: ForeignKeyJoiner<V, VO, VR> = Arc::new(move |a, b| a.map(|a| joiner(a, b)));
        self.fk_join(
            other,
            Arc::new(foreign_key),
            j,
            table_joined,
            materialized,
            true,
        )
    }

    /// Kafka's `doJoinOnForeignKey`.
    fn fk_join<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        extractor: ForeignKeyExtractor<K, V, KO>,
        joiner: ForeignKeyJoiner<V, VO, VR>,
        table_joined: TableJoined<K, KO>,
        materialized: Option<Materialized<K, VR>>,
        left_join: bool,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        // Both sides send old values (the left to unsubscribe a changed foreign key) and are
        // read through their value getters.
        other.node.enable_sending_old_values(true);
        self.node.enable_sending_old_values(true);
        other.node.materialize_for_getter();
        self.node.materialize_for_getter();
        let n = FkNames::draw(&self.plan, &table_joined.name);
        let materialized = materialized.unwrap_or_default();
        let store_name = match &materialized.name {
            Some(s) => s.clone(),
            None => self.plan.borrow_mut().names.store(FK_JOIN_OUTPUT),
        };
        let queryable = materialized.name.clone();
        let node = TableNode::source(queryable.is_some());
        node.set_output_versioned(materialized.history_retention.is_some());
        let built = node.clone();
        let (this_node, other_node) = (self.node.clone(), other.node.clone());
        let key = materialized
            .key_serde
            .clone()
            .or_else(|| self.key_serde.clone());
        let value = materialized.value_serde.clone();
        let (left, right) = (self.name.clone(), other.name.clone());
        let (pk, v, fk, vo) = (
            self.key_serde.clone(),
            self.value_serde.clone(),
            other.key_serde.clone(),
            other.value_serde.clone(),
        );
        let (result_key, result_value) = (key.clone(), value.clone());
        let result_name = n.result.clone();
        let spec = NodeSpec::new(&n.result, &[&left, &right]);
        push(&self.plan, spec, move |b| {
            // KIP-914: a side reading a versioned table skips its out-of-order updates.
            let this_versioned = this_node.is_output_versioned();
            let other_versioned = other_node.is_output_versioned();
            let pk: DynSerde<K> = b.serde(pk, &n.registration, SerdeRole::Key, FIX)?;
            let v: DynSerde<V> = b.serde(v, &n.registration, SerdeRole::Value, FIX)?;
            let fk: DynSerde<KO> = b.serde(fk, &n.registration_sink, SerdeRole::Key, FIX)?;
            let vo: DynSerde<VO> = b.serde(vo, &n.response_sink, SerdeRole::Value, FIX)?;
            let topics = PseudoTopics::new(&n.registration_topic);
            let left_getter = b.required_getter::<K, V>(&left, &n.resolver)?;
            let right_getter = b.required_getter::<KO, VO>(&right, &n.join_foreign)?;
            let sub_serde = SubscriptionWrapperSerde {
                primary_key: pk.clone(),
                topics: topics.clone(),
            };
            let resp_serde = SubscriptionResponseWrapperSerde {
                foreign_value: vo.clone(),
            };

            // Left side: subscriptions out.
            let lp = b.handle::<K, Change<V>>(&left)?;
            let send = SubscriptionSend {
                node: n.registration.clone(),
                extractor,
                foreign_key_serde: fk.clone(),
                value_serde: v.clone(),
                topics: topics.clone(),
                left_join,
                versioned_semantics: this_versioned,
            };
            let s =
                b.tb.add_processor::<K, Change<V>, Option<KO>, SubscriptionWrapper<K>, _, _>(
                    &n.registration,
                    &[&lp],
                    move || send.clone(),
                )?;
            b.tb.add_internal_topic(&n.registration_topic);
            let opt_fk = OptionSerde::of(fk.clone());
            match table_joined.other_partitioner {
                Some(p) => {
                    let part: StreamPartitioner<Option<KO>, SubscriptionWrapper<K>> =
                        Arc::new(move |topic, k, _, count| {
                            k.as_ref().and_then(|k| p(topic, k, count))
                        });
                    b.tb.add_sink_partitioned(
                        &n.registration_sink,
                        &n.registration_topic,
                        opt_fk.clone(),
                        sub_serde.clone(),
                        part,
                        &[&s],
                    )?
                }
                None => b.tb.add_sink(
                    &n.registration_sink,
                    &n.registration_topic,
                    opt_fk.clone(),
                    sub_serde.clone(),
                    &[&s],
                )?,
            }

            // Right side: the subscription store, answers to subscriptions and updates.
            let src = b.tb.add_source_with::<Option<KO>, SubscriptionWrapper<K>>(
                &n.registration_source,
                &[&n.registration_topic],
                None,
                opt_fk,
                sub_serde.clone(),
                None,
                Some(Arc::new(FailOnInvalidTimestamp)),
            )?;
            let store: StoreHandle<Bytes, SubscriptionWrapper<K>> = StoreHandle::new(
                &n.store,
                DynSerde::new(BytesSerde),
                DynSerde::new(sub_serde),
            );
            let (st, f2, p2, tp, node) = (
                store.clone(),
                fk.clone(),
                pk.clone(),
                topics.clone(),
                n.receive.clone(),
            );
            let recv = b.tb.add_processor::<
                Option<KO>,
                SubscriptionWrapper<K>,
                Option<KO>,
                SubscriptionWrapper<K>,
                _,
                _,
            >(&n.receive, &[&src], move || SubscriptionReceive {
                node: node.clone(),
                store: st.clone(),
                foreign_key_serde: f2.clone(),
                primary_key_serde: p2.clone(),
                topics: tp.clone(),
            })?;
            let g = right_getter.clone();
            let jf = b.tb.add_processor::<
                Option<KO>,
                SubscriptionWrapper<K>,
                K,
                SubscriptionResponseWrapper<VO>,
                _,
                _,
            >(&n.join_foreign, &[&recv], move || SubscriptionJoinForeign {
                foreign: g.clone(),
                _k: PhantomData,
            })?;
            let right_stores = right_getter.store_names();
            let right_stores: Vec<&str> = right_stores.iter().map(String::as_str).collect();
            b.tb.connect_processor_and_state_stores(&n.join_foreign, &right_stores)?;
            let rp = b.handle::<KO, Change<VO>>(&right)?;
            let (st, f2, p2, tp, node) = (
                store.clone(),
                fk.clone(),
                pk.clone(),
                topics.clone(),
                n.foreign_join.clone(),
            );
            let fj =
                b.tb.add_processor::<KO, Change<VO>, K, SubscriptionResponseWrapper<VO>, _, _>(
                    &n.foreign_join,
                    &[&rp],
                    move || ForeignTableJoin {
                        node: node.clone(),
                        store: st.clone(),
                        foreign_key_serde: f2.clone(),
                        primary_key_serde: p2.clone(),
                        topics: tp.clone(),
                        versioned_semantics: other_versioned,
                    },
                )?;
            let sub_store = StoreBuilder::timestamped_key_value(&store, true);
            b.tb.add_state_store(sub_store, &[&n.receive, &n.foreign_join])?;

            // Answers back to the left side's partitions.
            b.tb.add_internal_topic(&n.response_topic);
            let part: StreamPartitioner<K, SubscriptionResponseWrapper<VO>> =
                match table_joined.partitioner {
                    Some(p) => Arc::new(move |topic, k, _, count| p(topic, k, count)),
                    None => Arc::new(|_, _, r: &SubscriptionResponseWrapper<VO>, _| {
                        r.primary_partition.filter(|p| *p >= 0)
                    }),
                };
            b.tb.add_sink_partitioned(
                &n.response_sink,
                &n.response_topic,
                pk.clone(),
                resp_serde.clone(),
                part,
                &[&jf, &fj],
            )?;
            let rsrc = b.tb.add_source_with::<K, SubscriptionResponseWrapper<VO>>(
                &n.response_source,
                &[&n.response_topic],
                None,
                pk.clone(),
                resp_serde,
                None,
                Some(Arc::new(FailOnInvalidTimestamp)),
            )?;
            let (g, node, vs) = (left_getter.clone(), n.resolver.clone(), v.clone());
            let res =
                b.tb.add_processor::<K, SubscriptionResponseWrapper<VO>, K, Option<VR>, _, _>(
                    &n.resolver,
                    &[&rsrc],
                    move || ResponseJoin {
                        node: node.clone(),
                        left: g.clone(),
                        value_serde: vs.clone(),
                        topics: topics.clone(),
                        joiner: joiner.clone(),
                        left_join,
                    },
                )?;
            let left_stores = left_getter.store_names();
            let left_stores: Vec<&str> = left_stores.iter().map(String::as_str).collect();
            b.tb.connect_processor_and_state_stores(&n.resolver, &left_stores)?;

            // The result table (Kafka's `KTableSource`), materialized when asked or read.
            let store = if built.is_materialized() {
                let ks = b.serde(result_key, &n.result, SerdeRole::Key, FIX)?;
                let vs = b.serde(result_value, &n.result, SerdeRole::Value, FIX)?;
                Some(table_store_builder(&store_name, ks, vs, &materialized))
            } else {
                None
            };
            let table_store = store.as_ref().map(|(_, s)| s.clone());
            let send_old_values = built.sends_old_values();
            let key_serde = pk.clone();
            let out = b.tb.add_processor::<K, Option<VR>, K, Change<VR>, _, _>(
                &n.result,
                &[&res],
                move || TableSource {
                    store: table_store.clone(),
                    send_old_values,
                    key_serde: Some(key_serde.clone()),
                },
            )?;
            b.put(&n.result, out);
            if let Some((_, s)) = &store {
                b.put_getter(&n.result, s.getter());
            }
            if let Some((builder, _)) = store {
                b.tb.add_state_store(builder, &[&n.result])?;
            }
            let (l, r) = (b.resolve(&left), b.resolve(&right));
            b.tb.copartition_sources(&[&r, &n.registration_source]);
            b.tb.copartition_sources(&[&l, &n.response_source]);
            Ok(())
        });
        KTable::new(self.plan.clone(), result_name, key, value, queryable, node)
    }
}
