//! The producer core driven by a simulated cluster and clock: every retry, ordering, expiry and
//! fencing decision, with no socket and no real time.

use std::time::Duration;

use super::sim::{Harness, OnWire, SimCluster};
use super::{Event, ProducerCore};
use crate::error::{ClientError, Error, TransactionErrorKind};
use crate::producer::transaction_manager::TxnState;
use crate::producer::ProducerConfig;
use crate::protocol::ErrorCode;

const BACKOFF: Duration = Duration::from_millis(100);

fn config() -> ProducerConfig {
    let mut c = ProducerConfig::new("sim:9092");
    c.linger = Duration::ZERO;
    c.client.retry_backoff = BACKOFF;
    c.adaptive_partitioning = false;
    c
}

fn idempotent() -> Harness {
    Harness::new(ProducerCore::new(config()), SimCluster::new(1, 1))
}

/// An idempotent harness whose first record ("r0") is written, so the partition allows five
/// batches in flight.
fn idempotent_after_first_ack() -> Harness {
    let mut h = idempotent();
    h.send(0, "r0").unwrap();
    h.run_until_quiet();
    assert_eq!(h.cluster.values(0), ["r0"]);
    h
}

/// Send `values` to partition 0, one batch (and one request) each.
fn send_batches(h: &mut Harness, values: &[&str]) {
    for v in values {
        h.send(0, v).unwrap();
        h.poll();
    }
}

fn offsets(h: &mut Harness) -> Vec<(String, i64)> {
    h.results()
        .into_iter()
        .map(|(v, r)| match r {
            Some(Ok(offset)) => (v, offset),
            other => panic!("{v} was not delivered: {other:?}"),
        })
        .collect()
}

#[test]
fn first_send_asks_for_a_producer_id_then_writes() {
    let mut h = idempotent();
    h.send(0, "a").unwrap();
    h.poll();
    assert!(matches!(
        h.wire.front(),
        Some(OnWire::InitProducerId {
            producer_id: -1,
            ..
        })
    ));
    assert_eq!(
        h.produce_in_flight(),
        0,
        "nothing is produced before the id"
    );
    h.run_until_quiet();
    assert_eq!(offsets(&mut h), [("a".to_owned(), 0)]);
    assert!(h.core.all_delivered());
    assert_eq!(h.released, 11, "the record's buffer.memory is given back");
}

#[test]
fn one_batch_in_flight_until_the_first_ack_then_five() {
    let mut h = idempotent();
    h.run_until_quiet();
    send_batches(&mut h, &["a", "b", "c"]);
    h.answer_next(); // InitProducerId
    assert_eq!(
        h.produce_in_flight(),
        1,
        "first batch alone under a new epoch"
    );
    h.answer_next();
    send_batches(&mut h, &["d", "e", "f", "g", "h", "i"]);
    assert_eq!(
        h.produce_in_flight(),
        5,
        "max.in.flight.requests.per.connection"
    );
    h.run_until_quiet();
    assert_eq!(
        h.cluster.values(0),
        ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    );
}

