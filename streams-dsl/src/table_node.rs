//! [`TableNode`]: which table nodes keep a store and send old values (Kafka's
//! `enableSendingOldValues(forceMaterialization)` between `KTableImpl`s).

use std::cell::Cell;
use std::rc::Rc;

/// What a table node tells its parent about old values (Kafka's
/// `enableSendingOldValues(forceMaterialization)`), decided while the program is written and
/// read when the topology is built.
pub(crate) struct TableNode {
    kind: TableKind,
    /// A downstream node needs the old values.
    send_old_values: Cell<bool>,
    /// The node keeps a store (a source table may be materialized on demand).
    materialized: Cell<bool>,
    /// A windowed aggregation's grace period (ms): what `until_window_closes` waits for.
    window_grace: Cell<Option<i64>>,
    /// Whether the node's output is a versioned table (Kafka's `isOutputVersioned`): set for
    /// a node with a store; `None` (a node without one) inherits its parent's.
    output_versioned: Cell<Option<bool>>,
}

enum TableKind {
    /// A table source (`table`, `to_table`): materialized on demand in its drawn store.
    Source,
    /// Keeps its own store (aggregations, a materialized filter or mapValues).
    Stateful,
    /// Computes its old values from its parent's (an unmaterialized filter or mapValues).
    Derived(Rc<TableNode>),
    /// An unmaterialized table-table join: old values and getters come from both sides.
    Joined(Rc<TableNode>, Rc<TableNode>),
}

/// A table node shared by its [`crate::KTable`]s and its build step.
pub(crate) type TableNodeRef = Rc<TableNode>;

impl TableNode {
    /// A table source, materialized when a store was named.
    pub fn source(materialized: bool) -> TableNodeRef {
        Self::make(TableKind::Source, materialized)
    }

    /// A node with its own store.
    pub fn stateful() -> TableNodeRef {
        Self::make(TableKind::Stateful, true)
    }

    /// A node without a store, computing from `parent`'s changes.
    pub fn derived(parent: TableNodeRef) -> TableNodeRef {
        Self::make(TableKind::Derived(parent), false)
    }

    /// An unmaterialized table-table join of `left` and `right`.
    pub fn joined(left: TableNodeRef, right: TableNodeRef) -> TableNodeRef {
        Self::make(TableKind::Joined(left, right), false)
    }

    fn make(kind: TableKind, materialized: bool) -> TableNodeRef {
        let kind_has_store = !matches!(kind, TableKind::Derived(_));
        Rc::new(TableNode {
            kind,
            send_old_values: Cell::new(false),
            materialized: Cell::new(materialized),
            window_grace: Cell::new(None),
            output_versioned: Cell::new(match kind_has_store {
                true => Some(false),
                false => None,
            }),
        })
    }

    /// Ask the node to send old values; `force` materializes an unmaterialized source (what
    /// a grouping needs). Whether the node will send them.
    pub fn enable_sending_old_values(&self, force: bool) -> bool {
        if self.send_old_values.get() {
            return true;
        }
        let ok = match &self.kind {
            TableKind::Source => {
                if force {
                    self.materialized.set(true);
                }
                self.materialized.get()
            }
            TableKind::Stateful => true,
            TableKind::Derived(parent) => parent.enable_sending_old_values(force),
            // Kafka's `KTableKTableJoinMerger`: both sides are materialized and send them.
            TableKind::Joined(l, r) => {
                l.enable_sending_old_values(true);
                r.enable_sending_old_values(true);
                true
            }
        };
        self.send_old_values.set(ok);
        ok
    }

    /// A join will read the node's values (Kafka's `valueGetterSupplier()`): a source is
    /// materialized in its drawn store; a node without a store reads its parent.
    pub fn materialize_for_getter(&self) {
        match &self.kind {
            TableKind::Source => self.materialized.set(true),
            TableKind::Stateful => {}
            TableKind::Derived(parent) => parent.materialize_for_getter(),
            TableKind::Joined(l, r) => {
                l.materialize_for_getter();
                r.materialize_for_getter();
            }
        }
    }

    /// Whether the node sends old values (final once the program is written).
    pub fn sends_old_values(&self) -> bool {
        self.send_old_values.get()
    }

    /// Mark the node a windowed aggregation's, with its windows' grace period (ms).
    pub fn set_window_grace(&self, grace_ms: i64) {
        self.window_grace.set(Some(grace_ms));
    }

    /// The grace period of the windowed aggregation this table comes from, through the
    /// nodes derived from it (Kafka's `findAndVerifyWindowGrace`); `None` when it does not
    /// come from one.
    pub fn window_grace(&self) -> Option<i64> {
        match (&self.kind, self.window_grace.get()) {
            (_, Some(g)) => Some(g),
            (TableKind::Derived(parent), None) => parent.window_grace(),
            _ => None,
        }
    }

    /// Mark the node's output versioned or not (a node with a store: whether it is a
    /// versioned store).
    pub fn set_output_versioned(&self, versioned: bool) {
        self.output_versioned.set(Some(versioned));
    }

    /// Whether the node's output is a versioned table, through the nodes without a store it
    /// derives from (Kafka's `isVersionedOrVersionedUpstream`).
    pub fn is_output_versioned(&self) -> bool {
        match (self.output_versioned.get(), &self.kind) {
            (Some(v), _) => v,
            (None, TableKind::Derived(parent)) => parent.is_output_versioned(),
            (None, _) => false,
        }
    }

    /// Whether the node keeps a store (final once the program is written).
    pub fn is_materialized(&self) -> bool {
        self.materialized.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_values_are_sent_only_where_asked_and_possible() {
        let source = TableNode::source(false);
        let filter = TableNode::derived(source.clone());
        assert!(!filter.enable_sending_old_values(false));
        assert!(!source.is_materialized());
        assert!(filter.enable_sending_old_values(true));
        assert!(source.is_materialized() && source.sends_old_values());
        let agg = TableNode::stateful();
        assert!(agg.enable_sending_old_values(false));
    }

    #[test]
    fn versioning_is_inherited_through_nodes_without_a_store_only() {
        let source = TableNode::source(true);
        source.set_output_versioned(true);
        let filter = TableNode::derived(source.clone());
        let mapped = TableNode::derived(filter.clone());
        assert!(mapped.is_output_versioned());
        // A materialized view has its own kind of store.
        let materialized = TableNode::stateful();
        assert!(!materialized.is_output_versioned());
        let view = TableNode::derived(materialized);
        assert!(!view.is_output_versioned());
        // An unmaterialized join is not versioned (Kafka sets it so), whatever its sides.
        let joined = TableNode::joined(source.clone(), mapped);
        assert!(!joined.is_output_versioned());
        assert!(!TableNode::source(true).is_output_versioned());
    }
}
