//! Consumer groups on Apache Kafka, members in this process: every partition owned exactly
//! once, a graceful leave rebalances at once, cooperative-sticky never revokes a partition
//! that stays, a static member restarted within the session timeout causes no rebalance,
//! committed offsets are where a new member starts, and under cooperative-sticky `poll` keeps
//! returning the records of owned partitions while the member's JoinGroup is parked.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use integration_tests::group_member::{Member, Seen};
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Committer, Consumer, ConsumerConfig, RebalanceListener};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

const PARTITIONS: i32 = 12;

async fn setup(test: &str) -> Option<(String, String)> {
    setup_on(Broker::Kafka, test).await
}

async fn setup_on(broker: Broker, test: &str) -> Option<(String, String)> {
    let bootstrap = broker.bootstrap(test)?;
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic(test);
    create_ready_topic(&admin, NewTopic::new(&topic, PARTITIONS, 1)).await;
    Some((bootstrap, topic))
}

async fn produce(bootstrap: &str, topic: &str, from: usize, n: usize) {
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for i in from..from + n {
        let record = ProducerRecord::new(topic)
            .partition((i % PARTITIONS as usize) as i32)
            .value(i.to_string());
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

/// Wait until the members' ownership is a balanced partition of all `PARTITIONS` partitions.
async fn wait_split(members: &[&Member], within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let owned: Vec<BTreeSet<TopicPartition>> = members.iter().map(|m| m.owned()).collect();
        let total: usize = owned.iter().map(BTreeSet::len).sum();
        let union: BTreeSet<&TopicPartition> = owned.iter().flatten().collect();
        let min = PARTITIONS as usize / members.len();
        let balanced = owned.iter().all(|o| o.len() >= min && o.len() <= min + 1);
        if total == PARTITIONS as usize && union.len() == PARTITIONS as usize && balanced {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "no clean split within {within:?}: {:?}",
            owned.iter().map(BTreeSet::len).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn count(seen: &[&Seen], n: usize) -> (usize, usize, usize) {
    let mut by_offset: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for s in seen {
        for r in &s.records {
            *by_offset.entry(*r).or_default() += 1;
        }
    }
    let consumed: usize = by_offset.values().sum();
    let duplicates = consumed - by_offset.len();
    let lost = n.saturating_sub(by_offset.len());
    (consumed, duplicates, lost)
}

async fn wait_records(members: &[&Member], n: usize, within: Duration) {
    let start = Instant::now();
    loop {
        let distinct: BTreeSet<(i32, i64)> = members
            .iter()
            .flat_map(|m| m.seen.lock().unwrap().records.clone())
            .collect();
        if distinct.len() >= n {
            return;
        }
        assert!(
            start.elapsed() < within,
            "only {} of {n} records consumed within {within:?}",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_split_partitions_and_a_graceful_leave_rebalances_at_once() {
    let Some((bootstrap, topic)) = setup("groups_split").await else {
        return;
    };
    let group = unique_topic("g-split");
    const N: usize = 6000;
    produce(&bootstrap, &topic, 0, N / 2).await;
    let a = Member::start(&bootstrap, &group, &topic, &[]).await;
    let b = Member::start(&bootstrap, &group, &topic, &[]).await;
    let c = Member::start(&bootstrap, &group, &topic, &[]).await;
    let took = wait_split(&[&a, &b, &c], Duration::from_secs(30)).await;
    let sizes: Vec<usize> = [&a, &b, &c].iter().map(|m| m.owned().len()).collect();
    println!("three members split {PARTITIONS} partitions as {sizes:?} ({took:?} after start)");
    assert_eq!(sizes, vec![4, 4, 4], "range gives 12/3 each");
    wait_records(&[&a, &b, &c], N / 2, Duration::from_secs(30)).await;

    // Graceful leave: c commits and leaves; a and b take over its partitions at once.
    let left = Instant::now();
    let seen_c = c.stop(true).await;
    let took = wait_split(&[&a, &b], Duration::from_secs(20)).await;
    println!(
        "graceful leave: partitions re-split {:?} after LeaveGroup",
        left.elapsed().max(took)
    );
    produce(&bootstrap, &topic, N / 2, N / 2).await;
    wait_records(&[&a, &b], N / 2, Duration::from_secs(30)).await;
    // Let auto commit run, then stop.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let seen_a = a.stop(true).await;
    let seen_b = b.stop(true).await;
    let (consumed, duplicates, lost) = count(&[&seen_a, &seen_b, &seen_c], N);
    println!("leave test: sent {N}, consumed {consumed}, duplicates {duplicates}, lost {lost}");
    assert_eq!(lost, 0);
    assert_eq!(duplicates, 0, "a graceful leave commits before revoking");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooperative_sticky_only_revokes_partitions_that_move() {
    let Some((bootstrap, topic)) = setup("groups_coop").await else {
        return;
    };
    let group = unique_topic("g-coop");
    let props = [("partition.assignment.strategy", "cooperative-sticky")];
    let a = Member::start(&bootstrap, &group, &topic, &props).await;
    let b = Member::start(&bootstrap, &group, &topic, &props).await;
    wait_split(&[&a, &b], Duration::from_secs(30)).await;
    let before_a = a.owned();
    let before_b = b.owned();
    let revocations_a = a.seen.lock().unwrap().revoked.len();
    let revocations_b = b.seen.lock().unwrap().revoked.len();
    let c = Member::start(&bootstrap, &group, &topic, &props).await;
    let took = wait_split(&[&a, &b, &c], Duration::from_secs(30)).await;
    let sizes: Vec<usize> = [&a, &b, &c].iter().map(|m| m.owned().len()).collect();
    println!("cooperative-sticky: third member joined; split {sizes:?} after {took:?}");
    assert_eq!(sizes, vec![4, 4, 4]);
    // Stickiness: a and b only lost partitions, never gained, and revoked only what moved.
    for (name, m, before, skip) in [
        ("a", &a, &before_a, revocations_a),
        ("b", &b, &before_b, revocations_b),
    ] {
        let after = m.owned();
        assert!(
            after.is_subset(before),
            "{name} gained partitions: {after:?} vs {before:?}"
        );
        let seen = m.seen.lock().unwrap();
        let revoked: BTreeSet<TopicPartition> =
            seen.revoked.iter().skip(skip).flatten().cloned().collect();
        assert!(
            revoked.is_disjoint(&after),
            "{name} had partitions it kept revoked: {revoked:?} ∩ {after:?}"
        );
        assert_eq!(revoked.len(), before.len() - after.len());
        println!("member {name}: kept {}, revoked {:?}", after.len(), revoked);
    }
    for m in [a, b, c] {
        m.stop(true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_member_restarted_within_session_timeout_causes_no_rebalance() {
    let Some((bootstrap, topic)) = setup("groups_static").await else {
        return;
    };
    let group = unique_topic("g-static");
    let a = Member::start(&bootstrap, &group, &topic, &[("group.instance.id", "a")]).await;
    let b = Member::start(&bootstrap, &group, &topic, &[("group.instance.id", "b")]).await;
    wait_split(&[&a, &b], Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let owned_b = b.owned();
    let (a_assignments, a_revocations) = {
        let s = a.seen.lock().unwrap();
        (s.assigned.len(), s.revoked.len())
    };
    // b closes (a static member sends no LeaveGroup) and comes back within session.timeout.ms.
    let _ = b.stop(true).await;
    let b2 = Member::start(&bootstrap, &group, &topic, &[("group.instance.id", "b")]).await;
    let start = Instant::now();
    while b2.owned().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "b2 got nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        b2.owned(),
        owned_b,
        "the restarted static member gets its partitions back"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (assigned, revoked, lost) = {
        let s = a.seen.lock().unwrap();
        (s.assigned.len(), s.revoked.len(), s.lost.len())
    };
    println!(
        "static restart: a saw {a_assignments}/{a_revocations} assignments/revocations before b restarted, {assigned}/{revoked} after"
    );
    assert_eq!(assigned, a_assignments, "a saw no rebalance");
    assert_eq!(revoked, a_revocations, "a saw no rebalance");
    assert_eq!(lost, 0);
    a.stop(true).await;
    b2.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_admin_lists_describes_lags_alters_and_deletes() {
    let Some((bootstrap, topic)) = setup("groups_admin").await else {
        return;
    };
    let group = unique_topic("g-admin");
    const N: usize = 1200;
    produce(&bootstrap, &topic, 0, N).await;
    let a = Member::start(&bootstrap, &group, &topic, &[]).await;
    let b = Member::start(&bootstrap, &group, &topic, &[]).await;
    wait_split(&[&a, &b], Duration::from_secs(30)).await;
    wait_records(&[&a, &b], N, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // auto commit runs every 500 ms

    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let listed = admin.list_groups().await.unwrap();
    let ours = listed.iter().find(|g| g.group_id == group).expect("listed");
    assert_eq!(ours.protocol_type, "consumer");
    let described = admin.describe_groups(&[&group]).await.unwrap();
    let d = &described[0];
    println!(
        "describe: state {} assignor {} members {:?}",
        d.state,
        d.assignor,
        d.members
            .iter()
            .map(|m| m.assignment.len())
            .collect::<Vec<_>>()
    );
    assert_eq!(d.state, "Stable");
    assert_eq!(d.assignor, "range");
    assert_eq!(d.members.len(), 2);
    let assigned: usize = d.members.iter().map(|m| m.assignment.len()).sum();
    assert_eq!(assigned, PARTITIONS as usize);
    let lag = admin.consumer_lag(&group).await.unwrap();
    assert_eq!(lag.len(), PARTITIONS as usize);
    assert!(
        lag.values().all(|l| l.lag == 0),
        "everything consumed and committed: {lag:?}"
    );

    a.stop(true).await;
    b.stop(true).await;
    // An empty group's offsets can be reset and deleted, and the group deleted.
    let tp0 = TopicPartition::new(&topic, 0);
    let mut reset = BTreeMap::new();
    reset.insert(tp0.clone(), kafka_wire::group::OffsetAndMetadata::new(10));
    admin.alter_group_offsets(&group, &reset).await.unwrap();
    let offsets = admin.list_group_offsets(&group, None).await.unwrap();
    assert_eq!(offsets[&tp0].offset, 10);
    let lag = admin.consumer_lag(&group).await.unwrap();
    assert_eq!(lag[&tp0].lag, (N / PARTITIONS as usize) as i64 - 10);
    admin
        .delete_group_offsets(&group, std::slice::from_ref(&tp0))
        .await
        .unwrap();
    assert!(!admin
        .list_group_offsets(&group, None)
        .await
        .unwrap()
        .contains_key(&tp0));
    admin.delete_groups(&[&group]).await.unwrap();
    assert!(!admin
        .list_groups()
        .await
        .unwrap()
        .iter()
        .any(|g| g.group_id == group));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_stops_polling_leaves_after_max_poll_interval() {
    let Some((bootstrap, topic)) = setup("groups_poll_timeout").await else {
        return;
    };
    let group = unique_topic("g-poll");
    let mut config = kafka_wire::consumer::ConsumerConfig::new(&bootstrap);
    config.set("group.id", &group).unwrap();
    config.set("max.poll.interval.ms", "2000").unwrap();
    config.set("session.timeout.ms", "6000").unwrap();
    config.set("heartbeat.interval.ms", "300").unwrap();
    let mut slow = kafka_wire::consumer::Consumer::connect(config)
        .await
        .unwrap();
    slow.subscribe([topic.clone()]).unwrap();
    let b = Member::start(&bootstrap, &group, &topic, &[]).await;
    // Poll until `slow` owns something, then stop polling (heartbeats go on in the background).
    let start = Instant::now();
    loop {
        let _ = tokio::time::timeout(Duration::from_millis(200), slow.next_event()).await;
        if !slow.assignment().is_empty() && !b.owned().is_empty() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no split");
    }
    let stopped = Instant::now();
    while b.owned().len() < PARTITIONS as usize {
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "the member that stopped polling kept its partitions"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "max.poll.interval.ms=2000: the other member owned everything {:?} after polling stopped",
        stopped.elapsed()
    );
    // Polling again, the slow member learns its partitions were lost, then rejoins.
    let mut lost = false;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Ok(kafka_wire::consumer::ConsumerEvent::Lost(_))) =
            tokio::time::timeout(Duration::from_millis(500), slow.next_event()).await
        {
            lost = true;
            break;
        }
    }
    assert!(lost, "a Lost event after the poll timeout");
    b.stop(true).await;
    slow.close().await.unwrap();
}

/// The join / leave / commit subset on tansu (noida never expires a dead member: see
/// docs/brokers.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tansu_join_split_commit_and_leave() {
    let Some((bootstrap, topic)) = setup_on(Broker::Tansu, "groups_tansu").await else {
        return;
    };
    let group = unique_topic("g-tansu");
    const N: usize = 1200;
    produce(&bootstrap, &topic, 0, N).await;
    let a = Member::start(&bootstrap, &group, &topic, &[]).await;
    let b = Member::start(&bootstrap, &group, &topic, &[]).await;
    // tansu's split time depends on load: 3 s alone, 24–36 s while the other group tests run
    // on Kafka beside it, and once over 60 s in a full `.ci/run` (2026-12-05). Why tansu takes
    // that long is not known yet (docs/brokers.md); the test checks the outcome, not the time.
    let took = wait_split(&[&a, &b], Duration::from_secs(180)).await;
    wait_records(&[&a, &b], N, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen_b = b.stop(true).await;
    wait_split(&[&a], Duration::from_secs(60)).await;
    let seen_a = a.stop(true).await;
    let (consumed, duplicates, lost) = count(&[&seen_a, &seen_b], N);
    println!("tansu: split after {took:?}; sent {N}, consumed {consumed}, duplicates {duplicates}, lost {lost}");
    assert_eq!(lost, 0);
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    // Named partitions: tansu answers OffsetFetch for "all partitions" with a null topics
    // array, which the schema forbids (docs/brokers.md); we report it as a decode error.
    let tps: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::new(&topic, p))
        .collect();
    let committed = admin.list_group_offsets(&group, Some(&tps)).await.unwrap();
    let total: i64 = committed.values().map(|o| o.offset).sum();
    assert_eq!(total, N as i64, "committed offsets on tansu: {committed:?}");
}

/// What a [`Poller`] saw: its partitions (kept by its rebalance listener) and every record
/// with the time its `poll` returned it.
#[derive(Debug, Default)]
struct PollSeen {
    owned: BTreeSet<TopicPartition>,
    /// (returned at, partition, offset, value)
    records: Vec<(Instant, i32, i64, u64)>,
    /// When each rebalance completed (the assigned hook ran).
    assigned_at: Vec<Instant>,
}

struct Tracker(Arc<Mutex<PollSeen>>);

impl RebalanceListener for Tracker {
    fn on_partitions_revoked<'a>(
        &'a self,
        _: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let mut s = self.0.lock().unwrap();
        for tp in partitions {
            s.owned.remove(tp);
        }
        Box::pin(async {})
    }

    fn on_partitions_assigned<'a>(
        &'a self,
        _: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let mut s = self.0.lock().unwrap();
        s.owned.extend(partitions.iter().cloned());
        s.assigned_at.push(Instant::now());
        Box::pin(async {})
    }

    fn on_partitions_lost<'a>(
        &'a self,
        _: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let mut s = self.0.lock().unwrap();
        for tp in partitions {
            s.owned.remove(tp);
        }
        Box::pin(async {})
    }
}

/// A cooperative-sticky member calling `Consumer::poll` in a loop, which can be paused (it
/// stops polling; its heartbeats go on in the background).
struct Poller {
    seen: Arc<Mutex<PollSeen>>,
    paused: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Poller {
    async fn start(bootstrap: &str, group: &str, topic: &str) -> Poller {
        let mut config = ConsumerConfig::new(bootstrap);
        for (k, v) in [
            ("group.id", group),
            ("auto.offset.reset", "earliest"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("session.timeout.ms", "10000"),
            ("heartbeat.interval.ms", "500"),
            ("auto.commit.interval.ms", "500"),
            // The coordinator waits this long for a member that does not rejoin.
            ("max.poll.interval.ms", "30000"),
        ] {
            config.set(k, v).unwrap();
        }
        let mut consumer = Consumer::connect(config).await.unwrap();
        consumer.subscribe([topic]).unwrap();
        let seen = Arc::new(Mutex::new(PollSeen::default()));
        consumer
            .set_rebalance_listener(Arc::new(Tracker(seen.clone())))
            .unwrap();
        let paused = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, p, st) = (seen.clone(), paused.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while !st.load(Ordering::SeqCst) {
                if p.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let records = consumer.poll(Duration::from_millis(100)).await.unwrap();
                let now = Instant::now();
                let mut s = s.lock().unwrap();
                for r in records {
                    let value = std::str::from_utf8(r.value.as_deref().unwrap_or_default())
                        .unwrap()
                        .parse()
                        .unwrap();
                    s.records.push((now, r.partition, r.offset, value));
                }
            }
            // Revokes (committing what was consumed) and leaves.
            consumer.close().await.unwrap();
        });
        Poller {
            seen,
            paused,
            stop,
            task,
        }
    }

    fn owned(&self) -> BTreeSet<TopicPartition> {
        self.seen.lock().unwrap().owned.clone()
    }

    async fn stop(self) -> PollSeen {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap();
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Under cooperative-sticky, `poll` does not wait for the JoinGroup: while the coordinator
/// parks A's JoinGroup (member C stopped polling, so it does not rejoin for 5 s; its
/// heartbeats keep it in the group), A keeps returning the records of the partitions it owns.
/// After the rebalance no partition is owned twice and no record is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooperative_poll_keeps_consuming_owned_partitions_while_the_join_is_parked() {
    let Some((bootstrap, topic)) = setup("groups_coop_poll").await else {
        return;
    };
    let group = unique_topic("g-coop-poll");

    // Records flow all along: value i to partition i % PARTITIONS, about 500 a second.
    let producing = Arc::new(AtomicBool::new(true));
    let producer_task = {
        let (bootstrap, topic, producing) = (bootstrap.clone(), topic.clone(), producing.clone());
        tokio::spawn(async move {
            let producer = Producer::connect(ProducerConfig::new(&bootstrap))
                .await
                .unwrap();
            let mut deliveries = Vec::new();
            let mut sent = 0u64;
            while producing.load(Ordering::SeqCst) {
                for _ in 0..10 {
                    let record = ProducerRecord::new(&topic)
                        .partition((sent % PARTITIONS as u64) as i32)
                        .value(sent.to_string());
                    deliveries.push(producer.send(record).await.unwrap());
                    sent += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            for d in deliveries {
                d.await.unwrap();
            }
            producer.close().await.unwrap();
            sent
        })
    };

    // No partition is ever owned by two members (sampled all along).
    let members: Arc<Mutex<Vec<Arc<Mutex<PollSeen>>>>> = Arc::default();
    let overlaps: Arc<Mutex<Vec<String>>> = Arc::default();
    let checking = Arc::new(AtomicBool::new(true));
    let checker = {
        let (members, overlaps, checking) = (members.clone(), overlaps.clone(), checking.clone());
        tokio::spawn(async move {
            while checking.load(Ordering::SeqCst) {
                let owned: Vec<BTreeSet<TopicPartition>> = members
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|s| s.lock().unwrap().owned.clone())
                    .collect();
                let mut all = BTreeSet::new();
                for o in &owned {
                    for tp in o {
                        if !all.insert(tp.clone()) {
                            overlaps
                                .lock()
                                .unwrap()
                                .push(format!("{tp:?} in {owned:?}"));
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    let a = Poller::start(&bootstrap, &group, &topic).await;
    members.lock().unwrap().push(a.seen.clone());
    let c = Poller::start(&bootstrap, &group, &topic).await;
    members.lock().unwrap().push(c.seen.clone());
    let start = Instant::now();
    while a.owned().len() + c.owned().len() != PARTITIONS as usize
        || a.owned().len() != c.owned().len()
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "a and c did not split"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a_before = a.owned();
    println!("a and c own {} partitions each", a_before.len());
    tokio::time::sleep(Duration::from_secs(1)).await;

    // C stops polling; B joins: the coordinator parks A's (and B's) JoinGroup until C
    // rejoins, which it does at its next poll, 5 s later.
    c.paused.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b_joined = Instant::now();
    let b = Poller::start(&bootstrap, &group, &topic).await;
    members.lock().unwrap().push(b.seen.clone());
    tokio::time::sleep_until((b_joined + Duration::from_secs(5)).into()).await;
    c.paused.store(false, Ordering::SeqCst);
    let start = Instant::now();
    loop {
        let sizes = [a.owned().len(), b.owned().len(), c.owned().len()];
        if sizes == [4, 4, 4] {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no 4/4/4 split after c resumed: {sizes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("split 4/4/4 {:?} after c resumed polling", start.elapsed());

    // A's first rebalance after B joined completed when its assigned hook ran.
    let (pending_records, largest_gap, parked_for) = {
        let s = a.seen.lock().unwrap();
        let completed = *s
            .assigned_at
            .iter()
            .find(|t| **t > b_joined)
            .expect("a completed a rebalance after b joined");
        let during: Vec<Instant> = s
            .records
            .iter()
            .map(|r| r.0)
            .filter(|t| *t > b_joined && *t < completed)
            .collect();
        let mut gap = Duration::ZERO;
        let mut last = b_joined;
        for t in during.iter().copied().chain([completed]) {
            gap = gap.max(t - last);
            last = t;
        }
        (during.len(), gap, completed - b_joined)
    };
    println!(
        "a: {pending_records} records while its join was pending ({parked_for:?} from b joining \
         to a's rebalance completing); largest gap between a's records {largest_gap:?}"
    );
    assert!(
        parked_for >= Duration::from_secs(4),
        "a's join was not parked until c rejoined ({parked_for:?})"
    );
    assert!(pending_records > 100, "a got {pending_records} records");
    assert!(
        largest_gap < Duration::from_secs(2),
        "a stopped returning records for {largest_gap:?} during the join"
    );
    let a_after = a.owned();
    assert!(a_after.is_subset(&a_before), "a kept its partitions");

    // Everything produced is consumed, once each member stopped cleanly.
    tokio::time::sleep(Duration::from_secs(1)).await;
    producing.store(false, Ordering::SeqCst);
    let sent = producer_task.await.unwrap();
    let start = Instant::now();
    loop {
        let distinct: BTreeSet<u64> = [&a, &b, &c]
            .iter()
            .flat_map(|m| {
                let s = m.seen.lock().unwrap();
                s.records.iter().map(|r| r.3).collect::<Vec<_>>()
            })
            .collect();
        if distinct.len() as u64 >= sent {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "only {} of {sent} records consumed",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    checking.store(false, Ordering::SeqCst);
    checker.await.unwrap();
    // Stop one at a time, each once the group settled (a close during a rebalance cannot
    // commit: the coordinator refuses commits until the rebalance completed).
    let seen_a = a.stop().await;
    let start = Instant::now();
    while b.owned().len() + c.owned().len() != PARTITIONS as usize {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "a's partitions did not move"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen_b = b.stop().await;
    let start = Instant::now();
    while c.owned().len() != PARTITIONS as usize {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "b's partitions did not move"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = vec![seen_a, seen_b, c.stop().await];
    let mut values: BTreeMap<u64, usize> = BTreeMap::new();
    for s in &seen {
        for r in &s.records {
            *values.entry(r.3).or_default() += 1;
        }
    }
    let lost = (0..sent).filter(|v| !values.contains_key(v)).count();
    let duplicates: usize = values.values().map(|n| n - 1).sum();
    let per_member: Vec<usize> = seen.iter().map(|s| s.records.len()).collect();
    println!(
        "sent {sent}, consumed {per_member:?} (a, b, c), lost {lost}, duplicates {duplicates}"
    );
    let overlaps = overlaps.lock().unwrap();
    assert!(overlaps.is_empty(), "partitions owned twice: {overlaps:?}");
    assert_eq!(lost, 0);
    assert_eq!(
        duplicates, 0,
        "revoked partitions are committed before they move"
    );
}
