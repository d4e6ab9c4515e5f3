//! `Topology::describe()` against Kafka Streams 4.4.0: each topology below is built here and,
//! with the same node names, parents, topics and stores added in the same order, by
//! `tests/java/DescribeTopologies.java` with Java's `Topology` API; the two descriptions must
//! be identical byte for byte.
//!
//! The Java side runs from the jars `scripts/test` downloads into
//! `${KAFKA_WIRE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/kafka-wire-testbed}/kafka-streams-4.4.0/libs`
//! (kafka-streams, kafka-clients, slf4j-api) and exports as `KAFKA_WIRE_STREAMS_LIBS`. Without
//! a JDK or those jars the test is skipped with its reason printed, unless
//! `KAFKA_WIRE_STREAMS_LIBS` is set (as in CI), where their absence fails it.
//!
//! Run `cargo test -p streams-core --test describe_java -- --nocapture` to see each description.

use std::path::{Path, PathBuf};
use std::process::Command;

use streams_core::error::BoxError;
use streams_core::processor::ProcessorContext;
use streams_core::record::Record;
use streams_core::serde::StringSerde;
use streams_core::state::InMemoryKeyValueStore;
use streams_core::topology::{NodeHandle, StoreBuilder, Topology, TopologyBuilder};

type Handle = NodeHandle<String, String>;

fn noop(
    _: &mut ProcessorContext<'_, String, String>,
    _: Record<String, String>,
) -> Result<(), BoxError> {
    Ok(())
}

fn source(b: &mut TopologyBuilder, name: &str, topics: &[&str]) -> Handle {
    b.add_source(name, topics, StringSerde, StringSerde)
        .unwrap()
}

fn processor(b: &mut TopologyBuilder, name: &str, parents: &[&Handle]) -> Handle {
    b.add_processor(name, parents, || noop).unwrap()
}

fn sink(b: &mut TopologyBuilder, name: &str, topic: &str, parents: &[&Handle]) {
    b.add_sink(name, topic, StringSerde, StringSerde, parents)
        .unwrap();
}

fn store(b: &mut TopologyBuilder, name: &str, processors: &[&str]) {
    let builder = StoreBuilder::custom(name, |n| Box::new(InMemoryKeyValueStore::new(n)));
    b.add_state_store(builder, processors).unwrap();
}

fn pipe() -> Topology {
    let mut b = TopologyBuilder::new();
    let src = source(&mut b, "Source", &["streams-pipe-input"]);
    sink(&mut b, "Sink", "streams-pipe-output", &[&src]);
    b.build().unwrap()
}

fn filter_map_branch() -> Topology {
    let mut b = TopologyBuilder::new();
    let src = source(&mut b, "Source", &["input"]);
    let filter = processor(&mut b, "Filter", &[&src]);
    let map = processor(&mut b, "Map", &[&filter]);
    let map_values = processor(&mut b, "MapValues", &[&map]);
    sink(&mut b, "SinkA", "output-a", &[&map]);
    sink(&mut b, "SinkB", "output-b", &[&map_values]);
    b.build().unwrap()
}

fn shared_stores() -> Topology {
    let mut b = TopologyBuilder::new();
    let a = source(&mut b, "SourceA", &["orders"]);
    let s = source(&mut b, "SourceB", &["payments"]);
    let enrich = processor(&mut b, "Enrich", &[&a]);
    let settle = processor(&mut b, "Settle", &[&s]);
    store(&mut b, "Orders", &["Enrich"]);
    store(&mut b, "Customers", &["Enrich", "Settle"]);
    sink(&mut b, "EnrichedSink", "enriched", &[&enrich]);
    sink(&mut b, "SettledSink", "settled", &[&settle]);
    b.build().unwrap()
}

fn pattern_merge() -> Topology {
    let mut b = TopologyBuilder::new();
    let topics = source(
        &mut b,
        "TopicSource",
        &["clicks", "views", "purchases", "signups"],
    );
    let pattern: Handle = b
        .add_pattern_source("PatternSource", "events-.*", StringSerde, StringSerde)
        .unwrap();
    let merge = processor(&mut b, "Merge", &[&topics, &pattern]);
    sink(&mut b, "MergedSink", "merged", &[&merge]);
    b.build().unwrap()
}

