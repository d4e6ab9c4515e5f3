//! `kw`: a kcat-compatible command-line client in one static binary.
//!
//! ```text
//! kw -b localhost:9092 -L                       # metadata
//! echo 'k1:v1' | kw -b localhost:9092 -P -t t -K:   # produce
//! kw -b localhost:9092 -C -t t -o beginning -e -f '%k=%s\n'
//! kw -b localhost:9092 -Q -t t:0:1700000000000  # offset for a time
//! ```
//! Flags keep kcat's meaning (see `kw -h`); `-X` takes any client property. Failures print
//! one line (`% ERROR: ...`) and exit non-zero.

mod args;
mod group;
mod output;

use std::io::{BufWriter, Read, Write};
use std::time::Duration;

use args::{Args, Mode, StartOffset};
use kafka_wire::admin::{Admin, OffsetSpec};
use kafka_wire::cluster::TopicsToRefresh;
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::{Error, TopicPartition};

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{}", args::usage());
            return;
        }
        Err(e) => {
            eprintln!("% ERROR: {e}\n{}", args::usage());
            std::process::exit(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("% ERROR: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("% ERROR: {e}");
        std::process::exit(1);
    }
}

pub(crate) fn props(args: &Args) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = Vec::new();
    if let Some(b) = &args.brokers {
        p.push(("bootstrap.servers".into(), b.clone()));
    }
    if let Some(s) = args.timeout_secs {
        p.push(("request.timeout.ms".into(), (s * 1000).to_string()));
        p.push(("default.api.timeout.ms".into(), (s * 1000).to_string()));
        p.push((
            "socket.connection.setup.timeout.ms".into(),
            (s * 1000).to_string(),
        ));
    }
    p.extend(args.props.iter().map(|(k, v)| (k.clone(), v.clone())));
    p
}

/// Where every configuration starts: the defaults, or the Event Hubs profile.
pub(crate) fn base_client(args: &Args) -> Result<ClientConfig, Error> {
    Ok(match &args.event_hubs {
        Some(cs) => ClientConfig::event_hubs(cs)?,
        None => ClientConfig::default(),
    })
}

fn client_config(args: &Args) -> Result<ClientConfig, Error> {
    let mut c = base_client(args)?;
    // Short timeouts by default: a CLI should fail fast on an unreachable broker.
    c.set("default.api.timeout.ms", "10000")?;
    c.set("socket.connection.setup.timeout.ms", "5000")?;
    for (k, v) in props(args) {
        c.set(&k, &v)?;
    }
    Ok(c)
}

async fn run(args: Args) -> Result<(), Error> {
    match args.mode {
        Mode::Metadata => metadata(&args).await,
        Mode::Produce => produce(&args).await,
        Mode::Consume => consume(&args).await,
        Mode::Query => query(&args).await,
        Mode::Group => group::group_consume(&args).await,
    }
}

async fn metadata(args: &Args) -> Result<(), Error> {
    let admin = Admin::connect(client_config(args)?).await?;
    let client = admin.client();
    match args.topics.first() {
        Some(t) => {
            client
                .refresh_metadata(TopicsToRefresh::Some(vec![t.clone()]))
                .await?
        }
        None => client.refresh_metadata(TopicsToRefresh::All).await?,
    }
    let mut m = client.metadata();
    if let Some(t) = args.topics.first() {
        m.topics.retain(|name, _| name == t);
    }
    let from = client
        .config()
        .bootstrap_servers
        .first()
        .map(|b| b.to_string())
        .unwrap_or_default();
    if args.json {
        println!(
            "{}",
            output::metadata_json(&m, &from, args.topics.first().map(String::as_str))
        );
    } else {
        print!("{}", output::metadata_text(&m, &from));
    }
    Ok(())
}

