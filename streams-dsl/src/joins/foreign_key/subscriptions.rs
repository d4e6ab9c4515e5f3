//! The right side (Kafka's `SubscriptionReceiveProcessorSupplier`,
//! `SubscriptionJoinProcessorSupplier`, `ForeignTableJoinProcessorSupplier`): the
//! subscription store, the answer to each subscription ([`response_to_send`] decides) and the
//! fan-out of each right-table update to its subscribers.

use bytes::Bytes;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::serde::{Deserializer, Serializer};
use streams_core::state::StoreHandle;

use super::error::ForeignKeyJoinError;
use super::pseudo_topics::PseudoTopics;
use super::wire::{
    combined_key, combined_key_prefix, primary_key_of, Instruction, SubscriptionResponseWrapper,
    SubscriptionWrapper, SUBSCRIPTION_VERSION,
};
use crate::change::Change;
use crate::joins::value_getter::ValueGetterRef;
use crate::serdes::DynSerde;

/// The subscription store's entries, by combined key.
pub(crate) type SubscriptionStore<K> = StoreHandle<Bytes, SubscriptionWrapper<K>>;

/// `KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-…` (receive, Kafka's
/// `SubscriptionReceiveProcessorSupplier`): keeps or drops the subscription in the store by
/// combined key and passes it on, keyed by `(foreign key, primary key)`.
pub(crate) struct SubscriptionReceive<K, KO> {
    pub node: String,
    pub store: SubscriptionStore<K>,
    pub foreign_key_serde: DynSerde<KO>,
    pub primary_key_serde: DynSerde<K>,
    pub topics: PseudoTopics,
}

impl<K, KO> Processor<Option<KO>, SubscriptionWrapper<K>, Option<KO>, SubscriptionWrapper<K>>
    for SubscriptionReceive<K, KO>
where
    K: Clone + 'static,
    KO: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Option<KO>, SubscriptionWrapper<K>>,
    ) -> Result<(), BoxError> {
        self.topics.init(ctx.application_id());
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Option<KO>, SubscriptionWrapper<K>>,
        record: Record<Option<KO>, SubscriptionWrapper<K>>,
    ) -> Result<(), BoxError> {
        let sub = &record.value;
        // A null foreign key (also a key type whose serde writes null, `Option<_>` keys):
        // only a left join's ask passes, without touching the store.
        let key = record
            .key
            .as_ref()
            .filter(|k| !self.foreign_key_serde.is_null(k));
        if key.is_none() && sub.instruction != Instruction::PropagateNullIfNoFkValAvailable {
            return Ok(());
        }
        if sub.version > SUBSCRIPTION_VERSION {
            return Err(Box::new(ForeignKeyJoinError::UnsupportedVersion {
                what: "a subscription",
                version: sub.version,
                node: self.node.clone(),
            }));
        }
        if let Some(fk) = key {
            let null = |what| ForeignKeyJoinError::NullBytes {
                node: self.node.clone(),
                what,
            };
            let fk = self
                .foreign_key_serde
                .serialize(self.topics.foreign_key(), fk)?
                .ok_or_else(|| null("foreign key"))?;
            let pk = self
                .primary_key_serde
                .serialize(self.topics.primary_key(), &sub.primary_key)?
                .ok_or_else(|| null("primary key"))?;
            let key = combined_key(&fk, &pk)?;
            let mut store = ctx.timestamped_key_value_store(&self.store)?;
            if sub.instruction.deletes() {
                store.put(&key, None, record.timestamp)?;
            } else {
                store.put(&key, Some(sub), record.timestamp)?;
            }
        }
        ctx.forward(record)?;
        Ok(())
    }
}

/// What a subscription is answered with (Kafka's `SubscriptionJoinProcessorSupplier`):
/// `None` nothing, `Some(true)` the foreign value, `Some(false)` no value.
pub(crate) fn response_to_send(instruction: Instruction, has_foreign: bool) -> Option<bool> {
    match instruction {
        Instruction::DeleteKeyAndPropagate => Some(false),
        Instruction::PropagateNullIfNoFkValAvailable => Some(has_foreign),
        Instruction::PropagateOnlyIfFkValAvailable => has_foreign.then_some(true),
        Instruction::DeleteKeyNoPropagate => None,
    }
}

