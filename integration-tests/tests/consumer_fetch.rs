//! The consumer's fetch side against Apache Kafka: records grouped by partition, pause holding
//! buffered records until resume, leader epochs in commits and in position validation
//! (KIP-320), and `list_offsets` under read_committed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, ListOffsetsOptions, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, IsolationLevel, Offset};
use kafka_wire::error::ClientError;
use kafka_wire::group::offsets::OffsetAndMetadata;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::{Error, TopicPartition};

/// Produce `n` records to each of `partitions`, value `"<p>-<i>"`, timestamps increasing.
async fn produce(bootstrap: &str, topic: &str, partitions: i32, n: usize) {
    let producer = Producer::connect(ProducerConfig::new(bootstrap))
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for i in 0..n {
        for p in 0..partitions {
            let record = ProducerRecord::new(topic)
                .partition(p)
                .value(format!("{p}-{i}"));
            deliveries.push(producer.send(record).await.unwrap());
        }
    }
    for d in deliveries {
        d.await.unwrap();
    }
    producer.close().await.unwrap();
}

async fn topic_with(bootstrap: &str, prefix: &str, partitions: i32) -> (Admin, String) {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let topic = unique_topic(prefix);
    create_ready_topic(&admin, NewTopic::new(&topic, partitions, 1)).await;
    (admin, topic)
}

fn config(bootstrap: &str, props: &[(&str, &str)]) -> ConsumerConfig {
    let mut config = ConsumerConfig::new(bootstrap);
    config.set("auto.offset.reset", "earliest").unwrap();
    for (k, v) in props {
        config.set(k, v).unwrap();
    }
    config
}

#[tokio::test]
async fn pause_holds_buffered_records_until_resume_on_kafka() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("consumer_fetch") else {
        return;
    };
    integration_tests::init_logging();
    const N: usize = 2000;
    let (_admin, topic) = topic_with(&bootstrap, "pause-hold", 2).await;
    produce(&bootstrap, &topic, 2, N).await;
    let mut c = Consumer::connect(config(&bootstrap, &[("max.poll.records", "50")]))
        .await
        .unwrap();
    let (p0, p1) = (
        TopicPartition::new(&topic, 0),
        TopicPartition::new(&topic, 1),
    );
    c.assign([p0.clone(), p1.clone()]);
    let mut got: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Poll until partition 0 has records both returned and still buffered.
    loop {
        assert!(Instant::now() < deadline, "partition 0 never started");
        for r in c.poll(Duration::from_secs(1)).await.unwrap() {
            got.entry(r.partition).or_default().push(r.offset);
        }
        let returned = got.get(&0).map_or(0, Vec::len);
        if returned > 0 && c.position(&p0).is_some_and(|p| p < N as i64) {
            break;
        }
    }
    let held_from = c.position(&p0).unwrap();
    let buffered_before = c.buffered_records();
    c.pause(std::slice::from_ref(&p0));
    let mut while_paused = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.get(&1).map_or(0, Vec::len) < N {
        assert!(
            Instant::now() < deadline,
            "partition 1 stalled while 0 was paused"
        );
        for r in c.poll(Duration::from_secs(1)).await.unwrap() {
            assert_eq!(
                r.partition, 1,
                "no record of a paused partition is returned"
            );
            got.entry(1).or_default().push(r.offset);
            while_paused += 1;
        }
    }
    assert_eq!(c.position(&p0), Some(held_from), "paused position kept");
    c.resume(std::slice::from_ref(&p0));
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.get(&0).map_or(0, Vec::len) < N {
        assert!(
            Instant::now() < deadline,
            "partition 0 stalled after resume"
        );
        for r in c.poll(Duration::from_secs(1)).await.unwrap() {
            got.entry(r.partition).or_default().push(r.offset);
        }
    }
    // Nothing more comes.
    let extra = c.poll(Duration::from_millis(500)).await.unwrap();
    assert!(extra.is_empty(), "no duplicates after the end");
    for (p, offsets) in &got {
        assert_eq!(
            offsets,
            &(0..N as i64).collect::<Vec<_>>(),
            "partition {p}: every record exactly once, in offset order"
        );
    }
    println!(
        "paused partition 0 at offset {held_from} with {buffered_before} records buffered; \
         {while_paused} records of partition 1 while paused; after resume both partitions \
         complete: {N} + {N} records exactly once, in order"
    );
}

