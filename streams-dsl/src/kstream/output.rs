//! Where a stream ends or leaves the DSL: `to` (a topic or a topic-name extractor),
//! `foreach`, `print`, and `process`/`process_values` into the Processor API.

use std::sync::Arc;

use streams_core::processor::Processor;
use streams_core::record::{Record, RecordMetadata};

use super::KStream;
use crate::names;
use crate::options::{Named, Printed, Produced};
use crate::plan::{processor_name, processor_name_or_draw, push, NodeSpec, Role, SinkUse};
use crate::processors::ops::{Foreach, Print};

const PRODUCED_FIX: &str = "Produced::with(key_serde, value_serde)";

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Write every record to `topic` with the stream's serdes, else the defaults for `K`
    /// and `V` (Kafka's `to(topic)`).
    pub fn to(&self, topic: &str) {
        self.to_with(topic, Produced::default());
    }

    /// Write every record to `topic` as `produced` says (Kafka's `to(topic, Produced)`).
    pub fn to_with(&self, topic: &str, produced: Produced<K, V>) {
        let name = processor_name(&self.plan, produced.name.clone(), names::SINK);
        let parent = self.name.clone();
        let topic = topic.to_owned();
        let key = produced.key_serde.or_else(|| self.key_serde.clone());
        let value = produced.value_serde.or_else(|| self.value_serde.clone());
        let (partitioner, intended) = (produced.partitioner, produced.repartition_intent);
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let (ks, vs) = b.serdes(key, value, &name, PRODUCED_FIX)?;
            let p = b.handle::<K, V>(&parent)?;
            match partitioner {
                Some(part) => {
                    b.tb.add_sink_partitioned(&name, &topic, ks, vs, part, &[&p])?
                }
                None => b.tb.add_sink(&name, &topic, ks, vs, &[&p])?,
            }
            b.sinks.push(SinkUse {
                sink: name,
                topic,
                intended,
            });
            Ok(())
        });
    }

    /// Write each record to the topic `extractor` names for it (Kafka's `to` with a
    /// `TopicNameExtractor`); the extractor sees the record and where it was read.
    pub fn to_extractor(
        &self,
        extractor: impl Fn(&Record<K, V>, Option<&RecordMetadata>) -> String + Send + Sync + 'static,
        produced: Produced<K, V>,
    ) {
        let name = processor_name(&self.plan, produced.name.clone(), names::SINK);
        let parent = self.name.clone();
        let key = produced.key_serde.or_else(|| self.key_serde.clone());
        let value = produced.value_serde.or_else(|| self.value_serde.clone());
        let partitioner = produced.partitioner;
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let (ks, vs) = b.serdes(key, value, &name, PRODUCED_FIX)?;
            let p = b.handle::<K, V>(&parent)?;
            b.tb.add_sink_with(&name, Arc::new(extractor), ks, vs, partitioner, &[&p])?;
            Ok(())
        });
    }

    /// Call `action` on each record; the stream ends here (Kafka's `foreach`).
    pub fn foreach(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) {
        self.foreach_named(action, Named::empty());
    }

    /// [`foreach`](Self::foreach) with a processor name.
    pub fn foreach_named(&self, action: impl Fn(&K, &V) + Send + Sync + 'static, named: Named) {
        let name = processor_name(&self.plan, named.name, names::FOREACH);
        self.add_op::<(), (), _>(&name, Foreach(action), Role::Plain);
    }

    /// Print each record as `[<label>]: <key>, <value>` (Kafka's `print`); the label
    /// defaults to this stream's node name.
    pub fn print(&self, printed: Printed<K, V>) {
        let name = processor_name(&self.plan, printed.name.clone(), names::PRINTER);
        let op = Print {
            label: printed.label.unwrap_or_else(|| self.name.clone()),
            mapper: printed.mapper,
            target: printed.target,
        };
        self.add_op::<(), (), _>(&name, op, Role::Plain);
    }

    /// Run a Processor API processor on each record (Kafka's `process`): `supplier` makes one
    /// per task; it may use the stores named in `stores` (added with
    /// [`crate::StreamsBuilder::add_state_store`]) and forward any key, so grouping after it
    /// repartitions.
    pub fn process<KOut, VOut, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<KOut, VOut>
    where
        KOut: Clone + 'static,
        VOut: Clone + 'static,
        P: Processor<K, V, KOut, VOut>,
    {
        self.process_named(supplier, Named::empty(), stores)
    }

    /// [`process`](Self::process) with a processor name.
    pub fn process_named<KOut, VOut, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        named: Named,
        stores: &[&str],
    ) -> KStream<KOut, VOut>
    where
        KOut: Clone + 'static,
        VOut: Clone + 'static,
        P: Processor<K, V, KOut, VOut>,
    {
        let name = processor_name_or_draw(&self.plan, named.name, names::PROCESSOR);
        self.add_processor::<KOut, VOut, P>(&name, supplier, stores);
        self.derive(name, None, None, true)
    }

    /// Run a processor that keeps each record's key (Kafka's `processValues`): the stream
    /// keeps its key serde and needs no repartition. Kafka's `FixedKeyRecord` makes a key
    /// change impossible; here the processor is trusted to forward the key it was given.
    pub fn process_values<VOut, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<K, VOut>
    where
        VOut: Clone + 'static,
        P: Processor<K, V, K, VOut>,
    {
        self.process_values_named(supplier, Named::empty(), stores)
    }

    /// [`process_values`](Self::process_values) with a processor name.
    pub fn process_values_named<VOut, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        named: Named,
        stores: &[&str],
    ) -> KStream<K, VOut>
    where
        VOut: Clone + 'static,
        P: Processor<K, V, K, VOut>,
    {
        let name = processor_name_or_draw(&self.plan, named.name, names::PROCESS_VALUES);
        self.add_processor::<K, VOut, P>(&name, supplier, stores);
        self.derive(
            name,
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }

    fn add_processor<KOut, VOut, P>(
        &self,
        name: &str,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) where
        KOut: Clone + 'static,
        VOut: Clone + 'static,
        P: Processor<K, V, KOut, VOut>,
    {
        let parent = self.name.clone();
        let name = name.to_owned();
        let stores: Vec<String> = stores.iter().map(|s| (*s).to_owned()).collect();
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let p = b.handle::<K, V>(&parent)?;
            let h =
                b.tb.add_processor::<K, V, KOut, VOut, P, _>(&name, &[&p], supplier)?;
            b.put(&name, h);
            let stores: Vec<&str> = stores.iter().map(String::as_str).collect();
            b.tb.connect_processor_and_state_stores(&name, &stores)?;
            Ok(())
        });
    }
}
