//! [`TestInputTopic`]: pipes typed records into one of the topology's input topics (Java's
//! `TestInputTopic`), with a current time that records without a timestamp take and that
//! advances by a fixed step after each of them.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::core::{DriverCore, RawRecord};
use super::error::TestDriverError;
use super::record::TestRecord;
use crate::serde::Serializer;

/// An input topic of a [`TopologyTestDriver`](super::TopologyTestDriver): each piped record is
/// processed at once, with everything it leads to, before the call returns.
pub struct TestInputTopic<K, V> {
    pub(crate) core: Rc<RefCell<DriverCore>>,
    pub(crate) topic: String,
    pub(crate) key_serializer: Box<dyn Serializer<K>>,
    pub(crate) value_serializer: Box<dyn Serializer<V>>,
    /// The timestamp (ms) of the next record piped without one.
    pub(crate) current_time: i64,
    /// How much `current_time` advances after each such record.
    pub(crate) auto_advance: i64,
}

impl<K, V> std::fmt::Debug for TestInputTopic<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestInputTopic")
            .field("topic", &self.topic)
            .field("current_time", &self.current_time)
            .field("auto_advance", &self.auto_advance)
            .finish()
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl<K: 'static, V: 'static> TestInputTopic<K, V> {
    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The timestamp (ms) the next record piped without one gets.
    pub fn current_time(&self) -> i64 {
        self.current_time
    }

    /// Move the topic's current time forward by `by` (Java's `advanceTime`).
    pub fn advance_time(&mut self, by: Duration) {
        self.current_time = self.current_time.saturating_add(ms(by));
    }

    fn next_timestamp(&mut self) -> i64 {
        let t = self.current_time;
        self.current_time = self.current_time.saturating_add(self.auto_advance);
        t
    }

    fn send(
        &self,
        key: Option<&K>,
        value: &V,
        timestamp: i64,
        headers: Vec<kafka_wire::protocol::record_batch::Header>,
    ) -> Result<(), TestDriverError> {
        let serde = |role: &'static str| {
            let topic = self.topic.clone();
            move |source| TestDriverError::Serde {
                topic,
                role,
                source,
            }
        };
        let key = match key {
            Some(k) => self
                .key_serializer
                .serialize(&self.topic, k)
                .map_err(serde("key"))?,
            None => None,
        };
        let value = self
            .value_serializer
            .serialize(&self.topic, value)
            .map_err(serde("value"))?;
        let record = RawRecord {
            key,
            value,
            timestamp,
            headers,
        };
        self.core.borrow_mut().pipe(&self.topic, record)
    }

    /// Pipe `key` and `value`, stamped with the topic's current time (which then advances).
    pub fn pipe_input(&mut self, key: K, value: V) -> Result<(), TestDriverError> {
        let t = self.next_timestamp();
        self.send(Some(&key), &value, t, Vec::new())
    }

    /// Pipe `key` and `value` stamped `timestamp` (ms); the topic's current time stays.
    pub fn pipe_input_with_timestamp(
        &mut self,
        key: K,
        value: V,
        timestamp: i64,
    ) -> Result<(), TestDriverError> {
        self.send(Some(&key), &value, timestamp, Vec::new())
    }

    /// Pipe `value` with a null key, stamped with the topic's current time.
    pub fn pipe_value(&mut self, value: V) -> Result<(), TestDriverError> {
        let t = self.next_timestamp();
        self.send(None, &value, t, Vec::new())
    }

    /// Pipe `value` with a null key, stamped `timestamp` (ms).
    pub fn pipe_value_with_timestamp(
        &mut self,
        value: V,
        timestamp: i64,
    ) -> Result<(), TestDriverError> {
        self.send(None, &value, timestamp, Vec::new())
    }

    /// Pipe `record` with its headers; without a timestamp it takes the current time.
    pub fn pipe_record(&mut self, record: TestRecord<K, V>) -> Result<(), TestDriverError> {
        let t = match record.timestamp {
            Some(t) => t,
            None => self.next_timestamp(),
        };
        self.send(Some(&record.key), &record.value, t, record.headers)
    }

    /// Pipe `records` in order (Java's `pipeRecordList`).
    pub fn pipe_record_list(
        &mut self,
        records: impl IntoIterator<Item = TestRecord<K, V>>,
    ) -> Result<(), TestDriverError> {
        records.into_iter().try_for_each(|r| self.pipe_record(r))
    }

    /// Pipe `(key, value)` pairs in order, each stamped with the current time.
    pub fn pipe_key_value_list(
        &mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), TestDriverError> {
        pairs
            .into_iter()
            .try_for_each(|(k, v)| self.pipe_input(k, v))
    }

    /// Pipe values with null keys in order, each stamped with the current time.
    pub fn pipe_value_list(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> Result<(), TestDriverError> {
        values.into_iter().try_for_each(|v| self.pipe_value(v))
    }

    /// Pipe `(key, value)` pairs stamped `start`, `start + advance`, … (ms); the topic's
    /// current time stays.
    pub fn pipe_key_value_list_from(
        &mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
        start: i64,
        advance: Duration,
    ) -> Result<(), TestDriverError> {
        let mut t = start;
        for (k, v) in pairs {
            self.send(Some(&k), &v, t, Vec::new())?;
            t = t.saturating_add(ms(advance));
        }
        Ok(())
    }

    /// Pipe values with null keys stamped `start`, `start + advance`, … (ms; Java's
    /// `pipeValueList(values, startTimestamp, advance)`); the topic's current time stays.
    pub fn pipe_value_list_from(
        &mut self,
        values: impl IntoIterator<Item = V>,
        start: i64,
        advance: Duration,
    ) -> Result<(), TestDriverError> {
        let mut t = start;
        for v in values {
            self.send(None, &v, t, Vec::new())?;
            t = t.saturating_add(ms(advance));
        }
        Ok(())
    }
}
