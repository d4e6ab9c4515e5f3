//! Punctuation on Apache Kafka, as Kafka Streams specifies it: a stream-time punctuator is
//! aligned to 0, fires at the first record and then once per interval boundary that stream
//! time crosses, checked between processing rounds and called with the current stream time; a
//! wall-clock punctuator fires every interval of real time, records or not.

use std::time::{Duration, Instant};

use integration_tests::{create_ready_topic, unique_topic, Broker};
use kafka_wire::admin::{Admin, NewTopic};
use kafka_wire::config::ClientConfig;
use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
use kafka_wire::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_wire::TopicPartition;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext, PunctuationType};
use streams_core::record::Record;
use streams_core::runtime::{KafkaStreams, StreamsConfig};
use streams_core::serde::StringSerde;
use streams_core::topology::TopologyBuilder;

struct Punctuating;

impl Processor<Option<String>, String, String, String> for Punctuating {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<(), BoxError> {
        ctx.schedule(
            Duration::from_secs(1),
            PunctuationType::StreamTime,
            |ctx, t| {
                ctx.forward(Record::new("stream".into(), t.to_string(), t))?;
                Ok(())
            },
        );
        ctx.schedule(
            Duration::from_millis(300),
            PunctuationType::WallClockTime,
            |ctx, t| {
                ctx.forward(Record::new("wall".into(), t.to_string(), t))?;
                Ok(())
            },
        );
        Ok(())
    }

    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<'_, String, String>,
        _r: Record<Option<String>, String>,
    ) -> Result<(), BoxError> {
        Ok(())
    }
}

#[test]
fn stream_time_and_wall_clock_punctuation_fire_as_kafka_streams_specifies() {
    let Some(bootstrap) = Broker::Kafka.bootstrap("streams_punctuation") else {
        return;
    };
    integration_tests::init_logging();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let input = unique_topic("punct-in");
    let output = unique_topic("punct-out");
    rt.block_on(async {
        let admin = Admin::connect(ClientConfig::new(&bootstrap)).await.unwrap();
        // The records carry 1970 timestamps: without retention.ms=-1 the broker's retention
        // check (every 5 min) may delete them before the application reads them.
        for topic in [&input, &output] {
            create_ready_topic(
                &admin,
                NewTopic::new(topic, 1, 1).config("retention.ms", "-1"),
            )
            .await;
        }
        // One batch, so the application fetches all five records at once.
        let producer = Producer::connect(ProducerConfig::new(&bootstrap))
            .await
            .unwrap();
        let mut deliveries = Vec::new();
        for ts in [1_000i64, 1_400, 2_600, 2_700, 5_200] {
            let r = ProducerRecord::new(&input)
                .value(format!("at {ts}"))
                .timestamp(ts);
            deliveries.push(producer.send(r).await.unwrap());
        }
        for d in deliveries {
            d.await.unwrap();
        }
    });

    let mut b = TopologyBuilder::new();
    let src = b
        .add_source::<Option<String>, String>("Source", &[&input], StringSerde, StringSerde)
        .unwrap();
    let p = b
        .add_processor("Punctuate", &[&src], || Punctuating)
        .unwrap();
    b.add_sink("Sink", &output, StringSerde, StringSerde, &[&p])
        .unwrap();
    let mut config = StreamsConfig::new(&unique_topic("punct-app"), &bootstrap);
    config.set("commit.interval.ms", "60000").unwrap();
    let mut streams = KafkaStreams::new(b.build().unwrap(), config).unwrap();
    let started = Instant::now();
    streams.start().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    streams.close(Duration::from_secs(10));
    let ran_ms = started.elapsed().as_millis() as i64;

    let records = rt.block_on(async {
        let mut c = Consumer::connect(ConsumerConfig::new(&bootstrap))
            .await
            .unwrap();
        let tp = TopicPartition::new(&output, 0);
        c.assign([tp.clone()]);
        c.seek(&tp, Offset::Beginning).unwrap();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            out.extend(c.poll(Duration::from_millis(300)).await.unwrap());
        }
        out
    });
    let mut stream = Vec::new();
    let mut wall = Vec::new();
    for r in &records {
        let key = String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned();
        let t: i64 = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
            .parse()
            .unwrap();
        match key.as_str() {
            "stream" => stream.push(t),
            _ => wall.push(t),
        }
    }
    eprintln!("stream-time punctuations at {stream:?}");
    let gaps: Vec<i64> = wall.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!(
        "wall-clock punctuations: {} in about {ran_ms} ms, gaps {gaps:?}",
        wall.len()
    );
    // Rounds of 1, then 1 (after a punctuation the round halves), then 2, then 1 record:
    // punctuations after the records at 1000, after 2600+2700, after 5200.
    assert_eq!(stream, vec![1_000, 2_700, 5_200]);
    assert!(
        wall.len() >= 6,
        "a 300 ms punctuator over ~4 s of running fired {} times",
        wall.len()
    );
    // The schedule is aligned (each fire is due at first + k x 300 ms, missed ones skipped), so
    // a late fire may be followed by an on-time one sooner than 300 ms later; what must never
    // happen is one interval firing twice.
    assert!(
        gaps.iter().all(|g| *g >= 100),
        "no interval fires twice: {gaps:?}"
    );
}
