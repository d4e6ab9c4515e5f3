//! A tour of what kafka-wire does today, against a running broker (`scripts/demo` starts one):
//! negotiate, describe the cluster, create a topic, write one record batch per codec, read them
//! back, look up offsets, delete records and the topic.

use std::time::{SystemTime, UNIX_EPOCH};

use kafka_wire::admin::{Admin, NewTopic, OffsetSpec};
use kafka_wire::config::ClientConfig;
use kafka_wire::protocol::compression::Compression;
use kafka_wire::protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_wire::protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_wire::protocol::messages::{FetchRequest, ProduceRequest};
use kafka_wire::protocol::record_batch::{self, DecodeLimits, Header, Record, RecordBatch};
use kafka_wire::protocol::ApiKey;
use kafka_wire::{Error, TopicPartition};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let bootstrap = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:19092".into());
    let admin = Admin::connect(ClientConfig::new(&bootstrap)).await?;
    let cluster = admin.describe_cluster().await?;
    println!(
        "cluster {:?}, controller {:?}",
        cluster.cluster_id, cluster.controller_id
    );
    for b in &cluster.brokers {
        println!("  broker {} at {}", b.node_id, b.address);
    }
    let node = cluster.brokers[0].node_id;
    let conn = admin.client().connection(node).await?;
    let versions: Vec<String> = conn
        .api_versions()
        .chosen
        .iter()
        .map(|(a, v)| format!("{}={v}", a.name()))
        .collect();
    println!("negotiated with broker {node}: {}", versions.join(" "));

    let topic = format!("kafka-wire-demo-{}", std::process::id());
    admin
        .create_topic(NewTopic::new(&topic, 3, 1).config("retention.ms", "3600000"))
        .await?;
    admin.wait_for_leaders(std::slice::from_ref(&topic)).await?;
    println!("created {topic} with 3 partitions");

    let tp = TopicPartition::new(&topic, 0);
    let leader = admin.client().leader(&tp).await?;
    let conn = admin.client().connection(leader.node_id).await?;
    let produce_v = conn.version_for(ApiKey::Produce)?;
    let fetch_v = conn.version_for(ApiKey::Fetch)?;
    let topic_id = admin.client().metadata().topics[&topic].topic_id;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let batch = RecordBatch {
            compression: codec,
            base_timestamp: now,
            records: (0..100)
                .map(|i| Record {
                    offset: i,
                    timestamp: now + i,
                    key: Some(format!("key-{i}").into()),
                    value: Some(format!("{} record {i} ", codec.name()).repeat(10).into()),
                    headers: vec![Header::new("codec", Some(codec.name()))],
                })
                .collect(),
            ..Default::default()
        };
        let records = record_batch::encode_batch(&batch)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let request = ProduceRequest {
            acks: -1,
            timeout_ms: 10_000,
            topic_data: vec![TopicProduceData {
                name: if produce_v < 13 {
                    topic.clone()
                } else {
                    String::new()
                },
                topic_id: if produce_v >= 13 {
                    topic_id
                } else {
                    Default::default()
                },
                partition_data: vec![PartitionProduceData {
                    index: 0,
                    records: Some(records.clone()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let response = conn.send_at(&request, produce_v).await?;
        let base = response.responses[0].partition_responses[0].base_offset;
        println!(
            "  wrote 100 records ({}, {} bytes on the wire) at offset {base}",
            codec.name(),
            records.len()
        );
    }

    let request = FetchRequest {
        max_wait_ms: 100,
        min_bytes: 1,
        max_bytes: 8 << 20,
        session_epoch: -1,
        topics: vec![FetchTopic {
            topic: if fetch_v < 13 {
                topic.clone()
            } else {
                String::new()
            },
            topic_id: if fetch_v >= 13 {
                topic_id
            } else {
                Default::default()
            },
            partitions: vec![FetchPartition {
                partition: 0,
                fetch_offset: 0,
                partition_max_bytes: 8 << 20,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let response = conn.send_at(&request, fetch_v).await?;
    let records = response.responses[0].partitions[0]
        .records
        .clone()
        .unwrap_or_default();
    for batch in record_batch::RecordBatchReader::new(records, DecodeLimits::default()) {
        let batch = batch.map_err(|e| Error::InvalidArgument(e.to_string()))?;
        println!(
            "  read batch at offset {} ({}, {} records, CRC ok): first value {:?}",
            batch.base_offset,
            batch.compression.name(),
            batch.records.len(),
            batch.records[0]
                .value
                .as_deref()
                .map(|v| String::from_utf8_lossy(&v[..20.min(v.len())]).into_owned())
        );
    }

    let offsets = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Earliest)])
        .await?;
    let latest = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
        .await?;
    println!(
        "offsets of {tp}: earliest {} latest {}",
        offsets[&tp].offset, latest[&tp].offset
    );
    let low = admin.delete_records(&[(tp.clone(), 250)]).await?;
    println!("deleted records before 250: low watermark now {}", low[&tp]);
    admin.delete_topics(&[&topic]).await?;
    println!("deleted {topic}");
    Ok(())
}
