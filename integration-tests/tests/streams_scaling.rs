//! Scaling the streams runtime out and in, on Apache Kafka: three instances of the
//! `streams_count` application (separate processes, one stream thread each) count records per
//! key of a 6-partition input while records keep arriving; a fourth instance joins; then two
//! instances stop gracefully, one by closing its stdin and one by SIGTERM (both `close()`:
//! commit, leave the group).
//!
//! After each rebalance the test waits until every live instance is `Running` and every task
//! `0_0..0_5` is owned by exactly one of them (as the instances report it), and prints the
//! assignment. At the end every key's last count in the output must equal its true count:
//! under at-least-once a graceful hand-over commits before the tasks are revoked, so no record
//! is processed twice and none is lost.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::streams_app::{
    all_tasks, assignment, caught_up, end_offsets, last_counts, wait_settled, AppSpec, Instance,
};
use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};

const PARTITIONS: i32 = 6;
const KEYS: usize = 100;
/// Input written in chunks of this many records, one chunk every `PAUSE`.
const CHUNK: usize = 200;
const PAUSE: Duration = Duration::from_millis(100);
/// Records keep flowing this long between two changes of the group.
const BETWEEN: Duration = Duration::from_secs(3);
const SETTLE_STABLE: Duration = Duration::from_secs(2);
const SETTLE_WITHIN: Duration = Duration::from_secs(60);

fn settle(step: &str, instances: &[&Instance], since: Instant) {
    let took = wait_settled(
        instances,
        &all_tasks(PARTITIONS),
        SETTLE_STABLE,
        SETTLE_WITHIN,
    );
    eprintln!(
        "scaling: {step}: settled {:?} after the change (stable for {SETTLE_STABLE:?} at {took:?}): {}",
        since.elapsed().saturating_sub(SETTLE_STABLE),
        assignment(instances)
    );
}

#[test]
fn scale_out_and_graceful_scale_in_count_every_record_once() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_scaling") else {
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
    let input = unique_topic("streams-scale-in");
    let output = unique_topic("streams-scale-out");
    let app = unique_topic("streams-scale-app");
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
        threads: 1,
        settings: Vec::new(),
        echo: true,
        log_dir: None,
        env: Vec::new(),
    };

    // Records flow from before the first instance starts until after the last change.
    let stop = Arc::new(AtomicBool::new(false));
    let producer = rt
        .block_on(Producer::connect(ProducerConfig::new(&bootstrap)))
        .unwrap();
    let (topic, stopping) = (input.clone(), stop.clone());
    let sending = rt.spawn(async move {
        let mut n = 0usize;
        while !stopping.load(Ordering::Relaxed) {
            let mut deliveries = Vec::with_capacity(CHUNK);
            for _ in 0..CHUNK {
                let record = ProducerRecord::new(&topic)
                    .key(format!("k{}", n % KEYS))
                    .value(n.to_string());
                deliveries.push(producer.send(record).await.unwrap());
                n += 1;
            }
            for d in deliveries {
                d.await.unwrap();
            }
            tokio::time::sleep(PAUSE).await;
        }
        producer.close().await.unwrap();
        n
    });

    let changed = Instant::now();
    let i0 = Instance::start(&spec, 0, 0);
    let i1 = Instance::start(&spec, 1, 0);
    let i2 = Instance::start(&spec, 2, 0);
    settle("3 instances", &[&i0, &i1, &i2], changed);
    std::thread::sleep(BETWEEN);

    let changed = Instant::now();
    let i3 = Instance::start(&spec, 3, 0);
    settle("instance 3 joined", &[&i0, &i1, &i2, &i3], changed);
    let joined_with = i3.view().tasks;
    std::thread::sleep(BETWEEN);

    let changed = Instant::now();
    let code1 = i1.stop(Duration::from_secs(40));
    eprintln!(
        "scaling: instance 1 stopped (stdin closed) in {:?}, exit status {code1:?}",
        changed.elapsed()
    );
    settle("instance 1 left (stdin closed)", &[&i0, &i2, &i3], changed);
    std::thread::sleep(BETWEEN);

    let changed = Instant::now();
    let code2 = i2.terminate(Duration::from_secs(40));
    eprintln!(
        "scaling: instance 2 stopped (SIGTERM) in {:?}, exit status {code2:?}",
        changed.elapsed()
    );
    settle("instance 2 left (SIGTERM)", &[&i0, &i3], changed);
    std::thread::sleep(BETWEEN);

    stop.store(true, Ordering::Relaxed);
    let n = rt.block_on(sending).unwrap();
    let done = Instant::now();
    while !rt.block_on(caught_up(&admin, &app, &input, PARTITIONS)) {
        assert!(
            done.elapsed() < Duration::from_secs(60),
            "the instances did not commit the end of the input within 60 s"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut ends = rt.block_on(end_offsets(&admin, &output, PARTITIONS));
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = rt.block_on(end_offsets(&admin, &output, PARTITIONS));
        if now == ends {
            break;
        }
        ends = now;
    }
    eprintln!("scaling: final assignment: {}", assignment(&[&i0, &i3]));
    let code0 = i0.stop(Duration::from_secs(40));
    let code3 = i3.stop(Duration::from_secs(40));

    let (counts, outputs) = rt.block_on(last_counts(&bootstrap, &admin, &output, PARTITIONS));
    let truth: BTreeMap<String, i64> = (0..KEYS)
        .map(|k| {
            let count = n / KEYS + usize::from(k < n % KEYS);
            (format!("k{k}"), count as i64)
        })
        .collect();
    let below = truth
        .iter()
        .filter(|(k, t)| counts.get(*k).copied().unwrap_or(0) < **t)
        .count();
    let above = truth
        .iter()
        .filter(|(k, t)| counts.get(*k).copied().unwrap_or(0) > **t)
        .count();
    let surplus: i64 = truth
        .iter()
        .map(|(k, t)| counts.get(k).copied().unwrap_or(0) - t)
        .sum();
    eprintln!(
        "scaling: inputs {n}, output records {outputs}, keys {}, keys below {below}, keys above {above} (total difference {surplus}), exit statuses {:?}, total {:?}",
        counts.len(),
        [code0, code1, code2, code3],
        test_start.elapsed()
    );
    assert!(
        !joined_with.is_empty(),
        "the joining instance got tasks: {joined_with:?}"
    );
    assert_eq!(below, 0, "no record lost");
    assert_eq!(above, 0, "a graceful hand-over processes no record twice");
    assert_eq!(outputs, n, "one output record per input record");
    assert_eq!(
        [code0, code1, code2, code3],
        [Some(0); 4],
        "every instance stopped cleanly"
    );
}
