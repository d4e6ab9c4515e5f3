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
mod tests;
