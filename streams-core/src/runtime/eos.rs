//! Exactly-once (`processing.guarantee=exactly_once_v2`): the decisions, free of I/O.
//!
//! # One Kafka transaction per stream thread, one redb transaction per task
//!
//! Each stream thread owns one transactional producer (`transactional.id =
//! <application.id>-<process id>-<thread index>`, the process id kept in the state directory).
//! A Kafka transaction begins with the first record the thread sends after a commit; it holds
//! every task's output and changelog records, and — through `send_offsets_to_transaction`
//! with the consumer's group metadata (KIP-447) — the input offsets they were computed from.
//!
//! Each task with persistent stores has one redb database, and in it one write transaction is
//! open between commits: processing reads its own writes, and nothing of it is durable.
//!
//! # The commit, in this order
//! 1. The record caches are flushed: their changelog (and downstream) records join the Kafka
//!    transaction.
//! 2. The input offsets join the transaction; then EndTxn(commit). *Crash point
//!    `before_end_txn` sits between the two.*
//! 3. Only after the Kafka transaction committed: each task's redb transaction commits its data
//!    **together with the changelog offsets the data reaches** (the offset after the task's
//!    last changelog record of the transaction). *Crash point `after_end_txn` sits before this
//!    step, `after_state_commit` after it.*
//!
//! # Why every crash point ends at the last committed state, without a wipe
//! Let the last completed commit have left redb at changelog position `P0` and Kafka at
//! transaction `T0`; the next transaction `T1` wrote changelog records from `P0`.
//! - **Before EndTxn** (or any time during processing): `T1` never commits. The restarted
//!   thread's producer has the same `transactional.id`, so `init_transactions` aborts `T1` at
//!   once (a task moved to another instance waits, as Kafka's consumers do, until
//!   `transaction.timeout.ms` aborts it). redb still holds `P0`'s data: its open write
//!   transaction died with the process. Restoration reads the changelog `read_committed` from
//!   `P0` to the last stable offset: `T1`'s records are aborted and skipped, so nothing is
//!   applied, and the input resumes at `T0`'s offsets.
//! - **After EndTxn, before the redb commit**: Kafka holds `T1` (output, changelog, offsets);
//!   redb holds `P0`. Restoration from `P0` applies exactly `T1`'s changelog records, and the
//!   input resumes at `T1`'s offsets.
//! - **After both**: redb holds `P1`, Kafka `T1`; restoration finds nothing to read.
//!
//! - **A crash after commits that were not fsynced**: redb commits are atomic but made
//!   durable only every `statestore.fsync.interval.ms` (1 s; 0 = every commit). A crash
//!   returns redb to its last durable commit — its data *and* its changelog positions `Pd`
//!   together — and restoration replays every committed transaction from `Pd`: the same state,
//!   read from a little further back.
//!
//! Nothing is deleted in any case: a store is wiped only when its changelog no longer holds
//! the committed position (retention, compaction, a recreated topic), which is logged and
//! reported to [`StateRestoreListener::on_store_wiped`](super::StateRestoreListener::on_store_wiped).
//!
//! # Without a crash: an aborted transaction
//! An abortable error (a record that could not be written, a transaction the coordinator
//! aborted, offsets refused because the group rebalanced — KIP-447 fencing) aborts the
//! transaction; a fenced producer is replaced by a new one. Either way every task of the
//! thread is closed *dirty* — its redb write transaction is dropped, so its stores are back at
//! the last commit — and created again from there: its input rewound to the committed
//! offsets, its stores restored from their committed positions (which finds the aborted
//! records skipped). The application keeps running; no store is wiped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kafka_wire::protocol::ErrorCode;
use kafka_wire::TransactionErrorKind;

use super::config::CrashPoint;

/// What a failure during exactly-once processing asks of the stream thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnRecovery {
    /// Abort the transaction, close every task dirty and create them again.
    AbortAndRevive,
    /// The producer is fenced or unusable: replace it (a new producer with the same
    /// `transactional.id`), then close every task dirty and create them again.
    NewProducerAndRevive,
    /// Not a transaction outcome the thread can recover from: fail the thread.
    Fail,
}

/// Decide how to recover from `error`, raised while the thread's transaction was open.
pub(crate) fn recovery_for(error: &kafka_wire::Error) -> TxnRecovery {
    let code = error.code();
    let refused_access = matches!(
        code,
        Some(
            ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                | ErrorCode::CLUSTER_AUTHORIZATION_FAILED
                | ErrorCode::UNSUPPORTED_VERSION
                | ErrorCode::INVALID_TRANSACTION_TIMEOUT
        )
    );
    match error.transaction_kind() {
        _ if refused_access => TxnRecovery::Fail,
        Some(TransactionErrorKind::Abortable) => TxnRecovery::AbortAndRevive,
        Some(TransactionErrorKind::Fatal) => TxnRecovery::NewProducerAndRevive,
        None => match code {
            // A plain group error from the offset commit path: the member is behind the group.
            Some(
                ErrorCode::ILLEGAL_GENERATION
                | ErrorCode::UNKNOWN_MEMBER_ID
                | ErrorCode::REBALANCE_IN_PROGRESS,
            ) => TxnRecovery::AbortAndRevive,
            Some(ErrorCode::PRODUCER_FENCED | ErrorCode::INVALID_PRODUCER_EPOCH) => {
                TxnRecovery::NewProducerAndRevive
            }
            _ => TxnRecovery::Fail,
        },
    }
}

