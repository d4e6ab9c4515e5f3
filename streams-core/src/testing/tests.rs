//! The driver on Processor API topologies: punctuation on stream and wall-clock time,
//! depth-first routing of internal topics, global stores, `max.task.idle.ms`, errors.

use std::time::Duration;

use super::{TestDriverError, TestRecord, TopologyTestDriver};
use crate::error::BoxError;
use crate::processor::{Processor, ProcessorContext, PunctuationType};
use crate::record::Record;
use crate::serde::{I64Serde, StringSerde};
use crate::state::StoreHandle;
use crate::topology::{StoreBuilder, TopologyBuilder};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

/// Counts values per key in a store; emits every count each `every` of `kind` time, stamped
/// with the punctuation time.
struct PeriodicCount {
    store: StoreHandle<String, i64>,
    every: Duration,
    kind: PunctuationType,
}

impl Processor<String, String, String, i64> for PeriodicCount {
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
    ) -> std::result::Result<(), BoxError> {
        let store = self.store.clone();
        ctx.schedule(self.every, self.kind, move |ctx, ts| {
            for (k, v) in ctx.key_value_store(&store)?.all()? {
                ctx.forward(Record::new(k, v, ts))?;
            }
            Ok(())
        });
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        r: Record<String, String>,
    ) -> std::result::Result<(), BoxError> {
        if r.value == "fail" {
            return Err("asked to fail".into());
        }
        let mut store = ctx.key_value_store(&self.store)?;
        let n = store.get(&r.key)?.unwrap_or(0) + 1;
        store.put(&r.key, &n)?;
        Ok(())
    }
}

fn periodic_count(kind: PunctuationType) -> crate::topology::Topology {
    let store = StoreHandle::new("counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let source = b
        .add_source::<String, String>("Source", &["input"], StringSerde, StringSerde)
        .expect("source");
    let st = store.clone();
    let count = b
        .add_processor("Count", &[&source], move || PeriodicCount {
            store: st.clone(),
            every: Duration::from_secs(10),
            kind,
        })
        .expect("processor");
    b.add_state_store(StoreBuilder::in_memory_key_value(&store), &["Count"])
        .expect("store");
    b.add_sink("Sink", "output", StringSerde, I64Serde, &[&count])
        .expect("sink");
    b.build().expect("topology")
}

#[test]
fn stream_time_punctuation_fires_after_the_record_that_reaches_it() -> Result {
    let driver = TopologyTestDriver::new(
        periodic_count(PunctuationType::StreamTime),
        [("application.id", "p")],
        0,
    )?;
    let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, i64>("output", StringSerde, I64Serde);
    // The first record fires the punctuator at its stream time (5 000), as Java's schedule
    // starting at 0 does; the next is due at 0 + 10 s.
    input.pipe_input_with_timestamp(s("a"), s("x"), 5_000)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![TestRecord::at(s("a"), 1, 5_000)]
    );
    input.pipe_input_with_timestamp(s("b"), s("x"), 9_999)?;
    assert!(out.is_empty());
    input.pipe_input_with_timestamp(s("a"), s("x"), 10_000)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("a"), 2, 10_000),
            TestRecord::at(s("b"), 1, 10_000)
        ]
    );
    // Wall-clock time does not move stream-time punctuators.
    driver.advance_wall_clock_time(Duration::from_secs(60))?;
    assert!(out.is_empty());
    Ok(())
}

#[test]
fn wall_clock_punctuation_fires_only_when_the_driver_clock_advances() -> Result {
    let driver = TopologyTestDriver::new(
        periodic_count(PunctuationType::WallClockTime),
        [("application.id", "w")],
        1_000_000,
    )?;
    let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, i64>("output", StringSerde, I64Serde);
    assert_eq!(
        input.current_time(),
        1_000_000,
        "input topics start at the driver's time"
    );
    input.pipe_input(s("a"), s("x"))?;
    assert!(out.is_empty());
    driver.advance_wall_clock_time(Duration::from_secs(9))?;
    assert!(out.is_empty());
    driver.advance_wall_clock_time(Duration::from_secs(1))?;
    assert_eq!(driver.wall_clock_time_ms(), 1_010_000);
    assert_eq!(
        out.read_records_to_list()?,
        vec![TestRecord::at(s("a"), 1, 1_010_000)]
    );
    Ok(())
}

