//! Our side of the throughput benchmark: the WordCount and count topologies on the Processor
//! API, the windowed count and the stream–table join on the DSL, their configuration, and the
//! child process that runs one.

use streams_dsl::serdes::TimeWindowedSerde;
use streams_dsl::{
    Consumed, Materialized, Named, Produced, StoreType, StreamsBuilder, TimeWindows,
};

use super::*;

/// WordCountDemo's `flatMapValues(split \W+)` + `filter(non-empty)` + `groupBy(word)`'s
/// selection: forwards `(word, word)` for each word of the lower-cased line.
pub(super) struct Split;

impl Processor<Option<String>, String, String, String> for Split {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<Option<String>, String>,
    ) -> Result<(), BoxError> {
        // Java's toLowerCase(Locale.ROOT) and split("\\W+"): \W is anything but [A-Za-z0-9_].
        let line = record.value.to_lowercase();
        for word in line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
        {
            ctx.forward(Record::new(
                word.to_owned(),
                word.to_owned(),
                record.timestamp,
            ))?;
        }
        Ok(())
    }
}

/// The DSL's `count()`: the record's key counted in a caching store; what the cache flushes
/// (at commit or eviction) is forwarded, as a KTable's flush listener does.
pub(super) struct Count {
    store: StoreHandle<String, i64>,
}

impl<V: 'static> Processor<String, V, String, i64> for Count {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), BoxError> {
        // Kafka's count() sends no old values unless a downstream operation asks for them.
        ctx.on_cache_flush_with(&self.store, false, |ctx, flush| {
            if let Some(n) = flush.new {
                ctx.forward(Record::new(flush.key, n, flush.timestamp))?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, V>,
    ) -> Result<(), BoxError> {
        let mut store = ctx.key_value_store(&self.store)?;
        let n = store.get(&record.key)?.unwrap_or(0) + 1;
        store.put(&record.key, &n)?;
        Ok(())
    }
}

pub(super) fn counts_store(handle: &StoreHandle<String, i64>, persistent: bool) -> StoreBuilder {
    let b = if persistent {
        StoreBuilder::persistent_key_value(handle)
    } else {
        StoreBuilder::in_memory_key_value(handle)
    };
    b.with_caching_enabled()
}

/// How the WordCount's repartition topic is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Repartition {
    /// `TopologyBuilder::add_internal_topic("counts-repartition")`: the runtime creates
    /// `<app>-counts-repartition` and purges it (`BENCH_INTERNAL_REPARTITION=1`).
    Internal,
    /// `<app>-counts-rekeyed` as an ordinary topic, created by the child before it starts the
    /// application (Java's repartition-topic configs, as many partitions as the input), named
    /// as such by the sink and the source. The default: it was the workaround while a sink to
    /// an internal topic missed the `<application.id>-` prefix (fixed in ea83a6f), and every
    /// figure in docs/benchmarks.md was measured with it. (Not `…-repartition`: the assignor
    /// takes every `<app>-…-repartition` topic for an internal one and wants its writer.)
    External(String),
}

/// Source(input) → Split → RepartitionSink | RepartitionSource → Count(store `counts`) →
/// Sink(output): two sub-topologies; the changelog is `<app>-counts-changelog` as in Java, the
/// repartition topic `<app>-counts-repartition` (internal) or `<app>-counts-rekeyed`.
pub(super) fn wordcount_topology(
    input: &str,
    output: &str,
    persistent: bool,
    repartition: &Repartition,
) -> Result<Topology, Box<dyn std::error::Error>> {
    let store = StoreHandle::new("counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let topic = match repartition {
        Repartition::Internal => {
            b.add_internal_topic("counts-repartition");
            "counts-repartition"
        }
        Repartition::External(physical) => physical.as_str(),
    };
    let source =
        b.add_source::<Option<String>, String>("Source", &[input], StringSerde, StringSerde)?;
    let split = b.add_processor("Split", &[&source], || Split)?;
    b.add_sink(
        "RepartitionSink",
        topic,
        StringSerde,
        StringSerde,
        &[&split],
    )?;
    let again =
        b.add_source::<String, String>("RepartitionSource", &[topic], StringSerde, StringSerde)?;
    let s = store.clone();
    let count = b.add_processor("Count", &[&again], move || Count { store: s.clone() })?;
    b.add_state_store(counts_store(&store, persistent), &["Count"])?;
    b.add_sink("Sink", output, StringSerde, I64Serde, &[&count])?;
    Ok(b.build()?)
}

