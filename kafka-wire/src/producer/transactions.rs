//! The transactional producer's requests (transaction version 1: partitions are added with
//! AddPartitionsToTxn before their batches are sent): InitProducerId for a `transactional.id`,
//! AddOffsetsToTxn + TxnOffsetCommit (KIP-447), EndTxn. The decisions are made by
//! [`TransactionManager`](super::transaction_manager::TransactionManager) inside the producer's
//! core; this file only sends and waits. (AddPartitionsToTxn is sent by the sender, when the core
//! asks for it.)

use std::collections::BTreeMap;
use std::time::Instant;

use crate::cluster::coordinator::{Coordinator, CoordinatorType};
use crate::cluster::retry::{RetryDecision, RetryPolicy};
use crate::error::{ClientError, Error, Result};
use crate::group::{ConsumerGroupMetadata, OffsetAndMetadata};
use crate::protocol::messages::add_offsets_to_txn_request::AddOffsetsToTxnRequest;
use crate::protocol::messages::end_txn_request::EndTxnRequest;
use crate::protocol::messages::init_producer_id_request::InitProducerIdRequest;
use crate::protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequest, TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use crate::protocol::versioned::{fit_init_producer_id, fit_txn_offset_commit};
use crate::protocol::ErrorCode;
use crate::topic_partition::group_by_topic;
use crate::TopicPartition;

use super::idempotence::ProducerIdAndEpoch;
use super::transaction_manager::{
    classify, completing_backoff, EndAction, TxnErrorClass, TxnState,
};
use super::{Producer, Shared};

/// Transaction version 1 request versions (the next ones mean transaction version 2, KIP-890).
const MAX_ADD_OFFSETS_VERSION: i16 = 3;
const V1_MAX_END_TXN_VERSION: i16 = 4;
const V1_MAX_TXN_OFFSET_COMMIT_VERSION: i16 = 4;
/// Transaction version 2: EndTxn v5 returns the bumped epoch, TxnOffsetCommit v5 adds the
/// group to the transaction, Produce v12 adds partitions.
const V2_END_TXN_VERSION: i16 = 5;
const V2_TXN_OFFSET_COMMIT_VERSION: i16 = 5;
const V2_PRODUCE_VERSION: i16 = 12;

fn version2(shared: &Shared) -> bool {
    shared
        .core()
        .transactions()
        .is_some_and(|tm| tm.is_version2())
}

/// Apply `f` to the transaction manager (a transactional producer has one).
fn with_tm<T>(
    shared: &Shared,
    f: impl FnOnce(&mut super::transaction_manager::TransactionManager) -> T,
) -> Option<T> {
    shared.core().transactions_mut().map(f)
}

/// Whether the transaction coordinator offers transaction version 2 (KIP-890): the cluster
/// finalized `transaction.version` >= 2 and the broker speaks Produce v12 and EndTxn v5.
async fn detect_version2(coordinator: &Coordinator) -> Result<bool> {
    let node = coordinator.node().await?;
    let conn = coordinator.client().connection(node).await?;
    let v = conn.api_versions();
    Ok(v.feature_level("transaction.version") >= 2
        && v.version(crate::protocol::ApiKey::Produce).unwrap_or(0) >= V2_PRODUCE_VERSION
        && v.version(crate::protocol::ApiKey::EndTxn).unwrap_or(0) >= V2_END_TXN_VERSION)
}

/// The transaction coordinator, or the error for a producer without `transactional.id`.
fn txn<'a>(shared: &'a Shared, operation: &'static str) -> Result<&'a Coordinator> {
    shared.txn_coordinator.as_ref().ok_or_else(|| {
        ClientError::MissingSetting {
            operation,
            key: "transactional.id",
        }
        .into()
    })
}

fn identity(shared: &Shared, operation: &'static str) -> Result<ProducerIdAndEpoch> {
    shared.core().identity().ok_or_else(|| {
        ClientError::NotReady {
            operation,
            first: "init_transactions",
        }
        .into()
    })
}