fn repartition() -> Topology {
    let mut b = TopologyBuilder::new();
    b.add_internal_topic("repartition");
    let src = source(&mut b, "Source", &["input"]);
    let select = processor(&mut b, "SelectKey", &[&src]);
    sink(&mut b, "RepartitionSink", "repartition", &[&select]);
    let again = source(&mut b, "RepartitionSource", &["repartition"]);
    let aggregate = processor(&mut b, "Aggregate", &[&again]);
    store(&mut b, "Totals", &["Aggregate"]);
    sink(&mut b, "Out", "totals", &[&aggregate]);
    b.build().unwrap()
}

fn word_count() -> Topology {
    let mut b = TopologyBuilder::new();
    let src = source(&mut b, "Source", &["streams-plaintext-input"]);
    let process = processor(&mut b, "Process", &[&src]);
    store(&mut b, "Counts", &["Process"]);
    sink(
        &mut b,
        "Sink",
        "streams-wordcount-processor-output",
        &[&process],
    );
    b.build().unwrap()
}

fn global_store() -> Topology {
    let mut b = TopologyBuilder::new();
    let src = source(&mut b, "Source", &["orders"]);
    let enrich = processor(&mut b, "Enrich", &[&src]);
    sink(&mut b, "Sink", "enriched", &[&enrich]);
    let customers = StoreBuilder::custom("Customers", |name| {
        Box::new(InMemoryKeyValueStore::new(name))
    });
    b.add_global_store(
        customers,
        "CustomerSource",
        "customers",
        StringSerde,
        StringSerde,
        "CustomerUpdater",
        || {
            |_ctx: &mut ProcessorContext<'_, (), ()>,
             _r: Record<String, String>|
             -> Result<(), BoxError> { Ok(()) }
        },
    )
    .unwrap();
    let audit = source(&mut b, "AuditSource", &["audit"]);
    sink(&mut b, "AuditSink", "audit-copy", &[&audit]);
    b.build().unwrap()
}

fn diamond() -> Topology {
    let mut b = TopologyBuilder::new();
    let src = source(&mut b, "src", &["in"]);
    let a = processor(&mut b, "a", &[&src]);
    let bb = processor(&mut b, "b", &[&src]);
    let c = processor(&mut b, "c", &[&a, &bb]);
    let d = processor(&mut b, "d", &[&c]);
    let e = processor(&mut b, "e", &[&src]);
    let f = processor(&mut b, "f", &[&src]);
    let g = processor(&mut b, "g", &[&f]);
    let h = processor(&mut b, "h", &[&g]);
    sink(&mut b, "sink-1", "t1", &[&d]);
    sink(&mut b, "sink-2", "t2", &[&bb]);
    sink(&mut b, "sink-3", "t3", &[&e, &h]);
    store(&mut b, "store-one", &["c"]);
    store(&mut b, "store-two", &["c"]);
    store(&mut b, "store-three", &["c", "d"]);
    store(&mut b, "alpha", &["c"]);
    store(&mut b, "Zeta", &["c"]);
    b.build().unwrap()
}

fn three_subtopologies() -> Topology {
    let mut b = TopologyBuilder::new();
    let c = source(&mut b, "c-source", &["c"]);
    sink(&mut b, "c-sink", "c-out", &[&c]);
    let a = source(&mut b, "a-source", &["a"]);
    let p = processor(&mut b, "a-proc", &[&a]);
    sink(&mut b, "a-sink", "a-out", &[&p]);
    let bs: Handle = b
        .add_pattern_source("b-source", "b-[0-9]+", StringSerde, StringSerde)
        .unwrap();
    sink(&mut b, "b-sink", "b-out", &[&bs]);
    b.build().unwrap()
}