/// `input` → (`internal`, then `output`); `internal` → `output`. Java's driver processes an
/// internal record as soon as it is captured, before the records produced after it.
#[test]
fn internal_topics_are_processed_depth_first() -> Result {
    let mut b = TopologyBuilder::new();
    let source = b.add_source::<String, String>("Source", &["input"], StringSerde, StringSerde)?;
    b.add_internal_topic("internal");
    b.add_sink(
        "ToInternal",
        "internal",
        StringSerde,
        StringSerde,
        &[&source],
    )?;
    let tag = b.add_processor("Tag", &[&source], || {
        |ctx: &mut ProcessorContext<'_, String, String>,
         r: Record<String, String>|
         -> std::result::Result<(), BoxError> {
            let v = format!("direct:{}", r.value);
            ctx.forward(r.with_value(v))?;
            Ok(())
        }
    })?;
    b.add_sink("Direct", "output", StringSerde, StringSerde, &[&tag])?;
    let again =
        b.add_source::<String, String>("FromInternal", &["internal"], StringSerde, StringSerde)?;
    let tag2 = b.add_processor("Tag2", &[&again], || {
        |ctx: &mut ProcessorContext<'_, String, String>,
         r: Record<String, String>|
         -> std::result::Result<(), BoxError> {
            let v = format!("via-internal:{}", r.value);
            ctx.forward(r.with_value(v))?;
            Ok(())
        }
    })?;
    b.add_sink("Routed", "output", StringSerde, StringSerde, &[&tag2])?;
    let driver = TopologyTestDriver::new(b.build()?, [("application.id", "d")], 0)?;
    let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, String>("output", StringSerde, StringSerde);
    input.pipe_input_with_timestamp(s("k"), s("1"), 7)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(s("k"), s("via-internal:1"), 7),
            TestRecord::at(s("k"), s("direct:1"), 7)
        ]
    );
    let internal =
        driver.create_output_topic::<String, String>("d-internal", StringSerde, StringSerde);
    assert_eq!(internal.read_key_values_to_list()?, vec![(s("k"), s("1"))]);
    Ok(())
}

/// Writes each record into the global store.
struct FillGlobal(StoreHandle<String, String>);

impl Processor<String, String, (), ()> for FillGlobal {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, (), ()>,
        r: Record<String, String>,
    ) -> std::result::Result<(), BoxError> {
        ctx.key_value_store(&self.0)?.put(&r.key, &r.value)?;
        Ok(())
    }
}

