//! `bench streams-pageview [bootstrap] [--views N] [--rounds R] [--demos typed,untyped]`: Kafka's
//! PageView demos under their real load — every page view counted in Kafka's own 7-day
//! windows advancing by 1 second, 604 800 window updates per view, each written to the output
//! (the demos turn the record cache off) — ours (`streams-dsl/examples/pageview_*`, release
//! build) against Java's (kafka-streams-examples 4.3.1 on Kafka Streams 4.4.0, through
//! `integration-tests/peers/DemoTwins.java`; `bench/java/run-demo-bench`), on the same broker,
//! interleaved (ours, java, ours, java, ...).
//!
//! Each run starts from a clean slate: the demo's group, input, output and
//! `<application.id>-…` topics deleted and created again (one partition, as the demos'
//! quickstart), the input written (two user profiles, then `views` page views a second
//! apart, alternating between the two users), a fresh state directory. Measured from spawning
//! the application until the output holds `views × 604 800` records: the wall time, page
//! views/s and window updates (output records)/s, the application's CPU seconds (user+sys,
//! `/proc/<pid>/stat`) and peak RSS (`VmHWM`) at that moment, and the broker's CPU over the
//! same interval. Then the application is stopped with SIGTERM.
//!
//! Build our examples first: `cargo build --release -p streams-dsl --examples`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;

use crate::measure::{fmt, median, ours_command, peak_rss_kb, ratio};
use crate::BrokerCpu;

/// The windows one page view updates: 7 days advancing by 1 second.
const WINDOWS_PER_VIEW: i64 = 7 * 24 * 60 * 60;
/// 2023-11-14T22:13:20Z: fixed times.
const BASE_TS: i64 = 1_700_000_000_000;
const PAGEVIEWS: &str = "streams-pageview-input";
const PROFILES: &str = "streams-userprofile-input";

/// One of Kafka's two page-view demos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Demo {
    /// Our example's name.
    example: &'static str,
    /// `DemoTwins`' mode.
    twin: &'static str,
    app: &'static str,
    output: &'static str,
}

const DEMOS: [Demo; 2] = [
    Demo {
        example: "pageview_typed",
        twin: "pageview-typed",
        app: "streams-pageview-typed",
        output: "streams-pageviewstats-typed-output",
    },
    Demo {
        example: "pageview_untyped",
        twin: "pageview-untyped",
        app: "streams-pageview-untyped",
        output: "streams-pageviewstats-untyped-output",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Java,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Java => "java",
        }
    }
}

struct Options {
    bootstrap: String,
    views: i64,
    rounds: usize,
    demos: Vec<Demo>,
    sides: Vec<Side>,
    timeout: Duration,
}

