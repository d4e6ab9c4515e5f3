//! `-G group topic...`: kcat's balanced consumer. `-o` is the reset policy when the group has
//! no committed offset; rebalances are reported on stderr; `-e` exits once every assigned
//! partition has reached its end; SIGINT/SIGTERM commit what was printed and leave the group.

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use kafka_wire::consumer::{Committer, Consumer, ConsumerConfig, RebalanceListener};
use kafka_wire::{Error, TopicPartition};

use crate::args::{Args, StartOffset};
use crate::consume::{print, EndTracker};
use crate::format::RecordFormat;

/// Prints kcat-style rebalance notices.
struct Notices {
    group: String,
}

impl Notices {
    fn say<'a>(&'a self, what: &'a str, tps: &'a [TopicPartition]) -> BoxFuture<'a, ()> {
        eprintln!("% Group {} rebalanced: {what} {}", self.group, list(tps));
        Box::pin(async {})
    }
}

impl RebalanceListener for Notices {
    fn on_partitions_revoked<'a>(
        &'a self,
        _: &'a Committer,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        self.say("revoked", tps)
    }

    fn on_partitions_assigned<'a>(
        &'a self,
        _: &'a Committer,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        self.say("assigned", tps)
    }

    fn on_partitions_lost<'a>(
        &'a self,
        _: &'a Committer,
        tps: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        eprintln!("% Group {}: lost {}", self.group, list(tps));
        Box::pin(async {})
    }
}

pub async fn group_consume(args: &Args) -> Result<(), Error> {
    let group = args
        .group
        .clone()
        .ok_or_else(|| Error::InvalidArgument("-G needs a group id".into()))?;
    if args.topics.is_empty() {
        return Err(Error::InvalidArgument(
            "-G needs at least one topic: kw -G <group> <topic>...".into(),
        ));
    }
    let mut config = ConsumerConfig {
        client: crate::base_client(args)?,
        ..ConsumerConfig::default()
    };
    config.set("default.api.timeout.ms", "10000")?;
    config.set("group.id", &group)?;
    match args.offset {
        StartOffset::Beginning => {
            config.set("auto.offset.reset", "earliest")?;
        }
        StartOffset::End => {
            config.set("auto.offset.reset", "latest")?;
        }
        StartOffset::Stored => {}
        _ => {
            return Err(Error::InvalidArgument(
                "with -G, -o can only be beginning, end or stored (the reset policy)".into(),
            ))
        }
    }
    for (k, v) in crate::props(args) {
        config.set(&k, &v)?;
    }
    // One record per poll: `poll` marks a record consumed when it takes it, and a poll that
    // went on collecting could auto-commit it before it is printed (a SIGKILL then loses it).
    // A poll that returns right after taking its record also cannot be cancelled (by a signal)
    // between the two.
    config.set("max.poll.records", "1")?;
    let fmt = RecordFormat::new(args).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let mut consumer = Consumer::connect(config).await?;
    consumer.subscribe(args.topics.clone())?;
    if !args.quiet() {
        consumer.set_rebalance_listener(Arc::new(Notices {
            group: group.clone(),
        }))?;
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let io = |e: std::io::Error| Error::InvalidArgument(format!("cannot write output: {e}"));
    let mut seen = 0u64;
    let mut ends = EndTracker::default();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::InvalidArgument(format!("cannot watch SIGTERM: {e}")))?;
    'run: loop {
        let records = tokio::select! {
            r = consumer.poll(Duration::from_millis(500)) => r?,
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        };
        for r in &records {
            print(&mut out, &fmt, args, r)?;
            seen += 1;
            if args.count.is_some_and(|c| seen >= c) {
                break 'run;
            }
        }
        if args.exit_at_end {
            let assigned = consumer.assignment();
            if ends.update(&consumer, &assigned, args) && records.is_empty() {
                break;
            }
        }
        if records.is_empty() {
            out.flush().map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    // Everything printed was handed to the user: commit it, then leave.
    consumer.commit_consumed().await?;
    consumer.close().await?;
    if !args.quiet() {
        eprintln!("% Left group {group} after {seen} messages");
    }
    Ok(())
}

fn list(tps: &[TopicPartition]) -> String {
    if tps.is_empty() {
        return "nothing".into();
    }
    tps.iter()
        .map(|tp| tp.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
