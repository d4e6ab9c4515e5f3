//! Kafka's Streams demos against our DSL ports (`streams-dsl/examples/`), on Apache Kafka:
//! each Java demo and our example read the same input from `streams-plaintext-input` and must
//! write the same records (key, value, timestamp, in order) to their output topic, create the
//! same internal topics, write the same changelog records, and print the same lines.
//!
//! - `WordCountDemo` and `WordCountTransformerDemo` run from the kafka-streams-examples 4.3.1
//!   jar (on the Kafka Streams 4.4.0 jars) with a properties file as their argument, as their
//!   `main` reads it.
//! - `PipeDemo` hard-codes `localhost:9092`, and the quickstart's `LineSplit` is not in the
//!   jar: `peers/DemoTwins.java` runs the same topologies, application ids and serdes with the
//!   test broker's address.
//!
//! The demos hard-code their application ids and topics, so Java and ours run one after the
//! other, each from a clean slate (group, input, output and `<application.id>-…` topics
//! deleted, the input produced again), until their output has been quiet for 3 s; both are
//! stopped with SIGTERM. The input is on one partition, so the order is fixed.
//!
//! Then ours alone under exactly-once: `wordcount -- BOOTSTRAP exactly_once_v2`, SIGKILLed
//! while it counts and started again on the same state directory; with the record cache off
//! every word of every line is one output record, so the read_committed output must hold, for
//! each word, exactly the counts 1, 2, …, n — no duplicate, no gap — and n its true count.
//!
//! Java comes from `KAFKA_WIRE_STREAMS_EXAMPLES` / `KAFKA_WIRE_STREAMS_LIBS` (downloaded by
//! `scripts/test`); without them or a JDK the Java comparisons are skipped with the reason,
//! unless either variable is set. The broker is `KAFKA_WIRE_KAFKA`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::java_demos::{
    app_topics, build_our_examples, demo_classpath, end_offset, sigterm_and_wait, stopped_cleanly,
    text,
};
use integration_tests::streams_app::{read_all, read_all_committed, stable_offsets};
use integration_tests::Broker;
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};

const INPUT: &str = "streams-plaintext-input";

/// The demos share topics: one test at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// 2023-11-14T22:13:20Z: fixed timestamps, so both runs see the same ones.
const BASE: i64 = 1_700_000_000_000;

/// (timestamp - BASE, line): out-of-order and tied timestamps, and lines that exercise Java's
/// `split("\\W+")` (runs of separators, a leading separator giving the word "", an empty
/// line, a line of separators only, non-ASCII letters, the Kelvin sign).
const LINES: &[(i64, &str)] = &[
    (100, "Hello Kafka Streams"),
    (250, "hello  world, hello!"),
    (900, "All streams lead to Kafka"),
    (1_000, "the quick brown fox"),
    (1_200, "  jumps over the lazy dog"),
    (800, "Late record: hello again"),
    (1_999, "Grüße aus Köln"),
    (2_000, ""),
    (2_001, "!!!"),
    (2_500, "snake_case and CamelCase and 42"),
    (4_700, "same timestamp"),
    (4_700, "same timestamp as before"),
    (5_000, "\u{212A}elvin"),
    (6_000, "tabs\tand\nnewlines"),
    (7_300, "the end"),
];

