//! Stream-stream joins (Kafka's `KStream.join/leftJoin/outerJoin(KStream, ValueJoiner,
//! JoinWindows[, StreamJoined])`, `KStreamImplJoin`): each side's records kept in a window
//! store by a `KSTREAM-WINDOWED-` node, a join node per side reading the other side's store,
//! and a `KSTREAM-MERGE-` node joining their outputs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use streams_core::state::StoreHandle;
use streams_core::topology::StoreBuilder;

use super::KStream;
use crate::error::SerdeRole;
use crate::joins::outer_store::{LeftOrRight, LeftOrRightListSerde, OuterKeySerde};
use crate::joins::self_join::SelfJoin;
use crate::joins::stream_stream::{
    JoinWindowProcessor, SharedTimeTrackers, SideJoiner, StoredJoiner, StreamJoinSide, TimeTracker,
};
use crate::names;
use crate::options::{JoinWindows, StoreType, StreamJoined};
use crate::plan::{push, NodeSpec};
use crate::processors::ops::{OpProcessor, PassThrough};
use crate::serdes::DynSerde;

const STREAM_JOINED_FIX: &str = "StreamJoined::with(key_serde, value_serde, other_value_serde)";

/// The user's joiner with either side possibly missing; `None` where the join emits nothing.
type FullJoiner<K, V1, V2, VR> =
    Arc<dyn Fn(&K, Option<&V1>, Option<&V2>) -> Option<VR> + Send + Sync>;

/// Which sides emit records without a partner.
#[derive(Clone, Copy)]
struct Outer {
    left: bool,
    right: bool,
}

