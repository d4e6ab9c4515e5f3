//! Choosing a partition for a record, as the Java client does (KIP-480 and KIP-794).
//!
//! * A record with an explicit partition goes there.
//! * A keyed record goes to `(murmur2(key) & 0x7fffffff) % partitions` — the Java client's
//!   `BuiltInPartitioner.partitionForKey` and librdkafka's `murmur2_random`, byte for byte, so
//!   mixed-language producers agree on where a key lives. With `partitioner.ignore.keys=true`
//!   keys are not looked at and keyed records are partitioned like keyless ones.
//! * A keyless record uses sticky partitioning: all records go to one partition until
//!   `batch.size` bytes have been produced to it, then the producer switches to another:
//!   * `partitioner.adaptive.partitioning.enable=true` (the default): the next partition is
//!     drawn at random, weighted by how few batches wait for it in the accumulator. A partition
//!     whose queue holds `q` batches weighs `max(q) + 1 - q`; the weights are kept as a
//!     cumulative frequency table searched with one uniform draw (Java's
//!     `BuiltInPartitioner.updatePartitionLoadStats`/`nextPartition`). The accumulator reports
//!     its queue lengths ([`QueueLengths`]) on every ready pass of the sender, which turns them
//!     into [`PartitionLoadStats`]; a send only reads the table when it switches. While no
//!     lengths are known, or all queues are equally long, the choice is uniform.
//!   * `partitioner.availability.timeout.ms` > 0 (adaptive only, as in Java): partitions whose
//!     leader has had batches ready that it could not take (all
//!     `max.in.flight.requests.per.connection` slots busy) for longer than that are left out of
//!     the table ([`NodeLatencyStats`], Java's `RecordAccumulator.updateNodeLatencyStats`).
//!   * `partitioner.adaptive.partitioning.enable=false`: uniform among partitions that have a
//!     leader (all partitions while none is known).
//!
//! Deliberate differences from Java 4.x: partitions with no queued batch count as length 0 at
//! once (Java waits until every partition has had a batch); a uniform switch never stays on the
//! current partition (Java may draw it again; a weighted draw may, as in Java); and the switch
//! happens once `batch.size` bytes were produced even if the partition's last batch is not full
//! (Java may wait for the batch to fill, up to 2 × `batch.size`).
//!
//! Custom strategies implement [`Partitioner`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ProducerConfig;
use crate::cluster::{ClusterMetadata, PartitionMetadata};

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

/// The partitions a sticky switch may land on, read in place (nothing is collected per record).
trait Candidates {
    /// Number of partitions of the topic.
    fn partitions(&self) -> usize;
    /// How many partitions have a leader; 0 while unknown (then every partition is a candidate).
    fn available_len(&self) -> usize;
    /// The `i`-th partition with a leader, `i < available_len()`.
    fn available_nth(&self, i: usize) -> Option<i32>;
    /// Where `p` is among the partitions with a leader.
    fn available_position(&self, p: i32) -> Option<usize>;
    /// Whether `p` exists and may be written to now.
    fn is_available(&self, p: i32) -> bool;
}

impl Candidates for TopicInfo<'_> {
    fn partitions(&self) -> usize {
        self.partitions
    }

    fn available_len(&self) -> usize {
        self.available.len()
    }

    fn available_nth(&self, i: usize) -> Option<i32> {
        self.available.get(i).copied()
    }

    fn available_position(&self, p: i32) -> Option<usize> {
        self.available.iter().position(|a| *a == p)
    }

    fn is_available(&self, p: i32) -> bool {
        usize::try_from(p).is_ok_and(|i| i < self.partitions)
            && (self.available.is_empty() || self.available.contains(&p))
    }
}

/// A topic's partitions straight from the metadata cache.
struct Leaders<'a>(&'a [PartitionMetadata]);

impl Leaders<'_> {
    fn led(&self) -> impl Iterator<Item = &PartitionMetadata> + '_ {
        self.0.iter().filter(|m| m.leader.is_some())
    }
}

