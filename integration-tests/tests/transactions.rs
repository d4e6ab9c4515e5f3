//! Transactions against real brokers: a second producer with the same `transactional.id`
//! fences the first (its commit fails as fatal); an aborted transaction's records are
//! invisible to read_committed readers — ours, librdkafka's and the Java client's — while a
//! read_uncommitted reader sees them; librdkafka's transactions read by our read_committed
//! consumer; a transaction open longer than `transaction.timeout.ms` is aborted by the broker
//! and its commit fails; a commit waits for the transaction's records still in flight (none
//! may fail after the commit succeeded); and the commit / abort / read_committed subset on
//! noida-db.

use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, java_peer, rdkafka_peer, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, ConsumerRecord, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::{Error, TopicPartition, TransactionErrorKind};

/// A transactional producer with this id (and extra properties), `init_transactions` done.
async fn txn_producer(bootstrap: &str, id: &str, props: &[(&str, &str)]) -> Producer {
    let mut config = ProducerConfig::new(bootstrap);
    config.set("transactional.id", id).unwrap();
    for (k, v) in props {
        config.set(k, v).unwrap();
    }
    let producer = Producer::connect(config).await.unwrap();
    producer
        .init_transactions()
        .await
        .unwrap_or_else(|e| panic!("init_transactions({id}): {e}"));
    producer
}

/// Send `count` records with values `PREFIX-<i>` to partition 0 in the open transaction and
/// wait until all are written (so an abort has records in the log to hide).
async fn send_all(producer: &Producer, topic: &str, prefix: &str, count: usize) {
    let mut deliveries = Vec::with_capacity(count);
    for i in 0..count {
        let record = ProducerRecord::new(topic)
            .partition(0)
            .key(format!("{prefix}-k-{i}"))
            .value(format!("{prefix}-{i}"));
        deliveries.push(producer.send(record).await.unwrap());
    }
    producer.flush().await;
    for (i, d) in deliveries.into_iter().enumerate() {
        d.await
            .unwrap_or_else(|e| panic!("{prefix} record {i} not delivered: {e}"));
    }
}

/// Read partition 0 of `topic` from the beginning until our position reaches the end (the high
/// watermark, past the last transaction marker) or `within` passed.
async fn read_partition0(
    bootstrap: &str,
    topic: &str,
    read_committed: bool,
    within: Duration,
) -> Vec<ConsumerRecord> {
    let mut config = ConsumerConfig::new(bootstrap);
    let isolation = if read_committed {
        "read_committed"
    } else {
        "read_uncommitted"
    };
    config.set("isolation.level", isolation).unwrap();
    let mut consumer = Consumer::connect(config).await.unwrap();
    let tp = TopicPartition::new(topic, 0);
    consumer.assign([tp.clone()]);
    consumer.seek(&tp, Offset::Beginning).unwrap();
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    while Instant::now() < deadline {
        out.extend(consumer.poll(Duration::from_millis(300)).await.unwrap());
        if consumer.at_end(&tp) {
            break;
        }
    }
    out
}

fn values(records: &[ConsumerRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

/// One transaction of `count` records "aborted-i" that is aborted, then one of "committed-i"
/// that is committed; then the producer is closed.
async fn abort_then_commit(producer: Producer, topic: &str, count: usize) {
    producer.begin_transaction().unwrap();
    send_all(&producer, topic, "aborted", count).await;
    producer.abort_transaction().await.unwrap();
    producer.begin_transaction().unwrap();
    send_all(&producer, topic, "committed", count).await;
    producer.commit_transaction().await.unwrap();
    producer.close().await.unwrap();
}

fn expected(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i}")).collect()
}

/// A peer's `consume-committed` output: the record values and its final `count N`.
fn peer_committed(out: &str) -> (Vec<String>, usize) {
    let mut values = Vec::new();
    let mut count = None;
    for line in out.lines() {
        if line.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            values.push(v["value"].as_str().unwrap_or_default().to_owned());
        } else if let Some(n) = line.strip_prefix("count ") {
            count = Some(n.trim().parse().unwrap());
        }
    }
    (values, count.expect("the peer prints `count N`"))
}

