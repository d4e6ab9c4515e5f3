//! `StreamsConfig`: Kafka Streams' own property names, with the clients' keys beside them
//! (unprefixed for every client, or with Kafka Streams' prefixes `consumer.`, `producer.`,
//! `admin.`, `main.consumer.`, `restore.consumer.`, `global.consumer.` for one of them).
//! An unknown key is an error naming it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::ConsumerConfig;
use kafka_wire::layered::{ConsumerRole, LayeredConfig};
use kafka_wire::producer::ProducerConfig;

use super::handlers::ErrorHandling;
use crate::assignment::assignment_configs::{
    AssignmentConfigs, DEFAULT_ACCEPTABLE_RECOVERY_LAG, DEFAULT_MAX_WARMUP_REPLICAS,
    DEFAULT_NUM_STANDBY_REPLICAS, DEFAULT_PROBING_REBALANCE_INTERVAL,
};
use crate::error::StreamsError;
use crate::timestamp::{
    FailOnInvalidTimestamp, LogAndSkipOnInvalidTimestamp, TimestampExtractor,
    UsePartitionTimeOnInvalidTimestamp, WallclockTimestampExtractor,
};
use crate::topology::TopologyOptimization;

/// `processing.guarantee`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingGuarantee {
    /// `at_least_once` (the default): offsets are committed after the output is acknowledged.
    AtLeastOnce,
    /// `exactly_once_v2` (KIP-447): one transactional producer per stream thread; the output,
    /// the changelog writes and the input offsets of every task of the thread commit in one
    /// Kafka transaction; consumers read `read_committed`.
    ExactlyOnceV2,
}

/// Where an injected crash ends the process during an exactly-once commit
/// (`__crash.point__`, for tests of the state's recovery; never set it in production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// After the offsets joined the transaction, before EndTxn(commit).
    BeforeEndTxn,
    /// After the Kafka transaction committed, before the stores' redb transactions commit.
    AfterEndTxn,
    /// After both.
    AfterStateCommit,
}

impl CrashPoint {
    fn parse(value: &str) -> Option<CrashPoint> {
        Some(match value {
            "before_end_txn" => CrashPoint::BeforeEndTxn,
            "after_end_txn" => CrashPoint::AfterEndTxn,
            "after_state_commit" => CrashPoint::AfterStateCommit,
            _ => return None,
        })
    }
}

/// How internal topics come to exist (`internal.topics.setup`, ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalTopicsSetup {
    /// Create missing repartition and changelog topics with Kafka Streams' settings (default).
    Create,
    /// Only check they exist (Azure Event Hubs, locked-down clusters): the error lists every
    /// missing topic with the partitions and configs it needs.
    MustExist,
}

/// Kafka Streams' own keys (others go to the clients).
const OWN_KEYS: &[&str] = &[
    "application.id",
    "processing.guarantee",
    "num.stream.threads",
    "state.dir",
    "state.cleanup.delay.ms",
    "statestore.cache.max.bytes",
    "cache.max.bytes.buffering",
    "commit.interval.ms",
    "max.task.idle.ms",
    "poll.ms",
    "buffered.records.per.partition",
    "default.deserialization.exception.handler",
    "deserialization.exception.handler",
    "processing.exception.handler",
    "default.production.exception.handler",
    "production.exception.handler",
    "errors.dead.letter.queue.topic.name",
    "default.timestamp.extractor",
    "replication.factor",
    "repartition.purge.interval.ms",
    "internal.topics.setup",
    "topology.optimization",
    "num.standby.replicas",
    "acceptable.recovery.lag",
    "max.warmup.replicas",
    "probing.rebalance.interval.ms",
    "rack.aware.assignment.tags",
    "application.server",
    "static.membership.enabled",
    "statestore.fsync.interval.ms",
    "__crash.point__",
    "__crash.after.commits__",
];

/// The main consumer's `max.partition.fetch.bytes` unless set (the client's default is 1 MiB).
/// A stream thread takes records from its buffer far faster than the broker hands them over,
/// so bigger fetches only hold more decoded records in memory: on the WordCount benchmark
/// (docs/benchmarks.md) 128 KiB kept the throughput of 256 KiB and took the 4-partition,
/// 2-thread peak RSS from about 50 to 36 MB.
pub const MAIN_CONSUMER_PARTITION_FETCH_BYTES: usize = 131_072;

