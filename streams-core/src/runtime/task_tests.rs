//! A task driven by hand: records in, outputs, changelog writes, punctuation and offsets out.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::TopicPartition;

use super::handlers::ErrorHandling;
use super::task::{Processed, StreamTask, TaskSettings};
use crate::error::BoxError;
use crate::processor::{Processor, ProcessorContext, PunctuationType};
use crate::record::Record;
use crate::serde::{Deserializer, I64Serde, StringSerde};
use crate::state::StoreHandle;
use crate::state::ThreadCacheBudget;
use crate::timestamp::FailOnInvalidTimestamp;
use crate::topology::{StoreBuilder, TopologyBuilder};
use crate::TaskId;

/// Kafka's WordCountProcessorDemo shape: count words, emit all counts each second of stream
/// time.
struct WordCount {
    store: StoreHandle<String, i64>,
}

impl Processor<String, String, String, String> for WordCount {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), BoxError> {
        let store = self.store.clone();
        ctx.schedule(
            Duration::from_secs(1),
            PunctuationType::StreamTime,
            move |ctx, ts| {
                let all = ctx.key_value_store(&store)?.all()?;
                for (k, v) in all {
                    ctx.forward(Record::new(k, v.to_string(), ts))?;
                }
                Ok(())
            },
        );
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        r: Record<String, String>,
    ) -> Result<(), BoxError> {
        let mut store = ctx.key_value_store(&self.store)?;
        for word in r.value.to_lowercase().split_whitespace() {
            let n = store.get(&word.to_owned())?.unwrap_or(0) + 1;
            store.put(&word.to_owned(), &n)?;
        }
        Ok(())
    }
}

fn record(offset: i64, ts: i64, value: &str) -> ConsumerRecord {
    ConsumerRecord {
        topic: Arc::from("input"),
        partition: 0,
        offset,
        timestamp: ts,
        timestamp_type: Default::default(),
        leader_epoch: None,
        key: None,
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
    }
}

fn settings() -> TaskSettings {
    TaskSettings {
        outer_join_emit_interval_ms: 1000,
        application_id: Arc::from("app"),
        max_task_idle_ms: 0,
        default_extractor: Arc::new(FailOnInvalidTimestamp),
        deserialization: ErrorHandling::LogAndFail,
        processing: ErrorHandling::LogAndFail,
        dead_letter_topic: None,
        partition_counts: Arc::new(|_| Some(1)),
        global_stores: Default::default(),
        cache_budget: None,
    }
}

fn word_count_task() -> StreamTask {
    word_count_task_with(None)
}

