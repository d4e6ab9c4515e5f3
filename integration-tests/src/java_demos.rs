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
