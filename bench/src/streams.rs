//! `bench streams-count <bootstrap> [records=1000000] [threads=1]`: the stateful count
//! topology (integration-tests' `streams_count`: count per key in an in-memory store logged to
//! its changelog, every update forwarded), at-least-once, over records already in a
//! 6-partition topic. Prints records/s from start to the moment the group's committed offsets
//! reach the input's end, the client's CPU and peak RSS (`/usr/bin/time`), and the broker's CPU
//! over the same run. Build the app first: `cargo build --release -p integration-tests --bin
//! streams_count`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};

use super::BrokerCpu;

const PARTITIONS: i32 = 6;

pub(crate) async fn run(bootstrap: &str, records: usize, threads: usize) {
    let app = format!("bench-count-{}", std::process::id());
    let input = format!("{app}-in");
    let output = format!("{app}-out");
    let admin = Admin::connect(ClientConfig::new(bootstrap))
        .await
        .expect("admin");
    for t in [&input, &output] {
        admin
            .create_topic(NewTopic::new(t, PARTITIONS, 1))
            .await
            .expect("create topic");
    }
    admin
        .wait_for_leaders(&[input.clone(), output.clone()])
        .await
        .expect("leaders");
    let mut config = ProducerConfig::new(bootstrap);
    config.set("linger.ms", "5").expect("linger.ms");
    let producer = Producer::connect(config).await.expect("producer");
    let mut window = std::collections::VecDeque::new();
    for i in 0..records {
        let r = ProducerRecord::new(&input)
            .key(format!("key-{:05}", i % 10_000))
            .value(format!("value-{i:08}"));
        window.push_back(producer.send(r).await.expect("send"));
        if window.len() >= 20_000 {
            window
                .pop_front()
                .expect("window")
                .await
                .expect("delivered");
        }
    }
    for d in window {
        d.await.expect("delivered");
    }
    producer.close().await.expect("close");

    let exe = std::env::current_exe().expect("current exe");
    let app_bin = exe.with_file_name("streams_count");
    assert!(
        app_bin.exists(),
        "build it first: cargo build --release -p integration-tests --bin streams_count"
    );
    let cpu = BrokerCpu::find(bootstrap);
    let before = cpu.ticks();
    let started = Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .args(["-f", "TIME %e %U %S %M"])
        .arg(&app_bin)
        .args([bootstrap, &app, &input, &output, &threads.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start streams_count");
    let total = records as i64;
    let caught_up = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let committed: i64 = admin
            .list_group_offsets(&app, None)
            .await
            .map(|m| m.values().map(|o| o.offset).sum())
            .unwrap_or(0);
        if committed >= total {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(600) {
            panic!("not caught up after 600 s: committed {committed} of {total}");
        }
    };
    let after = cpu.ticks();
    drop(child.stdin.take()); // closes the app
    let stderr = child.stderr.take().expect("stderr");
    let mut time_line = String::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if line.starts_with("TIME ") {
            time_line = line;
        }
    }
    let _ = child.wait();
    let f: Vec<f64> = time_line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let (user, sys, rss_kb) = (
        f.get(1).copied().unwrap_or(0.0),
        f.get(2).copied().unwrap_or(0.0),
        f.get(3).copied().unwrap_or(0.0),
    );
    let secs = caught_up.as_secs_f64();
    println!("streams count (at-least-once, {threads} thread(s), {PARTITIONS} partitions, 10000 keys, commit.interval.ms 1000)");
    println!(
        "records {records}, caught up in {secs:.2} s: {:.0} records/s",
        records as f64 / secs
    );
    println!("client CPU {:.2} s (user {user:.2} + sys {sys:.2}) for the whole run incl. close; peak RSS {:.1} MB", user + sys, rss_kb / 1024.0);
    match cpu.seconds(before, after) {
        Some(b) => println!(
            "broker CPU {b:.2} s over the same {secs:.2} s ({:.2} cores busy); {}",
            b / secs,
            cpu.describe()
        ),
        None => println!("broker CPU n/a; {}", cpu.describe()),
    }
}
