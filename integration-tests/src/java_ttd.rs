//! Running a Java program of `integration-tests/peers/` against Kafka Streams 4.4.0 and its
//! `kafka-streams-test-utils`, for the tests that compare our DSL with Java's
//! `TopologyTestDriver` (`tests/dsl_ttd_java*.rs`). The program takes topology names as
//! arguments and prints, for each, a `== <name>` line and then its output lines.

use std::path::PathBuf;
use std::process::Command;

use bytes::Bytes;
use streams_core::serde::BytesSerde;
use streams_core::testing::TopologyTestDriver;
use streams_core::topology::Topology;

use crate::repo_root;

/// The classpath of Kafka Streams 4.4.0 with its test utils, or how to install it.
pub fn classpath() -> Result<String, String> {
    let libs = std::env::var("KAFKA_WIRE_STREAMS_LIBS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate::testbed_cache().join("kafka-streams-4.4.0/libs"));
    let install = format!(
        "install a JDK (apt-get install openjdk-17-jdk-headless maven) and run, for each of \
         org.apache.kafka:kafka-streams:4.4.0 org.apache.kafka:kafka-streams-test-utils:4.4.0 \
         org.apache.kafka:kafka-clients:4.4.0 org.slf4j:slf4j-api:1.7.36: \
         mvn -q -B dependency:copy -Dartifact=<artifact> -DoutputDirectory={} \
         (scripts/test does this)",
        libs.display()
    );
    let mut jars = Vec::new();
    for jar in [
        "kafka-streams-4.4.0.jar",
        "kafka-streams-test-utils-4.4.0.jar",
        "kafka-clients-4.4.0.jar",
        "slf4j-api-1.7.36.jar",
    ] {
        let path = libs.join(jar);
        if !path.is_file() {
            return Err(format!("{} is missing: {install}", path.display()));
        }
        jars.push(path.display().to_string());
    }
    for tool in ["javac", "java"] {
        if !Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Err(format!("no `{tool}` on PATH: {install}"));
        }
    }
    // RocksDB's JNI jar, when there is one: Java's versioned stores and grace buffers need
    // it (`dsl_ttd_java_versioned.rs`); the other comparisons use in-memory stores.
    if let Some(rocksdb) = rocksdb_jar(&libs) {
        jars.push(rocksdb.display().to_string());
    }
    Ok(jars.join(":"))
}

/// `rocksdbjni-10.1.3.jar` (the version kafka-streams 4.4.0 depends on) in `libs`, else in
/// the local Maven repository.
fn rocksdb_jar(libs: &std::path::Path) -> Option<PathBuf> {
    const JAR: &str = "rocksdbjni-10.1.3.jar";
    let maven = std::env::var("HOME").ok().map(|home| {
        PathBuf::from(home).join(format!(
            ".m2/repository/org/rocksdb/rocksdbjni/10.1.3/{JAR}"
        ))
    });
    std::iter::once(libs.join(JAR))
        .chain(maven)
        .find(|p| p.is_file())
}

