//! `eos_copier BOOTSTRAP INPUT OUTPUT GROUP [SESSION_TIMEOUT_MS [TRANSACTION_TIMEOUT_MS
//! [GROUP_INSTANCE_ID]]]`
//!
//! An exactly-once consume–transform–produce loop, the process `tests/transactions_kill_loop.rs`
//! kills and restarts: a consumer in GROUP (read_committed, no auto commit) subscribed to INPUT,
//! and a transactional producer with a random `transactional.id` (KIP-447: zombies are fenced
//! by the group generation carried in the offset commit, not by a fixed id per partition).
//!
//! Each polled batch becomes one transaction: for every input record, a record to the same
//! partition number of OUTPUT whose value is `"<input partition>:<input offset>"`, then the
//! next input offsets through `send_offsets_to_transaction`, then commit. On an abortable error
//! the transaction is aborted and every assigned partition rewound to its committed offset; on
//! a fatal one the process exits with status 2 and a one-line message on stderr.
//!
//! With GROUP_INSTANCE_ID the consumer is a static member (KIP-345): a restarted copier with
//! the same id takes its predecessor's place at once instead of waiting for its session to
//! expire.
//!
//! Prints nothing per record; a progress line to stderr every 10 000 records copied.
//! `EOS_COPIER_LOG` (else `RUST_LOG`) enables the client's tracing on stderr;
//! `EOS_COPIER_AWAIT_BEFORE_COMMIT=1` (diagnosis) waits for every record before committing;
//! `EOS_COPIER_TXN_PAUSE_MS=N` pauses N ms in the middle of each transaction, half of its
//! records sent (simulated processing time: a kill then often hits a transaction in progress).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::process::exit;
use std::time::Duration;

use kafka_wire::consumer::{Consumer, ConsumerConfig, ConsumerRecord, Offset};
use kafka_wire::group::OffsetAndMetadata;
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::{Error, TopicPartition, TransactionErrorKind};

/// Consecutive failed polls after which the copier gives up (status 3).
const MAX_POLL_ERRORS: u32 = 50;

fn die(what: &str, err: impl Display) -> ! {
    eprintln!("eos_copier: fatal: {what}: {err}");
    exit(2)
}

