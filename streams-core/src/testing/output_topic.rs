//! [`TestOutputTopic`]: reads, in order, the typed records the topology produced to a topic
//! (Java's `TestOutputTopic`). Reading consumes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::core::DriverCore;
use super::error::TestDriverError;
use super::record::TestRecord;
use crate::processor::OutgoingRecord;
use crate::serde::Deserializer;

/// A topic the topology writes (a sink's topic; repartition and changelog topics too),
/// read from its first record not read yet.
pub struct TestOutputTopic<K, V> {
    pub(crate) core: Rc<RefCell<DriverCore>>,
    pub(crate) topic: String,
    pub(crate) key_deserializer: Box<dyn Deserializer<K>>,
    pub(crate) value_deserializer: Box<dyn Deserializer<V>>,
}

impl<K, V> std::fmt::Debug for TestOutputTopic<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestOutputTopic")
            .field("topic", &self.topic)
            .finish()
    }
}

impl<K: 'static, V: 'static> TestOutputTopic<K, V> {
    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    fn next(&self) -> Result<OutgoingRecord, TestDriverError> {
        self.core
            .borrow_mut()
            .captured
            .get_mut(&self.topic)
            .and_then(|q| q.pop_front())
            .ok_or_else(|| TestDriverError::NoRecord {
                topic: self.topic.clone(),
            })
    }

    fn decode(&self, r: OutgoingRecord) -> Result<TestRecord<K, V>, TestDriverError> {
        let serde = |role: &'static str| {
            let topic = self.topic.clone();
            move |source| TestDriverError::Serde {
                topic,
                role,
                source,
            }
        };
        let key = self
            .key_deserializer
            .deserialize(&self.topic, r.key.as_deref())
            .map_err(serde("key"))?;
        let value = self
            .value_deserializer
            .deserialize(&self.topic, r.value.as_deref())
            .map_err(serde("value"))?;
        Ok(TestRecord {
            key,
            value,
            timestamp: Some(r.timestamp),
            headers: r.headers,
        })
    }

    /// The next record: key, value, timestamp and headers.
    pub fn read_record(&self) -> Result<TestRecord<K, V>, TestDriverError> {
        let r = self.next()?;
        self.decode(r)
    }

    /// The next record's key and value.
    pub fn read_key_value(&self) -> Result<(K, V), TestDriverError> {
        self.read_record().map(|r| (r.key, r.value))
    }

    /// The next record's value.
    pub fn read_value(&self) -> Result<V, TestDriverError> {
        self.read_record().map(|r| r.value)
    }

    /// Every record not read yet, in order.
    pub fn read_records_to_list(&self) -> Result<Vec<TestRecord<K, V>>, TestDriverError> {
        let pending: Vec<OutgoingRecord> = self
            .core
            .borrow_mut()
            .captured
            .get_mut(&self.topic)
            .map(|q| q.drain(..).collect())
            .unwrap_or_default();
        pending.into_iter().map(|r| self.decode(r)).collect()
    }

    /// The keys and values of every record not read yet, in order.
    pub fn read_key_values_to_list(&self) -> Result<Vec<(K, V)>, TestDriverError> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|r| (r.key, r.value))
            .collect())
    }

    /// The values of every record not read yet, in order.
    pub fn read_values_to_list(&self) -> Result<Vec<V>, TestDriverError> {
        Ok(self
            .read_records_to_list()?
            .into_iter()
            .map(|r| r.value)
            .collect())
    }

    /// The last value of each key among the records not read yet (a table's latest state).
    pub fn read_key_values_to_map(&self) -> Result<BTreeMap<K, V>, TestDriverError>
    where
        K: Ord,
    {
        Ok(self.read_key_values_to_list()?.into_iter().collect())
    }

    /// How many records are left to read.
    pub fn queue_size(&self) -> usize {
        self.core
            .borrow()
            .captured
            .get(&self.topic)
            .map_or(0, |q| q.len())
    }

    /// Whether every record was read.
    pub fn is_empty(&self) -> bool {
        self.queue_size() == 0
    }
}