/// The prefix of client tags (`client.tag.<key>`), Kafka Streams' own keys too.
pub const CLIENT_TAG_PREFIX: &str = "client.tag.";
/// At most this many client tags and `rack.aware.assignment.tags` (Kafka's limit).
const MAX_CLIENT_TAGS: usize = 5;
/// The longest client tag key (Kafka's limit).
const MAX_CLIENT_TAG_KEY_LENGTH: usize = 20;
/// The longest client tag value (Kafka's limit).
const MAX_CLIENT_TAG_VALUE_LENGTH: usize = 30;

/// Whether `key` is one of Kafka Streams' own keys (not a client's).
fn is_own_key(key: &str) -> bool {
    OWN_KEYS.contains(&key) || key.starts_with(CLIENT_TAG_PREFIX)
}

/// The settings of a Kafka Streams application.
#[derive(Clone)]
pub struct StreamsConfig {
    props: LayeredConfig,
    /// `application.id`: the consumer group, the prefix of internal topics.
    pub application_id: String,
    /// `processing.guarantee`.
    pub processing_guarantee: ProcessingGuarantee,
    /// `num.stream.threads` (1).
    pub num_stream_threads: usize,
    /// `state.dir` (`/tmp/kafka-streams`).
    pub state_dir: String,
    /// `state.cleanup.delay.ms` (600 000): how long a task's state directory stays after
    /// this instance stopped owning it.
    pub state_cleanup_delay: Duration,
    /// `statestore.cache.max.bytes` (10 485 760; the older `cache.max.bytes.buffering` too):
    /// the record caches' budget, divided among the stream threads.
    pub cache_max_bytes: usize,
    /// `commit.interval.ms` (30 000; 100 under exactly-once unless set).
    pub commit_interval: Duration,
    /// Whether `commit.interval.ms` was set (else it follows the guarantee's default).
    commit_interval_set: bool,
    /// `static.membership.enabled` (ours, `true`): each stream thread's consumer joins as a
    /// static member, `group.instance.id = <application.id>-<process id>-<thread index>` (or
    /// `<group.instance.id>-<thread index>` when that is set), with the process id kept in the
    /// state directory, so a restarted instance takes its tasks back without a rebalance and
    /// without waiting out `session.timeout.ms`. A clean close still leaves the group.
    pub static_membership: bool,
    /// `statestore.fsync.interval.ms` (ours, 1 000): under exactly-once, a task's redb commits
    /// are made durable (fsync) at most this often; the commits between are atomic but not
    /// durable, so a crash returns the stores to the last durable commit with its changelog
    /// positions and restoration replays the rest (never a wrong state, only a longer
    /// restore). 0 fsyncs at every commit. Under at-least-once every commit is durable.
    pub fsync_interval: Duration,
    /// `__crash.point__` (tests only): end the process at this point of an exactly-once
    /// commit…
    pub crash_point: Option<CrashPoint>,
    /// …`__crash.after.commits__` (1): of the n-th commit (of any thread) that had something
    /// to commit.
    pub crash_after_commits: u64,
    /// `max.task.idle.ms` (0; -1 never waits).
    pub max_task_idle_ms: i64,
    /// Kafka's internal `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`
    /// (1000): how often, in wall-clock ms, a left/outer stream-stream join looks for
    /// records whose window closed. The `TopologyTestDriver` defaults it to 0, as Java's.
    pub outer_join_emit_interval_ms: i64,
    /// `poll.ms` (100).
    pub poll: Duration,
    /// `buffered.records.per.partition` (1000): a partition is paused above it.
    pub buffered_records_per_partition: usize,
    /// `default.deserialization.exception.handler`.
    pub deserialization_handler: ErrorHandling,
    /// `processing.exception.handler`.
    pub processing_handler: ErrorHandling,
    /// `default.production.exception.handler`.
    pub production_handler: ErrorHandling,
    /// `errors.dead.letter.queue.topic.name`.
    pub dead_letter_topic: Option<String>,
    /// `default.timestamp.extractor`.
    pub timestamp_extractor: Arc<dyn TimestampExtractor>,
    /// `replication.factor` of internal topics (-1: the broker's default).
    pub replication_factor: i16,
    /// `repartition.purge.interval.ms` (30 000).
    pub repartition_purge_interval: Duration,
    /// `internal.topics.setup`: `create` (default) or `must_exist`.
    pub internal_topics: InternalTopicsSetup,
    /// `num.standby.replicas` (0): standby copies of each stateful task on other instances.
    pub num_standby_replicas: u32,
    /// `acceptable.recovery.lag` (10 000): the changelog records an instance may lack on a
    /// task and still take it as active at once.
    pub acceptable_recovery_lag: u64,
    /// `max.warmup.replicas` (2, at least 1): warm-up replicas in the whole assignment.
    pub max_warmup_replicas: u32,
    /// `probing.rebalance.interval.ms` (600 000, at least 60 000): the delay of the probing
    /// rebalance after warm-ups were placed.
    pub probing_rebalance_interval: Duration,
    /// `rack.aware.assignment.tags` (none; at most 5): the client tags standbys are spread
    /// over; each needs a `client.tag.<key>`.
    pub rack_aware_assignment_tags: Vec<String>,
    /// `client.tag.<key>` = value (at most 5; keys up to 20 characters, values up to 30):
    /// this instance's tags, sent to the group leader.
    pub client_tags: BTreeMap<String, String>,
    /// `topology.optimization` (`none`): the rewrites the DSL applies when it builds a
    /// topology with this configuration (`StreamsBuilder::build_with`).
    pub topology_optimization: TopologyOptimization,
}

