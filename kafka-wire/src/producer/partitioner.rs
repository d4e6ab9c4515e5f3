//! Choosing a partition for a record, identically to the Java client.
//!
//! * A record with an explicit partition goes there.
//! * A keyed record goes to `(murmur2(key) & 0x7fffffff) % partitions` — the Java client's
//!   `BuiltInPartitioner.partitionForKey` and librdkafka's `murmur2_random`, byte for byte, so
//!   mixed-language producers agree on where a key lives.
//! * A keyless record uses sticky partitioning (KIP-480/KIP-794): all records go to one partition
//!   until `batch.size` bytes have been produced to it, then the producer switches to another,
//!   chosen at random among partitions that currently have a leader.
//!
//! Custom strategies implement [`Partitioner`].

use std::collections::HashMap;
use std::sync::Mutex;

/// Kafka's murmur2 (seed `0x9747b28c`), as `org.apache.kafka.common.utils.Utils.murmur2`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition the Java client picks for a serialized key among `partitions`.
pub fn partition_for_key(key: &[u8], partitions: usize) -> i32 {
    debug_assert!(partitions > 0);
    ((murmur2(key) & 0x7fff_ffff) as usize % partitions.max(1)) as i32
}

/// What a partitioner sees of a topic when it picks a partition.
#[derive(Debug, Clone, Copy)]
pub struct TopicInfo<'a> {
    /// The topic.
    pub topic: &'a str,
    /// Number of partitions.
    pub partitions: usize,
    /// Partitions that currently have a leader (empty while unknown).
    pub available: &'a [i32],
}

/// A strategy for choosing partitions.
pub trait Partitioner: Send + Sync + std::fmt::Debug {
    /// The partition for a record with `key` (serialized), or `None` to use the built-in
    /// choice (murmur2 for keyed records, sticky for keyless ones).
    fn partition(&self, topic: &TopicInfo<'_>, key: Option<&[u8]>) -> Option<i32>;
}

/// The Java client's default: murmur2 for keys, sticky for keyless records.
#[derive(Debug, Default)]
pub struct DefaultPartitioner {
    sticky: StickyPartitioner,
}

impl DefaultPartitioner {
    /// A default partitioner switching keyless partitions after `batch_size` bytes.
    pub fn new(batch_size: usize) -> Self {
        DefaultPartitioner {
            sticky: StickyPartitioner::new(batch_size),
        }
    }

    /// Pick the partition for a record; `size` is its estimated encoded size, counted towards
    /// the sticky partition's switch threshold.
    pub fn choose(&self, topic: &TopicInfo<'_>, key: Option<&[u8]>, size: usize) -> i32 {
        match key {
            Some(k) => partition_for_key(k, topic.partitions),
            None => self.sticky.choose(topic, size),
        }
    }
}

/// Sticky partitioning for keyless records (KIP-794's uniform sticky partitioner).
#[derive(Debug)]
pub struct StickyPartitioner {
    batch_size: usize,
    state: Mutex<HashMap<String, (i32, usize)>>,
}

impl Default for StickyPartitioner {
    fn default() -> Self {
        StickyPartitioner::new(16_384)
    }
}

impl StickyPartitioner {
    /// Switch partitions after `batch_size` bytes (the producer's `batch.size`).
    pub fn new(batch_size: usize) -> Self {
        StickyPartitioner {
            batch_size: batch_size.max(1),
            state: Mutex::new(HashMap::new()),
        }
    }

    fn pick(topic: &TopicInfo<'_>, not: Option<i32>) -> i32 {
        let candidates: Vec<i32> = if topic.available.is_empty() {
            (0..topic.partitions as i32).collect()
        } else {
            topic.available.to_vec()
        };
        let choices: Vec<i32> = candidates
            .iter()
            .copied()
            .filter(|p| Some(*p) != not || candidates.len() == 1)
            .collect();
        // Never empty: partitions > 0, and a lone candidate is kept even if it is `not`.
        choices[rand::random_range(0..choices.len())]
    }

    /// The partition for a keyless record of `size` bytes.
    pub fn choose(&self, topic: &TopicInfo<'_>, size: usize) -> i32 {
        if topic.partitions == 0 {
            return 0;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let entry = state
            .entry(topic.topic.to_owned())
            .or_insert_with(|| (Self::pick(topic, None), 0));
        let valid = (entry.0 as usize) < topic.partitions
            && (topic.available.is_empty() || topic.available.contains(&entry.0));
        if !valid || entry.1 >= self.batch_size {
            *entry = (Self::pick(topic, Some(entry.0)), 0);
        }
        entry.1 += size;
        entry.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Produced by the Java client 4.4.0: `Utils.murmur2` and `toPositive(h) % 12`
    /// (the first six are also the vectors of Kafka's own `UtilsTest.testMurmur2`).
    const JAVA: &[(&str, i32, i32)] = &[
        ("21", -973932308, 0),
        ("foobar", -790332482, 6),
        ("a-little-bit-long-string", -985981536, 8),
        ("a-little-bit-longer-string", -1486304829, 11),
        (
            "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58897971,
            5,
        ),
        ("abc", 479470107, 3),
        ("", 275646681, 9),
        ("k", -1567496736, 8),
        ("key-12345", -952703915, 9),
    ];

    #[test]
    fn murmur2_matches_the_java_client() {
        for (key, hash, partition) in JAVA {
            assert_eq!(murmur2(key.as_bytes()), *hash, "{key}");
            assert_eq!(partition_for_key(key.as_bytes(), 12), *partition, "{key}");
        }
    }

    #[test]
    fn sticky_switches_after_batch_size_bytes() {
        let p = StickyPartitioner::new(1000);
        let t = TopicInfo {
            topic: "t",
            partitions: 6,
            available: &[],
        };
        let first = p.choose(&t, 100);
        for _ in 0..9 {
            assert_eq!(p.choose(&t, 100), first);
        }
        let next = p.choose(&t, 100);
        assert_ne!(
            next, first,
            "switches once batch.size bytes went to a partition"
        );
    }

    #[test]
    fn sticky_only_uses_available_partitions() {
        let p = StickyPartitioner::new(10);
        let t = TopicInfo {
            topic: "t",
            partitions: 6,
            available: &[4],
        };
        for _ in 0..50 {
            assert_eq!(p.choose(&t, 7), 4);
        }
    }
}
