//! The `kw` CLI (kcat's flags) against Apache Kafka: produce, consume with a format and as
//! JSON, metadata, offsets for a time, and the failure paths (bad flags, unreachable broker).
//! `scripts/test` builds the binary first (`cargo build -p kafka-wire --features cli --bin kw`).

use std::io::Write;
use std::process::{Command, Stdio};

use integration_tests::{unique_topic, Broker};

fn kw() -> std::path::PathBuf {
    integration_tests::kw_binary()
}

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(kw())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