impl Candidates for Leaders<'_> {
    fn partitions(&self) -> usize {
        self.0.len()
    }

    fn available_len(&self) -> usize {
        self.led().count()
    }

    fn available_nth(&self, i: usize) -> Option<i32> {
        self.led().nth(i).map(|m| m.partition)
    }

    fn available_position(&self, p: i32) -> Option<usize> {
        self.led().position(|m| m.partition == p)
    }

    fn is_available(&self, p: i32) -> bool {
        // Partitions are ordered by index, so position `p` normally holds partition `p`.
        let found = usize::try_from(p)
            .ok()
            .and_then(|i| self.0.get(i))
            .filter(|m| m.partition == p)
            .or_else(|| self.0.iter().find(|m| m.partition == p));
        match found {
            Some(m) if m.leader.is_some() => true,
            // While no partition has a leader, any partition will do (as with `TopicInfo`).
            Some(_) => self.available_len() == 0,
            None => false,
        }
    }
}

/// A uniformly random candidate other than `not` (unless it is the only one).
fn pick_uniform(c: &impl Candidates, not: Option<i32>) -> i32 {
    let listed = c.available_len();
    let n = if listed == 0 { c.partitions() } else { listed };
    let nth = |i: usize| {
        if listed == 0 {
            i32::try_from(i).unwrap_or(0)
        } else {
            c.available_nth(i).unwrap_or(0)
        }
    };
    if n <= 1 {
        return nth(0);
    }
    let skip = not.and_then(|p| {
        if listed == 0 {
            usize::try_from(p).ok().filter(|i| *i < n)
        } else {
            c.available_position(p)
        }
    });
    match skip {
        Some(s) => {
            let r = rand::random_range(0..n - 1);
            nth(if r >= s { r + 1 } else { r })
        }
        None => nth(rand::random_range(0..n)),
    }
}

/// Batches waiting in the accumulator, per partition, grouped by topic: what one ready pass of
/// the sender saw. Partitions with nothing queued are simply absent. Reused from pass to pass:
/// once its buffers have grown, filling it allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct QueueLengths {
    /// Topic names with the end of their run in `queues`; entries from `used` on are spares
    /// kept for their allocations.
    topics: Vec<(String, usize)>,
    used: usize,
    /// `(partition, batches)`, topic after topic, each run in increasing partition order.
    queues: Vec<(i32, usize)>,
}

impl QueueLengths {
    /// Forget the previous pass (keeping the buffers).
    pub fn clear(&mut self) {
        self.used = 0;
        self.queues.clear();
    }

    /// Note that `batches` batches wait for `partition` of `topic`. The partitions of a topic
    /// must come one after another in increasing order (the accumulator's order).
    pub fn push(&mut self, topic: &str, partition: i32, batches: usize) {
        let same_topic = self.used > 0 && self.topics[self.used - 1].0 == topic;
        if !same_topic {
            if self.used == self.topics.len() {
                self.topics.push((topic.to_owned(), 0));
            } else {
                let name = &mut self.topics[self.used].0;
                name.clear();
                name.push_str(topic);
            }
            self.used += 1;
        }
        debug_assert!(
            !same_topic || self.queues.last().is_none_or(|(p, _)| *p < partition),
            "partitions of a topic must be pushed in increasing order"
        );
        self.queues.push((partition, batches));
        self.topics[self.used - 1].1 = self.queues.len();
    }

    /// Each topic seen with its `(partition, batches)` in increasing partition order.
    pub fn topics(&self) -> impl Iterator<Item = (&str, &[(i32, usize)])> + '_ {
        let mut start = 0;
        self.topics[..self.used].iter().map(move |(name, end)| {
            let run = &self.queues[start..*end];
            start = *end;
            (name.as_str(), run)
        })
    }

    /// The queued batches of `topic`'s partitions, if any partition of it has some.
    pub fn get(&self, topic: &str) -> Option<&[(i32, usize)]> {
        self.topics().find(|(t, _)| *t == topic).map(|(_, q)| q)
    }

    /// The batches queued for `partition` of `topic` (0 when absent).
    pub fn len_of(&self, topic: &str, partition: i32) -> usize {
        self.get(topic).map_or(0, |q| queued(q, partition))
    }
}

/// The batches queued for `partition` in one topic's sorted run.
fn queued(run: &[(i32, usize)], partition: i32) -> usize {
    run.binary_search_by_key(&partition, |(p, _)| *p)
        .map_or(0, |i| run[i].1)
}

