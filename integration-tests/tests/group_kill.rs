//! Group members as separate `kw -G` processes on Apache Kafka while records keep arriving:
//! one is killed with SIGKILL (its partitions move after `session.timeout.ms`), one leaves
//! with SIGTERM (commit + LeaveGroup: its partitions move at once). Every record sent is
//! counted afterwards: at-least-once means none lost (duplicates are allowed after a kill and
//! reported). Also the CLI's `-G` path itself.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, kw_binary, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};

const PARTITIONS: i32 = 12;
const N: usize = 30_000;
const SESSION_TIMEOUT_MS: u64 = 6000;

#[derive(Default)]
struct Log {
    /// (member, when, partition, offset)
    records: Vec<(usize, Instant, i32, i64)>,
    /// Partitions each member owns, from its stderr rebalance lines.
    owned: BTreeMap<usize, BTreeSet<i32>>,
}

struct KwMember {
    id: usize,
    child: Child,
}

fn parse_partitions(line: &str, topic: &str) -> Vec<i32> {
    line.split(", ")
        .filter_map(|s| s.trim().rsplit_once('-'))
        .filter(|(t, _)| t.ends_with(topic))
        .filter_map(|(_, p)| p.parse().ok())
        .collect()
}

fn start(id: usize, bootstrap: &str, group: &str, topic: &str, log: &Arc<Mutex<Log>>) -> KwMember {
    let mut child = Command::new(kw_binary())
        .args(["-b", bootstrap, "-G", group, topic, "-o", "beginning", "-u"])
        .args(["-f", "%p %o\\n"])
        .args(["-X", &format!("session.timeout.ms={SESSION_TIMEOUT_MS}")])
        .args(["-X", "heartbeat.interval.ms=500"])
        .args(["-X", "auto.commit.interval.ms=500"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kw runs");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let l = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut parts = line.split(' ');
            let (Some(p), Some(o)) = (parts.next(), parts.next()) else {
                continue;
            };
            if let (Ok(p), Ok(o)) = (p.parse(), o.parse()) {
                l.lock().unwrap().records.push((id, Instant::now(), p, o));
            }
        }
    });
    let l = log.clone();
    let topic = topic.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("[member {id}] {line}");
            let mut log = l.lock().unwrap();
            let owned = log.owned.entry(id).or_default();
            if let Some(rest) = line.split("assigned ").nth(1) {
                owned.extend(parse_partitions(rest, &topic));
            } else if let Some(rest) = line.split("revoked ").nth(1).or(line.split("lost ").nth(1))
            {
                for p in parse_partitions(rest, &topic) {
                    owned.remove(&p);
                }
            }
        }
    });
    KwMember { id, child }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Wait until the given members own all partitions between them.