/// The word count task, its store cached against `budget` when given.
fn word_count_task_with(budget: Option<Arc<ThreadCacheBudget>>) -> StreamTask {
    let store = StoreHandle::new("Counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<Option<String>, String>("Source", &["input"], StringSerde, StringSerde)
        .unwrap();
    // Keys are ignored (null in the demo's input).
    let drop_key = b
        .add_processor("DropKey", &[&source], || {
            |ctx: &mut ProcessorContext<'_, String, String>,
             r: Record<Option<String>, String>|
             -> Result<(), BoxError> {
                ctx.forward(r.with_key(String::new()))?;
                Ok(())
            }
        })
        .unwrap();
    let s = store.clone();
    let process = b
        .add_processor("Process", &[&drop_key], move || WordCount {
            store: s.clone(),
        })
        .unwrap();
    let builder = match budget {
        Some(_) => StoreBuilder::in_memory_key_value(&store).with_caching_enabled(),
        None => StoreBuilder::in_memory_key_value(&store),
    };
    b.add_state_store(builder, &["Process"]).unwrap();
    b.add_sink("Sink", "output", StringSerde, StringSerde, &[&process])
        .unwrap();
    let topology = b.build().unwrap();
    let sub = topology.subtopologies()[0].clone();
    let mut task = StreamTask::new(
        TaskId::new(0, 0),
        &topology,
        &sub,
        vec![TopicPartition::new("input", 0)],
        TaskSettings {
            cache_budget: budget,
            ..settings()
        },
        None,
        None,
    )
    .unwrap();
    task.initialize(0).unwrap();
    task
}

#[test]
fn a_cached_store_logs_each_key_once_per_commit_unless_the_budget_evicts() {
    let tp = TopicPartition::new("input", 0);
    let changelog_of = |out: &[crate::processor::OutgoingRecord]| -> Vec<(String, i64)> {
        out.iter()
            .filter(|o| o.topic == "app-Counts-changelog")
            .map(|o| {
                let k: String = StringSerde.deserialize("c", o.key.as_deref()).unwrap();
                let v: i64 = I64Serde.deserialize("c", o.value.as_deref()).unwrap();
                (k, v)
            })
            .collect()
    };
    let mut task = word_count_task_with(Some(ThreadCacheBudget::new(1 << 20)));
    let records: Vec<ConsumerRecord> = (0..100).map(|i| record(i, 10 + i, "a b")).collect();
    task.add_records(&tp, records).unwrap();
    while task.process(0).unwrap() == Processed::Record {}
    assert!(
        changelog_of(&task.take_outgoing()).is_empty(),
        "writes wait in the cache"
    );
    task.flush_caches().unwrap();
    assert_eq!(
        changelog_of(&task.take_outgoing()),
        vec![("a".into(), 100), ("b".into(), 100)],
        "one changelog record per key at commit"
    );
    // A budget of one entry: every new key evicts (and logs) the other.
    let mut task = word_count_task_with(Some(ThreadCacheBudget::new(100)));
    task.add_records(&tp, vec![record(0, 10, "a b a")]).unwrap();
    while task.process(0).unwrap() == Processed::Record {}
    assert_eq!(
        changelog_of(&task.take_outgoing()),
        vec![("a".into(), 1), ("b".into(), 1)]
    );
}

#[test]
fn a_word_count_task_counts_logs_to_its_changelog_and_punctuates_on_stream_time() {
    let mut task = word_count_task();
    let tp = TopicPartition::new("input", 0);
    task.add_records(
        &tp,
        vec![
            record(0, 500, "a b"),
            record(1, 900, "a"),
            record(2, 1_000, "c"),
        ],
    )
    .unwrap();
    // Batches of one record, each followed by the stream-time punctuation check.
    while task.process(0).unwrap() == Processed::Record {
        task.punctuate_stream_time().unwrap();
    }
    let out = task.take_outgoing();
    let sinks: Vec<(String, String, i64)> = out
        .iter()
        .filter(|o| o.topic == "output")
        .map(|o| {
            let k: String = StringSerde.deserialize("output", o.key.as_deref()).unwrap();
            let v: String = StringSerde
                .deserialize("output", o.value.as_deref())
                .unwrap();
            (k, v, o.timestamp)
        })
        .collect();
    // Stream-time punctuation fires at the first record (aligned to 0), then at 1000.
    assert_eq!(
        sinks,
        vec![
            ("a".into(), "1".into(), 500),
            ("b".into(), "1".into(), 500),
            ("a".into(), "2".into(), 1_000),
            ("b".into(), "1".into(), 1_000),
            ("c".into(), "1".into(), 1_000),
        ]
    );
    let changelog: Vec<_> = out
        .iter()
        .filter(|o| o.topic == "app-Counts-changelog")
        .collect();
    assert_eq!(changelog.len(), 4, "one write per word");
    assert!(changelog.iter().all(|c| c.partition == Some(0)));
    assert_eq!(task.offsets_to_commit().get(&tp), Some(&3));
    assert!(task.commit_needed());
    task.committed();
    assert!(!task.commit_needed());
}

#[test]
fn a_poison_record_fails_the_task_or_is_skipped_and_dead_lettered() {
    let tp = TopicPartition::new("input", 0);
    let bad = ConsumerRecord {
        value: Some(Bytes::from_static(&[0xff, 0xfe])),
        ..record(0, 10, "")
    };
    let mut task = word_count_task();
    task.add_records(&tp, vec![bad.clone()]).unwrap();
    let e = task.process(0).unwrap_err();
    assert!(e.to_string().contains("not UTF-8"), "{e}");

    let mut b = word_count_task();
    b.settings_for_test(ErrorHandling::LogAndContinue, Some("dlq".into()));
    b.add_records(&tp, vec![bad, record(1, 20, "ok")]).unwrap();
    while b.process(0).unwrap() == Processed::Record {}
    assert_eq!(b.dropped_records, 1);
    let out = b.take_outgoing();
    let dlq: Vec<_> = out.iter().filter(|o| o.topic == "dlq").collect();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].value.as_deref(), Some(&[0xff, 0xfe][..]));
    assert!(dlq[0]
        .headers
        .iter()
        .any(|h| &h.key[..] == b"__streams.errors.offset"));
    assert_eq!(
        b.offsets_to_commit().get(&tp),
        Some(&2),
        "the poison record is committed past"
    );
}

#[test]
fn a_negative_timestamp_fails_by_default() {
    let tp = TopicPartition::new("input", 0);
    let mut task = word_count_task();
    let e = task.add_records(&tp, vec![record(0, -1, "x")]).unwrap_err();
    assert!(e.to_string().contains("default.timestamp.extractor"), "{e}");
}

/// A KTable-style count: writes go through the record cache, and the cache's flushes are what
/// is forwarded, as `new (old)`.
struct CachedCount {
    store: StoreHandle<String, i64>,
}

impl Processor<Option<String>, String, String, String> for CachedCount {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), BoxError> {
        ctx.on_cache_flush(&self.store, |ctx, flush| {
            let text = format!(
                "{} ({})",
                flush.new.map_or("-".into(), |v| v.to_string()),
                flush.old.map_or("-".into(), |v| v.to_string())
            );
            ctx.forward(Record::new(flush.key, text, flush.timestamp))?;
            Ok(())
        })?;
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        r: Record<Option<String>, String>,
    ) -> Result<(), BoxError> {
        let mut store = ctx.key_value_store(&self.store)?;
        let n = store.get(&r.value)?.unwrap_or(0) + 1;
        store.put(&r.value, &n)?;
        Ok(())
    }
}

