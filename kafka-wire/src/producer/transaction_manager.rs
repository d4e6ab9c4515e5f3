//! The transactional producer's state machine (the Java client's `TransactionManager`), with no
//! I/O: which state the producer is in, which transitions are allowed, which partitions still
//! have to be added to the transaction (AddPartitionsToTxn) before their batches may be sent,
//! and how each broker error is classified.
//!
//! ```text
//! Uninitialized ──init──▶ Initializing ──▶ Ready ──begin──▶ InTransaction ──commit──▶ Committing ──▶ Ready
//!                              ▲                               │    │                  │
//!                              │                               │    └──abort──▶ Aborting ──▶ Ready
//!                              └─── (epoch bump after abort) ──┘                    ▲
//!                                       InTransaction / Committing ──error──▶ AbortableError
//!                                                          any ──fencing──▶ FatalError
//! ```

use std::collections::BTreeSet;
use std::time::Duration;

use crate::error::{ClientError, Error, TransactionErrorKind};
use crate::protocol::ErrorCode;
use crate::TopicPartition;

/// Where the transactional producer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    /// `init_transactions` not called yet.
    Uninitialized,
    /// InitProducerId in progress.
    Initializing,
    /// Initialized, no transaction open.
    Ready,
    /// Between `begin_transaction` and commit/abort.
    InTransaction,
    /// EndTxn(commit) in progress.
    CommittingTransaction,
    /// EndTxn(abort) in progress.
    AbortingTransaction,
    /// The open transaction cannot commit; only abort is allowed.
    AbortableError,
    /// The producer is unusable.
    FatalError,
}

impl TxnState {
    fn can_go_to(self, target: TxnState) -> bool {
        use TxnState::*;
        match target {
            Uninitialized => false,
            Initializing => matches!(self, Uninitialized | AbortingTransaction | Ready),
            Ready => matches!(
                self,
                Initializing | CommittingTransaction | AbortingTransaction
            ),
            InTransaction => self == Ready,
            CommittingTransaction => self == InTransaction,
            AbortingTransaction => matches!(self, InTransaction | AbortableError),
            AbortableError => matches!(
                self,
                InTransaction | CommittingTransaction | AbortableError | Initializing
            ),
            FatalError => true,
        }
    }
}

/// What ending the transaction needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndAction {
    /// Send EndTxn to the coordinator.
    SendEndTxn,
    /// Nothing was added to the transaction: it ends locally, no request needed.
    Local,
}

/// How to handle an error code from a transactional request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnErrorClass {
    /// Retry after a backoff (coordinator loading, concurrent transactions, …).
    Retry,
    /// The coordinator moved: look it up again, then retry.
    FindCoordinator,
    /// The transaction must be aborted.
    Abortable,
    /// The producer must be closed.
    Fatal,
}

/// How long to wait before attempt `attempt + 1` (0-based) of a request the broker refused
/// because the previous transaction is still being completed (its markers are being
/// written, which takes milliseconds): 5 ms, doubling per attempt, never more than `full`
/// (`retry.backoff.ms`). Java's producer shortens the same wait for AddPartitionsToTxn to
/// 20 ms; waiting the whole `retry.backoff.ms` stalls every commit that races the last one.
pub fn completing_backoff(attempt: u32, full: Duration) -> Duration {
    Duration::from_millis(5)
        .saturating_mul(1 << attempt.min(10))
        .min(full)
}

/// Classify an error code from AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn or
/// InitProducerId, as the Java client does.
pub fn classify(code: ErrorCode) -> TxnErrorClass {
    match code {
        ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => {
            TxnErrorClass::FindCoordinator
        }
        ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
        | ErrorCode::CONCURRENT_TRANSACTIONS
        | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
        | ErrorCode::OPERATION_NOT_ATTEMPTED
        | ErrorCode::REQUEST_TIMED_OUT
        | ErrorCode::UNSTABLE_OFFSET_COMMIT => TxnErrorClass::Retry,
        ErrorCode::PRODUCER_FENCED
        | ErrorCode::INVALID_PRODUCER_EPOCH
        | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        | ErrorCode::CLUSTER_AUTHORIZATION_FAILED
        | ErrorCode::INVALID_TXN_STATE
        | ErrorCode::UNSUPPORTED_VERSION
        | ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT
        | ErrorCode::INVALID_TRANSACTION_TIMEOUT
        | ErrorCode::FENCED_INSTANCE_ID => TxnErrorClass::Fatal,
        // TRANSACTION_ABORTABLE, TOPIC/GROUP_AUTHORIZATION_FAILED, UNKNOWN_PRODUCER_ID,
        // INVALID_PRODUCER_ID_MAPPING, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
        // REBALANCE_IN_PROGRESS, OUT_OF_ORDER_SEQUENCE_NUMBER, … : this transaction is lost.
        _ => TxnErrorClass::Abortable,
    }
}