/// How one Java demo is started.
enum Java {
    /// A demo class of the examples jar; its argument is the properties file.
    Demo(&'static str),
    /// `peers/DemoTwins.java` in this mode.
    Twin(&'static str),
}

struct Demo {
    /// Our example's name.
    example: &'static str,
    app: &'static str,
    output: &'static str,
    java: Java,
    /// Output values are 8-byte big-endian longs (else text).
    long_values: bool,
}

const DEMOS: &[Demo] = &[
    Demo {
        example: "wordcount",
        app: "streams-wordcount",
        output: "streams-wordcount-output",
        java: Java::Demo("org.apache.kafka.streams.examples.wordcount.WordCountDemo"),
        long_values: true,
    },
    Demo {
        example: "wordcount_transformer",
        app: "streams-wordcount-transformer",
        output: "streams-wordcount-processor-output",
        java: Java::Demo("org.apache.kafka.streams.examples.wordcount.WordCountTransformerDemo"),
        long_values: false,
    },
    Demo {
        example: "pipe",
        app: "streams-pipe",
        output: "streams-pipe-output",
        java: Java::Twin("pipe"),
        long_values: false,
    },
    Demo {
        example: "linesplit",
        app: "streams-linesplit",
        output: "streams-linesplit-output",
        java: Java::Twin("linesplit"),
        long_values: false,
    },
];

/// (key, value, timestamp - BASE) as text.
type Out = (String, String, i64);

/// A changelog record: key bytes, value bytes, timestamp - BASE.
type ChangelogRecord = (Vec<u8>, Vec<u8>, i64);

/// What one run left behind.
#[derive(Debug, PartialEq)]
struct Run {
    output: Vec<Out>,
    /// The application's internal topics (`<application.id>-…`), sorted.
    internal: Vec<String>,
    /// Each changelog's records (key bytes, value bytes, timestamp).
    changelogs: BTreeMap<String, Vec<ChangelogRecord>>,
    stdout: Vec<String>,
}

/// Delete `demo`'s group and topics, create the input and output topics, produce `lines`.
async fn reset(bootstrap: &str, demo: &Demo, lines: &[(i64, String)]) {
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
    doomed.extend([INPUT.to_owned(), demo.output.to_owned()]);
    doomed.sort();
    doomed.dedup(); // the output topic may carry the application id's prefix too
    let doomed_refs: Vec<&str> = doomed.iter().map(String::as_str).collect();
    // Only the ones that exist: a missing topic fails the whole request.
    let existing = admin.list_topics().await.unwrap();
    let doomed_refs: Vec<&str> = doomed_refs
        .into_iter()
        .filter(|t| existing.iter().any(|e| e == t))
        .collect();
    if !doomed_refs.is_empty() {
        if let Err(e) = admin.delete_topics(&doomed_refs).await {
            eprintln!("deleting {doomed_refs:?}: {e}");
        }
    }
    loop {
        let topics = admin.list_topics().await.unwrap();
        let left: Vec<&String> = doomed.iter().filter(|t| topics.contains(t)).collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "topics still there after deletion: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for name in [INPUT, demo.output] {
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
    admin
        .wait_for_leaders(&[INPUT.to_owned(), demo.output.to_owned()])
        .await
        .unwrap();
    produce(bootstrap, lines).await;
}

async fn produce(bootstrap: &str, lines: &[(i64, String)]) {
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for (dt, line) in lines {
        let record = ProducerRecord::new(INPUT)
            .partition(0)
            .timestamp(BASE + dt)
            .value(line.clone());
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

fn long(b: Option<&[u8]>) -> String {
    match b.and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        Some(b) => i64::from_be_bytes(b).to_string(),
        None => format!("<not a long: {:?}>", b),
    }
}

/// Collect a child's stdout lines and stderr text in the background.
fn capture(
    child: &mut Child,
) -> (
    std::thread::JoinHandle<Vec<String>>,
    std::thread::JoinHandle<String>,
) {
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    (
        std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect()
        }),
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        }),
    )
}

/// Wait until `output` holds at least `at_least` records and has been quiet for `quiet`;
/// `Err` if the application exited or the output did not settle within 90 s.
async fn wait_quiet(
    admin: &Admin,
    name: &str,
    child: &mut Child,
    output: &str,
    at_least: i64,
    quiet: Duration,
) -> Result<(), String> {
    let started = Instant::now();
    let (mut last, mut since) = (-1, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{name} exited early ({status})"));
        }
        let n = end_offset(admin, output).await;
        if n != last {
            (last, since) = (n, Instant::now());
        } else if n >= at_least.max(1) && since.elapsed() >= quiet {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            return Err(format!(
                "{name}: {output} still short or growing after 90 s ({n} records)"
            ));
        }
    }
}

/// SIGTERM `child` and wait until it exited (the JVM exits 143 after its shutdown hook).
async fn terminate(name: &str, child: &mut Child) {
    let status = sigterm_and_wait(name, child).await;
    assert!(stopped_cleanly(status), "{name} exited with {status}");
}

