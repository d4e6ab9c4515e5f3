//! The punctuation schedule of a task: when each scheduled punctuator fires next.
//!
//! No clock inside: the task passes stream time or wall-clock time in. Kafka Streams'
//! semantics: a stream-time schedule is aligned to 0 and fires as soon as stream time is known
//! (so at the first record); a wall-clock schedule first fires `interval` after it was
//! scheduled. A punctuator is called with the current (stream or wall-clock) time, not its
//! scheduled time; after missed intervals it fires once and the next time is the next
//! multiple of the interval after the current time.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// Which time a punctuator follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PunctuationType {
    /// Event time: advances only with records' timestamps.
    StreamTime,
    /// The system clock, checked between records.
    WallClockTime,
}

/// Cancels a scheduled punctuator (Kafka's `Cancellable`).
#[derive(Debug, Clone)]
pub struct Cancellable {
    cancelled: Rc<Cell<bool>>,
}

impl Cancellable {
    /// Stop the punctuator; it does not fire again (also when called from within it).
    pub fn cancel(&self) {
        self.cancelled.set(true);
    }

    /// Whether [`Cancellable::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

/// Identifies a punctuator within its node.
pub(crate) type PunctuatorId = u64;

#[derive(Debug)]
struct Entry {
    node: usize,
    id: PunctuatorId,
    interval: i64,
    next: i64,
    cancelled: Rc<Cell<bool>>,
}

/// The schedules of one task for one [`PunctuationType`].
#[derive(Debug, Default)]
pub(crate) struct PunctuationQueue {
    entries: Vec<Entry>,
}

/// A punctuator that is due: call it on `node` with `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Due {
    pub node: usize,
    pub id: PunctuatorId,
    pub time: i64,
}

impl PunctuationQueue {
    /// Schedule punctuator `id` of `node` every `interval` ms, first at `first`.
    pub fn schedule(
        &mut self,
        node: usize,
        id: PunctuatorId,
        interval: Duration,
        first: i64,
    ) -> Cancellable {
        let cancelled = Rc::new(Cell::new(false));
        let interval = i64::try_from(interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        self.entries.push(Entry {
            node,
            id,
            interval,
            next: first,
            cancelled: cancelled.clone(),
        });
        Cancellable { cancelled }
    }

    /// Punctuators due at `time`, in schedule order, each advanced to its next time (once,
    /// however many intervals were missed). Cancelled ones are dropped.
    pub fn due(&mut self, time: i64) -> Vec<Due> {
        self.entries.retain(|e| !e.cancelled.get());
        let mut due = Vec::new();
        for e in &mut self.entries {
            if e.next <= time {
                due.push(Due {
                    node: e.node,
                    id: e.id,
                    time,
                });
                let missed = (time - e.next) / e.interval;
                e.next = e
                    .next
                    .saturating_add((missed + 1).saturating_mul(e.interval));
            }
        }
        due
    }

    /// Whether punctuator `id` of `node` was cancelled (checked before it is called).
    pub fn is_cancelled(&self, node: usize, id: PunctuatorId) -> bool {
        self.entries
            .iter()
            .find(|e| e.node == node && e.id == id)
            .is_none_or(|e| e.cancelled.get())
    }

    /// The earliest time a punctuator is due, if any.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn next_time(&self) -> Option<i64> {
        self.entries
            .iter()
            .filter(|e| !e.cancelled.get())
            .map(|e| e.next)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_time_schedules_fire_at_the_first_record_then_on_interval_multiples() {
        let mut q = PunctuationQueue::default();
        q.schedule(0, 1, Duration::from_secs(1), 0);
        let due = q.due(1_234);
        assert_eq!(
            due,
            vec![Due {
                node: 0,
                id: 1,
                time: 1_234
            }],
            "called with stream time"
        );
        assert!(q.due(1_999).is_empty());
        assert_eq!(
            q.due(2_000).len(),
            1,
            "aligned to multiples of the interval"
        );
        // Missed intervals fire once, and the next is after the current time.
        assert_eq!(q.due(9_500).len(), 1);
        assert!(q.due(9_999).is_empty());
        assert_eq!(q.next_time(), Some(10_000));
    }

    #[test]
    fn wall_clock_schedules_fire_an_interval_after_scheduling() {
        let mut q = PunctuationQueue::default();
        let now = 50_000;
        q.schedule(2, 7, Duration::from_millis(100), now + 100);
        assert!(q.due(now + 99).is_empty());
        assert_eq!(q.due(now + 100).len(), 1);
        assert_eq!(q.next_time(), Some(now + 200));
    }

    #[test]
    fn a_cancelled_punctuator_never_fires_again() {
        let mut q = PunctuationQueue::default();
        let c = q.schedule(0, 1, Duration::from_millis(10), 0);
        q.schedule(0, 2, Duration::from_millis(10), 0);
        assert_eq!(q.due(0).len(), 2);
        c.cancel();
        assert!(q.is_cancelled(0, 1));
        let due = q.due(10);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].id, 2);
    }
}
