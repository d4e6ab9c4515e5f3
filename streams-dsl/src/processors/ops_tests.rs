//! Each stateless operation on records, without a task.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use streams_core::error::{BoxError, StreamsError};
use streams_core::record::Record;

use kafka_wire::protocol::record_batch::Header;

use super::*;
use crate::options::printed::PrintTarget;

/// Run `op` on `input`, collecting what it emits.
fn run<KIn, VIn, KOut, VOut, O: RecordOp<KIn, VIn, KOut, VOut>>(
    op: &O,
    input: Vec<Record<KIn, VIn>>,
) -> Result<Vec<Record<KOut, VOut>>, BoxError> {
    let mut out = Vec::new();
    for r in input {
        op.apply(r, &mut |r| -> Result<(), StreamsError> {
            out.push(r);
            Ok(())
        })?;
    }
    Ok(out)
}

fn rec(k: &str, v: &str, ts: i64) -> Record<String, String> {
    Record::new(k.to_owned(), v.to_owned(), ts)
}

#[test]
fn filter_keeps_and_filter_not_drops_what_the_predicate_accepts() -> Result<(), BoxError> {
    let input = || vec![rec("a", "1", 1), rec("b", "22", 2)];
    let long = |_: &String, v: &String| v.len() > 1;
    let kept = run(
        &Filter {
            predicate: long,
            negate: false,
        },
        input(),
    )?;
    assert_eq!(kept, vec![rec("b", "22", 2)]);
    let dropped = run(
        &Filter {
            predicate: long,
            negate: true,
        },
        input(),
    )?;
    assert_eq!(dropped, vec![rec("a", "1", 1)]);
    Ok(())
}

#[test]
fn map_and_map_values_keep_timestamp_and_headers() -> Result<(), BoxError> {
    let mut r = rec("k", "v", 7);
    r.headers.push(kafka_header());
    let out = run(
        &Map(|k: String, v: String| (v, k.len() as i64)),
        vec![r.clone()],
    )?;
    assert_eq!(
        (out[0].key.as_str(), out[0].value, out[0].timestamp),
        ("v", 1, 7)
    );
    assert_eq!(out[0].headers, r.headers);
    let out = run(
        &MapValues(|k: &String, v: String| format!("{k}{v}")),
        vec![r],
    )?;
    assert_eq!(out[0].value, "kv");
    assert_eq!(out[0].headers.len(), 1);
    Ok(())
}

fn kafka_header() -> Header {
    Header {
        key: bytes::Bytes::from_static(b"h"),
        value: None,
    }
}

#[test]
fn flat_map_emits_each_pair_and_flat_map_values_keeps_the_key() -> Result<(), BoxError> {
    let words = |_: String, v: String| {
        v.split(' ')
            .map(|w| (w.to_owned(), 1i64))
            .collect::<Vec<_>>()
    };
    let out = run(&FlatMap(words, PhantomData), vec![rec("k", "a b", 3)])?;
    let got: Vec<(String, i64, i64)> = out
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect();
    assert_eq!(got, vec![("a".into(), 1, 3), ("b".into(), 1, 3)]);
    let split = |_: &String, v: String| v.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let out = run(&FlatMapValues(split, PhantomData), vec![rec("k", "a b", 3)])?;
    assert_eq!(out, vec![rec("k", "a", 3), rec("k", "b", 3)]);
    let none = run(
        &FlatMapValues(|_: &String, _: String| Vec::<String>::new(), PhantomData),
        vec![rec("k", "", 1)],
    )?;
    assert!(none.is_empty());
    Ok(())
}

#[test]
fn select_key_peek_foreach_and_pass_through() -> Result<(), BoxError> {
    let out = run(
        &SelectKey(|_: &String, v: &String| v.len()),
        vec![rec("k", "abc", 1)],
    )?;
    assert_eq!((out[0].key, out[0].value.as_str()), (3, "abc"));
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let peeked = run(
        &Peek(move |_: &String, _: &String| {
            s.fetch_add(1, Ordering::Relaxed);
        }),
        vec![rec("a", "1", 1)],
    )?;
    assert_eq!(peeked, vec![rec("a", "1", 1)]);
    let s = seen.clone();
    let none: Vec<Record<(), ()>> = run(
        &Foreach(move |_: &String, _: &String| {
            s.fetch_add(1, Ordering::Relaxed);
        }),
        vec![rec("a", "1", 1)],
    )?;
    assert!(none.is_empty());
    assert_eq!(seen.load(Ordering::Relaxed), 2);
    assert_eq!(
        run(&PassThrough, vec![rec("a", "1", 1)])?,
        vec![rec("a", "1", 1)]
    );
    Ok(())
}

#[test]
fn print_lines_are_javas() {
    let p = Print::<String, i64> {
        label: "KSTREAM-SOURCE-0000000000".into(),
        mapper: Arc::new(|k: &String, v: &i64| format!("{k}, {v}")),
        target: PrintTarget::Stdout,
    };
    assert_eq!(p.line(&"a".into(), &1), "[KSTREAM-SOURCE-0000000000]: a, 1");
}