/// When each broker last had batches ready to send, and when it last could take them (Java's
/// `RecordAccumulator.NodeLatencyStats`): the difference is how long it has been unable to.
/// Kept by the sender, for `partitioner.availability.timeout.ms`.
#[derive(Debug, Default, Clone)]
pub struct NodeLatencyStats {
    /// node id → (last ready, last drained).
    nodes: HashMap<i32, (Instant, Instant)>,
}

impl NodeLatencyStats {
    /// The sender found batches ready for `node` at `now`; `drained` tells whether it could
    /// send them (false while all of the node's in-flight slots are taken).
    pub fn record(&mut self, node: i32, now: Instant, drained: bool) {
        let entry = self.nodes.entry(node).or_insert((now, now));
        if drained {
            entry.1 = now;
        }
        entry.0 = now;
    }

    /// How long `node` has had ready batches it could not take (zero for an unknown node).
    pub fn waiting(&self, node: i32) -> Duration {
        self.nodes
            .get(&node)
            .map_or(Duration::ZERO, |(ready, drained)| {
                ready.saturating_duration_since(*drained)
            })
    }
}

/// Turn queue lengths into a cumulative frequency table, in place (Java's
/// `BuiltInPartitioner.updatePartitionLoadStats`): each length `q` becomes the weight
/// `max + 1 - q`, then the weights become running sums. `all` is the topic's partition count
/// (`sizes` may hold fewer when partitions were left out). Returns false when the choice should
/// be uniform instead: nothing to choose from, a single partition, or all queues equally long
/// with none left out.
pub fn cumulative_frequency_table(sizes: &mut [u64], all: usize) -> bool {
    let Some(&first) = sizes.first() else {
        return false;
    };
    if all < 2 {
        return false;
    }
    let max = sizes.iter().copied().max().unwrap_or(first);
    if sizes.iter().all(|s| *s == first) && sizes.len() == all {
        return false;
    }
    let mut sum = 0u64;
    for s in sizes.iter_mut() {
        sum += max + 1 - *s;
        *s = sum;
    }
    true
}

/// One topic's weighted choice: running sums of the weights and the partitions they belong to.
/// Empty while the choice is uniform.
#[derive(Debug, Default)]
struct LoadTable {
    cft: Vec<u64>,
    ids: Vec<i32>,
}

impl LoadTable {
    fn clear(&mut self) {
        self.cft.clear();
        self.ids.clear();
    }
}

/// Per-topic partition load statistics for adaptive partitioning (KIP-794): written by the
/// sender after each ready pass ([`PartitionLoadStats::update`]), read by the sticky
/// partitioner when it switches partitions ([`PartitionLoadStats::pick`]).
#[derive(Debug)]
pub struct PartitionLoadStats {
    adaptive: bool,
    availability_timeout: Duration,
    tables: Mutex<HashMap<String, LoadTable>>,
}

impl Default for PartitionLoadStats {
    /// Java's defaults: adaptive, no availability timeout.
    fn default() -> Self {
        PartitionLoadStats::new(true, Duration::ZERO)
    }
}

impl PartitionLoadStats {
    /// `adaptive` is `partitioner.adaptive.partitioning.enable`; `availability_timeout` is
    /// `partitioner.availability.timeout.ms` (zero: off).
    pub fn new(adaptive: bool, availability_timeout: Duration) -> Self {
        PartitionLoadStats {
            adaptive,
            availability_timeout,
            tables: Mutex::new(HashMap::new()),
        }
    }

    /// Whether adaptive partitioning is on (otherwise [`update`](Self::update) does nothing).
    pub fn is_adaptive(&self) -> bool {
        self.adaptive
    }

    /// Whether the sender should keep [`NodeLatencyStats`] for this.
    pub fn tracks_availability(&self) -> bool {
        self.adaptive && !self.availability_timeout.is_zero()
    }