#[test]
fn a_global_store_is_filled_from_its_topic_and_read_by_stream_tasks() -> Result {
    let names = StoreHandle::new("names", StringSerde, StringSerde);
    let mut b = TopologyBuilder::new();
    let n = names.clone();
    b.add_global_store(
        StoreBuilder::in_memory_key_value(&names),
        "GlobalSource",
        "users",
        StringSerde,
        StringSerde,
        "FillGlobal",
        move || FillGlobal(n.clone()),
    )?;
    let source = b.add_source::<String, String>("Source", &["visits"], StringSerde, StringSerde)?;
    let n = names.clone();
    let enrich = b.add_processor("Enrich", &[&source], move || {
        let n = n.clone();
        move |ctx: &mut ProcessorContext<'_, String, String>,
              r: Record<String, String>|
              -> std::result::Result<(), BoxError> {
            let name = ctx
                .key_value_store(&n)?
                .get(&r.key)?
                .unwrap_or_else(|| "?".into());
            let v = format!("{name} visited {}", r.value);
            ctx.forward(r.with_value(v))?;
            Ok(())
        }
    })?;
    b.add_sink("Sink", "enriched", StringSerde, StringSerde, &[&enrich])?;
    let driver = TopologyTestDriver::new(b.build()?, [("application.id", "g")], 0)?;
    let mut users = driver.create_input_topic("users", StringSerde, StringSerde)?;
    let mut visits = driver.create_input_topic("visits", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, String>("enriched", StringSerde, StringSerde);
    visits.pipe_input(s("u1"), s("/home"))?;
    users.pipe_input(s("u1"), s("Ada"))?;
    visits.pipe_input(s("u1"), s("/docs"))?;
    assert_eq!(
        out.read_values_to_list()?,
        vec![s("? visited /home"), s("Ada visited /docs")]
    );
    let store = driver.get_key_value_store::<String, String>("names")?;
    assert_eq!(store.all()?, vec![(s("u1"), s("Ada"))]);
    Ok(())
}

#[test]
fn max_task_idle_holds_a_record_until_the_wall_clock_passes_it() -> Result {
    let mut b = TopologyBuilder::new();
    let left = b.add_source::<String, String>("Left", &["left"], StringSerde, StringSerde)?;
    let right = b.add_source::<String, String>("Right", &["right"], StringSerde, StringSerde)?;
    let both = b.add_processor("Both", &[&left, &right], || {
        |ctx: &mut ProcessorContext<'_, String, String>,
         r: Record<String, String>|
         -> std::result::Result<(), BoxError> {
            ctx.forward(r)?;
            Ok(())
        }
    })?;
    b.add_sink("Sink", "out", StringSerde, StringSerde, &[&both])?;
    let props = [("application.id", "idle"), ("max.task.idle.ms", "100")];
    let driver = TopologyTestDriver::new(b.build()?, props, 0)?;
    let mut l = driver.create_input_topic("left", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<String, String>("out", StringSerde, StringSerde);
    l.pipe_input(s("k"), s("v"))?;
    assert!(out.is_empty(), "waiting for the empty partition");
    driver.advance_wall_clock_time(Duration::from_millis(100))?;
    assert_eq!(out.read_values_to_list()?, vec![s("v")]);
    Ok(())
}

#[test]
fn failures_name_the_topic_and_a_closed_driver_refuses_input() -> Result {
    let driver = TopologyTestDriver::new(
        periodic_count(PunctuationType::StreamTime),
        [("application.id", "e")],
        0,
    )?;
    let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
    let e = input.pipe_input(s("a"), s("fail")).unwrap_err();
    assert!(
        matches!(&e, TestDriverError::Streams { during, .. } if during.contains("\"input\"")),
        "{e}"
    );
    assert!(e.to_string().contains("asked to fail"), "{e}");
    let e = TopologyTestDriver::new(
        periodic_count(PunctuationType::StreamTime),
        [("max.task.idle.ms", "x")],
        0,
    )
    .unwrap_err();
    assert!(
        matches!(&e, TestDriverError::Config(m) if m.contains("max.task.idle.ms")),
        "{e}"
    );
    let driver2 = TopologyTestDriver::new(
        periodic_count(PunctuationType::StreamTime),
        [("application.id", "e2")],
        0,
    )?;
    let mut input2 = driver2.create_input_topic("input", StringSerde, StringSerde)?;
    driver2.close()?;
    assert!(matches!(
        input2.pipe_input(s("a"), s("x")),
        Err(TestDriverError::Closed)
    ));
    Ok(())
}

/// This process's temporary state directories of on-disk drivers.
fn temp_state_dirs() -> usize {
    let prefix = format!("streams-test-driver-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn an_on_disk_driver_keeps_persistent_stores_in_a_temp_dir_removed_on_drop() -> Result {
    let store = StoreHandle::new("counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let source = b.add_source::<String, String>("Source", &["input"], StringSerde, StringSerde)?;
    let st = store.clone();
    b.add_processor("Count", &[&source], move || PeriodicCount {
        store: st.clone(),
        every: Duration::from_secs(3600),
        kind: PunctuationType::WallClockTime,
    })?;
    b.add_state_store(StoreBuilder::persistent_key_value(&store), &["Count"])?;
    let before = temp_state_dirs();
    let driver = TopologyTestDriver::new_on_disk(b.build()?, [("application.id", "disk")], 0)?;
    assert_eq!(temp_state_dirs(), before + 1);
    let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
    input.pipe_input(s("a"), s("x"))?;
    input.pipe_input(s("a"), s("y"))?;
    let counts = driver.get_key_value_store::<String, i64>("counts")?;
    assert_eq!(counts.get(&s("a"))?, Some(2));
    // Written from the test: read back, and logged to the changelog.
    counts.put(&s("b"), &7)?;
    assert_eq!(counts.all()?, vec![(s("a"), 2), (s("b"), 7)]);
    input.pipe_input(s("a"), s("z"))?;
    let changelog = driver.changelog_topic("counts").ok_or("not logged")?;
    let logged = driver.create_output_topic::<String, i64>(&changelog, StringSerde, I64Serde);
    assert_eq!(
        logged.read_key_values_to_list()?,
        vec![(s("a"), 1), (s("a"), 2), (s("b"), 7), (s("a"), 3)]
    );
    drop((driver, input, counts, logged));
    assert_eq!(temp_state_dirs(), before, "removed with the driver");
    Ok(())
}
