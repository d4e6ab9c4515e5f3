//! The processors of a foreign-key join (Kafka's `foreignkeyjoin` package), each decision in
//! a plain function: [`subscriptions_to_send`] (left updates → subscriptions),
//! [`response_to_send`] (a subscription → an answer), [`resolve_response`] (an answer → the
//! joined row, or dropped when stale).

use std::sync::Arc;

use bytes::Bytes;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::serde::{Deserializer, Serializer};
use streams_core::state::StoreHandle;

use super::murmur3::{hash128, ValueHash};
use super::wire::{
    combined_key, combined_key_prefix, primary_key_of, Instruction, SubscriptionResponseWrapper,
    SubscriptionWrapper, SUBSCRIPTION_VERSION,
};
use crate::change::Change;
use crate::joins::value_getter::ValueGetterRef;
use crate::serdes::DynSerde;

/// A foreign-key join failing on a record it cannot handle.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForeignKeyJoinError {
    /// A subscription or response of a version this crate cannot read.
    #[error("{what} of version {version} on the internal topic of {node}: written by a newer Kafka Streams; upgrade this application before the writer")]
    UnsupportedVersion {
        what: &'static str,
        version: u8,
        node: String,
    },
    /// A key or value that serialized to null where bytes are needed.
    #[error("{node}: the {what} serialized to null; the serde must write bytes for every value")]
    NullBytes { node: String, what: &'static str },
}

/// The extractor of a left value's foreign key (`None`: no foreign key).
pub(crate) type ForeignKeyExtractor<K, V, KO> = Arc<dyn Fn(&K, &V) -> Option<KO> + Send + Sync>;

/// The subscriptions a left update sends (Kafka's `SubscriptionSendProcessorSupplier`): the
/// old and the new foreign key (`None` = no value; `Some(None)` = a value without a foreign
/// key), compared by their serialized bytes `F`; each output is the foreign key to send to
/// (`None` only for a left join's row without one) and its instruction.
pub(crate) fn subscriptions_to_send<F: PartialEq + Clone>(
    left_join: bool,
    old: Option<Option<F>>,
    new: Option<Option<F>>,
) -> Vec<(Option<F>, Instruction)> {
    use Instruction::*;
    let mut out = Vec::new();
    if left_join {
        match (old, new) {
            (Some(old_fk), new) => {
                let new_fk = new.flatten();
                if let Some(o) = &old_fk {
                    if new_fk.as_ref() != Some(o) {
                        // Kafka 4.x: the new subscription (a null-key one for a deleted row)
                        // answers for the row, so the old one goes quietly.
                        out.push((old_fk.clone(), DeleteKeyNoPropagate));
                    }
                }
                out.push((new_fk, PropagateNullIfNoFkValAvailable));
            }
            (None, Some(new_fk)) => out.push((new_fk, PropagateNullIfNoFkValAvailable)),
            (None, None) => {}
        }
        return out;
    }
    // Kafka 4.x: an old row without a foreign key subscribed nowhere (as no old row).
    match (old.flatten(), new) {
        (Some(old_fk), Some(Some(new_fk))) => {
            if new_fk != old_fk {
                out.push((Some(old_fk), DeleteKeyNoPropagate));
                out.push((Some(new_fk), PropagateNullIfNoFkValAvailable));
            } else {
                // The same foreign key: no foreign row means there was no joined row either.
                out.push((Some(new_fk), PropagateOnlyIfFkValAvailable));
            }
        }
        // Deleted, or no foreign key any more: the row leaves the join.
        (Some(old_fk), _) => out.push((Some(old_fk), DeleteKeyAndPropagate)),
        (None, Some(Some(new_fk))) => out.push((Some(new_fk), PropagateOnlyIfFkValAvailable)),
        (None, _) => {}
    }
    out
}

#[derive(Clone)]
/// `KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-…`: each left update becomes subscriptions keyed
/// by foreign key, carrying the hash of the new left value.
pub(crate) struct SubscriptionSend<K, V, KO> {
    pub node: String,
    pub extractor: ForeignKeyExtractor<K, V, KO>,
    pub foreign_key_serde: DynSerde<KO>,
    pub value_serde: DynSerde<V>,
    /// The pseudo-topics foreign keys and values are serialized for.
    pub foreign_key_topic: String,
    pub value_topic: String,
    pub left_join: bool,
}

impl<K, V, KO> Processor<K, Change<V>, Option<KO>, SubscriptionWrapper<K>>
    for SubscriptionSend<K, V, KO>