/// What a fatal or abortable code means for the user, in words.
pub fn explain(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::PRODUCER_FENCED | ErrorCode::INVALID_PRODUCER_EPOCH => {
            "another producer with the same transactional.id has initialized (this one is a \
             zombie), or the coordinator aborted the transaction because it ran longer than \
             transaction.timeout.ms and bumped the epoch"
        }
        ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED => {
            "the principal may not use this transactional.id"
        }
        ErrorCode::ILLEGAL_GENERATION
        | ErrorCode::UNKNOWN_MEMBER_ID
        | ErrorCode::FENCED_INSTANCE_ID => {
            "the consumer group rebalanced and the partitions whose offsets were sent may belong \
             to another member now (KIP-447 fencing)"
        }
        ErrorCode::TRANSACTION_ABORTABLE => "the broker asked for this transaction to be aborted",
        ErrorCode::INVALID_TXN_STATE => {
            "the coordinator no longer has this transaction open: most often it ran longer than \
             transaction.timeout.ms and the broker aborted it"
        }
        _ => "",
    }
}

/// The transaction state of one transactional producer.
#[derive(Debug, Clone)]
pub struct TransactionManager {
    transactional_id: String,
    state: TxnState,
    last_error: Option<Error>,
    /// Written to in this transaction, not yet added.
    new_partitions: BTreeSet<TopicPartition>,
    /// In an AddPartitionsToTxn request now.
    pending_partitions: BTreeSet<TopicPartition>,
    /// Added: their batches may be sent.
    partitions: BTreeSet<TopicPartition>,
    /// AddOffsetsToTxn succeeded in this transaction.
    offsets_added: bool,
    /// Transaction version 2 (KIP-890): partitions join implicitly with Produce v12+, offsets
    /// with TxnOffsetCommit v5, and every EndTxn bumps the epoch.
    version2: bool,
}

impl TransactionManager {
    /// A manager for `transactional.id`.
    pub fn new(transactional_id: impl Into<String>) -> Self {
        TransactionManager {
            transactional_id: transactional_id.into(),
            state: TxnState::Uninitialized,
            last_error: None,
            new_partitions: BTreeSet::new(),
            pending_partitions: BTreeSet::new(),
            partitions: BTreeSet::new(),
            offsets_added: false,
            version2: false,
        }
    }

    /// Use transaction version 2 (the coordinator finalized `transaction.version` >= 2).
    pub fn set_version2(&mut self, on: bool) {
        self.version2 = on;
    }

    /// Whether transaction version 2 is in use.
    pub fn is_version2(&self) -> bool {
        self.version2
    }

    /// The `transactional.id`.
    pub fn transactional_id(&self) -> &str {
        &self.transactional_id
    }

    /// The state.
    pub fn state(&self) -> TxnState {
        self.state
    }

    /// Move to `target`, or explain why that is not allowed now.
    pub fn transition(&mut self, operation: &'static str, target: TxnState) -> Result<(), Error> {
        if self.state == TxnState::FatalError {
            return Err(self.fatal_error(operation));
        }
        if self.state == TxnState::AbortableError
            && !matches!(
                target,
                TxnState::AbortingTransaction | TxnState::AbortableError
            )
        {
            return Err(Error::Transaction {
                operation,
                kind: TransactionErrorKind::Abortable,
                code: self.last_error.as_ref().and_then(Error::code),
                detail: format!(
                    "the transaction must be aborted first (it failed: {})",
                    self.last_error
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                ),
            });
        }
        if !self.state.can_go_to(target) {
            return Err(ClientError::TransactionState {
                operation,
                state: format!("{:?}", self.state),
                hint: "",
            }
            .into());
        }
        self.state = target;
        if matches!(target, TxnState::Ready | TxnState::Initializing) {
            self.new_partitions.clear();
            self.pending_partitions.clear();
            self.partitions.clear();
            self.offsets_added = false;
            self.last_error = None;
        }
        Ok(())
    }

