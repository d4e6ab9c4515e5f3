//! What the leader tells each member in its assignment's user data (Kafka's
//! `AssignmentInfo`), in our own versioned binary format.
//!
//! # Format, version 1
//!
//! All integers big-endian; strings, tasks and arrays as in
//! [`super::subscription_info`]. A partition is a topic string then an `i32` partition; a
//! task map is an `i32` count then, per task, the task and a partition array.
//!
//! | field | type | meaning |
//! |---|---|---|
//! | version | `i32` | 1 |
//! | latest_supported_version | `i32` | the newest version the leader reads |
//! | active_tasks | task map | each active task with the source partitions it reads (all of them are in the member's assigned partitions) |
//! | standby_tasks | task map | each standby (or warm-up) task with its source partitions, as Kafka sends them (the changelog partitions it restores follow from the topology: partition `p` of each changelog topic of the task's sub-topology) |
//! | follow_up_rebalance_after_ms | `i64` | rejoin this many ms after the assignment arrived (probing, or after revocations); -1: none |
//! | error_code | `i32` | [`AssignmentErrorCode`] |
//! | partitions_by_host | `i32` count, then (string, partition array) | for interactive queries: each `application.server` endpoint and the partitions its instance holds active |
//!
//! The follow-up is a delay, not Kafka's absolute wall-clock time, so members need not agree
//! on the clock. Later versions only append fields (a newer version is read as version 1);
//! version 0 or negative is an error.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::TopicPartition;

use super::codec::{CodecError, Reader, Writer};
use super::error_code::AssignmentErrorCode;
use crate::TaskId;

/// The newest [`AssignmentInfo`] version this release writes and reads.
pub const ASSIGNMENT_INFO_VERSION: i32 = 1;

const WHAT: &str = "AssignmentInfo";

/// One member's streams-specific assignment data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentInfo {
    /// The newest version the leader can read.
    pub latest_supported_version: i32,
    /// Active tasks and the source partitions each reads.
    pub active_tasks: BTreeMap<TaskId, Vec<TopicPartition>>,
    /// Standby tasks (warm-ups included) and each one's source partitions (as Kafka; the
    /// changelog partitions to restore are partition `p` of each changelog topic of the
    /// task's sub-topology). None of them is in the member's assigned partitions.
    pub standby_tasks: BTreeMap<TaskId, Vec<TopicPartition>>,
    /// Rejoin the group this long after the assignment arrived (probing rebalances, or at
    /// once after giving up tasks that move to another member).
    pub follow_up_rebalance_after: Option<Duration>,
    /// An error every member must act on (e.g. shut down when a source topic is missing).
    pub error_code: AssignmentErrorCode,
    /// For interactive queries: each instance's `application.server` endpoint and the
    /// partitions it holds active. May be empty.
    pub partitions_by_host: BTreeMap<String, Vec<TopicPartition>>,
}

impl AssignmentInfo {
    /// An assignment carrying only `error_code`: no tasks.
    pub fn error(error_code: AssignmentErrorCode) -> Self {
        AssignmentInfo {
            latest_supported_version: ASSIGNMENT_INFO_VERSION,
            error_code,
            ..Default::default()
        }
    }

    /// Encode at [`ASSIGNMENT_INFO_VERSION`].
    pub fn encode(&self) -> Bytes {
        let mut w = Writer::default();
        w.i32(ASSIGNMENT_INFO_VERSION);
        w.i32(ASSIGNMENT_INFO_VERSION);
        w.task_partitions(&self.active_tasks);
        w.task_partitions(&self.standby_tasks);
        w.i64(match self.follow_up_rebalance_after {
            None => -1,
            Some(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        });
        w.i32(self.error_code.code());
        w.count(self.partitions_by_host.len());
        for (host, partitions) in &self.partitions_by_host {
            w.string(host);
            w.partitions(partitions);
        }
        w.finish()
    }

    /// Decode user data written by [`AssignmentInfo::encode`] (of this or a newer release).
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(WHAT, bytes);
        r.version(ASSIGNMENT_INFO_VERSION)?;
        let latest_supported_version = r.i32("latest_supported_version")?;
        let active_tasks = r.task_partitions("active_tasks")?;
        let standby_tasks = r.task_partitions("standby_tasks")?;
        let follow_up_ms = r.i64("follow_up_rebalance_after_ms")?;
        let follow_up_rebalance_after = match follow_up_ms {
            -1 => None,
            ms => Some(Duration::from_millis(u64::try_from(ms).map_err(|_| {
                r.invalid(
                    "follow_up_rebalance_after_ms",
                    format!("{ms} is negative (only -1, for none, is allowed)"),
                )
            })?)),
        };
        let error_code = AssignmentErrorCode::from_code(r.i32("error_code")?);
        let hosts = r.count("partitions_by_host", 2 + 4)?;
        let mut partitions_by_host = BTreeMap::new();
        for _ in 0..hosts {
            let host = r.string("partitions_by_host")?;
            let partitions = r.partitions("partitions_by_host")?;
            if partitions_by_host.contains_key(&host) {
                return Err(r.invalid("partitions_by_host", format!("{host} is listed twice")));
            }
            partitions_by_host.insert(host, partitions);
        }
        Ok(AssignmentInfo {
            latest_supported_version,
            active_tasks,
            standby_tasks,
            follow_up_rebalance_after,
            error_code,
            partitions_by_host,
        })
    }