impl std::fmt::Debug for StreamsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsConfig")
            .field("application_id", &self.application_id)
            .field("processing_guarantee", &self.processing_guarantee)
            .field("num_stream_threads", &self.num_stream_threads)
            .finish_non_exhaustive()
    }
}

fn bad(key: &str, value: &str, expected: &str) -> StreamsError {
    StreamsError::Config(format!("{key}={value:?} is invalid: expected {expected}"))
}

impl StreamsConfig {
    /// Settings for `application_id` on `bootstrap_servers`, everything else at its default.
    pub fn new(application_id: &str, bootstrap_servers: &str) -> Self {
        let mut props = LayeredConfig::new();
        props
            .set("application.id", application_id)
            .set("bootstrap.servers", bootstrap_servers);
        StreamsConfig {
            props,
            application_id: application_id.to_owned(),
            processing_guarantee: ProcessingGuarantee::AtLeastOnce,
            num_stream_threads: 1,
            state_dir: "/tmp/kafka-streams".into(),
            state_cleanup_delay: Duration::from_secs(600),
            cache_max_bytes: 10 * 1024 * 1024,
            commit_interval: Duration::from_secs(30),
            commit_interval_set: false,
            static_membership: true,
            fsync_interval: Duration::from_secs(1),
            crash_point: None,
            crash_after_commits: 1,
            max_task_idle_ms: 0,
            outer_join_emit_interval_ms: 1000,
            poll: Duration::from_millis(100),
            buffered_records_per_partition: 1000,
            deserialization_handler: ErrorHandling::LogAndFail,
            processing_handler: ErrorHandling::LogAndFail,
            production_handler: ErrorHandling::LogAndFail,
            dead_letter_topic: None,
            timestamp_extractor: Arc::new(FailOnInvalidTimestamp),
            replication_factor: -1,
            repartition_purge_interval: Duration::from_secs(30),
            internal_topics: InternalTopicsSetup::Create,
            num_standby_replicas: DEFAULT_NUM_STANDBY_REPLICAS,
            acceptable_recovery_lag: DEFAULT_ACCEPTABLE_RECOVERY_LAG,
            max_warmup_replicas: DEFAULT_MAX_WARMUP_REPLICAS,
            probing_rebalance_interval: DEFAULT_PROBING_REBALANCE_INTERVAL,
            rack_aware_assignment_tags: Vec::new(),
            client_tags: BTreeMap::new(),
            topology_optimization: TopologyOptimization::NONE,
        }
    }

