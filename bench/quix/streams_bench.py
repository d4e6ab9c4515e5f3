"""bench/quix/streams_bench.py: the Quix Streams 3.28.1 side of `bench streams-throughput`
(bench/src/throughput.rs), started by the benchmark with the venv's Python that
bench/quix/run-quix-bench prepares.

    python streams_bench.py --bootstrap H:P --app ID --topology wordcount|count --input T
        --output T --guarantee at-least-once|exactly-once --commit-s 0.1 --state-dir DIR

Topologies, as the Java and Rust sides:
  wordcount  lines (str) -> lower-case, split on \\W+ (ASCII, as Java's), empty words dropped
             (apply(expand=True)) -> group_by(word, name="counts") [repartition topic
             repartition__<app>--<input>--counts, str keys and values] -> a stateful count per
             word (RocksDB state, changelog topic) -> to_topic(output, str key, 8-byte
             big-endian long value)
  count      the input key counted: a stateful count per key -> to_topic(output)

Quix has no size-bounded record cache: state writes stay in memory in the checkpoint's
transaction and go to RocksDB and the changelog (once per key per checkpoint) at each commit
(commit_interval=0.1 s); every count update is produced to the output topic.

One process is one thread (Python); the benchmark runs several processes in one consumer group
for several threads. Runs until stdin closes (or SIGTERM), then stops.
"""

import argparse
import re
import struct
import sys
import threading

from quixstreams import Application
from quixstreams.models.serializers import Serializer

NON_WORD = re.compile(r"\W+", re.ASCII)


class LongSerializer(Serializer):
    """8-byte big-endian signed integers (Kafka's LongSerializer)."""

    def __call__(self, value, ctx):
        return struct.pack(">q", value)


def words(line):
    return [w for w in NON_WORD.split(line.lower()) if w]


def count(_value, state):
    n = state.get("n", 0) + 1
    state.set("n", n)
    return n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", default="127.0.0.1:19092")
    p.add_argument("--app", required=True)
    p.add_argument("--topology", choices=["wordcount", "count"], default="wordcount")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--guarantee", choices=["at-least-once", "exactly-once"], default="at-least-once")
    p.add_argument("--commit-s", type=float, default=0.1)
    p.add_argument("--state-dir", required=True)
    a = p.parse_args()

    app = Application(
        broker_address=a.bootstrap,
        consumer_group=a.app,
        auto_offset_reset="earliest",
        commit_interval=a.commit_s,
        state_dir=a.state_dir,
        processing_guarantee=a.guarantee,
        loglevel="WARNING",
    )
    inp = app.topic(a.input, key_deserializer="str", value_deserializer="str")
    out = app.topic(a.output, key_serializer="str", value_serializer=LongSerializer())
    sdf = app.dataframe(inp)
    if a.topology == "wordcount":
        sdf = sdf.apply(words, expand=True)
        sdf = sdf.group_by(
            lambda w: w,
            name="counts",
            key_serializer="str",
            value_serializer="str",
            key_deserializer="str",
            value_deserializer="str",
        )
    sdf = sdf.apply(count, stateful=True)
    sdf.to_topic(out)

    def watch_stdin():
        while sys.stdin.buffer.read(256):
            pass
        app.stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    app.run()
    print("closed", flush=True)


if __name__ == "__main__":
    main()
