//! Kafka's windowed and join demos against our DSL ports, on Apache Kafka: `TemperatureDemo`
//! (`streams-dsl/examples/temperature.rs`), `PageViewTypedDemo` and `PageViewUntypedDemo`
//! (`pageview_typed.rs`, `pageview_untyped.rs`). Each Java demo and our example read the same
//! input and must write the same records — key and value bytes, timestamps, in order — and
//! create the same internal topics.
//!
//! The Java demos hard-code `localhost:9092`, so `peers/DemoTwins.java` runs them with the
//! test broker's address: the same topologies, application ids, serdes and settings, the
//! page-view ones with the examples jar's own `JSONSerde`, POJOs and `JsonTimestampExtractor`
//! and connect-json's `JsonNode` serdes.
//!
//! The input has out-of-order and late records: temperatures out of order within their
//! 5-second window and one arriving two days late (past the 24-hour grace: dropped); page
//! views of a known and an unknown user (region `UNKNOWN`) and one nine days late (every one
//! of its 604 800 windows closed: dropped). Each page view on time updates 604 800 windows of
//! Kafka's 7-day windows advancing by 1 second, every update an output record: the outputs
//! are compared by count, an order-sensitive digest and their first and last records.
//!
//! Java and ours run one after the other from a clean slate (group, input, output and
//! `<application.id>-…` topics deleted, the input produced again), until their output is
//! complete and quiet; both are stopped with SIGTERM. Java comes from
//! `KAFKA_WIRE_STREAMS_EXAMPLES` / `KAFKA_WIRE_STREAMS_LIBS` (downloaded by `scripts/test`,
//! connect-json included); without them or a JDK the test is skipped with the reason, unless
//! either variable is set. The broker is `KAFKA_WIRE_KAFKA`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::java_demos::{
    app_topics, build_our_examples, demo_classpath, end_offset, sigterm_and_wait, stopped_cleanly,
    streams_jars, text,
};
use integration_tests::Broker;
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

/// 2023-11-14T22:13:20Z, a multiple of 5 s: fixed times, the same for both runs.
const BASE: i64 = 1_700_000_000_000;
const DAY: i64 = 24 * 60 * 60 * 1000;
/// The windows a page view updates: 7 days advancing by 1 second.
const WINDOWS_PER_VIEW: i64 = 7 * 24 * 60 * 60;

/// One input record: topic, key, value, timestamp.
type In = (&'static str, Option<&'static str>, String, i64);

struct Demo {
    /// Our example's name.
    example: &'static str,
    /// `DemoTwins`' mode.
    twin: &'static str,
    app: &'static str,
    inputs: &'static [&'static str],
    output: &'static str,
    /// Output records expected (known from the input), or none to wait for quiet.
    expected: Option<i64>,
    render: fn(&kafka_wire::consumer::ConsumerRecord) -> String,
    input: fn() -> Vec<In>,
}

/// A time-windowed key (`key ‖ start`) as `key@start`, the value as text.
fn render_windowed(r: &kafka_wire::consumer::ConsumerRecord) -> String {
    let key = match r.key.as_deref() {
        Some(k) if k.len() >= 8 => {
            let (name, start) = k.split_at(k.len() - 8);
            let mut b = [0u8; 8];
            b.copy_from_slice(start);
            format!(
                "{}@{}",
                String::from_utf8_lossy(name),
                i64::from_be_bytes(b)
            )
        }
        other => format!("<not a windowed key: {other:?}>"),
    };
    format!("{key}\t{}\t{}", text(r.value.as_deref()), r.timestamp)
}

/// Key and value as text (JSON here).
fn render_text(r: &kafka_wire::consumer::ConsumerRecord) -> String {
    format!(
        "{}\t{}\t{}",
        text(r.key.as_deref()),
        text(r.value.as_deref()),
        r.timestamp
    )
}

fn temperature_input() -> Vec<In> {
    let t = |v: &str, dt: i64| -> In { ("iot-temperature", None, v.to_owned(), BASE + dt) };
    vec![
        t("21", 100),
        t("19", 1_200),
        t("25", 4_000),
        t("22", 5_100),
        t("30", 3_000), // out of order, into the first window
        t("18", 9_000),
        t("40", 12_000),
        t("23", 2_000), // out of order again
        t("50", 2 * DAY),
        t("99", 500), // two days late: past the grace, dropped
        t("27", 2 * DAY + 1_000),
    ]
}

