//! What a Kafka Streams-style runtime needs from consumer groups, on Apache Kafka: positions
//! readable and committable in the revoke hook (the new owner starts exactly there),
//! `enforce_rebalance` and follow-up rebalances asked for by the assignor, a leader
//! preparation step that creates a topic nobody subscribes to and sees its partition count and
//! the members' racks, and regex subscriptions that pick up topics created later.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Committer, Consumer, ConsumerConfig, ConsumerEvent, RebalanceListener};
use kafka_wire::group::assignor::{AssignError, MemberSubscription, RangeAssignor};
use kafka_wire::group::{Assignment, Assignor, FollowUp, LeaderContext};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

const PARTITIONS: i32 = 12;

async fn setup(test: &str, partitions: i32) -> Option<(String, String, Admin)> {
    let bootstrap = Broker::Kafka.bootstrap(test)?;
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic(test);
    create_ready_topic(&admin, NewTopic::new(&topic, partitions, 1)).await;
    Some((bootstrap, topic, admin))
}

async fn produce(bootstrap: &str, topic: &str, partitions: i32, from: usize, n: usize) {
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for i in from..from + n {
        let record = ProducerRecord::new(topic)
            .partition((i % partitions as usize) as i32)
            .value(i.to_string());
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

fn consumer_config(bootstrap: &str, group: &str, props: &[(&str, &str)]) -> ConsumerConfig {
    let mut config = ConsumerConfig::new(bootstrap);
    for (k, v) in [
        ("group.id", group),
        ("auto.offset.reset", "earliest"),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "500"),
    ]
    .iter()
    .chain(props)
    {
        config.set(k, v).unwrap();
    }
    config
}

// ---- a. positions in the revoke hook ----

/// Commits the positions of the partitions being revoked, as Kafka Streams does in
/// `onPartitionsRevoked`, and records what it read.
#[derive(Default)]
struct CommitOnRevoke {
    committed: Mutex<ReadPositions>,
}

impl RebalanceListener for CommitOnRevoke {
    fn on_partitions_revoked<'a>(
        &'a self,
        committer: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let read: Vec<_> = partitions
                .iter()
                .map(|tp| (tp.clone(), committer.position(tp)))
                .collect();
            committer
                .commit_positions(partitions)
                .await
                .expect("commit in the revoke hook");
            self.committed.lock().unwrap().extend(read);
        })
    }
}

type Records = Arc<Mutex<Vec<(i32, i64)>>>;
/// The positions a member read for its revoked partitions.
type ReadPositions = Vec<(TopicPartition, Option<i64>)>;
/// What `assign` saw: partition counts, and each member's rack.
type Seen = Vec<(BTreeMap<String, i32>, BTreeMap<String, Option<String>>)>;

/// Consume with manual commits only: `via_events` reads positions after the `Revoked` event
/// (with `Consumer::position`) and commits them; otherwise the listener does in its hook.
fn spawn_member(
    mut consumer: Consumer,
    slow: bool,
    via_events: bool,
    stop: Arc<AtomicBool>,
) -> (Records, tokio::task::JoinHandle<ReadPositions>) {
    let records: Records = Arc::default();
    let seen = records.clone();
    let task = tokio::spawn(async move {
        let mut read_on_revoke = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let event = tokio::time::timeout(Duration::from_millis(500), consumer.next_event());
            let Ok(event) = event.await else { continue };
            match event.expect("consumer error") {
                ConsumerEvent::Record(r) => {
                    seen.lock().unwrap().push((r.partition, r.offset));
                    if slow && r.offset % 20 == 0 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                ConsumerEvent::Revoked(tps) if via_events => {
                    let positions: BTreeMap<TopicPartition, _> = tps
                        .iter()
                        .filter_map(|tp| Some((tp.clone(), consumer.position(tp)?)))
                        .map(|(tp, p)| (tp, kafka_wire::group::OffsetAndMetadata::new(p)))
                        .collect();
                    read_on_revoke.extend(tps.iter().map(|tp| (tp.clone(), consumer.position(tp))));
                    consumer
                        .commit(&positions)
                        .await
                        .expect("commit after Revoked");
                }
                _ => {}
            }
        }
        read_on_revoke
    });
    (records, task)
}

