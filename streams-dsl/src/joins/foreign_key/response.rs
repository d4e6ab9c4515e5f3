//! The left side's answers (Kafka's `ResponseJoinProcessorSupplier`): [`resolve_response`]
//! decides whether an answer is current, [`ResponseJoin`] joins it with the left row.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::serde::Serializer;

use super::error::ForeignKeyJoinError;
use super::murmur3::{hash128, ValueHash};
use super::pseudo_topics::PseudoTopics;
use super::wire::SubscriptionResponseWrapper;
use crate::joins::value_getter::ValueGetterRef;
use crate::serdes::DynSerde;

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
    pub topics: PseudoTopics,
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
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Option<VR>>) -> Result<(), BoxError> {
        self.topics.init(ctx.application_id());
        Ok(())
    }

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
                    .serialize(self.topics.value_hash(), &c.value)?
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