fn pageview_input() -> Vec<In> {
    let profile = |user: &'static str, region: &str, ts: i64| -> In {
        (
            "streams-userprofile-input",
            Some(user),
            format!(r#"{{"_t":"up","region":"{region}","timestamp":{ts}}}"#),
            ts,
        )
    };
    let view = |user: &'static str, page: &str, ts: i64| -> In {
        (
            "streams-pageview-input",
            Some(user),
            format!(r#"{{"_t":"pv","user":"{user}","page":"{page}","timestamp":{ts}}}"#),
            ts,
        )
    };
    vec![
        profile("alice", "europe", BASE),
        profile("bob", "asia", BASE + 10),
        view("alice", "/home", BASE + 1_000),
        view("carol", "/pricing", BASE + 2_500), // no profile: UNKNOWN
        view("bob", "/old", BASE - 9 * DAY),     // nine days late: every window closed
    ]
}

const DEMOS: &[Demo] = &[
    Demo {
        example: "temperature",
        twin: "temperature",
        app: "streams-temperature",
        inputs: &["iot-temperature"],
        output: "iot-temperature-max",
        expected: None,
        render: render_windowed,
        input: temperature_input,
    },
    Demo {
        example: "pageview_typed",
        twin: "pageview-typed",
        app: "streams-pageview-typed",
        inputs: &["streams-pageview-input", "streams-userprofile-input"],
        output: "streams-pageviewstats-typed-output",
        expected: Some(2 * WINDOWS_PER_VIEW),
        render: render_text,
        input: pageview_input,
    },
    Demo {
        example: "pageview_untyped",
        twin: "pageview-untyped",
        app: "streams-pageview-untyped",
        inputs: &["streams-pageview-input", "streams-userprofile-input"],
        output: "streams-pageviewstats-untyped-output",
        expected: Some(2 * WINDOWS_PER_VIEW),
        render: render_text,
        input: pageview_input,
    },
];

/// An output topic read to its end: the count, an order-sensitive digest of every rendered
/// record, the first and last few.
#[derive(Debug, PartialEq)]
struct Digest {
    count: i64,
    hash: u64,
    head: Vec<String>,
    tail: Vec<String>,
}

const SHOWN: usize = 6;

async fn digest(
    bootstrap: &str,
    topic: &str,
    render: fn(&kafka_wire::consumer::ConsumerRecord) -> String,
) -> Digest {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let end = end_offset(&admin, topic).await;
    let mut reader = Consumer::connect(ConsumerConfig::new(bootstrap))
        .await
        .unwrap();
    let tp = TopicPartition::new(topic, 0);
    reader.assign(vec![tp.clone()]);
    reader.seek(&tp, Offset::Beginning).unwrap();
    let mut hasher = DefaultHasher::new();
    let (mut count, mut head, mut tail) = (0i64, Vec::new(), std::collections::VecDeque::new());
    let started = Instant::now();
    while reader.position(&tp).unwrap_or(0) < end {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "reading {topic} to {end} took too long"
        );
        for r in reader.poll(Duration::from_millis(500)).await.unwrap() {
            if r.offset >= end {
                continue;
            }
            let line = render(&r);
            line.hash(&mut hasher);
            count += 1;
            if head.len() < SHOWN {
                head.push(line.clone());
            }
            tail.push_back(line);
            if tail.len() > SHOWN {
                tail.pop_front();
            }
        }
    }
    Digest {
        count,
        hash: hasher.finish(),
        head,
        tail: tail.into(),
    }
}