where
    K: Clone + 'static,
    V: 'static,
    KO: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Option<KO>, SubscriptionWrapper<K>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), BoxError> {
        let fk_of = |v: &Option<V>| -> Result<Option<Option<(Bytes, KO)>>, BoxError> {
            let Some(v) = v else { return Ok(None) };
            match (self.extractor)(&record.key, v) {
                None => Ok(Some(None)),
                Some(fk) => {
                    let bytes = self
                        .foreign_key_serde
                        .serialize(&self.foreign_key_topic, &fk)?
                        .unwrap_or_default();
                    Ok(Some(Some((bytes, fk))))
                }
            }
        };
        let old = fk_of(&record.value.old)?;
        let new = fk_of(&record.value.new)?;
        let sends = subscriptions_to_send(
            self.left_join,
            old.clone().map(|o| o.map(|(b, _)| b)),
            new.clone().map(|n| n.map(|(b, _)| b)),
        );
        if sends.is_empty() {
            return Ok(());
        }
        let hash = match &record.value.new {
            Some(v) => {
                let bytes = self
                    .value_serde
                    .serialize(&self.value_topic, v)?
                    .ok_or_else(|| ForeignKeyJoinError::NullBytes {
                        node: self.node.clone(),
                        what: "left value",
                    })?;
                Some(hash128(&bytes))
            }
            None => None,
        };
        // The left row's partition: the record's, or, when a cache flush forwards the update
        // (Kafka keeps the cached record's context), the task's, which is the partition of
        // every source topic the task reads.
        let partition = ctx
            .record_metadata()
            .map_or(ctx.task_id().partition, |m| m.partition);
        let keys: Vec<(Bytes, KO)> = old.into_iter().chain(new).flatten().collect();
        for (fk_bytes, instruction) in sends {
            let fk =
                fk_bytes.and_then(|b| keys.iter().find(|(k, _)| *k == b).map(|(_, fk)| fk.clone()));
            ctx.forward(Record {
                key: fk,
                value: SubscriptionWrapper {
                    hash,
                    instruction,
                    primary_key: record.key.clone(),
                    primary_partition: Some(partition),
                    version: SUBSCRIPTION_VERSION,
                },
                timestamp: record.timestamp,
                headers: record.headers.clone(),
            })?;
        }
        Ok(())
    }
}

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
    pub foreign_key_topic: String,
    pub primary_key_topic: String,
}

impl<K, KO> Processor<Option<KO>, SubscriptionWrapper<K>, Option<KO>, SubscriptionWrapper<K>>
    for SubscriptionReceive<K, KO>
where
    K: Clone + 'static,
    KO: Clone + 'static,
{
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
                .serialize(&self.foreign_key_topic, fk)?
                .ok_or_else(|| null("foreign key"))?;
            let pk = self
                .primary_key_serde
                .serialize(&self.primary_key_topic, &sub.primary_key)?
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
    pub foreign_key_topic: String,
    pub primary_key_topic: String,
}

impl<K, KO, VO> Processor<KO, Change<VO>, K, SubscriptionResponseWrapper<VO>>
    for ForeignTableJoin<K, KO>
where
    K: Clone + 'static,
    KO: 'static,
    VO: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, SubscriptionResponseWrapper<VO>>,
        record: Record<KO, Change<VO>>,
    ) -> Result<(), BoxError> {
        if self.foreign_key_serde.is_null(&record.key) {
            return Ok(());
        }
        let fk = self
            .foreign_key_serde
            .serialize(&self.foreign_key_topic, &record.key)?
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
                .deserialize(&self.primary_key_topic, Some(primary_key_of(&key)?))?;
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

/// What the left side makes of an answer (Kafka's `ResponseJoinProcessorSupplier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// The left value changed since the subscription: a newer answer is coming.
    DropStale,
    /// The row is gone (inner join without a foreign value, or no left value).
    Tombstone,
    /// Join the current left value (if any) with the foreign value (if any).
    Join,
}

/// Kafka's decision: the answer counts only when its hash is the current left value's.
pub(crate) fn resolve_response(
    message_hash: Option<&ValueHash>,
    current_hash: Option<&ValueHash>,
    has_foreign: bool,
    has_current: bool,
    left_join: bool,
) -> Resolution {
    if message_hash != current_hash {
        Resolution::DropStale
    } else if !has_foreign && (!left_join || !has_current) {
        Resolution::Tombstone
    } else {
        Resolution::Join
    }
}

/// The joiner of a foreign-key join: the left value and the foreign value; `None` for no row.
pub(crate) type ForeignKeyJoiner<V, VO, VR> =
    Arc<dyn Fn(Option<&V>, Option<&VO>) -> Option<VR> + Send + Sync>;

/// `KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-…`: joins an answer with the
/// current left value, dropping stale answers.
pub(crate) struct ResponseJoin<K, V, VO, VR> {
    pub node: String,
    pub left: ValueGetterRef<K, V>,
    pub value_serde: DynSerde<V>,
    pub value_topic: String,
    pub joiner: ForeignKeyJoiner<V, VO, VR>,
    pub left_join: bool,
}

impl<K, V, VO, VR> Processor<K, SubscriptionResponseWrapper<VO>, K, Option<VR>>
    for ResponseJoin<K, V, VO, VR>