/// Whether RocksDB's JNI jar is on the classpath [`classpath`] builds, or how to get it.
pub fn require_rocksdb() -> Result<(), String> {
    let libs = std::env::var("KAFKA_WIRE_STREAMS_LIBS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate::testbed_cache().join("kafka-streams-4.4.0/libs"));
    match rocksdb_jar(&libs) {
        Some(_) => Ok(()),
        None => Err(format!(
            "rocksdbjni-10.1.3.jar is missing from {}: mvn -q -B dependency:copy \
             -Dartifact=org.rocksdb:rocksdbjni:10.1.3 -DoutputDirectory={} (scripts/test does this)",
            libs.display(),
            libs.display()
        )),
    }
}

/// Compile `integration-tests/peers/<class>.java` into a temporary directory and run it once
/// with every name; the lines it printed for each name, in order. Panics (the test fails)
/// when Java cannot run or prints something else, with its output.
pub fn run(class: &str, names: &[&str]) -> Vec<Vec<String>> {
    let cp = classpath().unwrap_or_else(|e| panic!("Java's side cannot run: {e}"));
    let classes =
        std::env::temp_dir().join(format!("{}-{}", class.to_lowercase(), std::process::id()));
    std::fs::create_dir_all(&classes)
        .unwrap_or_else(|e| panic!("creating {}: {e}", classes.display()));
    let source = repo_root().join(format!("integration-tests/peers/{class}.java"));
    let javac = Command::new("javac")
        .args(["-d", &classes.display().to_string(), "-cp", &cp])
        .arg(&source)
        .output()
        .unwrap_or_else(|e| panic!("running javac: {e}"));
    assert!(
        javac.status.success(),
        "javac {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&javac.stderr)
    );
    let java = Command::new("java")
        .args(["-cp", &format!("{}:{cp}", classes.display()), class])
        .args(names)
        .output()
        .unwrap_or_else(|e| panic!("running java: {e}"));
    let _ = std::fs::remove_dir_all(&classes);
    let stdout = String::from_utf8_lossy(&java.stdout);
    assert!(
        java.status.success(),
        "java {class} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&java.stderr)
    );
    let mut per: Vec<Vec<String>> = Vec::new();
    for line in stdout.lines() {
        match line.strip_prefix("== ") {
            Some(name) => {
                assert_eq!(
                    Some(&name),
                    names.get(per.len()),
                    "{class}'s output is out of order"
                );
                per.push(Vec::new());
            }
            None => match per.last_mut() {
                Some(lines) => lines.push(line.to_owned()),
                None => panic!("{class} printed {line:?} before the first `== name` line"),
            },
        }
    }
    assert_eq!(
        per.len(),
        names.len(),
        "{class} printed {} topologies:\n{stdout}",
        per.len()
    );
    per
}

/// Table each topology's result (`same`/`DIFFERENT`) and fail on the first difference,
/// showing both outputs; `ours` gives our lines for a name (an `Err` is shown as a line).
pub fn compare(class: &str, names: &[&str], ours: impl Fn(&str) -> Result<Vec<String>, String>) {
    let java = run(class, names);
    println!("{:<36} | {:>7} | result", "topology", "records");
    println!("{:-<36}-+-{:->7}-+-------", "", "");
    let mut first_difference = None;
    for (name, java) in names.iter().zip(java) {
        let ours = ours(name).unwrap_or_else(|e| vec![format!("ERROR: {e}")]);
        let ok = ours == java;
        println!(
            "{name:<36} | {:>7} | {}",
            java.len(),
            if ok { "same" } else { "DIFFERENT" }
        );
        if !ok {
            eprintln!(
                "--- {name}, Java:\n{}\n--- {name}, ours:\n{}",
                java.join("\n"),
                ours.join("\n")
            );
            first_difference.get_or_insert((name, java, ours));
        }
    }
    if let Some((name, java, ours)) = first_difference {
        panic!(
            "{name}: our output differs from Java's\n--- Java ({} lines):\n{}\n--- ours ({} lines):\n{}",
            java.len(),
            java.join("\n"),
            ours.len(),
            ours.join("\n")
        );
    }
}

/// `topology`'s `describe()` as the Java peers print it: `(describe)\t<line>`, blank lines
/// left out.
pub fn describe_lines(topology: &Topology) -> Vec<String> {
    topology
        .describe()
        .to_string()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("(describe)\t{}", line.trim_end()))
        .collect()
}

/// The records of changelog `topic` as the Java peers print them: topic, key and value in
/// hex (`null` for a tombstone), timestamp.
pub fn changelog_lines(driver: &TopologyTestDriver, topic: &str) -> Result<Vec<String>, String> {
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let log = driver.create_output_topic::<Bytes, Option<Bytes>>(topic, BytesSerde, BytesSerde);
    let records = log.read_records_to_list().map_err(|e| e.to_string())?;
    Ok(records
        .into_iter()
        .map(|r| {
            format!(
                "{topic}\t{}\t{}\t{}",
                hex(&r.key),
                r.value.as_deref().map_or_else(|| "null".to_owned(), hex),
                r.timestamp
                    .map_or_else(|| "null".to_owned(), |t| t.to_string())
            )
        })
        .collect())
}

/// The driver's `dropped-records-total` as the Java peers print it.
pub fn dropped_line(driver: &TopologyTestDriver) -> String {
    format!(
        "(dropped-records-total)\tnull\t{}\t0",
        driver.dropped_records()
    )
}