/// Retry `attempt` while it answers a retriable class, until `max.block.ms`, as the client's
/// [`RetryPolicy`] backs off; the transaction manager's classification says which codes retry.
async fn with_retries<T, F, Fut>(
    shared: &Shared,
    operation: &'static str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<std::result::Result<T, ErrorCode>>>,
{
    let mut policy = RetryPolicy::new(
        operation,
        shared.config.max_block,
        &shared.config.client,
        Instant::now(),
    );
    let coordinator = txn(shared, operation).ok();
    let mut completing_attempts = 0u32;
    loop {
        let mut completing = false;
        let (err, retriable) = match attempt().await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(code)) => match classify(code) {
                TxnErrorClass::Retry | TxnErrorClass::FindCoordinator => {
                    completing = previous_transaction_completing(code);
                    (Error::kafka(operation, "transaction", code, None), true)
                }
                _ => {
                    let err = with_tm(shared, |tm| tm.fail(operation, code, None))
                        .unwrap_or_else(|| Error::kafka(operation, "transaction", code, None));
                    return Err(err);
                }
            },
            Err(e) => {
                let retriable = e.is_retriable() || matches!(e, Error::Connection(_));
                (e, retriable)
            }
        };
        tracing::debug!(operation, error = %err, "transactional request failed");
        let mut decision = policy.decide(err, retriable, Instant::now());
        if let (true, RetryDecision::Retry { wait, .. }) = (completing, &mut decision) {
            *wait = completing_backoff(completing_attempts, *wait);
            completing_attempts += 1;
        }
        shared.client.back_off(decision, coordinator).await?;
    }
}

/// Whether `code` says the previous transaction is still being completed (its markers are
/// being written): CONCURRENT_TRANSACTIONS, or COORDINATOR_LOAD_IN_PROGRESS, which group
/// coordinators answer in its place to TxnOffsetCommit versions before KIP-890: retried after
/// [`completing_backoff`].
fn previous_transaction_completing(code: ErrorCode) -> bool {
    code == ErrorCode::CONCURRENT_TRANSACTIONS || code == ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
}

/// InitProducerId for the `transactional.id`: a new epoch (fencing older instances), or, with
/// `bump`, the next epoch of the current id after an abort (KIP-360).
async fn init_producer_id(shared: &Shared, bump: bool) -> Result<()> {
    let t = txn(shared, "init_transactions")?;
    let current = if bump { shared.core().identity() } else { None };
    let request = InitProducerIdRequest {
        transactional_id: Some(t.key().to_owned()),
        transaction_timeout_ms: i32::try_from(shared.config.transaction_timeout.as_millis())
            .unwrap_or(i32::MAX),
        producer_id: current.map_or(-1, |c| c.producer_id),
        producer_epoch: current.map_or(-1, |c| c.epoch),
        ..Default::default()
    };
    let response = with_retries(shared, "init_transactions", || async {
        let r = t
            .send_versioned(i16::MAX, |v| fit_init_producer_id(request.clone(), v))
            .await?;
        Ok(ErrorCode(r.error_code).into_result().map(|()| r))
    })
    .await?;
    shared.core().set_identity(ProducerIdAndEpoch {
        producer_id: response.producer_id,
        epoch: response.producer_epoch,
    });
    Ok(())
}

