//! The plan a [`crate::StreamsBuilder`] records: every DSL call names its nodes at once
//! (Kafka's shared index) and queues a step that writes them into streams-core's
//! [`TopologyBuilder`] when the topology is built, in call order (Kafka's graph build
//! order). Errors are collected there, so DSL calls stay infallible.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use streams_core::topology::{NodeHandle, StoreBuilder, TopologyBuilder};

use crate::error::{DslError, SerdeRole};
use crate::names::NameGenerator;
use crate::serdes::{DynSerde, SerdeRegistry};

/// One queued write into the topology builder.
pub(crate) type Step = Box<dyn FnOnce(&mut Build<'_>) -> Result<(), DslError>>;

/// What the builder and every stream of it share.
pub(crate) struct Plan {
    pub names: NameGenerator,
    pub steps: Vec<Step>,
    pub stores: Vec<StoreBuilder>,
    pub serdes: SerdeRegistry,
}

/// The shared plan.
pub(crate) type PlanRef = Rc<RefCell<Plan>>;

impl Plan {
    pub fn new() -> PlanRef {
        Rc::new(RefCell::new(Plan {
            names: NameGenerator::default(),
            steps: Vec::new(),
            stores: Vec::new(),
            serdes: SerdeRegistry::new(),
        }))
    }
}

/// `named`, else a generated processor name with `prefix`.
pub(crate) fn processor_name(plan: &PlanRef, named: Option<String>, prefix: &str) -> String {
    match named {
        Some(n) => n,
        None => plan.borrow_mut().names.processor(prefix),
    }
}

/// Queue `step`.
pub(crate) fn push(
    plan: &PlanRef,
    step: impl FnOnce(&mut Build<'_>) -> Result<(), DslError> + 'static,
) {
    plan.borrow_mut().steps.push(Box::new(step));
}

/// A fixed-topic sink, for the loop check.
pub(crate) struct SinkUse {
    pub sink: String,
    pub topic: String,
    pub intended: bool,
}

/// The state while the plan is written into the topology builder.
pub(crate) struct Build<'a> {
    pub tb: TopologyBuilder,
    handles: HashMap<String, Box<dyn Any>>,
    serdes: &'a SerdeRegistry,
    /// (topic, source node) of every source on named topics.
    pub sources: Vec<(String, String)>,
    pub sinks: Vec<SinkUse>,
}

impl<'a> Build<'a> {
    pub fn new(serdes: &'a SerdeRegistry) -> Self {
        Build {
            tb: TopologyBuilder::new(),
            handles: HashMap::new(),
            serdes,
            sources: Vec::new(),
            sinks: Vec::new(),
        }
    }

    /// The typed handle of node `name` (written by an earlier step).
    pub fn handle<K: 'static, V: 'static>(&self, name: &str) -> Result<NodeHandle<K, V>, DslError> {
        self.handles
            .get(name)
            .and_then(|h| h.downcast_ref::<NodeHandle<K, V>>())
            .copied()
            .ok_or_else(|| DslError::Internal {
                node: name.to_owned(),
                detail: "no node of these record types was written under this name (a stream of another StreamsBuilder?)".into(),
            })
    }

    /// Remember node `name`'s handle for its children.
    pub fn put<K: 'static, V: 'static>(&mut self, name: &str, handle: NodeHandle<K, V>) {
        self.handles.insert(name.to_owned(), Box::new(handle));
    }

    /// `explicit`, else the default serde of `T`, else an error naming `node`.
    pub fn serde<T: 'static>(
        &self,
        explicit: Option<DynSerde<T>>,
        node: &str,
        role: SerdeRole,
        fix: &'static str,
    ) -> Result<DynSerde<T>, DslError> {
        explicit
            .or_else(|| self.serdes.get::<T>())
            .ok_or_else(|| DslError::MissingSerde {
                node: node.to_owned(),
                role,
                type_name: std::any::type_name::<T>(),
                fix,
            })
    }

    /// `explicit`, else the default serde of `T`, if any.
    pub fn optional_serde<T: 'static>(&self, explicit: Option<DynSerde<T>>) -> Option<DynSerde<T>> {
        explicit.or_else(|| self.serdes.get::<T>())
    }

    /// Key and value serdes for `node`.
    pub fn serdes<K: 'static, V: 'static>(
        &self,
        key: Option<DynSerde<K>>,
        value: Option<DynSerde<V>>,
        node: &str,
        fix: &'static str,
    ) -> Result<(DynSerde<K>, DynSerde<V>), DslError> {
        Ok((
            self.serde(key, node, SerdeRole::Key, fix)?,
            self.serde(value, node, SerdeRole::Value, fix)?,
        ))
    }

    /// Refuse a sink to a topic this topology reads, unless intended.
    pub fn check_loops(&self) -> Result<(), DslError> {
        for s in self.sinks.iter().filter(|s| !s.intended) {
            if let Some((_, source)) = self.sources.iter().find(|(t, _)| *t == s.topic) {
                return Err(DslError::SinkToSourceTopic {
                    sink: s.sink.clone(),
                    topic: s.topic.clone(),
                    source_node: source.clone(),
                });
            }
        }
        Ok(())
    }
}
