//! Unit tests of `StreamsConfig`.
use super::*;

#[test]
fn streams_keys_and_prefixed_client_keys_sit_side_by_side() {
    let mut c = StreamsConfig::new("app", "127.0.0.1:9092");
    c.set("num.stream.threads", "2").unwrap();
    c.set("commit.interval.ms", "1000").unwrap();
    c.set("consumer.max.poll.records", "50").unwrap();
    c.set("restore.consumer.max.poll.records", "2000").unwrap();
    c.set("producer.linger.ms", "20").unwrap();
    c.validate().unwrap();
    assert_eq!(c.num_stream_threads, 2);
    assert_eq!(c.commit_interval, Duration::from_secs(1));
    let main = c
        .main_consumer("app-1-StreamThread-1-consumer", None)
        .unwrap();
    assert_eq!(main.max_poll_records, 50);
    assert_eq!(c.restore_consumer("r").unwrap().max_poll_records, 2000);
    assert_eq!(c.producer("p", None).unwrap().linger.as_millis(), 20);
    c.set("no.such.key", "1").unwrap();
    let e = c.validate().unwrap_err();
    assert!(e.to_string().contains("no.such.key"), "{e}");
}

#[test]
fn exactly_once_makes_every_consumer_read_committed_and_the_producer_transactional() {
    let mut c = StreamsConfig::new("app", "b:9092");
    assert_eq!(c.commit_interval, Duration::from_secs(30));
    c.set("isolation.level", "read_uncommitted").unwrap();
    c.set("processing.guarantee", "exactly_once_v2").unwrap();
    c.validate().unwrap();
    assert_eq!(c.commit_interval, Duration::from_millis(100));
    for consumer in [
        c.main_consumer("m", Some("app-p-1")).unwrap(),
        c.restore_consumer("r").unwrap(),
        c.global_consumer("g").unwrap(),
    ] {
        assert_eq!(
            consumer.isolation_level,
            kafka_wire::consumer::IsolationLevel::ReadCommitted
        );
    }
    let p = c.producer("p", Some("app-p-1")).unwrap();
    assert_eq!(p.transactional_id.as_deref(), Some("app-p-1"));
    assert_eq!(p.transaction_timeout, Duration::from_secs(10));
    // A commit interval set by the user stays, whatever order the keys come in.
    let mut c = StreamsConfig::new("app", "b:9092");
    c.set("commit.interval.ms", "250").unwrap();
    c.set("processing.guarantee", "exactly_once_v2").unwrap();
    assert_eq!(c.commit_interval, Duration::from_millis(250));
    // At-least-once: no transactions, the consumers keep their isolation level.
    let c = StreamsConfig::new("app", "b:9092");
    assert_eq!(c.producer("p", Some("x")).unwrap().transactional_id, None);
}

#[test]
fn static_membership_is_on_by_default_and_follows_a_user_instance_id() {
    let mut c = StreamsConfig::new("app", "b:9092");
    assert_eq!(
        c.group_instance_id("0f8f-uuid", 2).as_deref(),
        Some("app-0f8f-uuid-2")
    );
    let main = c.main_consumer("m", Some("app-0f8f-uuid-2")).unwrap();
    assert_eq!(main.group_instance_id.as_deref(), Some("app-0f8f-uuid-2"));
    // The restore consumer never joins the group.
    assert_eq!(c.restore_consumer("r").unwrap().group_instance_id, None);
    c.set("group.instance.id", "pod-7").unwrap();
    assert_eq!(c.group_instance_id("u", 1).as_deref(), Some("pod-7-1"));
    assert!(!c.derives_group_instance_id());
    let mut c = StreamsConfig::new("app", "b:9092");
    c.set("static.membership.enabled", "false").unwrap();
    assert_eq!(c.group_instance_id("u", 1), None);
    assert!(c.set("static.membership.enabled", "maybe").is_err());
}

#[test]
fn bad_values_name_the_key_and_what_is_expected() {
    let mut c = StreamsConfig::new("app", "b:9092");
    let e = c.set("num.stream.threads", "0").err().unwrap();
    assert!(e.to_string().contains("num.stream.threads"), "{e}");
    let e = c.set("processing.guarantee", "exactly_once").err().unwrap();
    assert!(e.to_string().contains("exactly_once_v2"), "{e}");
    c.set(
        "default.deserialization.exception.handler",
        "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler",
    )
    .unwrap();
    assert_eq!(c.deserialization_handler, ErrorHandling::LogAndContinue);
}

#[test]
fn assignment_settings_have_kafkas_defaults_and_reach_the_assignor() {
    let mut c = StreamsConfig::new("app", "b:9092");
    assert_eq!(c.assignment_configs(), AssignmentConfigs::default());
    c.set("num.standby.replicas", "2").unwrap();
    c.set("acceptable.recovery.lag", "500").unwrap();
    c.set("max.warmup.replicas", "4").unwrap();
    c.set("probing.rebalance.interval.ms", "120000").unwrap();
    c.set("client.tag.zone", "eu-1a").unwrap();
    c.set("client.tag.cluster", "k8s-1").unwrap();
    c.set("rack.aware.assignment.tags", "zone, cluster")
        .unwrap();
    c.validate().unwrap();
    let a = c.assignment_configs();
    assert_eq!(a.num_standby_replicas, 2);
    assert_eq!(a.acceptable_recovery_lag, 500);
    assert_eq!(a.max_warmup_replicas, 4);
    assert_eq!(a.probing_rebalance_interval, Duration::from_secs(120));
    assert_eq!(a.rack_aware_assignment_tags, vec!["zone", "cluster"]);
    assert_eq!(c.client_tags.get("zone").map(String::as_str), Some("eu-1a"));
    // Client tags are Kafka Streams' keys, never passed to the clients.
    assert!(c.own_filtered().get("client.tag.zone").is_none());
}

#[test]
fn bad_assignment_settings_name_the_key() {
    let mut c = StreamsConfig::new("app", "b:9092");
    for (key, value) in [
        ("num.standby.replicas", "-1"),
        ("acceptable.recovery.lag", "-5"),
        ("max.warmup.replicas", "0"),
        ("probing.rebalance.interval.ms", "59999"),
        ("rack.aware.assignment.tags", "a,b,c,d,e,f"),
        ("client.tag.a-very-long-tag-name-indeed", "x"),
        (
            "client.tag.zone",
            "a-value-that-is-longer-than-thirty-characters",
        ),
        ("client.tag.", "x"),
    ] {
        let e = c.set(key, value).expect_err("refused");
        assert!(e.to_string().contains(key), "{key}: {e}");
    }
    for i in 0..5 {
        c.set(&format!("client.tag.t{i}"), "v").unwrap();
    }
    let e = c.set("client.tag.t5", "v").expect_err("a sixth tag");
    assert!(e.to_string().contains("client.tag.t5"), "{e}");
    c.set("rack.aware.assignment.tags", "zone").unwrap();
    let e = c.validate().unwrap_err();
    assert!(e.to_string().contains("rack.aware.assignment.tags"), "{e}");
    assert!(e.to_string().contains("client.tag.zone"), "{e}");
}