async fn produce(args: &Args) -> Result<(), Error> {
    let mut config = match &args.event_hubs {
        Some(cs) => ProducerConfig::event_hubs(cs)?,
        None => ProducerConfig::default(),
    };
    config.set("default.api.timeout.ms", "10000")?;
    config.set("max.block.ms", "10000")?;
    for (k, v) in props(args) {
        config.set(&k, &v)?;
    }
    if let Some(z) = &args.codec {
        config.set("compression.type", z)?;
    }
    let producer = Producer::connect(config).await?;
    let mut input = Vec::new();
    let io = |e: std::io::Error| Error::InvalidArgument(format!("cannot read input: {e}"));
    if args.files.is_empty() {
        std::io::stdin().read_to_end(&mut input).map_err(io)?;
    } else {
        for f in &args.files {
            input.extend(std::fs::read(f).map_err(io)?);
            if !input.ends_with(args.delim.as_bytes()) {
                input.extend_from_slice(args.delim.as_bytes());
            }
        }
    }
    let topic = &args.topics[0];
    let text = String::from_utf8_lossy(&input);
    let mut deliveries = Vec::new();
    for (n, msg) in text.split(args.delim.as_str()).enumerate() {
        if msg.is_empty() || args.count.is_some_and(|c| n as u64 >= c) {
            continue;
        }
        let mut record = ProducerRecord::new(topic.clone());
        let value = match &args.key_delim {
            Some(d) => match msg.split_once(d.as_str()) {
                Some((k, v)) => {
                    record = record.key(k.to_owned());
                    v
                }
                None => msg,
            },
            None => msg,
        };
        if let Some(k) = &args.fixed_key {
            record = record.key(k.clone());
        }
        if let Some(p) = args.partition {
            record = record.partition(p);
        }
        for (hn, hv) in &args.headers {
            record = record.header(hn.clone(), hv.clone());
        }
        deliveries.push(producer.send(record.value(value.to_owned())).await?);
    }
    let total = deliveries.len();
    let mut failed = 0;
    for d in deliveries {
        if let Err(e) = d.await {
            failed += 1;
            eprintln!("% ERROR: delivery failed: {e}");
            if !args.no_exit_on_error {
                break;
            }
        }
    }
    producer.close().await?;
    if failed > 0 {
        return Err(Error::InvalidArgument(format!(
            "{failed} of {total} messages were not delivered"
        )));
    }
    if !args.quiet {
        eprintln!("% Delivered {total} messages to {topic}");
    }
    Ok(())
}

async fn consume(args: &Args) -> Result<(), Error> {
    if args.offset == StartOffset::Stored {
        return Err(Error::InvalidArgument(
            "-o stored reads a group's committed offsets: use -G <group> <topic>".into(),
        ));
    }
    let mut config = ConsumerConfig {
        client: base_client(args)?,
        ..ConsumerConfig::default()
    };
    config.set("default.api.timeout.ms", "10000")?;
    for (k, v) in props(args) {
        config.set(&k, &v)?;
    }
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
    let fmt = output::record_format(args);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut seen = 0u64;
    let io = |e: std::io::Error| Error::InvalidArgument(format!("cannot write output: {e}"));
    loop {
        let records = consumer.poll(Duration::from_millis(500)).await?;
        for r in &records {
            output::write_record(&mut out, args, &fmt, r).map_err(io)?;
            seen += 1;
            if args.count.is_some_and(|c| seen >= c) {
                out.flush().map_err(io)?;
                return Ok(());
            }
        }
        if args.exit_at_end && records.is_empty() && tps.iter().all(|tp| consumer.at_end(tp)) {
            out.flush().map_err(io)?;
            if !args.quiet {
                eprintln!("% Reached end of topic {topic} ({seen} messages)");
            }
            return Ok(());
        }
    }
}

/// `-Q -t topic:partition:timestamp ...`: the first offset at or after each time.
async fn query(args: &Args) -> Result<(), Error> {
    let mut specs = Vec::new();
    for t in &args.topics {
        let mut parts = t.rsplitn(3, ':');
        let (ts, p, topic) = (parts.next(), parts.next(), parts.next());
        let (Some(ts), Some(p), Some(topic)) = (ts, p, topic) else {
            return Err(Error::InvalidArgument(format!(
                "-Q needs -t <topic>:<partition>:<timestamp>, got {t:?}"
            )));
        };
        let p: i32 = p
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("invalid partition in {t:?}")))?;
        let ts: i64 = ts
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("invalid timestamp in {t:?}")))?;
        specs.push((TopicPartition::new(topic, p), OffsetSpec::Timestamp(ts)));
    }
    if specs.is_empty() {
        return Err(Error::InvalidArgument(
            "-Q needs at least one -t <topic>:<partition>:<timestamp>".into(),
        ));
    }
    let admin = Admin::connect(client_config(args)?).await?;
    let offsets = admin.list_offsets(&specs).await?;
    if args.json {
        let mut by_topic = serde_json::Map::new();
        for (tp, o) in &offsets {
            let entry = by_topic
                .entry(tp.topic.clone())
                .or_insert_with(|| serde_json::json!({"topic": tp.topic}));
            entry[tp.partition.to_string()] =
                serde_json::json!({"partition": tp.partition, "offset": o.offset});
        }
        println!("{}", serde_json::Value::Object(by_topic));
    } else {
        for (tp, o) in &offsets {
            println!("{} [{}] offset {}", tp.topic, tp.partition, o.offset);
        }
    }
    Ok(())
}