/// Many topics, stores and neighbours: HashSet resizes and deep TreeSets.
fn wide() -> Topology {
    let mut b = TopologyBuilder::new();
    let topics: Vec<String> = (0..14).map(|i| format!("topic-{i}")).collect();
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    let hub = source(&mut b, "hub", &topics);
    let mut last = Vec::new();
    for i in 0..12 {
        let mut handle = processor(&mut b, &format!("p{i}"), &[&hub]);
        for j in 0..(i * 7 % 5) {
            handle = processor(&mut b, &format!("p{i}-{j}"), &[&handle]);
        }
        last.push(handle);
    }
    let side: Handle = b
        .add_pattern_source("side-input", "side-.*", StringSerde, StringSerde)
        .unwrap();
    let mut join_parents: Vec<&Handle> = (0..8).map(|i| &last[7 - i]).collect();
    join_parents.push(&side);
    let join = processor(&mut b, "join", &join_parents);
    sink(&mut b, "out", "joined", &[&join]);
    for i in (0..12).step_by(3) {
        sink(
            &mut b,
            &format!("side-{i}"),
            &format!("side-out-{i}"),
            &[&last[i]],
        );
    }
    for k in 0..13 {
        store(&mut b, &format!("store-{k}"), &["join"]);
    }
    b.build().unwrap()
}

fn empty() -> Topology {
    TopologyBuilder::new().build().unwrap()
}

/// The topologies, named as in `DescribeTopologies.java`.
fn topologies() -> Vec<(&'static str, Topology)> {
    vec![
        ("pipe", pipe()),
        ("filter-map-branch", filter_map_branch()),
        ("shared-stores", shared_stores()),
        ("pattern-merge", pattern_merge()),
        ("repartition", repartition()),
        ("wordcount", word_count()),
        ("global-store", global_store()),
        ("diamond", diamond()),
        ("three-subtopologies", three_subtopologies()),
        ("wide", wide()),
        ("empty", empty()),
    ]
}

fn cache_dir() -> PathBuf {
    if let Ok(c) = std::env::var("KAFKA_WIRE_CACHE") {
        return PathBuf::from(c);
    }
    let base = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache")
        });
    base.join("kafka-wire-testbed")
}

/// The jar directory, or why the test cannot run (`Err`); panics if CI promised the jars.
fn streams_libs() -> Result<PathBuf, String> {
    let required = std::env::var_os("KAFKA_WIRE_STREAMS_LIBS").is_some();
    let dir = std::env::var_os("KAFKA_WIRE_STREAMS_LIBS")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("kafka-streams-4.4.0/libs"));
    let has = |prefix: &str| {
        std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with(prefix) && name.ends_with(".jar")
            })
        })
    };
    let mut problem = None;
    if Command::new("java").arg("-version").output().is_err() {
        problem = Some("no `java` on PATH (a JDK 17+ is needed)".to_owned());
    } else if let Some(missing) = ["kafka-streams-4.4.0", "kafka-clients-4.4.0", "slf4j-api-"]
        .into_iter()
        .find(|p| !has(p))
    {
        problem = Some(format!(
            "{missing}*.jar not found in {} (scripts/test downloads it)",
            dir.display()
        ));
    }
    match problem {
        None => Ok(dir),
        Some(p) if required => panic!("KAFKA_WIRE_STREAMS_LIBS is set but {p}"),
        Some(p) => Err(p),
    }
}

/// Run the Java program; it writes `<name>.txt` per topology into `out`.
fn run_java(libs: &Path, out: &Path) {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/DescribeTopologies.java");
    let output = Command::new("java")
        .args(["-Xmx256m", "-cp", &format!("{}/*", libs.display())])
        .arg(&program)
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run java: {e}"));
    assert!(
        output.status.success(),
        "{} failed:\n{}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn describe_matches_kafka_streams() {
    let libs = match streams_libs() {
        Ok(l) => l,
        Err(why) => {
            eprintln!("SKIPPED describe_matches_kafka_streams: {why}");
            return;
        }
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("describe-java-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    run_java(&libs, &out);

    let mut mismatches = Vec::new();
    for (name, topology) in topologies() {
        let rust = topology.describe().to_string();
        let path = out.join(format!("{name}.txt"));
        let java =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if rust == java {
            eprintln!("=== {name}: identical ({} bytes)\n{rust}", rust.len());
        } else {
            eprintln!(
                "=== {name}: DIFFERENT\n--- Rust:\n{rust:?}\n{rust}\n--- Java:\n{java:?}\n{java}"
            );
            mismatches.push(name);
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        mismatches.is_empty(),
        "descriptions differ from Kafka Streams 4.4.0 for {mismatches:?} (both printed above)"
    );
}
