//! The record cache (Kafka Streams' `ThreadCache` and caching stores): a key-value store's
//! writes wait in memory, one entry per key, until the task commits or the thread's cache is
//! full, and only then go to the store and its changelog. Repeated updates of a key between
//! two commits cost one store write and one changelog record.
//!
//! Each caching store has its own entries; the byte budget (`statestore.cache.max.bytes`
//! divided among the stream threads) is shared by every caching store of a thread. A write
//! that takes the thread over budget evicts the least recently used entries of the store
//! written to (as Kafka does), flushing the dirty ones.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;

/// Bytes an entry is charged beyond its key and value (Kafka counts a similar overhead).
const ENTRY_OVERHEAD: usize = 64;

/// A stream thread's cache budget, shared by its caching stores.
#[derive(Debug)]
pub struct ThreadCacheBudget {
    max_bytes: usize,
    used: AtomicUsize,
}

impl ThreadCacheBudget {
    /// A budget of `max_bytes` (0 turns caching off: every write goes through at once).
    pub fn new(max_bytes: usize) -> Arc<Self> {
        Arc::new(ThreadCacheBudget {
            max_bytes,
            used: AtomicUsize::new(0),
        })
    }

    /// Whether the budget holds anything: 0 bytes (`statestore.cache.max.bytes=0`) turns
    /// caching off, as Kafka's `InternalTopologyBuilder.rewriteTopology` disables caching on
    /// every store then.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// Bytes in use across the thread's caches.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn over(&self) -> bool {
        self.used() > self.max_bytes
    }
}

/// A cached entry: the latest value (`None`: deleted) and whether the store has it yet.
#[derive(Debug, Clone)]
struct Entry {
    key: Bytes,
    value: Option<Bytes>,
    dirty: bool,
    timestamp: i64,
    /// Recency: the tick of the last touch (larger is more recent); 0 while the slot is free.
    used: u64,
    /// When it was last written dirty (flushes go in that order, as Kafka's).
    dirtied: u64,
}

/// A write the cache hands back to be applied to the store and logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlushedWrite {
    /// The key.
    pub key: Bytes,
    /// The value (`None`: delete).
    pub value: Option<Bytes>,
    /// The timestamp of the record that last wrote it.
    pub timestamp: i64,
}

/// A flushed write with the value it replaced, for a processor that forwards cache flushes
/// (plain value bytes, without a timestamped store's timestamp prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlushedChange {
    /// The key.
    pub key: Bytes,
    /// The new value (`None`: deleted).
    pub new: Option<Bytes>,
    /// The value the store held before.
    pub old: Option<Bytes>,
    /// The timestamp of the record that last wrote it.
    pub timestamp: i64,
}

/// A cache flush as a processor's flush listener gets it (Kafka's `Change<V>` with its key and
/// timestamp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheFlush<K, V> {
    /// The key.
    pub key: K,
    /// The new value (`None`: deleted).
    pub new: Option<V>,
    /// The value the store held before.
    pub old: Option<V>,
    /// The timestamp of the write.
    pub timestamp: i64,
}

/// One store's cache.
///
/// Entries live in a slab (`slots`), found by key through `index`. Recency is a log of
/// `(tick, slot)` pairs appended on every touch; a pair whose tick is not its slot's latest is
/// stale and skipped when evicting, and the log is compacted once stale pairs outnumber the
/// entries. A get or put is therefore one hash lookup and one append, not an ordered-map
/// update.
#[derive(Debug)]
pub struct RecordCache {
    budget: Arc<ThreadCacheBudget>,
    index: HashMap<Bytes, u32>,
    slots: Vec<Entry>,
    free: Vec<u32>,
    /// Recency log, oldest first: `(tick, slot)`.
    lru: VecDeque<(u64, u32)>,
    clock: u64,
    bytes: usize,
}

fn size(key: &Bytes, value: &Option<Bytes>) -> usize {
    key.len() + value.as_ref().map_or(0, Bytes::len) + ENTRY_OVERHEAD
}

impl RecordCache {
    /// An empty cache charging `budget`.
    pub fn new(budget: Arc<ThreadCacheBudget>) -> Self {
        RecordCache {
            budget,
            index: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            lru: VecDeque::new(),
            clock: 0,
            bytes: 0,
        }
    }

