//! `-G group topic...`: kcat's balanced consumer. `-o` is the reset policy when the group has
//! no committed offset; rebalances are reported on stderr; SIGINT/SIGTERM commit what was
//! printed and leave the group.

use std::io::{BufWriter, Write};

use futures_util::StreamExt;
use kafka_wire::consumer::{Consumer, ConsumerConfig, ConsumerEvent};
use kafka_wire::Error;

use crate::args::{Args, StartOffset};
use crate::output;

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
    let mut consumer = Consumer::connect(config).await?;
    consumer.subscribe(args.topics.clone())?;
    let fmt = output::record_format(args);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| Error::InvalidArgument(format!("cannot write output: {e}"));
    let mut seen = 0u64;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::InvalidArgument(format!("cannot watch SIGTERM: {e}")))?;
    {
        let mut events = consumer.events();
        loop {
            let event = tokio::select! {
                e = events.next() => e,
                _ = tokio::signal::ctrl_c() => None,
                _ = term.recv() => None,
            };
            let Some(event) = event else { break };
            match event? {
                ConsumerEvent::Record(r) => {
                    output::write_record(&mut out, args, &fmt, &r).map_err(io)?;
                    seen += 1;
                    if args.count.is_some_and(|c| seen >= c) {
                        break;
                    }
                }
                ConsumerEvent::Assigned(tps) if !args.quiet => {
                    out.flush().map_err(io)?;
                    eprintln!("% Group {group} rebalanced: assigned {}", list(&tps));
                }
                ConsumerEvent::Revoked(tps) if !args.quiet => {
                    out.flush().map_err(io)?;
                    eprintln!("% Group {group} rebalanced: revoked {}", list(&tps));
                }
                ConsumerEvent::Lost(tps) if !args.quiet => {
                    out.flush().map_err(io)?;
                    eprintln!("% Group {group}: lost {}", list(&tps));
                }
                _ => {}
            }
        }
    }
    out.flush().map_err(io)?;
    // Everything printed was handed to the user: commit it, then leave.
    consumer.commit_consumed().await?;
    consumer.close().await?;
    if !args.quiet {
        eprintln!("% Left group {group} after {seen} messages");
    }
    Ok(())
}

fn list(tps: &[kafka_wire::TopicPartition]) -> String {
    if tps.is_empty() {
        return "nothing".into();
    }
    tps.iter()
        .map(|tp| tp.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