    /// Rebuild the tables from one ready pass. A topic the pass did not see has nothing queued:
    /// its choice becomes uniform. For a topic it saw, every partition with a leader in
    /// `metadata` takes part with its queue length (0 when absent from `queues`), except those
    /// whose leader has been [`waiting`](NodeLatencyStats::waiting) longer than the
    /// availability timeout.
    pub fn update(
        &self,
        queues: &QueueLengths,
        metadata: &ClusterMetadata,
        nodes: &NodeLatencyStats,
    ) {
        if !self.adaptive {
            return;
        }
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        for table in tables.values_mut() {
            table.clear();
        }
        for (topic, run) in queues.topics() {
            let Some(meta) = metadata.topics.get(topic) else {
                continue;
            };
            if !tables.contains_key(topic) {
                tables.insert(topic.to_owned(), LoadTable::default());
            }
            let Some(table) = tables.get_mut(topic) else {
                continue;
            };
            for p in &meta.partitions {
                let Some(leader) = p.leader else { continue };
                if self.tracks_availability() && nodes.waiting(leader) > self.availability_timeout {
                    continue;
                }
                table.ids.push(p.partition);
                table.cft.push(queued(run, p.partition) as u64);
            }
            if !cumulative_frequency_table(&mut table.cft, meta.partitions.len()) {
                table.clear();
            }
        }
    }

    /// A partition of `topic` drawn with the weights of the last update, or `None` when the
    /// choice is uniform.
    pub fn pick(&self, topic: &str) -> Option<i32> {
        let tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let table = tables.get(topic)?;
        let end = *table.cft.last()?;
        if end == 0 {
            return None;
        }
        let r = rand::random_range(0..end);
        // The first running sum strictly greater than `r`.
        let i = table.cft.partition_point(|c| *c <= r);
        table.ids.get(i).copied()
    }
}

/// The Java client's default partitioner: murmur2 for keys (unless `partitioner.ignore.keys`),
/// adaptive sticky partitioning for the rest.
#[derive(Debug, Default)]
pub struct DefaultPartitioner {
    sticky: StickyPartitioner,
    ignore_keys: bool,
}

impl DefaultPartitioner {
    /// Java's defaults, switching keyless partitions after `batch_size` bytes: keys hashed,
    /// adaptive, no availability timeout.
    pub fn new(batch_size: usize) -> Self {
        DefaultPartitioner::with_options(batch_size, PartitionLoadStats::default(), false)
    }

    /// Switch after `batch_size` bytes, weigh partitions with `load`, and with `ignore_keys`
    /// sticky-partition keyed records too.
    pub fn with_options(batch_size: usize, load: PartitionLoadStats, ignore_keys: bool) -> Self {
        DefaultPartitioner {
            sticky: StickyPartitioner::with_load_stats(batch_size, load),
            ignore_keys,
        }
    }

    /// As the producer configures it: `batch.size`, `partitioner.adaptive.partitioning.enable`,
    /// `partitioner.availability.timeout.ms` and `partitioner.ignore.keys`.
    pub fn from_config(config: &ProducerConfig) -> Self {
        DefaultPartitioner::with_options(
            config.batch_size,
            PartitionLoadStats::new(
                config.adaptive_partitioning,
                config.partitioner_availability_timeout,
            ),
            config.partitioner_ignore_keys,
        )
    }

    /// The load statistics the sender keeps up to date.
    pub fn load_stats(&self) -> &PartitionLoadStats {
        self.sticky.load_stats()
    }

    /// Whether keyed records are sticky-partitioned too (`partitioner.ignore.keys`).
    pub fn ignores_keys(&self) -> bool {
        self.ignore_keys
    }

    /// Pick the partition for a record; `size` is its estimated encoded size, counted towards
    /// the sticky partition's switch threshold.
    pub fn choose(&self, topic: &TopicInfo<'_>, key: Option<&[u8]>, size: usize) -> i32 {
        match key {
            Some(k) if !self.ignore_keys => partition_for_key(k, topic.partitions),
            _ => self.sticky.choose(topic, size),
        }
    }

    /// Like [`choose`](Self::choose), reading the partitions from the metadata cache in place.
    pub(crate) fn choose_in(
        &self,
        topic: &str,
        partitions: &[PartitionMetadata],
        key: Option<&[u8]>,
        size: usize,
    ) -> i32 {
        match key {
            Some(k) if !self.ignore_keys => partition_for_key(k, partitions.len()),
            _ => self.sticky.choose_among(topic, &Leaders(partitions), size),
        }
    }
}

