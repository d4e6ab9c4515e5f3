//! The left side's subscriptions (Kafka's `SubscriptionSendProcessorSupplier`):
//! [`subscriptions_to_send`] decides, [`SubscriptionSend`] sends.

use std::sync::Arc;

use bytes::Bytes;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::serde::Serializer;

use super::error::ForeignKeyJoinError;
use super::murmur3::hash128;
use super::pseudo_topics::PseudoTopics;
use super::wire::{Instruction, SubscriptionWrapper, SUBSCRIPTION_VERSION};
use crate::change::Change;
use crate::serdes::DynSerde;

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
    pub topics: PseudoTopics,
    pub left_join: bool,
    /// The left table is versioned: its out-of-order updates are skipped (KIP-914).
    pub versioned_semantics: bool,
}

impl<K, V, KO> Processor<K, Change<V>, Option<KO>, SubscriptionWrapper<K>>
    for SubscriptionSend<K, V, KO>
where
    K: Clone + 'static,
    V: 'static,
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
        record: Record<K, Change<V>>,
    ) -> Result<(), BoxError> {
        if self.versioned_semantics && !record.value.is_latest {
            return Ok(());
        }
        let fk_of = |v: &Option<V>| -> Result<Option<Option<(Bytes, KO)>>, BoxError> {
            let Some(v) = v else { return Ok(None) };
            match (self.extractor)(&record.key, v) {
                None => Ok(Some(None)),
                Some(fk) => {
                    let bytes = self
                        .foreign_key_serde
                        .serialize(self.topics.foreign_key(), &fk)?
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
                    .serialize(self.topics.value_hash(), v)?
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
}