fn wait_owned(log: &Arc<Mutex<Log>>, members: &[usize], within: Duration) {
    let start = Instant::now();
    loop {
        {
            let log = log.lock().unwrap();
            let mut all = BTreeSet::new();
            let mut total = 0;
            for m in members {
                let o = log.owned.get(m).cloned().unwrap_or_default();
                total += o.len();
                all.extend(o);
            }
            if all.len() == PARTITIONS as usize && total == PARTITIONS as usize {
                return;
            }
        }
        assert!(
            start.elapsed() < within,
            "members {members:?} never owned everything"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Time from `since` to the first record of `partitions` printed by another member than
/// `gone`, after `since`.
fn takeover(
    log: &Arc<Mutex<Log>>,
    gone: usize,
    partitions: &BTreeSet<i32>,
    since: Instant,
    within: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        {
            let log = log.lock().unwrap();
            if let Some((_, at, _, _)) = log
                .records
                .iter()
                .find(|(m, at, p, _)| *m != gone && *at > since && partitions.contains(p))
            {
                return *at - since;
            }
        }
        assert!(
            start.elapsed() < within,
            "partitions {partitions:?} of member {gone} never consumed again"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_graceful_leave_lose_nothing() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("group_kill") else {
        return;
    };
    integration_tests::init_logging();
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("group-kill");
    let group = unique_topic("g-kill");
    create_ready_topic(&admin, NewTopic::new(&topic, PARTITIONS, 1)).await;

    let log = Arc::new(Mutex::new(Log::default()));
    let mut members: Vec<KwMember> = (0..3)
        .map(|i| start(i, &bootstrap, &group, &topic, &log))
        .collect();
    wait_owned(&log, &[0, 1, 2], Duration::from_secs(30));

    // A producer that keeps sending for the whole test (~15 s).
    let producer = Producer::connect(ProducerConfig::new(&bootstrap))
        .await
        .unwrap();
    let t = topic.clone();
    let sending = tokio::spawn(async move {
        let mut deliveries = Vec::new();
        for i in 0..N {
            let record = ProducerRecord::new(&t)
                .partition((i % PARTITIONS as usize) as i32)
                .value(i.to_string());
            deliveries.push(producer.send(record).await.unwrap());
            if i % 1000 == 999 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        for d in deliveries {
            d.await.unwrap();
        }
        producer.close().await.unwrap();
    });
    tokio::time::sleep(Duration::from_secs(3)).await;

    // SIGKILL member 1.
    let victim = members.remove(1);
    let victim_parts = log
        .lock()
        .unwrap()
        .owned
        .get(&victim.id)
        .cloned()
        .unwrap_or_default();
    let killed_at = Instant::now();
    signal(&victim.child, "-KILL");
    let kill_takeover = takeover(
        &log,
        victim.id,
        &victim_parts,
        killed_at,
        Duration::from_secs(40),
    );
    println!(
        "SIGKILL: member {} ({} partitions) killed; its partitions consumed again after {:?} (session.timeout.ms={SESSION_TIMEOUT_MS})",
        victim.id,
        victim_parts.len(),
        kill_takeover
    );
    wait_owned(&log, &[0, 2], Duration::from_secs(30));

    // Graceful leave of member 2 (SIGTERM: commit, LeaveGroup).
    let leaver = members.remove(1);
    let leaver_parts = log
        .lock()
        .unwrap()
        .owned
        .get(&leaver.id)
        .cloned()
        .unwrap_or_default();
    let left_at = Instant::now();
    signal(&leaver.child, "-TERM");
    let leave_takeover = takeover(
        &log,
        leaver.id,
        &leaver_parts,
        left_at,
        Duration::from_secs(30),
    );
    println!(
        "graceful leave: member {} ({} partitions) sent SIGTERM; its partitions consumed again after {:?}",
        leaver.id,
        leaver_parts.len(),
        leave_takeover
    );

    sending.await.unwrap();
    // Wait until member 0 has consumed everything.
    let start_wait = Instant::now();
    loop {
        let distinct: BTreeSet<(i32, i64)> = log
            .lock()
            .unwrap()
            .records
            .iter()
            .map(|r| (r.2, r.3))
            .collect();
        if distinct.len() >= N || start_wait.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for m in &members {
        signal(&m.child, "-TERM");
    }
    for mut m in members.into_iter().chain([victim, leaver]) {
        let _ = m.child.wait();
    }
    let log = log.lock().unwrap();
    let mut by: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for r in &log.records {
        *by.entry((r.2, r.3)).or_default() += 1;
    }
    let consumed = log.records.len();
    let duplicates = consumed - by.len();
    let lost = N.saturating_sub(by.len());
    println!("group kill test: sent {N}, consumed {consumed}, distinct {}, duplicates {duplicates}, lost {lost}", by.len());
    assert_eq!(lost, 0, "at-least-once: nothing lost");
    assert!(kill_takeover < Duration::from_millis(SESSION_TIMEOUT_MS + 8000));
    assert!(
        leave_takeover < Duration::from_secs(5),
        "a graceful leave moves partitions at once"
    );
}