async fn one_partition_topic(bootstrap: &str, prefix: &str) -> String {
    let admin = Admin::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let topic = unique_topic(prefix);
    create_ready_topic(&admin, NewTopic::new(&topic, 1, 1)).await;
    topic
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zombie_producer_is_fenced() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("zombie_producer_is_fenced") else {
        return;
    };
    integration_tests::init_logging();
    let topic = one_partition_topic(&bootstrap, "txn-zombie").await;
    let id = unique_topic("zombie-txn");

    let p1 = txn_producer(&bootstrap, &id, &[]).await;
    p1.begin_transaction().unwrap();
    send_all(&p1, &topic, "zombie", 1).await;

    // A new instance with the same id: fences p1 and aborts its open transaction.
    let p2 = txn_producer(&bootstrap, &id, &[]).await;
    let err = p1
        .commit_transaction()
        .await
        .expect_err("the fenced producer's commit must fail");
    println!("zombie commit after fencing -> {err}");
    assert_eq!(
        err.transaction_kind(),
        Some(TransactionErrorKind::Fatal),
        "fencing is fatal: {err:?}"
    );

    // The new instance works; only its record is visible.
    p2.begin_transaction().unwrap();
    send_all(&p2, &topic, "fencer", 1).await;
    p2.commit_transaction().await.unwrap();
    let seen = values(&read_partition0(&bootstrap, &topic, true, Duration::from_secs(15)).await);
    println!("zombie: read_committed sees {seen:?}");
    assert_eq!(seen, expected("fencer", 1));
    p2.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_transaction_is_invisible_to_every_reader() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("aborted_transaction_is_invisible") else {
        return;
    };
    integration_tests::init_logging();
    let topic = one_partition_topic(&bootstrap, "txn-abort").await;
    let producer = txn_producer(&bootstrap, &unique_topic("abort-txn"), &[]).await;
    abort_then_commit(producer, &topic, 100).await;
    let want = expected("committed", 100);

    let ours = values(&read_partition0(&bootstrap, &topic, true, Duration::from_secs(20)).await);
    let uncommitted =
        values(&read_partition0(&bootstrap, &topic, false, Duration::from_secs(20)).await);
    let (rdkafka, rdkafka_count) = peer_committed(&rdkafka_peer(&[
        "consume-committed",
        &bootstrap,
        &topic,
        "20",
    ]));
    let (java, java_count) =
        peer_committed(&java_peer(&["consume-committed", &bootstrap, &topic, "20"]));
    println!(
        "aborted 100 + committed 100: kafka-wire read_committed {}, kafka-wire read_uncommitted {}, librdkafka read_committed {rdkafka_count}, Java read_committed {java_count}",
        ours.len(),
        uncommitted.len()
    );
    assert_eq!(ours, want, "kafka-wire read_committed");
    assert_eq!(rdkafka, want, "librdkafka read_committed");
    assert_eq!(rdkafka_count, 100);
    assert_eq!(java, want, "Java read_committed");
    assert_eq!(java_count, 100);
    let mut all = expected("aborted", 100);
    all.extend(want);
    assert_eq!(uncommitted, all, "read_uncommitted sees both transactions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librdkafka_transactions_read_committed_by_us() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("librdkafka_transactions_read_committed") else {
        return;
    };
    integration_tests::init_logging();
    let topic = one_partition_topic(&bootstrap, "txn-rdkafka").await;
    let committed = rdkafka_peer(&["txn-produce", &bootstrap, &topic, "50", "kept", "commit"]);
    assert!(committed.contains("ok 50"), "{committed}");
    let aborted = rdkafka_peer(&["txn-produce", &bootstrap, &topic, "50", "dropped", "abort"]);
    assert!(aborted.contains("ok 50"), "{aborted}");

    let ours = values(&read_partition0(&bootstrap, &topic, true, Duration::from_secs(20)).await);
    let uncommitted =
        values(&read_partition0(&bootstrap, &topic, false, Duration::from_secs(20)).await);
    println!(
        "librdkafka committed 50 + aborted 50: kafka-wire read_committed {}, read_uncommitted {}",
        ours.len(),
        uncommitted.len()
    );
    assert_eq!(ours, expected("kept", 50));
    assert_eq!(uncommitted.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_timeout_aborts_and_commit_fails() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("transaction_timeout") else {
        return;
    };
    integration_tests::init_logging();
    let topic = one_partition_topic(&bootstrap, "txn-timeout").await;
    let producer = txn_producer(
        &bootstrap,
        &unique_topic("timeout-txn"),
        &[("transaction.timeout.ms", "2000")],
    )
    .await;
    producer.begin_transaction().unwrap();
    send_all(&producer, &topic, "expired", 10).await;
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;

    // The coordinator aborts timed-out transactions in a periodic scan (Kafka's
    // transaction.abort.timed.out.transaction.cleanup.interval.ms, 10 s by default): wait for
    // its abort marker (the log end moves past the 10 records) so the commit below races
    // nothing.
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let tp = TopicPartition::new(&topic, 0);
    loop {
        let end = admin
            .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
            .await
            .unwrap()[&tp]
            .offset;
        if end > 10 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the broker never aborted the timed-out transaction"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "transaction timeout: the broker aborted the transaction {:?} after it was written",
        began.elapsed()
    );

    let err = producer
        .commit_transaction()
        .await
        .expect_err("committing a timed-out transaction must fail");
    println!("transaction timeout: commit -> {err}");
    assert!(
        matches!(err, Error::Transaction { .. }) && err.transaction_kind().is_some(),
        "a transaction error with a kind: {err:?}"
    );

    let seen = read_partition0(&bootstrap, &topic, true, Duration::from_secs(15)).await;
    println!(
        "transaction timeout: read_committed sees {} of the 10 records",
        seen.len()
    );
    assert!(seen.is_empty(), "{:?}", values(&seen));

    // An abortable error leaves the producer usable after abort_transaction.
    if err.transaction_kind() == Some(TransactionErrorKind::Abortable) {
        producer.abort_transaction().await.unwrap();
        producer.begin_transaction().unwrap();
        send_all(&producer, &topic, "after", 1).await;
        producer.commit_transaction().await.unwrap();
        let seen =
            values(&read_partition0(&bootstrap, &topic, true, Duration::from_secs(15)).await);
        println!("transaction timeout: after abort, a new transaction commits: {seen:?}");
        assert_eq!(seen, expected("after", 1));
    }
}

/// `commit_transaction` must wait for every record of the transaction, including batches in
/// flight, before EndTxn: here the delivery futures are only awaited after the commit, as a
/// consume–transform–produce loop may do. A record failing after a successful commit is an
/// exactly-once violation (its input's offset was committed, its output is gone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_waits_for_records_in_flight() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("commit_waits_for_records_in_flight") else {
        return;
    };
    integration_tests::init_logging();
    const TRANSACTIONS: usize = 80;
    const PER_TRANSACTION: usize = 300;
    // 1 kB values: a transaction fills the requests the producer may have in flight.
    let padding = "x".repeat(1000);
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
    let topic = unique_topic("txn-inflight");
    create_ready_topic(&admin, NewTopic::new(&topic, 6, 1)).await;
    // A short transaction timeout bounds how long a stuck transaction can hang the test.
    let producer = txn_producer(
        &bootstrap,
        &unique_topic("inflight-txn"),
        &[("linger.ms", "5"), ("transaction.timeout.ms", "10000")],
    )
    .await;
    let started = Instant::now();
    let mut committed = 0;
    let mut failed = Vec::new();
    let mut commit_error = None;
    for t in 0..TRANSACTIONS {
        producer.begin_transaction().unwrap();
        let mut deliveries = Vec::with_capacity(PER_TRANSACTION);
        for i in 0..PER_TRANSACTION {
            let record = ProducerRecord::new(&topic)
                .partition((i % 6) as i32)
                .value(format!("t{t}-{i}-{padding}"));
            deliveries.push(producer.send(record).await.unwrap());
        }
        // As send_offsets_to_transaction's round trip in a copy loop: linger expires, the
        // batches go on the wire and are in flight when the commit starts.
        tokio::time::sleep(Duration::from_millis(5 + (t % 8) as u64)).await;
        if let Err(e) = producer.commit_transaction().await {
            commit_error = Some(format!("commit of transaction {t} failed: {e}"));
            break;
        }
        committed += 1;
        for (i, d) in deliveries.into_iter().enumerate() {
            if let Err(e) = d.await {
                failed.push(format!("transaction {t} record {i}: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    let _ = producer.close().await;
    let mut config = ConsumerConfig::new(&bootstrap);
    config.set("isolation.level", "read_committed").unwrap();
    let mut reader = Consumer::connect(config).await.unwrap();
    let tps: Vec<TopicPartition> = (0..6).map(|p| TopicPartition::new(&topic, p)).collect();
    reader.assign(tps.clone());
    for tp in &tps {
        reader.seek(tp, Offset::Beginning).unwrap();
    }
    let mut read = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        read += reader.poll(Duration::from_millis(300)).await.unwrap().len();
        if tps.iter().all(|tp| reader.at_end(tp)) {
            break;
        }
    }
    println!(
        "records in flight at commit: {committed} of {TRANSACTIONS} transactions of {PER_TRANSACTION} records committed in {elapsed:?}, {} records failed after their commit succeeded, read_committed reads {read} of {}",
        failed.len(),
        committed * PER_TRANSACTION
    );
    for f in failed.iter().take(3) {
        println!("  {f}");
    }
    if let Some(e) = &commit_error {
        println!("  {e}");
    }
    assert!(
        failed.is_empty(),
        "records failed after a successful commit (lost from committed transactions)"
    );
    assert_eq!(commit_error, None, "every commit succeeds");
    assert_eq!(read, committed * PER_TRANSACTION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_abort_read_committed_on_noida() {
    let Some(bootstrap) = Broker::Noida.bootstrap("commit_abort_read_committed_on_noida") else {
        return;
    };
    integration_tests::init_logging();
    let topic = one_partition_topic(&bootstrap, "txn-noida").await;
    let producer = txn_producer(&bootstrap, &unique_topic("noida-txn"), &[]).await;
    abort_then_commit(producer, &topic, 10).await;

    let ours = values(&read_partition0(&bootstrap, &topic, true, Duration::from_secs(20)).await);
    let uncommitted =
        values(&read_partition0(&bootstrap, &topic, false, Duration::from_secs(20)).await);
    println!(
        "noida: aborted 10 + committed 10: read_committed {}, read_uncommitted {}",
        ours.len(),
        uncommitted.len()
    );
    assert_eq!(ours, expected("committed", 10));
    let mut all = expected("aborted", 10);
    all.extend(expected("committed", 10));
    assert_eq!(uncommitted, all, "read_uncommitted sees both transactions");
}
