//! `-C`: read partitions of one topic (all, or `-p`) from `-o`, print each record in the
//! `-f`/`-J` format; `-e` exits once every partition has reached its end, `-c` after a count.

use std::io::{BufWriter, Write};
use std::time::Duration;

use kafka_wire::cluster::TopicsToRefresh;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::{Error, TopicPartition};

use crate::args::{Args, StartOffset};
use crate::format::{FormatError, RecordFormat};

/// Print a record; a deserialization failure is reported and skipped with `-E`.
pub fn print(
    out: &mut impl Write,
    fmt: &RecordFormat,
    args: &Args,
    r: &kafka_wire::consumer::ConsumerRecord,
) -> Result<(), Error> {
    match fmt.write(out, r) {
        Ok(()) => Ok(()),
        Err(e @ FormatError::Deserialize { .. }) if args.no_exit_on_error => {
            eprintln!("% ERROR: {e}");
            Ok(())
        }
        Err(e) => Err(Error::InvalidArgument(e.to_string())),
    }
}

/// Tracks which partitions have reached their end, for `-e` and kcat's EOF notices.
#[derive(Default)]
pub struct EndTracker {
    at_end: std::collections::BTreeSet<TopicPartition>,
}

impl EndTracker {
    /// Note every partition of `tps` now at its end (printing kcat's notice once each);
    /// returns whether all of them are.
    pub fn update(&mut self, consumer: &Consumer, tps: &[TopicPartition], args: &Args) -> bool {
        let mut all = !tps.is_empty();
        for tp in tps {
            if !consumer.at_end(tp) {
                self.at_end.remove(tp);
                all = false;
            }
        }
        for tp in tps {
            if consumer.at_end(tp) && self.at_end.insert(tp.clone()) && !args.quiet() {
                eprintln!(
                    "% Reached end of topic {} [{}] at offset {}{}",
                    tp.topic,
                    tp.partition,
                    consumer.position(tp).unwrap_or(-1),
                    if all && args.exit_at_end {
                        ": exiting"
                    } else {
                        ""
                    }
                );
            }
        }
        all
    }
}

pub async fn consume(args: &Args) -> Result<(), Error> {
    if args.offset == StartOffset::Stored {
        return Err(Error::InvalidArgument(
            "-o stored reads a group's committed offsets: use -G <group> <topic>".into(),
        ));
    }
    let mut config = ConsumerConfig {
        client: crate::base_client(args)?,
        ..ConsumerConfig::default()
    };
    config.set("default.api.timeout.ms", "10000")?;
    for (k, v) in crate::props(args) {
        config.set(&k, &v)?;
    }
    let fmt = RecordFormat::new(args).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let mut consumer = Consumer::connect(config).await?;
    let topic = args.topics[0].clone();
    consumer
        .client()
        .refresh_metadata(TopicsToRefresh::Some(vec![topic.clone()]))
        .await?;
    let count = consumer
        .client()
        .metadata()
        .partition_count(&topic)
        .ok_or_else(|| Error::InvalidArgument(format!("topic {topic} does not exist")))?;
    let tps: Vec<TopicPartition> = match args.partition {
        Some(p) => vec![TopicPartition::new(topic.clone(), p)],
        None => (0..count as i32)
            .map(|p| TopicPartition::new(topic.clone(), p))
            .collect(),
    };
    consumer.assign(tps.clone());
    let start = match args.offset {
        StartOffset::Beginning | StartOffset::Stored => Offset::Beginning,
        StartOffset::End => Offset::End,
        StartOffset::At(o) => Offset::At(o),
        StartOffset::FromEnd(n) => Offset::FromEnd(n),
        StartOffset::Timestamp(t) => Offset::Timestamp(t),
    };
    for tp in &tps {
        consumer.seek(tp, start)?;
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut seen = 0u64;
    let mut ends = EndTracker::default();
    let io = |e: std::io::Error| Error::InvalidArgument(format!("cannot write output: {e}"));
    loop {
        let records = consumer.poll(Duration::from_millis(500)).await?;
        for r in &records {
            print(&mut out, &fmt, args, r)?;
            seen += 1;
            if args.count.is_some_and(|c| seen >= c) {
                out.flush().map_err(io)?;
                return Ok(());
            }
        }
        if records.is_empty() || args.exit_at_end {
            let all = ends.update(&consumer, &tps, args);
            if args.exit_at_end && records.is_empty() && all {
                out.flush().map_err(io)?;
                return Ok(());
            }
        }
    }
}
