//! Version fix-ups: what a request must look like at the version a broker agreed to, written
//! once beside the protocol instead of at every call site.
//!
//! Each function takes a request built with every field the newest version knows and returns it
//! (and, where the content limits it, the version) ready for the wire. They are plain functions
//! of their arguments.

use super::messages::{InitProducerIdRequest, ProduceRequest, TxnOffsetCommitRequest};
use super::Uuid;

/// Produce v13 (KIP-516) names topics by id only. A request that names a topic without a known
/// id stays at v12; below v13 topics go by name.
pub fn fit_produce_request(mut request: ProduceRequest, version: i16) -> (ProduceRequest, i16) {
    let version = if request.topic_data.iter().any(|t| t.topic_id == Uuid::ZERO) {
        version.min(12)
    } else {
        version
    };
    for t in &mut request.topic_data {
        if version >= 13 {
            t.name.clear();
        } else {
            t.topic_id = Uuid::ZERO;
        }
    }
    (request, version)
}

/// InitProducerId before v3 cannot carry the current producer id and epoch (no KIP-360 bump).
pub fn fit_init_producer_id(
    mut request: InitProducerIdRequest,
    version: i16,
) -> InitProducerIdRequest {
    if version < 3 {
        request.producer_id = -1;
        request.producer_epoch = -1;
    }
    request
}

/// TxnOffsetCommit before v3 has no group metadata (KIP-447), before v2 no leader epochs.
pub fn fit_txn_offset_commit(
    mut request: TxnOffsetCommitRequest,
    version: i16,
) -> TxnOffsetCommitRequest {
    if version < 3 {
        request.generation_id_or_member_epoch = -1;
        request.member_id.clear();
        request.group_instance_id = None;
    }
    if version < 2 {
        for t in &mut request.topics {
            for p in &mut t.partitions {
                p.committed_leader_epoch = -1;
            }
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::produce_request::TopicProduceData;

    fn produce(ids: &[u128]) -> ProduceRequest {
        ProduceRequest {
            topic_data: ids
                .iter()
                .enumerate()
                .map(|(i, id)| TopicProduceData {
                    name: format!("t{i}"),
                    topic_id: Uuid(id.to_be_bytes()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn produce_v13_goes_by_id_and_falls_back_without_one() {
        let (r, v) = fit_produce_request(produce(&[1, 2]), 13);
        assert_eq!(v, 13);
        assert!(r.topic_data.iter().all(|t| t.name.is_empty()));
        let (r, v) = fit_produce_request(produce(&[1, 0]), 13);
        assert_eq!(v, 12);
        assert!(r
            .topic_data
            .iter()
            .all(|t| !t.name.is_empty() && t.topic_id == Uuid::ZERO));
        let (r, v) = fit_produce_request(produce(&[1]), 11);
        assert_eq!(v, 11);
        assert_eq!(r.topic_data[0].name, "t0");
    }

    #[test]
    fn old_init_producer_id_cannot_bump() {
        let r = InitProducerIdRequest {
            producer_id: 7,
            producer_epoch: 3,
            ..Default::default()
        };
        let old = fit_init_producer_id(r.clone(), 2);
        assert_eq!((old.producer_id, old.producer_epoch), (-1, -1));
        let new = fit_init_producer_id(r, 3);
        assert_eq!((new.producer_id, new.producer_epoch), (7, 3));
    }
}
