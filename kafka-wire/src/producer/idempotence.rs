//! Idempotent-producer bookkeeping: producer id and epoch, and per-partition sequence numbers.
//!
//! A plain state machine with no I/O, driven by the producer's sender:
//!
//! 1. after InitProducerId, [`IdempotenceState::set_identity`];
//! 2. before sending a new batch to a partition, [`IdempotenceState::assign`] gives it its
//!    producer id, epoch and base sequence (a retried batch keeps the one it has);
//! 3. each response is fed back with [`IdempotenceState::on_acked`] or
//!    [`IdempotenceState::on_failed`], which says what to do with the batch.
//!
//! The rules are the Java client's (`TransactionManager` for idempotence, KIP-360):
//! * sequences are consecutive per partition, wrap at `i32::MAX`, and at most
//!   `max.in.flight.requests.per.connection` (≤ 5) batches are in flight per partition, so the
//!   broker's duplicate detection covers every retry;
//! * `DUPLICATE_SEQUENCE_NUMBER` means the batch is already in the log: success;
//! * `OUT_OF_ORDER_SEQUENCE_NUMBER` for a batch behind an earlier failed one is retried in order;
//!   for the first unacknowledged batch, and `UNKNOWN_PRODUCER_ID`, the broker lost our state:
//!   the epoch is bumped (InitProducerId with the current id and epoch), sending pauses until no
//!   request is in flight, and the unacknowledged batches are renumbered from 0 under the new
//!   epoch, in their original order, so nothing is duplicated or reordered;
//! * `INVALID_PRODUCER_EPOCH` / `PRODUCER_FENCED` are fatal.

use std::collections::{HashMap, VecDeque};

use crate::protocol::ErrorCode;
use crate::TopicPartition;

/// A producer id and epoch from InitProducerId.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerIdAndEpoch {
    /// The producer id.
    pub producer_id: i64,
    /// The epoch.
    pub epoch: i16,
}

/// The idempotence fields of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSequence {
    /// Producer id and epoch the batch is written with.
    pub id: ProducerIdAndEpoch,
    /// Sequence of the batch's first record.
    pub base_sequence: i32,
}

/// What the sender must do with a batch after a failed produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Send it again with the same sequence (after backoff, and a metadata refresh if the
    /// error calls for one).
    Retry,
    /// The broker already has it: complete it as a success.
    AlreadyWritten,
    /// Wait until nothing is in flight, bump the epoch, then send it again (renumbered).
    BumpEpochThenRetry,
    /// Fail it (and close the producer if the error is fatal).
    Fail(ErrorCode),
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    base_sequence: i32,
    records: i32,
}

#[derive(Debug, Default)]
struct PartitionSequences {
    next_sequence: i32,
    /// Batches with a sequence but no outcome yet, in sequence order.
    unacked: VecDeque<InFlight>,
    /// Whether the broker acknowledged a batch of this partition under the current epoch.
    /// Until it has, only one batch is in flight: a broker accepts any first sequence from a
    /// producer it does not know yet, so a later batch landing first (say after a leader
    /// change) would be accepted and the earlier one reordered behind it.
    acked_in_epoch: bool,
}

fn add_sequence(seq: i32, n: i32) -> i32 {
    // Sequences wrap to 0 after i32::MAX (DefaultRecordBatch.incrementSequence).
    let wide = i64::from(seq) + i64::from(n);
    (wide % (i64::from(i32::MAX) + 1)) as i32
}

/// The idempotence state of one producer.
#[derive(Debug, Default)]
pub struct IdempotenceState {
    id: Option<ProducerIdAndEpoch>,
    partitions: HashMap<TopicPartition, PartitionSequences>,
    bump_needed: bool,
    fatal: Option<ErrorCode>,
}

impl IdempotenceState {
    /// A state with no producer id yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current producer id and epoch.
    pub fn identity(&self) -> Option<ProducerIdAndEpoch> {
        self.id
    }

    /// Whether the epoch must be bumped before anything more is sent.
    pub fn bump_needed(&self) -> bool {
        self.bump_needed
    }

    /// The fatal error that stopped this producer, if any.
    pub fn fatal_error(&self) -> Option<ErrorCode> {
        self.fatal
    }

    /// Install the id and epoch from InitProducerId. A new epoch (or id) restarts every
    /// partition's sequences at 0; unacknowledged batches are renumbered in order and returned
    /// as `(partition, old base sequence, new base sequence)` so the sender can rewrite them.
    pub fn set_identity(&mut self, id: ProducerIdAndEpoch) -> Vec<(TopicPartition, i32, i32)> {
        let changed = self.id != Some(id);
        self.id = Some(id);
        self.bump_needed = false;
        let mut renumbered = Vec::new();
        if changed {
            for (tp, p) in &mut self.partitions {
                p.acked_in_epoch = false;
                let mut next = 0;
                for b in &mut p.unacked {
                    renumbered.push((tp.clone(), b.base_sequence, next));
                    b.base_sequence = next;
                    next = add_sequence(next, b.records);
                }
                p.next_sequence = next;
            }
        }
        renumbered
    }

