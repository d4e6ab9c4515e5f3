//! `-P`: produce stdin (or files) as kcat does, streaming.
//!
//! Input is split by the reader thread ([`crate::input`]); each message goes to
//! [`Producer::send`] as soon as its batch arrives, and delivery reports are consumed as they
//! complete from a bounded window, so memory stays bounded whatever the input size (the
//! producer's own `buffer.memory` bounds what is queued). Without `-l`, each file argument
//! is one message. A message that cannot be queued ends the run (`Failed to produce
//! message`); a failed delivery is reported (`% Delivery failed for message: ...`) and makes
//! the exit status 1, as in kcat.

use std::collections::VecDeque;
use std::io::Write;

use bytes::Bytes;
use futures_util::FutureExt;
use kafka_wire::producer::{
    DeliveryFuture, Producer, ProducerConfig, ProducerRecord, RecordMetadata,
};
use kafka_wire::protocol::record_batch::Header;
use kafka_wire::Error;

use crate::args::Args;
use crate::input::{spawn_reader, KeySplit, Message, Source};

/// Delivery reports not yet consumed, at most (librdkafka's default queue limit).
const WINDOW: usize = 100_000;

/// Ready reports are taken once per this many sends (each look polls a future).
const REAP_EVERY: u32 = 256;

/// The outstanding deliveries, oldest first, and what has been reported so far.
struct Deliveries {
    queue: VecDeque<DeliveryFuture>,
    /// Sends since the last look for ready reports.
    since_reap: u32,
    delivered: u64,
    failed: u64,
    verbosity: u8,
}

impl Deliveries {
    fn note(&mut self, r: Result<RecordMetadata, Error>) {
        match r {
            Ok(m) => {
                self.delivered += 1;
                if self.verbosity >= 3 {
                    eprintln!(
                        "% Message delivered to partition {} (offset {})",
                        m.partition, m.offset
                    );
                }
            }
            Err(e) => {
                self.failed += 1;
                if self.verbosity >= 1 {
                    eprintln!("% Delivery failed for message: {e}");
                }
            }
        }
    }

    /// Take the reports that are ready, without waiting.
    fn reap(&mut self) {
        while let Some(front) = self.queue.front_mut() {
            let Some(r) = front.now_or_never() else { break };
            self.queue.pop_front();
            self.note(r);
        }
    }

    /// Track `d`; wait for the oldest while the window is full.
    async fn push(&mut self, d: DeliveryFuture) {
        self.queue.push_back(d);
        self.since_reap += 1;
        if self.since_reap >= REAP_EVERY {
            self.since_reap = 0;
            self.reap();
        }
        while self.queue.len() > WINDOW {
            if let Some(front) = self.queue.pop_front() {
                let r = front.await;
                self.note(r);
            }
        }
    }

    /// Wait for every outstanding report.
    async fn finish(&mut self) {
        while let Some(front) = self.queue.pop_front() {
            let r = front.await;
            self.note(r);
        }
    }
}

/// What every record shares.
struct Template {
    topic: String,
    partition: Option<i32>,
    fixed_key: Option<Bytes>,
    headers: Vec<Header>,
}

impl Template {
    fn record(&self, key: Option<Bytes>, value: Option<Bytes>, ts: i64) -> ProducerRecord {
        ProducerRecord {
            topic: self.topic.clone(),
            partition: self.partition,
            key: key.or_else(|| self.fixed_key.clone()),
            value,
            headers: self.headers.clone(),
            timestamp: Some(ts),
        }
    }
}

fn config(args: &Args) -> Result<ProducerConfig, Error> {
    let mut config = match &args.event_hubs {
        Some(cs) => ProducerConfig::event_hubs(cs)?,
        None => ProducerConfig::default(),
    };
    config.set("default.api.timeout.ms", "10000")?;
    config.set("max.block.ms", "10000")?;
    // librdkafka's (kcat's) batch size: a CLI sends bulk input, and 16 KiB batches (the Java
    // default) cost a request per ~150 small records. `-X batch.size=...` overrides it.
    config.set("batch.size", "1000000")?;
    for (k, v) in crate::props(args) {
        config.set(&k, &v)?;
    }
    if let Some(z) = &args.codec {
        config.set("compression.type", z)?;
    }
    Ok(config)
}

