//! Consumer groups on Apache Kafka, members in this process: every partition owned exactly
//! once, a graceful leave rebalances at once, cooperative-sticky never revokes a partition
//! that stays, a static member restarted within the session timeout causes no rebalance,
//! committed offsets are where a new member starts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use integration_tests::group_member::{Member, Seen};
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
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
    let took = wait_split(&[&a, &b], Duration::from_secs(60)).await;
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