    /// Whether this cache holds writes back at all (its thread's budget is above 0 bytes).
    pub fn enabled(&self) -> bool {
        self.budget.enabled()
    }

    fn touch(&mut self, slot: u32) {
        self.clock += 1;
        let now = self.clock;
        if let Some(e) = self.slots.get_mut(slot as usize) {
            e.used = now;
        }
        self.lru.push_back((now, slot));
        if self.lru.len() > 2 * self.index.len() + 64 {
            let slots = &self.slots;
            self.lru
                .retain(|(tick, s)| slots.get(*s as usize).is_some_and(|e| e.used == *tick));
        }
    }

    /// Every cached entry (clean or dirty) whose key `keep` accepts, with its value (`None`:
    /// deleted), in no particular order: what a range read merges over the store's entries.
    pub fn entries_where(
        &self,
        mut keep: impl FnMut(&[u8]) -> bool,
    ) -> Vec<(Bytes, Option<Bytes>)> {
        self.index
            .iter()
            .filter(|(k, _)| keep(k))
            .filter_map(|(k, &slot)| {
                self.slots
                    .get(slot as usize)
                    .map(|e| (k.clone(), e.value.clone()))
            })
            .collect()
    }

    /// The cached state of `key`: `Some(Some(v))` a value, `Some(None)` deleted, `None` not
    /// cached (ask the store).
    pub fn get(&mut self, key: &[u8]) -> Option<Option<Bytes>> {
        let slot = *self.index.get(key)?;
        self.touch(slot);
        self.slots.get(slot as usize).map(|e| e.value.clone())
    }

    fn insert(&mut self, key: Bytes, value: Option<Bytes>, dirty: bool, timestamp: i64) {
        self.clock += 1;
        let add = size(&key, &value);
        if let Some(&slot) = self.index.get(&key) {
            if let Some(e) = self.slots.get_mut(slot as usize) {
                let sub = size(&e.key, &e.value);
                self.bytes -= sub;
                self.budget.used.fetch_sub(sub, Ordering::Relaxed);
                // A dirty write moves the key to the end of the flush order, as Kafka's
                // NamedCache re-adds it to its dirty keys: flushes go in last-write order.
                if dirty {
                    e.dirtied = self.clock;
                }
                e.dirty |= dirty;
                if dirty {
                    e.timestamp = timestamp;
                }
                e.value = value;
            }
            self.touch(slot);
        } else {
            let entry = Entry {
                key: key.clone(),
                value,
                dirty,
                timestamp,
                used: 0,
                dirtied: if dirty { self.clock } else { 0 },
            };
            let slot = match self.free.pop() {
                Some(s) => {
                    if let Some(e) = self.slots.get_mut(s as usize) {
                        *e = entry;
                    }
                    s
                }
                None => {
                    self.slots.push(entry);
                    u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
                }
            };
            self.index.insert(key, slot);
            self.touch(slot);
        }
        self.bytes += add;
        self.budget.used.fetch_add(add, Ordering::Relaxed);
    }

    /// Record a write (`None`: a delete). Returns the dirty writes evicted to stay within the
    /// thread's budget, oldest first: the caller applies and logs them now.
    pub fn put(&mut self, key: Bytes, value: Option<Bytes>, timestamp: i64) -> Vec<FlushedWrite> {
        self.insert(key, value, true, timestamp);
        self.evict()
    }

    /// Remember a value read from the store (clean: nothing to flush).
    pub fn remember(&mut self, key: Bytes, value: Bytes) -> Vec<FlushedWrite> {
        if self.index.contains_key(&key) {
            return Vec::new();
        }
        self.insert(key, Some(value), false, -1);
        self.evict()
    }

    fn evict(&mut self) -> Vec<FlushedWrite> {
        let mut out = Vec::new();
        while self.budget.over() {
            let Some((tick, slot)) = self.lru.pop_front() else {
                break;
            };
            let Some(e) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            if e.used != tick {
                continue; // touched again later: a stale pair
            }
            e.used = 0;
            let key = std::mem::take(&mut e.key);
            let value = e.value.take();
            let (dirty, timestamp) = (e.dirty, e.timestamp);
            e.dirty = false;
            self.index.remove(&key);
            self.free.push(slot);
            let sub = size(&key, &value);
            self.bytes -= sub;
            self.budget.used.fetch_sub(sub, Ordering::Relaxed);
            if dirty {
                out.push(FlushedWrite {
                    key,
                    value,
                    timestamp,
                });
            }
        }
        out
    }

