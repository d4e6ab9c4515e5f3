//! At-least-once of the streams runtime under crashes, on Apache Kafka: three instances of the
//! `streams_count` application (separate processes, two stream threads each) count records per
//! key (`k0..k99`) of a 6-partition input into the in-memory store "Counts" (logged to its
//! changelog) and write every new count to the output. While 200 000 records are written
//! steadily, a random instance is SIGKILLed every 1.5–4.5 s and restarted (at once or after up
//! to 2 s), until each instance was killed at least 10 times: its tasks move to the others
//! after its session expires
//! (`session.timeout.ms=6000`), which rebuild the counts from the changelog and go on from the
//! committed offsets.
//!
//! Then the killing stops, the group's committed offsets must reach the end of the input,
//! the instances are stopped gracefully and the output is read from the beginning: the last
//! count per key is its final count. At-least-once means no key ends below its true count
//! (records processed again after a kill may count twice, so a key may end above it: reported,
//! allowed).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integration_tests::streams_app::{
    all_tasks, assignment, caught_up, end_offsets, last_counts, wait_settled, AppSpec, Instance,
};
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use rand::Rng;

const PARTITIONS: i32 = 6;
const INSTANCES: usize = 3;
const THREADS: usize = 2;
const N: usize = 200_000;
const KEYS: usize = 100;
/// Every instance is SIGKILLed at least this many times.
const MIN_KILLS: usize = 10;
/// Input written in chunks of this many records…
const CHUNK: usize = 500;
/// …with this pause after each (200 000 records in about 60 s).
const PAUSE: Duration = Duration::from_millis(250);
/// Give up waiting for the instances to catch up after this long past the last kill.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(120);

