//! The `kw` CLI (kcat's flags) against Apache Kafka: produce, consume with a format and as
//! JSON, metadata, offsets for a time, and the failure paths (bad flags, unreachable broker);
//! binary input kept byte for byte, multi-byte delimiters, `-Z`, `-O`, `-T`, `-l`, `-G -e`,
//! configuration files (`-F`, `KCAT_CONFIG`) and the mode chosen from stdin.
//! `scripts/test` builds the binary first (`cargo build -p kafka-wire --features cli --bin kw`).

use std::io::Write;
use std::process::{Command, Stdio};

use integration_tests::{unique_topic, Broker};

fn kw() -> std::path::PathBuf {
    integration_tests::kw_binary()
}

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let (code, out, err) = run_bytes(args, stdin.as_bytes(), &[]);
    (code, String::from_utf8_lossy(&out).into_owned(), err)
}

/// Run `kw` with `stdin` as raw bytes and extra environment variables (`HOME` is pointed at
/// an empty directory unless given, so a developer's `~/.config/kcat.conf` never interferes);
/// stdout comes back unconverted. A run longer than 60 s is killed and fails the test.
fn run_bytes(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> (i32, Vec<u8>, String) {
    let mut cmd = Command::new(kw());
    cmd.args(args)
        .env("HOME", std::env::temp_dir().join("kw-cli-test-no-home"))
        .env_remove("KCAT_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_err()
        {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = done_tx.send(());
    let _ = (writer.join(), watchdog.join());
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Everything in `topic` from the beginning, printed with `extra` flags.
fn consume_all(b: &str, topic: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["-b", b, "-C", "-t", topic, "-o", "beginning", "-e", "-q"];
    args.extend_from_slice(extra);
    let (code, out, err) = run_bytes(&args, b"", &[]);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn kcat_style_session() {
    let Some(b) = Broker::Kafka.bootstrap("kcat_style_session") else {
        return;
    };
    let topic = unique_topic("kw");
    let (code, _, err) = run(
        &[
            "-b", &b, "-P", "-t", &topic, "-K:", "-z", "zstd", "-H", "src=kw",
        ],
        "k1:v1\nk2:v2\nk3:v3\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(
        &[
            "-b",
            &b,
            "-C",
            "-t",
            &topic,
            "-o",
            "beginning",
            "-e",
            "-f",
            "%k=%s %o %h\\n",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "k1=v1 0 src=kw\nk2=v2 1 src=kw\nk3=v3 2 src=kw\n");
    let (_, out, _) = run(&["-b", &b, "-C", "-t", &topic, "-o", "-1", "-e", "-J"], "");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (
            v["key"].as_str(),
            v["payload"].as_str(),
            v["offset"].as_i64()
        ),
        (Some("k3"), Some("v3"), Some(2))
    );
    let (_, out, _) = run(
        &["-b", &b, "-C", "-t", &topic, "-c", "2", "-o", "beginning"],
        "",
    );
    assert_eq!(out, "v1\nv2\n");
    let (code, out, _) = run(&["-b", &b, "-L", "-t", &topic, "-J"], "");
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["topics"][0]["topic"].as_str(), Some(topic.as_str()));
    let (code, out, _) = run(&["-b", &b, "-Q", "-t", &format!("{topic}:0:0")], "");
    assert_eq!(code, 0);
    assert!(out.contains("offset 0"), "{out}");
}

#[test]
fn failures_are_one_line_and_non_zero() {
    let (code, _, err) = run(&["-b", "127.0.0.1:1", "-L", "-m", "2"], "");
    assert_eq!(code, 1);
    assert!(err.starts_with("% ERROR: no broker is reachable"), "{err}");
    let (code, _, err) = run(&["-b", "x", "-C"], "");
    assert_eq!(code, 1);
    assert!(err.contains("-t <topic>"), "{err}");
    let (code, _, err) = run(&["-b", "x", "-Y"], "");
    assert_eq!(code, 1);
    assert!(err.contains("unknown option -Y"), "{err}");
    let (code, _, err) = run(&["-b", "127.0.0.1:1", "-G", "grp", "t", "-m", "2"], "");
    assert_eq!(code, 1);
    assert!(err.starts_with("% ERROR: no broker is reachable"), "{err}");
    // The Event Hubs profile derives NAMESPACE:9093 and never prints the key.
    let (code, _, err) = run(
        &[
            "--event-hubs",
            "Endpoint=sb://127.0.0.1/;SharedAccessKeyName=send;SharedAccessKey=s3cret-key",
            "-L",
            "-m",
            "2",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("127.0.0.1:9093"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let (code, _, err) = run(&["-b", "x", "-G", "grp", "t", "-o", "5"], "");
    assert_eq!(code, 1);
    assert!(
        err.contains("-o can only be beginning, end or stored"),
        "{err}"
    );
}

#[test]
fn binary_input_round_trips_unchanged() {
    let Some(b) = Broker::Kafka.bootstrap("binary_input_round_trips_unchanged") else {
        return;
    };
    let topic = unique_topic("kw-bin");
    // Invalid UTF-8, NUL, a lone continuation byte, CR: all kept (kcat keeps them too).
    let input: &[u8] = b"\xff\xfe\x00\n\x80\x81\x82\n\xc3\x28 plain\r\nlast-without-newline";
    let (code, _, err) = run_bytes(&["-b", &b, "-P", "-t", &topic], input, &[]);
    assert_eq!(code, 0, "{err}");
    let out = consume_all(&b, &topic, &[]);
    assert_eq!(
        out,
        b"\xff\xfe\x00\n\x80\x81\x82\n\xc3\x28 plain\r\nlast-without-newline\n"
    );
    // The length of each value as stored: no replacement characters.
    let out = consume_all(&b, &topic, &["-f", "%S,"]);
    assert_eq!(out, b"3,3,9,20,");
}

#[test]
fn multi_byte_delimiters() {
    let Some(b) = Broker::Kafka.bootstrap("multi_byte_delimiters") else {
        return;
    };
    let topic = unique_topic("kw-delim");
    let (code, _, err) = run_bytes(
        &["-b", &b, "-P", "-t", &topic, "-D", ";;", "-K", "::"],
        b"k1::v1;;k2::a;b:c;;;;\\x::y",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let out = consume_all(&b, &topic, &["-f", "%k=%s|"]);
    assert_eq!(out, b"k1=v1|k2=a;b:c|\\x=y|");
    // Output delimiters are multi-byte too, with \xNN escapes.
    let out = consume_all(&b, &topic, &["-K", "\\x00\\x01", "-D", "<>"]);
    assert_eq!(out, b"k1\x00\x01v1<>k2\x00\x01a;b:c<>\\x\x00\x01y<>");
}

#[test]
fn empty_is_null_with_z() {
    let Some(b) = Broker::Kafka.bootstrap("empty_is_null_with_z") else {
        return;
    };
    let topic = unique_topic("kw-null");
    let (code, _, err) = run_bytes(
        &["-b", &b, "-P", "-t", &topic, "-K", ":", "-Z"],
        b"k:\n:v\n:\nplain\n",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let out = consume_all(&b, &topic, &["-f", "%K %S\\n"]);
    assert_eq!(out, b"1 -1\n-1 1\n-1 -1\n-1 5\n");
    let out = consume_all(&b, &topic, &["-K", ":", "-Z"]);
    assert_eq!(out, b"k:NULL\nNULL:v\nNULL:NULL\nNULL:plain\n");
    // Without -Z a NULL prints as nothing; with -J it is always null.
    let out = consume_all(&b, &topic, &["-K", ":"]);
    assert_eq!(out, b"k:\n:v\n:\n:plain\n");
    let out = consume_all(&b, &topic, &["-J", "-c", "1"]);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        (v["key"].as_str(), v["payload"].is_null()),
        (Some("k"), true)
    );
}

#[test]
fn offsets_tee_count_and_files() {
    let Some(b) = Broker::Kafka.bootstrap("offsets_tee_count_and_files") else {
        return;
    };
    let topic = unique_topic("kw-tee");
    // -T echoes each message as read (kcat: without its delimiter); -c stops after 2.
    let (code, out, err) = run_bytes(
        &["-b", &b, "-P", "-t", &topic, "-T", "-c", "2"],
        b"a\nb\nc\n",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, b"ab");
    let out = consume_all(&b, &topic, &["-O"]);
    assert_eq!(out, b"0\ta\n1\tb\n");
    // A file argument is one message; with -l it is read like stdin.
    let dir = std::env::temp_dir().join(unique_topic("kw-files"));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("in.txt");
    std::fs::write(&f, b"x\ny\n").unwrap();
    let f = f.display().to_string();
    let (code, _, err) = run_bytes(&["-b", &b, "-P", "-t", &topic, &f], b"", &[]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_bytes(&["-b", &b, "-P", "-t", &topic, "-l", &f], b"", &[]);
    assert_eq!(code, 0, "{err}");
    let out = consume_all(&b, &topic, &["-O", "-K", "|"]);
    assert_eq!(out, b"0||a\n1||b\n2||x\ny\n\n3||x\n4||y\n");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn group_exits_at_end_with_e() {
    let Some(b) = Broker::Kafka.bootstrap("group_exits_at_end_with_e") else {
        return;
    };
    let topic = unique_topic("kw-ge");
    let (code, _, err) = run_bytes(&["-b", &b, "-P", "-t", &topic], b"1\n2\n3\n", &[]);
    assert_eq!(code, 0, "{err}");
    let group = unique_topic("kw-ge-group");
    let started = std::time::Instant::now();
    let (code, out, err) = run_bytes(
        &["-b", &b, "-G", &group, &topic, "-o", "beginning", "-e"],
        b"",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, b"1\n2\n3\n");
    assert!(err.contains(": exiting"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(45));
    // The offsets were committed: the group has nothing left to read.
    let (code, out, err) = run_bytes(&["-b", &b, "-G", &group, &topic, "-e"], b"", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
}

#[test]
fn config_files_and_auto_mode() {
    let Some(b) = Broker::Kafka.bootstrap("config_files_and_auto_mode") else {
        return;
    };
    let topic = unique_topic("kw-conf");
    let dir = std::env::temp_dir().join(unique_topic("kw-conf-dir"));
    std::fs::create_dir_all(dir.join(".config")).unwrap();
    let conf = dir.join("kw.conf");
    std::fs::write(&conf, format!("# kcat style\nbootstrap.servers={b}\n")).unwrap();
    let conf = conf.display().to_string();
    // Neither -P nor -C, stdin not a terminal: the producer, with kcat's notice.
    let (code, _, err) = run_bytes(&["-F", &conf, "-t", &topic], b"auto\n", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("% Auto-selecting Producer mode (use -P or -C to override)"),
        "{err}"
    );
    // KCAT_CONFIG, then the default file under $HOME.
    let (code, out, err) = run_bytes(
        &["-C", "-t", &topic, "-o", "beginning", "-e", "-q"],
        b"",
        &[("KCAT_CONFIG", &conf)],
    );
    assert_eq!((code, out.as_slice()), (0, &b"auto\n"[..]), "{err}");
    std::fs::write(
        dir.join(".config/kcat.conf"),
        format!("metadata.broker.list={b}\n"),
    )
    .unwrap();
    let home = dir.display().to_string();
    let (code, out, err) = run_bytes(&["-L", "-t", &topic, "-J"], b"", &[("HOME", home.as_str())]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["topics"][0]["topic"].as_str(), Some(topic.as_str()));
    // -X dump shows where the settings came from, with secrets redacted.
    let (code, out, _) = run_bytes(
        &["-F", &conf, "-X", "sasl.password=hunter2", "-X", "dump"],
        b"",
        &[],
    );
    let out = String::from_utf8_lossy(&out);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("bootstrap.servers = {b}")), "{out}");
    assert!(out.contains("sasl.password = [redacted]"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn informational_flags() {
    let (code, out, _) = run_bytes(&["-V"], b"", &[]);
    assert_eq!(code, 0);
    assert!(String::from_utf8_lossy(&out).contains("Version "));
    let (code, out, _) = run_bytes(&["-X", "list"], b"", &[]);
    assert_eq!(code, 0);
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("bootstrap.servers ")
            && out.contains("linger.ms ")
            && out.contains("(default 5)"),
        "{out}"
    );
    let (code, _, err) = run_bytes(&["-b", "x", "-C", "-t", "t", "-s", "q!"], b"", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("Invalid token '!'"), "{err}");
    let (code, _, err) = run_bytes(&["-b", "x", "-C", "-t", "t", "-d", "bogus"], b"", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown -d debug context"), "{err}");
}