pub async fn produce(args: &Args) -> Result<(), Error> {
    let config = config(args)?;
    let max = config.max_request_size;
    let producer = Producer::connect(config).await?;
    let t = Template {
        topic: args.topics[0].clone(),
        partition: args.partition,
        fixed_key: args.fixed_key.clone().map(Bytes::from),
        headers: args
            .headers
            .iter()
            .map(|(n, v)| Header::new(n.clone(), Some(Bytes::from(v.clone()))))
            .collect(),
    };
    let mut deliveries = Deliveries {
        queue: VecDeque::new(),
        since_reap: 0,
        delivered: 0,
        failed: 0,
        verbosity: args.verbosity,
    };
    let run = if args.files.is_empty() || args.line_mode {
        let source = match args.files.first() {
            Some(f) => Source::File(f.clone()),
            None => Source::Stdin,
        };
        send_delimited(args, &producer, &t, &mut deliveries, source, max).await
    } else {
        send_files(args, &producer, &t, &mut deliveries).await
    };
    // What was queued is delivered (or fails) before exiting, even after an error.
    deliveries.finish().await;
    producer.close().await?;
    run?;
    let total = deliveries.delivered + deliveries.failed;
    if deliveries.failed > 0 {
        return Err(Error::InvalidArgument(format!(
            "{} of {total} messages were not delivered",
            deliveries.failed
        )));
    }
    if !args.quiet() {
        eprintln!("% Delivered {total} messages to {}", t.topic);
    }
    Ok(())
}

/// Queue one record; kcat ends the run when a message cannot be queued.
async fn send(
    producer: &Producer,
    deliveries: &mut Deliveries,
    record: ProducerRecord,
) -> Result<(), Error> {
    let len = record.value.as_ref().map_or(0, |v| v.len());
    let d = producer.send(record).await.map_err(|e| {
        Error::InvalidArgument(format!("Failed to produce message ({len} bytes): {e}"))
    })?;
    deliveries.push(d).await;
    Ok(())
}

async fn send_delimited(
    args: &Args,
    producer: &Producer,
    t: &Template,
    deliveries: &mut Deliveries,
    source: Source,
    max: usize,
) -> Result<(), Error> {
    let split = KeySplit {
        key_delim: args.key_delim.clone(),
        null: args.null,
        keep_line: args.tee,
    };
    let mut batches = spawn_reader(source, args.delim.clone(), split, max);
    let stdout = std::io::stdout();
    let mut tee = args.tee.then(|| std::io::BufWriter::new(stdout.lock()));
    let io = |e: std::io::Error| Error::InvalidArgument(format!("Tee write error: {e}"));
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let mut sent = 0u64;
    'input: loop {
        let batch = tokio::select! {
            biased;
            _ = &mut interrupted => break,
            b = batches.recv() => b,
        };
        let Some(batch) = batch else { break };
        let batch = batch.map_err(|e| Error::InvalidArgument(e.to_string()))?;
        // The messages of a batch were read together: they share the time they are sent at.
        let ts = now_ms();
        for Message { line, key, value } in batch {
            send(producer, deliveries, t.record(key, value, ts)).await?;
            if let (Some(out), Some(line)) = (tee.as_mut(), line) {
                // As kcat: the message as read, without its delimiter.
                out.write_all(&line).map_err(io)?;
                if args.unbuffered {
                    out.flush().map_err(io)?;
                }
            }
            sent += 1;
            if args.count == Some(sent) {
                break 'input;
            }
        }
    }
    if let Some(mut out) = tee {
        out.flush().map_err(io)?;
    }
    Ok(())
}

/// Without `-l`: each file is one message (empty files are skipped, unreadable ones
/// reported; the run fails only when no file could be sent).
async fn send_files(
    args: &Args,
    producer: &Producer,
    t: &Template,
    deliveries: &mut Deliveries,
) -> Result<(), Error> {
    let mut good = 0;
    for path in &args.files {
        match std::fs::read(path) {
            Ok(data) if data.is_empty() => good += 1,
            Ok(data) => {
                let record = t.record(None, Some(Bytes::from(data)), now_ms());
                send(producer, deliveries, record).await?;
                good += 1;
            }
            Err(e) if !args.quiet() => eprintln!("% Failed to open {path}: {e}"),
            Err(_) => {}
        }
        if args.count.is_some_and(|c| good as u64 >= c) {
            break;
        }
    }
    if good == 0 {
        return Err(Error::InvalidArgument(
            "no file could be read to produce".into(),
        ));
    }
    if good < args.files.len() && !args.quiet() {
        eprintln!(
            "% Failed to produce from {}/{} files",
            args.files.len() - good,
            args.files.len()
        );
    }
    Ok(())
}

/// Milliseconds since the epoch (the records' CreateTime).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
