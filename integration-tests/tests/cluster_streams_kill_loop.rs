//! The crash loop of `integration_tests::streams_kill` on the three-node Apache Kafka cluster
//! (`KAFKA_WIRE_KAFKA3`): input, output and internal topics with replication factor 3
//! (`min.insync.replicas` as `scripts/broker` sets it), three `streams_count` processes with two
//! stream threads each SIGKILLed and restarted at least 20 times while 200 000 records are
//! written, and meanwhile broker nodes SIGKILLed one at a time and started again
//! (`scripts/broker stop-node kafka3 N` / `start-node`).
//!
//! Exactly-once (3 broker kills): final counts equal the true ones, each key's committed output
//! is 1, 2, …, n, no store wiped. At-least-once (2 broker kills; `#[ignore]`d to keep
//! `scripts/test` short, run it with `--ignored`): no key below its true count.

use integration_tests::streams_kill::{Guarantee, KillLoop};
use integration_tests::Broker;

#[test]
fn exactly_once_with_instances_and_brokers_killed() {
    let kl = KillLoop {
        broker_kills: 3,
        ..KillLoop::new(
            "cluster_streams_kill_loop::exactly_once",
            env!("CARGO_BIN_EXE_streams_count"),
            Broker::Kafka3,
            Guarantee::ExactlyOnceV2,
        )
    };
    if let Some(outcome) = kl.run() {
        outcome.check_exactly_once(kl.min_kills);
    }
}

#[test]
#[ignore = "about 80 s more for scripts/test; run with --ignored"]
fn at_least_once_with_instances_and_brokers_killed() {
    let kl = KillLoop {
        broker_kills: 2,
        ..KillLoop::new(
            "cluster_streams_kill_loop::at_least_once",
            env!("CARGO_BIN_EXE_streams_count"),
            Broker::Kafka3,
            Guarantee::AtLeastOnce,
        )
    };
    if let Some(outcome) = kl.run() {
        outcome.check_at_least_once(kl.min_kills);
    }
}
