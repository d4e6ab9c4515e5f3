//! Exactly-once (`processing.guarantee=exactly_once_v2`) of the streams runtime under crashes,
//! on Apache Kafka (single node): the crash loop of `integration_tests::streams_kill` — three
//! `streams_count` processes with two stream threads each count `k0..k99` over a 6-partition
//! input into a persistent (redb) store, `commit.interval.ms=100`, no record cache, while
//! 200 000 records are written and random instances are SIGKILLed (at least 20 times) and
//! restarted.
//!
//! Exactly-once means: every key's final count equals its true count (counted from the input
//! read back); the output read with `isolation.level=read_committed` holds, per key, exactly the
//! counts 1, 2, …, n in order (a count not above the previous one is a duplicate, one more than
//! one above it a gap), so 200 000 records; and no state store was wiped (`wipe` lines of
//! `streams_count`): a crashed task's store is rolled back to its last commit, not rebuilt.

use integration_tests::streams_kill::{Guarantee, KillLoop};
use integration_tests::Broker;

#[test]
fn sigkilled_instances_count_exactly_once() {
    let kl = KillLoop::new(
        "streams_kill_loop_eos",
        env!("CARGO_BIN_EXE_streams_count"),
        Broker::Kafka,
        Guarantee::ExactlyOnceV2,
    );
    if let Some(outcome) = kl.run() {
        outcome.check_exactly_once(kl.min_kills);
    }
}
