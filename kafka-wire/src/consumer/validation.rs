//! Position validation after a leader change (KIP-320), as a plain decision.
//!
//! The consumer remembers the leader epoch of the last record it fetched for each partition
//! (or the epoch committed with the group's offset) and sends it with every fetch as
//! `LastFetchedEpoch` (Fetch v12+), together with the leader epoch it knows from metadata as
//! `CurrentLeaderEpoch` (v9+). The leader checks the position against its own epoch history
//! (the check OffsetForLeaderEpoch makes) and, when the consumer's epoch ended before its
//! position, answers with `DivergingEpoch`: the largest epoch it has at or below the
//! consumer's and where that epoch ends. [`validate`] decides what that means, as the Java
//! consumer's `SubscriptionState.maybeCompleteValidation` does:
//!
//! - the epoch ends at or after the position: the position is valid (the consumer only
//!   adopts the leader's epoch);
//! - it ends before the position: the log was truncated (an unclean leader election lost
//!   records the consumer had read). With an `auto.offset.reset` policy the consumer moves
//!   back to the first offset known to diverge; with `none` it fails with
//!   [`ClientError::LogTruncation`](crate::error::ClientError::LogTruncation);
//! - the leader knows no such epoch: the position cannot be validated and is reset as for
//!   OFFSET_OUT_OF_RANGE.
//!
//! The generated protocol has no OffsetForLeaderEpoch message (API key 23), so validation
//! rides on the fetch itself, which makes the same check on the leader; it therefore also
//! covers a leader change, since the first fetch from the new leader carries the epoch.

use super::OffsetReset;

/// The leader's answer about the consumer's last fetched epoch (`DivergingEpoch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEndOffset {
    /// The largest leader epoch at or below the consumer's; -1 if unknown.
    pub epoch: i32,
    /// Where that epoch ends (the first offset of the next epoch); -1 if unknown.
    pub end_offset: i64,
}

/// What to do with a partition's position after the leader reported a diverging epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// The position is valid; fetch on, remembering `epoch` as the last fetched epoch.
    Valid {
        /// The leader's epoch for the position.
        epoch: i32,
    },
    /// The log was truncated below the position: continue at `offset` (the first offset
    /// known to diverge) with `epoch`.
    Truncated {
        /// The new position.
        offset: i64,
        /// Its epoch.
        epoch: i32,
    },
    /// Truncated, and `auto.offset.reset=none`: fail, naming the divergent offset.
    TruncatedNoReset {
        /// The first offset known to diverge.
        divergent_offset: i64,
        /// Its epoch.
        epoch: i32,
    },
    /// The leader cannot tell where the epoch ends: reset as for OFFSET_OUT_OF_RANGE.
    Unknown,
}

/// Decide what a `DivergingEpoch` answer means for a consumer at `position`.
pub fn validate(position: i64, diverging: EpochEndOffset, reset: OffsetReset) -> Validation {
    if diverging.epoch < 0 || diverging.end_offset < 0 {
        return Validation::Unknown;
    }
    if diverging.end_offset >= position {
        return Validation::Valid {
            epoch: diverging.epoch,
        };
    }
    match reset {
        OffsetReset::Earliest | OffsetReset::Latest => Validation::Truncated {
            offset: diverging.end_offset,
            epoch: diverging.epoch,
        },
        OffsetReset::None => Validation::TruncatedNoReset {
            divergent_offset: diverging.end_offset,
            epoch: diverging.epoch,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(epoch: i32, end_offset: i64) -> EpochEndOffset {
        EpochEndOffset { epoch, end_offset }
    }

    #[test]
    fn position_within_the_epoch_is_valid() {
        // The consumer's epoch 3 is unknown to the leader; its epoch 2 ends at 120 ≥ 100.
        assert_eq!(
            validate(100, end(2, 120), OffsetReset::None),
            Validation::Valid { epoch: 2 }
        );
        assert_eq!(
            validate(120, end(2, 120), OffsetReset::Latest),
            Validation::Valid { epoch: 2 }
        );
    }

    #[test]
    fn truncation_moves_back_to_the_divergence_or_fails_without_a_reset_policy() {
        assert_eq!(
            validate(100, end(2, 80), OffsetReset::Earliest),
            Validation::Truncated {
                offset: 80,
                epoch: 2
            }
        );
        assert_eq!(
            validate(100, end(2, 80), OffsetReset::Latest),
            Validation::Truncated {
                offset: 80,
                epoch: 2
            }
        );
        assert_eq!(
            validate(100, end(2, 80), OffsetReset::None),
            Validation::TruncatedNoReset {
                divergent_offset: 80,
                epoch: 2
            }
        );
    }

    #[test]
    fn unknown_epoch_resets() {
        assert_eq!(
            validate(100, end(-1, -1), OffsetReset::Earliest),
            Validation::Unknown
        );
        assert_eq!(
            validate(100, end(4, -1), OffsetReset::None),
            Validation::Unknown
        );
    }
}