/// Delete `demo`'s group and topics, create its input and output topics, produce its input.
async fn reset(bootstrap: &str, demo: &Demo) {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match admin.delete_groups(&[demo.app]).await {
            Ok(()) => break,
            Err(e) if e.to_string().contains("GROUP_ID_NOT_FOUND") => break,
            Err(e) if Instant::now() < deadline => {
                eprintln!("deleting group {}: {e}; retrying", demo.app);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("deleting group {}: {e}", demo.app),
        }
    }
    let mut doomed = app_topics(&admin, demo.app).await;
    doomed.extend(demo.inputs.iter().map(|t| (*t).to_owned()));
    doomed.push(demo.output.to_owned());
    let existing = admin.list_topics().await.unwrap();
    let doomed: Vec<String> = doomed
        .into_iter()
        .filter(|t| existing.contains(t))
        .collect();
    if !doomed.is_empty() {
        let refs: Vec<&str> = doomed.iter().map(String::as_str).collect();
        if let Err(e) = admin.delete_topics(&refs).await {
            eprintln!("deleting {refs:?}: {e}");
        }
    }
    loop {
        let topics = admin.list_topics().await.unwrap();
        if doomed.iter().all(|t| !topics.contains(t)) {
            break;
        }
        assert!(Instant::now() < deadline, "topics still there: {doomed:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut fresh: Vec<String> = demo.inputs.iter().map(|t| (*t).to_owned()).collect();
    fresh.push(demo.output.to_owned());
    for name in &fresh {
        loop {
            let topic = NewTopic::new(name, 1, 1).config("retention.ms", "-1");
            match admin.create_topic(topic).await {
                Ok(()) => break,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("creating {name}: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => panic!("creating {name}: {e}"),
            }
        }
    }
    admin.wait_for_leaders(&fresh).await.unwrap();
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for (topic, key, value, ts) in (demo.input)() {
        let mut record = ProducerRecord::new(topic)
            .partition(0)
            .timestamp(ts)
            .value(value);
        if let Some(k) = key {
            record = record.key(k);
        }
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

/// Wait until `demo`'s output holds its expected count (or something) and has been quiet
/// for 3 s; `Err` if the application exited or the output did not settle in 300 s.
async fn wait_done(
    admin: &Admin,
    name: &str,
    child: &mut Child,
    demo: &Demo,
) -> Result<(), String> {
    let started = Instant::now();
    let at_least = demo.expected.unwrap_or(1);
    let (mut last, mut since) = (-1, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{name} exited early ({status})"));
        }
        let n = end_offset(admin, demo.output).await;
        if n != last {
            (last, since) = (n, Instant::now());
        } else if n >= at_least && since.elapsed() >= Duration::from_secs(3) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err(format!(
                "{name}: {} has {n} of {at_least} records after 300 s",
                demo.output
            ));
        }
    }
}

/// Run `child` until its output is done, stop it, digest what it wrote.
async fn run(bootstrap: &str, demo: &Demo, name: &str, mut child: Child) -> (Digest, Vec<String>) {
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let started = Instant::now();
    if let Err(why) = wait_done(&admin, name, &mut child, demo).await {
        let _ = child.kill();
        panic!("{why}\n--- stderr:\n{}", errors.join().unwrap_or_default());
    }
    eprintln!(
        "{name}: done after {:.1} s; stopping it with SIGTERM",
        started.elapsed().as_secs_f64()
    );
    let status = sigterm_and_wait(name, &mut child).await;
    let stderr = errors.join().unwrap_or_default();
    assert!(
        stopped_cleanly(status),
        "{name} exited with {status}\n--- stderr:\n{stderr}"
    );
    let d = digest(bootstrap, demo.output, demo.render).await;
    (d, app_topics(&admin, demo.app).await)
}

fn java_classpath(dir: &Path) -> Result<String, String> {
    let (examples, _) = streams_jars()?;
    if !examples.join("connect-json-4.4.0.jar").is_file() {
        return Err(format!(
            "{}/connect-json-4.4.0.jar is missing (scripts/test downloads it)",
            examples.display()
        ));
    }
    demo_classpath(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windowed_and_join_demos_write_what_javas_write() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_dsl_window_demos") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("window-demos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let java_cp = match java_classpath(&dir) {
        Ok(cp) => cp,
        Err(why) => {
            let required = std::env::var_os("KAFKA_WIRE_STREAMS_EXAMPLES").is_some()
                || std::env::var_os("KAFKA_WIRE_STREAMS_LIBS").is_some();
            assert!(!required, "the Java demos cannot run: {why}");
            eprintln!("SKIPPED: the Java demos cannot run: {why}");
            return;
        }
    };
    let examples = build_our_examples();
    let mut table = Vec::new();
    for demo in DEMOS {
        reset(&bootstrap, demo).await;
        let props = dir.join(format!("{}.properties", demo.twin));
        std::fs::write(
            &props,
            format!(
                "bootstrap.servers={bootstrap}\nstate.dir={}\nsession.timeout.ms=6000\n",
                dir.join(format!("state-java-{}", demo.twin)).display()
            ),
        )
        .unwrap();
        let java = Command::new("java")
            .args(["-cp", &java_cp, "DemoTwins", demo.twin])
            .arg(&props)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start java");
        let (java_out, java_topics) =
            run(&bootstrap, demo, &format!("Java {}", demo.app), java).await;

        reset(&bootstrap, demo).await;
        let ours = Command::new(examples.join(demo.example))
            .arg(&bootstrap)
            .env(
                "STATE_DIR",
                dir.join(format!("state-ours-{}", demo.example)),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start our example");
        let (our_out, our_topics) =
            run(&bootstrap, demo, &format!("our {}", demo.example), ours).await;

        eprintln!(
            "--- {}: Java wrote {} records to {}, first and last:\n{}\n…\n{}",
            demo.app,
            java_out.count,
            demo.output,
            java_out.head.join("\n"),
            java_out.tail.join("\n")
        );
        assert_eq!(
            our_topics, java_topics,
            "{}: internal topics differ",
            demo.app
        );
        assert_eq!(
            our_out, java_out,
            "{}: output differs from Java's",
            demo.app
        );
        table.push(format!(
            "  {:<26} {:>8} output records  digest {:016x}  topics named <application.id>-…: {:?}  identical",
            demo.app, java_out.count, java_out.hash, java_topics
        ));
    }
    println!(
        "Java demo vs our example (same input, one after the other):\n{}",
        table.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
