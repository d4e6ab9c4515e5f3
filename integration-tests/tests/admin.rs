//! Connect, negotiate, metadata and every admin operation, on Apache Kafka and the secondary
//! brokers (with each one's known gaps left out, see docs/brokers.md).

use std::time::Duration;

use integration_tests::{now_ms, produce_batch, unique_topic, Broker};
use kafka_wire::admin::{
    Admin, AlterConfigOp, ConfigResource, EnsureOutcome, NewTopic, OffsetSpec,
};
use kafka_wire::config::ClientConfig;
use kafka_wire::protocol::record_batch::{Record, RecordBatch};
use kafka_wire::protocol::{ApiKey, ErrorCode};
use kafka_wire::TopicPartition;

async fn admin(bootstrap: &str) -> Admin {
    integration_tests::init_logging();
    let mut config = ClientConfig::new(bootstrap);
    config.set("client.id", "kafka-wire-it").unwrap();
    config.set("default.api.timeout.ms", "30000").unwrap();
    Admin::connect(config).await.expect("connect")
}

async fn negotiate(broker: Broker) {
    let Some(bootstrap) = broker.bootstrap("negotiate") else {
        return;
    };
    let admin = admin(&bootstrap).await;
    let m = admin.client().metadata();
    assert!(!m.brokers.is_empty());
    let (id, _) = m.brokers.iter().next().unwrap();
    let conn = admin.client().connection(*id).await.unwrap();
    let versions = conn.api_versions();
    let line: Vec<String> = versions
        .chosen
        .iter()
        .map(|(api, v)| format!("{}={v}", api.name()))
        .collect();
    let missing: Vec<&str> = ApiKey::ALL
        .iter()
        .filter(|a| versions.version(**a).is_none())
        .map(|a| a.name())
        .collect();
    println!(
        "NEGOTIATED {broker:?} ({} APIs): {}",
        line.len(),
        line.join(" ")
    );
    println!("NOT AVAILABLE on {broker:?}: {}", missing.join(" "));
    for api in [
        ApiKey::Metadata,
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::ListOffsets,
        ApiKey::CreateTopics,
    ] {
        assert!(
            versions.version(api).is_some(),
            "{api:?} must be negotiated"
        );
    }
}

#[tokio::test]
async fn negotiate_kafka() {
    negotiate(Broker::Kafka).await
}
#[tokio::test]
async fn negotiate_noida() {
    negotiate(Broker::Noida).await
}
#[tokio::test]
async fn negotiate_tansu() {
    negotiate(Broker::Tansu).await
}

/// What a broker is known to lack (measured, docs/brokers.md).
struct Gaps {
    delete_records: bool,
    create_partitions: bool,
    incremental_alter_configs: bool,
    delete_compacted_topic: bool,
}

