#!/usr/bin/env python3
"""librdkafka (confluent-kafka) as an independent peer for interop tests.

  rdkafka_peer.py produce BOOTSTRAP TOPIC CODEC COUNT PREFIX BASE_TS
      Produce COUNT records to partition 0 with `compression.type=CODEC`; record i has key
      "PREFIX-k-i", value "PREFIX-v-i" repeated a few times (so it compresses), header
      ("idx", str(i)), and timestamp BASE_TS + i (use a current time: some brokers apply
      retention to old CreateTime stamps). Prints "ok COUNT".
  rdkafka_peer.py consume BOOTSTRAP TOPIC COUNT
      Read partition 0 from the beginning until COUNT records arrived (30 s max) and print one
      JSON object per record: key, value, headers, offset, timestamp.
  rdkafka_peer.py txn-produce BOOTSTRAP TOPIC COUNT PREFIX commit|abort
      A transactional producer (a unique transactional.id): init_transactions, begin, COUNT
      records to partition 0 (key "PREFIX-k-i", value "PREFIX-i"), flush (so the records are
      in the log either way), then commit or abort the transaction. Prints "ok COUNT".
  rdkafka_peer.py consume-committed BOOTSTRAP TOPIC SECONDS
      isolation.level=read_committed: read partition 0 from the beginning until the end of the
      partition (the last stable offset) or SECONDS passed; one JSON line per record as
      `consume`, then "count N".
"""
import json
import sys
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition


def flush_or_exit(p, errors):
    """Wait for every delivery; exit 1 naming the failures if any."""
    left = p.flush(30)
    if left or errors:
        print(f"failed: {left} unflushed, errors {errors[:3]}", file=sys.stderr)
        sys.exit(1)


def print_record(m):
    """One JSON line per record: key, value, headers, offset, timestamp."""
    hdrs = [[k, v.decode() if v is not None else None] for k, v in (m.headers() or [])]
    print(json.dumps({
        "key": m.key().decode() if m.key() is not None else None,
        "value": m.value().decode() if m.value() is not None else None,
        "headers": hdrs,
        "offset": m.offset(),
        "timestamp": m.timestamp()[1],
    }))


def produce(bootstrap, topic, codec, count, prefix, base_ts):
    p = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": codec,
        "linger.ms": 50,
        "enable.idempotence": False,
        "acks": "all",
    })
    errors = []
    for i in range(count):
        value = (f"{prefix}-v-{i}|" * 8).encode()
        p.produce(topic, key=f"{prefix}-k-{i}".encode(), value=value, partition=0,
                  headers=[("idx", str(i).encode())], timestamp=base_ts + i,
                  on_delivery=lambda err, msg: err and errors.append(str(err)))
    flush_or_exit(p, errors)
    print(f"ok {count}")


def consume(bootstrap, topic, count):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "rdkafka-peer",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    deadline = time.time() + 30
    while got < count and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            print(f"error: {m.error()}", file=sys.stderr)
            sys.exit(1)
        print_record(m)
        got += 1
    c.close()
    if got < count:
        print(f"only {got} of {count} records", file=sys.stderr)
        sys.exit(1)


def txn_produce(bootstrap, topic, count, prefix, outcome):
    if outcome not in ("commit", "abort"):
        sys.exit(f"txn-produce: expected commit or abort, got {outcome}")
    p = Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": f"rdkafka-peer-{prefix}-{uuid.uuid4()}",
        "linger.ms": 20,
    })
    errors = []
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(count):
        p.produce(topic, key=f"{prefix}-k-{i}".encode(), value=f"{prefix}-{i}".encode(),
                  partition=0, on_delivery=lambda err, msg: err and errors.append(str(err)))
    flush_or_exit(p, errors)
    if outcome == "commit":
        p.commit_transaction(30)
    else:
        p.abort_transaction(30)
    print(f"ok {count}")


def consume_committed(bootstrap, topic, seconds):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "rdkafka-peer",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    })
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                break
            print(f"error: {m.error()}", file=sys.stderr)
            sys.exit(1)
        print_record(m)
        got += 1
    c.close()
    print(f"count {got}")


def group(bootstrap, group_id, topic, assignor, seconds):
    """A group member: prints "assignment p,p,..." whenever its assignment changes."""
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "partition.assignment.strategy": assignor,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 500,
    })
    c.subscribe([topic])
    end = time.time() + seconds
    last = None
    n = 0
    while time.time() < end:
        m = c.poll(0.2)
        if m is not None and not m.error():
            n += 1
        now = ",".join(str(p) for p in sorted(tp.partition for tp in c.assignment()))
        if now != last:
            print(f"assignment {now}", flush=True)
            last = now
    print(f"records {n}", flush=True)
    c.close()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6], int(sys.argv[7]))
    elif cmd == "consume":
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "txn-produce":
        txn_produce(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif cmd == "consume-committed":
        consume_committed(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "group":
        group(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        sys.exit(f"unknown command {cmd}")
