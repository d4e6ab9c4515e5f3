//! The backends behave alike; redb's commits survive a reopen, uncommitted writes do not.

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;
use kafka_wire::TopicPartition;

use super::{MemoryBackend, RedbBackend, StateBackend};

fn temp_file(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("streams-backend-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("state.redb")
}

fn exercise(b: &mut dyn StateBackend) {
    for k in ["b", "a", "c"] {
        b.put("t", k.as_bytes(), k.as_bytes()).unwrap();
    }
    assert_eq!(b.get("t", b"a").unwrap(), Some(Bytes::from("a")));
    assert_eq!(b.get("missing", b"a").unwrap(), None);
    let keys = |e: Vec<(Bytes, Bytes)>| e.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        keys(
            b.range("t", Bound::Unbounded, Bound::Unbounded, true)
                .unwrap()
        ),
        vec![Bytes::from("c"), Bytes::from("b"), Bytes::from("a")]
    );
    assert_eq!(
        keys(
            b.range("t", Bound::Excluded(b"a"), Bound::Included(b"b"), false)
                .unwrap()
        ),
        vec![Bytes::from("b")]
    );
    assert!(b
        .range("t", Bound::Included(b"c"), Bound::Included(b"a"), false)
        .unwrap()
        .is_empty());
    assert_eq!(b.delete("t", b"b").unwrap(), Some(Bytes::from("b")));
    assert_eq!(b.len("t").unwrap(), 2);
    b.write_batch(
        "u",
        &[
            (Bytes::from("x"), Some(Bytes::from("1"))),
            (Bytes::from("a"), None),
        ],
    )
    .unwrap();
    assert_eq!(b.tables().unwrap(), vec!["t".to_owned(), "u".to_owned()]);
    b.drop_table("u").unwrap();
    assert_eq!(b.tables().unwrap(), vec!["t".to_owned()]);
}

#[test]
fn memory_and_redb_answer_alike() {
    exercise(&mut MemoryBackend::new());
    exercise(&mut RedbBackend::open(&temp_file("alike")).unwrap());
}

#[test]
fn redb_keeps_committed_writes_with_their_positions_and_drops_the_rest() {
    let path = temp_file("commit");
    let tp = TopicPartition::new("app-s-changelog", 3);
    {
        let mut b = RedbBackend::open(&path).unwrap();
        b.put("s", b"k1", b"v1").unwrap();
        b.commit(&BTreeMap::from([(tp.clone(), 11)]), true).unwrap();
        b.put("s", b"k2", b"v2").unwrap();
        // Dropped without a commit: like a crash before the next commit.
    }
    let mut b = RedbBackend::open(&path).unwrap();
    assert_eq!(b.committed_offsets().get(&tp), Some(&11));
    assert_eq!(b.get("s", b"k1").unwrap(), Some(Bytes::from("v1")));
    assert_eq!(b.get("s", b"k2").unwrap(), None);
    b.put("s", b"k3", b"v3").unwrap();
    b.abort().unwrap();
    assert_eq!(b.get("s", b"k3").unwrap(), None);
    b.wipe().unwrap();
    assert!(b.committed_offsets().is_empty());
    assert_eq!(b.get("s", b"k1").unwrap(), None);
    drop(b);
    let b = RedbBackend::open(&path).unwrap();
    assert!(b.committed_offsets().is_empty());
}
