//! Window, session, versioned and timestamped stores on both backends.

use bytes::Bytes;

use super::backend::{MemoryBackend, RedbBackend, SharedBackend};
use super::*;

fn backends(tag: &str) -> Vec<SharedBackend> {
    let dir = std::env::temp_dir().join(format!("streams-stores-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    vec![
        SharedBackend::new(Box::new(MemoryBackend::new())),
        SharedBackend::new(Box::new(
            RedbBackend::open(&dir.join("state.redb")).unwrap(),
        )),
    ]
}

fn starts(entries: &[WindowEntry]) -> Vec<(String, i64)> {
    entries
        .iter()
        .map(|e| (String::from_utf8_lossy(&e.key).into_owned(), e.window_start))
        .collect()
}

#[test]
fn window_fetches_by_key_and_time_forward_and_backward() {
    for backend in backends("window-fetch") {
        let mut w = SegmentedWindowStore::new("w", backend, 600_000, 60_000, false).unwrap();
        for (k, t) in [
            ("a", 0),
            ("a", 60_000),
            ("b", 30_000),
            ("ab", 10_000),
            ("a", 120_000),
        ] {
            let logged = w.put(k.as_bytes(), Some(b"v"), t).unwrap().unwrap();
            assert_eq!(
                parse_windowed_changelog_key(&logged),
                Some((k.as_bytes(), t, 0))
            );
        }
        let e = w.fetch_range(b"a", 0, 60_000, false).unwrap();
        assert_eq!(starts(&e), vec![("a".into(), 0), ("a".into(), 60_000)]);
        let e = w.fetch_range(b"a", 0, i64::MAX, true).unwrap();
        assert_eq!(
            starts(&e),
            vec![("a".into(), 120_000), ("a".into(), 60_000), ("a".into(), 0)]
        );
        let e = w
            .fetch_keys(Some(b"a"), Some(b"ab"), 0, 59_999, false)
            .unwrap();
        assert_eq!(starts(&e), vec![("a".into(), 0), ("ab".into(), 10_000)]);
        assert_eq!(w.all().unwrap().len(), 5);
        assert_eq!(w.fetch(b"b", 30_000).unwrap(), Some(Bytes::from("v")));
        w.put(b"b", None, 30_000).unwrap();
        assert_eq!(w.fetch(b"b", 30_000).unwrap(), None);
    }
}

#[test]
fn window_retention_drops_whole_segments_and_their_keys() {
    for backend in backends("window-retention") {
        // Retention 2 min, segments of 1 min.
        let mut w =
            SegmentedWindowStore::new("w", backend.clone(), 120_000, 60_000, false).unwrap();
        for t in (0..5).map(|m| m * 60_000) {
            w.put(b"k", Some(b"v"), t).unwrap();
        }
        // Stream time 240 000: windows at or before 120 000 are expired; segments 0 and 1 are
        // gone as tables.
        let left = starts(&w.fetch_range(b"k", 0, i64::MAX, false).unwrap());
        assert_eq!(left, vec![("k".into(), 180_000), ("k".into(), 240_000)]);
        let tables = backend.lock().tables().unwrap();
        assert!(!tables.contains(&"w.0".to_owned()), "{tables:?}");
        assert!(!tables.contains(&"w.60000".to_owned()), "{tables:?}");
        assert_eq!(w.segment_count(), 3);
        // A write into an expired window is dropped (nothing to log).
        assert_eq!(w.put(b"k", Some(b"late"), 0).unwrap(), None);
        // Reopened on the same backend: segments and stream time are found again.
        let mut again = SegmentedWindowStore::new("w", backend, 120_000, 60_000, false).unwrap();
        assert_eq!(again.fetch(b"k", 120_000).unwrap(), None);
        assert_eq!(again.fetch(b"k", 240_000).unwrap(), Some(Bytes::from("v")));
    }
}

#[test]
fn an_in_memory_window_store_drops_a_write_behind_the_retention_in_a_live_segment() {
    // Retention 15 s, segments of 1 min: stream time 15 000 expires the window at 0 though
    // its segment lives. Kafka's RocksDB store still writes it; its in-memory store does not.
    let mut rocks = SegmentedWindowStore::new(
        "w",
        SharedBackend::new(Box::new(MemoryBackend::new())),
        15_000,
        60_000,
        false,
    )
    .unwrap();
    let mut memory = SegmentedWindowStore::in_memory("w", 15_000, false).unwrap();
    for w in [&mut rocks, &mut memory] {
        w.put(b"k", Some(b"v"), 15_000).unwrap();
        assert_eq!(w.fetch(b"k", 0).unwrap(), None);
    }
    assert!(rocks.put(b"k", Some(b"late"), 0).unwrap().is_some());
    assert_eq!(memory.put(b"k", Some(b"late"), 0).unwrap(), None);
    // A window just inside the retention is written by both.
    assert!(memory.put(b"k", Some(b"v"), 1).unwrap().is_some());
}

#[test]
fn window_restore_reads_kafkas_windowed_changelog_keys() {
    let mut w = SegmentedWindowStore::in_memory("w", 600_000, true).unwrap();
    let records: Vec<ChangelogRecord> = [(5_000, 1), (5_000, 2)]
        .iter()
        .map(|(t, seq)| ChangelogRecord {
            key: windowed_changelog_key(b"k", *t, *seq),
            value: Some(Bytes::from(format!("v{seq}"))),
            timestamp: *t,
        })
        .collect();
    w.restore_batch(&records).unwrap();
    // Duplicates are kept under their sequence numbers.
    assert_eq!(w.fetch_range(b"k", 0, 10_000, false).unwrap().len(), 2);
    let bad = ChangelogRecord {
        key: Bytes::from_static(b"short"),
        value: None,
        timestamp: 0,
    };
    let e = w.restore_batch(&[bad]).unwrap_err();
    assert!(e.detail.contains("not a windowed key"), "{e}");
}

#[test]
fn sessions_are_found_by_key_and_overlap() {
    for backend in backends("session") {
        let mut s = SessionStore::new("s", backend, 600_000).unwrap();
        s.put(b"k", 0, 10_000, Some(b"2")).unwrap();
        s.put(b"k", 50_000, 55_000, Some(b"1")).unwrap();
        s.put(b"other", 0, 10_000, Some(b"9")).unwrap();
        let found = s.find_key_sessions(b"k", 5_000, 20_000).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (0, 10_000));
        assert_eq!(s.find_key_sessions(b"k", 0, i64::MAX).unwrap().len(), 2);
        s.remove(b"k", 0, 10_000).unwrap();
        assert_eq!(s.fetch_session(b"k", 0, 10_000).unwrap(), None);
        let key = session_changelog_key(b"k", 50_000, 55_000);
        assert_eq!(
            parse_session_changelog_key(&key),
            Some((&b"k"[..], 50_000, 55_000))
        );
    }
}