    /// Whether a new batch may be sent to `tp` now: there is an id, no epoch bump is pending,
    /// no fatal error, and fewer than `max_in_flight` batches are unacknowledged (just one until
    /// the partition's first acknowledgement under this epoch).
    pub fn can_send_new(&self, tp: &TopicPartition, max_in_flight: usize) -> bool {
        self.id.is_some()
            && !self.bump_needed
            && self.fatal.is_none()
            && self.partitions.get(tp).is_none_or(|p| {
                let limit = if p.acked_in_epoch { max_in_flight } else { 1 };
                p.unacked.len() < limit
            })
    }

    /// Give a new batch of `records` records for `tp` its sequence.
    pub fn assign(&mut self, tp: &TopicPartition, records: i32) -> Option<BatchSequence> {
        let id = self.id?;
        if self.bump_needed || self.fatal.is_some() {
            return None;
        }
        let p = self.partitions.entry(tp.clone()).or_default();
        let base_sequence = p.next_sequence;
        p.next_sequence = add_sequence(base_sequence, records);
        p.unacked.push_back(InFlight {
            base_sequence,
            records,
        });
        Some(BatchSequence { id, base_sequence })
    }

    fn resolve(&mut self, tp: &TopicPartition, base_sequence: i32) {
        if let Some(p) = self.partitions.get_mut(tp) {
            p.unacked.retain(|b| b.base_sequence != base_sequence);
        }
    }

    /// The batch with `base_sequence` was written.
    pub fn on_acked(&mut self, tp: &TopicPartition, base_sequence: i32) {
        self.resolve(tp, base_sequence);
        if let Some(p) = self.partitions.get_mut(tp) {
            p.acked_in_epoch = true;
        }
    }

    /// The batch will not be sent again (delivery timeout, or a non-retriable error reported to
    /// the user). Later batches of the partition now have a sequence gap, so the epoch must be
    /// bumped before they go out.
    pub fn on_abandoned(&mut self, tp: &TopicPartition, base_sequence: i32) {
        let gap = self
            .partitions
            .get(tp)
            .is_some_and(|p| p.unacked.iter().any(|b| b.base_sequence == base_sequence));
        self.resolve(tp, base_sequence);
        if gap {
            self.bump_needed = true;
        }
    }

    /// A produce of the batch with `base_sequence` failed with `code`: what to do with it.
    pub fn on_failed(
        &mut self,
        tp: &TopicPartition,
        base_sequence: i32,
        code: ErrorCode,
    ) -> BatchOutcome {
        let first_unacked = self
            .partitions
            .get(tp)
            .and_then(|p| p.unacked.front())
            .map(|b| b.base_sequence);
        match code {
            ErrorCode::DUPLICATE_SEQUENCE_NUMBER => {
                self.resolve(tp, base_sequence);
                BatchOutcome::AlreadyWritten
            }
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER if first_unacked != Some(base_sequence) => {
                // An earlier batch of this partition failed; this one follows it in order.
                BatchOutcome::Retry
            }
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER | ErrorCode::UNKNOWN_PRODUCER_ID => {
                self.bump_needed = true;
                BatchOutcome::BumpEpochThenRetry
            }
            ErrorCode::INVALID_PRODUCER_EPOCH
            | ErrorCode::PRODUCER_FENCED
            | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            | ErrorCode::CLUSTER_AUTHORIZATION_FAILED => {
                self.fatal = Some(code);
                BatchOutcome::Fail(code)
            }
            code if code.is_retriable() => BatchOutcome::Retry,
            code => {
                self.on_abandoned(tp, base_sequence);
                BatchOutcome::Fail(code)
            }
        }
    }

