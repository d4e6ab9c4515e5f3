//! The building blocks of the assignor's user-data formats ([`super::subscription_info`],
//! [`super::assignment_info`]): big-endian integers, length-prefixed strings and arrays, task
//! ids and partitions, and a reader that checks every length and count against the bytes
//! left before it allocates.

use std::collections::BTreeMap;

use bytes::{BufMut, BytesMut};
use kafka_wire::protocol::Uuid;
use kafka_wire::TopicPartition;

use crate::TaskId;

/// User data that cannot be read: what was wrong, and in which field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The data ended before a field was complete.
    #[error("{what}: field {field} needs {needed} more bytes but only {remaining} are left (truncated user data)")]
    Truncated {
        /// The format (`SubscriptionInfo`, `AssignmentInfo`).
        what: &'static str,
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left.
        remaining: usize,
    },
    /// A length or count is negative (other than -1 for "none" where allowed) or larger than
    /// the bytes left could hold.
    #[error(
        "{what}: field {field} has length {length}, which the {remaining} bytes left cannot hold"
    )]
    BadLength {
        /// The format.
        what: &'static str,
        /// The field being read.
        field: &'static str,
        /// The length or count read.
        length: i64,
        /// Bytes left.
        remaining: usize,
    },
    /// A version this code cannot read.
    #[error("{what}: version {version} is not supported (this member reads versions 1 to {latest}); are all application instances running compatible releases?")]
    UnsupportedVersion {
        /// The format.
        what: &'static str,
        /// The version read.
        version: i32,
        /// The newest version this code knows.
        latest: i32,
    },
    /// A field holds a value that is not allowed.
    #[error("{what}: field {field} is invalid: {detail}")]
    Invalid {
        /// The format.
        what: &'static str,
        /// The field being read.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
}

/// Writes the formats' fields.
#[derive(Debug, Default)]
pub(super) struct Writer {
    buf: BytesMut,
}

impl Writer {
    pub(super) fn finish(self) -> bytes::Bytes {
        self.buf.freeze()
    }

    pub(super) fn i16(&mut self, v: i16) {
        self.buf.put_i16(v);
    }

    pub(super) fn i32(&mut self, v: i32) {
        self.buf.put_i32(v);
    }

    pub(super) fn i64(&mut self, v: i64) {
        self.buf.put_i64(v);
    }

    /// A count of elements. Counts come from in-memory collections, far below `i32::MAX`.
    pub(super) fn count(&mut self, n: usize) {
        self.i32(i32::try_from(n).unwrap_or(i32::MAX));
    }

    pub(super) fn uuid(&mut self, id: &Uuid) {
        self.buf.put_slice(&id.0);
    }

    /// An `i16` length and UTF-8 bytes. Strings longer than `i16::MAX` bytes (no topic name or
    /// endpoint is) are cut at a character boundary.
    pub(super) fn string(&mut self, s: &str) {
        let mut end = s.len().min(i16::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.i16(end as i16);
        self.buf.put_slice(&s.as_bytes()[..end]);
    }

    /// An optional string: length -1 for none.
    pub(super) fn nullable_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.i16(-1),
        }
    }

    pub(super) fn task(&mut self, task: &TaskId) {
        self.buf.put_u32(task.subtopology);
        self.i32(task.partition);
    }

    pub(super) fn tasks<'a>(&mut self, tasks: impl ExactSizeIterator<Item = &'a TaskId>) {
        self.count(tasks.len());
        for t in tasks {
            self.task(t);
        }
    }

    pub(super) fn partitions(&mut self, partitions: &[TopicPartition]) {
        self.count(partitions.len());
        for tp in partitions {
            self.string(&tp.topic);
            self.i32(tp.partition);
        }
    }

    pub(super) fn task_partitions(&mut self, map: &BTreeMap<TaskId, Vec<TopicPartition>>) {
        self.count(map.len());
        for (task, partitions) in map {
            self.task(task);
            self.partitions(partitions);
        }
    }
}

/// Smallest encoded sizes, used to bound counts before allocating.
pub(super) const TASK_SIZE: usize = 8;
/// A partition is at least an empty topic name (2 bytes) and an index (4 bytes).
pub(super) const PARTITION_SIZE: usize = 6;