async fn admin_operations(broker: Broker, gaps: Gaps) {
    let Some(bootstrap) = broker.bootstrap("admin_operations") else {
        return;
    };
    let admin = admin(&bootstrap).await;
    let cluster = admin.describe_cluster().await.unwrap();
    assert!(!cluster.brokers.is_empty());
    println!("{broker:?} cluster: {cluster:?}");

    let topic = unique_topic("admin");
    admin
        .create_topic(NewTopic::new(&topic, 3, 1).config("retention.ms", "3600000"))
        .await
        .unwrap();
    let err = admin
        .create_topic(NewTopic::new(&topic, 3, 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::TOPIC_ALREADY_EXISTS), "{err}");
    admin
        .wait_for_leaders(std::slice::from_ref(&topic))
        .await
        .unwrap();

    let described = admin.describe_topics(&[&topic]).await.unwrap();
    assert_eq!(described[0].partitions.len(), 3);
    assert!(admin.list_topics().await.unwrap().contains(&topic));
    let missing = admin
        .describe_topics(&["no-such-topic-kw"])
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));

    let resource = ConfigResource::Topic(topic.clone());
    let configs = admin
        .describe_configs(std::slice::from_ref(&resource))
        .await
        .unwrap();
    let retention = configs[&resource]
        .iter()
        .find(|e| e.name == "retention.ms")
        .map(|e| e.value.clone());
    assert_eq!(retention, Some(Some("3600000".into())));
    if !gaps.incremental_alter_configs {
        admin
            .incremental_alter_configs(
                &resource,
                &[AlterConfigOp::Set("retention.ms".into(), "7200000".into())],
            )
            .await
            .unwrap();
        // The controller has committed the change when the call returns, but the broker that
        // answers DescribeConfigs applies it from the metadata log a moment later (Kafka's own
        // tests wait for it the same way).
        let mut retention = None;
        for _ in 0..100 {
            let configs = admin
                .describe_configs(std::slice::from_ref(&resource))
                .await
                .unwrap();
            retention = configs[&resource]
                .iter()
                .find(|e| e.name == "retention.ms")
                .and_then(|e| e.value.clone());
            if retention.as_deref() == Some("7200000") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(retention.as_deref(), Some("7200000"));
    }

    // Offsets: produce 10 records with known timestamps to partition 1.
    let tp = TopicPartition::new(&topic, 1);
    let now = now_ms();
    let batch = RecordBatch {
        base_timestamp: now,
        records: (0..10)
            .map(|i| Record {
                offset: i,
                timestamp: now + i * 1000,
                value: Some(format!("v{i}").into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    produce_batch(admin.client(), &tp, &batch).await.unwrap();
    let offsets = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Earliest)])
        .await
        .unwrap();
    assert_eq!(offsets[&tp].offset, 0);
    let latest = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
        .await
        .unwrap();
    assert_eq!(latest[&tp].offset, 10);
    let by_time = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Timestamp(now + 4500))])
        .await
        .unwrap();
    assert_eq!(by_time[&tp].offset, 5);

    if !gaps.delete_records {
        let low = admin.delete_records(&[(tp.clone(), 4)]).await.unwrap();
        assert_eq!(low[&tp], 4);
        let earliest = admin
            .list_offsets(&[(tp.clone(), OffsetSpec::Earliest)])
            .await
            .unwrap();
        assert_eq!(earliest[&tp].offset, 4);
    }

    if !gaps.create_partitions {
        admin.create_partitions(&topic, 5).await.unwrap();
        admin
            .wait_for_leaders(std::slice::from_ref(&topic))
            .await
            .unwrap();
        assert_eq!(
            admin.describe_topics(&[&topic]).await.unwrap()[0]
                .partitions
                .len(),
            5
        );
    }

    // ensure_topics: an existing topic is left alone, a new one is created, configs converge.
    let internal = unique_topic("ensure-changelog");
    let partitions = if gaps.create_partitions { 3 } else { 5 };
    let wanted = vec![
        NewTopic::new(&topic, partitions, 1),
        NewTopic::new(&internal, 2, 1).config("cleanup.policy", "compact"),
    ];
    let outcome = admin.ensure_topics(&wanted).await.unwrap();
    assert_eq!(outcome[&topic], EnsureOutcome::Unchanged);
    assert_eq!(outcome[&internal], EnsureOutcome::Created);
    let again = admin.ensure_topics(&wanted).await.unwrap();
    assert_eq!(again[&internal], EnsureOutcome::Unchanged);
    if !gaps.incremental_alter_configs {
        let changed = vec![NewTopic::new(&internal, 2, 1)
            .config("cleanup.policy", "compact")
            .config("segment.ms", "600000")];
        let outcome = admin.ensure_topics(&changed).await.unwrap();
        assert_eq!(
            outcome[&internal],
            EnsureOutcome::ConfigsUpdated(vec!["segment.ms".into()])
        );
    }
    let mismatch = admin
        .ensure_topics(&[NewTopic::new(&internal, 7, 1)])
        .await
        .unwrap_err();
    assert!(
        mismatch.to_string().contains("7 are required"),
        "{mismatch}"
    );

    let deleted = admin.delete_topics(&[&topic, &internal]).await.unwrap();
    assert!(deleted[&topic].is_ok(), "{deleted:?}");
    if !gaps.delete_compacted_topic {
        assert!(deleted[&internal].is_ok(), "{deleted:?}");
    }
    // Deletion is asynchronous: the topic disappears from metadata shortly after.
    let mut gone = false;
    for _ in 0..50 {
        if !admin.list_topics().await.unwrap().contains(&topic) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(gone, "{topic} still listed after deletion");
}

#[tokio::test]
async fn admin_operations_kafka() {
    admin_operations(
        Broker::Kafka,
        Gaps {
            delete_records: false,
            create_partitions: false,
            incremental_alter_configs: false,
            delete_compacted_topic: false,
        },
    )
    .await
}

#[tokio::test]
async fn admin_operations_noida() {
    admin_operations(
        Broker::Noida,
        Gaps {
            delete_records: false,
            create_partitions: false,
            incremental_alter_configs: false,
            delete_compacted_topic: false,
        },
    )
    .await
}

#[tokio::test]
async fn admin_operations_tansu() {
    // tansu 0.6.0: DeleteRecords kills its storage task, CreatePartitions is not offered,
    // IncrementalAlterConfigs changes nothing, and deleting a compacted topic answers
    // UNKNOWN_TOPIC_OR_PARTITION (docs/brokers.md).
    admin_operations(
        Broker::Tansu,
        Gaps {
            delete_records: true,
            create_partitions: true,
            incremental_alter_configs: true,
            delete_compacted_topic: true,
        },
    )
    .await
}

/// Bootstrap tries every address: a dead one first does not stop the client.
#[tokio::test]
async fn bootstrap_skips_dead_addresses() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("bootstrap_skips_dead_addresses") else {
        return;
    };
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let admin = admin(&format!("{dead_addr},{bootstrap}")).await;
    assert!(!admin.describe_cluster().await.unwrap().brokers.is_empty());
}