/// Run `child` (an application of `demo`) until its output is quiet, stop it, read what it
/// left behind.
async fn run(bootstrap: &str, demo: &Demo, name: &str, mut child: Child) -> Run {
    let (lines, errors) = capture(&mut child);
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let started = Instant::now();
    if let Err(why) = wait_quiet(
        &admin,
        name,
        &mut child,
        demo.output,
        1,
        Duration::from_secs(3),
    )
    .await
    {
        let _ = child.kill();
        let stderr = errors.join().unwrap_or_default();
        panic!("{why}\n--- stderr:\n{stderr}");
    }
    eprintln!(
        "{name}: output quiet after {:.1} s; stopping it with SIGTERM",
        started.elapsed().as_secs_f64()
    );
    terminate(name, &mut child).await;
    let stdout = lines.join().unwrap();
    let stderr = errors.join().unwrap_or_default();
    if !stderr.trim().is_empty() {
        eprintln!("--- {name} stderr:\n{stderr}");
    }
    let output = read_all(bootstrap, &admin, demo.output, 1)
        .await
        .into_iter()
        .map(|r| {
            let value = if demo.long_values {
                long(r.value.as_deref())
            } else {
                text(r.value.as_deref())
            };
            (text(r.key.as_deref()), value, r.timestamp - BASE)
        })
        .collect();
    let internal = app_topics(&admin, demo.app).await;
    let mut changelogs = BTreeMap::new();
    for topic in internal.iter().filter(|t| t.ends_with("-changelog")) {
        let records = read_all(bootstrap, &admin, topic, 1)
            .await
            .into_iter()
            .map(|r| {
                (
                    r.key.as_deref().unwrap_or_default().to_vec(),
                    r.value.as_deref().unwrap_or_default().to_vec(),
                    r.timestamp - BASE,
                )
            })
            .collect();
        changelogs.insert(topic.clone(), records);
    }
    Run {
        output,
        internal,
        changelogs,
        stdout,
    }
}

fn properties(dir: &Path, name: &str, bootstrap: &str) -> PathBuf {
    let path = dir.join(format!("{name}.properties"));
    std::fs::write(
        &path,
        format!(
            "bootstrap.servers={bootstrap}\nstate.dir={}\n\
             # Kafka Streams does not leave the group on close: its member must expire before\n\
             # the next run can delete the group.\nsession.timeout.ms=6000\n",
            dir.join(format!("state-{name}")).display()
        ),
    )
    .unwrap();
    path
}

