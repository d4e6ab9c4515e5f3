//! `split()` and [`BranchedKStream`] (Kafka's `BranchedKStreamImpl`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::KStream;
use crate::error::DslError;
use crate::names;
use crate::options::{Branched, Named};
use crate::plan::{processor_name, push, NodeSpec};
use crate::processors::branch::{Branch, Predicate};
use crate::processors::ops::{OpProcessor, PassThrough};

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Split the stream into branches by predicates (Kafka's `split()`): each record goes to
    /// the first branch whose predicate accepts it.
    pub fn split(&self) -> BranchedKStream<K, V> {
        self.split_named(Named::empty())
    }

    /// [`split`](Self::split) with a name: the split processor's, and the prefix of the
    /// branches' names.
    pub fn split_named(&self, named: Named) -> BranchedKStream<K, V> {
        let name = processor_name(&self.plan, named.name, names::BRANCH);
        let routes = Rc::new(RefCell::new(Routes::default()));
        let (parent, node, r) = (self.name.clone(), name.clone(), routes.clone());
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let routes = r.borrow();
            if let Some(dup) = routes.duplicate.clone() {
                return Err(DslError::DuplicateBranch {
                    split: node,
                    branch: dup,
                });
            }
            let predicates: Arc<[Predicate<K, V>]> = Arc::from(routes.predicates.clone());
            let children: Arc<[String]> = Arc::from(routes.children.clone());
            let p = b.handle::<K, V>(&parent)?;
            let h =
                b.tb.add_processor::<K, V, K, V, _, _>(&node, &[&p], move || Branch {
                    predicates: predicates.clone(),
                    children: children.clone(),
                })?;
            b.put(&node, h);
            Ok(())
        });
        BranchedKStream {
            source: self.clone(),
            name,
            routes,
            branches: BTreeMap::new(),
        }
    }
}

/// The predicates and branch names, filled as branches are added (read when the topology is
/// built, as Kafka's splitter reads its lists).
struct Routes<K, V> {
    predicates: Vec<Predicate<K, V>>,
    children: Vec<String>,
    duplicate: Option<String>,
}

impl<K, V> Default for Routes<K, V> {
    fn default() -> Self {
        Routes {
            predicates: Vec::new(),
            children: Vec::new(),
            duplicate: None,
        }
    }
}

/// The branches of a split stream (Kafka's `BranchedKStream`): add branches with
/// [`branch`](Self::branch), then end with [`default_branch`](Self::default_branch) or
/// [`no_default_branch`](Self::no_default_branch) for the map of branch name to stream.
/// Branches are named `<split name><branch name>`, or `<split name><index>` (from 1; the
/// default branch is 0).
pub struct BranchedKStream<K, V> {
    source: KStream<K, V>,
    name: String,
    routes: Rc<RefCell<Routes<K, V>>>,
    branches: BTreeMap<String, KStream<K, V>>,
}

impl<K: Clone + 'static, V: Clone + 'static> BranchedKStream<K, V> {
    /// A branch of the records `predicate` accepts (and no earlier branch took).
    pub fn branch(self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.branch_with(predicate, Branched::default())
    }

    /// [`branch`](Self::branch) with a name or a chain.
    pub fn branch_with(
        mut self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        branched: Branched<K, V>,
    ) -> Self {
        let index = {
            let mut r = self.routes.borrow_mut();
            r.predicates.push(Arc::new(predicate));
            r.predicates.len()
        };
        self.create_branch(branched, index);
        self
    }

    /// A branch of every record no branch took; returns the branches.
    pub fn default_branch(self) -> BTreeMap<String, KStream<K, V>> {
        self.default_branch_with(Branched::default())
    }

    /// [`default_branch`](Self::default_branch) with a name or a chain.
    pub fn default_branch_with(
        mut self,
        branched: Branched<K, V>,
    ) -> BTreeMap<String, KStream<K, V>> {
        self.create_branch(branched, 0);
        self.branches
    }

    /// Drop the records no branch took; returns the branches.
    pub fn no_default_branch(self) -> BTreeMap<String, KStream<K, V>> {
        self.branches
    }

    fn create_branch(&mut self, branched: Branched<K, V>, index: usize) {
        let child = match &branched.name {
            Some(n) => format!("{}{n}", self.name),
            None => format!("{}{index}", self.name),
        };
        {
            let mut r = self.routes.borrow_mut();
            if r.children.contains(&child) && r.duplicate.is_none() {
                r.duplicate = Some(child.clone());
            }
            r.children.push(child.clone());
        }
        // Kafka draws (and discards) an index for each branch.
        self.source.plan.borrow_mut().names.processor(&child);
        let (parent, node) = (self.name.clone(), child.clone());
        push(
            &self.source.plan,
            NodeSpec::new(&child, &[&parent]),
            move |b| {
                let p = b.handle::<K, V>(&parent)?;
                let h = b.tb.add_processor::<K, V, K, V, _, _>(&node, &[&p], || {
                    OpProcessor(Arc::new(PassThrough))
                })?;
                b.put(&node, h);
                Ok(())
            },
        );
        let stream = self.source.derive(
            child.clone(),
            self.source.key_serde.clone(),
            self.source.value_serde.clone(),
            self.source.repartition_required,
        );
        match branched.chain {
            Some(chain) => {
                if let Some(s) = chain(stream) {
                    self.branches.insert(child, s);
                }
            }
            None => {
                self.branches.insert(child, stream);
            }
        }
    }
}