/// The names a stream-stream join draws, in Kafka's order.
struct JoinNames {
    this_windowed: String,
    other_windowed: String,
    join_this: String,
    join_other: String,
    merge: String,
    this_store: String,
    other_store: String,
    outer_store: Option<String>,
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Pair each record with the other stream's records of the same key at most `windows`
    /// apart (Kafka's `join(KStream, ValueJoiner, JoinWindows)`); the result's timestamp is
    /// the later of the two.
    pub fn join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, &V2) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_with_key(
            other,
            move |_, a, b| joiner(a, b),
            windows,
            StreamJoined::default(),
        )
    }

    /// [`join`](Self::join) with serdes, store names and a name.
    pub fn join_with<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, &V2) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        stream_joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_with_key(other, move |_, a, b| joiner(a, b), windows, stream_joined)
    }

    /// [`join_with`](Self::join_with) with a joiner that reads the key (Kafka's
    /// `ValueJoinerWithKey`).
    pub fn join_with_key<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&K, &V, &V2) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        stream_joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        let full: FullJoiner<K, V, V2, VR> = Arc::new(move |k, a, b| match (a, b) {
            (Some(a), Some(b)) => Some(joiner(k, a, b)),
            _ => None,
        });
        let outer = Outer {
            left: false,
            right: false,
        };
        self.stream_stream_join(other, full, windows, stream_joined, outer)
    }

    /// Every record of this stream, paired with the other stream's records within
    /// `windows`, or with `None` once its window (and grace) closed without a partner
    /// (Kafka's `leftJoin`, with Kafka ≥ 3.1's delayed emission). A record with a null key
    /// is emitted at once with `None` (KIP-962).
    pub fn left_join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_with_key(
            other,
            move |_, a, b| joiner(a, b),
            windows,
            StreamJoined::default(),
        )
    }

    /// [`left_join`](Self::left_join) with serdes, store names and a name.
    pub fn left_join_with<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        stream_joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_with_key(other, move |_, a, b| joiner(a, b), windows, stream_joined)
    }

    /// [`left_join_with`](Self::left_join_with) with a joiner that reads the key.
    pub fn left_join_with_key<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&K, &V, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        stream_joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        let full: FullJoiner<K, V, V2, VR> = Arc::new(move |k, a, b| a.map(|a| joiner(k, a, b)));
        let outer = Outer {
            left: true,
            right: false,
        };
        self.stream_stream_join(other, full, windows, stream_joined, outer)
    }

    /// Every record of both streams, paired within `windows`, or with `None` for the
    /// missing side once its window (and grace) closed (Kafka's `outerJoin`).
    pub fn outer_join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.outer_join_with_key(
            other,
            move |_, a, b| joiner(a, b),
            windows,
            StreamJoined::default(),
        )
    }

    /// [`outer_join`](Self::outer_join) with serdes, store names and a name.
    pub fn outer_join_with<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        stream_joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.outer_join_with_key(other, move |_, a, b| joiner(a, b), windows, stream_joined)
    }

    /// [`outer_join_with`](Self::outer_join_with) with a joiner that reads the key.
    pub fn outer_join_with_key<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&K, Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        stream_joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        let full: FullJoiner<K, V, V2, VR> = Arc::new(move |k, a, b| Some(joiner(k, a, b)));
        let outer = Outer {
            left: true,
            right: true,
        };
        self.stream_stream_join(other, full, windows, stream_joined, outer)
    }

    /// Kafka's `doJoin` then `KStreamImplJoin.join`: repartition a side whose key changed
    /// (`<name>-left-repartition` / `-right-repartition`, else after the side's node), draw
    /// the names, then write the windowed nodes, the two join sides, the merge and the
    /// stores.
    fn stream_stream_join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: FullJoiner<K, V, V2, VR>,
        windows: JoinWindows,
        sj: StreamJoined<K, V, V2>,
        outer: Outer,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        let named = sj.name.clone();
        let key_serde = sj
            .key_serde
            .clone()
            .or_else(|| self.key_serde.clone())
            .or_else(|| other.key_serde.clone());
        let this_vs = sj.value_serde.clone().or_else(|| self.value_serde.clone());
        let other_vs = sj
            .other_value_serde
            .clone()
            .or_else(|| other.value_serde.clone());
        let this_prefix = named
            .as_ref()
            .map_or_else(|| self.name.clone(), |n| format!("{n}-left"));
        let this_input = self.join_input(&this_prefix, key_serde.clone(), this_vs.clone());
        let other_prefix = named
            .as_ref()
            .map_or_else(|| other.name.clone(), |n| format!("{n}-right"));
        let other_input = other.join_input(&other_prefix, key_serde.clone(), other_vs.clone());
        let n = self.join_names(named.as_deref(), sj.store_name.as_deref(), outer);

        let persistent = matches!(sj.store_type, StoreType::Persistent);
        let retention = windows.retention_ms();
        let (logging, logging_config) = (sj.logging, sj.logging_config.clone());
        let store = move |b: StoreBuilder| -> StoreBuilder {
            if !logging {
                b.with_logging_disabled()
            } else if logging_config.is_empty() {
                b
            } else {
                b.with_logging_config(logging_config.clone())
            }
        };

        // The windowed nodes: each keeps its side's records.
        // A stream joined with itself (Kafka: the join node has a single parent; a re-keyed
        // stream's two sides read one repartition).
        let self_join = this_input == other_input;
        for (input, windowed, store_name, is_this) in [
            (&this_input, &n.this_windowed, &n.this_store, true),
            (&other_input, &n.other_windowed, &n.other_store, false),
        ] {
            let (input, node, store_name) = (input.clone(), windowed.clone(), store_name.clone());
            let k = key_serde.clone();
            if is_this {
                let v = this_vs.clone();
                push(&self.plan, NodeSpec::new(&node, &[&input]), move |b| {
                    let ks = b.serde(k, &store_name, SerdeRole::Key, STREAM_JOINED_FIX)?;
                    let vs = b.serde(v, &store_name, SerdeRole::Value, STREAM_JOINED_FIX)?;
                    write_windowed::<K, V>(
                        b,
                        &input,
                        &node,
                        StoreHandle::new(&store_name, ks.clone(), vs),
                        ks,
                    )
                });
            } else {
                let v = other_vs.clone();
                push(&self.plan, NodeSpec::new(&node, &[&input]), move |b| {
                    // `single.store.self.join`: the one windowed node serves both sides.
                    if self_join && b.optimization.single_store_self_join {
                        return Ok(());
                    }
                    let ks = b.serde(k, &store_name, SerdeRole::Key, STREAM_JOINED_FIX)?;
                    let vs = b.serde(v, &store_name, SerdeRole::Value, STREAM_JOINED_FIX)?;
                    write_windowed::<K, V2>(
                        b,
                        &input,
                        &node,
                        StoreHandle::new(&store_name, ks.clone(), vs),
                        ks,
                    )
                });
            }
        }

        let mut spec = NodeSpec::new(&n.merge, &[&n.this_windowed, &n.other_windowed]);
        if outer.left || outer.right {
            spec = spec.relaxed_null_key_join();
        }
        let (k, v1, v2) = (key_serde.clone(), this_vs, other_vs);
        let names = n.clone_names();
        push(&self.plan, spec, move |b| {
            let n = names;
            let ks = b.serde(k, &n.this_store, SerdeRole::Key, STREAM_JOINED_FIX)?;
            let vs1 = b.serde(v1, &n.this_store, SerdeRole::Value, STREAM_JOINED_FIX)?;
            let vs2 = b.serde(v2, &n.other_store, SerdeRole::Value, STREAM_JOINED_FIX)?;
            let this_store = StoreHandle::new(&n.this_store, ks.clone(), vs1.clone());
            if self_join && b.optimization.single_store_self_join {
                let p = b.handle::<K, V>(&n.this_windowed)?;
                let (st, j) = (this_store.clone(), joiner.clone());
                let (kser, vser) = (ks.clone(), vs1.clone());
                let h =
                    b.tb.add_processor::<K, V, K, VR, _, _>(&n.merge, &[&p], move || SelfJoin {
                        store: st.clone(),
                        windows,
                        joiner: j.clone(),
                        tracker: TimeTracker::default(),
                        key_serde: Some(kser.clone()),
                        value_serde: Some(vser.clone()),
                    })?;
                b.put(&n.merge, h);
                let builder = StoreBuilder::window(&this_store, persistent, retention, true);
                b.tb.add_state_store(store(builder), &[&n.this_windowed, &n.merge])?;
                return Ok(());
            }
            let other_store = StoreHandle::new(&n.other_store, ks.clone(), vs2.clone());
            let outer_handle = n.outer_store.as_ref().map(|name| {
                StoreHandle::new(
                    name,
                    OuterKeySerde { key: ks.clone() },
                    LeftOrRightListSerde {
                        left: vs1.clone(),
                        right: vs2.clone(),
                    },
                )
            });
            let trackers: SharedTimeTrackers = Arc::new(Mutex::new(HashMap::new()));

            let j = joiner.clone();
            let this_joiner: SideJoiner<K, V, V2, VR> = Arc::new(move |k, a, b| j(k, Some(a), b));
            let j = joiner.clone();
            let other_joiner: SideJoiner<K, V2, V, VR> = Arc::new(move |k, b, a| j(k, a, Some(b)));
            let j = joiner;
            let stored: StoredJoiner<K, V, V2, VR> = Arc::new(move |k, lr| match lr {
                LeftOrRight::Left(a) => j(k, Some(a), None),
                LeftOrRight::Right(b) => j(k, None, Some(b)),
            });

            let this_parent = b.handle::<K, V>(&n.this_windowed)?;
            let other_parent = b.handle::<K, V2>(&n.other_windowed)?;
            let (os, oh, tr, st) = (
                other_store.clone(),
                outer_handle.clone(),
                trackers.clone(),
                stored.clone(),
            );
            let (kser, vser) = (ks.clone(), vs1.clone());
            let left_outer = outer.left;
            let this_node = b.tb.add_processor::<K, V, K, VR, _, _>(
                &n.join_this,
                &[&this_parent],
                move || StreamJoinSide {
                    other_store: os.clone(),
                    outer_store: oh.clone(),
                    left: true,
                    outer: left_outer,
                    windows,
                    joiner: this_joiner.clone(),
                    stored_joiner: st.clone(),
                    wrap: Arc::new(LeftOrRight::Left),
                    trackers: tr.clone(),
                    key_serde: Some(kser.clone()),
                    value_serde: Some(vser.clone()),
                },
            )?;
            let (ts, oh, tr, st) = (this_store.clone(), outer_handle.clone(), trackers, stored);
            let (kser, vser) = (ks.clone(), vs2.clone());
            let right_outer = outer.right;
            let other_node = b.tb.add_processor::<K, V2, K, VR, _, _>(
                &n.join_other,
                &[&other_parent],
                move || StreamJoinSide {
                    other_store: ts.clone(),
                    outer_store: oh.clone(),
                    left: false,
                    outer: right_outer,
                    windows,
                    joiner: other_joiner.clone(),
                    stored_joiner: st.clone(),
                    wrap: Arc::new(LeftOrRight::Right),
                    trackers: tr.clone(),
                    key_serde: Some(kser.clone()),
                    value_serde: Some(vser.clone()),
                },
            )?;
            let merge = b.tb.add_processor::<K, VR, K, VR, _, _>(
                &n.merge,
                &[&this_node, &other_node],
                || OpProcessor(Arc::new(PassThrough)),
            )?;
            b.put(&n.merge, merge);
            let window =
                |h: &StoreHandle<K, V>| StoreBuilder::window(h, persistent, retention, true);
            b.tb.add_state_store(
                store(window(&this_store)),
                &[&n.this_windowed, &n.join_other],
            )?;
            let other_builder = StoreBuilder::window(&other_store, persistent, retention, true);
            b.tb.add_state_store(store(other_builder), &[&n.other_windowed, &n.join_this])?;
            if let Some(h) = &outer_handle {
                let kv = if persistent {
                    StoreBuilder::persistent_key_value(h)
                } else {
                    StoreBuilder::in_memory_key_value(h)
                };
                b.tb.add_state_store(store(kv), &[&n.join_this, &n.join_other])?;
            }
            // The windowed nodes read the two inputs (wherever the optimizer moved them).
            b.tb.copartition_sources(&[&n.this_windowed, &n.other_windowed]);
            Ok(())
        });
        let result_key = sj.key_serde.or(key_serde);
        self.derive(n.merge, result_key, None, false)
    }

    /// Draw the join's names as Kafka's `KStreamImplJoin.join` does: the two windowed
    /// nodes, the two join sides (generated names drawn even when named), the merge; stores
    /// after the generated side names unless `store_name` is given.
    fn join_names(&self, named: Option<&str>, store_name: Option<&str>, outer: Outer) -> JoinNames {
        let mut p = self.plan.borrow_mut();
        let mut suffixed = |suffix: &str, prefix: &str| {
            let generated = p.names.processor(prefix);
            named.map_or(generated, |n| format!("{n}{suffix}"))
        };
        let this_windowed = suffixed("-this-windowed", names::WINDOWED);
        let other_windowed = suffixed("-other-windowed", names::WINDOWED);
        let (this_prefix, this_suffix) = if outer.right {
            (names::OUTER_THIS, "-outer-this-join")
        } else {
            (names::JOIN_THIS, "-this-join")
        };
        let (other_prefix, other_suffix) = if outer.left {
            (names::OUTER_OTHER, "-outer-other-join")
        } else {
            (names::JOIN_OTHER, "-other-join")
        };
        let this_generated = p.names.processor(this_prefix);
        let other_generated = p.names.processor(other_prefix);
        let merge_generated = p.names.processor(names::MERGE);
        let with_suffix = |suffix: &str, generated: &str| {
            named.map_or_else(|| generated.to_owned(), |n| format!("{n}{suffix}"))
        };
        let store = |suffix: &str, generated: &str| match store_name {
            Some(s) => format!("{s}{suffix}-store"),
            None => format!("{generated}-store"),
        };
        let outer_store = outer.left.then(|| match store_name {
            Some(s) if outer.right => format!("{s}-outer-shared-join-store"),
            Some(s) => format!("{s}-left-shared-join-store"),
            None => format!(
                "{}{}-store",
                names::OUTER_SHARED,
                &this_generated[this_prefix.len()..]
            ),
        });
        JoinNames {
            this_windowed,
            other_windowed,
            join_this: with_suffix(this_suffix, &this_generated),
            join_other: with_suffix(other_suffix, &other_generated),
            merge: with_suffix("-merge", &merge_generated),
            this_store: store(this_suffix, &this_generated),
            other_store: store(other_suffix, &other_generated),
            outer_store,
        }
    }
}

impl JoinNames {
    fn clone_names(&self) -> JoinNames {
        JoinNames {
            this_windowed: self.this_windowed.clone(),
            other_windowed: self.other_windowed.clone(),
            join_this: self.join_this.clone(),
            join_other: self.join_other.clone(),
            merge: self.merge.clone(),
            this_store: self.this_store.clone(),
            other_store: self.other_store.clone(),
            outer_store: self.outer_store.clone(),
        }
    }
}

/// Write a `KSTREAM-WINDOWED-` node after `input`, keeping records in `store`.
fn write_windowed<K: Clone + 'static, V: Clone + 'static>(
    b: &mut crate::plan::Build<'_>,
    input: &str,
    node: &str,
    store: StoreHandle<K, V>,
    key_serde: DynSerde<K>,
) -> Result<(), crate::error::DslError> {
    let p = b.handle::<K, V>(input)?;
    let h =
        b.tb.add_processor::<K, V, K, V, _, _>(node, &[&p], move || JoinWindowProcessor {
            store: store.clone(),
            key_serde: Some(key_serde.clone()),
        })?;
    b.put(node, h);
    Ok(())
}
