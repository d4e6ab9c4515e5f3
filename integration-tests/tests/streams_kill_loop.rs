//! At-least-once of the streams runtime under crashes, on Apache Kafka (single node): the crash
//! loop of `integration_tests::streams_kill` — three `streams_count` processes with two stream
//! threads each count `k0..k99` over a 6-partition input while 200 000 records are written and
//! random instances are SIGKILLed and restarted — once with the persistent (redb) store and once
//! with the in-memory store (which restores from the changelog's beginning after every kill).
//!
//! At-least-once means no key ends below its true count (counted from the input read back);
//! records processed again after a kill may count twice, so keys above it, duplicates and gaps
//! in the output are reported, not failures. No instance may exit by itself.

use integration_tests::streams_kill::{Guarantee, KillLoop};
use integration_tests::Broker;

#[test]
fn sigkilled_instances_lose_no_count_persistent() {
    let kl = KillLoop::new(
        "streams_kill_loop::persistent",
        env!("CARGO_BIN_EXE_streams_count"),
        Broker::Kafka,
        Guarantee::AtLeastOnce,
    );
    if let Some(outcome) = kl.run() {
        outcome.check_at_least_once(kl.min_kills);
    }
}

#[test]
fn sigkilled_instances_lose_no_count_in_memory() {
    let kl = KillLoop {
        persistent: false,
        // As before the harness was shared: every instance killed 10 times at least.
        min_kills: 30,
        min_kills_per_instance: 10,
        ..KillLoop::new(
            "streams_kill_loop::in_memory",
            env!("CARGO_BIN_EXE_streams_count"),
            Broker::Kafka,
            Guarantee::AtLeastOnce,
        )
    };
    if let Some(outcome) = kl.run() {
        outcome.check_at_least_once(kl.min_kills);
    }
}
