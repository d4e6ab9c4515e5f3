//! `KTable::suppress` (Kafka's `KTableImpl.suppress`): a `KTABLE-SUPPRESS-<i>` node (or the
//! given name) holding the table's updates back in a buffer store
//! `KTABLE-SUPPRESS-STATE-STORE-<i>` (or `<name>-store`), logged to its changelog unless the
//! buffer config turns logging off.

use std::sync::Arc;

use bytes::Bytes;
use streams_core::serde::BytesSerde;
use streams_core::state::StoreHandle;
use streams_core::topology::StoreBuilder;

use super::KTable;
use crate::change::Change;
use crate::error::DslError;
use crate::joins::value_getter::ValueGetterRef;
use crate::names;
use crate::options::{SuppressKind, Suppressed};
use crate::plan::{push, NodeSpec};
use crate::processors::suppress::{BufferTime, Suppress, SuppressGetter, SuppressSpec};
use crate::table_node::TableNode;

const SUPPRESS_FIX: &str =
    "Materialized::with(key_serde, value_serde) on the table, or StreamsBuilder::default_serde";

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// The table's updates held back as `suppressed` says (Kafka's `suppress`): with
    /// [`Suppressed::until_window_closes`] only each window's final result, once the window
    /// closed; with [`Suppressed::until_time_limit`] each key's latest update once stream
    /// time is far enough past its first held-back one. The result is a table whose updates
    /// come later and fewer; its old values come from the buffer.
    pub fn suppress(&self, suppressed: Suppressed<K>) -> KTable<K, V> {
        // Kafka draws no index for a named suppression, and the store's only when unnamed.
        let name = match &suppressed.name {
            Some(n) => n.clone(),
            None => self
                .plan
                .borrow_mut()
                .names
                .processor(names::KTABLE_SUPPRESS),
        };
        let store_name = match &suppressed.name {
            Some(n) => format!("{n}-store"),
            None => self.plan.borrow_mut().names.store(names::KTABLE_SUPPRESS),
        };
        // The buffer needs the old values, to emit them with the final update.
        self.node.enable_sending_old_values(true);
        let node = TableNode::derived(self.node.clone());
        let parent_node = self.node.clone();
        let (key, value) = (self.key_serde.clone(), self.value_serde.clone());
        let (parent, node_name) = (self.name.clone(), name.clone());
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            if parent_node.is_output_versioned() {
                return Err(DslError::SuppressOnVersionedTable {
                    node: node_name.clone(),
                });
            }
            let (key_serde, value_serde) = b.serdes(key, value, &node_name, SUPPRESS_FIX)?;
            let (time, wait_ms, drop_tombstones) = match suppressed.kind {
                SuppressKind::UntilWindowCloses { window_end } => {
                    let grace = parent_node.window_grace().ok_or_else(|| {
                        DslError::SuppressNotWindowed {
                            node: node_name.clone(),
                        }
                    })?;
                    (BufferTime::WindowEnd(window_end), grace, true)
                }
                SuppressKind::UntilTimeLimit { wait } => (
                    BufferTime::Record,
                    i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
                    false,
                ),
            };
            let handle: StoreHandle<Bytes, Bytes> =
                StoreHandle::new(store_name.as_str(), BytesSerde, BytesSerde);
            // Behind the record cache, so the changelog gets each buffered key's state once
            // per commit (Kafka logs its buffer's dirty keys at flush), not every update.
            let mut store = StoreBuilder::in_memory_key_value(&handle).with_caching_enabled();
            let buffer = suppressed.buffer;
            if !buffer.logging {
                store = store.with_logging_disabled();
            } else if !buffer.logging_config.is_empty() {
                store = store.with_logging_config(buffer.logging_config.clone());
            }
            let spec = Arc::new(SuppressSpec {
                store: handle,
                key_serde,
                value_serde,
                time,
                wait_ms,
                max_records: buffer.max_records,
                max_bytes: buffer.max_bytes,
                strategy: buffer.strategy,
                drop_tombstones,
            });
            let p = b.handle::<K, Change<V>>(&parent)?;
            let processor_spec = spec.clone();
            let h = b.tb.add_processor::<K, Change<V>, K, Change<V>, _, _>(
                &node_name,
                &[&p],
                move || Suppress::new(processor_spec.clone()),
            )?;
            b.put(&node_name, h);
            b.tb.add_state_store(store, &[&node_name])?;
            // Joins read the suppressed table through the buffer, then the parent.
            if let Some(parent_getter) = b.getter::<K, V>(&parent) {
                let getter: ValueGetterRef<K, V> = Arc::new(SuppressGetter {
                    spec,
                    parent: parent_getter,
                });
                b.put_getter(&node_name, getter);
            }
            Ok(())
        });
        KTable::new(
            self.plan.clone(),
            name,
            self.key_serde.clone(),
            self.value_serde.clone(),
            None,
            node,
        )
    }
}
