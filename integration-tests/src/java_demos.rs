//! What the tests that run Kafka's Streams demos next to our ports share
//! (`tests/streams_wordcount_java.rs`, `tests/streams_dsl_demos.rs`): where the Java jars are,
//! a partition's end offset, record bytes as text, and stopping an application with SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, OffsetSpec};
use kafka_wire::TopicPartition;

/// The kafka-streams-examples 4.3.1 directory and the Kafka Streams 4.4.0 libs directory
/// (`KAFKA_WIRE_STREAMS_EXAMPLES` / `KAFKA_WIRE_STREAMS_LIBS`, else the testbed cache where
/// `scripts/test` downloads them), or which jar is missing.
pub fn streams_jars() -> Result<(PathBuf, PathBuf), String> {
    let cache = crate::testbed_cache();
    let examples = std::env::var("KAFKA_WIRE_STREAMS_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| cache.join("kafka-streams-examples-4.3.1"));
    let libs = std::env::var("KAFKA_WIRE_STREAMS_LIBS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| cache.join("kafka-streams-4.4.0/libs"));
    for jar in [
        examples.join("kafka-streams-examples-4.3.1.jar"),
        libs.join("kafka-streams-4.4.0.jar"),
        libs.join("kafka-clients-4.4.0.jar"),
    ] {
        if !jar.is_file() {
            return Err(format!(
                "{} is missing (scripts/test downloads it)",
                jar.display()
            ));
        }
    }
    Ok((examples, libs))
}

/// The end offset of partition 0 of `topic` (0 if it cannot be listed).
pub async fn end_offset(admin: &Admin, topic: &str) -> i64 {
    let tp = TopicPartition::new(topic, 0);
    admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
        .await
        .ok()
        .and_then(|m| m.get(&tp).map(|o| o.offset))
        .unwrap_or(0)
}

/// A record's key or value as text (`<null>` for Kafka's null).
pub fn text(b: Option<&[u8]>) -> String {
    match b {
        None => "<null>".into(),
        Some(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Send `child` SIGTERM and wait (up to 30 s, then SIGKILL and panic) until it exited; its
/// exit status.
pub async fn sigterm_and_wait(name: &str, child: &mut Child) -> ExitStatus {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("cannot run kill");
    assert!(sent.success(), "kill -TERM {name} failed");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name} did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether a stopped demo exited as it should: the JVM exits with 128 + SIGTERM once its
/// shutdown hook (which closes the demo's KafkaStreams) returned; ours return 0 after closing.
pub fn stopped_cleanly(status: ExitStatus) -> bool {
    status.success() || status.code() == Some(143)
}

/// The application's internal topics (`<app>-…`), sorted.
pub async fn app_topics(admin: &Admin, app: &str) -> Vec<String> {
    let prefix = format!("{app}-");
    let mut topics: Vec<String> = admin
        .list_topics()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.starts_with(&prefix))
        .collect();
    topics.sort();
    topics
}

/// The Java classpath of the demos (examples jar, Kafka Streams 4.4.0, and
/// `peers/DemoTwins.java` compiled under `dir`), or why not.
pub fn demo_classpath(dir: &std::path::Path) -> Result<String, String> {
    let (examples, libs) = streams_jars()?;
    let jars = format!("{}/*:{}/*", examples.display(), libs.display());
    let classes = dir.join("classes");
    std::fs::create_dir_all(&classes).map_err(|e| e.to_string())?;
    let out = Command::new("javac")
        .args(["-cp", &jars, "-d"])
        .arg(&classes)
        .arg(crate::repo_root().join("integration-tests/peers/DemoTwins.java"))
        .output()
        .map_err(|e| format!("cannot run javac: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "javac failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(format!("{}:{jars}", classes.display()))
}

/// streams-dsl's examples, built once (debug); their directory.
pub fn build_our_examples() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(crate::repo_root())
        .args(["build", "-p", "streams-dsl", "--examples"])
        .status()
        .expect("cannot run cargo");
    assert!(status.success(), "building the examples failed");
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate::repo_root().join("target"))
        .join("debug/examples")
}