    /// Every dirty write, in the order of their keys' last writes (Kafka's `NamedCache`
    /// order); entries stay cached, clean.
    pub fn flush(&mut self) -> Vec<FlushedWrite> {
        let mut dirty: Vec<(u64, u32)> = self
            .index
            .values()
            .filter_map(|&s| {
                let e = self.slots.get(s as usize)?;
                e.dirty.then_some((e.dirtied, s))
            })
            .collect();
        dirty.sort_unstable();
        dirty
            .into_iter()
            .filter_map(|(_, s)| {
                let e = self.slots.get_mut(s as usize)?;
                e.dirty = false;
                Some(FlushedWrite {
                    key: e.key.clone(),
                    value: e.value.clone(),
                    timestamp: e.timestamp,
                })
            })
            .collect()
    }

    /// Bytes this cache holds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Drop every entry (a store wiped, or a task closed after its flush).
    pub fn clear(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::Relaxed);
        self.bytes = 0;
        self.index.clear();
        self.slots.clear();
        self.free.clear();
        self.lru.clear();
    }
}

impl Drop for RecordCache {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn repeated_writes_of_a_key_flush_once_in_last_write_order() {
        let mut c = RecordCache::new(ThreadCacheBudget::new(1 << 20));
        for i in 0..100 {
            assert!(c.put(b("a"), Some(b(&i.to_string())), i).is_empty());
        }
        c.put(b("b"), None, 7);
        c.put(b("a"), Some(b("last")), 100);
        assert_eq!(c.get(b"a"), Some(Some(b("last"))));
        assert_eq!(c.get(b"b"), Some(None));
        assert_eq!(c.get(b"z"), None);
        let flushed = c.flush();
        assert_eq!(
            flushed,
            vec![
                FlushedWrite {
                    key: b("b"),
                    value: None,
                    timestamp: 7
                },
                FlushedWrite {
                    key: b("a"),
                    value: Some(b("last")),
                    timestamp: 100
                },
            ]
        );
        assert!(c.flush().is_empty(), "a second flush has nothing dirty");
    }

    #[test]
    fn the_thread_budget_evicts_the_least_recently_used_and_returns_the_dirty_ones() {
        let budget = ThreadCacheBudget::new(3 * (ENTRY_OVERHEAD + 2));
        let mut other = RecordCache::new(budget.clone());
        other.remember(b("o"), b("1"));
        let mut c = RecordCache::new(budget.clone());
        c.put(b("a"), Some(b("1")), 1);
        c.put(b("b"), Some(b("1")), 2);
        c.get(b"a");
        // Over budget: the store written to evicts its own least recently used entry ("b").
        let evicted = c.put(b("c"), Some(b("1")), 3);
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].key, b("b"));
        assert_eq!(other.get(b"o"), Some(Some(b("1"))));
        drop(c);
        assert_eq!(budget.used(), ENTRY_OVERHEAD + 2);
    }

    #[test]
    fn the_recency_log_stays_bounded_and_evicts_in_lru_order() {
        let budget = ThreadCacheBudget::new(3 * (ENTRY_OVERHEAD + 2));
        let mut c = RecordCache::new(budget);
        c.put(b("a"), Some(b("1")), 1);
        c.put(b("b"), Some(b("1")), 2);
        c.put(b("c"), Some(b("1")), 3);
        for _ in 0..10_000 {
            c.get(b"a");
            c.get(b"b");
        }
        assert!(c.lru.len() <= 2 * c.index.len() + 64 + 1, "{}", c.lru.len());
        // "c" is the least recently used, then "a".
        let evicted = c.put(b("d"), Some(b("1")), 4);
        assert_eq!(
            evicted.iter().map(|w| w.key.clone()).collect::<Vec<_>>(),
            vec![b("c")]
        );
        let evicted = c.put(b("e"), Some(b("1")), 5);
        assert_eq!(
            evicted.iter().map(|w| w.key.clone()).collect::<Vec<_>>(),
            vec![b("a")]
        );
        // A freed slot is reused; the flush keeps last-write order.
        let flushed: Vec<Bytes> = c.flush().into_iter().map(|w| w.key).collect();
        assert_eq!(flushed, vec![b("b"), b("d"), b("e")]);
    }
}
