//! Benchmarks that run kafka-wire against its peers — the Java client (kafka-tools'
//! ProducerPerformance / ConsumerPerformance), rust-rdkafka (librdkafka, C) and rskafka (pure
//! Rust) — on the same broker in the same run, interleaved (`src/main.rs`, run by
//! `scripts/bench`), plus a broker-free criterion micro-benchmark of record encode/decode
//! (`benches/codec.rs`).
//!
//! This crate is deliberately **not** in the workspace's `default-members`: it depends on
//! C-backed peers, which must never enter the default build (see `scripts/no-c-gate`).

pub mod broker {
    //! The broker's own CPU time, read from `/proc/<pid>/stat` of its JVM around each client
    //! run, so the tables show when the broker, not the client, is the bottleneck.
    //!
    //! The broker's pid is found, in order: from `KAFKA_WIRE_BROKER_PID`; from the pid file
    //! `scripts/broker` writes (`<cache>/run/kafka/broker.pid`); by scanning `/proc/*/cmdline`
    //! for a `java … kafka.Kafka <server.properties>` whose `listeners` include the bootstrap
    //! port. Anything missing yields `None` (printed as "n/a"), never a failure.

    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The clock ticks per second `/proc/<pid>/stat` counts in (`getconf CLK_TCK`), and
    /// whether that value was assumed (100, Linux's usual `USER_HZ`) because `getconf` failed.
    pub fn clock_ticks() -> (f64, bool) {
        let ticks = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<u32>().ok())
            .filter(|t| *t > 0);
        match ticks {
            Some(t) => (f64::from(t), false),
            None => (100.0, true),
        }
    }

    /// `utime + stime` (fields 14 and 15, in clock ticks) from the text of `/proc/<pid>/stat`.
    /// The command name (field 2) may contain spaces and parentheses, so fields are counted
    /// from the last `)`.
    pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
        let rest = &stat[stat.rfind(')')? + 1..];
        let mut fields = rest.split_whitespace().skip(11); // field 3 (state) is index 0
        let utime: u64 = fields.next()?.parse().ok()?;
        let stime: u64 = fields.next()?.parse().ok()?;
        Some(utime + stime)
    }

    /// CPU ticks (user + system, all threads) process `pid` has used so far.
    pub fn cpu_ticks(pid: u32) -> Option<u64> {
        parse_stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// The port of a bootstrap list's first `host:port`.
    pub fn bootstrap_port(bootstrap: &str) -> Option<u16> {
        let first = bootstrap.split(',').next()?.trim();
        first.rsplit_once(':')?.1.parse().ok()
    }

    /// Whether a `server.properties` text has `port` among its `listeners`.
    pub fn listens_on(properties: &str, port: u16) -> bool {
        properties
            .lines()
            .filter_map(|l| l.trim().strip_prefix("listeners"))
            .filter_map(|l| l.trim_start().strip_prefix('='))
            .flat_map(|v| v.split(','))
            .filter_map(|listener| listener.trim().rsplit_once(':'))
            .any(|(_, p)| p.trim().parse::<u16>() == Ok(port))
    }

    /// For a Kafka broker command line (NUL-separated, as in `/proc/<pid>/cmdline`): the
    /// `server.properties` argument following `kafka.Kafka`, if the program is a JVM.
    pub fn kafka_properties_arg(cmdline: &[u8]) -> Option<String> {
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let program = Path::new(args.first()?).file_name()?.to_str()?;
        if !program.starts_with("java") {
            return None;
        }
        let at = args.iter().position(|a| a == "kafka.Kafka")?;
        args.get(at + 1).cloned()
    }

    /// Whether `pid` is a Kafka broker JVM listening on `port` (per its `server.properties`).
    fn is_broker_on(pid: u32, port: u16) -> bool {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let Some(props) = kafka_properties_arg(&cmdline) else {
            return false;
        };
        let mut path = PathBuf::from(&props);
        if path.is_relative() {
            path = PathBuf::from(format!("/proc/{pid}/cwd")).join(path);
        }
        std::fs::read_to_string(path).is_ok_and(|text| listens_on(&text, port))
    }

    /// `scripts/broker`'s pid file of the single-node broker.
    fn pid_file() -> Option<PathBuf> {
        let cache = match std::env::var_os("KAFKA_WIRE_CACHE") {
            Some(c) => PathBuf::from(c),
            None => match std::env::var_os("XDG_CACHE_HOME") {
                Some(x) => PathBuf::from(x).join("kafka-wire-testbed"),
                None => PathBuf::from(std::env::var_os("HOME")?)
                    .join(".cache")
                    .join("kafka-wire-testbed"),
            },
        };
        Some(cache.join("run").join("kafka").join("broker.pid"))
    }

    /// The broker process whose CPU time is measured.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Broker {
        /// Its pid.
        pub pid: u32,
        /// How it was found.
        pub found_by: String,
    }

    /// Find the broker listening on `port` (see the module docs), or `None`.
    pub fn find(port: Option<u16>) -> Option<Broker> {
        if let Some(v) = std::env::var_os("KAFKA_WIRE_BROKER_PID") {
            match v.to_str().and_then(|s| s.trim().parse::<u32>().ok()) {
                Some(pid) if cpu_ticks(pid).is_some() => {
                    return Some(Broker {
                        pid,
                        found_by: "KAFKA_WIRE_BROKER_PID".into(),
                    })
                }
                _ => eprintln!(
                    "KAFKA_WIRE_BROKER_PID={v:?} is not a live process; looking for the broker"
                ),
            }
        }
        let port = port?;
        if let Some(file) = pid_file() {
            let pid = std::fs::read_to_string(&file)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            if let Some(pid) = pid.filter(|p| is_broker_on(*p, port)) {
                return Some(Broker {
                    pid,
                    found_by: file.display().to_string(),
                });
            }
        }
        let mut pids: Vec<u32> = std::fs::read_dir("/proc")
            .ok()?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        pids.sort_unstable();
        pids.into_iter()
            .find(|p| is_broker_on(*p, port))
            .map(|pid| Broker {
                pid,
                found_by: "/proc scan".into(),
            })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stat_fields_after_the_command_name() {
            let stat =
                "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 9 0 0 0 1500 250 0 0 20 0 70 0";
            assert_eq!(parse_stat_ticks(stat), Some(1750));
            assert_eq!(parse_stat_ticks("4242 (java) S 1 2"), None);
            assert_eq!(parse_stat_ticks("garbage"), None);
        }

        #[test]
        fn kafka_command_lines_and_listeners() {
            let cmd = b"java\0-Xmx1g\0-cp\0/libs/*\0kafka.Kafka\0/run/kafka/server.properties\0";
            assert_eq!(
                kafka_properties_arg(cmd).as_deref(),
                Some("/run/kafka/server.properties")
            );
            let cmd = b"/usr/lib/jvm/bin/java\0kafka.Kafka\0server.properties\0";
            assert_eq!(
                kafka_properties_arg(cmd).as_deref(),
                Some("server.properties")
            );
            assert_eq!(kafka_properties_arg(b"bash\0-c\0kafka.Kafka x\0"), None);
            assert_eq!(kafka_properties_arg(b"java\0kafka.tools.X\0"), None);
            let props = "node.id=1\nlisteners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\nadvertised.listeners=PLAINTEXT://127.0.0.1:19092\n";
            assert!(listens_on(props, 19092));
            assert!(listens_on(props, 19093));
            assert!(!listens_on(props, 29092));
            assert!(!listens_on(
                "advertised.listeners=PLAINTEXT://h:29092",
                29092
            ));
            assert_eq!(bootstrap_port("127.0.0.1:19092"), Some(19092));
            assert_eq!(bootstrap_port("a:1,b:2"), Some(1));
            assert_eq!(bootstrap_port("nohost"), None);
        }

        #[test]
        fn our_own_cpu_time_is_readable() {
            assert!(cpu_ticks(std::process::id()).is_some());
            assert!(clock_ticks().0 > 0.0);
        }
    }
}