#[test]
fn versioned_reads_as_of_a_time_within_the_history_retention() {
    for backend in backends("versioned") {
        let mut v = VersionedKeyValueStore::new("v", backend, 10_000);
        v.put(b"k", Some(b"one"), 1_000).unwrap();
        v.put(b"k", Some(b"two"), 5_000).unwrap();
        v.put(b"k", None, 8_000).unwrap();
        let at = |v: &mut VersionedKeyValueStore, t| v.get_as_of(b"k", t).unwrap().map(|r| r.value);
        assert_eq!(at(&mut v, 999), None);
        assert_eq!(at(&mut v, 4_999), Some(Bytes::from("one")));
        assert_eq!(at(&mut v, 5_000), Some(Bytes::from("two")));
        assert_eq!(
            v.get_as_of(b"k", 6_000).unwrap().unwrap().valid_to,
            Some(8_000)
        );
        assert_eq!(v.get(b"k").unwrap(), None);
        // Stream time 30 000: reads before 20 000 are outside the history; writes too.
        v.put(b"x", Some(b"late"), 30_000).unwrap();
        assert_eq!(at(&mut v, 9_000), None);
        assert_eq!(
            v.put(b"k", Some(b"old"), 19_999).unwrap(),
            VersionedPut::NotPut
        );
    }
}

#[test]
fn versioned_put_tells_latest_older_and_dropped_versions() {
    for backend in backends("versioned-put") {
        let mut v = VersionedKeyValueStore::new("v", backend, 10_000);
        assert_eq!(
            v.put(b"k", Some(b"a"), 5_000).unwrap(),
            VersionedPut::Latest
        );
        assert_eq!(
            v.put(b"k", Some(b"b"), 3_000).unwrap(),
            VersionedPut::ValidTo(5_000)
        );
        assert_eq!(v.put(b"k", None, 9_000).unwrap(), VersionedPut::Latest);
        assert_eq!(
            v.put(b"k", Some(b"c"), 7_000).unwrap(),
            VersionedPut::ValidTo(9_000)
        );
        // The same timestamp replaces the version.
        assert_eq!(
            v.put(b"k", Some(b"d"), 9_000).unwrap(),
            VersionedPut::Latest
        );
        assert_eq!(
            v.put(b"k", Some(b"e"), 30_000).unwrap(),
            VersionedPut::Latest
        );
        assert_eq!(
            v.put(b"k", Some(b"f"), 19_999).unwrap(),
            VersionedPut::NotPut
        );
        assert_eq!(
            v.put(b"k", Some(b"g"), 20_000).unwrap(),
            VersionedPut::ValidTo(30_000)
        );
    }
}

#[test]
fn timestamped_restore_prepends_the_changelog_timestamp() {
    let mut store = StateStore::TimestampedKeyValue(Box::new(BackendKeyValueStore::in_memory("t")));
    store
        .restore_batch(&[ChangelogRecord {
            key: Bytes::from("k"),
            value: Some(Bytes::from("v")),
            timestamp: 42,
        }])
        .unwrap();
    let StateStore::TimestampedKeyValue(kv) = &store else {
        unreachable!()
    };
    let mut want = 42i64.to_be_bytes().to_vec();
    want.extend_from_slice(b"v");
    assert_eq!(kv.get(b"k").unwrap(), Some(Bytes::from(want)));
}

