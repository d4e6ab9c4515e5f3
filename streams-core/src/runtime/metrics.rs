//! Kafka Streams' metrics, named as Kafka names them, published through the `metrics` crate's
//! facade (any exporter plugs in) and kept here for [`crate::runtime::KafkaStreams::metrics`].
//!
//! A metric is identified by Kafka's group (`stream-thread-metrics`, `stream-task-metrics`,
//! `stream-state-metrics`), name and tags (`thread-id`, `task-id`, `store-name`). For an
//! operation `op` (`process`, `poll`, `commit`, `punctuate`, `put`, `get`, `restore`, …) the
//! snapshot reports `op-total`, `op-rate` (per second over the last completed 30-second window,
//! else since start) and, when it was timed, `op-latency-avg` and `op-latency-max` in ms.
//! Through the facade the same figures are a counter `<group>.<op>-total` and a histogram
//! `<group>.<op>-latency` (ms) with the tags as labels.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(30);

/// One figure of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// Kafka's metric group (`stream-thread-metrics`, …).
    pub group: &'static str,
    /// The metric's name (`process-rate`, …).
    pub name: String,
    /// Tags (`thread-id`, `task-id`, `store-name`).
    pub tags: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: &'static str,
    op: &'static str,
    tags: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone)]
struct Stat {
    total: u64,
    latency_count: u64,
    latency_sum_ms: f64,
    latency_max_ms: f64,
    window_start: Instant,
    window_count: u64,
    last_rate: Option<f64>,
    created: Instant,
}

impl Stat {
    fn new(now: Instant) -> Self {
        Stat {
            total: 0,
            latency_count: 0,
            latency_sum_ms: 0.0,
            latency_max_ms: 0.0,
            window_start: now,
            window_count: 0,
            last_rate: None,
            created: now,
        }
    }

    fn roll(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= WINDOW {
            self.last_rate = Some(self.window_count as f64 / elapsed.as_secs_f64());
            self.window_start = now;
            self.window_count = 0;
        }
    }

    fn rate(&self, now: Instant) -> f64 {
        self.last_rate.unwrap_or_else(|| {
            let secs = now.saturating_duration_since(self.created).as_secs_f64();
            if secs > 0.0 {
                self.total as f64 / secs
            } else {
                0.0
            }
        })
    }
}

/// The registry of one application instance.
#[derive(Debug, Default)]
pub struct StreamsMetrics {
    stats: Mutex<BTreeMap<Key, Stat>>,
}

impl StreamsMetrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, key: Key, n: u64, latency: Option<Duration>) {
        self.update_with_max(key, n, latency, None)
    }

    fn update_with_max(&self, key: Key, n: u64, latency: Option<Duration>, max: Option<Duration>) {
        let labels: Vec<metrics::Label> = key
            .tags
            .iter()
            .map(|(k, v)| metrics::Label::new(*k, v.clone()))
            .collect();
        metrics::counter!(format!("{}.{}-total", key.group, key.op), labels.clone()).increment(n);
        if let Some(l) = latency {
            metrics::histogram!(format!("{}.{}-latency", key.group, key.op), labels)
                .record(l.as_secs_f64() * 1e3);
        }
        let now = Instant::now();
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let s = stats.entry(key).or_insert_with(|| Stat::new(now));
        s.roll(now);
        s.total += n;
        s.window_count += n;
        if let Some(l) = latency {
            // A batch of n counts n samples of its average.
            let ms = l.as_secs_f64() * 1e3;
            s.latency_count += n.max(1);
            s.latency_sum_ms += ms;
            let batch_max = max.map_or(ms / n.max(1) as f64, |m| m.as_secs_f64() * 1e3);
            s.latency_max_ms = s.latency_max_ms.max(batch_max);
        }
    }

    /// Count `n` occurrences of `op`.
    pub fn count(
        &self,
        group: &'static str,
        op: &'static str,
        tags: Vec<(&'static str, String)>,
        n: u64,
    ) {
        if n > 0 {
            self.update(Key { group, op, tags }, n, None);
        }
    }

    /// `n` occurrences of `op` that took `latency` together (one sample of their average).
    pub fn timed(
        &self,
        group: &'static str,
        op: &'static str,
        tags: Vec<(&'static str, String)>,
        n: u64,
        latency: Duration,
    ) {
        self.update(Key { group, op, tags }, n, Some(latency));
    }

    /// `n` latencies adding up to `sum`, the largest `max` (e.g. records' end-to-end latency).
    pub fn latencies(
        &self,
        group: &'static str,
        op: &'static str,
        tags: Vec<(&'static str, String)>,
        n: u64,
        sum: Duration,
        max: Duration,
    ) {
        if n > 0 {
            self.update_with_max(Key { group, op, tags }, n, Some(sum), Some(max));
        }
    }

    /// Every figure now.
    pub fn snapshot(&self) -> Vec<MetricValue> {
        let now = Instant::now();
        let stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (k, s) in stats.iter() {
            let mut push = |suffix: &str, value: f64| {
                out.push(MetricValue {
                    group: k.group,
                    name: format!("{}-{suffix}", k.op),
                    tags: k.tags.clone(),
                    value,
                })
            };
            push("total", s.total as f64);
            push("rate", s.rate(now));
            if s.latency_count > 0 {
                push("latency-avg", s.latency_sum_ms / s.latency_count as f64);
                push("latency-max", s.latency_max_ms);
            }
        }
        out
    }

    /// The value of one figure, by group, name and one tag value (for tests and tools).
    pub fn get(&self, group: &str, name: &str, tag_value: &str) -> Option<f64> {
        self.snapshot()
            .into_iter()
            .find(|m| {
                m.group == group && m.name == name && m.tags.iter().any(|(_, v)| v == tag_value)
            })
            .map(|m| m.value)
    }
}

/// Kafka's group of per-thread metrics.
pub const THREAD: &str = "stream-thread-metrics";
/// Kafka's group of per-task metrics.
pub const TASK: &str = "stream-task-metrics";
/// Kafka's group of per-store metrics.
pub const STATE: &str = "stream-state-metrics";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_rates_and_latencies_are_reported_under_kafkas_names() {
        let m = StreamsMetrics::new();
        let tags = || vec![("thread-id", "t-1".to_owned())];
        m.timed(THREAD, "process", tags(), 1, Duration::from_millis(2));
        m.timed(THREAD, "process", tags(), 1, Duration::from_millis(4));
        m.count(TASK, "dropped-records", vec![("task-id", "0_1".into())], 3);
        m.timed(THREAD, "poll", tags(), 4, Duration::from_millis(8));
        assert_eq!(
            m.get(THREAD, "poll-latency-avg", "t-1"),
            Some(2.0),
            "a batch of 4 in 8 ms"
        );
        assert_eq!(m.get(THREAD, "process-total", "t-1"), Some(2.0));
        assert_eq!(m.get(THREAD, "process-latency-avg", "t-1"), Some(3.0));
        assert_eq!(m.get(THREAD, "process-latency-max", "t-1"), Some(4.0));
        assert_eq!(m.get(TASK, "dropped-records-total", "0_1"), Some(3.0));
        assert!(m.get(THREAD, "process-rate", "t-1").is_some());
        assert_eq!(
            m.get(TASK, "dropped-records-latency-avg", "0_1"),
            None,
            "counted, not timed"
        );
    }
}