    fn fatal_error(&self, operation: &'static str) -> Error {
        Error::Transaction {
            operation,
            kind: TransactionErrorKind::Fatal,
            code: self.last_error.as_ref().and_then(Error::code),
            detail: format!(
                "the producer failed earlier and must be closed: {}",
                self.last_error
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
        }
    }

    /// Record an error from a request of `operation`; returns the error to give the user.
    pub fn fail(
        &mut self,
        operation: &'static str,
        code: ErrorCode,
        message: Option<String>,
    ) -> Error {
        let kind = match classify(code) {
            TxnErrorClass::Fatal => TransactionErrorKind::Fatal,
            _ => TransactionErrorKind::Abortable,
        };
        let why = explain(code);
        let detail = match (message, why.is_empty()) {
            (Some(m), false) => format!("{code}: {why} ({m})"),
            (Some(m), true) => format!("{code} ({m})"),
            (None, false) => format!("{code}: {why}"),
            (None, true) => code.to_string(),
        };
        let err = Error::Transaction {
            operation,
            kind,
            code: Some(code),
            detail: format!("transactional.id {:?}: {detail}", self.transactional_id),
        };
        self.record(err.clone());
        err
    }

    /// Record a failure that is not a broker error code (e.g. a record that could not be
    /// delivered): the transaction becomes abortable (or stays fatal).
    pub fn record(&mut self, err: Error) {
        let fatal = err.transaction_kind() == Some(TransactionErrorKind::Fatal);
        self.last_error = Some(err);
        if fatal {
            self.state = TxnState::FatalError;
        } else if self.state.can_go_to(TxnState::AbortableError) {
            self.state = TxnState::AbortableError;
        }
    }

    /// Fail unless a transaction is open and healthy.
    pub fn ensure_in_transaction(&self, operation: &'static str) -> Result<(), Error> {
        match self.state {
            TxnState::InTransaction => Ok(()),
            TxnState::FatalError => Err(self.fatal_error(operation)),
            TxnState::AbortableError => Err(Error::Transaction {
                operation,
                kind: TransactionErrorKind::Abortable,
                code: self.last_error.as_ref().and_then(Error::code),
                detail: format!(
                    "the transaction failed ({}); abort it first",
                    self.last_error
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                ),
            }),
            other => Err(ClientError::TransactionState {
                operation,
                state: format!("{other:?}"),
                hint: "it needs an open transaction: call begin_transaction",
            }
            .into()),
        }
    }

    /// A record for `tp` is being sent: it joins the transaction.
    pub fn add_partition(&mut self, tp: &TopicPartition) -> Result<(), Error> {
        self.ensure_in_transaction("send")?;
        if self.version2 {
            // Produce v12+ adds the partition to the transaction itself.
            if !self.partitions.contains(tp) {
                self.partitions.insert(tp.clone());
            }
            return Ok(());
        }
        if !self.partitions.contains(tp) && !self.pending_partitions.contains(tp) {
            self.new_partitions.insert(tp.clone());
        }
        Ok(())
    }

    /// Whether batches of `tp` may be sent (it was added to the transaction).
    pub fn may_send(&self, tp: &TopicPartition) -> bool {
        self.partitions.contains(tp)
    }

    /// Partitions to add in one AddPartitionsToTxn request, if any and none is in flight.
    pub fn take_partitions_to_add(&mut self) -> Option<Vec<TopicPartition>> {
        if !self.pending_partitions.is_empty() || self.new_partitions.is_empty() {
            return None;
        }
        let batch: Vec<TopicPartition> = std::mem::take(&mut self.new_partitions)
            .into_iter()
            .collect();
        self.pending_partitions.extend(batch.iter().cloned());
        Some(batch)
    }

    /// Whether an AddPartitionsToTxn is needed or in flight.
    pub fn adding(&self) -> bool {
        !self.new_partitions.is_empty() || !self.pending_partitions.is_empty()
    }

    /// Apply AddPartitionsToTxn results. Returns the class of the worst error, if any; the
    /// caller retries on `Retry`/`FindCoordinator` (the partitions are queued again).
    pub fn on_partitions_added(
        &mut self,
        results: &[(TopicPartition, ErrorCode)],
    ) -> Option<(TxnErrorClass, ErrorCode)> {
        let mut worst: Option<(TxnErrorClass, ErrorCode)> = None;
        for (tp, code) in results {
            self.pending_partitions.remove(tp);
            if code.is_ok() {
                self.partitions.insert(tp.clone());
                continue;
            }
            let class = classify(*code);
            if matches!(class, TxnErrorClass::Retry | TxnErrorClass::FindCoordinator) {
                self.new_partitions.insert(tp.clone());
            }
            let rank = |c: TxnErrorClass| match c {
                TxnErrorClass::Retry => 0,
                TxnErrorClass::FindCoordinator => 1,
                TxnErrorClass::Abortable => 2,
                TxnErrorClass::Fatal => 3,
            };
            if worst.is_none_or(|(w, _)| rank(class) > rank(w)) {
                worst = Some((class, *code));
            }
        }
        // Anything the broker did not mention stays pending: queue it again.
        let missing: Vec<TopicPartition> = std::mem::take(&mut self.pending_partitions)
            .into_iter()
            .collect();
        self.new_partitions.extend(missing);
        worst
    }

    /// AddOffsetsToTxn is needed (once per transaction).
    pub fn offsets_added(&self) -> bool {
        self.offsets_added
    }

    /// AddOffsetsToTxn succeeded.
    pub fn mark_offsets_added(&mut self) {
        self.offsets_added = true;
    }

    /// Start committing; whether an EndTxn must be sent.
    pub fn begin_commit(&mut self) -> Result<EndAction, Error> {
        self.transition("commit_transaction", TxnState::CommittingTransaction)?;
        Ok(self.end_action())
    }

    /// Start aborting; whether an EndTxn must be sent.
    pub fn begin_abort(&mut self) -> Result<EndAction, Error> {
        self.transition("abort_transaction", TxnState::AbortingTransaction)?;
        Ok(self.end_action())
    }

    fn end_action(&self) -> EndAction {
        if self.partitions.is_empty() && !self.offsets_added && self.pending_partitions.is_empty() {
            EndAction::Local
        } else {
            EndAction::SendEndTxn
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_completing_transaction_is_retried_after_milliseconds_up_to_retry_backoff() {
        let ms = Duration::from_millis;
        assert_eq!(completing_backoff(0, ms(100)), ms(5));
        assert_eq!(completing_backoff(2, ms(100)), ms(20));
        assert_eq!(completing_backoff(30, ms(100)), ms(100));
    }

    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn ready() -> TransactionManager {
        let mut tm = TransactionManager::new("tx");
        tm.transition("init", TxnState::Initializing).expect("init");
        tm.transition("init", TxnState::Ready).expect("ready");
        tm
    }

    fn in_transaction() -> TransactionManager {
        let mut tm = ready();
        tm.transition("begin", TxnState::InTransaction)
            .expect("begin");
        tm
    }

    #[test]
    fn happy_path_adds_partitions_once_then_commits() {
        let mut tm = ready();
        assert!(
            tm.add_partition(&tp(0)).is_err(),
            "send outside a transaction"
        );
        tm.transition("begin", TxnState::InTransaction)
            .expect("begin");
        tm.add_partition(&tp(0)).expect("add");
        tm.add_partition(&tp(1)).expect("add");
        tm.add_partition(&tp(0)).expect("add again");
        assert!(!tm.may_send(&tp(0)));
        let batch = tm.take_partitions_to_add().expect("two to add");
        assert_eq!(batch, vec![tp(0), tp(1)]);
        assert!(
            tm.take_partitions_to_add().is_none(),
            "one request in flight at a time"
        );
        tm.add_partition(&tp(2)).expect("add while in flight");
        let worst = tm.on_partitions_added(&[(tp(0), ErrorCode::NONE), (tp(1), ErrorCode::NONE)]);
        assert!(worst.is_none());
        assert!(tm.may_send(&tp(0)) && tm.may_send(&tp(1)));
        assert_eq!(tm.take_partitions_to_add(), Some(vec![tp(2)]));
        tm.on_partitions_added(&[(tp(2), ErrorCode::NONE)]);
        assert_eq!(tm.begin_commit().expect("commit"), EndAction::SendEndTxn);
        tm.transition("commit", TxnState::Ready).expect("done");
        assert!(
            !tm.may_send(&tp(0)),
            "a new transaction adds partitions again"
        );
    }

    #[test]
    fn version2_adds_partitions_implicitly() {
        let mut tm = ready();
        tm.set_version2(true);
        tm.transition("begin", TxnState::InTransaction)
            .expect("begin");
        tm.add_partition(&tp(0)).expect("add");
        assert!(tm.may_send(&tp(0)), "no AddPartitionsToTxn under version 2");
        assert!(tm.take_partitions_to_add().is_none());
        assert_eq!(tm.begin_commit().expect("commit"), EndAction::SendEndTxn);
    }

    #[test]
    fn empty_transactions_end_locally() {
        let mut tm = in_transaction();
        assert_eq!(tm.begin_commit().expect("commit"), EndAction::Local);
    }

    #[test]
    fn retriable_add_errors_requeue_the_partitions() {
        let mut tm = in_transaction();
        tm.add_partition(&tp(0)).expect("add");
        tm.take_partitions_to_add();
        let worst = tm.on_partitions_added(&[(tp(0), ErrorCode::CONCURRENT_TRANSACTIONS)]);
        assert_eq!(
            worst,
            Some((TxnErrorClass::Retry, ErrorCode::CONCURRENT_TRANSACTIONS))
        );
        assert_eq!(tm.take_partitions_to_add(), Some(vec![tp(0)]));
        // A response that does not mention a partition leaves it to be added again.
        assert!(tm.on_partitions_added(&[]).is_none());
        assert_eq!(tm.take_partitions_to_add(), Some(vec![tp(0)]));
    }

    #[test]
    fn abortable_errors_only_allow_abort() {
        let mut tm = in_transaction();
        let e = tm.fail("send", ErrorCode::TOPIC_AUTHORIZATION_FAILED, None);
        assert_eq!(e.transaction_kind(), Some(TransactionErrorKind::Abortable));
        assert_eq!(tm.state(), TxnState::AbortableError);
        let e = tm.begin_commit().expect_err("commit refused");
        assert_eq!(e.transaction_kind(), Some(TransactionErrorKind::Abortable));
        assert!(tm.add_partition(&tp(0)).is_err());
        tm.begin_abort().expect("abort allowed");
        tm.transition("abort", TxnState::Ready)
            .expect("ready again");
        tm.transition("begin", TxnState::InTransaction)
            .expect("a new transaction");
    }

    #[test]
    fn fencing_is_fatal_and_sticky() {
        let mut tm = in_transaction();
        let e = tm.fail("commit_transaction", ErrorCode::PRODUCER_FENCED, None);
        assert_eq!(e.transaction_kind(), Some(TransactionErrorKind::Fatal));
        assert!(e.to_string().contains("same transactional.id"), "{e}");
        for r in [
            tm.begin_abort().map(|_| ()),
            tm.transition("begin", TxnState::InTransaction),
            tm.add_partition(&tp(0)),
        ] {
            assert_eq!(
                r.expect_err("fatal").transaction_kind(),
                Some(TransactionErrorKind::Fatal)
            );
        }
    }

    #[test]
    fn transitions_follow_javas_table() {
        let mut tm = TransactionManager::new("tx");
        assert!(tm.transition("begin", TxnState::InTransaction).is_err());
        assert!(tm.begin_commit().is_err());
        let mut tm = ready();
        assert!(tm.begin_abort().is_err(), "nothing to abort");
        assert!(tm.transition("x", TxnState::Uninitialized).is_err());
    }

    #[test]
    fn classification_matches_java() {
        assert_eq!(
            classify(ErrorCode::CONCURRENT_TRANSACTIONS),
            TxnErrorClass::Retry
        );
        assert_eq!(
            classify(ErrorCode::NOT_COORDINATOR),
            TxnErrorClass::FindCoordinator
        );
        assert_eq!(
            classify(ErrorCode::TRANSACTION_ABORTABLE),
            TxnErrorClass::Abortable
        );
        assert_eq!(
            classify(ErrorCode::ILLEGAL_GENERATION),
            TxnErrorClass::Abortable
        );
        assert_eq!(classify(ErrorCode::PRODUCER_FENCED), TxnErrorClass::Fatal);
        assert_eq!(
            classify(ErrorCode::INVALID_PRODUCER_EPOCH),
            TxnErrorClass::Fatal
        );
    }
}