/// The partition keyless records currently stick to, and the bytes produced to it.
#[derive(Debug, Clone, Copy)]
struct Sticky {
    partition: i32,
    produced: usize,
}

/// Sticky partitioning for keyless records (KIP-480, with KIP-794's adaptive switch when its
/// [`PartitionLoadStats`] are fed).
#[derive(Debug)]
pub struct StickyPartitioner {
    batch_size: usize,
    state: Mutex<HashMap<String, Sticky>>,
    load: PartitionLoadStats,
}

impl Default for StickyPartitioner {
    fn default() -> Self {
        StickyPartitioner::new(16_384)
    }
}

impl StickyPartitioner {
    /// Switch partitions after `batch_size` bytes (the producer's `batch.size`); adaptive once
    /// [`load_stats`](Self::load_stats) are updated, uniform until then.
    pub fn new(batch_size: usize) -> Self {
        StickyPartitioner::with_load_stats(batch_size, PartitionLoadStats::default())
    }

    /// Switch partitions after `batch_size` bytes, choosing the next one with `load`.
    pub fn with_load_stats(batch_size: usize, load: PartitionLoadStats) -> Self {
        StickyPartitioner {
            batch_size: batch_size.max(1),
            state: Mutex::new(HashMap::new()),
            load,
        }
    }

    /// The load statistics consulted at each switch.
    pub fn load_stats(&self) -> &PartitionLoadStats {
        &self.load
    }

    /// The partition for a keyless record of `size` bytes.
    pub fn choose(&self, topic: &TopicInfo<'_>, size: usize) -> i32 {
        self.choose_among(topic.topic, topic, size)
    }

    /// The next sticky partition: weighted by load if there are stats, else uniform.
    fn next(&self, topic: &str, c: &impl Candidates, current: Option<i32>) -> i32 {
        match self.load.pick(topic) {
            Some(p) if c.is_available(p) => p,
            _ => pick_uniform(c, current),
        }
    }

