//! Kafka's `WordCountProcessorDemo` (kafka-streams-examples 4.3.1, run on the Kafka Streams
//! 4.4.0 jars) and our port, `streams-core/examples/wordcount_processor.rs`, fed the same input
//! on Apache Kafka: their output topics must hold the same records (key, value, timestamp), in
//! the same order; so must the changelogs of their `Counts` stores (key and value bytes,
//! timestamp), and the lines they print at each punctuation.
//!
//! The demo hard-codes its application id and topics, so the two run one after the other, each
//! from a clean slate: the input topic (one partition, so the order is fixed), the output topic,
//! the changelog and the consumer group are deleted and created again, and the same input is
//! produced. Both get the same Java properties file as their only argument (bootstrap servers,
//! a fresh `state.dir`, and `session.timeout.ms=6000`: Kafka Streams does not leave the group
//! when it closes, so the group can be deleted only once its member expired), run until their
//! output has stopped growing for 3 s, and are stopped with SIGTERM (the Java demo closes in its
//! shutdown hook; ours closes on SIGTERM too).
//!
//! Why the output is deterministic: every input record is in the topic before the application
//! starts, so its first fetch returns all of them; a stream-time punctuator is checked between
//! rounds of records whose sizes both runtimes choose the same way (Kafka Streams'
//! `numIterations`: 1, one more after a round without punctuation or commit, halved after one
//! with). No commit happens while they process (the commit interval is 30 s and the run shorter),
//! and the final counts are never punctuated by either: a stream-time punctuator fires only when
//! a record advances stream time, and closing does not punctuate.
//!
//! The Java side runs from `KAFKA_WIRE_STREAMS_EXAMPLES` (the examples jar and slf4j-simple) and
//! `KAFKA_WIRE_STREAMS_LIBS` (kafka-streams and kafka-clients 4.4.0, slf4j-api), which
//! `scripts/test` downloads. Without them (or a JDK) the test is skipped with its reason, unless
//! either variable is set, where their absence fails it. The broker is `KAFKA_WIRE_KAFKA`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::java_demos::{
    end_offset, sigterm_and_wait, stopped_cleanly, streams_jars, text,
};
use integration_tests::{repo_root, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

const APP: &str = "streams-wordcount-processor";
const INPUT: &str = "streams-plaintext-input";
const OUTPUT: &str = "streams-wordcount-processor-output";
const CHANGELOG: &str = "streams-wordcount-processor-Counts-changelog";

/// 2023-11-14T22:13:20Z, a whole second: stream-time punctuations fall on `BASE + n * 1000`.
const BASE: i64 = 1_700_000_000_000;

/// The input: (timestamp - BASE in ms, line). Several seconds of stream time, with a record out
/// of order, two seconds without data, ties, and lines that exercise the word splitting (runs
/// of non-word characters, a leading separator giving the word "", an empty line, non-ASCII
/// letters, the Kelvin sign that lower-cases to 'k').
const INPUT_LINES: &[(i64, &str)] = &[
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
    (4_700, "a gap of two seconds"),
    (4_700, "same timestamp as before"),
    (5_000, "\u{212A}elvin \u{130}stanbul"),
    (5_001, "hello kafka"),
    (6_000, "tabs\tand\nnewlines"),
    (6_999, "last second of data"),
    (7_000, "the end"),
    (7_300, "after the end"),
];

/// (key, value, timestamp) of a record, key and value as text when they are UTF-8.
type Out = (String, String, i64);

struct Run {
    output: Vec<Out>,
    changelog: Vec<(Vec<u8>, Vec<u8>, i64)>,
    stdout: Vec<String>,
}

fn java_jars() -> Result<(PathBuf, PathBuf), String> {
    let jars = streams_jars()?;
    match Command::new("java").arg("-version").output() {
        Ok(o) if o.status.success() => Ok(jars),
        _ => Err("no `java` on PATH".into()),
    }
}

/// Delete the demo's topics and group, then create the input and output topics and produce the
/// input: every run starts from the same state.
async fn reset(bootstrap: &str) {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut waited = false;
    loop {
        match admin.delete_groups(&[APP]).await {
            Ok(()) => break,
            Err(e) if e.to_string().contains("GROUP_ID_NOT_FOUND") => break,
            Err(e) if Instant::now() < deadline => {
                if !waited {
                    eprintln!("deleting group {APP}: {e}; retrying until the last member expired");
                    waited = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("deleting group {APP}: {e}"),
        }
    }
    let _ = admin.delete_topics(&[INPUT, OUTPUT, CHANGELOG]).await;
    loop {
        let topics = admin.list_topics().await.unwrap();
        if ![INPUT, OUTPUT, CHANGELOG]
            .iter()
            .any(|t| topics.iter().any(|x| x == t))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "topics still there after deletion"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for name in [INPUT, OUTPUT] {
        // Fixed timestamps from 2023: no time-based retention may delete them.
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
        .wait_for_leaders(&[INPUT.to_owned(), OUTPUT.to_owned()])
        .await
        .unwrap();
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for (dt, line) in INPUT_LINES {
        let record = ProducerRecord::new(INPUT)
            .partition(0)
            .timestamp(BASE + dt)
            .value(line.to_string());
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

/// Every record of partition 0 of `topic`.
async fn read_all(bootstrap: &str, topic: &str) -> Vec<kafka_wire::consumer::ConsumerRecord> {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let end = end_offset(&admin, topic).await;
    let tp = TopicPartition::new(topic, 0);
    let mut consumer = Consumer::connect(ConsumerConfig::new(bootstrap))
        .await
        .unwrap();
    consumer.assign([tp.clone()]);
    consumer.seek(&tp, Offset::Beginning).unwrap();
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while records.len() < usize::try_from(end).unwrap() {
        assert!(Instant::now() < deadline, "reading {topic}: timed out");
        records.extend(consumer.poll(Duration::from_millis(500)).await.unwrap());
    }
    let _ = consumer.close().await;
    records
}

/// Run the application `child` until its output stopped growing, stop it with SIGTERM, and read
/// what it wrote.
async fn run(bootstrap: &str, name: &str, mut child: Child) -> Run {
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let started = Instant::now();
    let (mut last, mut since) = (0, Instant::now());
    let quiet = Duration::from_secs(3);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Ok(Some(status)) = child.try_wait() {
            let err = errors.join().unwrap_or_default();
            panic!("{name} exited early ({status}):\n{err}");
        }
        let n = end_offset(&admin, OUTPUT).await;
        if n != last {
            (last, since) = (n, Instant::now());
        } else if n > 0 && since.elapsed() >= quiet {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let err = errors.join().unwrap_or_default();
            panic!("{name}: output still empty or growing after 60 s ({n} records)\n{err}");
        }
    }
    eprintln!(
        "{name}: {last} output records after {:.1} s; stopping it with SIGTERM",
        started.elapsed().as_secs_f64()
    );
    let status = sigterm_and_wait(name, &mut child).await;
    let stdout = lines.join().unwrap();
    let stderr = errors.join().unwrap_or_default();
    assert!(
        stopped_cleanly(status),
        "{name} exited with {status}:\n{stderr}"
    );
    let output = read_all(bootstrap, OUTPUT)
        .await
        .into_iter()
        .map(|r| {
            (
                text(r.key.as_deref()),
                text(r.value.as_deref()),
                r.timestamp,
            )
        })
        .collect();
    let changelog = read_all(bootstrap, CHANGELOG)
        .await
        .into_iter()
        .map(|r| {
            (
                r.key.as_deref().unwrap_or_default().to_vec(),
                r.value.as_deref().unwrap_or_default().to_vec(),
                r.timestamp,
            )
        })
        .collect();
    Run {
        output,
        changelog,
        stdout,
    }
}

fn properties(dir: &Path, name: &str, bootstrap: &str) -> PathBuf {
    let state = dir.join(format!("state-{name}"));
    let path = dir.join(format!("{name}.properties"));
    std::fs::write(
        &path,
        format!(
            "# as a user would write it for the Java demo\nbootstrap.servers={bootstrap}\nstate.dir={}\n\
             # Kafka Streams does not leave the group on close: its member must expire before the\n\
             # next run can delete the group (the default session timeout is 45 s).\n\
             session.timeout.ms = 6000\n",
            state.display()
        ),
    )
    .unwrap();
    path
}

fn our_example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "build",
            "-p",
            "streams-core",
            "--example",
            "wordcount_processor",
        ])
        .status()
        .expect("cannot run cargo");
    assert!(status.success(), "building the example failed");
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"))
        .join("debug/examples/wordcount_processor")
}

fn print_run(name: &str, run: &Run) {
    println!("--- {name}: {OUTPUT} ({} records)", run.output.len());
    for (k, v, ts) in &run.output {
        println!("{k:?} {v:?} {}", ts - BASE);
    }
    println!(
        "--- {name}: {CHANGELOG} ({} records), {} stdout lines",
        run.changelog.len(),
        run.stdout.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordcount_processor_matches_javas_demo() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_wordcount_java") else {
        return;
    };
    let (examples, libs) = match java_jars() {
        Ok(j) => j,
        Err(why)
            if std::env::var_os("KAFKA_WIRE_STREAMS_EXAMPLES").is_none()
                && std::env::var_os("KAFKA_WIRE_STREAMS_LIBS").is_none() =>
        {
            eprintln!("SKIPPED streams_wordcount_java: {why}");
            return;
        }
        Err(why) => panic!("streams_wordcount_java: {why}"),
    };
    let binary = our_example();
    let dir = std::env::temp_dir().join(format!("streams-wordcount-java-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    reset(&bootstrap).await;
    let classpath = format!("{}/*:{}/*", examples.display(), libs.display());
    let java = Command::new("java")
        .args([
            "-Xmx256m",
            // Lower-casing follows the default locale in Java: pin one (ours has none).
            "-Duser.language=en",
            "-Duser.country=US",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp",
            &classpath,
            "org.apache.kafka.streams.examples.wordcount.WordCountProcessorDemo",
        ])
        .arg(properties(&dir, "java", &bootstrap))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start java");
    let java = run(&bootstrap, "Java WordCountProcessorDemo", java).await;
    print_run("Java", &java);

    reset(&bootstrap).await;
    let ours = Command::new(&binary)
        .arg(properties(&dir, "rust", &bootstrap))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start our example");
    let ours = run(&bootstrap, "our wordcount_processor", ours).await;
    print_run("ours", &ours);
    let _ = std::fs::remove_dir_all(&dir);

    // Sanity: the input was counted as Java's split("\\W+") counts it, and punctuated
    // between rounds (the one due at 5000 ran after the round that processed 5000 and 5001).
    let has = |k: &str, v: &str, dt: i64| {
        java.output
            .iter()
            .any(|o| o.0 == k && o.1 == v && o.2 == BASE + dt)
    };
    assert!(
        has("", "2", 2_500),
        "empty line and leading spaces count \"\""
    );
    assert!(
        has("kelvin", "1", 5_001),
        "the Kelvin sign lower-cases to k"
    );
    assert!(java.output.iter().any(|o| o.0 == "gr"), "ü splits words");
    let punctuations = java.stdout.iter().filter(|l| l.starts_with("---")).count();
    assert!(punctuations >= 5, "{punctuations} punctuations");

    assert_eq!(
        ours.output, java.output,
        "output records (key, value, timestamp) differ"
    );
    assert_eq!(
        ours.changelog, java.changelog,
        "changelog records (key, value bytes, timestamp) differ"
    );
    assert_eq!(ours.stdout, java.stdout, "printed punctuations differ");
    println!(
        "identical: {} output records, {} changelog records, {} stdout lines ({} punctuations)",
        ours.output.len(),
        ours.changelog.len(),
        ours.stdout.len(),
        punctuations
    );
}