/// Reads the formats' fields from a byte slice; never panics, never allocates more than the
/// input could describe.
#[derive(Debug)]
pub(super) struct Reader<'a> {
    what: &'static str,
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(what: &'static str, buf: &'a [u8]) -> Self {
        Reader { what, buf }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError::Truncated {
                what: self.what,
                field,
                needed: n,
                remaining: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodecError> {
        let bytes = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(super) fn i16(&mut self, field: &'static str) -> Result<i16, CodecError> {
        self.array(field).map(i16::from_be_bytes)
    }

    pub(super) fn i32(&mut self, field: &'static str) -> Result<i32, CodecError> {
        self.array(field).map(i32::from_be_bytes)
    }

    pub(super) fn u32(&mut self, field: &'static str) -> Result<u32, CodecError> {
        self.array(field).map(u32::from_be_bytes)
    }

    pub(super) fn i64(&mut self, field: &'static str) -> Result<i64, CodecError> {
        self.array(field).map(i64::from_be_bytes)
    }

    pub(super) fn uuid(&mut self, field: &'static str) -> Result<Uuid, CodecError> {
        self.array(field).map(Uuid)
    }

    pub(super) fn invalid(&self, field: &'static str, detail: impl Into<String>) -> CodecError {
        CodecError::Invalid {
            what: self.what,
            field,
            detail: detail.into(),
        }
    }

    fn bad_length(&self, field: &'static str, length: i64) -> CodecError {
        CodecError::BadLength {
            what: self.what,
            field,
            length,
            remaining: self.buf.len(),
        }
    }

    /// A count of elements of at least `min_size` bytes each, or `None` for -1 when
    /// `nullable`; checked against the bytes left.
    fn checked_count(
        &mut self,
        field: &'static str,
        min_size: usize,
        nullable: bool,
    ) -> Result<Option<usize>, CodecError> {
        let n = self.i32(field)?;
        if n == -1 && nullable {
            return Ok(None);
        }
        let count = usize::try_from(n).map_err(|_| self.bad_length(field, n.into()))?;
        if count.saturating_mul(min_size.max(1)) > self.buf.len() {
            return Err(self.bad_length(field, n.into()));
        }
        Ok(Some(count))
    }

    /// A count of elements of at least `min_size` bytes each.
    pub(super) fn count(
        &mut self,
        field: &'static str,
        min_size: usize,
    ) -> Result<usize, CodecError> {
        self.checked_count(field, min_size, false)
            .map(Option::unwrap_or_default)
    }

    /// A count, or `None` for -1.
    pub(super) fn nullable_count(
        &mut self,
        field: &'static str,
        min_size: usize,
    ) -> Result<Option<usize>, CodecError> {
        self.checked_count(field, min_size, true)
    }

    pub(super) fn string(&mut self, field: &'static str) -> Result<String, CodecError> {
        self.nullable_string(field)?
            .ok_or_else(|| self.bad_length(field, -1))
    }

    pub(super) fn nullable_string(
        &mut self,
        field: &'static str,
    ) -> Result<Option<String>, CodecError> {
        let n = self.i16(field)?;
        if n == -1 {
            return Ok(None);
        }
        let len = usize::try_from(n).map_err(|_| self.bad_length(field, n.into()))?;
        let bytes = self.take(len, field)?;
        let s = std::str::from_utf8(bytes).map_err(|e| self.invalid(field, e.to_string()))?;
        Ok(Some(s.to_owned()))
    }

    pub(super) fn task(&mut self, field: &'static str) -> Result<TaskId, CodecError> {
        let subtopology = self.u32(field)?;
        let partition = self.i32(field)?;
        if partition < 0 {
            return Err(self.invalid(
                field,
                format!("task {subtopology}_{partition} has a negative partition"),
            ));
        }
        Ok(TaskId::new(subtopology, partition))
    }

    pub(super) fn tasks(&mut self, field: &'static str) -> Result<Vec<TaskId>, CodecError> {
        let n = self.count(field, TASK_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.task(field)?);
        }
        Ok(out)
    }

    pub(super) fn partition(&mut self, field: &'static str) -> Result<TopicPartition, CodecError> {
        let topic = self.string(field)?;
        let partition = self.i32(field)?;
        if partition < 0 {
            return Err(self.invalid(field, format!("partition {topic}-{partition} is negative")));
        }
        Ok(TopicPartition::new(topic, partition))
    }

    pub(super) fn partitions(
        &mut self,
        field: &'static str,
    ) -> Result<Vec<TopicPartition>, CodecError> {
        let n = self.count(field, PARTITION_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.partition(field)?);
        }
        Ok(out)
    }

    pub(super) fn task_partitions(
        &mut self,
        field: &'static str,
    ) -> Result<BTreeMap<TaskId, Vec<TopicPartition>>, CodecError> {
        let n = self.count(field, TASK_SIZE + 4)?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let task = self.task(field)?;
            let partitions = self.partitions(field)?;
            if out.insert(task, partitions).is_some() {
                return Err(self.invalid(field, format!("task {task} is listed twice")));
            }
        }
        Ok(out)
    }

    /// The leading version: 1 to `latest`; a newer one is read as `latest`, as newer versions
    /// only append fields.
    pub(super) fn version(&mut self, latest: i32) -> Result<i32, CodecError> {
        let version = self.i32("version")?;
        if version < 1 {
            return Err(CodecError::UnsupportedVersion {
                what: self.what,
                version,
                latest,
            });
        }
        Ok(version.min(latest))
    }
}
