//! The uncaught-error policy on Apache Kafka: `SHUTDOWN_APPLICATION` from one instance stops
//! every instance of the application (carried to the group leader in a subscription, handed
//! to every member as the assignment's error code); `REPLACE_THREAD` keeps the instance
//! running with a new thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use streams_core::error::BoxError;
use streams_core::processor::ProcessorContext;
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, State, StreamsConfig, UncaughtResponse};
use streams_core::serde::StringSerde;
use streams_core::topology::{Topology, TopologyBuilder};

fn topology(input: &str, output: &str) -> Topology {
    let mut b = TopologyBuilder::new();
    let src = b
        .add_source::<Option<String>, String>("Source", &[input], StringSerde, StringSerde)
        .unwrap();
    let p = b
        .add_processor("FailOnPoison", &[&src], || {
            |ctx: &mut ProcessorContext<'_, Option<String>, String>,
             r: Record<Option<String>, String>|
             -> Result<(), BoxError> {
                if r.value == "poison" {
                    return Err("poison record".into());
                }
                ctx.forward(r)?;
                Ok(())
            }
        })
        .unwrap();
    b.add_sink("Sink", output, StringSerde, StringSerde, &[&p])
        .unwrap();
    b.build().unwrap()
}

fn wait_for(streams: &KafkaStreams, want: State, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if streams.state() == want {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn setup(test: &str, partitions: i32) -> Option<(String, String, String, tokio::runtime::Runtime)> {
    let bootstrap = Broker::Kafka.bootstrap(test)?;
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let input = unique_topic("shutdown-in");
    let output = unique_topic("shutdown-out");
    rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        create_ready_topic(&admin, NewTopic::new(&input, partitions, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, 1, 1)).await;
    });
    Some((bootstrap, input, output, rt))
}

fn send(rt: &tokio::runtime::Runtime, bootstrap: &str, topic: &str, partition: i32, value: &str) {
    rt.block_on(async {
        let p = Producer::connect(ProducerConfig::new(bootstrap))
            .await
            .unwrap();
        let r = ProducerRecord::new(topic)
            .partition(partition)
            .value(value.to_owned());
        p.send(r).await.unwrap().await.unwrap();
        p.close().await.unwrap();
    });
}

#[test]
fn shutdown_application_stops_every_instance() {
    let Some((bootstrap, input, output, rt)) = setup("streams_shutdown", 4) else {
        return;
    };
    let app = unique_topic("shutdown-app");
    let start = |name: &str| {
        let mut config = StreamsConfig::new(&app, &bootstrap);
        config.set("num.stream.threads", "2").unwrap();
        config.set("consumer.session.timeout.ms", "6000").unwrap();
        let mut s = KafkaStreams::new(topology(&input, &output), config).unwrap();
        let who = name.to_owned();
        s.set_uncaught_exception_handler(move |e| {
            eprintln!("{who}: uncaught: {e}");
            UncaughtResponse::ShutdownApplication
        });
        s.start().unwrap();
        s
    };
    let mut a = start("a");
    let mut b = start("b");
    assert!(
        wait_for(&a, State::Running, Duration::from_secs(30)),
        "a: {:?}",
        a.state()
    );
    assert!(
        wait_for(&b, State::Running, Duration::from_secs(30)),
        "b: {:?}",
        b.state()
    );
    send(&rt, &bootstrap, &input, 0, "poison");
    let started = Instant::now();
    let a_err = wait_for(&a, State::Error, Duration::from_secs(30));
    let b_err = wait_for(&b, State::Error, Duration::from_secs(30));
    eprintln!(
        "after the poison record: a {:?}, b {:?} ({:.1} s)",
        a.state(),
        b.state(),
        started.elapsed().as_secs_f64()
    );
    a.close(Duration::from_secs(10));
    b.close(Duration::from_secs(10));
    assert!(a_err && b_err, "both instances stop with ERROR");
}

#[test]
fn replace_thread_keeps_the_instance_running() {
    let Some((bootstrap, input, output, rt)) = setup("streams_replace_thread", 1) else {
        return;
    };
    let mut config = StreamsConfig::new(&unique_topic("replace-app"), &bootstrap);
    config.set("commit.interval.ms", "100").unwrap();
    let mut s = KafkaStreams::new(topology(&input, &output), config).unwrap();
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = failures.clone();
    s.set_uncaught_exception_handler(move |e| {
        eprintln!("uncaught: {e}");
        // Replace once; the replacement hits the same (uncommitted) record, so then stop.
        if seen.fetch_add(1, Ordering::Relaxed) == 0 {
            UncaughtResponse::ReplaceThread
        } else {
            UncaughtResponse::ShutdownClient
        }
    });
    s.start().unwrap();
    assert!(wait_for(&s, State::Running, Duration::from_secs(30)));
    send(&rt, &bootstrap, &input, 0, "poison");
    let deadline = Instant::now() + Duration::from_secs(30);
    while failures.load(Ordering::Relaxed) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let threads: Vec<String> = s
        .local_thread_metadata()
        .into_iter()
        .map(|t| t.thread_name)
        .collect();
    eprintln!(
        "failures {}, state {:?}, threads {threads:?}",
        failures.load(Ordering::Relaxed),
        s.state()
    );
    assert_eq!(
        failures.load(Ordering::Relaxed),
        2,
        "the replacement thread ran and met the record again"
    );
    assert!(wait_for(&s, State::Error, Duration::from_secs(10)));
    s.close(Duration::from_secs(10));
}