async fn revoked_positions_are_where_the_new_owner_starts(
    test: &str,
    strategy: &str,
    via_events: bool,
) {
    let Some((bootstrap, topic, _admin)) = setup(test, PARTITIONS).await else {
        return;
    };
    let group = unique_topic(&format!("g-{test}"));
    const N: usize = 6000;
    // Ten rounds: every partition has ten batches, and small fetches interleave them, so A
    // is part-way through most partitions when B joins.
    for round in 0..10 {
        produce(&bootstrap, &topic, PARTITIONS, round * N / 10, N / 10).await;
    }
    let props = [
        ("enable.auto.commit", "false"),
        ("partition.assignment.strategy", strategy),
        ("max.poll.records", "50"),
        ("max.partition.fetch.bytes", "1024"),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let mut a = Consumer::connect(consumer_config(&bootstrap, &group, &props))
        .await
        .unwrap();
    a.subscribe([topic.as_str()]).unwrap();
    let hook = Arc::new(CommitOnRevoke::default());
    if !via_events {
        a.set_rebalance_listener(hook.clone()).unwrap();
    }
    let (a_records, a_task) = spawn_member(a, true, via_events, stop.clone());
    // A is part-way through when B joins.
    let start = Instant::now();
    while a_records.lock().unwrap().len() < 1000 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "A consumes nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut b = Consumer::connect(consumer_config(&bootstrap, &group, &props))
        .await
        .unwrap();
    b.subscribe([topic.as_str()]).unwrap();
    let (b_records, b_task) = spawn_member(b, false, false, stop.clone());
    let start = Instant::now();
    loop {
        let distinct: BTreeSet<(i32, i64)> = a_records
            .lock()
            .unwrap()
            .iter()
            .chain(b_records.lock().unwrap().iter())
            .copied()
            .collect();
        if distinct.len() >= N && !b_records.lock().unwrap().is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {} of {N} records consumed",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let a late duplicate show up if there is one.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    let mut read = a_task.await.unwrap();
    b_task.await.unwrap();
    read.extend(hook.committed.lock().unwrap().drain(..));
    let a_records = a_records.lock().unwrap().clone();
    let b_records = b_records.lock().unwrap().clone();
    let mut counts: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for r in a_records.iter().chain(&b_records) {
        *counts.entry(*r).or_default() += 1;
    }
    let consumed = a_records.len() + b_records.len();
    let duplicates = consumed - counts.len();
    let gaps = N - counts.len();
    let missing_position = read.iter().filter(|(_, p)| p.is_none()).count();
    let part_way = read
        .iter()
        .filter(|(_, p)| p.is_some_and(|p| p > 0))
        .count();
    println!(
        "{test} ({strategy}, {}): A read {} positions on revoke ({missing_position} missing, \
         {part_way} past the start); \
         consumed {consumed} (A {}, B {}) of {N}: duplicates {duplicates}, gaps {gaps}",
        if via_events {
            "after the Revoked event"
        } else {
            "in the revoke hook"
        },
        read.len(),
        a_records.len(),
        b_records.len()
    );
    assert!(!read.is_empty(), "A revoked partitions when B joined");
    assert!(part_way > 0, "A had consumed part of a revoked partition");
    assert_eq!(
        missing_position, 0,
        "every revoked partition has a position"
    );
    assert_eq!(duplicates, 0, "B starts exactly at A's committed positions");
    assert_eq!(gaps, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eager_revoke_hook_commits_positions_and_the_new_owner_starts_there() {
    revoked_positions_are_where_the_new_owner_starts("gs_revoke_eager", "range", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooperative_revoke_hook_commits_positions_and_the_new_owner_starts_there() {
    revoked_positions_are_where_the_new_owner_starts("gs_revoke_coop", "cooperative-sticky", false)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_after_a_revoked_event_commit_and_the_new_owner_starts_there() {
    revoked_positions_are_where_the_new_owner_starts("gs_revoke_events", "range", true).await;
}

// ---- b. enforce_rebalance and follow-up rebalances ----

/// Range, but the first assignment asks every member for a follow-up rebalance after
/// `after`, carried in the assignment's user data (as Kafka Streams' `AssignmentInfo`).
#[derive(Debug)]
struct ProbingAssignor {
    after: Duration,
    assigns: AtomicU32,
    generations: Arc<Mutex<Vec<(i32, Instant)>>>,
}

impl Assignor for ProbingAssignor {
    fn name(&self) -> &str {
        "probing-range"
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        let first = self.assigns.fetch_add(1, Ordering::SeqCst) == 0;
        let mut out = RangeAssignor.assign(partitions_per_topic, members)?;
        if first {
            let ms = self.after.as_millis() as u64;
            for a in out.values_mut() {
                a.user_data = Some(Bytes::copy_from_slice(&ms.to_be_bytes()));
            }
        }
        Ok(out)
    }

    fn on_assignment(&self, assignment: &Assignment, generation: i32) -> FollowUp {
        self.generations
            .lock()
            .unwrap()
            .push((generation, Instant::now()));
        match assignment.user_data.as_deref().map(<[u8; 8]>::try_from) {
            Some(Ok(ms)) => {
                FollowUp::rebalance_after(Duration::from_millis(u64::from_be_bytes(ms)))
            }
            _ => FollowUp::NONE,
        }
    }
}

/// Poll until `n` generations were assigned, or `within` passed.
async fn poll_until(
    consumer: &mut Consumer,
    generations: &Mutex<Vec<(i32, Instant)>>,
    n: usize,
    within: Duration,
) {
    let start = Instant::now();
    while generations.lock().unwrap().len() < n && start.elapsed() < within {
        consumer.poll(Duration::from_millis(100)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignor_follow_up_and_enforce_rebalance_start_new_generations() {
    let Some((bootstrap, topic, _admin)) = setup("gs_probe", 2).await else {
        return;
    };
    let group = unique_topic("g-gs-probe");
    let generations = Arc::new(Mutex::new(Vec::new()));
    let assignor = Arc::new(ProbingAssignor {
        after: Duration::from_secs(2),
        assigns: AtomicU32::new(0),
        generations: generations.clone(),
    });
    let mut consumer = Consumer::connect(consumer_config(&bootstrap, &group, &[]))
        .await
        .unwrap();
    consumer
        .subscribe_with([topic.as_str()], vec![assignor])
        .unwrap();
    poll_until(&mut consumer, &generations, 2, Duration::from_secs(20)).await;
    // No third generation on its own: the second assignment asked for nothing.
    poll_until(&mut consumer, &generations, 3, Duration::from_secs(4)).await;
    let seen = generations.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one follow-up, then quiet: {seen:?}");
    let gap = seen[1].1 - seen[0].1;
    println!(
        "follow-up rebalance: generation {} → {} after {gap:?} (asked for 2 s), no member change",
        seen[0].0, seen[1].0
    );
    assert_eq!(seen[1].0, seen[0].0 + 1);
    assert!(
        gap >= Duration::from_millis(1900) && gap < Duration::from_secs(5),
        "{gap:?}"
    );

    let enforced = Instant::now();
    consumer.enforce_rebalance("test: enforced").unwrap();
    poll_until(&mut consumer, &generations, 3, Duration::from_secs(10)).await;
    let seen = generations.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        3,
        "enforce_rebalance starts a generation: {seen:?}"
    );
    println!(
        "enforce_rebalance: generation {} after {:?}",
        seen[2].0,
        seen[2].1 - enforced
    );
    assert_eq!(seen[2].0, seen[1].0 + 1);
    consumer.close().await.unwrap();
}

// ---- c. leader preparation step, extra topics, racks ----

/// Range over the subscribed topics; the leader first creates `internal` (3 partitions, which
/// nobody subscribes to) and then must see its count and every member's rack.
#[derive(Debug)]
struct PreparingAssignor {
    internal: String,
    prepared: Arc<AtomicU32>,
    seen: Arc<Mutex<Seen>>,
}

impl Assignor for PreparingAssignor {
    fn name(&self) -> &str {
        "preparing-range"
    }

    fn needs_prepare(&self) -> bool {
        true
    }

    fn prepare<'a>(&'a self, context: &'a LeaderContext) -> BoxFuture<'a, kafka_wire::Result<()>> {
        Box::pin(async move {
            context
                .admin()
                .ensure_topics(&[NewTopic::new(&self.internal, 3, 1)])
                .await?;
            self.prepared.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }

    fn extra_topics(&self, _members: &[MemberSubscription]) -> Vec<String> {
        vec![self.internal.clone()]
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        let racks = members
            .iter()
            .map(|m| (m.member_id.clone(), m.rack_id().map(str::to_owned)))
            .collect();
        self.seen
            .lock()
            .unwrap()
            .push((partitions_per_topic.clone(), racks));
        RangeAssignor.assign(partitions_per_topic, members)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_prepares_an_internal_topic_and_assign_sees_its_count_and_the_racks() {
    let Some((bootstrap, topic, admin)) = setup("gs_prepare", 4).await else {
        return;
    };
    let group = unique_topic("g-gs-prepare");
    let internal = format!("{group}-changelog");
    let prepared = Arc::new(AtomicU32::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for rack in ["rack-a", "rack-b"] {
        let mut consumer = Consumer::connect(consumer_config(
            &bootstrap,
            &group,
            &[("client.rack", rack)],
        ))
        .await
        .unwrap();
        let assignor = Arc::new(PreparingAssignor {
            internal: internal.clone(),
            prepared: prepared.clone(),
            seen: seen.clone(),
        });
        consumer
            .subscribe_with([topic.as_str()], vec![assignor])
            .unwrap();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                consumer.poll(Duration::from_millis(100)).await.unwrap();
            }
            consumer.close().await.unwrap();
        }));
    }
    let start = Instant::now();
    let (counts, racks) = loop {
        let two = seen
            .lock()
            .unwrap()
            .iter()
            .find(|(_, racks)| racks.len() == 2)
            .cloned();
        if let Some(found) = two {
            break found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no assignment of both members: {:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "leader prepared {} time(s); assign saw counts {counts:?} and racks {:?}",
        prepared.load(Ordering::SeqCst),
        racks.values().collect::<Vec<_>>()
    );
    assert!(prepared.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        counts.get(&internal),
        Some(&3),
        "the prepared topic's count"
    );
    assert_eq!(counts.get(&topic), Some(&4));
    let racks: BTreeSet<Option<String>> = racks.into_values().collect();
    assert_eq!(
        racks,
        BTreeSet::from([Some("rack-a".into()), Some("rack-b".into())])
    );
    let described = admin.describe_topics(&[internal.as_str()]).await.unwrap();
    assert_eq!(described[0].partitions.len(), 3);
}

// ---- d. regex subscription ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_subscription_picks_up_a_topic_created_later() {
    let Some((bootstrap, _topic, admin)) = setup("gs_pattern", 1).await else {
        return;
    };
    let prefix = unique_topic("gsp");
    let first = format!("{prefix}-a");
    let later = format!("{prefix}-b");
    let not_anchored = format!("x{prefix}-c");
    for t in [&first, &not_anchored] {
        create_ready_topic(&admin, NewTopic::new(t.as_str(), 2, 1)).await;
        produce(&bootstrap, t, 2, 0, 10).await;
    }
    let group = unique_topic("g-gs-pattern");
    let mut consumer = Consumer::connect(consumer_config(
        &bootstrap,
        &group,
        &[("metadata.max.age.ms", "1000")],
    ))
    .await
    .unwrap();
    consumer.subscribe_pattern(&format!("{prefix}-.*")).unwrap();
    let mut per_topic: BTreeMap<String, usize> = BTreeMap::new();
    let mut created_at = None;
    let mut arrived_after = None;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(40) {
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            *per_topic.entry(r.topic.to_string()).or_default() += 1;
        }
        if created_at.is_none() && per_topic.get(&first) == Some(&10) {
            create_ready_topic(&admin, NewTopic::new(later.as_str(), 3, 1)).await;
            produce(&bootstrap, &later, 3, 0, 30).await;
            created_at = Some(Instant::now());
        }
        if let (Some(at), Some(30)) = (created_at, per_topic.get(&later)) {
            arrived_after = Some(at.elapsed());
            break;
        }
    }
    println!(
        "pattern {prefix}-.*: records per topic {per_topic:?}; the later topic's records \
         arrived {arrived_after:?} after it was created (metadata.max.age.ms=1000)"
    );
    assert_eq!(per_topic.get(&first), Some(&10));
    assert_eq!(
        per_topic.get(&later),
        Some(&30),
        "the later topic is picked up"
    );
    assert_eq!(
        per_topic.get(&not_anchored),
        None,
        "the whole name must match"
    );
    let mut assigned: Vec<TopicPartition> = consumer.assignment();
    assigned.sort();
    assert_eq!(assigned.len(), 5, "{assigned:?}");
    consumer.close().await.unwrap();
}