    /// The task assignor's settings.
    pub fn assignment_configs(&self) -> AssignmentConfigs {
        AssignmentConfigs {
            num_standby_replicas: self.num_standby_replicas,
            acceptable_recovery_lag: self.acceptable_recovery_lag,
            max_warmup_replicas: self.max_warmup_replicas,
            probing_rebalance_interval: self.probing_rebalance_interval,
            rack_aware_assignment_tags: self.rack_aware_assignment_tags.clone(),
        }
    }

    /// `client.tag.<tag>=value`.
    fn set_client_tag(&mut self, key: &str, tag: &str, value: &str) -> Result<(), StreamsError> {
        if tag.is_empty() {
            return Err(bad(key, value, "a tag name after client.tag."));
        }
        if tag.chars().count() > MAX_CLIENT_TAG_KEY_LENGTH {
            return Err(StreamsError::Config(format!(
                "{key} is invalid: the tag name {tag:?} is longer than {MAX_CLIENT_TAG_KEY_LENGTH} characters"
            )));
        }
        if value.chars().count() > MAX_CLIENT_TAG_VALUE_LENGTH {
            return Err(bad(
                key,
                value,
                &format!("a tag value of at most {MAX_CLIENT_TAG_VALUE_LENGTH} characters"),
            ));
        }
        if !self.client_tags.contains_key(tag) && self.client_tags.len() >= MAX_CLIENT_TAGS {
            return Err(StreamsError::Config(format!(
                "{key} is invalid: at most {MAX_CLIENT_TAGS} client tags can be set with {CLIENT_TAG_PREFIX}"
            )));
        }
        self.client_tags.insert(tag.to_owned(), value.to_owned());
        Ok(())
    }

