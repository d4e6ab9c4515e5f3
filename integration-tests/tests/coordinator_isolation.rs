//! Coordinator traffic has connections of its own (Apache Kafka 4.4.0, one broker, so the group
//! coordinator and the partition leader are the same node): while a JoinGroup is parked for the
//! rebalance and a Fetch long-poll for `fetch.max.wait.ms`, a heartbeat, an offset commit and a
//! produce on the same client are still answered at once.
//!
//! A control measurement shows the parking is real: a heartbeat sent on the connection that
//! carries a parked long-poll waits for it (a broker answers one connection strictly in order).

use std::time::{Duration, Instant};

use bytes::Bytes;
use integration_tests::{create_ready_topic, produce_batch, unique_topic, value_batch, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::cluster::coordinator::{Coordinator, CoordinatorType};
use kafka_wire::cluster::{Client, ConnectionClass};
use kafka_wire::config::ClientConfig;
use kafka_wire::protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_wire::protocol::messages::heartbeat_request::HeartbeatRequest;
use kafka_wire::protocol::messages::join_group_request::{
    JoinGroupRequest, JoinGroupRequestProtocol,
};
use kafka_wire::protocol::messages::offset_commit_request::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_wire::protocol::messages::sync_group_request::{
    SyncGroupRequest, SyncGroupRequestAssignment,
};
use kafka_wire::protocol::messages::FetchRequest;
use kafka_wire::protocol::{ApiKey, ErrorCode};
use kafka_wire::TopicPartition;

/// A protocol type the coordinator does not parse (a "consumer" group's metadata would be).
const PROTOCOL_TYPE: &str = "isolation-test";
const REBALANCE_TIMEOUT: Duration = Duration::from_secs(30);
const FETCH_MAX_WAIT: Duration = Duration::from_secs(10);
/// What "at once" means here: far below heartbeat.interval.ms (3 s) and request.timeout.ms.
const PROMPT: Duration = Duration::from_millis(1500);

fn join_request(group: &str, member_id: &str) -> JoinGroupRequest {
    JoinGroupRequest {
        group_id: group.into(),
        session_timeout_ms: 45_000,
        rebalance_timeout_ms: REBALANCE_TIMEOUT.as_millis() as i32,
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: PROTOCOL_TYPE.into(),
        protocols: vec![JoinGroupRequestProtocol {
            name: "only".into(),
            metadata: Bytes::from_static(b"m"),
            ..Default::default()
        }],
        reason: Some("isolation test".into()),
        ..Default::default()
    }
}

/// JoinGroup (twice: the first answer hands out the member id, KIP-394) and SyncGroup: a
/// stable one-member group. Returns (member id, generation).
async fn join_alone(coordinator: &Coordinator, group: &str) -> (String, i32) {
    let mut member_id = String::new();
    let joined = loop {
        let r = coordinator
            .send_built(i16::MAX, Some(REBALANCE_TIMEOUT), |_| {
                join_request(group, &member_id)
            })
            .await
            .expect("JoinGroup");
        match ErrorCode(r.error_code) {
            ErrorCode::MEMBER_ID_REQUIRED => member_id = r.member_id,
            ErrorCode::NONE => break r,
            code => panic!("JoinGroup failed: {code}"),
        }
    };
    let sync = SyncGroupRequest {
        group_id: group.into(),
        generation_id: joined.generation_id,
        member_id: joined.member_id.clone(),
        protocol_type: Some(PROTOCOL_TYPE.into()),
        protocol_name: joined.protocol_name.clone(),
        assignments: vec![SyncGroupRequestAssignment {
            member_id: joined.member_id.clone(),
            assignment: Bytes::from_static(b"a"),
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = coordinator.send(&sync).await.expect("SyncGroup");
    assert_eq!(ErrorCode(r.error_code), ErrorCode::NONE);
    (joined.member_id, joined.generation_id)
}

/// Member `member_id`'s heartbeat in `generation`.
fn heartbeat_request(group: &str, generation: i32, member_id: &str) -> HeartbeatRequest {
    HeartbeatRequest {
        group_id: group.into(),
        generation_id: generation,
        member_id: member_id.into(),
        ..Default::default()
    }
}

/// A Fetch at the end of an empty partition: the broker parks it for `max_wait`.
fn long_poll(topic: &str, max_wait: Duration) -> FetchRequest {
    FetchRequest {
        replica_id: -1,
        max_wait_ms: max_wait.as_millis() as i32,
        min_bytes: 1,
        max_bytes: 1 << 20,
        session_epoch: -1,
        topics: vec![FetchTopic {
            topic: topic.into(),
            partitions: vec![FetchPartition {
                partition: 0,
                fetch_offset: 0,
                partition_max_bytes: 1 << 20,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

async fn spawn_long_poll(
    client: &Client,
    node: i32,
    class: ConnectionClass,
    topic: &str,
    max_wait: Duration,
) -> tokio::task::JoinHandle<Duration> {
    let conn = client
        .connection_for(node, class)
        .await
        .expect("connection");
    // Fetch v12 names topics (v13+ would need the topic id).
    let version = conn.version_for(ApiKey::Fetch).expect("Fetch").min(12);
    let request = long_poll(topic, max_wait);
    tokio::spawn(async move {
        let start = Instant::now();
        let _ = conn
            .send_with_timeout_at(&request, version, max_wait + Duration::from_secs(20))
            .await;
        start.elapsed()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_and_commit_are_not_held_behind_parked_requests() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("coordinator_isolation") else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let idle_topic = unique_topic("isolation-idle");
    let busy_topic = unique_topic("isolation-busy");
    create_ready_topic(&admin, NewTopic::new(&idle_topic, 1, 1)).await;
    create_ready_topic(&admin, NewTopic::new(&busy_topic, 1, 1)).await;

    // One client: every request below goes to the same (only) broker.
    let client = Client::connect(ClientConfig::new(&bootstrap))
        .await
        .unwrap();
    client
        .ensure_metadata(&[idle_topic.clone(), busy_topic.clone()])
        .await
        .unwrap();
    let group = unique_topic("isolation-group");
    let coordinator = Coordinator::new(client.clone(), CoordinatorType::Group, group.clone());
    let node = coordinator.node().await.unwrap();
    let leader = client
        .leader(&TopicPartition::new(idle_topic.clone(), 0))
        .await
        .unwrap()
        .node_id;
    assert_eq!(
        node, leader,
        "one broker: coordinator and leader are the same node"
    );

    let (member_a, generation) = join_alone(&coordinator, &group).await;

    // A second member joins: the coordinator parks its JoinGroup until member A rejoins (it
    // will not) or the rebalance times out.
    let join_b = {
        let coordinator = Coordinator::new(client.clone(), CoordinatorType::Group, group.clone());
        let group = group.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            let mut member_id = String::new();
            loop {
                let r = coordinator
                    .send_built(i16::MAX, Some(REBALANCE_TIMEOUT * 2), |_| {
                        join_request(&group, &member_id)
                    })
                    .await;
                match r {
                    Ok(r) if ErrorCode(r.error_code) == ErrorCode::MEMBER_ID_REQUIRED => {
                        member_id = r.member_id
                    }
                    _ => return start.elapsed(),
                }
            }
        })
    };
    // And the consumer's fetcher long-polls an idle partition on its Fetch connection.
    let fetch = spawn_long_poll(
        &client,
        leader,
        ConnectionClass::Fetch,
        &idle_topic,
        FETCH_MAX_WAIT,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!join_b.is_finished(), "the second JoinGroup is parked");
    assert!(!fetch.is_finished(), "the long-poll is parked");

    // Member A's heartbeat: answered at once (REBALANCE_IN_PROGRESS tells it to rejoin).
    let start = Instant::now();
    let hb = coordinator
        .send(&heartbeat_request(&group, generation, &member_a))
        .await
        .expect("Heartbeat");
    let heartbeat = start.elapsed();
    assert_eq!(ErrorCode(hb.error_code), ErrorCode::REBALANCE_IN_PROGRESS);

    // An offset commit (a standalone group on the same coordinator).
    let commit_group = unique_topic("isolation-commit");
    let commit_coordinator =
        Coordinator::new(client.clone(), CoordinatorType::Group, commit_group.clone());
    let start = Instant::now();
    // v9 and below name topics (v10 would need the topic id).
    let r = commit_coordinator
        .send_versioned(9, |_| OffsetCommitRequest {
            group_id: commit_group,
            generation_id_or_member_epoch: -1,
            member_id: String::new(),
            retention_time_ms: -1,
            topics: vec![OffsetCommitRequestTopic {
                name: busy_topic.clone(),
                partitions: vec![OffsetCommitRequestPartition {
                    partition_index: 0,
                    committed_offset: 0,
                    committed_leader_epoch: -1,
                    committed_metadata: Some(String::new()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect("OffsetCommit");
    let commit = start.elapsed();
    let code = ErrorCode(r.topics[0].partitions[0].error_code);
    assert_eq!(code, ErrorCode::NONE);

    // A produce to the same broker.
    let start = Instant::now();
    produce_batch(
        &client,
        &TopicPartition::new(busy_topic.clone(), 0),
        &value_batch(["x"]),
    )
    .await
    .expect("produce");
    let produce = start.elapsed();
    assert!(
        !join_b.is_finished() && !fetch.is_finished(),
        "both still parked"
    );

    println!(
        "while a JoinGroup and a {} ms long-poll are parked on broker {node}: heartbeat {} ms, \
         offset commit {} ms, produce {} ms",
        FETCH_MAX_WAIT.as_millis(),
        heartbeat.as_millis(),
        commit.as_millis(),
        produce.as_millis()
    );
    for (what, took) in [
        ("heartbeat", heartbeat),
        ("offset commit", commit),
        ("produce", produce),
    ] {
        assert!(
            took < PROMPT,
            "{what} took {took:?} while requests were parked"
        );
    }

    // Control: a heartbeat queued on the connection of a parked long-poll waits for it.
    let control_wait = Duration::from_secs(3);
    let parked = spawn_long_poll(
        &client,
        leader,
        ConnectionClass::General,
        &idle_topic,
        control_wait,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let conn = client.connection(leader).await.unwrap();
    let start = Instant::now();
    let _ = conn
        .send(&heartbeat_request(&group, generation, &member_a))
        .await
        .expect("Heartbeat (control)");
    let queued = start.elapsed();
    let _ = parked.await;
    println!(
        "control: the same heartbeat on the connection of a parked {} ms long-poll took {} ms",
        control_wait.as_millis(),
        queued.as_millis()
    );
    assert!(
        queued >= control_wait - Duration::from_millis(800),
        "the control heartbeat should have waited behind the long-poll, took {queued:?}"
    );
    join_b.abort();
    fetch.abort();
}
