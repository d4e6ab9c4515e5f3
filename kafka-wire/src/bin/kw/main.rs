//! `kw`: a kcat-compatible command-line client in one static binary.
//!
//! ```text
//! kw -b localhost:9092 -L                       # metadata
//! echo 'k1:v1' | kw -b localhost:9092 -P -t t -K:   # produce
//! kw -b localhost:9092 -C -t t -o beginning -e -f '%k=%s\n'
//! kw -b localhost:9092 -Q -t t:0:1700000000000  # offset for a time
//! ```
//! Flags keep kcat's meaning (see `kw -h`); `-X` takes any client property, `-F` a file of
//! them. Failures print one line (`% ERROR: ...`) and exit non-zero.

/// musl's allocator maps and unmaps large buffers on every use (0.7-1 s of system time per
/// million records produced); the static build takes a pure-Rust dlmalloc instead.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

mod args;
mod config_file;
mod consume;
mod deser;
mod escape;
mod format;
mod group;
mod input;
mod log;
mod output;
mod produce;
mod properties;

use std::io::IsTerminal;

use args::{ArgError, Args, Command, Mode};
use kafka_wire::admin::{Admin, OffsetSpec};
use kafka_wire::cluster::TopicsToRefresh;
use kafka_wire::config::ClientConfig;
use kafka_wire::{Error, TopicPartition};

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut args = match args::parse(&argv) {
        Ok(Command::Run(a)) => a,
        Ok(Command::Help) => {
            println!("{}", args::usage());
            return;
        }
        Ok(Command::Version) => {
            println!("{}", properties::version());
            return;
        }
        Ok(Command::ListProperties) => {
            print!("{}", properties::list());
            return;
        }
        Err(e) => fail_usage(&e),
    };
    let finished = args.finish(|k| std::env::var(k).ok(), std::io::stdin().is_terminal());
    if let Err(e) = finished {
        fail_usage(&e);
    }
    if args.dump_config {
        print!("{}", properties::dump(&props(&args)));
        return;
    }
    match log::Filter::new(args.debug.as_deref(), args.verbosity) {
        Ok(f) => log::install(f),
        Err(e) => fail_usage(&ArgError::Usage(e)),
    }
    if args.mode_auto && !args.quiet() {
        let m = if args.mode() == Mode::Produce {
            "Producer"
        } else {
            "Consumer"
        };
        eprintln!("% Auto-selecting {m} mode (use -P or -C to override)");
    }
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
    if let Err(e) = runtime.block_on(run(&args)) {
        eprintln!("% ERROR: {e}");
        std::process::exit(1);
    }
    // The reader thread may still be blocked on stdin (after -c or Ctrl-C): do not wait.
    runtime.shutdown_background();
}

/// Print a command-line error (with the usage for a bad flag) and exit 1.
fn fail_usage(e: &ArgError) -> ! {
    match e {
        ArgError::Usage(_) => eprintln!("% ERROR: {e}\n{}", args::usage()),
        ArgError::ConfigFile(_) => eprintln!("% ERROR: {e}"),
    }
    std::process::exit(1);
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
    // librdkafka's name for the bootstrap list, common in kcat configuration files.
    p.extend(args.props.iter().map(|(k, v)| match k.as_str() {
        "metadata.broker.list" => ("bootstrap.servers".to_owned(), v.clone()),
        _ => (k.clone(), v.clone()),
    }));
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

async fn run(args: &Args) -> Result<(), Error> {
    match args.mode() {
        Mode::Metadata => metadata(args).await,
        Mode::Produce => produce::produce(args).await,
        Mode::Consume => consume::consume(args).await,
        Mode::Query => query(args).await,
        Mode::Group => group::group_consume(args).await,
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