#[test]
fn a_session_ending_behind_the_retention_is_neither_found_nor_written() {
    for backend in backends("session-expiry") {
        // Retention 5 s: the segments are a minute long, yet a session that ended at or
        // before stream time - 5 s is expired, as in Kafka's session stores.
        let mut s = SessionStore::new("s", backend, 5_000).unwrap();
        s.put(b"k", 0, 1_000, Some(b"1")).unwrap();
        s.put(b"k", 6_000, 6_000, Some(b"2")).unwrap();
        let found = s.find_key_sessions(b"k", 0, i64::MAX).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].end, 6_000);
        // Ends at 1 000 <= 6 000 - 5 000: dropped.
        assert_eq!(s.put(b"k", 500, 1_000, Some(b"3")).unwrap(), None);
        assert!(s.put(b"k", 500, 1_001, Some(b"3")).unwrap().is_some());
    }
}

#[test]
fn a_caching_window_store_holds_writes_until_flushed_and_reads_through_the_cache() {
    use crate::serde::{I64Serde, StringSerde};
    let store = SegmentedWindowStore::in_memory("w", 600_000, false).unwrap();
    let mut slot = StoreSlot::new(StateStore::Window(Box::new(store)), true);
    slot.cache = Some(RecordCache::new(ThreadCacheBudget::new(1 << 20)));
    let handle = StoreHandle::new("w", StringSerde, I64Serde);
    let k = "k".to_owned();
    {
        let mut w = WindowStoreRef {
            handle: &handle,
            slot: &mut slot,
            timestamp: 7,
        };
        assert!(w.put(&k, Some(&1), 0).unwrap());
        assert!(w.put(&k, Some(&2), 0).unwrap());
        assert!(w.put(&k, Some(&3), 10).unwrap());
        assert_eq!(w.fetch(&k, 0).unwrap(), Some(2));
        assert_eq!(
            w.fetch_range(&k, 0, 10, true).unwrap(),
            vec![(k.clone(), 10, 3), (k.clone(), 0, 2)]
        );
        assert_eq!(w.fetch_all(0, 5, false).unwrap(), vec![(k.clone(), 0, 2)]);
    }
    // Nothing reached the store or its changelog yet.
    match &mut slot.store {
        StateStore::Window(s) => assert_eq!(s.fetch(b"k", 0).unwrap(), None),
        other => panic!("not a window store: {other:?}"),
    }
    slot.flush_cache().unwrap();
    let logged = slot.changelog.as_mut().unwrap().drain();
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(
        parse_windowed_changelog_key(&logged[0].key),
        Some((&b"k"[..], 0, 0))
    );
    assert_eq!(logged[0].timestamp, 7);
    match &mut slot.store {
        StateStore::Window(s) => assert!(s.fetch(b"k", 10).unwrap().is_some()),
        other => panic!("not a window store: {other:?}"),
    }
}

#[test]
fn a_timestamped_window_store_restores_kafkas_changelog_records() {
    // Kafka's changelog: windowed key, the plain value, the window's timestamp as the record's.
    let mut s =
        TimestampedWindowStore::new(SegmentedWindowStore::in_memory("tw", 600_000, false).unwrap());
    assert!(s.timestamped());
    let record = ChangelogRecord {
        key: windowed_changelog_key(b"a", 10_000, 0),
        value: Some(Bytes::from_static(b"v")),
        timestamp: 12_345,
    };
    s.restore_batch(&[record]).unwrap();
    let stored = s.fetch(b"a", 10_000).unwrap().unwrap();
    assert_eq!(
        split_timestamped(&stored),
        Some((Bytes::from_static(b"v"), 12_345))
    );
}

#[test]
fn a_caching_session_store_writes_each_session_once_and_skips_removals_of_unstored_ones() {
    use crate::serde::{I64Serde, StringSerde};
    let store = SessionStore::in_memory("s", 600_000).unwrap();
    let mut slot = StoreSlot::new(StateStore::Session(store), true);
    slot.cache = Some(RecordCache::new(ThreadCacheBudget::new(1 << 20)));
    slot.forwards_flushes = true;
    let handle = StoreHandle::new("s", StringSerde, I64Serde);
    let k = "k".to_owned();
    {
        let mut s = SessionStoreRef {
            handle: &handle,
            slot: &mut slot,
            timestamp: 9,
        };
        // A session created and merged away before any flush: never stored.
        s.put(&k, 0, 0, Some(&1)).unwrap();
        s.remove(&k, 0, 0).unwrap();
        s.put(&k, 0, 5, Some(&2)).unwrap();
        // Found through the cache, by end then start.
        assert_eq!(
            s.find_sessions(&k, 0, 10).unwrap(),
            vec![(k.clone(), 0, 5, 2)]
        );
    }
    slot.flush_cache().unwrap();
    // Only [0, 5] reached the store, the changelog and the flush listener.
    let logged = slot.changelog.as_mut().unwrap().drain();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(
        parse_session_changelog_key(&logged[0].key),
        Some((&b"k"[..], 0, 5))
    );
    assert_eq!(slot.flushed.len(), 1);
    assert_eq!(slot.expired_writes, 0);
}
