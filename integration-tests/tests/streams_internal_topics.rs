//! Internal topics on Apache Kafka: created with Kafka Streams' settings, or — for Event Hubs
//! and locked-down clusters — only checked (`internal.topics.setup=must_exist`), with an error
//! that lists every missing topic with its partitions and configs. And the production
//! exception handler's dead-letter topic: an output record the broker refuses lands there.

use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, ConfigResource, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::error::BoxError;
use streams_core::processor::ProcessorContext;
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig};
use streams_core::serde::{I64Serde, StringSerde};
use streams_core::state::StoreHandle;
use streams_core::topology::{StoreBuilder, Topology, TopologyBuilder};

fn counting(input: &str, output: &str) -> Topology {
    let store = StoreHandle::new("Counts", StringSerde, I64Serde);
    let mut b = TopologyBuilder::new();
    let src = b
        .add_source::<String, String>("Source", &[input], StringSerde, StringSerde)
        .unwrap();
    let s = store.clone();
    let count = b
        .add_processor("Count", &[&src], move || {
            let s = s.clone();
            move |ctx: &mut ProcessorContext<'_, String, i64>,
                  r: Record<String, String>|
                  -> Result<(), BoxError> {
                let mut st = ctx.key_value_store(&s)?;
                let n = st.get(&r.key)?.unwrap_or(0) + 1;
                st.put(&r.key, &n)?;
                ctx.forward(r.with_value(n))?;
                Ok(())
            }
        })
        .unwrap();
    b.add_state_store(StoreBuilder::in_memory_key_value(&store), &["Count"])
        .unwrap();
    b.add_sink("Sink", output, StringSerde, I64Serde, &[&count])
        .unwrap();
    b.build().unwrap()
}

#[test]
fn internal_topics_are_created_with_kafka_streams_settings_or_listed_when_they_must_exist() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_internal_topics") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let input = unique_topic("internal-in");
    let output = unique_topic("internal-out");
    let admin = rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&input, 3, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, 1, 1)).await;
        admin
    });

    // must_exist: nothing is created; the error lists the changelog with what it needs.
    let app = unique_topic("internal-app");
    let mut config = StreamsConfig::new(&app, &bootstrap);
    config.set("internal.topics.setup", "must_exist").unwrap();
    let mut streams = KafkaStreams::new(counting(&input, &output), config).unwrap();
    let err = streams.start().unwrap_err().to_string();
    eprintln!("must_exist: {err}");
    let changelog = format!("{app}-Counts-changelog");
    assert!(
        err.contains(&changelog) && err.contains("partitions 3") && err.contains("compact"),
        "{err}"
    );
    let topics = rt.block_on(admin.list_topics()).unwrap();
    assert!(!topics.contains(&changelog), "must_exist creates nothing");

    // create: the changelog exists with the source's partition count and compaction.
    let mut config = StreamsConfig::new(&app, &bootstrap);
    config.set("internal.topics.setup", "create").unwrap();
    let mut streams = KafkaStreams::new(counting(&input, &output), config).unwrap();
    streams.start().unwrap();
    let described = rt
        .block_on(admin.describe_topics(&[changelog.as_str()]))
        .unwrap();
    let configs = rt
        .block_on(admin.describe_configs(&[ConfigResource::Topic(changelog.clone())]))
        .unwrap();
    let entries = configs.values().next().cloned().unwrap_or_default();
    let get = |k: &str| {
        entries
            .iter()
            .find(|e| e.name == k)
            .and_then(|e| e.value.clone())
    };
    eprintln!(
        "created: {changelog}: partitions {}, cleanup.policy {:?}, message.timestamp.type {:?}",
        described[0].partitions.len(),
        get("cleanup.policy"),
        get("message.timestamp.type")
    );
    streams.close(Duration::from_secs(10));
    assert_eq!(described[0].partitions.len(), 3);
    assert_eq!(get("cleanup.policy").as_deref(), Some("compact"));
    assert_eq!(get("message.timestamp.type").as_deref(), Some("CreateTime"));
}

#[test]
fn a_record_the_broker_refuses_goes_to_the_dead_letter_topic() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_production_dlq") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let input = unique_topic("prod-dlq-in");
    let output = unique_topic("prod-dlq-out");
    let dlq = unique_topic("prod-dlq");
    rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&input, 1, 1)).await;
        let mut small = NewTopic::new(&output, 1, 1);
        small
            .configs
            .insert("max.message.bytes".into(), "2000".into());
        create_ready_topic(&admin, small).await;
        create_ready_topic(&admin, NewTopic::new(&dlq, 1, 1)).await;
        let p = Producer::connect(ProducerConfig::new(&bootstrap))
            .await
            .unwrap();
        for v in ["small-1".to_owned(), "x".repeat(5000), "small-2".to_owned()] {
            p.send(ProducerRecord::new(&input).key("k").value(v))
                .await
                .unwrap()
                .await
                .unwrap();
        }
        p.close().await.unwrap();
    });
    let mut b = TopologyBuilder::new();
    let src = b
        .add_source::<String, String>("Source", &[&input], StringSerde, StringSerde)
        .unwrap();
    b.add_sink("Sink", &output, StringSerde, StringSerde, &[&src])
        .unwrap();
    let mut config = StreamsConfig::new(&unique_topic("prod-dlq-app"), &bootstrap);
    config
        .set("default.production.exception.handler", "log_and_continue")
        .unwrap();
    config
        .set("errors.dead.letter.queue.topic.name", &dlq)
        .unwrap();
    config.set("commit.interval.ms", "200").unwrap();
    // The big record in a batch of its own: kafka-wire's producer does not yet split a batch
    // the broker refuses as MESSAGE_TOO_LARGE (Java's does), so batched neighbours would fail
    // with it.
    config.set("producer.batch.size", "1000").unwrap();
    let mut streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    streams.start().unwrap();
    let read = |topic: &str, want: usize| {
        rt.block_on(async {
            let mut c = Consumer::connect(ConsumerConfig::new(&bootstrap))
                .await
                .unwrap();
            let tp = TopicPartition::new(topic, 0);
            c.assign([tp.clone()]);
            c.seek(&tp, Offset::Beginning).unwrap();
            let mut out = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(20);
            while out.len() < want && Instant::now() < deadline {
                out.extend(c.poll(Duration::from_millis(300)).await.unwrap());
            }
            out
        })
    };
    let outputs = read(&output, 2);
    let dead = read(&dlq, 1);
    let state = streams.state();
    streams.close(Duration::from_secs(10));
    let header = |r: &kafka_wire::consumer::ConsumerRecord, k: &str| {
        r.headers
            .iter()
            .find(|h| &h.key[..] == k.as_bytes())
            .and_then(|h| h.value.as_ref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    eprintln!(
        "outputs {}, dead letters {} (value {} bytes, exception {:?}, message {:?}), state {state:?}",
        outputs.len(),
        dead.len(),
        dead.first().and_then(|r| r.value.as_ref()).map_or(0, |v| v.len()),
        dead.first().and_then(|r| header(r, "__streams.errors.exception")),
        dead.first().and_then(|r| header(r, "__streams.errors.message")),
    );
    assert_eq!(outputs.len(), 2, "the two small records flow");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].value.as_ref().map(|v| v.len()), Some(5000));
    assert_eq!(
        header(&dead[0], "__streams.errors.exception").as_deref(),
        Some("ProductionError")
    );
    assert_eq!(
        state,
        State::Running,
        "log_and_continue keeps the application running"
    );
}