/// Create the workaround's repartition topic as Kafka Streams creates one (delete policy,
/// infinite retention, 50 MB segments), unless it exists.
pub(super) async fn create_repartition_topic(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<(), Box<dyn std::error::Error>> {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await?;
    if !admin.list_topics().await?.iter().any(|t| t == topic) {
        let mut t = NewTopic::new(topic, partitions, 1);
        for (k, v) in [
            ("cleanup.policy", "delete"),
            ("retention.ms", "-1"),
            ("segment.bytes", "52428800"),
            ("message.timestamp.type", "CreateTime"),
        ] {
            t.configs.insert(k.into(), v.into());
        }
        admin.create_topic(t).await?;
    }
    admin.wait_for_leaders(&[topic.to_owned()]).await?;
    Ok(())
}

/// Source(input) → Count(store `counts`) → Sink(output).
pub(super) fn count_topology(
    input: &str,
    output: &str,
    persistent: bool,
) -> Result<Topology, Box<dyn std::error::Error>> {
    let store = StoreHandle::new("counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let source = b.add_source::<String, String>("Source", &[input], StringSerde, StringSerde)?;
    let s = store.clone();
    let count = b.add_processor("Count", &[&source], move || Count { store: s.clone() })?;
    b.add_state_store(counts_store(&store, persistent), &["Count"])?;
    b.add_sink("Sink", output, StringSerde, I64Serde, &[&count])?;
    Ok(b.build()?)
}

fn store_type(persistent: bool) -> StoreType {
    if persistent {
        StoreType::Persistent
    } else {
        StoreType::InMemory
    }
}

/// `stream(input).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(5 min))
/// .count(Materialized.as("counts")).toStream().to(output)` with Kafka's time-windowed key
/// serde, as `StreamsThroughputBench.java` writes it.
pub(super) fn windowed_topology(
    input: &str,
    output: &str,
    persistent: bool,
) -> Result<Topology, Box<dyn std::error::Error>> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_with_no_grace(Duration::from_millis(WINDOW_MS as u64))?;
    builder
        .stream_with::<String, String>(&[input], Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .windowed_by(windows)
        .count_with(
            Named::empty(),
            Materialized::as_("counts").with_store_type(store_type(persistent)),
        )
        .to_stream()
        .to_with(
            output,
            Produced::with(
                TimeWindowedSerde::new(StringSerde, WINDOW_MS),
                streams_dsl::serdes::OptionSerde::new(I64Serde),
            ),
        );
    Ok(builder.build()?)
}

/// `stream(input).join(table(table), (line, profile) -> line + "," + profile).to(output)`,
/// as `StreamsThroughputBench.java` writes it.
pub(super) fn join_topology(
    input: &str,
    table: &str,
    output: &str,
    persistent: bool,
) -> Result<Topology, Box<dyn std::error::Error>> {
    let builder = StreamsBuilder::new();
    builder.default_serde::<String>(StringSerde);
    let profiles = builder.table_with::<String, String>(
        table,
        Consumed::with(StringSerde, StringSerde),
        Materialized::as_store_type(store_type(persistent)),
    );
    builder
        .stream_with::<String, String>(&[input], Consumed::with(StringSerde, StringSerde))
        .join_table(&profiles, |line: &String, profile: &String| {
            format!("{line},{profile}")
        })
        .to_with(output, Produced::with(StringSerde, StringSerde));
    Ok(builder.build()?)
}

/// The settings every side gets (ours: through `StreamsConfig::set`).
pub(super) fn our_config(
    bootstrap: &str,
    app: &str,
    threads: usize,
    guarantee: &str,
    state_dir: &str,
) -> Result<StreamsConfig, Box<dyn std::error::Error>> {
    let mut config = StreamsConfig::new(app, bootstrap);
    config.set("num.stream.threads", &threads.to_string())?;
    config.set("processing.guarantee", guarantee)?;
    config.set("commit.interval.ms", &COMMIT_MS.to_string())?;
    config.set("statestore.cache.max.bytes", &CACHE_BYTES.to_string())?;
    config.set("state.dir", state_dir)?;
    config.set("auto.offset.reset", "earliest")?;
    // Diagnostics only (never in the measured runs): extra settings for ours.
    if let Ok(extra) = std::env::var("BENCH_OURS_SET") {
        for kv in extra.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or("BENCH_OURS_SET: key=value,...")?;
            config.set(k, v)?;
        }
    }
    Ok(config)
}

/// `bench streams-throughput-child <topology> <bootstrap> <app> <input> <output> <threads>
/// <guarantee> <state dir> <persistent|memory> <input partitions> <table topic>`: our application, until
/// stdin closes. Prints `state <FROM> -> <TO>`; exits 3 if the application went to ERROR.
/// `BENCH_INTERNAL_REPARTITION=1`: declare the repartition topic internal (see
/// [`Repartition`]).
pub(crate) fn child(args: &[String]) {
    let get = |i: usize| args.get(i).cloned().unwrap_or_default();
    let (topology, bootstrap, app, input, output) = (get(0), get(1), get(2), get(3), get(4));
    let threads: usize = get(5).parse().expect("threads");
    let (guarantee, state_dir, store) = (get(6), get(7), get(8));
    let partitions: i32 = get(9).parse().expect("input partitions");
    let table = get(10);
    let persistent = store != "memory";
    let repartition = if std::env::var_os("BENCH_INTERNAL_REPARTITION").is_some() {
        Repartition::Internal
    } else {
        Repartition::External(format!("{app}-counts-rekeyed"))
    };
    if let (Repartition::External(topic), "wordcount") = (&repartition, topology.as_str()) {
        tokio::runtime::Handle::current()
            .block_on(create_repartition_topic(&bootstrap, topic, partitions))
            .unwrap_or_else(|e| panic!("create {topic}: {e}"));
    }
    let topology = match topology.as_str() {
        "wordcount" => wordcount_topology(&input, &output, persistent, &repartition),
        "count" => count_topology(&input, &output, persistent),
        "windowed" => windowed_topology(&input, &output, persistent),
        "join" => join_topology(&input, &table, &output, persistent),
        other => panic!("unknown topology {other:?}"),
    }
    .expect("topology");
    let config = our_config(&bootstrap, &app, threads, &guarantee, &state_dir)
        .unwrap_or_else(|e| panic!("config: {e}"));
    let mut streams = KafkaStreams::new(topology, config).expect("KafkaStreams::new");
    let (tx, rx) = std::sync::mpsc::channel::<bool>();
    let failed = tx.clone();
    streams.set_state_listener(move |from, to| {
        println!("state {from:?} -> {to:?}");
        if to == State::Error {
            let _ = failed.send(true);
        }
    });
    std::thread::spawn(move || {
        let mut buf = String::new();
        while std::io::stdin()
            .read_line(&mut buf)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            buf.clear();
        }
        let _ = tx.send(false);
    });
    streams.start().expect("start");
    let error = rx.recv().unwrap_or(false);
    let closed = streams.close(Duration::from_secs(30));
    println!("closed {closed}");
    std::process::exit(if error { 3 } else { 0 });
}

// ---- one measured run ---------------------------------------------------------------------------