const USAGE: &str = "usage: bench streams-pageview [bootstrap=127.0.0.1:19092] [--views 4] [--rounds 2] [--demos typed,untyped] [--sides ours,java] [--timeout-s 600]";

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        bootstrap: "127.0.0.1:19092".into(),
        views: 4,
        rounds: 2,
        demos: DEMOS.to_vec(),
        sides: vec![Side::Ours, Side::Java],
        timeout: Duration::from_secs(600),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if !a.starts_with("--") {
            o.bootstrap = a.clone();
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        let number = || v.parse::<u64>().map_err(|_| format!("{a} {v}: a number"));
        match a.as_str() {
            "--views" => o.views = number()?.max(1) as i64,
            "--rounds" => o.rounds = number()?.max(1) as usize,
            "--timeout-s" => o.timeout = Duration::from_secs(number()?),
            "--demos" => {
                o.demos = v
                    .split(',')
                    .map(|d| {
                        DEMOS
                            .iter()
                            .find(|demo| demo.example == format!("pageview_{d}"))
                            .copied()
                            .ok_or_else(|| format!("unknown demo {d:?}: typed or untyped"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--sides" => {
                o.sides = v
                    .split(',')
                    .map(|s| match s {
                        "ours" => Ok(Side::Ours),
                        "java" => Ok(Side::Java),
                        _ => Err(format!("unknown side {s:?}: ours or java")),
                    })
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// The demos' input: two profiles, then `views` page views a second apart.
fn input(views: i64) -> Vec<(&'static str, String, String, i64)> {
    let mut records = vec![
        (
            PROFILES,
            "alice".to_owned(),
            format!(r#"{{"_t":"up","region":"europe","timestamp":{BASE_TS}}}"#),
            BASE_TS,
        ),
        (
            PROFILES,
            "bob".to_owned(),
            format!(r#"{{"_t":"up","region":"asia","timestamp":{BASE_TS}}}"#),
            BASE_TS,
        ),
    ];
    for i in 0..views {
        let user = if i % 2 == 0 { "alice" } else { "bob" };
        let ts = BASE_TS + 1_000 * (i + 1);
        records.push((
            PAGEVIEWS,
            user.to_owned(),
            format!(r#"{{"_t":"pv","user":"{user}","page":"/page{i}","timestamp":{ts}}}"#),
            ts,
        ));
    }
    records
}

async fn end_offset(admin: &Admin, topic: &str) -> i64 {
    let tp = TopicPartition::new(topic, 0);
    admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
        .await
        .ok()
        .and_then(|m| m.get(&tp).map(|o| o.offset))
        .unwrap_or(0)
}

/// Delete `demo`'s group and topics; create its topics; write the input.
async fn reset(o: &Options, admin: &Admin, demo: &Demo) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match admin.delete_groups(&[demo.app]).await {
            Ok(()) => break,
            Err(e) if e.to_string().contains("GROUP_ID_NOT_FOUND") => break,
            Err(e) if Instant::now() < deadline => {
                eprintln!("deleting group {}: {e}; retrying", demo.app);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(format!("deleting group {}: {e}", demo.app)),
        }
    }
    let fresh = [PAGEVIEWS, PROFILES, demo.output];
    let topics = admin.list_topics().await.map_err(|e| e.to_string())?;
    let doomed: Vec<&str> = topics
        .iter()
        .map(String::as_str)
        .filter(|t| fresh.contains(t) || t.starts_with(&format!("{}-", demo.app)))
        .collect();
    if !doomed.is_empty() {
        admin
            .delete_topics(&doomed)
            .await
            .map_err(|e| format!("deleting {doomed:?}: {e}"))?;
    }
    for name in fresh {
        loop {
            let topic = NewTopic::new(name, 1, 1).config("retention.ms", "-1");
            match admin.create_topic(topic).await {
                Ok(()) => break,
                // Still being deleted.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(300)).await
                }
                Err(e) => return Err(format!("creating {name}: {e}")),
            }
        }
    }
    let names: Vec<String> = fresh.iter().map(|t| (*t).to_owned()).collect();
    admin
        .wait_for_leaders(&names)
        .await
        .map_err(|e| e.to_string())?;
    let producer = Producer::connect(ProducerConfig::new(&o.bootstrap))
        .await
        .map_err(|e| e.to_string())?;
    let mut deliveries = Vec::new();
    for (topic, key, value, ts) in input(o.views) {
        let record = ProducerRecord::new(topic)
            .partition(0)
            .timestamp(ts)
            .key(key)
            .value(value);
        deliveries.push(producer.send(record).await.map_err(|e| e.to_string())?);
    }
    for d in deliveries {
        d.await.map_err(|e| e.to_string())?;
    }
    producer.close().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// One run's figures.
#[derive(Debug, Clone, Copy)]
struct Measure {
    wall: f64,
    cpu: Option<f64>,
    rss_mb: Option<f64>,
    broker_cpu: Option<f64>,
}

/// Where the two sides' programs are, and where runs keep their state.
struct Programs {
    /// The Java demos' classpath (`bench/java/run-demo-bench classpath`).
    java_classpath: String,
    /// Our examples' directory (`target/release/examples`).
    examples: PathBuf,
    /// Parent of the runs' state directories.
    work: PathBuf,
}

fn spawn(
    o: &Options,
    side: Side,
    demo: &Demo,
    programs: &Programs,
    state: &Path,
) -> Result<Child, String> {
    let (java_cp, examples) = (programs.java_classpath.as_str(), &programs.examples);
    let mut cmd = match side {
        Side::Ours => {
            let mut c = ours_command(&examples.join(demo.example));
            c.arg(&o.bootstrap).env("STATE_DIR", state);
            c
        }
        Side::Java => {
            let props = state.with_extension("properties");
            std::fs::write(
                &props,
                format!(
                    "bootstrap.servers={}\nstate.dir={}\n",
                    o.bootstrap,
                    state.display()
                ),
            )
            .map_err(|e| format!("{}: {e}", props.display()))?;
            let mut c = Command::new("java");
            c.args([
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                java_cp,
                "DemoTwins",
                demo.twin,
            ])
            .arg(&props);
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {:?}: {e}", cmd.get_program()))
}

async fn run_one(
    o: &Options,
    admin: &Admin,
    broker: &BrokerCpu,
    side: Side,
    demo: &Demo,
    programs: &Programs,
) -> Result<Measure, String> {
    reset(o, admin, demo).await?;
    let state = programs.work.join(format!("{}-{}", demo.app, side.name()));
    let _ = std::fs::remove_dir_all(&state);
    let expected = o.views * WINDOWS_PER_VIEW;
    let broker_before = broker.ticks();
    let started = Instant::now();
    let mut child = spawn(o, side, demo, programs, &state)?;
    let pid = child.id();
    let result = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = end_offset(admin, demo.output).await;
        if n >= expected {
            let wall = started.elapsed().as_secs_f64();
            break Ok(Measure {
                wall,
                cpu: crate::broker::cpu_ticks(pid).map(|t| t as f64 / broker.ticks_per_second),
                rss_mb: peak_rss_kb(pid).map(|kb| kb as f64 / 1024.0),
                broker_cpu: broker.seconds(broker_before, broker.ticks()),
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            let tail: Vec<&str> = err.lines().rev().take(15).collect();
            break Err(format!(
                "{} exited ({status}) with {n} of {expected} output records:\n{}",
                side.name(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        if started.elapsed() > o.timeout {
            break Err(format!(
                "timed out after {:?} with {n} of {expected} output records",
                o.timeout
            ));
        }
    };
    // SIGTERM, as the demos are stopped; then kill what is left.
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until && matches!(child.try_wait(), Ok(None)) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&state);
    result
}

fn print_row(o: &Options, side: &str, round: &str, m: &Measure) {
    let updates = (o.views * WINDOWS_PER_VIEW) as f64;
    println!(
        "{:<5} {:>5} {:>8.2} {:>8.3} {:>12.0} {:>7} {:>7} {:>14}",
        side,
        round,
        m.wall,
        o.views as f64 / m.wall,
        updates / m.wall,
        fmt(m.cpu, 2),
        fmt(m.rss_mb, 0),
        m.broker_cpu
            .map_or("n/a".into(), |b| format!("{b:.2} ({:.2}c)", b / m.wall)),
    );
}

/// Medians of one side's runs.
fn medians(runs: &[Measure]) -> Option<Measure> {
    let of = |f: fn(&Measure) -> Option<f64>| median(runs.iter().filter_map(f).collect());
    Some(Measure {
        wall: median(runs.iter().map(|m| m.wall).collect())?,
        cpu: of(|m| m.cpu),
        rss_mb: of(|m| m.rss_mb),
        broker_cpu: of(|m| m.broker_cpu),
    })
}

pub(crate) async fn run(args: &[String]) {
    let o = match parse_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench streams-pageview: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let bench_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let java_classpath = Command::new(bench_dir.join("java/run-demo-bench"))
        .arg("classpath")
        .stderr(Stdio::inherit())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| panic!("bench/java/run-demo-bench classpath failed"));
    let examples = std::env::current_exe()
        .expect("current exe")
        .with_file_name("examples");
    for demo in &o.demos {
        assert!(
            examples.join(demo.example).exists(),
            "build our examples first: cargo build --release -p streams-dsl --examples"
        );
    }
    let admin = Admin::connect(ClientConfig::new(&o.bootstrap))
        .await
        .expect("admin");
    let broker = BrokerCpu::find(&o.bootstrap);
    let work = std::env::temp_dir().join(format!("bench-pageview-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let programs = Programs {
        java_classpath,
        examples,
        work,
    };
    println!(
        "streams-pageview: {} page views per run ({} window updates, every one an output record), {} rounds, ours vs Java interleaved; {}; {} cores",
        o.views,
        o.views * WINDOWS_PER_VIEW,
        o.rounds,
        broker.describe(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("columns: wall = spawn to the output holding every window update; views/s and updates/s = input page views and output records / wall; CPU s and RSS MB = the application's user+sys seconds and peak RSS when done; broker CPU s (cores busy)");
    for demo in &o.demos {
        let mut runs: Vec<(Side, Result<Measure, String>)> = Vec::new();
        for round in 0..o.rounds {
            for side in o.sides.clone() {
                let r = run_one(&o, &admin, &broker, side, demo, &programs).await;
                match &r {
                    Ok(m) => eprintln!(
                        "{} round {round} {}: {:.2} s",
                        demo.example,
                        side.name(),
                        m.wall
                    ),
                    Err(e) => {
                        eprintln!("{} round {round} {}: FAILED {e}", demo.example, side.name())
                    }
                }
                runs.push((side, r));
            }
        }
        println!("\n== {} ({}) ==", demo.example, demo.app);
        println!(
            "{:<5} {:>5} {:>8} {:>8} {:>12} {:>7} {:>7} {:>14}",
            "side", "round", "wall s", "views/s", "updates/s", "CPU s", "RSS MB", "broker CPU s"
        );
        let mut med = Vec::new();
        for side in [Side::Ours, Side::Java] {
            let mut ok = Vec::new();
            for (i, (_, r)) in runs.iter().filter(|(s, _)| *s == side).enumerate() {
                match r {
                    Ok(m) => {
                        print_row(&o, side.name(), &i.to_string(), m);
                        ok.push(*m);
                    }
                    Err(e) => println!(
                        "{:<5} {:>5} failed: {}",
                        side.name(),
                        i,
                        e.lines().next().unwrap_or("")
                    ),
                }
            }
            let m = medians(&ok);
            if let Some(m) = &m {
                print_row(&o, side.name(), "med", m);
            }
            med.push(m);
        }
        if let [Some(ours), Some(java)] = med.as_slice() {
            println!(
                "ours/java: {}x updates/s, {}x CPU s, {}x peak RSS",
                fmt(ratio(Some(java.wall), Some(ours.wall)), 2),
                fmt(ratio(ours.cpu, java.cpu), 2),
                fmt(ratio(ours.rss_mb, java.rss_mb), 2)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&programs.work);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_input() {
        let o = parse_options(&[]).unwrap();
        assert_eq!((o.views, o.rounds, o.demos.len()), (4, 2, 2));
        let args: Vec<String> = ["h:1", "--views", "2", "--demos", "untyped"]
            .map(String::from)
            .to_vec();
        let o = parse_options(&args).unwrap();
        assert_eq!((o.bootstrap.as_str(), o.views), ("h:1", 2));
        assert_eq!(o.demos, [DEMOS[1]]);
        assert!(parse_options(&["--demos".into(), "both".into()]).is_err());
        let records = input(3);
        assert_eq!(records.len(), 5);
        assert_eq!(records[4].1, "alice");
        assert_eq!(records[4].3, BASE_TS + 3_000);
    }
}