#[tokio::test]
async fn poll_records_groups_by_partition_on_kafka() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("consumer_fetch") else {
        return;
    };
    integration_tests::init_logging();
    const N: usize = 300;
    let (_admin, topic) = topic_with(&bootstrap, "grouped", 3).await;
    produce(&bootstrap, &topic, 3, N).await;
    let mut c = Consumer::connect(config(&bootstrap, &[("max.poll.records", "90")]))
        .await
        .unwrap();
    let tps: Vec<TopicPartition> = (0..3).map(|p| TopicPartition::new(&topic, p)).collect();
    c.assign(tps.clone());
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut polls_with_all_three = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while next.values().sum::<i64>() < 3 * N as i64 {
        assert!(Instant::now() < deadline, "stalled");
        let records = c.poll_records(Duration::from_secs(1)).await.unwrap();
        assert!(records.len() <= 90, "max.poll.records holds");
        let partitions: Vec<TopicPartition> = records.partitions().cloned().collect();
        if partitions.len() == 3 {
            polls_with_all_three += 1;
        }
        for tp in &partitions {
            for r in records.records(tp) {
                assert_eq!(r.partition, tp.partition, "grouped under its partition");
                let expected = next.entry(r.partition).or_default();
                assert_eq!(r.offset, *expected, "in offset order within the partition");
                assert!(r.leader_epoch.is_some(), "Kafka writes leader epochs");
                *expected += 1;
            }
        }
    }
    assert!(
        polls_with_all_three > 0,
        "polls share records across partitions"
    );
    println!(
        "poll_records: {} records from 3 partitions grouped per partition, in order; \
         {polls_with_all_three} polls held all three partitions",
        3 * N
    );
}

/// The partition's leader epoch in metadata.
async fn leader_epoch(c: &Consumer, tp: &TopicPartition) -> i32 {
    let m = c
        .client()
        .metadata_for(std::slice::from_ref(&tp.topic))
        .await
        .unwrap();
    m.topics[&tp.topic]
        .partitions
        .iter()
        .find(|p| p.partition == tp.partition)
        .unwrap()
        .leader_epoch
}

#[tokio::test]
async fn committed_leader_epoch_is_read_back_on_kafka() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("consumer_fetch") else {
        return;
    };
    integration_tests::init_logging();
    let (_admin, topic) = topic_with(&bootstrap, "epoch-commit", 1).await;
    produce(&bootstrap, &topic, 1, 20).await;
    let group = unique_topic("epoch-commit-group");
    let props = [
        ("group.id", group.as_str()),
        ("enable.auto.commit", "false"),
    ];
    let mut c = Consumer::connect(config(&bootstrap, &props)).await.unwrap();
    c.subscribe([topic.clone()]).unwrap();
    let tp = TopicPartition::new(&topic, 0);
    let mut seen = 0;
    let mut last_epoch = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen < 20 {
        assert!(Instant::now() < deadline, "group consumer stalled");
        let records = c.poll_records(Duration::from_secs(1)).await.unwrap();
        for r in records.records(&tp) {
            seen += 1;
            last_epoch = r.leader_epoch;
        }
    }
    c.commit_consumed().await.unwrap();
    let committed = c.committed(std::slice::from_ref(&tp)).await.unwrap();
    let metadata_epoch = leader_epoch(&c, &tp).await;
    c.close().await.unwrap();
    let om = &committed[&tp];
    assert_eq!(om.offset, 20);
    assert!(last_epoch.is_some());
    assert_eq!(
        om.leader_epoch, last_epoch,
        "the last record's epoch is committed"
    );
    assert_eq!(om.leader_epoch, Some(metadata_epoch));
    println!(
        "committed offset {} with leader epoch {:?} (metadata leader epoch {metadata_epoch}), \
         read back by OffsetFetch",
        om.offset, om.leader_epoch
    );
}