    /// Batches of `tp` without an outcome yet.
    pub fn unacked(&self, tp: &TopicPartition) -> usize {
        self.partitions.get(tp).map_or(0, |p| p.unacked.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp() -> TopicPartition {
        TopicPartition::new("t", 0)
    }

    fn ready() -> IdempotenceState {
        let mut s = IdempotenceState::new();
        s.set_identity(ProducerIdAndEpoch {
            producer_id: 7,
            epoch: 0,
        });
        s
    }

    #[test]
    fn sequences_are_consecutive_per_partition() {
        let mut s = ready();
        let a = s.assign(&tp(), 10).unwrap();
        let b = s.assign(&tp(), 5).unwrap();
        let other = s.assign(&TopicPartition::new("t", 1), 3).unwrap();
        assert_eq!(
            (a.base_sequence, b.base_sequence, other.base_sequence),
            (0, 10, 0)
        );
        assert_eq!(
            a.id,
            ProducerIdAndEpoch {
                producer_id: 7,
                epoch: 0
            }
        );
        s.on_acked(&tp(), 0);
        s.on_acked(&tp(), 10);
        assert_eq!(s.assign(&tp(), 1).unwrap().base_sequence, 15);
    }

    #[test]
    fn in_flight_is_capped_per_partition() {
        let mut s = ready();
        s.assign(&tp(), 1);
        assert!(
            !s.can_send_new(&tp(), 5),
            "one batch at a time until the first ack"
        );
        s.on_acked(&tp(), 0);
        for _ in 0..5 {
            assert!(s.can_send_new(&tp(), 5));
            s.assign(&tp(), 1);
        }
        assert!(!s.can_send_new(&tp(), 5));
        s.on_acked(&tp(), 1);
        assert!(s.can_send_new(&tp(), 5));
    }

    #[test]
    fn no_sequence_before_init_producer_id() {
        let mut s = IdempotenceState::new();
        assert!(!s.can_send_new(&tp(), 5));
        assert!(s.assign(&tp(), 1).is_none());
    }

    #[test]
    fn sequences_wrap_at_i32_max() {
        assert_eq!(add_sequence(i32::MAX, 1), 0);
        assert_eq!(add_sequence(i32::MAX - 1, 3), 1);
    }

    #[test]
    fn duplicate_sequence_is_success() {
        let mut s = ready();
        let a = s.assign(&tp(), 2).unwrap();
        assert_eq!(
            s.on_failed(&tp(), a.base_sequence, ErrorCode::DUPLICATE_SEQUENCE_NUMBER),
            BatchOutcome::AlreadyWritten
        );
        assert_eq!(s.unacked(&tp()), 0);
    }

    #[test]
    fn out_of_order_behind_a_failed_batch_is_retried_in_order() {
        let mut s = ready();
        let a = s.assign(&tp(), 1).unwrap();
        let b = s.assign(&tp(), 1).unwrap();
        // a hit a leader change, b arrived first at the new leader.
        assert_eq!(
            s.on_failed(&tp(), a.base_sequence, ErrorCode::NOT_LEADER_OR_FOLLOWER),
            BatchOutcome::Retry
        );
        assert_eq!(
            s.on_failed(
                &tp(),
                b.base_sequence,
                ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
            ),
            BatchOutcome::Retry
        );
        assert!(!s.bump_needed());
    }

    #[test]
    fn lost_producer_state_bumps_the_epoch_and_renumbers_in_order() {
        let mut s = ready();
        let a = s.assign(&tp(), 3).unwrap();
        let b = s.assign(&tp(), 2).unwrap();
        s.on_acked(&tp(), a.base_sequence);
        let c = s.assign(&tp(), 4).unwrap();
        assert_eq!((b.base_sequence, c.base_sequence), (3, 5));
        assert_eq!(
            s.on_failed(&tp(), b.base_sequence, ErrorCode::UNKNOWN_PRODUCER_ID),
            BatchOutcome::BumpEpochThenRetry
        );
        assert!(s.bump_needed());
        assert!(
            !s.can_send_new(&tp(), 5),
            "nothing new goes out until the bump"
        );
        assert_eq!(
            s.on_failed(
                &tp(),
                c.base_sequence,
                ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
            ),
            BatchOutcome::Retry
        );
        let renumbered = s.set_identity(ProducerIdAndEpoch {
            producer_id: 7,
            epoch: 1,
        });
        assert_eq!(renumbered, vec![(tp(), 3, 0), (tp(), 5, 2)]);
        assert_eq!(s.assign(&tp(), 1).unwrap().base_sequence, 6);
    }

    #[test]
    fn abandoning_a_batch_with_later_ones_in_flight_forces_a_bump() {
        let mut s = ready();
        let a = s.assign(&tp(), 1).unwrap();
        s.assign(&tp(), 1).unwrap();
        s.on_abandoned(&tp(), a.base_sequence);
        assert!(s.bump_needed());
    }

    #[test]
    fn fencing_is_fatal() {
        let mut s = ready();
        let a = s.assign(&tp(), 1).unwrap();
        assert_eq!(
            s.on_failed(&tp(), a.base_sequence, ErrorCode::PRODUCER_FENCED),
            BatchOutcome::Fail(ErrorCode::PRODUCER_FENCED)
        );
        assert_eq!(s.fatal_error(), Some(ErrorCode::PRODUCER_FENCED));
        assert!(s.assign(&tp(), 1).is_none());
    }
}