    /// Every partition of the active tasks, sorted: what the member's consumer must be
    /// assigned.
    pub fn active_partitions(&self) -> Vec<TopicPartition> {
        let mut out: Vec<TopicPartition> = self.active_tasks.values().flatten().cloned().collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tp(topic: &str, p: i32) -> TopicPartition {
        TopicPartition::new(topic, p)
    }

    fn sample() -> AssignmentInfo {
        AssignmentInfo {
            latest_supported_version: ASSIGNMENT_INFO_VERSION,
            active_tasks: [
                (TaskId::new(0, 0), vec![tp("a", 0), tp("b", 0)]),
                (TaskId::new(1, 2), vec![tp("app-x-repartition", 2)]),
            ]
            .into(),
            standby_tasks: [(TaskId::new(0, 1), vec![tp("app-s-changelog", 1)])].into(),
            follow_up_rebalance_after: Some(Duration::from_millis(600_000)),
            error_code: AssignmentErrorCode::None,
            partitions_by_host: [("h:1".to_string(), vec![tp("a", 0)])].into(),
        }
    }

    #[test]
    fn an_assignment_round_trips() {
        let a = sample();
        assert_eq!(AssignmentInfo::decode(&a.encode()), Ok(a));
        let e = AssignmentInfo::error(AssignmentErrorCode::IncompleteSourceTopicMetadata);
        assert_eq!(AssignmentInfo::decode(&e.encode()), Ok(e));
    }

    #[test]
    fn active_partitions_are_the_tasks_partitions_sorted() {
        assert_eq!(
            sample().active_partitions(),
            vec![tp("a", 0), tp("app-x-repartition", 2), tp("b", 0)]
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(
                AssignmentInfo::decode(&bytes[..len]).is_err(),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn a_negative_follow_up_other_than_minus_one_is_refused() {
        let mut a = sample();
        a.active_tasks.clear();
        a.standby_tasks.clear();
        let mut bytes = a.encode().to_vec();
        // version, latest, two empty maps: the delay starts at byte 16.
        bytes[16..24].copy_from_slice(&(-5i64).to_be_bytes());
        let err = AssignmentInfo::decode(&bytes).expect_err("refused");
        assert!(
            err.to_string().contains("follow_up_rebalance_after_ms"),
            "{err}"
        );
    }

    #[test]
    fn a_task_listed_twice_is_refused() {
        let mut w = Writer::default();
        w.i32(1);
        w.i32(1);
        w.i32(2);
        for _ in 0..2 {
            w.task(&TaskId::new(0, 0));
            w.partitions(&[]);
        }
        let err = AssignmentInfo::decode(&w.finish()).expect_err("refused");
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    fn partitions() -> impl Strategy<Value = Vec<TopicPartition>> {
        proptest::collection::vec(
            ("[a-z-]{0,12}", 0i32..100).prop_map(|(t, p)| tp(&t, p)),
            0..5,
        )
    }

    fn task_map() -> impl Strategy<Value = BTreeMap<TaskId, Vec<TopicPartition>>> {
        proptest::collection::btree_map(
            (0u32..10, 0i32..30).prop_map(|(s, p)| TaskId::new(s, p)),
            partitions(),
            0..8,
        )
    }

    proptest! {
        #[test]
        fn any_assignment_round_trips(
            active in task_map(),
            standby in task_map(),
            after in proptest::option::of(0u64..10_000_000),
            code in -1i32..6,
            hosts in proptest::collection::btree_map("[a-z]{1,8}:[0-9]{2}", partitions(), 0..4),
        ) {
            let a = AssignmentInfo {
                latest_supported_version: ASSIGNMENT_INFO_VERSION,
                active_tasks: active,
                standby_tasks: standby,
                follow_up_rebalance_after: after.map(Duration::from_millis),
                error_code: AssignmentErrorCode::from_code(code),
                partitions_by_host: hosts,
            };
            prop_assert_eq!(AssignmentInfo::decode(&a.encode()), Ok(a));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = AssignmentInfo::decode(&bytes);
        }

        #[test]
        fn flipped_bytes_never_panic(index in 0usize..500, byte in any::<u8>()) {
            let mut bytes = sample().encode().to_vec();
            let i = index % bytes.len();
            bytes[i] = byte;
            let _ = AssignmentInfo::decode(&bytes);
        }
    }
}