#[test]
fn leader_move_with_batches_in_flight_keeps_order() {
    let mut h = idempotent_after_first_ack();
    send_batches(&mut h, &["r1", "r2", "r3"]);
    assert_eq!(h.produce_in_flight(), 3);
    // The leader moves to broker 2 while three batches are on their way to broker 1.
    h.cluster.set_leader(0, Some(2));
    send_batches(&mut h, &["r4"]);
    assert_eq!(
        h.produce_in_flight(),
        3,
        "no batch goes to the new leader while the old one has some in flight"
    );
    for _ in 0..3 {
        h.answer_next(); // broker 1: NOT_LEADER_OR_FOLLOWER
    }
    assert!(h.events.contains(&Event::RefreshMetadata));
    assert_eq!(
        h.produce_in_flight(),
        0,
        "retries wait for retry.backoff.ms"
    );
    h.advance(BACKOFF);
    h.poll();
    let nodes: Vec<i32> = h
        .wire
        .iter()
        .filter_map(|w| match w {
            OnWire::Produce { node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    assert_eq!(
        nodes,
        [2, 2, 2, 2],
        "the three retries, in order, then r4, to the new leader"
    );
    h.run_until_quiet();
    assert_eq!(h.cluster.values(0), ["r0", "r1", "r2", "r3", "r4"]);
    let o = offsets(&mut h);
    assert_eq!(
        o.iter().map(|(_, off)| *off).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
}

#[test]
fn out_of_order_sequence_behind_a_failed_batch_is_retried_in_order() {
    let mut h = idempotent_after_first_ack();
    send_batches(&mut h, &["r1", "r2", "r3"]);
    // r1 is lost on the broker (timed out); r2 and r3 arrive with a sequence gap.
    h.fail_next(ErrorCode::REQUEST_TIMED_OUT);
    h.answer_next();
    h.answer_next();
    assert!(
        !h.core.bump_needed(),
        "OUT_OF_ORDER_SEQUENCE_NUMBER behind an earlier failed batch is no reason to bump"
    );
    assert_eq!(h.cluster.values(0), ["r0"]);
    h.advance(BACKOFF);
    h.run_until_quiet();
    assert_eq!(h.cluster.values(0), ["r0", "r1", "r2", "r3"]);
    assert!(h.core.all_delivered());
}

#[test]
fn unknown_producer_id_bumps_the_epoch_and_renumbers_in_order() {
    let mut h = idempotent_after_first_ack();
    let first = h.core.identity().unwrap();
    // The broker lost the producer's state and refuses its next sequences.
    h.cluster.forget_producers();
    h.cluster.strict_unknown_producer = true;
    send_batches(&mut h, &["r1", "r2"]);
    h.answer_next(); // r1: UNKNOWN_PRODUCER_ID
    assert!(h.core.bump_needed());
    assert!(
        !h.wire
            .iter()
            .any(|w| matches!(w, OnWire::InitProducerId { .. })),
        "the bump waits until nothing is in flight"
    );
    h.answer_next(); // r2: UNKNOWN_PRODUCER_ID too
    h.advance(BACKOFF);
    h.poll();
    assert_eq!(
        h.wire.len(),
        1,
        "only InitProducerId: no batch under the old epoch"
    );
    match h.wire.front() {
        Some(OnWire::InitProducerId {
            producer_id, epoch, ..
        }) => assert_eq!((*producer_id, *epoch), (first.producer_id, first.epoch)),
        other => panic!("expected InitProducerId with the current id and epoch, got {other:?}"),
    }
    h.run_until_quiet();
    let bumped = h.core.identity().unwrap();
    assert_eq!(bumped.producer_id, first.producer_id);
    assert_eq!(bumped.epoch, first.epoch + 1);
    assert_eq!(h.cluster.values(0), ["r0", "r1", "r2"]);
    assert!(h.core.all_delivered());
}

#[test]
fn a_retry_never_goes_out_under_the_old_epoch_while_a_bump_is_pending() {
    let mut h = idempotent_after_first_ack();
    h.cluster.forget_producers();
    send_batches(&mut h, &["r1", "r2"]);
    // r1 is refused (UNKNOWN_PRODUCER_ID) but r2, from a producer the broker does not know,
    // is taken: r1 must be renumbered under a new epoch, not sent as a "duplicate".
    h.fail_next(ErrorCode::UNKNOWN_PRODUCER_ID);
    h.answer_next();
    h.advance(BACKOFF);
    h.run_until_quiet();
    let log = h.cluster.values(0);
    assert_eq!(log.iter().filter(|v| *v == "r1").count(), 1, "{log:?}");
    assert!(h.core.all_delivered());
}

#[test]
fn delivery_timeout_expires_batches_that_cannot_be_sent() {
    let mut h = idempotent_after_first_ack();
    h.cluster.set_leader(0, None);
    h.send(0, "late").unwrap();
    h.poll();
    assert_eq!(h.produce_in_flight(), 0);
    assert!(h.events.contains(&Event::RefreshMetadata));
    let deadline = h
        .core
        .poll_timeout()
        .expect("a deadline for the queued batch");
    assert!(deadline <= h.now + config().delivery_timeout);
    h.advance(config().delivery_timeout);
    h.poll();
    let results = h.results();
    match &results[1] {
        (
            _,
            Some(Err(Error::Client(ClientError::DeliveryTimeout {
                topic_partition, ..
            }))),
        ) => {
            assert_eq!(topic_partition.partition, 0);
            let message = results[1]
                .1
                .as_ref()
                .unwrap()
                .as_ref()
                .unwrap_err()
                .to_string();
            assert!(message.contains("delivery.timeout.ms"), "{message}");
        }
        other => panic!("expected a delivery timeout, got {other:?}"),
    }
    assert!(h.core.all_delivered());
    assert!(h.core.poll_timeout().is_none());
}

#[test]
fn fencing_fails_the_batch_and_stops_the_producer() {
    let mut h = idempotent_after_first_ack();
    let id = h.core.identity().unwrap();
    h.cluster.fence(id.producer_id);
    send_batches(&mut h, &["zombie"]);
    h.answer_next();
    match &h.results()[1] {
        (_, Some(Err(e))) => assert_eq!(e.code(), Some(ErrorCode::PRODUCER_FENCED)),
        other => panic!("expected PRODUCER_FENCED, got {other:?}"),
    }
    send_batches(&mut h, &["after"]);
    assert_eq!(
        h.produce_in_flight(),
        0,
        "a fenced producer sends nothing more"
    );
}

fn transactional() -> Harness {
    let mut c = config();
    c.transactional_id = Some("tx".into());
    let mut h = Harness::new(ProducerCore::new(c), SimCluster::new(2, 1));
    // init_transactions (driven by the application, not the sender).
    let tm = h.core.transactions_mut().unwrap();
    tm.transition("init", TxnState::Initializing).unwrap();
    let r = h.cluster.init_producer_id(-1, -1);
    h.core
        .set_identity(crate::producer::idempotence::ProducerIdAndEpoch {
            producer_id: r.producer_id,
            epoch: r.producer_epoch,
        });
    let tm = h.core.transactions_mut().unwrap();
    tm.transition("init", TxnState::Ready).unwrap();
    tm.transition("begin", TxnState::InTransaction).unwrap();
    h
}

#[test]
fn transactional_batches_wait_for_add_partitions_to_txn() {
    let mut h = transactional();
    h.send(0, "a").unwrap();
    h.send(1, "b").unwrap();
    h.poll();
    assert!(
        matches!(h.wire.front(), Some(OnWire::AddPartitions { partitions, .. }) if partitions.len() == 2)
    );
    assert_eq!(h.produce_in_flight(), 0);
    h.run_until_quiet();
    assert_eq!(h.cluster.values(0), ["a"]);
    assert_eq!(h.cluster.values(1), ["b"]);
    assert!(h.core.all_delivered());
}

#[test]
fn aborted_transaction_with_batches_in_flight() {
    let mut h = transactional();
    h.send(0, "first").unwrap();
    h.answer_next_after_poll();
    assert_eq!(
        h.produce_in_flight(),
        1,
        "first batch of the partition on the wire"
    );
    // More records queue behind it (one batch in flight until the first ack).
    h.send(0, "queued").unwrap();
    h.poll();
    assert_eq!(h.produce_in_flight(), 1);
    let tm = h.core.transactions_mut().unwrap();
    assert_eq!(
        tm.begin_abort().unwrap(),
        super::super::transaction_manager::EndAction::SendEndTxn
    );
    h.core.abort_unsent();
    match &h.results()[1] {
        (_, Some(Err(Error::Transaction { kind, .. }))) => {
            assert_eq!(*kind, TransactionErrorKind::Abortable)
        }
        other => panic!("the queued record fails with an abortable error: {other:?}"),
    }
    assert!(
        !h.core.all_delivered(),
        "the batch on the wire is still awaited"
    );
    // The one on the wire fails with a retriable error: it is put back, then dropped too.
    h.fail_next(ErrorCode::NOT_LEADER_OR_FOLLOWER);
    h.core.abort_unsent();
    assert!(h.core.all_delivered(), "EndTxn may go now");
    assert!(
        h.core.bump_needed(),
        "an abandoned sequence means the epoch must be bumped before the next transaction"
    );
    assert_eq!(h.cluster.values(0), Vec::<String>::new());
}

#[test]
fn a_failed_record_makes_the_transaction_abortable() {
    let mut h = transactional();
    h.send(0, "x").unwrap();
    h.answer_next_after_poll();
    h.fail_next(ErrorCode::TOPIC_AUTHORIZATION_FAILED);
    assert!(h.core.transaction_failed());
    assert_eq!(
        h.core.transactions().unwrap().state(),
        TxnState::AbortableError
    );
}

#[test]
fn closing_sends_what_is_queued_then_finishes() {
    let mut h = idempotent_after_first_ack();
    h.send(0, "last").unwrap();
    h.core.close();
    assert!(h.send(0, "refused").is_err());
    assert!(!h.core.is_finished());
    h.run_until_quiet();
    assert!(h.core.is_finished());
    assert_eq!(h.cluster.values(0), ["r0", "last"]);
}

impl Harness {
    /// Poll, then answer the first request (AddPartitionsToTxn, InitProducerId, …).
    fn answer_next_after_poll(&mut self) {
        self.poll();
        self.answer_next();
    }
}

#[test]
fn a_transaction_still_completing_is_retried_after_milliseconds_not_retry_backoff() {
    let ms = Duration::from_millis;
    let h = transactional();
    for code in [
        ErrorCode::CONCURRENT_TRANSACTIONS,
        ErrorCode::NOT_ENOUGH_REPLICAS,
    ] {
        assert_eq!(h.core.retry_backoff_for(code, 0), ms(5));
        assert_eq!(h.core.retry_backoff_for(code, 2), ms(20));
        assert_eq!(h.core.retry_backoff_for(code, 30), BACKOFF, "capped");
    }
    assert_eq!(
        h.core.retry_backoff_for(ErrorCode::REQUEST_TIMED_OUT, 0),
        BACKOFF
    );
    let plain = idempotent();
    assert_eq!(
        plain
            .core
            .retry_backoff_for(ErrorCode::NOT_ENOUGH_REPLICAS, 0),
        BACKOFF,
        "outside a transaction NOT_ENOUGH_REPLICAS means what it says"
    );
}
