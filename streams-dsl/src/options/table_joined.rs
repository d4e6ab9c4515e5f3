//! [`TableJoined`]: the name and partitioners of a foreign-key table join.

use std::sync::Arc;

/// Where a key's records go: `(topic, key, partition count)` → a partition, `None` for the
/// default partitioner (Kafka's `StreamPartitioner<K, Void>`).
pub type KeyPartitioner<K> = Arc<dyn Fn(&str, &K, i32) -> Option<i32> + Send + Sync>;

/// A foreign-key join's name and partitioners (Kafka's `TableJoined`): the name prefixes its
/// processors, store and internal topics (`<name>-subscription-registration-topic`, …);
/// `partitioner` is how the left table is partitioned (the response topic follows it),
/// `other_partitioner` how the right one is (the registration topic follows it). Without
/// them both topics use the default partitioner of the serialized key.
pub struct TableJoined<K, KO> {
    pub(crate) name: Option<String>,
    pub(crate) partitioner: Option<KeyPartitioner<K>>,
    pub(crate) other_partitioner: Option<KeyPartitioner<KO>>,
}

impl<K, KO> Default for TableJoined<K, KO> {
    fn default() -> Self {
        TableJoined {
            name: None,
            partitioner: None,
            other_partitioner: None,
        }
    }
}

impl<K, KO> std::fmt::Debug for TableJoined<K, KO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableJoined")
            .field("name", &self.name)
            .field("partitioner", &self.partitioner.is_some())
            .field("other_partitioner", &self.other_partitioner.is_some())
            .finish()
    }
}

impl<K, KO> TableJoined<K, KO> {
    /// A join named `name` (Kafka's `TableJoined.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        TableJoined {
            name: Some(name.into()),
            ..TableJoined::default()
        }
    }

    /// With these partitioners of the left and the right table (Kafka's `TableJoined.with`).
    pub fn with(
        partitioner: Option<KeyPartitioner<K>>,
        other_partitioner: Option<KeyPartitioner<KO>>,
    ) -> Self {
        TableJoined {
            name: None,
            partitioner,
            other_partitioner,
        }
    }

    /// Named `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How the left table is partitioned.
    pub fn with_partitioner(mut self, p: KeyPartitioner<K>) -> Self {
        self.partitioner = Some(p);
        self
    }

    /// How the right (foreign-key) table is partitioned.
    pub fn with_other_partitioner(mut self, p: KeyPartitioner<KO>) -> Self {
        self.other_partitioner = Some(p);
        self
    }
}