fn cached_count_task(budget: usize) -> StreamTask {
    let store = StoreHandle::new("Counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<Option<String>, String>("Source", &["input"], StringSerde, StringSerde)
        .unwrap();
    let s = store.clone();
    let count = b
        .add_processor("Count", &[&source], move || CachedCount {
            store: s.clone(),
        })
        .unwrap();
    b.add_state_store(
        StoreBuilder::in_memory_key_value(&store).with_caching_enabled(),
        &["Count"],
    )
    .unwrap();
    b.add_sink("Sink", "output", StringSerde, StringSerde, &[&count])
        .unwrap();
    let topology = b.build().unwrap();
    let sub = topology.subtopologies()[0].clone();
    let mut task = StreamTask::new(
        TaskId::new(0, 0),
        &topology,
        &sub,
        vec![TopicPartition::new("input", 0)],
        TaskSettings {
            cache_budget: Some(ThreadCacheBudget::new(budget)),
            ..settings()
        },
        None,
        None,
    )
    .unwrap();
    task.initialize(0).unwrap();
    task
}

fn sink_of(out: &[crate::processor::OutgoingRecord]) -> Vec<(String, String, i64)> {
    out.iter()
        .filter(|o| o.topic == "output")
        .map(|o| {
            let k: String = StringSerde.deserialize("o", o.key.as_deref()).unwrap();
            let v: String = StringSerde.deserialize("o", o.value.as_deref()).unwrap();
            (k, v, o.timestamp)
        })
        .collect()
}

#[test]
fn cache_flushes_are_forwarded_downstream_with_the_old_value() {
    let tp = TopicPartition::new("input", 0);
    let mut task = cached_count_task(1 << 20);
    let records: Vec<ConsumerRecord> = (0..10)
        .map(|i| record(i, 100 + i, if i % 2 == 0 { "a" } else { "b" }))
        .collect();
    task.add_records(&tp, records).unwrap();
    while task.process(0).unwrap() == Processed::Record {}
    assert!(
        sink_of(&task.take_outgoing()).is_empty(),
        "nothing before the flush"
    );
    task.flush_caches().unwrap();
    assert_eq!(
        sink_of(&task.take_outgoing()),
        vec![
            ("a".into(), "5 (-)".into(), 108),
            ("b".into(), "5 (-)".into(), 109)
        ],
        "one record per key, stamped with its last write"
    );
    task.add_records(&tp, vec![record(10, 200, "a")]).unwrap();
    while task.process(0).unwrap() == Processed::Record {}
    task.flush_caches().unwrap();
    assert_eq!(
        sink_of(&task.take_outgoing()),
        vec![("a".into(), "6 (5)".into(), 200)]
    );
    // With room for one entry, each new key evicts the other: forwarded while processing.
    let mut task = cached_count_task(100);
    task.add_records(&tp, vec![record(0, 1, "a"), record(1, 2, "b")])
        .unwrap();
    while task.process(0).unwrap() == Processed::Record {}
    assert_eq!(
        sink_of(&task.take_outgoing()),
        vec![("a".into(), "1 (-)".into(), 1)]
    );
}

/// A sink to a topic declared with `add_internal_topic` writes to `<application.id>-<topic>`,
/// the topic the other sub-topology's source reads; other sinks keep their names.
#[test]
fn a_sink_to_an_internal_topic_writes_to_its_prefixed_name() {
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<Option<String>, String>("Source", &["input"], StringSerde, StringSerde)
        .unwrap();
    b.add_internal_topic("rekeyed-repartition");
    b.add_sink(
        "ToRepartition",
        "rekeyed-repartition",
        StringSerde,
        StringSerde,
        &[&source],
    )
    .unwrap();
    b.add_sink("ToOutput", "output", StringSerde, StringSerde, &[&source])
        .unwrap();
    let again = b
        .add_source::<Option<String>, String>(
            "FromRepartition",
            &["rekeyed-repartition"],
            StringSerde,
            StringSerde,
        )
        .unwrap();
    b.add_sink("Out2", "output2", StringSerde, StringSerde, &[&again])
        .unwrap();
    let topology = b.build().unwrap();
    let sub = topology.subtopologies()[0].clone();
    let tp = TopicPartition::new("input", 0);
    let mut task = StreamTask::new(
        TaskId::new(sub.id, 0),
        &topology,
        &sub,
        vec![tp.clone()],
        settings(),
        None,
        None,
    )
    .unwrap();
    task.initialize(0).unwrap();
    task.add_records(&tp, vec![record(0, 10, "hello")]).unwrap();
    while let Ok(Processed::Record) = task.process(0) {}
    let topics: Vec<String> = task.take_outgoing().into_iter().map(|o| o.topic).collect();
    assert_eq!(topics, vec!["app-rekeyed-repartition", "output"]);
}
