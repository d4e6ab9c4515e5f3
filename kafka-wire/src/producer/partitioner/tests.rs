use super::*;

/// Produced by the Java client 4.4.0: `Utils.murmur2` and `toPositive(h) % 12`
/// (the first six are also the vectors of Kafka's own `UtilsTest.testMurmur2`).
const JAVA: &[(&str, i32, i32)] = &[
    ("21", -973932308, 0),
    ("foobar", -790332482, 6),
    ("a-little-bit-long-string", -985981536, 8),
    ("a-little-bit-longer-string", -1486304829, 11),
    (
        "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
        -58897971,
        5,
    ),
    ("abc", 479470107, 3),
    ("", 275646681, 9),
    ("k", -1567496736, 8),
    ("key-12345", -952703915, 9),
];

#[test]
fn murmur2_matches_the_java_client() {
    for (key, hash, partition) in JAVA {
        assert_eq!(murmur2(key.as_bytes()), *hash, "{key}");
        assert_eq!(partition_for_key(key.as_bytes(), 12), *partition, "{key}");
    }
}

#[test]
fn sticky_switches_after_batch_size_bytes() {
    let p = StickyPartitioner::new(1000);
    let t = TopicInfo {
        topic: "t",
        partitions: 6,
        available: &[],
    };
    let first = p.choose(&t, 100);
    for _ in 0..9 {
        assert_eq!(p.choose(&t, 100), first);
    }
    let next = p.choose(&t, 100);
    assert_ne!(
        next, first,
        "switches once batch.size bytes went to a partition"
    );
}

#[test]
fn sticky_only_uses_available_partitions() {
    let p = StickyPartitioner::new(10);
    let t = TopicInfo {
        topic: "t",
        partitions: 6,
        available: &[4],
    };
    for _ in 0..50 {
        assert_eq!(p.choose(&t, 7), 4);
    }
}

fn metadata(topic: &str, leaders: &[Option<i32>]) -> ClusterMetadata {
    let mut m = ClusterMetadata::default();
    m.topics.insert(
        topic.to_owned(),
        crate::cluster::TopicMetadata {
            name: topic.to_owned(),
            topic_id: crate::protocol::Uuid::ZERO,
            is_internal: false,
            partitions: leaders
                .iter()
                .enumerate()
                .map(|(i, leader)| PartitionMetadata {
                    partition: i as i32,
                    leader: *leader,
                    leader_epoch: 0,
                    replicas: leader.iter().copied().collect(),
                    isr: leader.iter().copied().collect(),
                    offline_replicas: Vec::new(),
                    error: crate::protocol::ErrorCode::NONE,
                })
                .collect(),
            error: crate::protocol::ErrorCode::NONE,
        },
    );
    m
}

/// Switch on every record (`batch.size` 1) and count where `draws` switches land.
fn draw(p: &StickyPartitioner, t: &TopicInfo<'_>, draws: usize) -> Vec<usize> {
    let mut counts = vec![0; t.partitions];
    p.choose(t, 1);
    for _ in 0..draws {
        counts[p.choose(t, 1) as usize] += 1;
    }
    counts
}

const FOUR: TopicInfo<'static> = TopicInfo {
    topic: "t",
    partitions: 4,
    available: &[0, 1, 2, 3],
};

#[test]
fn cumulative_frequency_table_as_in_java() {
    // BuiltInPartitioner's own example: lengths 0 3 1 → weights 4 1 3 → sums 4 5 8.
    let mut sizes = [0, 3, 1];
    assert!(cumulative_frequency_table(&mut sizes, 3));
    assert_eq!(sizes, [4, 5, 8]);
    let mut equal = [2, 2, 2];
    assert!(!cumulative_frequency_table(&mut equal, 3), "all equal");
    let mut left_out = [2, 2];
    assert!(
        cumulative_frequency_table(&mut left_out, 3),
        "equal but one partition left out"
    );
    assert_eq!(left_out, [1, 2]);
    assert!(!cumulative_frequency_table(&mut [5], 1), "one partition");
    assert!(!cumulative_frequency_table(&mut [], 3), "none");
}

#[test]
fn queue_lengths_group_by_topic_and_reuse_buffers() {
    let mut q = QueueLengths::default();
    q.push("a", 0, 2);
    q.push("a", 3, 1);
    q.push("b", 1, 4);
    let seen: Vec<_> = q
        .topics()
        .map(|(t, r)| (t.to_owned(), r.to_vec()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("a".to_owned(), vec![(0, 2), (3, 1)]),
            ("b".to_owned(), vec![(1, 4)])
        ]
    );
    assert_eq!(q.len_of("a", 3), 1);
    assert_eq!(q.len_of("a", 1), 0);
    assert_eq!(q.len_of("c", 0), 0);
    q.clear();
    assert_eq!(q.topics().count(), 0);
    q.push("c", 0, 1);
    assert_eq!(q.get("c"), Some(&[(0, 1)][..]));
    assert_eq!(q.get("a"), None);
}

#[test]
fn adaptive_prefers_short_queues() {
    let p = StickyPartitioner::new(1);
    let mut q = QueueLengths::default();
    // Partition 0 has nothing queued (absent), 1..3 have 5 batches each.
    for partition in 1..4 {
        q.push("t", partition, 5);
    }
    let m = metadata("t", &[Some(1); 4]);
    p.load_stats().update(&q, &m, &NodeLatencyStats::default());
    // Weights 6 1 1 1: partition 0 is expected 2/3 of the time, each other 1/9.
    let counts = draw(&p, &FOUR, 3000);
    for other in 1..4 {
        assert!(
            counts[0] > 3 * counts[other],
            "partition 0 should dominate: {counts:?}"
        );
    }
    assert!(counts[0] > 1500, "{counts:?}");
    assert!(counts[1..].iter().all(|c| *c > 0), "{counts:?}");

    // Once the pass sees nothing queued for the topic, the choice is uniform again.
    q.clear();
    p.load_stats().update(&q, &m, &NodeLatencyStats::default());
    assert_eq!(p.load_stats().pick("t"), None);
}

