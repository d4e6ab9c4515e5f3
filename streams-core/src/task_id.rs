//! Task ids as Kafka Streams writes them: `<subtopology>_<partition>`.

use std::fmt;
use std::str::FromStr;

/// A task: one partition of one sub-topology (Kafka's `TaskId`, without named topologies).
///
/// Ordered by sub-topology, then partition, as Kafka sorts them. Displays and parses as
/// `0_3` (sub-topology 0, partition 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    /// The sub-topology (Kafka's `topicGroupId`, `subtopology` in KIP-1071).
    pub subtopology: u32,
    /// The partition of the sub-topology's source topics this task processes.
    pub partition: i32,
}

impl TaskId {
    /// The task for `partition` of `subtopology`.
    pub const fn new(subtopology: u32, partition: i32) -> Self {
        TaskId {
            subtopology,
            partition,
        }
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.subtopology, self.partition)
    }
}

/// A string that is not `<subtopology>_<partition>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task id {0:?} is not <subtopology>_<partition> (e.g. 0_3)")]
pub struct TaskIdParseError(pub String);

impl FromStr for TaskId {
    type Err = TaskIdParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TaskIdParseError(s.to_owned());
        let (sub, part) = s.split_once('_').ok_or_else(err)?;
        let subtopology = sub.parse().map_err(|_| err())?;
        let partition: i32 = part.parse().map_err(|_| err())?;
        if partition < 0 {
            return Err(err());
        }
        Ok(TaskId {
            subtopology,
            partition,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_read_as_kafka_does() {
        let id = TaskId::new(1, 12);
        assert_eq!(id.to_string(), "1_12");
        assert_eq!("1_12".parse::<TaskId>(), Ok(id));
        assert!("1-12".parse::<TaskId>().is_err());
        assert!("x_1".parse::<TaskId>().is_err());
        assert!("0_-1".parse::<TaskId>().is_err());
        let mut ids = vec![TaskId::new(1, 0), TaskId::new(0, 2), TaskId::new(0, 1)];
        ids.sort();
        assert_eq!(
            ids,
            vec![TaskId::new(0, 1), TaskId::new(0, 2), TaskId::new(1, 0)]
        );
    }
}
