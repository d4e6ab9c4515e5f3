//! Time segments of a window or session store (Kafka's `Segments`): segment
//! `id = time / interval` lives in backend table `<store>.<id * interval>`, so data past the
//! retention goes by dropping whole tables.

use std::collections::BTreeSet;
use std::ops::Bound;

use super::backend::{BackendError, Entries, SharedBackend};
use super::StoreError;

/// The live segments of one store.
#[derive(Debug)]
pub(crate) struct Segments {
    name: String,
    backend: SharedBackend,
    interval: i64,
    ids: BTreeSet<i64>,
}

impl Segments {
    /// The segments of store `name` found in `backend`.
    pub fn open(name: &str, backend: SharedBackend, interval: i64) -> Result<Self, StoreError> {
        let interval = interval.max(1);
        let tables = backend.lock().tables().map_err(|e| err(name, e))?;
        let prefix = format!("{name}.");
        let ids = tables
            .iter()
            .filter_map(|t| t.strip_prefix(&prefix)?.parse::<i64>().ok())
            .map(|start| start.div_euclid(interval))
            .collect();
        Ok(Segments {
            name: name.to_owned(),
            backend,
            interval,
            ids,
        })
    }

    /// The backend.
    pub fn backend(&self) -> &SharedBackend {
        &self.backend
    }

    /// Whether the backend keeps data across restarts.
    pub fn persistent(&self) -> bool {
        self.backend.lock().persistent()
    }

    /// The segment of time `t`.
    pub fn id(&self, t: i64) -> i64 {
        t.div_euclid(self.interval)
    }

    /// The table of segment `id`.
    pub fn table(&self, id: i64) -> String {
        format!("{}.{}", self.name, id.saturating_mul(self.interval))
    }

    /// The oldest live segment at `stream_time` with `retention`.
    pub fn min_live(&self, stream_time: i64, retention: i64) -> i64 {
        self.id(stream_time.saturating_sub(retention))
    }

    /// Live segment ids in `[from, to]`.
    pub fn ids_between(&self, from: i64, to: i64) -> Vec<i64> {
        if from > to {
            return Vec::new();
        }
        self.ids.range(from..=to).copied().collect()
    }

    /// Whether segment `id` exists.
    pub fn contains(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    /// Segment `id` now has data.
    pub fn created(&mut self, id: i64) {
        self.ids.insert(id);
    }

    /// Every entry of the newest segment (to recover stream time at open).
    pub fn newest_entries(&self) -> Result<Entries, StoreError> {
        let Some(&last) = self.ids.iter().next_back() else {
            return Ok(Vec::new());
        };
        self.backend
            .lock()
            .range(&self.table(last), Bound::Unbounded, Bound::Unbounded, false)
            .map_err(|e| err(&self.name, e))
    }

    /// Drop the segments before `min_live`, a table each.
    pub fn drop_before(&mut self, min_live: i64) -> Result<(), StoreError> {
        let expired: Vec<i64> = self.ids.range(..min_live).copied().collect();
        for id in expired {
            let table = self.table(id);
            self.backend
                .lock()
                .drop_table(&table)
                .map_err(|e| err(&self.name, e))?;
            self.ids.remove(&id);
        }
        Ok(())
    }

    /// Drop every segment.
    pub fn drop_all(&mut self) -> Result<(), StoreError> {
        self.drop_before(i64::MAX)
    }

    /// Entries in all segments.
    pub fn len(&self) -> u64 {
        let mut b = self.backend.lock();
        self.ids
            .iter()
            .map(|id| b.len(&self.table(*id)).unwrap_or(0))
            .sum()
    }

    /// Number of live segments.
    pub fn count(&self) -> usize {
        self.ids.len()
    }
}

fn err(store: &str, e: BackendError) -> StoreError {
    StoreError {
        store: store.to_owned(),
        detail: e.to_string(),
    }
}