/// Commits with something to commit, counted over every stream thread of the process (for
/// `__crash.after.commits__`).
static COMMITS: AtomicU64 = AtomicU64::new(0);

/// The injected crash of a test (`__crash.point__`): where and at which commit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CrashPlan {
    point: Option<CrashPoint>,
    after_commits: u64,
}

impl CrashPlan {
    pub(crate) fn new(point: Option<CrashPoint>, after_commits: u64) -> Self {
        CrashPlan {
            point,
            after_commits,
        }
    }

    /// Count a commit that has something to commit; its number (1-based).
    pub(crate) fn count_commit(&self) -> u64 {
        if self.point.is_none() {
            return 0;
        }
        COMMITS.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether commit number `commit` (from [`CrashPlan::count_commit`]) must end the
    /// process at `point`.
    pub(crate) fn crashes_at(&self, point: CrashPoint, commit: u64) -> bool {
        self.point == Some(point) && commit == self.after_commits
    }

    /// End the process at once, as a SIGKILL would: no destructor, no flush, no goodbye to
    /// the group or the transaction coordinator.
    pub(crate) fn crash_now(point: CrashPoint) -> ! {
        eprintln!("injected crash at {point:?} (__crash.point__)");
        std::process::abort()
    }
}

/// How long a caught-up thread under exactly-once polls before it commits early.
pub(crate) const IDLE_POLL: Duration = Duration::from_millis(5);

/// Under exactly-once, output becomes visible to `read_committed` readers only when its
/// transaction commits. Kafka Streams commits every `commit.interval.ms` whatever happens, so
/// the last records before a pause wait up to a full interval. Ours commits as soon as the
/// thread has caught up — its tasks hold no buffered input and a short poll
/// ([`IDLE_POLL`]) brought nothing — provided a tenth of the interval has passed since the
/// last commit (so a trickle of records cannot turn into a transaction per record).
pub(crate) fn commit_when_idle(
    uncommitted: bool,
    buffered: usize,
    polled: usize,
    since_last_commit: Duration,
    commit_interval: Duration,
) -> bool {
    uncommitted && buffered == 0 && polled == 0 && since_last_commit >= commit_interval / 10
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_caught_up_thread_commits_early_but_not_per_record() {
        let ms = Duration::from_millis;
        let interval = ms(100);
        assert!(commit_when_idle(true, 0, 0, ms(10), interval));
        assert!(
            !commit_when_idle(false, 0, 0, ms(50), interval),
            "nothing to commit"
        );
        assert!(
            !commit_when_idle(true, 3, 0, ms(50), interval),
            "input still buffered"
        );
        assert!(
            !commit_when_idle(true, 0, 7, ms(50), interval),
            "the poll brought records"
        );
        assert!(
            !commit_when_idle(true, 0, 0, ms(9), interval),
            "too soon after the last"
        );
    }

    use super::*;
    use kafka_wire::Error;

    fn txn(kind: TransactionErrorKind, code: ErrorCode) -> Error {
        Error::Transaction {
            operation: "commit_transaction",
            kind,
            code: Some(code),
            detail: String::new(),
        }
    }

    #[test]
    fn abortable_and_fencing_failures_are_survived_access_failures_are_not() {
        assert_eq!(
            recovery_for(&txn(
                TransactionErrorKind::Abortable,
                ErrorCode::TRANSACTION_ABORTABLE
            )),
            TxnRecovery::AbortAndRevive
        );
        assert_eq!(
            recovery_for(&txn(
                TransactionErrorKind::Abortable,
                ErrorCode::ILLEGAL_GENERATION
            )),
            TxnRecovery::AbortAndRevive
        );
        for code in [
            ErrorCode::PRODUCER_FENCED,
            ErrorCode::INVALID_PRODUCER_EPOCH,
            ErrorCode::FENCED_INSTANCE_ID,
            ErrorCode::INVALID_TXN_STATE,
        ] {
            assert_eq!(
                recovery_for(&txn(TransactionErrorKind::Fatal, code)),
                TxnRecovery::NewProducerAndRevive,
                "{code:?}"
            );
        }
        assert_eq!(
            recovery_for(&txn(
                TransactionErrorKind::Fatal,
                ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            )),
            TxnRecovery::Fail
        );
        assert_eq!(
            recovery_for(&Error::InvalidArgument("x".into())),
            TxnRecovery::Fail
        );
    }

    #[test]
    fn a_crash_plan_fires_once_at_its_point_and_commit() {
        let none = CrashPlan::new(None, 1);
        assert_eq!(none.count_commit(), 0);
        assert!(!none.crashes_at(CrashPoint::BeforeEndTxn, 1));
        let plan = CrashPlan::new(Some(CrashPoint::AfterEndTxn), 3);
        assert!(!plan.crashes_at(CrashPoint::AfterEndTxn, 2));
        assert!(!plan.crashes_at(CrashPoint::BeforeEndTxn, 3));
        assert!(plan.crashes_at(CrashPoint::AfterEndTxn, 3));
        assert!(plan.count_commit() >= 1);
    }
}