/// `KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-…` (join-foreign): answers a subscription with the
/// right table's current value, at the later of the two timestamps.
pub(crate) struct SubscriptionJoinForeign<K, KO, VO> {
    pub foreign: ValueGetterRef<KO, VO>,
    pub _k: std::marker::PhantomData<fn(K)>,
}

impl<K, KO, VO> Processor<Option<KO>, SubscriptionWrapper<K>, K, SubscriptionResponseWrapper<VO>>
    for SubscriptionJoinForeign<K, KO, VO>
where
    K: Clone + 'static,
    KO: 'static,
    VO: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, SubscriptionResponseWrapper<VO>>,
        record: Record<Option<KO>, SubscriptionWrapper<K>>,
    ) -> Result<(), BoxError> {
        let foreign = match &record.key {
            Some(fk) => self.foreign.get(&mut ctx.store_access(), fk)?,
            None => None,
        };
        let Some(with_value) = response_to_send(record.value.instruction, foreign.is_some()) else {
            return Ok(());
        };
        let timestamp = foreign
            .as_ref()
            .map_or(record.timestamp, |f| f.timestamp.max(record.timestamp));
        let sub = record.value;
        ctx.forward(Record {
            key: sub.primary_key,
            value: SubscriptionResponseWrapper {
                hash: sub.hash,
                foreign_value: if with_value {
                    foreign.map(|f| f.value)
                } else {
                    None
                },
                version: super::wire::RESPONSE_VERSION,
                primary_partition: sub.primary_partition,
            },
            timestamp,
            headers: record.headers,
        })?;
        Ok(())
    }
}

/// `KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-…` (foreign-join-subscription, Kafka's
/// `ForeignTableJoinProcessorSupplier`): a right-table update is sent to every subscriber of
/// its key, at the update's timestamp.
pub(crate) struct ForeignTableJoin<K, KO> {
    pub node: String,
    pub store: SubscriptionStore<K>,
    pub foreign_key_serde: DynSerde<KO>,
    pub primary_key_serde: DynSerde<K>,
    pub topics: PseudoTopics,
    /// The right table is versioned: its out-of-order updates are skipped (KIP-914).
    pub versioned_semantics: bool,
}

impl<K, KO, VO> Processor<KO, Change<VO>, K, SubscriptionResponseWrapper<VO>>
    for ForeignTableJoin<K, KO>
where
    K: Clone + 'static,
    KO: 'static,
    VO: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, SubscriptionResponseWrapper<VO>>,
    ) -> Result<(), BoxError> {
        self.topics.init(ctx.application_id());
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, SubscriptionResponseWrapper<VO>>,
        record: Record<KO, Change<VO>>,
    ) -> Result<(), BoxError> {
        if self.foreign_key_serde.is_null(&record.key) {
            return Ok(());
        }
        if self.versioned_semantics && !record.value.is_latest {
            return Ok(());
        }
        let fk = self
            .foreign_key_serde
            .serialize(self.topics.foreign_key(), &record.key)?
            .ok_or_else(|| ForeignKeyJoinError::NullBytes {
                node: self.node.clone(),
                what: "foreign key",
            })?;
        let prefix = combined_key_prefix(&fk)?;
        let subscribers = ctx
            .timestamped_key_value_store(&self.store)?
            .prefix_scan_bytes(&prefix)?;
        for (key, sub) in subscribers {
            let pk = self
                .primary_key_serde
                .deserialize(self.topics.primary_key(), Some(primary_key_of(&key)?))?;
            ctx.forward(Record {
                key: pk,
                value: SubscriptionResponseWrapper {
                    hash: sub.value.hash,
                    foreign_value: record.value.new.clone(),
                    version: super::wire::RESPONSE_VERSION,
                    primary_partition: sub.value.primary_partition,
                },
                timestamp: record.timestamp,
                headers: record.headers.clone(),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Instruction::*;

    #[test]
    fn answers_are_kafkas() {
        assert_eq!(response_to_send(DeleteKeyAndPropagate, true), Some(false));
        assert_eq!(response_to_send(DeleteKeyNoPropagate, true), None);
        assert_eq!(response_to_send(PropagateOnlyIfFkValAvailable, false), None);
        assert_eq!(
            response_to_send(PropagateOnlyIfFkValAvailable, true),
            Some(true)
        );
        assert_eq!(
            response_to_send(PropagateNullIfNoFkValAvailable, false),
            Some(false)
        );
    }
}