/// A committed position past the end of its leader epoch is what a consumer sees after an
/// unclean leader election truncated records it had read. The leader reports the diverging
/// epoch on the first fetch; with a reset policy the consumer continues at the divergence
/// (not at the policy's end of the log), with `none` it fails with `LogTruncation`.
#[tokio::test]
async fn truncation_is_detected_by_leader_epoch_on_kafka() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("consumer_fetch") else {
        return;
    };
    integration_tests::init_logging();
    let (admin, topic) = topic_with(&bootstrap, "epoch-truncation", 1).await;
    produce(&bootstrap, &topic, 1, 10).await;
    let tp = TopicPartition::new(&topic, 0);
    let probe = Consumer::connect(config(&bootstrap, &[])).await.unwrap();
    let epoch = leader_epoch(&probe, &tp).await;
    let beyond = BTreeMap::from([(
        tp.clone(),
        OffsetAndMetadata {
            offset: 100,
            leader_epoch: Some(epoch),
            metadata: None,
        },
    )]);

    // auto.offset.reset=earliest: out of range alone would restart at 0; the epoch says the
    // log diverged at 10, so the consumer continues there.
    let group = unique_topic("epoch-truncation-group");
    admin.alter_group_offsets(&group, &beyond).await.unwrap();
    let props = [
        ("group.id", group.as_str()),
        ("enable.auto.commit", "false"),
    ];
    let mut c = Consumer::connect(config(&bootstrap, &props)).await.unwrap();
    c.subscribe([topic.clone()]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.position(&tp) != Some(10) {
        assert!(
            Instant::now() < deadline,
            "position never moved to the divergence"
        );
        let records = c.poll(Duration::from_millis(500)).await.unwrap();
        assert!(
            records.is_empty(),
            "nothing before the divergence is re-read"
        );
    }
    produce(&bootstrap, &topic, 1, 3).await;
    let mut first = None;
    while first.is_none() {
        assert!(Instant::now() < deadline, "no record after the divergence");
        first = c
            .poll(Duration::from_secs(1))
            .await
            .unwrap()
            .first()
            .cloned();
    }
    let first = first.unwrap();
    assert_eq!(
        first.offset, 10,
        "continues at the first offset known to diverge"
    );
    c.close().await.unwrap();

    // auto.offset.reset=none: a typed error naming the divergence.
    let group = unique_topic("epoch-truncation-none");
    admin.alter_group_offsets(&group, &beyond).await.unwrap();
    let props = [
        ("group.id", group.as_str()),
        ("enable.auto.commit", "false"),
        ("auto.offset.reset", "none"),
    ];
    let mut c = Consumer::connect(config(&bootstrap, &props)).await.unwrap();
    c.subscribe([topic.clone()]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let err = loop {
        assert!(Instant::now() < deadline, "truncation never reported");
        match c.poll(Duration::from_millis(500)).await {
            Ok(records) => assert!(records.is_empty()),
            Err(e) => break e,
        }
    };
    match &err {
        Error::Client(ClientError::LogTruncation {
            topic_partition,
            position,
            divergent_offset,
            epoch: e,
        }) => {
            assert_eq!(
                (topic_partition, *position, *divergent_offset, *e),
                (&tp, 100, 13, epoch)
            );
        }
        other => panic!("expected LogTruncation, got {other:?}"),
    }
    println!(
        "committed 100@epoch {epoch} past the epoch's end: earliest → resumed at 10; none → {err}"
    );
}

#[tokio::test]
async fn list_offsets_latest_under_read_committed_stops_before_open_transaction_on_kafka() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("consumer_fetch") else {
        return;
    };
    integration_tests::init_logging();
    let (admin, topic) = topic_with(&bootstrap, "lso", 1).await;
    produce(&bootstrap, &topic, 1, 5).await;
    let mut pconfig = ProducerConfig::new(&bootstrap);
    pconfig
        .set("transactional.id", &unique_topic("lso-txn"))
        .unwrap();
    let producer = Producer::connect(pconfig).await.unwrap();
    producer.init_transactions().await.unwrap();
    producer.begin_transaction().unwrap();
    let mut deliveries = Vec::new();
    for i in 0..4 {
        let record = ProducerRecord::new(&topic)
            .partition(0)
            .value(format!("t-{i}"));
        deliveries.push(producer.send(record).await.unwrap());
    }
    producer.flush().await;
    for d in deliveries {
        d.await.unwrap();
    }
    let tp = TopicPartition::new(&topic, 0);
    let specs = [(tp.clone(), OffsetSpec::Latest)];
    let uncommitted = admin.list_offsets(&specs).await.unwrap()[&tp].offset;
    let committed = admin
        .list_offsets_with(
            &specs,
            ListOffsetsOptions {
                isolation_level: IsolationLevel::ReadCommitted,
            },
        )
        .await
        .unwrap()[&tp]
        .offset;
    // A read_committed consumer's Offset::End is the last stable offset as well.
    let mut c = Consumer::connect(config(&bootstrap, &[("isolation.level", "read_committed")]))
        .await
        .unwrap();
    c.assign([tp.clone()]);
    c.seek(&tp, Offset::End).unwrap();
    let records = c.poll(Duration::from_millis(500)).await.unwrap();
    let end_position = c.position(&tp);
    producer.abort_transaction().await.unwrap();
    producer.close().await.unwrap();
    assert_eq!(
        uncommitted, 9,
        "read_uncommitted Latest: the high watermark"
    );
    assert_eq!(
        committed, 5,
        "read_committed Latest: the last stable offset"
    );
    assert!(records.is_empty());
    assert_eq!(
        end_position,
        Some(5),
        "read_committed consumer's End is the LSO"
    );
    println!(
        "open transaction: Latest read_uncommitted = {uncommitted}, read_committed = {committed}; \
         read_committed consumer at End sits at {end_position:?}"
    );
}