fn usage() -> ! {
    eprintln!(
        "usage: eos_copier BOOTSTRAP INPUT OUTPUT GROUP [SESSION_TIMEOUT_MS [TRANSACTION_TIMEOUT_MS [GROUP_INSTANCE_ID]]]"
    );
    exit(64)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // EOS_COPIER_LOG (else RUST_LOG), e.g. `kafka_wire::producer=debug`, traces the client
    // to stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_env("EOS_COPIER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::from_default_env());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 || args.len() > 7 {
        usage();
    }
    let (bootstrap, input, output, group) = (&args[0], &args[1], &args[2], &args[3]);
    let session_timeout = args.get(4).map_or("6000", String::as_str);
    let transaction_timeout = args.get(5).map_or("10000", String::as_str);

    let mut config = ConsumerConfig::new(bootstrap);
    for (k, v) in [
        ("group.id", group.as_str()),
        ("isolation.level", "read_committed"),
        ("enable.auto.commit", "false"),
        ("auto.offset.reset", "earliest"),
        ("session.timeout.ms", session_timeout),
        ("heartbeat.interval.ms", "500"),
    ] {
        if let Err(e) = config.set(k, v) {
            die(&format!("consumer config {k}={v}"), e);
        }
    }
    if let Some(id) = args.get(6) {
        if let Err(e) = config.set("group.instance.id", id) {
            die(&format!("consumer config group.instance.id={id}"), e);
        }
    }
    let mut consumer = Consumer::connect(config)
        .await
        .unwrap_or_else(|e| die("connect the consumer", e));
    consumer
        .subscribe([input.as_str()])
        .unwrap_or_else(|e| die("subscribe", e));

    let transactional_id = format!(
        "eos-copier-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    );
    let mut config = ProducerConfig::new(bootstrap);
    for (k, v) in [
        ("transactional.id", transactional_id.as_str()),
        ("transaction.timeout.ms", transaction_timeout),
        ("linger.ms", "5"),
    ] {
        if let Err(e) = config.set(k, v) {
            die(&format!("producer config {k}={v}"), e);
        }
    }
    let producer = Producer::connect(config)
        .await
        .unwrap_or_else(|e| die("connect the producer", e));
    producer
        .init_transactions()
        .await
        .unwrap_or_else(|e| die("init_transactions", e));
    eprintln!("eos_copier: started, transactional.id {transactional_id}");

    let pause = Duration::from_millis(
        std::env::var("EOS_COPIER_TXN_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    let mut copied: u64 = 0;
    let mut poll_errors = 0;
    let mut aborts: u64 = 0;
    loop {
        let records = match consumer.poll(Duration::from_millis(500)).await {
            Ok(records) => {
                poll_errors = 0;
                records
            }
            Err(e) => {
                poll_errors += 1;
                eprintln!("eos_copier: poll failed ({poll_errors} in a row): {e}");
                if poll_errors >= MAX_POLL_ERRORS {
                    eprintln!("eos_copier: giving up after {poll_errors} failed polls");
                    exit(3);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if records.is_empty() {
            continue;
        }
        match copy(&producer, &consumer, output, &records, pause).await {
            Ok(()) => {
                let before = copied / 10_000;
                copied += records.len() as u64;
                if copied / 10_000 > before {
                    eprintln!("eos_copier: {copied} records copied ({aborts} aborts)");
                }
            }
            Err(e) if e.transaction_kind() == Some(TransactionErrorKind::Fatal) => {
                die("transaction", e)
            }
            Err(e) => {
                // Abortable (or unclassified): drop the transaction, reprocess from the
                // committed offsets.
                aborts += 1;
                eprintln!("eos_copier: aborting the transaction: {e}");
                if let Err(e) = producer.abort_transaction().await {
                    die("abort_transaction", e);
                }
                rewind(&mut consumer).await;
            }
        }
    }
}

/// One transaction: copy `records`, commit their next offsets with it.
async fn copy(
    producer: &Producer,
    consumer: &Consumer,
    output: &str,
    records: &[ConsumerRecord],
    pause: Duration,
) -> Result<(), Error> {
    producer.begin_transaction()?;
    let mut deliveries = Vec::with_capacity(records.len());
    let mut next: BTreeMap<TopicPartition, OffsetAndMetadata> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if i == records.len() / 2 && !pause.is_zero() {
            // Simulated processing time, with half of the transaction's records sent.
            tokio::time::sleep(pause).await;
        }
        let record = ProducerRecord::new(output)
            .partition(r.partition)
            .value(format!("{}:{}", r.partition, r.offset));
        deliveries.push(producer.send(record).await?);
        let tp = TopicPartition::new(&*r.topic, r.partition);
        let offset = next
            .get(&tp)
            .map_or(r.offset + 1, |o| o.offset.max(r.offset + 1));
        next.insert(tp, OffsetAndMetadata::new(offset));
    }
    if std::env::var_os("EOS_COPIER_AWAIT_BEFORE_COMMIT").is_some() {
        // Diagnosis only: wait for every record before committing (hides a commit that does
        // not wait for records in flight).
        for d in std::mem::take(&mut deliveries) {
            d.await?;
        }
    }
    let group = consumer.group_metadata().ok_or_else(|| {
        Error::InvalidArgument("records polled but the consumer has no group metadata".into())
    })?;
    producer.send_offsets_to_transaction(&next, &group).await?;
    producer.commit_transaction().await?;
    // The commit waited for every record: a record that failed must have failed the commit.
    for d in deliveries {
        if let Err(e) = d.await {
            die("a record of a committed transaction was not delivered", e);
        }
    }
    Ok(())
}

/// Rewind every assigned partition to the group's committed offset (the beginning if none).
async fn rewind(consumer: &mut Consumer) {
    let assigned = consumer.assignment();
    let committed = match consumer.committed(&assigned).await {
        Ok(c) => c,
        Err(e) => die("fetch committed offsets to rewind", e),
    };
    for tp in &assigned {
        let to = match committed.get(tp) {
            Some(om) if om.offset >= 0 => Offset::At(om.offset),
            _ => Offset::Beginning,
        };
        if let Err(e) = consumer.seek(tp, to) {
            die(&format!("seek {tp}"), e);
        }
    }
}