impl Producer {
    /// Register the `transactional.id` with its coordinator: fences any older producer with the
    /// same id (its next transactional request fails as fenced) and completes or aborts a
    /// transaction it left open. Call once, before the first transaction.
    pub async fn init_transactions(&self) -> Result<()> {
        let shared = &self.shared;
        txn(shared, "init_transactions")?;
        with_tm(shared, |tm| {
            tm.transition("init_transactions", TxnState::Initializing)
        })
        .transpose()?;
        match init_producer_id(shared, false).await {
            Ok(()) => {
                let v2 = detect_version2(txn(shared, "init_transactions")?).await?;
                tracing::info!(
                    transactional_id = shared.config.transactional_id.as_deref().unwrap_or(""),
                    transaction_version = if v2 { 2 } else { 1 },
                    "transactions initialized"
                );
                with_tm(shared, |tm| {
                    tm.set_version2(v2);
                    tm.transition("init_transactions", TxnState::Ready)
                })
                .transpose()?;
                Ok(())
            }
            Err(e) => {
                if e.transaction_kind().is_none() {
                    // Not initialized: let the caller try again.
                    with_tm(shared, |tm| {
                        let _ = tm.transition("init_transactions", TxnState::AbortableError);
                    });
                }
                Err(e)
            }
        }
    }

    /// Start a transaction: records sent until commit or abort belong to it.
    pub fn begin_transaction(&self) -> Result<()> {
        let shared = &self.shared;
        txn(shared, "begin_transaction")?;
        with_tm(shared, |tm| {
            tm.transition("begin_transaction", TxnState::InTransaction)
        })
        .unwrap_or(Ok(()))
    }