    /// Set a property: one of Kafka Streams' keys, or a client key (prefixed or not). Client
    /// keys are checked when the clients are built ([`StreamsConfig::validate`]).
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, StreamsError> {
        let ms = |v: &str| -> Result<u64, StreamsError> {
            v.parse().map_err(|_| bad(key, v, "milliseconds"))
        };
        match key {
            "application.id" => self.application_id = value.to_owned(),
            "processing.guarantee" => {
                self.processing_guarantee = match value {
                    "at_least_once" => ProcessingGuarantee::AtLeastOnce,
                    "exactly_once_v2" => ProcessingGuarantee::ExactlyOnceV2,
                    "exactly_once" | "exactly_once_beta" => {
                        return Err(bad(key, value, "at_least_once or exactly_once_v2 (exactly_once and exactly_once_beta were removed in Kafka Streams 4.0; exactly_once_v2 replaces both)"))
                    }
                    _ => return Err(bad(key, value, "at_least_once or exactly_once_v2")),
                };
                if !self.commit_interval_set {
                    self.commit_interval = self.default_commit_interval();
                }
            }
            "statestore.fsync.interval.ms" => {
                self.fsync_interval = Duration::from_millis(ms(value)?)
            }
            "static.membership.enabled" => {
                self.static_membership = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(key, value, "true or false")),
                }
            }
            "__crash.point__" => {
                self.crash_point = Some(CrashPoint::parse(value).ok_or_else(|| {
                    bad(key, value, "before_end_txn, after_end_txn or after_state_commit")
                })?);
            }
            "__crash.after.commits__" => {
                self.crash_after_commits = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad(key, value, "a commit count of 1 or more"))?;
            }
            "num.stream.threads" => {
                self.num_stream_threads = value
                    .parse()
                    .ok()
                    .filter(|n: &usize| *n >= 1)
                    .ok_or_else(|| bad(key, value, "a thread count of 1 or more"))?
            }
            "state.dir" => self.state_dir = value.to_owned(),
            "statestore.cache.max.bytes" | "cache.max.bytes.buffering" => {
                self.cache_max_bytes = value
                    .parse()
                    .map_err(|_| bad(key, value, "a byte count of 0 or more"))?
            }
            "state.cleanup.delay.ms" => {
                self.state_cleanup_delay = Duration::from_millis(ms(value)?)
            }
            "commit.interval.ms" => {
                self.commit_interval = Duration::from_millis(ms(value)?);
                self.commit_interval_set = true;
            }
            "__emit.interval.ms.kstreams.outer.join.spurious.results.fix__" => {
                self.outer_join_emit_interval_ms =
                    i64::try_from(ms(value)?).map_err(|_| bad(key, value, "milliseconds"))?
            }
            "max.task.idle.ms" => {
                self.max_task_idle_ms = value
                    .parse()
                    .ok()
                    .filter(|n: &i64| *n >= -1)
                    .ok_or_else(|| bad(key, value, "-1 or milliseconds"))?
            }
            "poll.ms" => self.poll = Duration::from_millis(ms(value)?),
            "buffered.records.per.partition" => {
                self.buffered_records_per_partition = value
                    .parse()
                    .ok()
                    .filter(|n: &usize| *n >= 1)
                    .ok_or_else(|| bad(key, value, "a record count of 1 or more"))?
            }
            "default.deserialization.exception.handler" | "deserialization.exception.handler" => {
                self.deserialization_handler = ErrorHandling::parse(value)
                    .ok_or_else(|| bad(key, value, "LogAndFailExceptionHandler or LogAndContinueExceptionHandler"))?
            }
            "processing.exception.handler" => {
                self.processing_handler = ErrorHandling::parse(value).ok_or_else(|| {
                    bad(key, value, "LogAndFailProcessingExceptionHandler or LogAndContinueProcessingExceptionHandler")
                })?
            }
            "default.production.exception.handler" | "production.exception.handler" => {
                self.production_handler = ErrorHandling::parse(value)
                    .ok_or_else(|| bad(key, value, "DefaultProductionExceptionHandler or log_and_continue"))?
            }
            "errors.dead.letter.queue.topic.name" => {
                self.dead_letter_topic = (!value.is_empty()).then(|| value.to_owned())
            }
            "default.timestamp.extractor" => {
                let simple = value.rsplit('.').next().unwrap_or(value);
                self.timestamp_extractor = match simple {
                    "FailOnInvalidTimestamp" => Arc::new(FailOnInvalidTimestamp),
                    "LogAndSkipOnInvalidTimestamp" => Arc::new(LogAndSkipOnInvalidTimestamp),
                    "UsePartitionTimeOnInvalidTimestamp" => Arc::new(UsePartitionTimeOnInvalidTimestamp),
                    "WallclockTimestampExtractor" => Arc::new(WallclockTimestampExtractor),
                    _ => return Err(bad(key, value, "FailOnInvalidTimestamp, LogAndSkipOnInvalidTimestamp, UsePartitionTimeOnInvalidTimestamp or WallclockTimestampExtractor (or pass an extractor to the source)")),
                }
            }
            "replication.factor" => {
                self.replication_factor = value
                    .parse()
                    .ok()
                    .filter(|n: &i16| *n == -1 || *n >= 1)
                    .ok_or_else(|| bad(key, value, "-1 or a replica count"))?
            }
            "repartition.purge.interval.ms" => self.repartition_purge_interval = Duration::from_millis(ms(value)?),
            "internal.topics.setup" => {
                self.internal_topics = match value {
                    "create" => InternalTopicsSetup::Create,
                    "must_exist" => InternalTopicsSetup::MustExist,
                    _ => return Err(bad(key, value, "create or must_exist")),
                }
            }
            "num.standby.replicas" => {
                self.num_standby_replicas = value
                    .parse()
                    .map_err(|_| bad(key, value, "a replica count of 0 or more"))?
            }
            "acceptable.recovery.lag" => {
                self.acceptable_recovery_lag = value
                    .parse()
                    .map_err(|_| bad(key, value, "a record count of 0 or more"))?
            }
            "max.warmup.replicas" => {
                self.max_warmup_replicas = value
                    .parse()
                    .ok()
                    .filter(|n: &u32| *n >= 1)
                    .ok_or_else(|| bad(key, value, "a replica count of 1 or more"))?
            }
            "probing.rebalance.interval.ms" => {
                self.probing_rebalance_interval = value
                    .parse()
                    .ok()
                    .filter(|ms: &u64| *ms >= 60_000)
                    .map(Duration::from_millis)
                    .ok_or_else(|| bad(key, value, "milliseconds, at least 60000 (one minute)"))?
            }
            "rack.aware.assignment.tags" => {
                let tags: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
                if tags.len() > MAX_CLIENT_TAGS {
                    return Err(bad(key, value, &format!("a list of at most {MAX_CLIENT_TAGS} client tag names")));
                }
                self.rack_aware_assignment_tags = tags;
            }
            "topology.optimization" => {
                self.topology_optimization =
                    TopologyOptimization::parse(value).map_err(|e| {
                        StreamsError::Config(format!("{key}={value:?} is invalid: {e}"))
                    })?;
            }
            "application.server" => {}
            _ => {
                if let Some(tag) = key.strip_prefix(CLIENT_TAG_PREFIX) {
                    self.set_client_tag(key, tag, value)?;
                }
            }
        }
        self.props.set(key, value);
        Ok(self)
    }

    /// Check every key: Kafka Streams' own, or one some client takes.
    pub fn validate(&self) -> Result<(), StreamsError> {
        if let Some(tag) = self
            .rack_aware_assignment_tags
            .iter()
            .find(|t| !self.client_tags.contains_key(*t))
        {
            return Err(StreamsError::Config(format!(
                "rack.aware.assignment.tags={:?} is invalid: {tag} has no {CLIENT_TAG_PREFIX}{tag} setting (every listed tag needs this instance's value)",
                self.rack_aware_assignment_tags.join(",")
            )));
        }
        self.props
            .check(is_own_key)
            .map_err(|e| StreamsError::Config(e.to_string()))
    }

    fn own_filtered(&self) -> LayeredConfig {
        let mut clean = LayeredConfig::new();
        for (k, v) in self.props.entries() {
            if !is_own_key(k) {
                clean.set(k, v);
            }
        }
        clean
    }

    /// Whether `processing.guarantee` is `exactly_once_v2`.
    pub fn is_exactly_once(&self) -> bool {
        self.processing_guarantee == ProcessingGuarantee::ExactlyOnceV2
    }

    /// `commit.interval.ms` when not set: 30 s, or 100 ms under exactly-once (Kafka's).
    fn default_commit_interval(&self) -> Duration {
        if self.is_exactly_once() {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(30)
        }
    }

    /// Under exactly-once every consumer reads `read_committed` (Kafka Streams overrides a
    /// user's `isolation.level` the same way, with a warning).
    fn force_read_committed(&self, props: &mut LayeredConfig, prefix: &str) {
        if !self.is_exactly_once() {
            return;
        }
        for key in ["isolation.level", "consumer.isolation.level"]
            .into_iter()
            .map(str::to_owned)
            .chain(std::iter::once(format!("{prefix}isolation.level")))
        {
            if props.get(&key).is_some_and(|v| v != "read_committed") {
                tracing::warn!(
                    key,
                    "processing.guarantee=exactly_once_v2 reads read_committed; the setting is overridden"
                );
            }
        }
        props.set(&format!("{prefix}isolation.level"), "read_committed");
    }

    /// The `group.instance.id` of stream thread `index` (1-based) of process `process_id`,
    /// when static membership is on: `<group.instance.id>-<index>` if the user set one (as
    /// Kafka Streams does), else `<application.id>-<process id>-<index>`.
    pub fn group_instance_id(&self, process_id: &str, index: usize) -> Option<String> {
        match self.user_group_instance_id() {
            Some(id) => Some(format!("{id}-{index}")),
            None if self.static_membership => {
                Some(format!("{}-{process_id}-{index}", self.application_id))
            }
            None => None,
        }
    }

    /// A `group.instance.id` the user set (for the main consumer or every consumer).
    fn user_group_instance_id(&self) -> Option<&str> {
        self.props
            .get("main.consumer.group.instance.id")
            .or_else(|| self.props.get("consumer.group.instance.id"))
            .or_else(|| self.props.get("group.instance.id"))
            .filter(|v| !v.is_empty())
    }

    /// Whether the stream threads' `group.instance.id`s are derived from the process id (static
    /// membership on, none set by the user).
    pub fn derives_group_instance_id(&self) -> bool {
        self.static_membership && self.user_group_instance_id().is_none()
    }

    /// The main consumer of a stream thread: the application's group, offsets committed by
    /// the runtime, `auto.offset.reset=earliest` unless set (Kafka Streams' defaults),
    /// `max.partition.fetch.bytes` [`MAIN_CONSUMER_PARTITION_FETCH_BYTES`] unless set (ours),
    /// `read_committed` under exactly-once, and the thread's static member id if any.
    pub fn main_consumer(
        &self,
        client_id: &str,
        group_instance_id: Option<&str>,
    ) -> Result<ConsumerConfig, StreamsError> {
        let mut props = self.own_filtered();
        if props.get("auto.offset.reset").is_none()
            && props.get("consumer.auto.offset.reset").is_none()
        {
            props.set("auto.offset.reset", "earliest");
        }
        // Tasks buffer at most `buffered.records.per.partition` records each; fetching a full
        // megabyte per partition ahead of that only holds memory (measured: WordCount's peak RSS
        // 135 -> 65 MB on one partition, throughput unchanged; docs/benchmarks.md).
        if [
            "max.partition.fetch.bytes",
            "consumer.max.partition.fetch.bytes",
            "main.consumer.max.partition.fetch.bytes",
        ]
        .iter()
        .all(|k| props.get(k).is_none())
        {
            props.set(
                "main.consumer.max.partition.fetch.bytes",
                &MAIN_CONSUMER_PARTITION_FETCH_BYTES.to_string(),
            );
        }
        props.set("main.consumer.group.id", &self.application_id);
        props.set("main.consumer.enable.auto.commit", "false");
        props.set("main.consumer.client.id", client_id);
        props.set(
            "main.consumer.group.instance.id",
            group_instance_id.unwrap_or(""),
        );
        self.force_read_committed(&mut props, "main.consumer.");
        props
            .consumer(ConsumerRole::Main)
            .map_err(|e| StreamsError::Config(e.to_string()))
    }

    /// The restore consumer (no group; reads changelogs).
    pub fn restore_consumer(&self, client_id: &str) -> Result<ConsumerConfig, StreamsError> {
        let mut props = self.own_filtered();
        props.set("restore.consumer.client.id", client_id);
        props.set("restore.consumer.enable.auto.commit", "false");
        props.set("restore.consumer.group.instance.id", "");
        // A changelog position below the log start (retention, delete-records) must surface as
        // OFFSET_OUT_OF_RANGE: the restore then wipes the store and starts from the earliest
        // offset, instead of silently skipping to the end.
        props.set("restore.consumer.auto.offset.reset", "none");
        self.force_read_committed(&mut props, "restore.consumer.");
        props
            .consumer(ConsumerRole::Restore)
            .map_err(|e| StreamsError::Config(e.to_string()))
    }

    /// The global consumer (no group; reads the global stores' topics).
    pub fn global_consumer(&self, client_id: &str) -> Result<ConsumerConfig, StreamsError> {
        let mut props = self.own_filtered();
        props.set("global.consumer.client.id", client_id);
        props.set("global.consumer.enable.auto.commit", "false");
        props.set("global.consumer.group.instance.id", "");
        self.force_read_committed(&mut props, "global.consumer.");
        props
            .consumer(ConsumerRole::Global)
            .map_err(|e| StreamsError::Config(e.to_string()))
    }

    /// The producer of a stream thread; under exactly-once transactional with
    /// `transactional_id` (`<application.id>-<process id>-<thread index>`), and
    /// `transaction.timeout.ms` 10 000 unless set (Kafka Streams' default: a crashed
    /// instance's open transaction blocks read_committed readers for at most that long).
    pub fn producer(
        &self,
        client_id: &str,
        transactional_id: Option<&str>,
    ) -> Result<ProducerConfig, StreamsError> {
        let mut props = self.own_filtered();
        props.set("producer.client.id", client_id);
        if let (true, Some(id)) = (self.is_exactly_once(), transactional_id) {
            props.set("producer.transactional.id", id);
            props.set("producer.enable.idempotence", "true");
            if props.get("transaction.timeout.ms").is_none()
                && props.get("producer.transaction.timeout.ms").is_none()
            {
                props.set("producer.transaction.timeout.ms", "10000");
            }
        }
        props
            .producer()
            .map_err(|e| StreamsError::Config(e.to_string()))
    }

    /// The admin client.
    pub fn admin(&self) -> Result<ClientConfig, StreamsError> {
        let mut props = self.own_filtered();
        props.set("admin.client.id", &format!("{}-admin", self.application_id));
        props
            .admin()
            .map_err(|e| StreamsError::Config(e.to_string()))
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
