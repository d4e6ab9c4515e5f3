//! Shared helpers for the end-to-end tests in `tests/`.
//!
//! The brokers are started by `scripts/broker` (see `docs/brokers.md`); `scripts/test` exports
//! their addresses as `KAFKA_WIRE_KAFKA` (Apache Kafka, single node), `KAFKA_WIRE_KAFKA3`
//! (three-node Apache Kafka), `KAFKA_WIRE_NOIDA` and `KAFKA_WIRE_TANSU`. A test whose broker is
//! not configured prints `SKIPPED` and returns — unless `KAFKA_WIRE_REQUIRE_BROKERS=1` (as in
//! CI), where that is a failure.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
pub mod group_member;
pub mod java_demos;
pub mod java_ttd;
pub mod streams_app;
pub mod streams_kill;

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::cluster::Client;
use kafka_wire::protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_wire::protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_wire::protocol::messages::{FetchRequest, ProduceRequest};
use kafka_wire::protocol::record_batch::{self, DecodeLimits, Record, RecordBatch};
use kafka_wire::protocol::{ApiKey, ErrorCode, Uuid};
use kafka_wire::{Error, TopicPartition};

/// The brokers the tests can run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    /// Apache Kafka 4.4.0, single node (the reference).
    Kafka,
    /// Apache Kafka 4.4.0, three nodes on one machine.
    Kafka3,
    /// noida-db 0.2.3.
    Noida,
    /// tansu 0.6.0.
    Tansu,
}

impl Broker {
    /// The environment variable holding its bootstrap servers.
    pub fn env_var(self) -> &'static str {
        match self {
            Broker::Kafka => "KAFKA_WIRE_KAFKA",
            Broker::Kafka3 => "KAFKA_WIRE_KAFKA3",
            Broker::Noida => "KAFKA_WIRE_NOIDA",
            Broker::Tansu => "KAFKA_WIRE_TANSU",
        }
    }

    /// Name used by `scripts/broker`.
    pub fn script_name(self) -> &'static str {
        match self {
            Broker::Kafka => "kafka",
            Broker::Kafka3 => "kafka3",
            Broker::Noida => "noida",
            Broker::Tansu => "tansu",
        }
    }

    /// Bootstrap servers, or `None` (after printing SKIPPED) when the broker is not configured.
    pub fn bootstrap(self, test: &str) -> Option<String> {
        match std::env::var(self.env_var()) {
            Ok(v) if !v.is_empty() => Some(v),
            _ => {
                if std::env::var("KAFKA_WIRE_REQUIRE_BROKERS").as_deref() == Ok("1") {
                    panic!(
                        "{test}: {} is not set but KAFKA_WIRE_REQUIRE_BROKERS=1",
                        self.env_var()
                    );
                }
                eprintln!(
                    "SKIPPED {test}: {} is not set (start it with scripts/broker)",
                    self.env_var()
                );
                None
            }
        }
    }
}

/// The `kw` CLI binary (`scripts/test` builds it first with
/// `cargo build -p kafka-wire --features cli --bin kw`).
pub fn kw_binary() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    let bin = target.join("debug/kw");
    assert!(
        bin.exists(),
        "{} missing: run cargo build -p kafka-wire --features cli --bin kw",
        bin.display()
    );
    bin
}