#[test]
fn without_adaptive_the_choice_is_uniform() {
    let p = StickyPartitioner::with_load_stats(1, PartitionLoadStats::new(false, Duration::ZERO));
    let mut q = QueueLengths::default();
    for partition in 1..4 {
        q.push("t", partition, 5);
    }
    p.load_stats().update(
        &q,
        &metadata("t", &[Some(1); 4]),
        &NodeLatencyStats::default(),
    );
    assert_eq!(
        p.load_stats().pick("t"),
        None,
        "no table when adaptive is off"
    );
    let counts = draw(&p, &FOUR, 4000);
    for c in &counts {
        assert!((700..=1300).contains(c), "about 1000 each: {counts:?}");
    }
}

#[test]
fn equal_queues_are_uniform() {
    let p = StickyPartitioner::new(1);
    let mut q = QueueLengths::default();
    for partition in 0..4 {
        q.push("t", partition, 3);
    }
    p.load_stats().update(
        &q,
        &metadata("t", &[Some(1); 4]),
        &NodeLatencyStats::default(),
    );
    assert_eq!(p.load_stats().pick("t"), None);
    let counts = draw(&p, &FOUR, 4000);
    for c in &counts {
        assert!((700..=1300).contains(c), "about 1000 each: {counts:?}");
    }
}

#[test]
fn availability_timeout_leaves_slow_leaders_out() {
    let t0 = Instant::now();
    let mut nodes = NodeLatencyStats::default();
    nodes.record(1, t0, true);
    nodes.record(2, t0, true);
    // Node 2 has had ready batches it could not take for 2 s; node 1 keeps draining.
    nodes.record(2, t0 + Duration::from_secs(2), false);
    nodes.record(1, t0 + Duration::from_secs(2), true);
    assert_eq!(nodes.waiting(2), Duration::from_secs(2));
    assert_eq!(nodes.waiting(1), Duration::ZERO);
    assert_eq!(nodes.waiting(9), Duration::ZERO);

    // Partitions 0 and 1 are led by node 1, 2 and 3 by node 2; all queues equally long.
    let m = metadata("t", &[Some(1), Some(1), Some(2), Some(2)]);
    let mut q = QueueLengths::default();
    for partition in 0..4 {
        q.push("t", partition, 1);
    }
    let p = StickyPartitioner::with_load_stats(
        1,
        PartitionLoadStats::new(true, Duration::from_secs(1)),
    );
    assert!(p.load_stats().tracks_availability());
    p.load_stats().update(&q, &m, &nodes);
    let counts = draw(&p, &FOUR, 1000);
    assert_eq!(counts[2] + counts[3], 0, "node 2 left out: {counts:?}");
    assert!(counts[0] > 300 && counts[1] > 300, "{counts:?}");

    // Below the timeout nothing is left out: equal queues, uniform.
    let lenient = StickyPartitioner::with_load_stats(
        1,
        PartitionLoadStats::new(true, Duration::from_secs(5)),
    );
    lenient.load_stats().update(&q, &m, &nodes);
    assert_eq!(lenient.load_stats().pick("t"), None);
    // Zero means off, and with adaptive off the timeout does nothing either (as in Java).
    assert!(!PartitionLoadStats::new(true, Duration::ZERO).tracks_availability());
    assert!(!PartitionLoadStats::new(false, Duration::from_secs(1)).tracks_availability());
}

#[test]
fn ignore_keys_sticky_partitions_keyed_records() {
    let t = TopicInfo {
        topic: "t",
        partitions: 12,
        available: &[],
    };
    let hashed = DefaultPartitioner::new(1);
    assert!(!hashed.ignores_keys());
    for _ in 0..20 {
        assert_eq!(hashed.choose(&t, Some(b"foobar"), 1), 6);
    }
    let ignoring = DefaultPartitioner::with_options(1, PartitionLoadStats::default(), true);
    assert!(ignoring.ignores_keys());
    let seen: std::collections::BTreeSet<i32> = (0..100)
        .map(|_| ignoring.choose(&t, Some(b"foobar"), 1))
        .collect();
    assert!(
        seen.len() > 1,
        "keys ignored: the record moves with the sticky partition"
    );

    // Sticky until batch.size bytes: keyed records share the keyless records' partition.
    let ignoring = DefaultPartitioner::with_options(1000, PartitionLoadStats::default(), true);
    let first = ignoring.choose(&t, None, 10);
    assert_eq!(ignoring.choose(&t, Some(b"foobar"), 10), first);
    assert_eq!(ignoring.choose(&t, Some(b"21"), 10), first);
}

#[test]
fn choosing_from_metadata_matches_topic_info() {
    let p = DefaultPartitioner::new(10);
    let m = metadata("t", &[None, Some(1), None, Some(1)]);
    let parts = &m.topics["t"].partitions;
    for _ in 0..50 {
        let chosen = p.choose_in("t", parts, None, 7);
        assert!(
            chosen == 1 || chosen == 3,
            "only partitions with a leader: {chosen}"
        );
    }
    assert_eq!(
        p.choose_in("t", parts, Some(b"foobar"), 7),
        2,
        "keys still hash"
    );
    let leaderless = metadata("u", &[None, None]);
    let chosen = p.choose_in("u", &leaderless.topics["u"].partitions, None, 1);
    assert!(chosen == 0 || chosen == 1, "no leader known: any partition");
}