where
    K: Clone + 'static,
    V: 'static,
    VO: 'static,
    VR: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Option<VR>>,
        record: Record<K, SubscriptionResponseWrapper<VO>>,
    ) -> Result<(), BoxError> {
        if record.value.version != super::wire::RESPONSE_VERSION {
            return Err(Box::new(ForeignKeyJoinError::UnsupportedVersion {
                what: "a response",
                version: record.value.version,
                node: self.node.clone(),
            }));
        }
        let current = self.left.get(&mut ctx.store_access(), &record.key)?;
        let current_hash = match &current {
            Some(c) => {
                let bytes = self
                    .value_serde
                    .serialize(&self.value_topic, &c.value)?
                    .ok_or_else(|| ForeignKeyJoinError::NullBytes {
                        node: self.node.clone(),
                        what: "left value",
                    })?;
                Some(hash128(&bytes))
            }
            None => None,
        };
        let resp = &record.value;
        let result = match resolve_response(
            resp.hash.as_ref(),
            current_hash.as_ref(),
            resp.foreign_value.is_some(),
            current.is_some(),
            self.left_join,
        ) {
            Resolution::DropStale => return Ok(()),
            Resolution::Tombstone => None,
            Resolution::Join => (self.joiner)(
                current.as_ref().map(|c| &c.value),
                resp.foreign_value.as_ref(),
            ),
        };
        ctx.forward(Record {
            key: record.key,
            value: result,
            timestamp: record.timestamp,
            headers: record.headers,
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Instruction::*;

    #[test]
    fn inner_join_subscriptions_are_kafkas() {
        let s = |o, n| subscriptions_to_send::<&str>(false, o, n);
        // A new row subscribes only if the foreign row exists.
        assert_eq!(
            s(None, Some(Some("A"))),
            vec![(Some("A"), PropagateOnlyIfFkValAvailable)]
        );
        // A foreign-key change unsubscribes quietly, then subscribes.
        assert_eq!(
            s(Some(Some("A")), Some(Some("B"))),
            vec![
                (Some("A"), DeleteKeyNoPropagate),
                (Some("B"), PropagateNullIfNoFkValAvailable)
            ]
        );
        // The same foreign key: one subscription, answered only with a foreign row.
        assert_eq!(
            s(Some(Some("A")), Some(Some("A"))),
            vec![(Some("A"), PropagateOnlyIfFkValAvailable)]
        );
        // A deleted row unsubscribes and propagates the deletion.
        assert_eq!(
            s(Some(Some("A")), None),
            vec![(Some("A"), DeleteKeyAndPropagate)]
        );
        // A null foreign key: no subscription; losing the foreign key leaves the join.
        assert!(s(None, Some(None)).is_empty());
        assert_eq!(
            s(Some(None), Some(Some("A"))),
            vec![(Some("A"), PropagateOnlyIfFkValAvailable)]
        );
        assert_eq!(
            s(Some(Some("A")), Some(None)),
            vec![(Some("A"), DeleteKeyAndPropagate)]
        );
    }

    #[test]
    fn left_join_subscriptions_are_kafkas() {
        let s = |o, n| subscriptions_to_send::<&str>(true, o, n);
        // A row without a foreign key still asks (and is answered with no value).
        assert_eq!(
            s(None, Some(None)),
            vec![(None, PropagateNullIfNoFkValAvailable)]
        );
        assert_eq!(
            s(Some(Some("A")), Some(None)),
            vec![
                (Some("A"), DeleteKeyNoPropagate),
                (None, PropagateNullIfNoFkValAvailable)
            ]
        );
        assert_eq!(
            s(Some(Some("A")), Some(Some("B"))),
            vec![
                (Some("A"), DeleteKeyNoPropagate),
                (Some("B"), PropagateNullIfNoFkValAvailable)
            ]
        );
        // A deleted row: unsubscribed, then a null-key ask that resolves to a tombstone.
        assert_eq!(
            s(Some(Some("A")), None),
            vec![
                (Some("A"), DeleteKeyNoPropagate),
                (None, PropagateNullIfNoFkValAvailable)
            ]
        );
        assert_eq!(
            s(Some(None), Some(None)),
            vec![(None, PropagateNullIfNoFkValAvailable)]
        );
    }

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

    #[test]
    fn stale_answers_are_dropped() {
        let (a, b) = ([1u8; 16], [2u8; 16]);
        assert_eq!(
            resolve_response(Some(&a), Some(&b), true, true, false),
            Resolution::DropStale
        );
        assert_eq!(
            resolve_response(Some(&a), None, true, false, true),
            Resolution::DropStale
        );
        assert_eq!(
            resolve_response(Some(&a), Some(&a), true, true, false),
            Resolution::Join
        );
        assert_eq!(
            resolve_response(Some(&a), Some(&a), false, true, false),
            Resolution::Tombstone
        );
        assert_eq!(
            resolve_response(Some(&a), Some(&a), false, true, true),
            Resolution::Join
        );
        assert_eq!(
            resolve_response(None, None, false, false, true),
            Resolution::Tombstone
        );
    }
}