#[test]
fn sigkilled_instances_lose_no_count() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_kill_loop") else {
        return;
    };
    integration_tests::init_logging();
    let test_start = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let admin = rt
        .block_on(Admin::connect(ClientConfig::new(&bootstrap)))
        .unwrap();
    let input = unique_topic("streams-kill-in");
    let output = unique_topic("streams-kill-out");
    let app = unique_topic("streams-kill-app");
    rt.block_on(async {
        create_ready_topic(&admin, NewTopic::new(&input, PARTITIONS, 1)).await;
        create_ready_topic(&admin, NewTopic::new(&output, PARTITIONS, 1)).await;
    });
    let spec = AppSpec {
        binary: env!("CARGO_BIN_EXE_streams_count").into(),
        bootstrap: bootstrap.clone(),
        application_id: app.clone(),
        input: input.clone(),
        output: output.clone(),
        threads: THREADS,
        settings: std::env::var("STREAMS_KILL_LOOP_SETTINGS")
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        echo: true,
    };
    let mut slots: Vec<Option<Instance>> = (0..INSTANCES)
        .map(|i| Some(Instance::start(&spec, i, 0)))
        .collect();
    {
        let refs: Vec<&Instance> = slots.iter().flatten().collect();
        let took = wait_settled(
            &refs,
            &all_tasks(PARTITIONS),
            Duration::from_secs(1),
            Duration::from_secs(90),
        );
        eprintln!("kill loop: settled after {took:?}: {}", assignment(&refs));
    }

    // The input: keys k0..k99 round robin, written steadily in the background.
    let producer = rt
        .block_on(Producer::connect(ProducerConfig::new(&bootstrap)))
        .unwrap();
    let topic = input.clone();
    let sending = rt.spawn(async move {
        let mut deliveries = Vec::with_capacity(CHUNK);
        for i in 0..N {
            let record = ProducerRecord::new(&topic)
                .key(format!("k{}", i % KEYS))
                .value(i.to_string());
            deliveries.push(producer.send(record).await.unwrap());
            if i % CHUNK == CHUNK - 1 {
                for d in deliveries.drain(..) {
                    d.await.unwrap();
                }
                tokio::time::sleep(PAUSE).await;
            }
        }
        for d in deliveries {
            d.await.unwrap();
        }
        producer.close().await.unwrap();
    });

    // The kill loop: while the input is written (and until every instance was killed
    // MIN_KILLS times), SIGKILL a random instance every 1.5-4.5 s and restart it at once or
    // after up to 2 s.
    let mut rng = rand::rng();
    let mut kills = 0usize;
    let mut kills_of = [0usize; INSTANCES];
    let mut incarnations = [0usize; INSTANCES];
    let mut exits: Vec<String> = Vec::new();
    while kills_of.iter().any(|k| *k < MIN_KILLS) || !sending.is_finished() {
        std::thread::sleep(Duration::from_millis(rng.random_range(1500..4500)));
        for (i, slot) in slots.iter_mut().enumerate() {
            if let Some(code) = slot.as_mut().and_then(Instance::exited) {
                exits.push(format!("instance {i}: exit status {code}"));
                incarnations[i] += 1;
                *slot = Some(Instance::start(&spec, i, incarnations[i]));
            }
        }
        let victim = rng.random_range(0..INSTANCES);
        let instance = slots[victim].take().expect("every slot is filled");
        eprintln!(
            "kill loop: kill {} (SIGKILL instance {victim}, pid {}, tasks {:?}) at {:?}",
            kills + 1,
            instance.pid(),
            instance.view().tasks,
            test_start.elapsed()
        );
        instance.kill();
        kills += 1;
        kills_of[victim] += 1;
        if rng.random_bool(0.5) {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..2000)));
        }
        incarnations[victim] += 1;
        slots[victim] = Some(Instance::start(&spec, victim, incarnations[victim]));
    }
    rt.block_on(sending).unwrap();
    let last_kill = Instant::now();
    eprintln!(
        "kill loop: {kills} kills (per instance {kills_of:?}), input written after {:?}",
        test_start.elapsed()
    );

    // Caught up: the group committed the end of every input partition, and the output
    // stopped growing.
    loop {
        for (i, slot) in slots.iter_mut().enumerate() {
            if let Some(code) = slot.as_mut().and_then(Instance::exited) {
                exits.push(format!("instance {i}: exit status {code}"));
                incarnations[i] += 1;
                *slot = Some(Instance::start(&spec, i, incarnations[i]));
            }
        }
        if rt.block_on(caught_up(&admin, &app, &input, PARTITIONS)) {
            break;
        }
        assert!(
            last_kill.elapsed() < CATCH_UP_WITHIN,
            "the instances did not commit the end of the input within {CATCH_UP_WITHIN:?} of the last kill"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut ends = rt.block_on(end_offsets(&admin, &output, PARTITIONS));
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let now = rt.block_on(end_offsets(&admin, &output, PARTITIONS));
        if now == ends {
            break;
        }
        ends = now;
    }
    eprintln!(
        "kill loop: caught up {:?} after the last kill",
        last_kill.elapsed()
    );
    {
        let refs: Vec<&Instance> = slots.iter().flatten().collect();
        eprintln!("kill loop: final assignment: {}", assignment(&refs));
    }
    for slot in slots.iter_mut() {
        if let Some(instance) = slot.take() {
            let id = instance.id;
            let code = instance.stop(Duration::from_secs(40));
            if code != Some(0) {
                exits.push(format!("instance {id}: graceful stop gave {code:?}"));
            }
        }
    }

    let (counts, outputs) = rt.block_on(last_counts(&bootstrap, &admin, &output, PARTITIONS));
    let truth: BTreeMap<String, i64> = (0..KEYS)
        .map(|k| (format!("k{k}"), (N / KEYS) as i64))
        .collect();
    let below: Vec<(&String, i64, i64)> = truth
        .iter()
        .filter_map(|(k, t)| {
            let c = counts.get(k).copied().unwrap_or(0);
            (c < *t).then_some((k, c, *t))
        })
        .collect();
    let above = truth
        .iter()
        .filter(|(k, t)| counts.get(*k).copied().unwrap_or(0) > **t)
        .count();
    let surplus: i64 = truth
        .iter()
        .map(|(k, t)| (counts.get(k).copied().unwrap_or(0) - t).max(0))
        .sum();
    let unknown = counts.keys().filter(|k| !truth.contains_key(*k)).count();
    eprintln!(
        "kill loop: kills {kills} (per instance {kills_of:?}), inputs {N}, keys {}, keys below {}, keys above {above} (surplus counts {surplus}), unknown keys {unknown}, output records {outputs}, instances that exited by themselves {exits:?}, total {:?}",
        counts.len(),
        below.len(),
        test_start.elapsed()
    );
    if !below.is_empty() {
        eprintln!("kill loop: keys below their true count (key, final, true): {below:?}");
    }
    assert!(kills_of.iter().all(|k| *k >= MIN_KILLS), "{kills_of:?}");
    assert_eq!(counts.len(), KEYS, "every key has a count");
    assert!(
        below.is_empty(),
        "at-least-once: no key's final count below its true count"
    );
    assert_eq!(unknown, 0);
    assert!(exits.is_empty(), "no instance fails by itself: {exits:?}");
}