    fn choose_among(&self, topic: &str, c: &impl Candidates, size: usize) -> i32 {
        if c.partitions() == 0 {
            return 0;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Look up before inserting: no topic-name allocation on the per-record path.
        let sticky = match state.get_mut(topic) {
            Some(sticky) => sticky,
            None => {
                let partition = self.next(topic, c, None);
                state.entry(topic.to_owned()).or_insert(Sticky {
                    partition,
                    produced: 0,
                })
            }
        };
        if !c.is_available(sticky.partition) || sticky.produced >= self.batch_size {
            *sticky = Sticky {
                partition: self.next(topic, c, Some(sticky.partition)),
                produced: 0,
            };
        }
        sticky.produced += size;
        sticky.partition
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

    fn metadata(topic: &str, leaders: &[Option<i32>]) -> ClusterMetadata {
        let mut m = ClusterMetadata::default();
        m.topics.insert(
            topic.to_owned(),
            crate::cluster::TopicMetadata {
                name: topic.to_owned(),
                topic_id: crate::protocol::Uuid::ZERO,
                is_internal: false,
                partitions: leaders
                    .iter()
                    .enumerate()
                    .map(|(i, leader)| PartitionMetadata {
                        partition: i as i32,
                        leader: *leader,
                        leader_epoch: 0,
                        replicas: leader.iter().copied().collect(),
                        isr: leader.iter().copied().collect(),
                        offline_replicas: Vec::new(),
                        error: crate::protocol::ErrorCode::NONE,
                    })
                    .collect(),
                error: crate::protocol::ErrorCode::NONE,
            },
        );
        m
    }

    /// Switch on every record (`batch.size` 1) and count where `draws` switches land.
    fn draw(p: &StickyPartitioner, t: &TopicInfo<'_>, draws: usize) -> Vec<usize> {
        let mut counts = vec![0; t.partitions];
        p.choose(t, 1);
        for _ in 0..draws {
            counts[p.choose(t, 1) as usize] += 1;
        }
        counts
    }

    const FOUR: TopicInfo<'static> = TopicInfo {
        topic: "t",
        partitions: 4,
        available: &[0, 1, 2, 3],
    };

    #[test]
    fn cumulative_frequency_table_as_in_java() {
        // BuiltInPartitioner's own example: lengths 0 3 1 → weights 4 1 3 → sums 4 5 8.
        let mut sizes = [0, 3, 1];
        assert!(cumulative_frequency_table(&mut sizes, 3));
        assert_eq!(sizes, [4, 5, 8]);
        let mut equal = [2, 2, 2];
        assert!(!cumulative_frequency_table(&mut equal, 3), "all equal");
        let mut left_out = [2, 2];
        assert!(
            cumulative_frequency_table(&mut left_out, 3),
            "equal but one partition left out"
        );
        assert_eq!(left_out, [1, 2]);
        assert!(!cumulative_frequency_table(&mut [5], 1), "one partition");
        assert!(!cumulative_frequency_table(&mut [], 3), "none");
    }

    #[test]
    fn queue_lengths_group_by_topic_and_reuse_buffers() {
        let mut q = QueueLengths::default();
        q.push("a", 0, 2);
        q.push("a", 3, 1);
        q.push("b", 1, 4);
        let seen: Vec<_> = q
            .topics()
            .map(|(t, r)| (t.to_owned(), r.to_vec()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("a".to_owned(), vec![(0, 2), (3, 1)]),
                ("b".to_owned(), vec![(1, 4)])
            ]
        );
        assert_eq!(q.len_of("a", 3), 1);
        assert_eq!(q.len_of("a", 1), 0);
        assert_eq!(q.len_of("c", 0), 0);
        q.clear();
        assert_eq!(q.topics().count(), 0);
        q.push("c", 0, 1);
        assert_eq!(q.get("c"), Some(&[(0, 1)][..]));
        assert_eq!(q.get("a"), None);
    }

    #[test]
    fn adaptive_prefers_short_queues() {
        let p = StickyPartitioner::new(1);
        let mut q = QueueLengths::default();
        // Partition 0 has nothing queued (absent), 1..3 have 5 batches each.
        for partition in 1..4 {
            q.push("t", partition, 5);
        }
        let m = metadata("t", &[Some(1); 4]);
        p.load_stats().update(&q, &m, &NodeLatencyStats::default());
        // Weights 6 1 1 1: partition 0 is expected 2/3 of the time, each other 1/9.
        let counts = draw(&p, &FOUR, 3000);
        for other in 1..4 {
            assert!(
                counts[0] > 3 * counts[other],
                "partition 0 should dominate: {counts:?}"
            );
        }
        assert!(counts[0] > 1500, "{counts:?}");
        assert!(counts[1..].iter().all(|c| *c > 0), "{counts:?}");

        // Once the pass sees nothing queued for the topic, the choice is uniform again.
        q.clear();
        p.load_stats().update(&q, &m, &NodeLatencyStats::default());
        assert_eq!(p.load_stats().pick("t"), None);
    }

    #[test]
    fn without_adaptive_the_choice_is_uniform() {
        let p =
            StickyPartitioner::with_load_stats(1, PartitionLoadStats::new(false, Duration::ZERO));
        let mut q = QueueLengths::default();
        for partition in 1..4 {
            q.push("t", partition, 5);
        }
        p.load_stats().update(
            &q,
            &metadata("t", &[Some(1); 4]),
            &NodeLatencyStats::default(),
        );
        assert_eq!(
            p.load_stats().pick("t"),
            None,
            "no table when adaptive is off"
        );
        let counts = draw(&p, &FOUR, 4000);
        for c in &counts {
            assert!((700..=1300).contains(c), "about 1000 each: {counts:?}");
        }
    }

    #[test]
    fn equal_queues_are_uniform() {
        let p = StickyPartitioner::new(1);
        let mut q = QueueLengths::default();
        for partition in 0..4 {
            q.push("t", partition, 3);
        }
        p.load_stats().update(
            &q,
            &metadata("t", &[Some(1); 4]),
            &NodeLatencyStats::default(),
        );
        assert_eq!(p.load_stats().pick("t"), None);
        let counts = draw(&p, &FOUR, 4000);
        for c in &counts {
            assert!((700..=1300).contains(c), "about 1000 each: {counts:?}");
        }
    }

    #[test]
    fn availability_timeout_leaves_slow_leaders_out() {
        let t0 = Instant::now();
        let mut nodes = NodeLatencyStats::default();
        nodes.record(1, t0, true);
        nodes.record(2, t0, true);
        // Node 2 has had ready batches it could not take for 2 s; node 1 keeps draining.
        nodes.record(2, t0 + Duration::from_secs(2), false);
        nodes.record(1, t0 + Duration::from_secs(2), true);
        assert_eq!(nodes.waiting(2), Duration::from_secs(2));
        assert_eq!(nodes.waiting(1), Duration::ZERO);
        assert_eq!(nodes.waiting(9), Duration::ZERO);

        // Partitions 0 and 1 are led by node 1, 2 and 3 by node 2; all queues equally long.
        let m = metadata("t", &[Some(1), Some(1), Some(2), Some(2)]);
        let mut q = QueueLengths::default();
        for partition in 0..4 {
            q.push("t", partition, 1);
        }
        let p = StickyPartitioner::with_load_stats(
            1,
            PartitionLoadStats::new(true, Duration::from_secs(1)),
        );
        assert!(p.load_stats().tracks_availability());
        p.load_stats().update(&q, &m, &nodes);
        let counts = draw(&p, &FOUR, 1000);
        assert_eq!(counts[2] + counts[3], 0, "node 2 left out: {counts:?}");
        assert!(counts[0] > 300 && counts[1] > 300, "{counts:?}");

        // Below the timeout nothing is left out: equal queues, uniform.
        let lenient = StickyPartitioner::with_load_stats(
            1,
            PartitionLoadStats::new(true, Duration::from_secs(5)),
        );
        lenient.load_stats().update(&q, &m, &nodes);
        assert_eq!(lenient.load_stats().pick("t"), None);
        // Zero means off, and with adaptive off the timeout does nothing either (as in Java).
        assert!(!PartitionLoadStats::new(true, Duration::ZERO).tracks_availability());
        assert!(!PartitionLoadStats::new(false, Duration::from_secs(1)).tracks_availability());
    }

    #[test]
    fn ignore_keys_sticky_partitions_keyed_records() {
        let t = TopicInfo {
            topic: "t",
            partitions: 12,
            available: &[],
        };
        let hashed = DefaultPartitioner::new(1);
        assert!(!hashed.ignores_keys());
        for _ in 0..20 {
            assert_eq!(hashed.choose(&t, Some(b"foobar"), 1), 6);
        }
        let ignoring = DefaultPartitioner::with_options(1, PartitionLoadStats::default(), true);
        assert!(ignoring.ignores_keys());
        let seen: std::collections::BTreeSet<i32> = (0..100)
            .map(|_| ignoring.choose(&t, Some(b"foobar"), 1))
            .collect();
        assert!(
            seen.len() > 1,
            "keys ignored: the record moves with the sticky partition"
        );

        // Sticky until batch.size bytes: keyed records share the keyless records' partition.
        let ignoring = DefaultPartitioner::with_options(1000, PartitionLoadStats::default(), true);
        let first = ignoring.choose(&t, None, 10);
        assert_eq!(ignoring.choose(&t, Some(b"foobar"), 10), first);
        assert_eq!(ignoring.choose(&t, Some(b"21"), 10), first);
    }

    #[test]
    fn choosing_from_metadata_matches_topic_info() {
        let p = DefaultPartitioner::new(10);
        let m = metadata("t", &[None, Some(1), None, Some(1)]);
        let parts = &m.topics["t"].partitions;
        for _ in 0..50 {
            let chosen = p.choose_in("t", parts, None, 7);
            assert!(
                chosen == 1 || chosen == 3,
                "only partitions with a leader: {chosen}"
            );
        }
        assert_eq!(
            p.choose_in("t", parts, Some(b"foobar"), 7),
            2,
            "keys still hash"
        );
        let leaderless = metadata("u", &[None, None]);
        let chosen = p.choose_in("u", &leaderless.topics["u"].partitions, None, 1);
        assert!(chosen == 0 || chosen == 1, "no leader known: any partition");
    }
}