fn spawn_ours(
    examples: &Path,
    demo: &Demo,
    bootstrap: &str,
    guarantee: &str,
    state: &Path,
) -> Child {
    Command::new(examples.join(demo.example))
        .args([bootstrap, guarantee])
        .env("STATE_DIR", state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start our example")
}

fn sample() -> Vec<(i64, String)> {
    LINES.iter().map(|(t, l)| (*t, (*l).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_writes_what_javas_writes() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_dsl_demos") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = std::env::temp_dir().join(format!("streams-dsl-demos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let classpath = match demo_classpath(&dir) {
        Ok(cp) => cp,
        Err(why)
            if std::env::var_os("KAFKA_WIRE_STREAMS_EXAMPLES").is_none()
                && std::env::var_os("KAFKA_WIRE_STREAMS_LIBS").is_none() =>
        {
            eprintln!("SKIPPED streams_dsl_demos (Java comparison): {why}");
            return;
        }
        Err(why) => panic!("streams_dsl_demos: {why}"),
    };
    let examples = build_our_examples();
    let mut table = Vec::new();
    for demo in DEMOS {
        reset(&bootstrap, demo, &sample()).await;
        let mut java = Command::new("java");
        java.args([
            "-Xmx256m",
            // Lower-casing follows the default locale in Java: pin one (ours has none).
            "-Duser.language=en",
            "-Duser.country=US",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp",
            &classpath,
        ]);
        match demo.java {
            Java::Demo(class) => java.arg(class),
            Java::Twin(mode) => java.args(["DemoTwins", mode]),
        };
        let java = java
            .arg(properties(
                &dir,
                &format!("java-{}", demo.example),
                &bootstrap,
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start java");
        let java = run(&bootstrap, demo, &format!("Java {}", demo.app), java).await;

        reset(&bootstrap, demo, &sample()).await;
        let state = dir.join(format!("state-rust-{}", demo.example));
        let ours = spawn_ours(&examples, demo, &bootstrap, "at_least_once", &state);
        let ours = run(&bootstrap, demo, &format!("our {}", demo.example), ours).await;

        println!(
            "--- {}: Java wrote {} records to {}",
            demo.app,
            java.output.len(),
            demo.output
        );
        for (k, v, ts) in &java.output {
            println!("{k:?} {v:?} {ts}");
        }
        assert_eq!(
            ours.internal, java.internal,
            "{}: internal topics differ",
            demo.app
        );
        assert_eq!(
            ours.output, java.output,
            "{}: output records (key, value, timestamp) differ",
            demo.app
        );
        assert_eq!(
            ours.changelogs, java.changelogs,
            "{}: changelog records differ",
            demo.app
        );
        assert_eq!(
            ours.stdout, java.stdout,
            "{}: printed lines differ",
            demo.app
        );
        let changelog_records: usize = ours.changelogs.values().map(Vec::len).sum();
        table.push(format!(
            "{:<30} {:>6} output records  {:>6} changelog records  {:>3} stdout lines  topics named <application.id>-…: {:?}  identical",
            demo.app,
            ours.output.len(),
            changelog_records,
            ours.stdout.len(),
            ours.internal
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("Java demo vs our example (same input, one after the other):");
    for line in table {
        println!("  {line}");
    }
}

/// Java's `line.toLowerCase().split("\\W+")` words (for the expected counts).
fn words(line: &str) -> Vec<String> {
    streams_core::java_text::split_non_word(&line.to_lowercase())
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordcount_under_exactly_once_survives_a_sigkill_with_exact_counts() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_dsl_demos") else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let demo = &DEMOS[0];
    let dir = std::env::temp_dir().join(format!("streams-dsl-eos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let examples = build_our_examples();
    // 6000 lines of 8 words from 300: every word many times, in both halves.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let lines: Vec<(i64, String)> = (0..6000)
        .map(|i| {
            let line: Vec<String> = (0..8).map(|_| format!("w{}", next() % 300)).collect();
            (i, line.join(" "))
        })
        .collect();
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for (_, line) in &lines {
        for w in words(line) {
            *expected.entry(w).or_default() += 1;
        }
    }
    let (first, second) = lines.split_at(3000);
    reset(&bootstrap, demo, first).await;
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let state = dir.join("state");

    let mut ours = spawn_ours(&examples, demo, &bootstrap, "exactly_once_v2", &state);
    let (_out, _err) = capture(&mut ours);
    let started = Instant::now();
    // Kill it mid-stream: once a transaction has committed output, while it goes on.
    let (mut committed, mut written) = (0, 0);
    while committed < 5_000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        committed = stable_offsets(&admin, demo.output, 1)
            .await
            .get(&0)
            .copied()
            .unwrap_or(0);
        written = end_offset(&admin, demo.output).await;
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing committed after 60 s"
        );
    }
    ours.kill().unwrap();
    let _ = ours.wait();
    println!(
        "SIGKILLed after {:.1} s: output committed up to offset {committed}, written up to {written}",
        started.elapsed().as_secs_f64()
    );

    let mut again = spawn_ours(&examples, demo, &bootstrap, "exactly_once_v2", &state);
    let (_out2, _err2) = capture(&mut again);
    produce(&bootstrap, second).await;
    let total: i64 = expected.values().sum();
    wait_quiet(
        &admin,
        "our wordcount (restarted)",
        &mut again,
        demo.output,
        total,
        Duration::from_secs(3),
    )
    .await
    .unwrap_or_else(|why| panic!("{why}"));
    terminate("our wordcount (restarted)", &mut again).await;

    let records =
        read_all_committed(&bootstrap, &admin, demo.output, 1, Duration::from_secs(30)).await;
    let mut seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &records {
        let count = long(r.value.as_deref())
            .parse::<i64>()
            .expect("a long count");
        seen.entry(text(r.key.as_deref())).or_default().push(count);
    }
    let (mut duplicates, mut gaps, mut wrong) = (0, 0, Vec::new());
    for (word, counts) in &seen {
        for pair in counts.windows(2) {
            match pair[1] - pair[0] {
                1 => {}
                d if d <= 0 => duplicates += 1,
                _ => gaps += 1,
            }
        }
        if counts.first() != Some(&1) {
            gaps += 1;
        }
        if counts.last() != expected.get(word) {
            wrong.push(word.clone());
        }
    }
    let missing: Vec<&String> = expected.keys().filter(|w| !seen.contains_key(*w)).collect();
    println!(
        "exactly-once WordCount with a SIGKILL: {} lines, {} words counted, {} committed output records (expected {total}), {} distinct words (expected {}), duplicates {duplicates}, gaps {gaps}, wrong final counts {}, missing words {}",
        lines.len(),
        total,
        records.len(),
        seen.len(),
        expected.len(),
        wrong.len(),
        missing.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        records.len() as i64,
        total,
        "one committed output record per word"
    );
    assert_eq!(
        (duplicates, gaps),
        (0, 0),
        "each word's counts go 1, 2, …, n"
    );
    assert!(
        wrong.is_empty() && missing.is_empty(),
        "final counts: wrong {wrong:?}, missing {missing:?}"
    );
}
