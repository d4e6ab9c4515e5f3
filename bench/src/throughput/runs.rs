//! One measured run: the peers' commands, the child process, its CPU, RSS and output.

use super::*;

/// Where the Java and Quix programs are, found once.
pub(super) struct Peers {
    pub(super) java_classpath: Option<String>,
    pub(super) quix_python: Option<String>,
}

pub(super) fn script_output(script: &Path, arg: &str) -> Result<String, String> {
    let out = Command::new(script)
        .arg(arg)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} {arg} failed", script.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub(super) fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Everything one run needs to know.
pub(super) struct RunSpec<'a> {
    pub(super) side: Side,
    pub(super) topo: Topo,
    pub(super) shape: Shape,
    pub(super) guarantee: Guarantee,
    pub(super) app: String,
    pub(super) input_topic: &'a str,
    /// The `join` topology's table topic.
    pub(super) table_topic: &'a str,
    pub(super) expected: Arc<Expected>,
    pub(super) work_dir: &'a Path,
    pub(super) perf: Option<&'a Path>,
}

/// The commands to start (one, or one per thread for Quix).
pub(super) fn commands(
    o: &Options,
    peers: &Peers,
    spec: &RunSpec<'_>,
    output: &str,
) -> Vec<Command> {
    let state = spec.work_dir.join(format!("{}-state", spec.app));
    let threads = spec.shape.threads;
    match spec.side {
        Side::Ours => {
            let exe = std::env::current_exe().expect("current exe");
            let mut c = crate::measure::ours_command(&exe);
            c.arg("streams-throughput-child").args([
                spec.topo.name(),
                &o.bootstrap,
                &spec.app,
                spec.input_topic,
                output,
                &threads.to_string(),
                spec.guarantee.kafka(),
                &state.display().to_string(),
                &o.store,
                &spec.shape.partitions.to_string(),
                spec.table_topic,
            ]);
            vec![c]
        }
        Side::Java => {
            let mut c = Command::new("java");
            if o.java_xmx != "default" {
                c.arg(format!("-Xmx{}", o.java_xmx));
            }
            c.args([
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                peers.java_classpath.as_deref().expect("java classpath"),
                "StreamsThroughputBench",
                "--bootstrap",
                &o.bootstrap,
                "--app",
                &spec.app,
                "--topology",
                spec.topo.name(),
                "--input",
                spec.input_topic,
                "--output",
                output,
                "--threads",
                &threads.to_string(),
                "--guarantee",
                spec.guarantee.kafka(),
                "--cache-bytes",
                &CACHE_BYTES.to_string(),
                "--commit-ms",
                &COMMIT_MS.to_string(),
                "--state-dir",
                &state.display().to_string(),
            ]);
            if spec.topo == Topo::Join {
                c.args(["--table", spec.table_topic]);
            }
            vec![c]
        }
        Side::Quix => (0..threads)
            .map(|i| {
                let mut c = Command::new(peers.quix_python.as_deref().expect("quix python"));
                c.arg(bench_dir().join("quix/streams_bench.py")).args([
                    "--bootstrap",
                    &o.bootstrap,
                    "--app",
                    &spec.app,
                    "--topology",
                    spec.topo.name(),
                    "--input",
                    spec.input_topic,
                    "--output",
                    output,
                    "--guarantee",
                    spec.guarantee.quix(),
                    "--commit-s",
                    &format!("{}", COMMIT_MS as f64 / 1000.0),
                    "--state-dir",
                    &state.join(i.to_string()).display().to_string(),
                ]);
                c
            })
            .collect(),
    }
}

pub(super) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Delete the run's topics (output, and every topic named after the application).
pub(super) async fn cleanup(admin: &Admin, app: &str, output: &str) {
    let Ok(topics) = admin.list_topics().await else {
        return;
    };
    let mine: Vec<&str> = topics
        .iter()
        .filter(|t| t.contains(app) || t.as_str() == output)
        .map(String::as_str)
        .collect();
    if !mine.is_empty() {
        let _ = admin.delete_topics(&mine).await;
    }
}

/// Close the children's stdin, give them `grace` to close, then kill what is left.
pub(super) fn stop_children(children: &mut [Child], grace: Duration) {
    for c in children.iter_mut() {
        drop(c.stdin.take());
    }
    let until = Instant::now() + grace;
    for c in children.iter_mut() {
        loop {
            match c.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
            }
        }
    }
}