/// Install a tracing subscriber once (RUST_LOG controls it).
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Run `scripts/broker` with `args`; panics with its output if it fails.
pub fn broker_script(args: &[&str]) -> String {
    let out = Command::new(repo_root().join("scripts/broker"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/broker: {e}"));
    if !out.status.success() {
        panic!(
            "scripts/broker {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A topic name unique to this run.
pub fn unique_topic(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), rand::random::<u32>())
}

/// The Python interpreter that has the interop peers' packages (`scripts/test` sets it).
pub fn python() -> String {
    std::env::var("KAFKA_WIRE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Run the librdkafka peer (`peers/rdkafka_peer.py`) and return its stdout.
pub fn rdkafka_peer(args: &[&str]) -> String {
    let script = repo_root().join("integration-tests/peers/rdkafka_peer.py");
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the librdkafka peer: {e}"));
    assert!(
        out.status.success(),
        "rdkafka peer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Milliseconds since the epoch (brokers drop records stamped far in the past).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Create a topic and wait until every partition has a leader.
pub async fn create_ready_topic(admin: &Admin, topic: NewTopic) {
    let name = topic.name.clone();
    admin
        .create_topic(topic)
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"));
    admin
        .wait_for_leaders(std::slice::from_ref(&name))
        .await
        .unwrap_or_else(|e| panic!("leaders of {name}: {e}"));
}

/// An uncompressed batch of records with these values, stamped now.
pub fn value_batch<V: Into<Bytes>>(values: impl IntoIterator<Item = V>) -> RecordBatch {
    let now = now_ms();
    RecordBatch {
        base_timestamp: now,
        records: values
            .into_iter()
            .enumerate()
            .map(|(i, v)| Record {
                offset: i as i64,
                timestamp: now,
                value: Some(v.into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// An independent client used as an interop peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// librdkafka through the confluent-kafka wheel (`peers/rdkafka_peer.py`).
    Librdkafka,
    /// The Java client 4.4.0, the reference (`peers/JavaPeer.java`).
    Java,
}

impl Peer {
    /// Run the peer with `args` (`produce BOOTSTRAP TOPIC CODEC COUNT PREFIX` or
    /// `consume BOOTSTRAP TOPIC COUNT`); returns the lines of its output that are JSON records
    /// or `ok` lines.
    pub fn run(self, args: &[&str]) -> Vec<String> {
        let out = match self {
            Peer::Librdkafka => rdkafka_peer(args),
            Peer::Java => java_peer(args),
        };
        out.lines()
            .filter(|l| l.starts_with('{') || l.starts_with("ok "))
            .map(str::to_owned)
            .collect()
    }
}

impl Peer {
    /// Start the peer in the background with `args`, stdout piped (for long-running commands
    /// such as `group`).
    pub fn spawn(self, args: &[&str]) -> std::process::Child {
        let mut cmd = match self {
            Peer::Librdkafka => {
                let mut c = Command::new(python());
                c.arg(repo_root().join("integration-tests/peers/rdkafka_peer.py"));
                c
            }
            Peer::Java => {
                let mut c = Command::new("java");
                c.args(["-Xmx256m", "-cp", &format!("{}/*", kafka_libs().display())]);
                c.arg(repo_root().join("integration-tests/peers/JavaPeer.java"));
                c
            }
        };
        cmd.args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {self:?} peer: {e}"))
    }
}

/// The testbed cache where `scripts/test` installs brokers and jars: `$KAFKA_WIRE_CACHE`, else
/// `$XDG_CACHE_HOME/kafka-wire-testbed`, else `~/.cache/kafka-wire-testbed`.
pub fn testbed_cache() -> PathBuf {
    std::env::var("KAFKA_WIRE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            std::env::var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|_| {
                    PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache")
                })
                .join("kafka-wire-testbed")
        })
}

/// The Apache Kafka 4.4.0 jars (`scripts/test` sets `KAFKA_WIRE_KAFKA_LIBS`).
pub fn kafka_libs() -> PathBuf {
    match std::env::var("KAFKA_WIRE_KAFKA_LIBS") {
        Ok(p) => PathBuf::from(p),
        Err(_) => testbed_cache().join("kafka-4.4.0/libs"),
    }
}

/// Run the Java client peer (`peers/JavaPeer.java`) and return its stdout.
pub fn java_peer(args: &[&str]) -> String {
    let script = repo_root().join("integration-tests/peers/JavaPeer.java");
    let classpath = format!("{}/*", kafka_libs().display());
    let out = Command::new("java")
        .args(["-Xmx256m", "-cp", &classpath])
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the Java peer: {e}"));
    assert!(
        out.status.success(),
        "Java peer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Produce one batch to a partition's leader with acks=all; returns the base offset.
/// (A raw helper for the foundation tests; the producer client builds on the same requests.)
pub async fn produce_batch(
    client: &Client,
    tp: &TopicPartition,
    batch: &RecordBatch,
) -> Result<i64, Error> {
    let records =
        record_batch::encode_batch(batch).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    client
        .retry("produce", || async {
            let leader = client.leader(tp).await?;
            let conn = client.connection(leader.node_id).await?;
            let topic_id = topic_id_of(client, tp);
            // As the Java client: topic-id versions (13+) only when the broker gave us the id.
            let version = topic_id_capped(conn.version_for(ApiKey::Produce)?, topic_id);
            let request = ProduceRequest {
                acks: -1,
                timeout_ms: 10_000,
                topic_data: vec![TopicProduceData {
                    name: if version < 13 {
                        tp.topic.clone()
                    } else {
                        String::new()
                    },
                    topic_id: if version >= 13 {
                        topic_id
                    } else {
                        Default::default()
                    },
                    partition_data: vec![PartitionProduceData {
                        index: tp.partition,
                        records: Some(records.clone()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            let response = conn.send_at(&request, version).await?;
            let p = response
                .responses
                .first()
                .and_then(|t| t.partition_responses.first())
                .ok_or_else(|| Error::Protocol {
                    operation: "Produce",
                    detail: "empty response".into(),
                })?;
            match ErrorCode(p.error_code) {
                ErrorCode::NONE => Ok(p.base_offset),
                code => {
                    if code.invalidates_metadata() {
                        client.invalidate_metadata();
                    }
                    Err(Error::Kafka {
                        operation: "Produce",
                        resource: tp.to_string(),
                        code,
                        message: p.error_message.clone(),
                    })
                }
            }
        })
        .await
}

fn topic_id_of(client: &Client, tp: &TopicPartition) -> Uuid {
    client
        .metadata()
        .topics
        .get(&tp.topic)
        .map(|t| t.topic_id)
        .unwrap_or_default()
}

/// Produce and Fetch v13+ name topics by id; like the Java client, use them only when the
/// broker gave us the topic's id, else stay at v12.
fn topic_id_capped(version: i16, topic_id: Uuid) -> i16 {
    if topic_id == Uuid::ZERO {
        version.min(12)
    } else {
        version
    }
}

/// Fetch from `offset` until at least `min_records` records arrived (or 20 s passed).
pub async fn fetch_batches(
    client: &Client,
    tp: &TopicPartition,
    mut offset: i64,
    min_records: usize,
) -> Result<Vec<RecordBatch>, Error> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    let mut count = 0;
    while count < min_records && std::time::Instant::now() < deadline {
        let records = fetch_once(client, tp, offset, 8 << 20).await?;
        for batch in record_batch::RecordBatchReader::new(records, DecodeLimits::default()) {
            let batch = batch.map_err(|e| Error::InvalidArgument(e.to_string()))?;
            offset = batch.next_offset();
            count += batch.records.iter().filter(|_| !batch.is_control).count();
            out.push(batch);
        }
    }
    Ok(out)
}

/// One Fetch of `tp` from `offset` asking for at most `max_bytes`; returns the raw `records`.
pub async fn fetch_once(
    client: &Client,
    tp: &TopicPartition,
    offset: i64,
    max_bytes: i32,
) -> Result<Bytes, Error> {
    client
        .retry("fetch", || async {
            let leader = client.leader(tp).await?;
            let conn = client.connection(leader.node_id).await?;
            let topic_id = topic_id_of(client, tp);
            let version = topic_id_capped(conn.version_for(ApiKey::Fetch)?, topic_id);
            let request = FetchRequest {
                max_wait_ms: 200,
                min_bytes: 1,
                max_bytes,
                session_epoch: -1,
                topics: vec![FetchTopic {
                    topic: if version < 13 {
                        tp.topic.clone()
                    } else {
                        String::new()
                    },
                    topic_id: if version >= 13 {
                        topic_id
                    } else {
                        Default::default()
                    },
                    partitions: vec![FetchPartition {
                        partition: tp.partition,
                        fetch_offset: offset,
                        partition_max_bytes: max_bytes,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            };
            let response = conn.send_at(&request, version).await?;
            let p = response
                .responses
                .first()
                .and_then(|t| t.partitions.first())
                .ok_or_else(|| Error::Protocol {
                    operation: "Fetch",
                    detail: "empty response".into(),
                })?;
            match ErrorCode(p.error_code) {
                ErrorCode::NONE => Ok(p.records.clone().unwrap_or_default()),
                code => {
                    if code.invalidates_metadata() {
                        client.invalidate_metadata();
                    }
                    Err(Error::Kafka {
                        operation: "Fetch",
                        resource: tp.to_string(),
                        code,
                        message: None,
                    })
                }
            }
        })
        .await
}

/// The connection error under a client error (directly, or as the last error of a timeout or
/// of "no broker available"): what authentication and TLS tests look at.
pub fn connection_error(e: &kafka_wire::Error) -> Option<&kafka_wire::error::ConnectionError> {
    use kafka_wire::Error;
    match e {
        Error::Connection(c) => Some(c),
        Error::NoBrokerAvailable { last, .. } | Error::Timeout { last, .. } => {
            connection_error(last)
        }
        _ => None,
    }
}

/// Produce `n` records with values `"0"`..`"n-1"` to `topic` with a producer built from
/// `client`, and wait until every one is delivered.
pub async fn produce_numbered(client: &kafka_wire::config::ClientConfig, topic: &str, n: usize) {
    use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
    let mut config = ProducerConfig::default();
    config.client = client.clone();
    let producer = Producer::connect(config).await.expect("producer");
    let mut deliveries = Vec::with_capacity(n);
    for i in 0..n {
        let record = ProducerRecord::new(topic).value(i.to_string());
        deliveries.push(producer.send(record).await.expect("send"));
    }
    for d in deliveries {
        d.await.expect("delivered");
    }
    producer.close().await.expect("close");
}

/// Read `topic` from the beginning in a new consumer group (a consumer built from `client`)
/// until the `n` values of [`produce_numbered`] have all arrived, within 60 s; commit and leave.
/// Returns (records read, distinct values).
pub async fn read_numbered_in_group(
    client: &kafka_wire::config::ClientConfig,
    topic: &str,
    n: usize,
) -> (usize, usize) {
    use kafka_wire::consumer::{Consumer, ConsumerConfig};
    let mut config = ConsumerConfig {
        client: client.clone(),
        ..ConsumerConfig::default()
    };
    config
        .set("group.id", &unique_topic("g"))
        .expect("group.id");
    config.set("auto.offset.reset", "earliest").expect("reset");
    let mut consumer = Consumer::connect(config).await.expect("consumer");
    consumer.subscribe([topic.to_owned()]).expect("subscribe");
    let mut values = std::collections::BTreeSet::new();
    let mut read = 0;
    let start = std::time::Instant::now();
    while values.len() < n {
        for r in consumer
            .poll(Duration::from_millis(500))
            .await
            .expect("poll")
        {
            read += 1;
            let value = r.value.as_deref().and_then(|v| std::str::from_utf8(v).ok());
            let number = value
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a numbered value");
            values.insert(number);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {} of {n}",
            values.len()
        );
    }
    consumer.commit_consumed().await.expect("commit");
    consumer.close().await.expect("close");
    (read, values.len())
}