    /// Commit a consumer group's offsets as part of the transaction (consume–transform–produce):
    /// they become visible only if the transaction commits. `group` carries the member's
    /// generation, so a member whose partitions were reassigned is fenced (KIP-447).
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
        group: &ConsumerGroupMetadata,
    ) -> Result<()> {
        let shared = &self.shared;
        let t = txn(shared, "send_offsets_to_transaction")?;
        with_tm(shared, |tm| {
            tm.ensure_in_transaction("send_offsets_to_transaction")
        })
        .transpose()?;
        let id = identity(shared, "send_offsets_to_transaction")?;
        let v2 = version2(shared);
        if v2 {
            // TxnOffsetCommit v5 adds the group to the transaction itself.
            with_tm(shared, |tm| tm.mark_offsets_added());
        }
        let added = with_tm(shared, |tm| tm.offsets_added()).unwrap_or(false);
        if !added {
            let request = AddOffsetsToTxnRequest {
                transactional_id: t.key().to_owned(),
                producer_id: id.producer_id,
                producer_epoch: id.epoch,
                group_id: group.group_id.clone(),
                ..Default::default()
            };
            with_retries(shared, "send_offsets_to_transaction", || async {
                let r = t
                    .send_versioned(MAX_ADD_OFFSETS_VERSION, |_| request.clone())
                    .await?;
                Ok(ErrorCode(r.error_code).into_result())
            })
            .await?;
            with_tm(shared, |tm| tm.mark_offsets_added());
        }
        // TxnOffsetCommit goes to the group's coordinator.
        let group_coordinator = Coordinator::new(
            shared.client.clone(),
            CoordinatorType::Group,
            group.group_id.clone(),
        );
        let topics = group_by_topic(offsets)
            .into_iter()
            .map(|(name, partitions)| TxnOffsetCommitRequestTopic {
                name: name.to_owned(),
                partitions: partitions
                    .into_iter()
                    .map(|(partition_index, om)| TxnOffsetCommitRequestPartition {
                        partition_index,
                        committed_offset: om.offset,
                        committed_leader_epoch: om.leader_epoch.unwrap_or(-1),
                        committed_metadata: Some(om.metadata.clone().unwrap_or_default()),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect();
        let request = TxnOffsetCommitRequest {
            transactional_id: t.key().to_owned(),
            group_id: group.group_id.clone(),
            producer_id: id.producer_id,
            producer_epoch: id.epoch,
            generation_id_or_member_epoch: group.member.generation_id,
            member_id: group.member.member_id.clone(),
            group_instance_id: group.member.group_instance_id.clone(),
            topics,
            ..Default::default()
        };
        with_retries(shared, "send_offsets_to_transaction", || async {
            let r = group_coordinator
                .send_versioned(
                    if v2 {
                        V2_TXN_OFFSET_COMMIT_VERSION
                    } else {
                        V1_MAX_TXN_OFFSET_COMMIT_VERSION
                    },
                    |v| fit_txn_offset_commit(request.clone(), v),
                )
                .await?;
            let worst = r
                .topics
                .iter()
                .flat_map(|t| t.partitions.iter())
                .map(|p| ErrorCode(p.error_code))
                .find(|c| !c.is_ok());
            Ok(match worst {
                None => Ok(()),
                Some(code) => {
                    group_coordinator.check(code);
                    Err(code)
                }
            })
        })
        .await
    }

    /// Wait until every record of the transaction is acknowledged — EndTxn must come after
    /// every Produce of the transaction has been answered — or the transaction failed.
    async fn drain_transaction(&self) {
        self.wait_delivered(|core| core.transaction_failed()).await
    }

    /// Commit the transaction: waits for every record sent in it, then EndTxn(commit). On an
    /// abortable error call [`Producer::abort_transaction`]; on a fatal one close the producer.
    pub async fn commit_transaction(&self) -> Result<()> {
        let shared = &self.shared;
        txn(shared, "commit_transaction")?;
        self.drain_transaction().await;
        let action = with_tm(shared, |tm| tm.begin_commit())
            .transpose()?
            .unwrap_or(EndAction::Local);
        if action == EndAction::SendEndTxn {
            self.end_txn("commit_transaction", true).await?;
        }
        with_tm(shared, |tm| {
            tm.transition("commit_transaction", TxnState::Ready)
        })
        .transpose()?;
        Ok(())
    }

    /// Abort the transaction: records not sent yet are dropped (their delivery futures fail),
    /// then EndTxn(abort) makes the broker write abort markers; read_committed consumers never
    /// see the transaction's records.
    pub async fn abort_transaction(&self) -> Result<()> {
        let shared = &self.shared;
        txn(shared, "abort_transaction")?;
        let action = with_tm(shared, |tm| tm.begin_abort())
            .transpose()?
            .unwrap_or(EndAction::Local);
        // Unsent batches never go out; the ones on the wire are answered before EndTxn,
        // whatever the answer (a batch put back for a retry meanwhile is dropped then).
        shared.core().abort_unsent();
        self.wait_delivered(|core| {
            core.abort_unsent();
            core.all_delivered()
        })
        .await;
        if action == EndAction::SendEndTxn {
            self.end_txn("abort_transaction", false).await?;
        }
        // Sequences of abandoned batches are gone: continue under a bumped epoch (KIP-360);
        // under version 2 the EndTxn answer already carried one.
        let bump = shared.core().bump_needed() && !version2(shared);
        if bump {
            with_tm(shared, |tm| {
                tm.transition("abort_transaction", TxnState::Initializing)
            })
            .transpose()?;
            init_producer_id(shared, true).await?;
        }
        with_tm(shared, |tm| {
            tm.transition("abort_transaction", TxnState::Ready)
        })
        .transpose()?;
        Ok(())
    }

    async fn end_txn(&self, operation: &'static str, commit: bool) -> Result<()> {
        let shared = &self.shared;
        let t = txn(shared, operation)?;
        let id = identity(shared, operation)?;
        let request = EndTxnRequest {
            transactional_id: t.key().to_owned(),
            producer_id: id.producer_id,
            producer_epoch: id.epoch,
            committed: commit,
            ..Default::default()
        };
        let v2 = version2(shared);
        let max = if v2 {
            V2_END_TXN_VERSION
        } else {
            V1_MAX_END_TXN_VERSION
        };
        let response = with_retries(shared, operation, || async {
            let r = t.send_versioned(max, |_| request.clone()).await?;
            Ok(ErrorCode(r.error_code).into_result().map(|()| r))
        })
        .await?;
        if v2 && response.producer_id >= 0 {
            // Version 2 bumps the epoch at every end: the next transaction uses it, with
            // sequences from 0.
            shared.core().set_identity(ProducerIdAndEpoch {
                producer_id: response.producer_id,
                epoch: response.producer_epoch,
            });
        }
        Ok(())
    }
}