pub(super) async fn run_one(
    o: &Options,
    peers: &Peers,
    admin: &Admin,
    broker: &BrokerCpu,
    spec: &RunSpec<'_>,
) -> Result<Measure, String> {
    let output = format!("{}-out", spec.app);
    admin
        .create_topic(NewTopic::new(&output, spec.shape.partitions, 1))
        .await
        .map_err(|e| format!("create {output}: {e}"))?;
    admin
        .wait_for_leaders(std::slice::from_ref(&output))
        .await
        .map_err(|e| format!("leaders of {output}: {e}"))?;
    let progress = Arc::new(Mutex::new(Progress::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(read_output(
        o.bootstrap.clone(),
        output.clone(),
        spec.shape.partitions,
        spec.expected.clone(),
        progress.clone(),
        stop.clone(),
        ready_tx,
    ));
    ready_rx
        .await
        .map_err(|_| "the output reader did not start".to_string())?;
    let first_commit = Arc::new(Mutex::new(None));
    let commit_admin = Admin::connect(ClientConfig::new(&o.bootstrap))
        .await
        .map_err(|e| format!("admin: {e}"))?;
    let watcher = tokio::spawn(watch_first_commit(
        commit_admin,
        spec.app.clone(),
        first_commit.clone(),
        stop.clone(),
    ));

    let log = spec.work_dir.join(&spec.app);
    let mut children = Vec::new();
    let broker_before = broker.ticks();
    let machine_before = machine_busy_ticks();
    let self_before = crate::broker::cpu_ticks(std::process::id());
    let started = Instant::now();
    for (i, mut cmd) in commands(o, peers, spec, &output).into_iter().enumerate() {
        let out = std::fs::File::create(log.with_extension(format!("{i}.out")))
            .map_err(|e| format!("log: {e}"))?;
        let err = std::fs::File::create(log.with_extension(format!("{i}.err")))
            .map_err(|e| format!("log: {e}"))?;
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawn {:?}: {e}", cmd.get_program()))?;
        children.push(child);
    }
    let mut perf: Option<Child> = None;
    let timeout = o.timeout.mul_f64((o.lines as f64 / 200_000.0).max(0.25));
    let result = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        // perf attaches once the stream threads exist (it follows no thread created later):
        // at the first commit.
        if let (Some(file), None) = (spec.perf, &perf) {
            if first_commit.lock().expect("first commit").is_some() {
                perf = Some(
                    Command::new("perf")
                        .args(["record", "-g", "-q", "-o"])
                        .arg(file)
                        .args(["-p", &children[0].id().to_string()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("perf record (is /usr/bin/perf installed?)"),
                );
            }
        }
        let (done, error) = {
            let p = progress.lock().expect("progress");
            (p.done, p.error.clone())
        };
        if let Some(done) = done {
            let cpu: Option<u64> = children
                .iter()
                .map(|c| crate::broker::cpu_ticks(c.id()))
                .sum();
            let rss: Option<u64> = children.iter().map(|c| peak_rss_kb(c.id())).sum();
            let broker_after = broker.ticks();
            let machine = machine_busy_ticks()
                .zip(machine_before)
                .map(|(a, b)| a.saturating_sub(b));
            let own = crate::broker::cpu_ticks(std::process::id())
                .zip(self_before)
                .map(|(a, b)| a.saturating_sub(b));
            let broker_used = broker_after
                .zip(broker_before)
                .map(|(a, b)| a.saturating_sub(b));
            let other = (|| Some(machine?.saturating_sub(cpu? + own? + broker_used?)))()
                .map(|t| t as f64 / broker.ticks_per_second);
            let p = progress.lock().expect("progress");
            let since = |t: Instant| t.saturating_duration_since(started).as_secs_f64();
            let startup = *first_commit.lock().expect("first commit");
            break Ok(Measure {
                wall: since(done),
                startup: startup.map(since),
                first_output: p.first_output.map(since),
                cpu: cpu.map(|t| t as f64 / broker.ticks_per_second),
                rss_mb: rss.map(|kb| kb as f64 / 1024.0),
                broker_cpu: broker.seconds(broker_before, broker_after),
                other_cpu: other,
                out_records: p.records,
            });
        }
        if let Some(e) = error {
            break Err(e);
        }
        if let Some((i, status)) = children
            .iter_mut()
            .enumerate()
            .find_map(|(i, c)| c.try_wait().ok().flatten().map(|s| (i, s)))
        {
            break Err(format!(
                "process {i} exited ({status}) before the output was complete; stderr:\n{}",
                tail(&log.with_extension(format!("{i}.err")), 15)
            ));
        }
        if started.elapsed() > timeout {
            let p = progress.lock().expect("progress");
            break Err(format!(
                "timed out after {:?}: {} output records read",
                timeout, p.records
            ));
        }
    };
    if let Some(mut perf) = perf {
        // SIGINT makes perf write its file and exit.
        let _ = Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
    }
    stop.store(true, Ordering::Relaxed);
    stop_children(&mut children, Duration::from_secs(20));
    let _ = reader.await;
    let _ = watcher.await;
    cleanup(admin, &spec.app, &output).await;
    let _ = std::fs::remove_dir_all(spec.work_dir.join(format!("{}-state", spec.app)));
    // Diagnostics: BENCH_KEEP_LOGS=1 keeps the logs of runs that succeeded too.
    if result.is_ok() && std::env::var_os("BENCH_KEEP_LOGS").is_none() {
        for i in 0..children.len() {
            let _ = std::fs::remove_file(log.with_extension(format!("{i}.out")));
            let _ = std::fs::remove_file(log.with_extension(format!("{i}.err")));
        }
    }
    result
}

// ---- the tables ---------------------------------------------------------------------------------
